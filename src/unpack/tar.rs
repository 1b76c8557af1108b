//! Tar streams (`.tar.zst`, `.tar.gz`, npm's `.tgz`): each entry, as it arrives, goes through
//! the policy.

use std::io::Read;
use std::path::Path;

use super::policy::{below_root, Member, State};
use super::{Limits, UnpackError, Unpacked};

/// Unpack a tar stream into `dest` (which must exist); `kind` names the container in errors.
/// With `member_root`, only the entries below it are extracted (see `unpack_stream`).
pub fn unpack_tar<R: Read>(
    reader: R,
    dest: &Path,
    limits: Limits,
    kind: &'static str,
    member_root: Option<&str>,
) -> Result<Unpacked, UnpackError> {
    let corrupt = |source| UnpackError::Corrupt { kind, source };
    let mut archive = ::tar::Archive::new(reader);
    let mut state = State::new(dest, limits);
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let header = entry.header();
        let ty = header.entry_type();
        if ty.is_pax_global_extensions()
            || ty.is_pax_local_extensions()
            || ty.is_gnu_longname()
            || ty.is_gnu_longlink()
        {
            continue;
        }
        let Some(path) = state.member(&name, member_root, ty.is_dir())? else {
            continue;
        };
        let rel = state.enclosed(path, &name)?;
        if ty.is_dir() {
            state.dir(&rel, &name)?;
        } else if ty.is_file() || ty == ::tar::EntryType::Continuous {
            let size = header.size().map_err(corrupt)?;
            let executable = header.mode().map(|m| m & 0o111 != 0).unwrap_or(false);
            state.file(&rel, &name, size, executable, &mut entry)?;
        } else if ty.is_symlink() {
            let target = entry
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            state.symlink(&rel, &name, &target)?;
        } else if ty.is_hard_link() {
            // The target is named from the archive's root, like the entry itself.
            let target = entry
                .link_name_bytes()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default();
            let Member::Inside(target_path) = below_root(&target, member_root) else {
                return Err(UnpackError::Refused {
                    entry: name,
                    reason: "the hard link points outside the package",
                });
            };
            let target_rel = state.enclosed(target_path, &target)?;
            state.hard_link(&rel, &name, &target_rel)?;
        } else {
            return Err(UnpackError::Refused {
                entry: name,
                reason: "devices, FIFOs and other special files are not allowed",
            });
        }
    }
    state.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unpack::writer::CHUNK;

    fn tar_with(build: impl FnOnce(&mut ::tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = ::tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    fn raw_entry(
        b: &mut ::tar::Builder<Vec<u8>>,
        name: &[u8],
        ty: ::tar::EntryType,
        link: Option<&str>,
        data: &[u8],
    ) {
        let mut h = ::tar::Header::new_gnu();
        {
            let gnu = h.as_gnu_mut().unwrap();
            gnu.name[..name.len()].copy_from_slice(name);
        }
        h.set_entry_type(ty);
        h.set_size(data.len() as u64);
        h.set_mode(0o755);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    fn unpack(bytes: &[u8]) -> (tempfile::TempDir, Result<Unpacked, UnpackError>) {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("pkg");
        std::fs::create_dir(&dest).unwrap();
        let r = unpack_tar(bytes, &dest, Limits::default(), "tar", None);
        (dir, r)
    }

    #[test]
    fn hashes_files_and_keeps_only_the_exec_bit() {
        let t = tar_with(|b| {
            raw_entry(
                b,
                b"./bin/codex",
                ::tar::EntryType::Regular,
                None,
                b"#!/bin/sh\n",
            );
            raw_entry(b, b"docs/a.txt", ::tar::EntryType::Regular, None, b"hello");
        });
        let (_d, r) = unpack(&t);
        let u = r.unwrap();
        assert_eq!(u.files.len(), 2);
        assert_eq!(u.files[0].path, "bin/codex");
        assert_eq!(u.files[1].sha256, crate::verify::Sha256::of(b"hello"));
    }

    #[test]
    fn a_refusal_waits_for_the_writer() {
        // Eight chunks are queued for the writer thread before the refused entry is read: when
        // unpack_tar returns, they are all on disk and nothing is still writing into `dest`
        // (the caller removes it next). Found by the unpack fuzz target as a leaked thread.
        let big = vec![7u8; 8 * CHUNK];
        let t = tar_with(|b| {
            raw_entry(b, b"bin/codex", ::tar::EntryType::Regular, None, &big);
            raw_entry(b, b"../evil", ::tar::EntryType::Regular, None, b"x");
        });
        let (dir, r) = unpack(&t);
        assert!(matches!(r, Err(UnpackError::Refused { .. })), "{r:?}");
        let written = std::fs::metadata(dir.path().join("pkg/bin/codex")).unwrap();
        assert_eq!(written.len(), big.len() as u64);
        std::fs::remove_dir_all(dir.path().join("pkg")).unwrap();
        assert!(!dir.path().join("pkg").exists());
    }

    #[test]
    fn hostile_entries_are_refused() {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "dotdot",
                tar_with(|b| raw_entry(b, b"../evil", ::tar::EntryType::Regular, None, b"x")),
            ),
            (
                "nested dotdot",
                tar_with(|b| raw_entry(b, b"a/../../evil", ::tar::EntryType::Regular, None, b"x")),
            ),
            (
                "absolute",
                tar_with(|b| raw_entry(b, b"/tmp/evil", ::tar::EntryType::Regular, None, b"x")),
            ),
            (
                "escaping symlink",
                tar_with(|b| {
                    raw_entry(
                        b,
                        b"link",
                        ::tar::EntryType::Symlink,
                        Some("../../etc"),
                        b"",
                    )
                }),
            ),
            (
                "absolute symlink",
                tar_with(|b| {
                    raw_entry(
                        b,
                        b"link",
                        ::tar::EntryType::Symlink,
                        Some("/etc/passwd"),
                        b"",
                    )
                }),
            ),
            (
                "write through symlink",
                tar_with(|b| {
                    raw_entry(b, b"dir", ::tar::EntryType::Symlink, Some("sub"), b"");
                    raw_entry(b, b"dir/file", ::tar::EntryType::Regular, None, b"x");
                }),
            ),
            (
                "hard link outside",
                tar_with(|b| raw_entry(b, b"h", ::tar::EntryType::Link, Some("/etc/passwd"), b"")),
            ),
            (
                "hard link to unknown",
                tar_with(|b| raw_entry(b, b"h", ::tar::EntryType::Link, Some("nothere"), b"")),
            ),
            (
                "char device",
                tar_with(|b| raw_entry(b, b"dev", ::tar::EntryType::Char, None, b"")),
            ),
            (
                "block device",
                tar_with(|b| raw_entry(b, b"dev", ::tar::EntryType::Block, None, b"")),
            ),
            (
                "fifo",
                tar_with(|b| raw_entry(b, b"fifo", ::tar::EntryType::Fifo, None, b"")),
            ),
            (
                "duplicate",
                tar_with(|b| {
                    raw_entry(b, b"a", ::tar::EntryType::Regular, None, b"1");
                    raw_entry(b, b"a", ::tar::EntryType::Regular, None, b"2");
                }),
            ),
        ];
        for (what, bytes) in cases {
            let (dir, r) = unpack(&bytes);
            assert!(r.is_err(), "{what} should be refused");
            assert!(!dir.path().join("evil").exists(), "{what} wrote outside");
        }
    }

    #[test]
    fn inner_links_are_fine() {
        let t = tar_with(|b| {
            raw_entry(b, b"bin/codex", ::tar::EntryType::Regular, None, b"x");
            raw_entry(
                b,
                b"bin/alias",
                ::tar::EntryType::Symlink,
                Some("codex"),
                b"",
            );
            raw_entry(
                b,
                b"bin/copy",
                ::tar::EntryType::Link,
                Some("bin/codex"),
                b"",
            );
        });
        let (_d, r) = unpack(&t);
        assert_eq!(r.unwrap().files.len(), 2);
    }

    #[test]
    fn size_limits_stop_bombs_before_writing() {
        let t = tar_with(|b| raw_entry(b, b"zeros", ::tar::EntryType::Regular, None, &[0u8; 4096]));
        let dir = tempfile::tempdir().unwrap();
        let limits = Limits {
            max_total: 1024,
            max_entry: 1024,
            max_entries: 10,
        };
        let r = unpack_tar(&t[..], dir.path(), limits, "tar", None);
        assert!(matches!(r, Err(UnpackError::TooLarge { .. })));
        assert!(!dir.path().join("zeros").exists());
    }
}
