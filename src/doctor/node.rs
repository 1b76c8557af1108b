//! A Node project: its `@openai/codex` finds the platform package as Node would, at the same
//! version, its files are the ones the store verified, and its codex runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Hint;
use crate::node::{find_project, NodeError, NodeProject, CODEX_PACKAGE};
use crate::provision::Context;
use crate::store::placements::placed_version;
use crate::store::RECEIPT_NAME;

use super::runtime::codex_version;
use super::Check;

const FIX: &str = "run `codex-bootstrap install --node`";
const REPLACE: &str = "place it again with `codex-bootstrap install --node --force`";

/// Which Node project to check.
#[derive(Debug, Clone, Default)]
pub enum NodeCheck {
    #[default]
    Skip,
    /// The project at or above this directory, if it has `@openai/codex` (the working
    /// directory, when `--node` is not given): no check otherwise.
    Found(PathBuf),
    /// `--node [DIR]`: a missing project or `@openai/codex` fails.
    Named(PathBuf),
}

/// node: the project's platform package resolves, matches its `@openai/codex`, is verified,
/// and runs. `None` when [`NodeCheck::Found`] finds no project with `@openai/codex`.
pub fn node(which: &NodeCheck, ctx: &Context) -> Option<Check> {
    let (start, named) = match which {
        NodeCheck::Skip => return None,
        NodeCheck::Found(d) => (d, false),
        NodeCheck::Named(d) => (d, true),
    };
    let project = match find_project(start, &ctx.target) {
        Ok(p) => p,
        Err(NodeError::NoProject { .. } | NodeError::NoCodex { .. }) if !named => return None,
        Err(e) => {
            return Some(Check::fail(
                "node",
                e.to_string(),
                e.hint().unwrap_or_default(),
            ))
        }
    };
    Some(check(&project, ctx))
}

fn check(project: &NodeProject, ctx: &Context) -> Check {
    let detail = format!(
        "{} ({}): {CODEX_PACKAGE} {} ({})",
        project.root.display(),
        project.manager,
        project.version,
        project.version_from
    );
    let package = format!("{CODEX_PACKAGE}-{}", project.platform);
    let fail = |summary: String, hint: &str| Check::fail("node", summary, hint).detail(&detail);
    let Some(codex_dir) = &project.codex_dir else {
        return fail(
            format!(
                "{CODEX_PACKAGE} is not installed in `{}`",
                project.root.join("node_modules").display()
            ),
            "install the project's dependencies (`npm install --omit=optional` is enough), then run `codex-bootstrap install --node`",
        );
    };
    let Some(dir) = resolve(codex_dir, &package) else {
        return fail(
            format!(
                "{CODEX_PACKAGE} does not find `{package}`: the optional dependency is missing"
            ),
            FIX,
        );
    };
    let want = format!("{}-{}", project.version, project.platform);
    match placed_version(&dir) {
        Some(v) if v == want => {}
        found => {
            return fail(
                format!(
                    "`{}` is {}, {CODEX_PACKAGE} is {}",
                    dir.display(),
                    found.map_or_else(
                        || "not a Codex platform package".into(),
                        |v| format!("version {v}")
                    ),
                    project.version
                ),
                FIX,
            )
        }
    }
    // Verified before anything in it runs.
    let vendor = dir.join("vendor").join(project.target.as_str());
    let verified = match verify(&vendor, project, ctx) {
        Ok(how) => how,
        Err(Unverified::Differs(what)) => return fail(what, REPLACE),
        Err(Unverified::NoReference) => {
            return Check::warn(
                "node",
                format!(
                    "`{}` cannot be verified: codex {} is not in the store and no manifest pins it",
                    dir.display(),
                    project.version
                ),
                "run `codex-bootstrap install --node`: it installs the runtime into the store, checked against the project's lock files",
            )
            .detail(&detail)
        }
    };
    if !project.target.is_host() {
        return Check::ok("node", format!("`{package}` {want} resolves; {verified}"))
            .detail(&detail);
    }
    let exe = vendor.join("bin").join(project.target.exe_name("codex"));
    match codex_version(&exe, Duration::from_secs(10)) {
        Ok(text) if crate::prove::reported_version(&text).as_ref() == Some(&project.version) => {
            Check::ok(
                "node",
                format!(
                    "`{package}` {want} resolves from {CODEX_PACKAGE}; {verified}; runs (`{text}`)"
                ),
            )
            .detail(format!("{detail}\n{}", dir.display()))
        }
        Ok(text) => fail(
            format!("`{}` says `{text}`, not {}", exe.display(), project.version),
            REPLACE,
        ),
        Err(e) => fail(
            format!("the platform package's codex does not run: {e}"),
            REPLACE,
        ),
    }
}

/// `package` as Node resolves it from `@openai/codex`'s real directory: the first
/// `node_modules/<package>` walking up from it (its own `node_modules` first).
fn resolve(codex_dir: &Path, package: &str) -> Option<PathBuf> {
    codex_dir
        .ancestors()
        .filter(|d| d.file_name().is_some_and(|n| n != "node_modules"))
        .map(|d| d.join("node_modules").join(package))
        .find(|p| p.join("package.json").is_file())
}

enum Unverified {
    Differs(String),
    NoReference,
}

/// The package's `vendor/<triple>/` against the store's receipt of the same version and
/// target (every file), else `bin/codex` against the manifest's `codex_sha256`.
fn verify(vendor: &Path, project: &NodeProject, ctx: &Context) -> Result<String, Unverified> {
    let differs =
        |path: &Path, why: String| Unverified::Differs(format!("`{}` {why}", path.display()));
    if let Some(rt) = ctx
        .store
        .installed(&project.version, &project.target)
        .ok()
        .flatten()
    {
        let files: Vec<_> = rt
            .receipt
            .files
            .iter()
            .filter(|f| f.path != RECEIPT_NAME)
            .collect();
        for f in &files {
            let p = vendor.join(&f.path);
            match std::fs::metadata(&p) {
                Ok(m) if m.is_file() && m.len() == f.size => {}
                Ok(m) => {
                    return Err(differs(
                        &p,
                        format!("has {} bytes, the store's receipt says {}", m.len(), f.size),
                    ))
                }
                Err(_) => return Err(differs(&p, "is missing".into())),
            }
        }
        for f in &files {
            let p = vendor.join(&f.path);
            match crate::verify::hash_file(&p) {
                Ok((actual, _)) if actual == f.sha256 => {}
                Ok((actual, _)) => {
                    return Err(differs(
                        &p,
                        format!("has sha256 {actual}, the store's receipt says {}", f.sha256),
                    ))
                }
                Err(e) => return Err(differs(&p, format!("could not be read: {e}"))),
            }
        }
        return Ok(format!(
            "its {} files match the store's receipt",
            files.len()
        ));
    }
    let Some(expected) = ctx.codex_sha256_for(&project.version, &project.target) else {
        return Err(Unverified::NoReference);
    };
    let exe = vendor.join("bin").join(project.target.exe_name("codex"));
    match crate::verify::hash_file(&exe) {
        Ok((actual, _)) if actual == expected => {
            Ok("`bin/codex` matches the manifest's codex_sha256".into())
        }
        Ok((actual, _)) => Err(differs(
            &exe,
            format!("has sha256 {actual}, the manifest's codex_sha256 is {expected}"),
        )),
        Err(e) => Err(differs(&exe, format!("could not be read: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("package.json"), "{}").unwrap();
    }

    #[test]
    fn resolution_walks_up_from_codexs_real_directory_nearest_first() {
        let d = tempfile::tempdir().unwrap();
        let modules = d.path().join("app/node_modules");
        let codex = modules.join("@openai/codex");
        package(&codex);
        assert_eq!(resolve(&codex, "@openai/codex-linux-x64"), None);
        let top = modules.join("@openai/codex-linux-x64");
        package(&top);
        assert_eq!(resolve(&codex, "@openai/codex-linux-x64"), Some(top));
        // One nested under @openai/codex wins, as in Node.
        let nested = codex.join("node_modules/@openai/codex-linux-x64");
        package(&nested);
        assert_eq!(resolve(&codex, "@openai/codex-linux-x64"), Some(nested));
    }
}
