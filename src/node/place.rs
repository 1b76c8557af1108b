//! Lay out `@openai/codex-<platform>` as npm does when it installs the optional dependency:
//! `package.json` (`name` `@openai/codex`, `version` `<V>-<platform>`, `os`, `cpu`, as the
//! registry publishes it) and `vendor/<triple>/` holding the codex-package tree, each file
//! linked from the store tree ([`crate::link`]). The package is staged beside its place and
//! renamed in, so `@openai/codex` never resolves a half-placed package.

use std::path::PathBuf;

use super::{os_cpu, NodeError, NodeProject, VersionFrom, CODEX_PACKAGE};
use crate::fs::IoError;
use crate::link::{LinkMode, Linked, Linker};
use crate::pin::CodexVersion;
use crate::store::placements::{self, placed_version as installed_version};
use crate::store::{wheel_tree, InstalledRuntime, RECEIPT_NAME};

/// What [`place`] did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeReport {
    pub project: PathBuf,
    /// `npm`, `pnpm`, `yarn` or `bun`.
    pub package_manager: &'static str,
    /// `@openai/codex-linux-x64`.
    pub package: String,
    pub package_dir: PathBuf,
    /// The platform package's version: `0.163.0-linux-x64`.
    pub version: String,
    pub version_from: VersionFrom,
    /// `installed`, `already-installed` or `replaced`.
    pub action: &'static str,
    /// The platform package's version that was there before, when replaced.
    pub previous: Option<String>,
    /// How the files went in: `clone`, `hardlink`, `symlink` or `copy`; `none` when already
    /// there.
    pub method: &'static str,
    /// The lock files whose integrity the placed bytes were checked against.
    pub lock_pins: Vec<PathBuf>,
}

/// The platform package's `package.json`, with the fields the registry publishes for it.
pub fn package_json(version: &CodexVersion, platform: &str) -> String {
    let (os, cpu) = os_cpu(platform);
    let doc = serde_json::json!({
        "name": CODEX_PACKAGE,
        "version": format!("{version}-{platform}"),
        "license": "Apache-2.0",
        "os": [os],
        "cpu": [cpu],
        "files": ["vendor"],
        "repository": {
            "type": "git",
            "url": "git+https://github.com/openai/codex.git",
            "directory": "codex-cli"
        },
        "engines": {"node": ">=16"}
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// Place the platform package for `tree` (the store's runtime of the project's version and
/// target) where the project's `@openai/codex` resolves it; with `force`, even when it is
/// there already.
pub fn place(
    tree: &InstalledRuntime,
    project: &NodeProject,
    mode: LinkMode,
    force: bool,
) -> Result<NodeReport, NodeError> {
    wheel_tree::check_untouched(tree).map_err(|change| NodeError::TreeChanged {
        tree: tree.dir.display().to_string(),
        change,
    })?;
    let dest = &project.package_dir;
    let key = format!("{}-{}", project.version, project.platform);
    let vendor_rel = PathBuf::from("vendor").join(project.target.as_str());
    let files: Vec<_> = tree
        .receipt
        .files
        .iter()
        .filter(|f| f.path != RECEIPT_NAME)
        .collect();
    let report = |action, previous, method| NodeReport {
        project: project.root.clone(),
        package_manager: project.manager,
        package: format!("{CODEX_PACKAGE}-{}", project.platform),
        package_dir: dest.clone(),
        version: key.clone(),
        version_from: project.version_from.clone(),
        action,
        previous,
        method,
        lock_pins: project
            .integrity_pins()
            .into_iter()
            .map(|(f, _)| f)
            .collect(),
    };

    let present = installed_version(dest);
    // Symlinks count only when asked for: `--link-mode clone` relinks a symlinked package,
    // so the store tree under it can go.
    let intact = !force
        && files.iter().all(|f| {
            let p = dest.join(&vendor_rel).join(&f.path);
            let linked = p.symlink_metadata().is_ok_and(|m| m.is_symlink());
            (!linked || mode == LinkMode::Symlink)
                && std::fs::metadata(&p).is_ok_and(|m| m.is_file() && m.len() == f.size)
        });
    // Recorded first, so `prune` never takes a tree from under a project it is linked into.
    // Only symlinks need the record to stay safe; for the rest it is what `list` shows.
    let recorded = placements::record(&tree.dir, dest);
    if mode == LinkMode::Symlink {
        recorded.map_err(IoError::at("record the placement in", &tree.dir))?;
    }
    if present.as_deref() == Some(key.as_str()) && intact {
        return Ok(report("already-installed", None, "none"));
    }

    // Shared by hard links: a write through the project must fail rather than change the
    // store, as for wheel trees (chmod only; the receipt's hashes are unchanged).
    if matches!(mode, LinkMode::Auto | LinkMode::Hardlink) {
        wheel_tree::make_read_only(&tree.dir, &tree.receipt.files);
    }
    let parent = dest.parent().unwrap_or(dest);
    crate::fs::create_dirs(parent).map_err(IoError::at("create", parent))?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".codex-{}-", project.platform))
        .tempdir_in(parent)
        .map_err(IoError::at("create a staging directory in", parent))?;
    let manifest = staging.path().join("package.json");
    std::fs::write(&manifest, package_json(&project.version, project.platform))
        .map_err(IoError::at("write", &manifest))?;
    let mut linker = Linker::new(mode);
    let (mut method, mut biggest) = (Linked::Copy, 0);
    for f in &files {
        let to = staging.path().join(&vendor_rel).join(&f.path);
        if let Some(dir) = to.parent() {
            crate::fs::create_dirs(dir).map_err(IoError::at("create", dir))?;
        }
        let how = linker
            .link(&tree.dir.join(&f.path), &to)
            .map_err(IoError::at("link", &to))?;
        if f.size >= biggest {
            (method, biggest) = (how, f.size);
        }
    }
    let staged = staging.keep();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755));
    }
    // What was there (a broken or other version's package, or a package manager's link to
    // one) is replaced; a link is removed, never what it points to.
    let previous = match dest.symlink_metadata() {
        Ok(m) => {
            if m.is_dir() {
                std::fs::remove_dir_all(dest).map_err(IoError::at("remove", dest))?;
            } else {
                std::fs::remove_file(dest).map_err(IoError::at("remove", dest))?;
            }
            Some(present.unwrap_or_else(|| "an incomplete package".into()))
        }
        Err(_) => None,
    };
    std::fs::rename(&staged, dest).map_err(IoError::at("rename into", dest))?;
    // Hard links change the files' ctime: the tree, checked above, is stamped as it is now,
    // so the next placement links after a stat per file instead of a re-hash.
    wheel_tree::stamp_verified(tree);
    let action = if previous.is_some() {
        "replaced"
    } else {
        "installed"
    };
    Ok(report(action, previous, method.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_json_is_the_registrys() {
        let v = CodexVersion::parse("0.163.0").unwrap();
        let doc: serde_json::Value =
            serde_json::from_str(&package_json(&v, "darwin-arm64")).unwrap();
        assert_eq!(doc["name"], "@openai/codex");
        assert_eq!(doc["version"], "0.163.0-darwin-arm64");
        assert_eq!(doc["os"][0], "darwin");
        assert_eq!(doc["cpu"][0], "arm64");
    }
}
