//! A Python environment: its `openai-codex-cli-bin` is the pin, and the codex it bundles runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Hint;
use crate::pin::CodexVersion;

use super::runtime::codex_version;
use super::Check;

/// The wheel trees of `version` in the store (what `install --python` links environments to)
/// still match their receipts: a failing check when one does not.
fn wheel_trees(store: &crate::store::Store, version: &str, detail: &str) -> Option<Check> {
    let target = crate::platform::Target::host().ok()?;
    let version: CodexVersion = version.parse().ok()?;
    for trees in store.wheel_tree_stores() {
        let Some(tree) = trees.installed(&version, &target).ok().flatten() else {
            continue;
        };
        if let Err(problem) = tree.verify_files() {
            return Some(
                Check::fail(
                    "python",
                    format!(
                        "the wheel tree `{}` that environments link to changed: {problem}",
                        tree.dir.display()
                    ),
                    "reinstall it with `codex-bootstrap install --python --force`",
                )
                .detail(detail.to_string()),
            );
        }
    }
    None
}

/// python: the Python environment's `openai-codex-cli-bin` is the pin and its codex runs.
pub fn python(py: Option<&Path>, pin: Option<&CodexVersion>, store: &crate::store::Store) -> Check {
    let fix = "run `codex-bootstrap install --python PY`";
    let interpreter = match crate::python::choose_interpreter(py) {
        Ok(i) => i,
        Err(e) => return Check::fail("python", e.to_string(), e.hint().unwrap_or_default()),
    };
    let env = match crate::python::probe(&interpreter) {
        Ok(env) => env,
        Err(e) => return Check::fail("python", e.to_string(), e.hint().unwrap_or_default()),
    };
    let (runtime, sdk) = crate::python::dist_versions(&env);
    let sdk_note = sdk.as_ref().map_or_else(
        || "openai-codex not installed".to_string(),
        |v| format!("openai-codex {v}"),
    );
    let detail = format!(
        "{} (Python {}); {sdk_note}",
        env.executable.display(),
        env.version
    );
    let Some(runtime) = runtime else {
        return Check::fail(
            "python",
            format!(
                "{} is not installed in this environment",
                crate::python::DIST_NAME
            ),
            fix,
        )
        .detail(detail);
    };
    let wanted = pin.map(|v| v.pep440());
    if wanted.as_ref().is_some_and(|w| w != &runtime) {
        return Check::fail(
            "python",
            format!(
                "{} {runtime} is installed, the pin is {}",
                crate::python::DIST_NAME,
                wanted.unwrap_or_default()
            ),
            fix,
        )
        .detail(detail);
    }
    if let Some(check) = wheel_trees(store, &runtime, &detail) {
        return check;
    }
    let out = std::process::Command::new(&interpreter)
        .args([
            "-c",
            "import codex_cli_bin; print(codex_cli_bin.bundled_codex_path())",
        ])
        .stdin(std::process::Stdio::null())
        .output();
    let codex = match out {
        Ok(o) if o.status.success() => PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()),
        Ok(o) => {
            let err = String::from_utf8_lossy(&o.stderr);
            return Check::fail(
                "python",
                format!(
                    "`import codex_cli_bin` failed: {}",
                    err.trim().lines().last().unwrap_or("")
                ),
                fix,
            )
            .detail(detail);
        }
        Err(e) => {
            return Check::fail(
                "python",
                format!("could not run {}: {e}", interpreter.display()),
                "pass `--python PATH`",
            )
        }
    };
    match codex_version(&codex, Duration::from_secs(10)) {
        Ok(text) => {
            let check = Check::ok(
                "python",
                format!(
                    "{} {runtime}: bundled_codex_path() runs (`{text}`)",
                    crate::python::DIST_NAME
                ),
            )
            .detail(detail);
            match (&sdk, &wanted) {
                (Some(s), Some(w)) if s != w => Check::warn(
                    "python",
                    format!(
                        "{}; but openai-codex {s} expects runtime {s}",
                        check.summary
                    ),
                    "install the SDK and the runtime at the same version",
                )
                .detail(check.detail.unwrap_or_default()),
                _ => check,
            }
        }
        Err(e) => Check::fail(
            "python",
            format!("the packaged codex does not run: {e}"),
            fix,
        )
        .detail(detail),
    }
}
