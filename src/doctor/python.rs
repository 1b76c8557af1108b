//! A Python environment: its `openai-codex-cli-bin` is the pin, its `codex` is the runtime's
//! (checked before anything of it runs, as `install --python` checks what it installs), and it
//! runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Hint;
use crate::pin::CodexVersion;
use crate::verify::Sha256;

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

/// python: the Python environment's `openai-codex-cli-bin` is the pin, its codex is the
/// runtime's, and it runs.
pub fn python(
    py: Option<&Path>,
    pin: Option<&CodexVersion>,
    store: &crate::store::Store,
    codex_pin: &CodexPin,
) -> Check {
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
    // Before the environment runs anything: its codex is the one the pins vouch for.
    let verified = match verify_env_codex(&env.platlib, &runtime, store, codex_pin, &detail) {
        Ok(path) => path,
        Err(check) => return check,
    };
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
    if !same_file(&codex, &verified) {
        return Check::fail(
            "python",
            format!(
                "bundled_codex_path() is `{}`, not the checked `{}`; it was not run",
                codex.display(),
                verified.display()
            ),
            fix,
        )
        .detail(detail);
    }
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

/// What the environment's `codex` must be, besides its own RECORD: the pinned `codex_sha256`
/// (and the manifest that pins it), when a manifest pins one for this version and host.
pub type CodexPin = Option<(Sha256, String)>;

/// The environment's `codex_cli_bin/bin/codex`, checked as `install --python` checks what it
/// installs, before anything of the environment runs: against the pinned `codex_sha256`, the
/// receipt of the store's wheel tree it is linked to (when it is), and the environment's own
/// RECORD. The path when it holds, else the failing check (nothing was run).
fn verify_env_codex(
    site: &Path,
    version: &str,
    store: &crate::store::Store,
    codex_pin: &CodexPin,
    detail: &str,
) -> Result<PathBuf, Check> {
    let rel = format!(
        "{}/bin/codex{}",
        crate::python::MODULE,
        std::env::consts::EXE_SUFFIX
    );
    let codex = site.join(&rel);
    let fix = "replace it: `pip uninstall openai-codex-cli-bin` (or `uv pip uninstall`), then `codex-bootstrap install --python PY`";
    let fail =
        |summary: String| Err(Check::fail("python", summary, fix).detail(detail.to_string()));
    let actual = match crate::verify::hash_file(&codex) {
        Ok((sha256, _)) => sha256,
        Err(e) => return fail(format!("could not read `{}`: {e}", codex.display())),
    };
    let mut expected: Vec<(Sha256, String)> = Vec::new();
    if let Some((sha256, from)) = codex_pin {
        expected.push((*sha256, format!("the `codex_sha256` pinned by {from}")));
    }
    if let Some((sha256, tree)) = linked_tree(&codex, &rel, version, store) {
        expected.push((
            sha256,
            format!(
                "the receipt of the wheel tree `{}` it links to",
                tree.display()
            ),
        ));
    }
    for (sha256, from) in &expected {
        if &actual != sha256 {
            return fail(format!(
                "`{}` is not the runtime's codex: its sha256 is {actual}, {from} is {sha256}; it was not run",
                codex.display()
            ));
        }
    }
    match recorded_sha256(site, version, &rel) {
        Some(recorded) if recorded != actual.to_base64url() => fail(format!(
            "`{}` changed since it was installed: its RECORD says sha256={recorded}; it was not run",
            codex.display()
        )),
        _ => Ok(codex),
    }
}

/// The sha256 a store wheel tree's receipt records for `rel`, and the tree, when `codex` is
/// that tree's file (a hard link, or a symlink into it).
fn linked_tree(
    codex: &Path,
    rel: &str,
    version: &str,
    store: &crate::store::Store,
) -> Option<(Sha256, PathBuf)> {
    let target = crate::platform::Target::host().ok()?;
    let version: CodexVersion = version.parse().ok()?;
    store.wheel_tree_stores().into_iter().find_map(|trees| {
        let tree = trees.installed(&version, &target).ok().flatten()?;
        if !same_file(codex, &tree.dir.join(rel)) {
            return None;
        }
        let entry = tree.receipt.files.iter().find(|f| f.path == rel)?;
        Some((entry.sha256, tree.dir.clone()))
    })
}

/// Whether two paths name one file, following symlinks.
fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
    }
}

/// The `sha256=` value (base64url) the environment's RECORD of `openai-codex-cli-bin` `version`
/// gives for `rel`.
fn recorded_sha256(site: &Path, version: &str, rel: &str) -> Option<String> {
    let (_, dist_info) = crate::python::installed_versions(site)
        .into_iter()
        .find(|(v, _)| v == version)?;
    let record = std::fs::read_to_string(site.join(dist_info).join("RECORD")).ok()?;
    record.lines().find_map(|line| {
        let mut parts = line.rsplitn(3, ',');
        let _size = parts.next()?;
        let hash = parts.next()?;
        let path = parts.next()?.trim_matches('"');
        (path == rel).then(|| hash.strip_prefix("sha256=").map(str::to_string))?
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hard_link_or_symlink_is_the_same_file_and_a_copy_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree-codex");
        std::fs::write(&tree, b"codex").unwrap();
        std::fs::hard_link(&tree, dir.path().join("hard")).unwrap();
        std::fs::copy(&tree, dir.path().join("copy")).unwrap();
        assert!(same_file(&dir.path().join("hard"), &tree));
        assert!(!same_file(&dir.path().join("copy"), &tree));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&tree, dir.path().join("link")).unwrap();
            assert!(same_file(&dir.path().join("link"), &tree));
        }
    }

    #[test]
    fn the_record_gives_a_files_sha256_for_its_version_only() {
        let site = tempfile::tempdir().unwrap();
        let info = site.path().join("openai_codex_cli_bin-0.163.0.dist-info");
        std::fs::create_dir(&info).unwrap();
        std::fs::write(
            info.join("RECORD"),
            "codex_cli_bin/__init__.py,sha256=AAA,1\n\"codex_cli_bin/bin/codex\",sha256=BBB,2\nopenai_codex_cli_bin-0.163.0.dist-info/RECORD,,\n",
        )
        .unwrap();
        let sha = |v, rel| recorded_sha256(site.path(), v, rel);
        assert_eq!(
            sha("0.163.0", "codex_cli_bin/bin/codex").as_deref(),
            Some("BBB")
        );
        assert_eq!(sha("0.162.0", "codex_cli_bin/bin/codex"), None);
        assert_eq!(sha("0.163.0", "codex_cli_bin/bin/rg"), None);
    }
}
