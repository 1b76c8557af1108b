//! A store that trusts only itself. Whoever can write a directory of the store can replace what
//! it holds: a runtime (with a copied receipt) that the warm path would run, a `.partial` or a
//! `.meta` link that an install would write through. So every directory the store uses, from
//! its root down, must be a real directory (not a link) owned by this user (the effective uid)
//! and not writable by group or others; a receipt likewise. The check is an `lstat` per
//! directory: the warm path stays a few stats. Windows has no such modes: there only links are
//! refused.

use std::path::{Path, PathBuf};

use super::layout::StoreError;

/// Why the store does not trust a directory or file in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distrust {
    /// Another user owns it.
    Owner { uid: u32, ours: u32 },
    /// Group or others may write it.
    Writable { mode: u32 },
}

impl std::fmt::Display for Distrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Distrust::Owner { uid, ours } => {
                write!(f, "it is owned by uid {uid}, not by this user (uid {ours})")
            }
            Distrust::Writable { mode } => {
                write!(
                    f,
                    "group or others may write it (mode {:03o})",
                    mode & 0o777
                )
            }
        }
    }
}

/// What the fix for `why` on `path` is: the command that makes it trusted, if it is the user's.
pub(super) fn fix(path: &Path, why: &Distrust) -> String {
    let p = path.display();
    match why {
        Distrust::Owner { .. } => format!(
            "the store trusts only its own files: if `{p}` is yours, `chown -R \"$(id -un)\" {p}`; otherwise remove it, or choose another store with `--cache-dir DIR`"
        ),
        Distrust::Writable { .. } => format!(
            "the store must not be writable by others: `chmod go-w {p}` (then `codex-bootstrap install --force` if you did not make every change in it), or choose another store with `--cache-dir DIR`"
        ),
    }
}

/// `path` exists and is a directory only this user can change. Missing is `Ok(false)`.
pub(crate) fn dir(path: &Path) -> Result<bool, StoreError> {
    check(path, true)
}

/// `path` exists and is a regular file only this user can change. Missing is `Ok(false)`.
pub(crate) fn file(path: &Path) -> Result<bool, StoreError> {
    check(path, false)
}

/// Every directory from `root` down to `path` (both included) that exists is trusted ([`dir`]);
/// the first one missing ends the walk (what would be below it does not exist either).
pub(crate) fn chain(root: &Path, path: &Path) -> Result<(), StoreError> {
    let mut at = root.to_path_buf();
    if !dir(&at)? {
        return Ok(());
    }
    let Ok(rest) = path.strip_prefix(root) else {
        return dir(path).map(drop);
    };
    for c in rest.components() {
        at.push(c);
        if !dir(&at)? {
            return Ok(());
        }
    }
    Ok(())
}

/// What an entry is, in the words of [`StoreError::WrongKind`].
fn kind_of(t: &std::fs::FileType) -> &'static str {
    if t.is_dir() {
        "directory"
    } else if t.is_file() {
        "file"
    } else {
        "special file"
    }
}

fn check(path: &Path, want_dir: bool) -> Result<bool, StoreError> {
    let m = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(crate::fs::IoError::at("inspect", path)(e).into()),
    };
    let untrusted = |why| StoreError::Untrusted {
        path: PathBuf::from(path),
        why,
    };
    if m.file_type().is_symlink() {
        return Err(StoreError::Symlink {
            path: path.to_path_buf(),
        });
    }
    if (want_dir && !m.is_dir()) || (!want_dir && !m.is_file()) {
        return Err(StoreError::WrongKind {
            path: path.to_path_buf(),
            found: kind_of(&m.file_type()),
            want: if want_dir { "directory" } else { "file" },
            replace: None,
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let ours = crate::fs::effective_uid();
        if m.uid() != ours {
            return Err(untrusted(Distrust::Owner { uid: m.uid(), ours }));
        }
        if m.mode() & 0o022 != 0 {
            return Err(untrusted(Distrust::Writable { mode: m.mode() }));
        }
    }
    Ok(true)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path, m: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    }

    #[test]
    fn a_directory_others_can_write_is_refused_with_the_chmod_that_fixes_it() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path().join("store");
        let deep = root.join("runtimes/0.1.0");
        crate::fs::create_dirs(&deep).unwrap();
        chain(&root, &deep).unwrap();
        chain(&root, &root.join("runtimes/0.2.0/x")).unwrap();
        for (bad, m) in [(&root, 0o777), (&deep, 0o775)] {
            mode(bad, m);
            let err = chain(&root, &deep).unwrap_err();
            assert!(
                matches!(&err, StoreError::Untrusted { path, why: Distrust::Writable { .. } } if path == bad),
                "{err:?}"
            );
            let hint = crate::error::Hint::hint(&err).unwrap();
            assert!(
                hint.contains(&format!("chmod go-w {}", bad.display())),
                "{hint}"
            );
            mode(bad, 0o755);
        }
    }

    #[test]
    fn a_directory_of_another_user_is_refused() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().join("d");
        std::fs::create_dir(&d).unwrap();
        if crate::fs::effective_uid() != 0 {
            eprintln!("SKIPPED: only root can give a directory to `nobody` (CI runs as root)");
            return;
        }
        std::os::unix::fs::chown(&d, Some(65534), None).unwrap();
        let err = dir(&d).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Untrusted {
                    why: Distrust::Owner { uid: 65534, .. },
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn links_and_files_where_directories_belong_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let f = t.path().join("f");
        std::fs::write(&f, b"x").unwrap();
        mode(&f, 0o644);
        assert!(matches!(
            dir(&f),
            Err(StoreError::WrongKind {
                found: "file",
                want: "directory",
                ..
            })
        ));
        let err = file(t.path()).unwrap_err();
        assert!(
            matches!(
                &err,
                StoreError::WrongKind {
                    found: "directory",
                    want: "file",
                    ..
                }
            ),
            "{err:?}"
        );
        let hint = crate::error::Hint::hint(&err).unwrap();
        assert!(
            hint.contains(&format!("rm -r '{}'", t.path().display())),
            "{hint}"
        );
        assert!(file(&f).unwrap());
        let l = t.path().join("l");
        std::os::unix::fs::symlink(t.path(), &l).unwrap();
        assert!(matches!(dir(&l), Err(StoreError::Symlink { .. })));
        assert!(!dir(&t.path().join("missing")).unwrap());
    }
}
