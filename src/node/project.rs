//! The Node project, found as npm finds it (the nearest directory upwards with `package.json`
//! or `node_modules`; a global prefix's `lib/` counts, having `node_modules`), its
//! `@openai/codex` found as Node resolves it, and where the platform package goes.

use std::path::{Path, PathBuf};

use super::lock::{read_locks, NodeLock};
use super::{NodeError, CODEX_PACKAGE, SDK_PACKAGE};
use crate::pin::discover::package_json::exact_spec;
use crate::pin::CodexVersion;
use crate::platform::Target;

/// A Node project and what `install --node` will do in it.
#[derive(Debug, Clone)]
pub struct NodeProject {
    /// The directory with `package.json` / `node_modules`.
    pub root: PathBuf,
    /// Which package manager laid out `node_modules`: `npm`, `pnpm`, `yarn` or `bun`.
    pub manager: &'static str,
    /// The real directory of `@openai/codex`, when it is installed.
    pub codex_dir: Option<PathBuf>,
    pub version: CodexVersion,
    pub version_from: VersionFrom,
    /// As npm spells it: `linux-x64`.
    pub platform: &'static str,
    pub target: Target,
    /// Where `@openai/codex-<platform>` goes: beside `@openai/codex`'s real directory.
    pub package_dir: PathBuf,
    /// The project's lock files that mention `@openai/codex`.
    pub locks: Vec<NodeLock>,
}

/// Where the project's `@openai/codex` version was read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "file", rename_all = "kebab-case")]
pub enum VersionFrom {
    /// `node_modules/@openai/codex/package.json`.
    Installed(PathBuf),
    Lock(PathBuf),
    /// An exact spec of `@openai/codex` or `@openai/codex-sdk` in `package.json`.
    PackageJson(PathBuf),
}

impl std::fmt::Display for VersionFrom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, p) = match self {
            VersionFrom::Installed(p) => ("installed", p),
            VersionFrom::Lock(p) => ("locked in", p),
            VersionFrom::PackageJson(p) => ("required by", p),
        };
        write!(f, "{what} `{}`", p.display())
    }
}

impl NodeProject {
    /// `` `<root>` (@openai/codex 0.163.0, installed `…/package.json`) ``: the pin's source.
    pub fn describe(&self) -> String {
        format!(
            "Node project {} ({CODEX_PACKAGE} {}, {})",
            self.root.display(),
            self.version,
            self.version_from
        )
    }

    /// The lock pins on this target's platform package at the project's version.
    pub fn integrity_pins(&self) -> Vec<(PathBuf, crate::verify::Sha512)> {
        self.locks
            .iter()
            .flat_map(|l| {
                l.platforms
                    .iter()
                    .filter(|p| p.platform == self.platform && p.version == self.version)
                    .filter_map(|p| Some((l.file.clone(), p.integrity?)))
            })
            .collect()
    }
}

/// Find the Node project at or above `start`, for `target`.
pub fn find_project(start: &Path, target: &Target) -> Result<NodeProject, NodeError> {
    let start = std::path::absolute(start).unwrap_or_else(|_| start.to_path_buf());
    let root = start
        .ancestors()
        .find(|d| d.join("package.json").is_file() || d.join("node_modules").is_dir())
        .ok_or_else(|| NodeError::NoProject {
            start: start.clone(),
        })?
        .to_path_buf();
    let modules = root.join("node_modules");
    if !modules.is_dir() && (root.join(".pnp.cjs").is_file() || root.join(".pnp.js").is_file()) {
        return Err(NodeError::PlugNPlay { root });
    }
    let locks = read_locks(&root);
    let codex_dir = find_codex(&root);
    let (version, version_from) = match &codex_dir {
        Some(dir) => {
            let file = dir.join("package.json");
            let spec = package_json(&file)
                .and_then(|d| d.get("version")?.as_str().map(str::to_string))
                .unwrap_or_default();
            let v = CodexVersion::parse(&spec).map_err(|_| NodeError::BadVersion {
                file: file.clone(),
                spec,
            })?;
            (v, VersionFrom::Installed(file))
        }
        None => version_without_node_modules(&root, &locks)?,
    };
    let platform = target.npm_platform();
    let package_dir = codex_dir
        .as_ref()
        .and_then(|d| d.parent())
        .map_or_else(|| modules.join("@openai"), Path::to_path_buf)
        .join(format!("codex-{platform}"));
    Ok(NodeProject {
        manager: manager(&root),
        codex_dir,
        version,
        version_from,
        platform,
        target: target.clone(),
        package_dir,
        locks,
        root,
    })
}

/// `@openai/codex`'s real directory as Node resolves it from the project, else from the SDK's
/// real directory (pnpm links only direct dependencies at the top; npm nests a version that
/// could not be hoisted under the SDK).
fn find_codex(root: &Path) -> Option<PathBuf> {
    let in_modules = |dir: &Path| {
        let p = dir.join("node_modules").join(CODEX_PACKAGE);
        p.join("package.json")
            .is_file()
            .then(|| std::fs::canonicalize(&p).ok())
            .flatten()
    };
    if let Some(dir) = in_modules(root) {
        return Some(dir);
    }
    let sdk = std::fs::canonicalize(root.join("node_modules").join(SDK_PACKAGE)).ok()?;
    sdk.ancestors()
        .filter(|d| d.file_name().is_some_and(|n| n != "node_modules"))
        .find_map(in_modules)
}

/// The version from a lock file, else from `package.json`'s exact spec.
fn version_without_node_modules(
    root: &Path,
    locks: &[NodeLock],
) -> Result<(CodexVersion, VersionFrom), NodeError> {
    if let Some(l) = locks.iter().find(|l| l.codex_version.is_some()) {
        if let Some(v) = &l.codex_version {
            return Ok((v.clone(), VersionFrom::Lock(l.file.clone())));
        }
    }
    let file = root.join("package.json");
    let doc = package_json(&file).ok_or_else(|| NodeError::NoCodex {
        root: root.to_path_buf(),
    })?;
    let mut inexact = None;
    for name in [CODEX_PACKAGE, SDK_PACKAGE] {
        for section in [
            "dependencies",
            "devDependencies",
            "optionalDependencies",
            "peerDependencies",
        ] {
            let Some(spec) = doc.get(section).and_then(|s| s.get(name)?.as_str()) else {
                continue;
            };
            match exact_spec(spec) {
                Some(v) => return Ok((v, VersionFrom::PackageJson(file))),
                None => inexact = inexact.or(Some(spec.to_string())),
            }
        }
    }
    Err(match inexact {
        Some(spec) => NodeError::BadVersion { file, spec },
        None => NodeError::NoCodex {
            root: root.to_path_buf(),
        },
    })
}

fn package_json(file: &Path) -> Option<serde_json::Value> {
    serde_json::from_slice(&std::fs::read(file).ok()?).ok()
}

/// Which package manager laid out the project, by its marks.
fn manager(root: &Path) -> &'static str {
    let has = |n: &str| root.join(n).exists();
    if has("node_modules/.modules.yaml") || has("node_modules/.pnpm") || has("pnpm-lock.yaml") {
        "pnpm"
    } else if has("bun.lock") || has("bun.lockb") {
        "bun"
    } else if has("yarn.lock") || has(".yarnrc.yml") {
        "yarn"
    } else {
        "npm"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        "x86_64-unknown-linux-musl".parse().unwrap()
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn the_platform_package_goes_beside_codexs_real_directory() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("app");
        // pnpm: only the SDK at the top, codex a sibling inside its `.pnpm` entry.
        let store = root.join("node_modules/.pnpm");
        let codex = store.join("@openai+codex@0.163.0/node_modules/@openai/codex");
        write(
            &codex.join("package.json"),
            r#"{"name":"@openai/codex","version":"0.163.0"}"#,
        );
        let sdk_entry = store.join("@openai+codex-sdk@0.163.0/node_modules/@openai");
        write(&sdk_entry.join("codex-sdk/package.json"), "{}");
        std::os::unix::fs::symlink(&codex, sdk_entry.join("codex")).unwrap();
        std::fs::create_dir_all(root.join("node_modules/@openai")).unwrap();
        std::os::unix::fs::symlink(
            sdk_entry.join("codex-sdk"),
            root.join("node_modules/@openai/codex-sdk"),
        )
        .unwrap();
        write(&root.join("package.json"), "{}");
        std::fs::create_dir_all(root.join("src")).unwrap();

        let p = find_project(&root.join("src"), &target()).unwrap();
        assert_eq!(p.root, root);
        assert_eq!(p.manager, "pnpm");
        assert_eq!(p.version.to_string(), "0.163.0");
        let real = std::fs::canonicalize(&codex).unwrap();
        assert_eq!(
            p.package_dir,
            real.parent().unwrap().join("codex-linux-x64")
        );
    }

    #[test]
    fn without_node_modules_the_lock_then_package_json_gives_the_version() {
        let d = tempfile::tempdir().unwrap();
        write(
            &d.path().join("package.json"),
            r#"{"dependencies":{"@openai/codex-sdk":"0.163.0"}}"#,
        );
        let p = find_project(d.path(), &target()).unwrap();
        assert_eq!(
            p.version_from,
            VersionFrom::PackageJson(d.path().join("package.json"))
        );
        assert_eq!(
            p.package_dir,
            d.path().join("node_modules/@openai/codex-linux-x64")
        );
        write(
            &d.path().join("package-lock.json"),
            r#"{"packages":{"node_modules/@openai/codex":{"version":"0.162.0"}}}"#,
        );
        let p = find_project(d.path(), &target()).unwrap();
        assert_eq!(p.version.to_string(), "0.162.0");
        assert!(matches!(p.version_from, VersionFrom::Lock(_)));
    }

    #[test]
    fn a_project_without_codex_or_with_a_range_is_refused() {
        let d = tempfile::tempdir().unwrap();
        write(
            &d.path().join("package.json"),
            r#"{"dependencies":{"left-pad":"1"}}"#,
        );
        assert!(matches!(
            find_project(d.path(), &target()),
            Err(NodeError::NoCodex { .. })
        ));
        write(
            &d.path().join("package.json"),
            r#"{"dependencies":{"@openai/codex":"^0.163.0"}}"#,
        );
        assert!(matches!(
            find_project(d.path(), &target()),
            Err(NodeError::BadVersion { spec, .. }) if spec == "^0.163.0"
        ));
        assert_eq!(
            exact_spec("=0.154.0-alpha.6").unwrap().to_string(),
            "0.154.0-alpha.6"
        );
        assert!(exact_spec("latest").is_none());
    }
}
