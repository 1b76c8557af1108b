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
            return Err(state.special(&name));
        }
    }
    state.finish()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::platform::AssetKind;
    use crate::unpack::unpack_stream;
    use crate::unpack::writer::CHUNK;
    use ::tar::EntryType;

    /// The npm tarball's member root for the target the tests pretend to install.
    const NPM_ROOT: &str = "package/vendor/x86_64-unknown-linux-musl/";

    /// Every way a tar arrives: a bare tar through `unpack_tar`, the package as `.tar.zst` and
    /// `.tar.gz`, and the npm tarball (a `.tgz` unpacked below its member root).
    const CONTAINERS: [(&str, Option<AssetKind>); 4] = [
        ("tar", None),
        ("tar.zst", Some(AssetKind::PackageTarZst)),
        ("tar.gz", Some(AssetKind::PackageTarGz)),
        ("npm", Some(AssetKind::NpmTarball)),
    ];

    /// Where a container's package lies in the archive: entry names start with this.
    fn prefix(kind: Option<AssetKind>) -> &'static str {
        match kind {
            Some(AssetKind::NpmTarball) => NPM_ROOT,
            _ => "",
        }
    }

    fn tar_with(build: impl FnOnce(&mut ::tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = ::tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    /// An entry written as given: no name checks, unlike the tar crate's own `append_path`.
    fn put(
        b: &mut ::tar::Builder<Vec<u8>>,
        name: &str,
        ty: EntryType,
        link: Option<&str>,
        mode: u32,
        data: &[u8],
    ) {
        let mut h = ::tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
        h.set_entry_type(ty);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        if let Some(l) = link {
            h.set_link_name(l).unwrap();
        }
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    fn raw_entry(
        b: &mut ::tar::Builder<Vec<u8>>,
        name: &[u8],
        ty: EntryType,
        link: Option<&str>,
        data: &[u8],
    ) {
        put(b, std::str::from_utf8(name).unwrap(), ty, link, 0o755, data);
    }

    fn file(b: &mut ::tar::Builder<Vec<u8>>, name: &str, mode: u32, data: &[u8]) {
        put(b, name, EntryType::Regular, None, mode, data);
    }

    fn dir(b: &mut ::tar::Builder<Vec<u8>>, name: &str) {
        put(b, name, EntryType::Directory, None, 0o755, b"");
    }

    fn link(b: &mut ::tar::Builder<Vec<u8>>, name: &str, ty: EntryType, target: &str) {
        put(b, name, ty, Some(target), 0o777, b"");
    }

    /// The tar compressed as the container would carry it.
    fn packed(kind: Option<AssetKind>, tar: Vec<u8>) -> Vec<u8> {
        match kind {
            None => tar,
            Some(AssetKind::PackageTarZst) => zstd::stream::encode_all(&tar[..], 3).unwrap(),
            Some(_) => {
                let mut gz = flate2::write::GzEncoder::new(Vec::new(), Default::default());
                std::io::Write::write_all(&mut gz, &tar).unwrap();
                gz.finish().unwrap()
            }
        }
    }

    /// Unpack as the installer would: through `unpack_stream` with the kind's member root.
    fn unpack_as(
        kind: Option<AssetKind>,
        tar: Vec<u8>,
        limits: Limits,
    ) -> (tempfile::TempDir, Result<Unpacked, UnpackError>) {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("pkg");
        std::fs::create_dir(&dest).unwrap();
        let target = "x86_64-unknown-linux-musl".parse().unwrap();
        let bytes = packed(kind, tar);
        let r = match kind {
            None => unpack_tar(&bytes[..], &dest, limits, "tar", None),
            Some(k) => {
                let root = k.member_root(&target);
                unpack_stream(k, &bytes[..], &dest, limits, root.as_deref())
            }
        };
        (dir, r)
    }

    fn unpack(bytes: &[u8]) -> (tempfile::TempDir, Result<Unpacked, UnpackError>) {
        unpack_as(None, bytes.to_vec(), Limits::default())
    }

    /// Unpack and require a refusal whose message contains one of `expect`; nothing may appear
    /// beside the destination.
    fn refused(what: &str, kind: Option<AssetKind>, tar: Vec<u8>, limits: Limits, expect: &[&str]) {
        let (dir, r) = unpack_as(kind, tar, limits);
        let err = r.expect_err(what).to_string();
        assert!(expect.iter().any(|e| err.contains(e)), "{what}: {err}");
        let beside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(beside, ["pkg"], "{what} wrote outside");
    }

    fn small(max_entries: usize) -> Limits {
        Limits {
            max_total: 1024,
            max_entry: 1024,
            max_entries,
        }
    }

    #[test]
    fn hashes_files_and_keeps_only_the_exec_bit() {
        let t = tar_with(|b| {
            raw_entry(b, b"./bin/codex", EntryType::Regular, None, b"#!/bin/sh\n");
            raw_entry(b, b"docs/a.txt", EntryType::Regular, None, b"hello");
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
            raw_entry(b, b"bin/codex", EntryType::Regular, None, &big);
            raw_entry(b, b"../evil", EntryType::Regular, None, b"x");
        });
        let (dir, r) = unpack(&t);
        assert!(matches!(r, Err(UnpackError::Refused { .. })), "{r:?}");
        let written = std::fs::metadata(dir.path().join("pkg/bin/codex")).unwrap();
        assert_eq!(written.len(), big.len() as u64);
        std::fs::remove_dir_all(dir.path().join("pkg")).unwrap();
        assert!(!dir.path().join("pkg").exists());
    }

    #[test]
    fn a_package_unpacks_from_each_container() {
        for (what, kind) in CONTAINERS {
            let p = prefix(kind);
            let t = tar_with(|b| {
                file(b, &format!("{p}codex-package.json"), 0o644, b"{}");
                file(b, &format!("{p}bin/codex"), 0o755, b"#!/bin/sh\n");
                file(b, &format!("{p}codex-path/rg"), 0o755, b"rg");
                file(b, &format!("{p}codex-resources/bwrap"), 0o644, b"bwrap");
            });
            let (d, r) = unpack_as(kind, t, Limits::default());
            let files = r.unwrap_or_else(|e| panic!("{what}: {e}")).files;
            let got: Vec<_> = files
                .iter()
                .map(|f| (f.path.as_str(), f.executable))
                .collect();
            assert_eq!(
                got,
                [
                    ("bin/codex", true),
                    ("codex-package.json", false),
                    ("codex-path/rg", true),
                    ("codex-resources/bwrap", false)
                ],
                "{what}"
            );
            assert_eq!(files[2].sha256, crate::verify::Sha256::of(b"rg"), "{what}");
            assert!(d.path().join("pkg/bin/codex").is_file(), "{what}");
        }
    }

    #[test]
    fn an_npm_tarball_unpacks_only_its_vendor_triple() {
        let t = tar_with(|b| {
            dir(b, "package/");
            file(
                b,
                "package/package.json",
                0o644,
                br#"{"name":"@openai/codex"}"#,
            );
            file(b, "package/README.md", 0o644, b"# codex");
            dir(b, "package/vendor/");
            dir(b, NPM_ROOT);
            file(b, &format!("{NPM_ROOT}codex-package.json"), 0o644, b"{}");
            file(b, &format!("{NPM_ROOT}bin/codex"), 0o755, b"codex");
            file(
                b,
                &format!("{NPM_ROOT}bin/codex-code-mode-host"),
                0o755,
                b"host",
            );
            link(
                b,
                &format!("{NPM_ROOT}bin/alias"),
                EntryType::Symlink,
                "codex",
            );
            let copy = format!("{NPM_ROOT}bin/codex");
            link(b, &format!("{NPM_ROOT}bin/copy"), EntryType::Link, &copy);
            file(
                b,
                &format!("{NPM_ROOT}codex-resources/bwrap"),
                0o755,
                b"bwrap",
            );
            // Another triple's vendor directory, and one that only shares the prefix.
            file(
                b,
                "package/vendor/aarch64-unknown-linux-musl/bin/codex",
                0o755,
                b"arm",
            );
            file(
                b,
                "package/vendor/x86_64-unknown-linux-musl-x/bin/codex",
                0o755,
                b"no",
            );
        });
        let (d, r) = unpack_as(Some(AssetKind::NpmTarball), t, Limits::default());
        let files = r.unwrap().files;
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "bin/codex",
                "bin/codex-code-mode-host",
                "bin/copy",
                "codex-package.json",
                "codex-resources/bwrap"
            ]
        );
        assert_eq!(files[0].sha256, crate::verify::Sha256::of(b"codex"));
        assert_eq!(files[2].sha256, files[0].sha256);
        let pkg = d.path().join("pkg");
        let mut top: Vec<_> = std::fs::read_dir(&pkg)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        top.sort();
        assert_eq!(top, ["bin", "codex-package.json", "codex-resources"]);
        assert_eq!(std::fs::read(pkg.join("bin/alias")).unwrap(), b"codex");
    }

    /// `(path, target)` of the issue's two links: `d0/…/d11/up -> ../..×12` (the package
    /// root), and `escape -> d0/…/d11/up/../..×12/etc/hostname`.
    pub(crate) fn chained_links() -> ((String, String), (String, String)) {
        let dirs: Vec<String> = (0..12).map(|i| format!("d{i}")).collect();
        let ups = [".."; 12].join("/");
        let up = format!("{}/up", dirs.join("/"));
        let escape = format!("{up}/{ups}/etc/hostname");
        ((up, ups), ("escape".to_string(), escape))
    }

    #[test]
    fn links_to_other_links_stay_inside_when_no_step_is_a_link() {
        let t = tar_with(|b| {
            file(b, "bin/codex", 0o755, b"codex");
            link(b, "bin/alias", EntryType::Symlink, "codex");
            // A link to a link, which itself stays inside: the final step may be a link.
            link(b, "alias2", EntryType::Symlink, "bin/alias");
        });
        let (d, r) = unpack_as(None, t, Limits::default());
        r.unwrap();
        assert_eq!(
            std::fs::read(d.path().join("pkg/alias2")).unwrap(),
            b"codex"
        );
    }

    #[test]
    fn hostile_entries_are_refused() {
        type Build = Box<dyn Fn(&mut ::tar::Builder<Vec<u8>>, &str)>;
        let cases: Vec<(&str, Build, &[&str])> = vec![
            (
                "dotdot",
                Box::new(|b, p| file(b, &format!("{p}../evil"), 0o644, b"x")),
                &["`..`"],
            ),
            (
                "nested dotdot",
                Box::new(|b, p| file(b, &format!("{p}a/../../evil"), 0o644, b"x")),
                &["`..`"],
            ),
            (
                "absolute",
                Box::new(|b, p| file(b, &format!("{p}/tmp/evil"), 0o644, b"x")),
                &["absolute"],
            ),
            (
                "escaping symlink",
                Box::new(|b, p| link(b, &format!("{p}link"), EntryType::Symlink, "../../etc")),
                &["outside the package"],
            ),
            (
                "absolute symlink",
                Box::new(|b, p| link(b, &format!("{p}link"), EntryType::Symlink, "/etc/passwd")),
                &["absolute"],
            ),
            (
                "write through symlink",
                Box::new(|b, p| {
                    link(b, &format!("{p}dir"), EntryType::Symlink, "sub");
                    file(b, &format!("{p}dir/file"), 0o644, b"x");
                }),
                &["through a symbolic link"],
            ),
            (
                // The issue's chain: `up` stays inside, `escape` as text too, but through `up`
                // it resolves twelve levels above the package.
                "chained symlinks",
                Box::new(|b, p| {
                    let (up, escape) = chained_links();
                    link(b, &format!("{p}{}", up.0), EntryType::Symlink, &up.1);
                    link(
                        b,
                        &format!("{p}{}", escape.0),
                        EntryType::Symlink,
                        &escape.1,
                    );
                }),
                &["passes through another link"],
            ),
            (
                "chained symlinks, the link last",
                Box::new(|b, p| {
                    let (up, escape) = chained_links();
                    link(
                        b,
                        &format!("{p}{}", escape.0),
                        EntryType::Symlink,
                        &escape.1,
                    );
                    link(b, &format!("{p}{}", up.0), EntryType::Symlink, &up.1);
                }),
                &["an earlier link's target passes through"],
            ),
            (
                "hard link outside",
                Box::new(|b, p| link(b, &format!("{p}h"), EntryType::Link, "/etc/passwd")),
                // Outside the archive's names (a bare tar), or outside the member root (npm).
                &["absolute", "outside the package"],
            ),
            (
                "hard link to unknown",
                Box::new(|b, p| link(b, &format!("{p}h"), EntryType::Link, &format!("{p}nothere"))),
                &["earlier file"],
            ),
            (
                "char device",
                Box::new(|b, p| put(b, &format!("{p}dev"), EntryType::Char, None, 0o644, b"")),
                &["special files"],
            ),
            (
                "block device",
                Box::new(|b, p| put(b, &format!("{p}dev"), EntryType::Block, None, 0o644, b"")),
                &["special files"],
            ),
            (
                "fifo",
                Box::new(|b, p| put(b, &format!("{p}fifo"), EntryType::Fifo, None, 0o644, b"")),
                &["special files"],
            ),
            (
                "duplicate",
                Box::new(|b, p| {
                    file(b, &format!("{p}a"), 0o644, b"1");
                    file(b, &format!("{p}a"), 0o644, b"2");
                }),
                &["twice"],
            ),
            (
                "normalised duplicate",
                Box::new(|b, p| {
                    file(b, &format!("{p}bin/codex"), 0o755, b"1");
                    file(b, &format!("{p}bin/./codex"), 0o755, b"2");
                }),
                &["twice"],
            ),
        ];
        for (container, kind) in CONTAINERS {
            for (what, build, expect) in &cases {
                let t = tar_with(|b| build(b, prefix(kind)));
                let what = format!("{what} in {container}");
                refused(&what, kind, t, Limits::default(), expect);
            }
        }
    }

    #[test]
    fn npm_links_must_stay_in_the_vendor_triple() {
        let cases: Vec<(&str, Vec<u8>, &[&str])> = vec![
            (
                "symlink to the package.json beside vendor/",
                tar_with(|b| {
                    file(b, "package/package.json", 0o644, b"{}");
                    let name = format!("{NPM_ROOT}bin/manifest");
                    link(b, &name, EntryType::Symlink, "../../package.json");
                }),
                &["outside the package"],
            ),
            (
                "hard link to the package.json beside vendor/",
                tar_with(|b| {
                    file(b, "package/package.json", 0o644, b"{}");
                    let name = format!("{NPM_ROOT}manifest");
                    link(b, &name, EntryType::Link, "package/package.json");
                }),
                &["outside the package"],
            ),
            (
                "the vendor triple as a link",
                tar_with(|b| link(b, NPM_ROOT.trim_end_matches('/'), EntryType::Symlink, "/")),
                &["not a directory"],
            ),
        ];
        for (what, t, expect) in cases {
            refused(
                what,
                Some(AssetKind::NpmTarball),
                t,
                Limits::default(),
                expect,
            );
        }
    }

    #[test]
    fn inner_links_are_fine() {
        let t = tar_with(|b| {
            raw_entry(b, b"bin/codex", EntryType::Regular, None, b"x");
            raw_entry(b, b"bin/alias", EntryType::Symlink, Some("codex"), b"");
            raw_entry(b, b"bin/copy", EntryType::Link, Some("bin/codex"), b"");
        });
        let (_d, r) = unpack(&t);
        assert_eq!(r.unwrap().files.len(), 2);
    }

    #[test]
    fn size_limits_stop_bombs_before_writing() {
        for (container, kind) in CONTAINERS {
            let p = prefix(kind);
            // Compressed, 4 KiB of zeros is a few bytes: the declared size decides.
            let t = tar_with(|b| file(b, &format!("{p}zeros"), 0o644, &[0u8; 4096]));
            let what = format!("bomb in {container}");
            refused(&what, kind, t.clone(), small(10), &["decompression bomb"]);
            let (d, _) = unpack_as(kind, t, small(10));
            assert!(!d.path().join("pkg/zeros").exists(), "{what}");
            // Many small files add up the same way.
            let t = tar_with(|b| {
                for i in 0..3 {
                    file(b, &format!("{p}part{i}"), 0o644, &[0u8; 400]);
                }
            });
            refused(&what, kind, t, small(10), &["decompression bomb"]);
        }
    }

    #[test]
    fn too_many_entries_are_refused() {
        for (container, kind) in CONTAINERS {
            let p = prefix(kind);
            let t = tar_with(|b| {
                for i in 0..4 {
                    file(b, &format!("{p}f{i}"), 0o644, b"x");
                }
            });
            let what = format!("four entries in {container}");
            refused(&what, kind, t, small(3), &["more than 3 entries"]);
        }
        // What an npm tarball skips still had to be read past, so it counts.
        let t = tar_with(|b| {
            dir(b, "package/");
            file(b, "package/package.json", 0o644, b"{}");
            file(b, "package/README.md", 0o644, b"#");
            file(b, &format!("{NPM_ROOT}bin/codex"), 0o755, b"x");
        });
        let npm = Some(AssetKind::NpmTarball);
        refused(
            "skipped entries",
            npm,
            t.clone(),
            small(3),
            &["more than 3 entries"],
        );
        assert_eq!(unpack_as(npm, t, small(4)).1.unwrap().files.len(), 1);
    }
}
