//! `install --python` from a wheel tree: the files of the wheel pip or uv would have chosen,
//! linked from the store ([`super::link`]), its WHEEL tag unchanged, and a RECORD that is the
//! wheel's plus the INSTALLER pip would add. Nothing but RECORD and INSTALLER is written: a
//! further environment costs directories and two small files.

use std::path::Path;

use super::link::{LinkMode, Linked, Linker};
use super::{
    installed_versions, is_intact, remove_distribution, PythonEnv, PythonError, PythonReport,
    INSTALLER, MODULE,
};
use crate::fs::IoError;
use crate::store::wheel_tree;
use crate::store::InstalledRuntime;
use crate::verify::Sha256;

/// The RECORD an environment gets for `tree`: the wheel's lines (in its order), then
/// INSTALLER and RECORD itself, as pip writes them.
pub fn expected_record(dist_info: &str, wheel_record: &str) -> String {
    let own = [
        format!("{dist_info}/RECORD"),
        format!("{dist_info}/INSTALLER"),
    ];
    let mut out: String = wheel_record
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| !own.iter().any(|o| l.starts_with(&format!("{o},"))))
        .map(|l| format!("{l}\n"))
        .collect();
    let installer = format!("{INSTALLER}\n");
    out.push_str(&format!(
        "{dist_info}/INSTALLER,sha256={},{}\n",
        Sha256::of(installer.as_bytes()).to_base64url(),
        installer.len()
    ));
    out.push_str(&format!("{dist_info}/RECORD,,\n"));
    out
}

/// Install the wheel tree `tree` into the environment `env` describes.
pub fn install_tree(
    tree: &InstalledRuntime,
    env: &PythonEnv,
    mode: LinkMode,
    break_system_packages: bool,
) -> Result<PythonReport, PythonError> {
    if env.externally_managed && !break_system_packages {
        return Err(PythonError::ExternallyManaged {
            interpreter: env.executable.display().to_string(),
        });
    }
    let site = env.platlib.clone();
    super::check_test_sandbox(&site)?;
    let version = tree.version().pep440();
    let tree_error = |change| PythonError::TreeChanged {
        tree: tree.dir.display().to_string(),
        change,
    };
    wheel_tree::check_untouched(tree).map_err(tree_error)?;
    let (dist_info, wheel_record) = wheel_tree::wheel_record(tree)
        .map_err(|e| tree_error(wheel_tree::TreeChange::Record(e)))?;
    let record = expected_record(&dist_info, &wheel_record);
    let report = |action, previous, method: &'static str| PythonReport {
        interpreter: env.executable.clone(),
        site_packages: site.clone(),
        version: version.clone(),
        action,
        previous,
        method,
        wheel_tag: wheel_tree::tag_of(tree),
    };

    let existing = installed_versions(&site);
    for (old_version, old_dist_info) in &existing {
        if *old_version == version && is_intact(&site, old_dist_info, &record) {
            return Ok(report("already-installed", None, "none"));
        }
    }
    let mut previous = None;
    for (old_version, old_dist_info) in existing {
        remove_distribution(&site, &old_dist_info)?;
        previous = Some(old_version);
    }
    let pkg = site.join(MODULE);
    if pkg.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(&pkg).map_err(IoError::at("remove", &pkg))?;
    }
    if mode == LinkMode::Symlink {
        wheel_tree::record_link(&tree.dir, &site)
            .map_err(IoError::at("record the environment beside", &tree.dir))?;
    }

    // The package first (staged, then renamed), metadata last: pip only sees a whole install.
    let staging = tempfile::Builder::new()
        .prefix(".codex_cli_bin-")
        .tempdir_in(&site)
        .map_err(IoError::at("create a staging directory in", &site))?;
    let mut linker = Linker::new(mode);
    let mut method = Linked::Copy;
    let mut biggest = 0;
    let module_prefix = format!("{MODULE}/");
    let info_prefix = format!("{dist_info}/");
    let mut link = |from: &Path, to: &Path, size: u64| -> Result<(), PythonError> {
        if let Some(parent) = to.parent() {
            crate::fs::create_dirs(parent).map_err(IoError::at("create", parent))?;
        }
        let how = linker.link(from, to).map_err(IoError::at("link", to))?;
        if size >= biggest {
            biggest = size;
            method = how;
        }
        Ok(())
    };
    for f in &tree.receipt.files {
        if let Some(rel) = f.path.strip_prefix(&module_prefix) {
            link(&tree.dir.join(&f.path), &staging.path().join(rel), f.size)?;
        }
    }
    let staged = staging.keep();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&staged, std::fs::Permissions::from_mode(0o755));
    }
    std::fs::rename(&staged, &pkg).map_err(IoError::at("rename into", &pkg))?;
    let dist_dir = site.join(&dist_info);
    if dist_dir.symlink_metadata().is_ok() {
        std::fs::remove_dir_all(&dist_dir).map_err(IoError::at("remove", &dist_dir))?;
    }
    for f in &tree.receipt.files {
        let Some(rel) = f.path.strip_prefix(&info_prefix) else {
            continue;
        };
        if rel == "RECORD" || rel == "INSTALLER" {
            continue;
        }
        link(&tree.dir.join(&f.path), &dist_dir.join(rel), f.size)?;
    }
    crate::fs::create_dirs(&dist_dir).map_err(IoError::at("create", &dist_dir))?;
    let installer = dist_dir.join("INSTALLER");
    std::fs::write(&installer, format!("{INSTALLER}\n"))
        .map_err(IoError::at("write", &installer))?;
    let record_path = dist_dir.join("RECORD");
    std::fs::write(&record_path, &record).map_err(IoError::at("write", &record_path))?;
    // Hard links change the files' ctime: the tree, checked above, is stamped as it is now.
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
    fn the_record_is_the_wheels_plus_installer() {
        let wheel = "codex_cli_bin/__init__.py,sha256=x,1\no-1.dist-info/WHEEL,sha256=y,2\no-1.dist-info/RECORD,,\n";
        let r = expected_record("o-1.dist-info", wheel);
        assert!(r.starts_with("codex_cli_bin/__init__.py,sha256=x,1\no-1.dist-info/WHEEL,sha256=y,2\no-1.dist-info/INSTALLER,sha256="));
        assert!(r.ends_with(",16\no-1.dist-info/RECORD,,\n"), "{r}");
        assert_eq!(r.matches("RECORD").count(), 1);
    }
}
