//! What an archive entry may be. Every container reader hands each entry to [`State`], which
//! refuses absolute paths, `..`, NUL bytes and backslashes in names, paths through a symbolic
//! link the archive created, links that leave the package, links whose target passes through
//! another link of the archive (made before or after), hard links to anything but an
//! earlier file of the same archive, devices and other special files, duplicate entries, and
//! sizes or entry counts beyond the [`Limits`]; and which passes what it accepts to the writer.
//! Only the executable bit survives from modes.
//!
//! Containers that carry more than the package (a wheel's `codex_cli_bin/`, an npm tarball's
//! `package/vendor/<triple>/`) name a member root: entries below it are extracted with the
//! prefix stripped and judged by the same rules (a link must stay inside the root, not merely
//! inside the archive); entries elsewhere are skipped unread, but still counted.

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

use super::writer::Writer;
use super::{Limits, UnpackError, Unpacked};
use crate::fs::{create_dirs, slash_path};
use crate::store::FileRecord;
use crate::verify::Sha256;

/// The state of one unpack: what has been seen and written so far, and the writer.
pub(super) struct State<'a> {
    dest: &'a Path,
    limits: Limits,
    total: u64,
    entries: usize,
    seen: HashSet<PathBuf>,
    symlinks: HashSet<PathBuf>,
    /// Every directory a link target passes through on its way (each prefix of the resolved
    /// target followed by more of it): no link may be made there later, or the target checked
    /// as text would resolve through it.
    traversed: HashSet<PathBuf>,
    /// Regular files as declared by the archive: path, size, executable.
    files: Vec<(PathBuf, u64, bool)>,
    writer: Writer,
}

impl<'a> State<'a> {
    pub(super) fn new(dest: &'a Path, limits: Limits) -> Self {
        State {
            dest,
            limits,
            total: 0,
            entries: 0,
            seen: HashSet::new(),
            symlinks: HashSet::new(),
            traversed: HashSet::new(),
            files: Vec::new(),
            writer: Writer::spawn(dest.to_path_buf()),
        }
    }

    /// Wait for the writer, then pair each declared file with the digest it computed.
    pub(super) fn finish(self) -> Result<Unpacked, UnpackError> {
        self.finish_with(HashMap::new(), false)
    }

    /// [`State::finish`], with the digests of files other writers wrote ([`State::declare`]).
    /// With `unhashed_ok`, a file without a digest (written unhashed, [`super::Hashing::Only`])
    /// goes to [`Unpacked::unhashed`]; otherwise it is an error.
    pub(super) fn finish_with(
        mut self,
        written_elsewhere: HashMap<PathBuf, Sha256>,
        unhashed_ok: bool,
    ) -> Result<Unpacked, UnpackError> {
        let mut digests = self.writer.join()?;
        digests.extend(written_elsewhere);
        let mut files = Vec::with_capacity(self.files.len());
        let mut unhashed = Vec::new();
        for (rel, size, executable) in self.files {
            let Some(sha256) = digests.get(&rel).copied() else {
                if unhashed_ok {
                    unhashed.push(super::Unhashed {
                        path: slash_path(&rel),
                        size,
                        executable,
                    });
                    continue;
                }
                return Err(UnpackError::Write {
                    path: self.dest.join(&rel),
                    source: io::Error::other("the writer lost track of this file"),
                });
            };
            files.push(FileRecord {
                path: slash_path(&rel),
                size,
                sha256,
                executable,
            });
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Unpacked { files, unhashed })
    }

    /// Count an entry the archive lists (extracted or skipped: both cost work), then decide
    /// whether it belongs to the package: its path below `member_root`, or `None` to skip it.
    /// Directory entries for the member root itself are skipped; anything else there is refused.
    pub(super) fn member<'n>(
        &mut self,
        name: &'n str,
        member_root: Option<&str>,
        is_dir: bool,
    ) -> Result<Option<&'n str>, UnpackError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(UnpackError::TooManyEntries {
                limit: self.limits.max_entries,
            });
        }
        match below_root(name, member_root) {
            Member::Inside(path) => Ok(Some(path)),
            Member::Outside => Ok(None),
            Member::Root if is_dir => Ok(None),
            Member::Root => Err(UnpackError::Refused {
                entry: name.to_string(),
                reason: "the package root is not a directory",
            }),
        }
    }

    /// `path` (the entry's name below the member root) relative to the package root, or a
    /// refusal naming the entry by its full `name` in the archive.
    pub(super) fn enclosed(&self, path: &str, name: &str) -> Result<PathBuf, UnpackError> {
        let refuse = |reason| UnpackError::Refused {
            entry: name.to_string(),
            reason,
        };
        if path.contains('\0') {
            return Err(refuse("the name contains a NUL byte"));
        }
        if path.contains('\\') {
            return Err(refuse("the name contains a backslash"));
        }
        let mut rel = PathBuf::new();
        for c in Path::new(path).components() {
            match c {
                Component::Normal(p) => rel.push(p),
                Component::CurDir => {}
                Component::ParentDir => return Err(refuse("the path contains `..`")),
                Component::RootDir | Component::Prefix(_) => {
                    return Err(refuse("the path is absolute"))
                }
            }
        }
        if rel.as_os_str().is_empty() {
            return Err(refuse("the path is empty"));
        }
        // Writing below a symlink the archive created would write wherever it points.
        for ancestor in rel.ancestors().skip(1) {
            if self.symlinks.contains(ancestor) {
                return Err(refuse("the path goes through a symbolic link"));
            }
        }
        Ok(rel)
    }

    /// Refuse a second entry for a path already written.
    fn claim(&mut self, rel: &Path, name: &str) -> Result<(), UnpackError> {
        if !self.seen.insert(rel.to_path_buf()) {
            return Err(UnpackError::Refused {
                entry: name.to_string(),
                reason: "the archive lists this path twice",
            });
        }
        Ok(())
    }

    fn write_err(&self, rel: &Path) -> impl FnOnce(io::Error) -> UnpackError {
        let path = self.dest.join(rel);
        move |source| UnpackError::Write { path, source }
    }

    pub(super) fn dir(&mut self, rel: &Path, _name: &str) -> Result<(), UnpackError> {
        create_dirs(&self.dest.join(rel)).map_err(self.write_err(rel))
    }

    fn ensure_parent(&self, rel: &Path) -> Result<(), UnpackError> {
        if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            create_dirs(&self.dest.join(parent)).map_err(self.write_err(parent))?;
        }
        Ok(())
    }

    /// A regular file of `size` bytes read from `reader`.
    pub(super) fn file(
        &mut self,
        rel: &Path,
        name: &str,
        size: u64,
        executable: bool,
        reader: &mut dyn Read,
    ) -> Result<(), UnpackError> {
        self.admit(rel, name, size)?;
        self.writer.create(rel, executable, true)?;
        // Read at most `size` bytes plus one, so an entry that lies about its size is caught.
        let written = self.writer.pump(reader, size + 1)?;
        if written != size {
            return Err(UnpackError::Refused {
                entry: name.to_string(),
                reason: "the entry's data does not match its declared size",
            });
        }
        self.writer.close()?;
        self.total += written;
        self.files.push((rel.to_path_buf(), size, executable));
        Ok(())
    }

    /// A regular file of `size` bytes that another thread writes (a wheel's entries are
    /// inflated in parallel, [`super::wheel`]): judged and counted as [`State::file`] judges
    /// one; its digest comes to [`State::finish_with`].
    pub(super) fn declare(
        &mut self,
        rel: &Path,
        name: &str,
        size: u64,
        executable: bool,
    ) -> Result<(), UnpackError> {
        self.admit(rel, name, size)?;
        self.total += size;
        self.files.push((rel.to_path_buf(), size, executable));
        Ok(())
    }

    /// A file of `size` bytes may be written at `rel`: not a duplicate, within the limits, its
    /// directory there.
    fn admit(&mut self, rel: &Path, name: &str, size: u64) -> Result<(), UnpackError> {
        self.claim(rel, name)?;
        if size > self.limits.max_entry || self.total + size > self.limits.max_total {
            return Err(UnpackError::TooLarge {
                limit: self.limits.max_total.min(self.limits.max_entry),
            });
        }
        self.ensure_parent(rel)
    }

    /// A symbolic link whose target, resolved from the link's directory, stays in the package.
    pub(super) fn symlink(
        &mut self,
        rel: &Path,
        name: &str,
        target: &str,
    ) -> Result<(), UnpackError> {
        self.claim(rel, name)?;
        let refuse = |reason| UnpackError::Refused {
            entry: name.to_string(),
            reason,
        };
        if target.is_empty() || target.contains('\0') || target.contains('\\') {
            return Err(refuse("the link target is empty or malformed"));
        }
        // A link where an earlier target passes through: that target, checked as text, would
        // now resolve through this link's target instead.
        if self.traversed.contains(rel) {
            return Err(refuse("an earlier link's target passes through this path"));
        }
        // Resolve lexically from the link's directory; it must stay inside the package, and
        // pass through no link: a chain (`d/up -> ../..`, `x -> d/up/../../etc`) is checked
        // as text only if no step of it is itself a link.
        let mut depth: Vec<&OsStr> = rel
            .parent()
            .map(|p| p.components().map(|c| c.as_os_str()).collect())
            .unwrap_or_default();
        let mut passed = Vec::new();
        let mut components = Path::new(target).components().peekable();
        while let Some(c) = components.next() {
            match c {
                Component::Normal(p) => {
                    depth.push(p);
                    if components.peek().is_some() {
                        let through: PathBuf = depth.iter().collect();
                        if self.symlinks.contains(&through) {
                            return Err(refuse("the link target passes through another link"));
                        }
                        passed.push(through);
                    }
                }
                Component::CurDir => {}
                Component::ParentDir => {
                    if depth.pop().is_none() {
                        return Err(refuse("the link points outside the package"));
                    }
                }
                Component::RootDir | Component::Prefix(_) => {
                    return Err(refuse("the link target is absolute"))
                }
            }
        }
        self.ensure_parent(rel)?;
        self.traversed.extend(passed);
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(target, self.dest.join(rel)).map_err(self.write_err(rel))?;
            self.symlinks.insert(rel.to_path_buf());
            Ok(())
        }
        #[cfg(not(unix))]
        {
            Err(refuse("symbolic links are not supported on this platform"))
        }
    }

    /// Devices, FIFOs, sockets and whatever else is neither a file, a directory nor a link:
    /// refused, whichever container declares them.
    pub(super) fn special(&self, name: &str) -> UnpackError {
        UnpackError::Refused {
            entry: name.to_string(),
            reason: "devices, FIFOs and other special files are not allowed",
        }
    }

    /// A hard link to an earlier regular file of the archive, written as an independent copy.
    pub(super) fn hard_link(
        &mut self,
        rel: &Path,
        name: &str,
        target: &Path,
    ) -> Result<(), UnpackError> {
        let Some(&(_, size, executable)) = self.files.iter().find(|f| f.0 == target) else {
            return Err(UnpackError::Refused {
                entry: name.to_string(),
                reason: "a hard link may only point to an earlier file of the same archive",
            });
        };
        self.claim(rel, name)?;
        self.total += size;
        if self.total > self.limits.max_total {
            return Err(UnpackError::TooLarge {
                limit: self.limits.max_total,
            });
        }
        self.ensure_parent(rel)?;
        // A copy, not a link: the store's files must stay independent inodes.
        self.writer.copy(target, rel)?;
        self.files.push((rel.to_path_buf(), size, executable));
        Ok(())
    }
}

/// Where an entry lies with respect to the member root.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Member<'n> {
    /// Below the root: the rest of the name, to be checked and extracted.
    Inside(&'n str),
    /// The root directory itself.
    Root,
    /// Elsewhere in the archive: not part of the package, skipped unread.
    Outside,
}

/// Where `name` lies with respect to `root` (a directory such as `package/vendor/<triple>/`;
/// the trailing `/` is optional). Leading `./` are ignored. Without a root the whole archive is
/// the package. Nothing here judges the rest of the name: `enclosed` does, so
/// `<root>/../../x` is refused, not skipped.
pub(super) fn below_root<'n>(name: &'n str, root: Option<&str>) -> Member<'n> {
    let Some(root) = root else {
        return Member::Inside(name);
    };
    let mut name = name;
    while let Some(rest) = name.strip_prefix("./") {
        name = rest;
    }
    let Some(rest) = name.strip_prefix(root.trim_end_matches('/')) else {
        return Member::Outside;
    };
    if rest.is_empty() {
        return Member::Root;
    }
    match rest.strip_prefix('/') {
        // `package/vendor/<triple>-other/x` shares the prefix but not the directory.
        None => Member::Outside,
        Some(rest) if Path::new(rest).components().all(|c| c == Component::CurDir) => Member::Root,
        Some(rest) => Member::Inside(rest),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_roots_split_the_archive() {
        let root = Some("package/vendor/x86_64-unknown-linux-musl/");
        let cases = [
            (
                "package/vendor/x86_64-unknown-linux-musl/bin/codex",
                Member::Inside("bin/codex"),
            ),
            (
                "./package/vendor/x86_64-unknown-linux-musl/bin/codex",
                Member::Inside("bin/codex"),
            ),
            // Judged later by `enclosed`, not skipped: traversal after stripping is refused.
            (
                "package/vendor/x86_64-unknown-linux-musl/../../x",
                Member::Inside("../../x"),
            ),
            ("package/vendor/x86_64-unknown-linux-musl/", Member::Root),
            ("package/vendor/x86_64-unknown-linux-musl", Member::Root),
            ("package/vendor/x86_64-unknown-linux-musl/./", Member::Root),
            ("package/vendor/", Member::Outside),
            ("package/package.json", Member::Outside),
            (
                "package/vendor/x86_64-unknown-linux-musl-other/x",
                Member::Outside,
            ),
            (
                "/package/vendor/x86_64-unknown-linux-musl/x",
                Member::Outside,
            ),
        ];
        for (name, expect) in cases {
            assert_eq!(below_root(name, root), expect, "{name}");
        }
        // The trailing slash of the root is optional; without a root everything is inside.
        assert_eq!(
            below_root("codex_cli_bin/bin/codex", Some("codex_cli_bin")),
            Member::Inside("bin/codex")
        );
        assert_eq!(below_root("./x", None), Member::Inside("./x"));
    }

    #[test]
    fn skipped_entries_are_counted_and_unsafe_names_refused() {
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_entries: 2,
            ..Limits::default()
        };
        let mut state = State::new(dir.path(), limits);
        let root = Some("codex_cli_bin/");
        assert_eq!(
            state.member("x.dist-info/RECORD", root, false).unwrap(),
            None
        );
        assert_eq!(state.member("codex_cli_bin/", root, true).unwrap(), None);
        assert!(matches!(
            state.member("codex_cli_bin/bin/codex", root, false),
            Err(UnpackError::TooManyEntries { limit: 2 })
        ));
        for (path, reason) in [
            ("a\0b", "the name contains a NUL byte"),
            ("a\\b", "the name contains a backslash"),
            ("a/../../b", "the path contains `..`"),
            ("/a", "the path is absolute"),
            ("./", "the path is empty"),
        ] {
            match state.enclosed(path, "entry") {
                Err(UnpackError::Refused { entry, reason: r }) => {
                    assert_eq!((entry.as_str(), r), ("entry", reason), "{path:?}")
                }
                other => panic!("{path:?} was accepted: {other:?}"),
            }
        }
        assert_eq!(
            state.enclosed("./bin//codex", "e").unwrap(),
            Path::new("bin/codex")
        );
    }
}
