//! How a file of a store tree goes into a Python environment (`install --python`) or a Node
//! project (`install --node`): uv's link modes, by uv's names.
//!
//! The default ([`LinkMode::Auto`], shown as `clone`) clones (copy-on-write: APFS, btrfs, XFS)
//! where the file system can, else hard-links, else copies (another file system). Either way a
//! further environment holds no data of its own. The store stays immutable: its wheel trees
//! are read-only, so a write through a hard link fails (root aside), and a write that gets
//! through anyway is caught by the receipt (`install --verify`, `doctor`, and the next
//! `install --python`, which checks sizes and times before trusting a tree).

use std::path::Path;

/// `CODEX_BOOTSTRAP_LINK_MODE`: the default for `--link-mode`.
pub const LINK_MODE_ENV: &str = "CODEX_BOOTSTRAP_LINK_MODE";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkMode {
    /// Clone where the file system can, else hard-link, else copy (the default).
    #[default]
    #[value(skip)]
    Auto,
    /// Copy-on-write clones (reflinks), else copies.
    Clone,
    /// Full copies: the environment holds its own data.
    Copy,
    /// Hard links to the store's read-only files, else copies.
    Hardlink,
    /// Symbolic links into the store: the store tree is kept while they exist.
    Symlink,
}

impl LinkMode {
    /// What the mode is called (uv's names).
    pub fn name(self) -> &'static str {
        match self {
            LinkMode::Auto | LinkMode::Clone => "clone",
            LinkMode::Copy => "copy",
            LinkMode::Hardlink => "hardlink",
            LinkMode::Symlink => "symlink",
        }
    }

    /// `--link-mode`, else `CODEX_BOOTSTRAP_LINK_MODE`, else the default.
    pub fn resolve(flag: Option<LinkMode>) -> Result<LinkMode, BadLinkMode> {
        if let Some(m) = flag {
            return Ok(m);
        }
        match std::env::var(LINK_MODE_ENV) {
            Ok(v) if !v.trim().is_empty() => {
                <LinkMode as clap::ValueEnum>::from_str(v.trim(), true)
                    .map_err(|_| BadLinkMode { value: v })
            }
            _ => Ok(LinkMode::Auto),
        }
    }
}

/// `CODEX_BOOTSTRAP_LINK_MODE` names no link mode: a usage error, as a bad `--link-mode` is.
#[derive(Debug, thiserror::Error)]
#[error("{LINK_MODE_ENV}=`{value}` is not one of clone, copy, hardlink, symlink")]
pub struct BadLinkMode {
    pub value: String,
}

impl crate::error::Hint for BadLinkMode {
    fn hint(&self) -> Option<String> {
        Some("use one of clone, copy, hardlink, symlink".into())
    }
    fn is_usage(&self) -> bool {
        true
    }
}

/// What was done for one file, so a run reports how it linked (the first fallback sticks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linked {
    Clone,
    Hardlink,
    Symlink,
    Copy,
}

impl Linked {
    pub fn name(self) -> &'static str {
        match self {
            Linked::Clone => "clone",
            Linked::Hardlink => "hardlink",
            Linked::Symlink => "symlink",
            Linked::Copy => "copy",
        }
    }
}

/// Links files under one mode, remembering what the file system refused so that each
/// refusal costs one failed call per install, not one per file.
pub struct Linker {
    mode: LinkMode,
    can_clone: bool,
    can_hardlink: bool,
}

impl Linker {
    pub fn new(mode: LinkMode) -> Linker {
        Linker {
            mode,
            can_clone: matches!(mode, LinkMode::Auto | LinkMode::Clone),
            can_hardlink: matches!(mode, LinkMode::Auto | LinkMode::Hardlink),
        }
    }

    /// Put `from` (a store file) at `to` (which must not exist).
    pub fn link(&mut self, from: &Path, to: &Path) -> std::io::Result<Linked> {
        if self.mode == LinkMode::Symlink {
            symlink(from, to)?;
            return Ok(Linked::Symlink);
        }
        if self.can_clone {
            match reflink_copy::reflink(from, to) {
                Ok(()) => {
                    // A clone keeps the data, not always the mode; it is the environment's own
                    // file, so it is left writable as pip would leave it.
                    let _ = std::fs::set_permissions(to, writable(from)?);
                    return Ok(Linked::Clone);
                }
                Err(_) => {
                    let _ = std::fs::remove_file(to);
                    self.can_clone = false;
                }
            }
        }
        if self.can_hardlink {
            match std::fs::hard_link(from, to) {
                Ok(()) => return Ok(Linked::Hardlink),
                Err(_) => self.can_hardlink = false,
            }
        }
        std::fs::copy(from, to)?;
        std::fs::set_permissions(to, writable(from)?)?;
        Ok(Linked::Copy)
    }
}

/// The store file's permissions with the owner's write bit back (the store's are read-only).
fn writable(from: &Path) -> std::io::Result<std::fs::Permissions> {
    let perms = std::fs::metadata(from)?.permissions();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Ok(std::fs::Permissions::from_mode(perms.mode() | 0o200))
    }
    #[cfg(not(unix))]
    {
        let mut perms = perms;
        #[allow(clippy::permissions_set_readonly_false)]
        perms.set_readonly(false);
        Ok(perms)
    }
}

#[cfg(unix)]
fn symlink(from: &Path, to: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(from, to)
}

#[cfg(windows)]
fn symlink(from: &Path, to: &Path) -> std::io::Result<()> {
    std::os::windows::fs::symlink_file(from, to)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_file(dir: &Path) -> std::path::PathBuf {
        let p = dir.join("store-file");
        std::fs::write(&p, b"runtime bytes").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
        }
        p
    }

    #[test]
    fn each_mode_puts_the_same_bytes_in_place() {
        let d = tempfile::tempdir().unwrap();
        let from = store_file(d.path());
        for (i, mode) in [
            LinkMode::Auto,
            LinkMode::Clone,
            LinkMode::Copy,
            LinkMode::Hardlink,
            LinkMode::Symlink,
        ]
        .into_iter()
        .enumerate()
        {
            let to = d.path().join(format!("env-{i}"));
            let linked = Linker::new(mode).link(&from, &to).unwrap();
            assert_eq!(std::fs::read(&to).unwrap(), b"runtime bytes", "{mode:?}");
            match mode {
                LinkMode::Copy => assert_eq!(linked, Linked::Copy),
                LinkMode::Symlink => {
                    assert_eq!(linked, Linked::Symlink);
                    assert_eq!(std::fs::read_link(&to).unwrap(), from);
                }
                LinkMode::Hardlink => assert!(matches!(linked, Linked::Hardlink | Linked::Copy)),
                LinkMode::Clone => assert!(matches!(linked, Linked::Clone | Linked::Copy)),
                LinkMode::Auto => assert_ne!(linked, Linked::Symlink),
            }
            if matches!(linked, Linked::Copy | Linked::Clone) {
                // The environment's own file: writable, and writing it leaves the store alone.
                std::fs::write(&to, b"changed").unwrap();
                assert_eq!(std::fs::read(&from).unwrap(), b"runtime bytes");
            }
        }
    }

    #[test]
    fn the_mode_comes_from_the_flag_then_the_environment() {
        assert_eq!(
            LinkMode::resolve(Some(LinkMode::Copy)).unwrap(),
            LinkMode::Copy
        );
        assert_eq!(LinkMode::Auto.name(), "clone");
    }
}
