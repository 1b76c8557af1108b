//! Zip files (legacy Windows assets, wheels): read from a file, since zip needs random access,
//! each entry going through the same policy as a tar entry.
//!
//! Zip has no hard links and no device entries, but a unix mode in the external attributes
//! can still declare a symbolic link (the entry's data is its target), a directory, or a
//! special file; links are judged as tar links are, special files refused.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use ::zip::CompressionMethod;

use super::growing::FileAt;
use super::policy::State;
use super::wheel::{local_header, read_full, DEFLATED, STORED};
use super::{Limits, UnpackError, Unpacked};

/// The file type bits of a unix mode, and the types an entry may declare.
const S_IFMT: u32 = 0o170000;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;

/// The longest link target read from an entry (Linux's `PATH_MAX`).
const MAX_LINK_TARGET: u64 = 4096;

/// Unpack a zip file: a legacy Windows asset, or (with `member_root`, `codex_cli_bin/`) the
/// package inside a wheel, whose other entries (the module's `__init__.py` and `__pycache__/`,
/// `*.dist-info/`) are not part of the runtime and are skipped.
///
/// `file` is the handle the archive was hashed from (read by position, never reopened by
/// path), so what is unpacked is what was verified.
pub fn unpack_zip(
    file: &File,
    dest: &Path,
    limits: Limits,
    member_root: Option<&str>,
) -> Result<Unpacked, UnpackError> {
    let mut zip = ::zip::ZipArchive::new(BufReader::new(FileAt::new(file))).map_err(invalid)?;
    // The zip crate keeps one entry per name, so a second entry of the same name would
    // silently replace the first: refuse the archive as a tar with a duplicate is refused.
    if zip.has_duplicate_names() {
        let entry = first_duplicate(FileAt::new(file), zip.central_directory_start())
            .ok()
            .flatten()
            .unwrap_or_else(|| "<central directory>".into());
        return Err(UnpackError::Refused {
            entry,
            reason: "the archive lists this path twice",
        });
    }
    let mut state = State::new(dest, limits);
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(invalid)?;
        let name = entry.name().map_err(invalid)?.to_string();
        let file_type = entry.unix_mode().map_or(0, |m| m & S_IFMT);
        let is_dir = entry.is_dir() || file_type == S_IFDIR;
        let Some(path) = state.member(&name, member_root, is_dir)? else {
            continue;
        };
        if member_root.is_some() && (path == "__init__.py" || path.starts_with("__pycache__/")) {
            continue;
        }
        let rel = state.enclosed(path, &name)?;
        if is_dir {
            state.dir(&rel, &name)?;
        } else if file_type == S_IFLNK {
            if entry.size() > MAX_LINK_TARGET {
                return Err(UnpackError::Refused {
                    entry: name,
                    reason: "the link target is empty or malformed",
                });
            }
            let mut target = Vec::new();
            (&mut entry)
                .take(MAX_LINK_TARGET)
                .read_to_end(&mut target)
                .map_err(corrupt)?;
            state.symlink(&rel, &name, &String::from_utf8_lossy(&target))?;
        } else if file_type == 0 || file_type == S_IFREG {
            let size = entry.size();
            let executable = entry.unix_mode().is_some_and(|m| m & 0o111 != 0)
                || path.to_ascii_lowercase().ends_with(".exe");
            state.file(&rel, &name, size, executable, &mut entry)?;
        } else {
            return Err(state.special(&name));
        }
    }
    state.finish()
}

/// After [`super::unpack_wheel_growing`], with the whole wheel in `file` (the handle it was
/// hashed and unpacked from): its central directory must list exactly the regular files
/// unpacked into `dest`, with the same sizes; the executable bits it declares are applied (and
/// made durable) and recorded in `unpacked`.
pub fn reconcile_streamed_wheel(
    file: &File,
    dest: &Path,
    unpacked: &mut Unpacked,
) -> Result<(), UnpackError> {
    let mut zip = ::zip::ZipArchive::new(BufReader::new(FileAt::new(file))).map_err(invalid)?;
    let mismatch = |entry: String| UnpackError::Refused {
        entry,
        reason: "the wheel's central directory does not list what its entries hold",
    };
    // The streamed path read the local headers, walked from the start; the zip crate (the
    // whole-file path) reads each entry at the offset its central directory entry gives, with
    // that entry's method, sizes and CRC-32. Each central directory entry must therefore be one
    // of the walked headers, saying the same of it, and every walked header must be listed:
    // otherwise the two readers would not read the same archive.
    let mut walked = BTreeMap::new();
    let mut read_at = |at: u64, buf: &mut [u8]| {
        let mut r = FileAt::new(file);
        r.seek(SeekFrom::Start(at)).map_err(corrupt)?;
        read_full(&mut r, buf)
    };
    let mut offset = 0;
    while let Some(header) = local_header(&mut read_at, offset)? {
        let at = offset;
        offset = header.next;
        walked.insert(at, header);
    }
    let mut listed = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(invalid)?;
        let name = entry.name().map_err(invalid)?.to_string();
        let Some(local) = walked.remove(&entry.header_start()) else {
            return Err(UnpackError::Refused {
                entry: name,
                reason: "the central directory places this entry where no local header of the \
                         wheel's entries is, so the streamed and the whole-file readers disagree",
            });
        };
        let same_method = matches!(
            (local.method, entry.compression()),
            (STORED, CompressionMethod::Stored) | (DEFLATED, CompressionMethod::Deflated)
        );
        if local.name != name
            || !same_method
            || local.crc32 != entry.crc32()
            || local.compressed != entry.compressed_size()
            || local.size != entry.size()
            || entry.encrypted()
        {
            return Err(UnpackError::Refused {
                entry: name,
                reason: "the central directory and the entry's local header disagree on its \
                         name, method, sizes or CRC-32, so the streamed and the whole-file \
                         readers would not read the same file",
            });
        }
        let file_type = entry.unix_mode().map_or(0, |m| m & S_IFMT);
        if entry.is_dir() || file_type == S_IFDIR {
            continue;
        }
        if file_type != 0 && file_type != S_IFREG {
            return Err(UnpackError::Refused {
                entry: name,
                reason: "a wheel tree holds regular files only",
            });
        }
        listed += 1;
        let Some(f) = unpacked.files.iter_mut().find(|f| f.path == name) else {
            return Err(mismatch(name));
        };
        if f.size != entry.size() {
            return Err(mismatch(name));
        }
        if entry.unix_mode().is_some_and(|m| m & 0o111 != 0) {
            f.executable = true;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let p = dest.join(&f.path);
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755))
                    .and_then(|()| File::open(&p)?.sync_all())
                    .map_err(|source| UnpackError::Write {
                        path: p.clone(),
                        source,
                    })?;
            }
        }
    }
    if let Some(local) = walked.into_values().next() {
        return Err(UnpackError::Refused {
            entry: local.name,
            reason: "the wheel holds an entry its central directory does not list",
        });
    }
    if listed != unpacked.files.len() {
        return Err(mismatch("<central directory>".into()));
    }
    Ok(())
}

fn corrupt(source: io::Error) -> UnpackError {
    UnpackError::Corrupt {
        kind: "zip",
        source,
    }
}

fn invalid(e: ::zip::result::ZipError) -> UnpackError {
    corrupt(io::Error::new(io::ErrorKind::InvalidData, e))
}

/// The first name the central directory at `start` lists twice. The zip crate can say that
/// there is a duplicate but not which, and the refusal should name it.
fn first_duplicate(file: FileAt<'_>, start: u64) -> io::Result<Option<String>> {
    const SIGNATURE: [u8; 4] = *b"PK\x01\x02";
    let mut r = BufReader::new(file);
    r.seek(SeekFrom::Start(start))?;
    let mut seen = HashSet::new();
    loop {
        // A central directory header: 46 fixed bytes, then the name, extra field and comment,
        // whose lengths are at offsets 28, 30 and 32.
        let mut fixed = [0u8; 46];
        if r.read_exact(&mut fixed).is_err() || fixed[..4] != SIGNATURE {
            return Ok(None);
        }
        let len = |at: usize| u16::from_le_bytes([fixed[at], fixed[at + 1]]);
        let mut name = vec![0u8; usize::from(len(28))];
        r.read_exact(&mut name)?;
        r.seek_relative(i64::from(len(30)) + i64::from(len(32)))?;
        if !seen.insert(name.clone()) {
            return Ok(Some(String::from_utf8_lossy(&name).into_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::zip::write::SimpleFileOptions;

    const ROOT: Option<&str> = Some("codex_cli_bin/");

    /// An entry of a test zip.
    enum Z<'a> {
        /// A regular file with unix permissions.
        File(&'a str, u32, &'a [u8]),
        Dir(&'a str),
        Link(&'a str, &'a str),
        /// A file whose external attributes (unix mode in the high half) are given whole.
        Attrs(&'a str, u32, &'a [u8]),
    }

    fn zip_with(entries: &[Z]) -> Vec<u8> {
        let mut z = ::zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        let opts = SimpleFileOptions::default();
        for e in entries {
            match *e {
                Z::File(name, mode, data) => {
                    z.start_file(name, opts.unix_permissions(mode)).unwrap();
                    io::Write::write_all(&mut z, data).unwrap();
                }
                Z::Dir(name) => z.add_directory(name, opts).unwrap(),
                Z::Link(name, target) => z.add_symlink(name, target, opts).unwrap(),
                Z::Attrs(name, attrs, data) => {
                    z.start_file(name, opts.external_attributes(attrs)).unwrap();
                    io::Write::write_all(&mut z, data).unwrap();
                }
            }
        }
        z.finish().unwrap().into_inner()
    }

    /// A wheel's runtime file, as the real wheels write them.
    fn runtime(name: &str) -> String {
        format!("codex_cli_bin/{name}")
    }

    fn unpack(
        bytes: &[u8],
        root: Option<&str>,
        limits: Limits,
    ) -> (tempfile::TempDir, Result<Unpacked, UnpackError>) {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("archive.zip");
        std::fs::write(&archive, bytes).unwrap();
        let dest = dir.path().join("pkg");
        std::fs::create_dir(&dest).unwrap();
        let r = unpack_zip(&File::open(&archive).unwrap(), &dest, limits, root);
        (dir, r)
    }

    /// Unpack and require a refusal whose message contains `expect`; nothing may appear beside
    /// the destination.
    fn refused(what: &str, bytes: &[u8], root: Option<&str>, limits: Limits, expect: &str) {
        let (dir, r) = unpack(bytes, root, limits);
        let err = r.expect_err(what);
        assert!(err.to_string().contains(expect), "{what}: {err}");
        let mut beside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        beside.sort();
        assert_eq!(beside, ["archive.zip", "pkg"], "{what} wrote outside");
    }

    #[test]
    #[cfg(unix)]
    fn a_streamed_wheel_gets_its_modes_from_the_central_directory() {
        use std::os::unix::fs::PermissionsExt;
        let z = zip_with(&[
            Z::File("codex_cli_bin/__init__.py", 0o644, b"import os\n"),
            Z::File(&runtime("bin/codex"), 0o755, b"#!/bin/sh\n"),
            Z::File("openai_codex_cli_bin-0.163.0.dist-info/RECORD", 0o644, b"r"),
        ]);
        let dir = tempfile::tempdir().unwrap();
        let whl = dir.path().join("w.whl");
        std::fs::write(&whl, &z).unwrap();
        let dest = dir.path().join("tree");
        std::fs::create_dir(&dest).unwrap();
        let growing = super::super::Growing::whole(File::open(&whl).unwrap());
        let mut unpacked = super::super::unpack_wheel_growing(
            &growing,
            &dest,
            Limits::default(),
            &super::super::Hashing::Every,
        )
        .unwrap();
        let paths: Vec<_> = unpacked.files.iter().map(|f| f.path.clone()).collect();
        assert!(
            paths.contains(&"codex_cli_bin/__init__.py".to_string()),
            "{paths:?}"
        );
        assert!(unpacked.files.iter().all(|f| !f.executable));
        reconcile_streamed_wheel(&File::open(&whl).unwrap(), &dest, &mut unpacked).unwrap();
        let codex = unpacked
            .files
            .iter()
            .find(|f| f.path == "codex_cli_bin/bin/codex")
            .unwrap();
        assert!(codex.executable);
        let mode = std::fs::metadata(dest.join("codex_cli_bin/bin/codex"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o111, 0o111);

        // A central directory that lists something the entries did not hold is refused.
        let other = zip_with(&[Z::File("codex_cli_bin/extra", 0o644, b"x")]);
        std::fs::write(&whl, other).unwrap();
        assert!(matches!(
            reconcile_streamed_wheel(&File::open(&whl).unwrap(), &dest, &mut unpacked),
            Err(UnpackError::Refused { .. })
        ));
    }

    /// The central directory must describe the local headers the streamed walk read: the same
    /// CRC-32 (the `zip` fuzz target's finding: the zip crate refused what the streamed path
    /// accepted), an offset where a walked header is, and every walked header listed.
    #[test]
    fn a_central_directory_that_disagrees_with_the_local_headers_is_refused() {
        let good = zip_with(&[
            Z::File(&runtime("bin/codex"), 0o755, b"#!/bin/sh\n"),
            Z::File("openai_codex_cli_bin-0.163.0.dist-info/RECORD", 0o644, b"r"),
        ]);
        let central = |z: &[u8]| -> Vec<usize> {
            (0..z.len() - 4)
                .filter(|&i| z[i..i + 4] == *b"PK\x01\x02")
                .collect()
        };
        let reconcile = |z: &[u8]| {
            let dir = tempfile::tempdir().unwrap();
            let whl = dir.path().join("w.whl");
            std::fs::write(&whl, z).unwrap();
            let dest = dir.path().join("tree");
            std::fs::create_dir(&dest).unwrap();
            let growing = super::super::Growing::whole(File::open(&whl).unwrap());
            let mut unpacked = super::super::unpack_wheel_growing(
                &growing,
                &dest,
                Limits::default(),
                &super::super::Hashing::Every,
            )
            .unwrap();
            reconcile_streamed_wheel(&File::open(&whl).unwrap(), &dest, &mut unpacked)
        };
        reconcile(&good).unwrap();
        let second = central(&good)[1];

        // The second entry's CRC-32 in the central directory only.
        let mut crc = good.clone();
        crc[second + 16] ^= 0x01;
        match reconcile(&crc) {
            Err(UnpackError::Refused { entry, reason }) => {
                assert_eq!(entry, "openai_codex_cli_bin-0.163.0.dist-info/RECORD");
                assert!(reason.contains("local header disagree"), "{reason}");
            }
            other => panic!("{other:?}"),
        }

        // The second entry placed at the first's local header: the RECORD header is left
        // unlisted, and the entry placed there names another file.
        let mut offset = good.clone();
        offset[second + 42..second + 46].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(
            reconcile(&offset),
            Err(UnpackError::Refused { .. }) | Err(UnpackError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_wheel_unpacks_only_its_runtime() {
        let z = zip_with(&[
            Z::Dir("codex_cli_bin/"),
            Z::File("codex_cli_bin/__init__.py", 0o644, b"import os\n"),
            Z::File(
                "codex_cli_bin/__pycache__/__init__.cpython-312.pyc",
                0o644,
                b"\x00",
            ),
            Z::File(&runtime("codex-package.json"), 0o644, b"{}"),
            Z::File(&runtime("bin/codex"), 0o755, b"#!/bin/sh\n"),
            Z::File(&runtime("codex-path/rg"), 0o755, b"rg"),
            Z::File(&runtime("codex-resources/bwrap"), 0o644, b"bwrap"),
            Z::Link(&runtime("bin/alias"), "codex"),
            Z::File(
                "openai_codex_cli_bin-0.163.0.dist-info/METADATA",
                0o644,
                b"m",
            ),
            Z::File("openai_codex_cli_bin-0.163.0.dist-info/RECORD", 0o644, b"r"),
        ]);
        let (dir, r) = unpack(&z, ROOT, Limits::default());
        let files = r.unwrap().files;
        let paths: Vec<_> = files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "bin/codex",
                "codex-package.json",
                "codex-path/rg",
                "codex-resources/bwrap"
            ]
        );
        let exec: Vec<_> = files.iter().map(|f| f.executable).collect();
        assert_eq!(exec, [true, false, true, false]);
        assert_eq!(files[0].sha256, crate::verify::Sha256::of(b"#!/bin/sh\n"));
        let pkg = dir.path().join("pkg");
        assert!(!pkg.join("__init__.py").exists());
        assert!(!pkg.join("__pycache__").exists());
        assert!(!pkg.join("codex_cli_bin").exists());
        assert_eq!(
            std::fs::read_link(pkg.join("bin/alias")).unwrap(),
            Path::new("codex")
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &str| std::fs::metadata(pkg.join(p)).unwrap().permissions().mode();
            assert_eq!(mode("bin/codex") & 0o777, 0o755);
            assert_eq!(mode("codex-resources/bwrap") & 0o777, 0o644);
        }
    }

    #[test]
    fn a_legacy_zip_unpacks_whole_and_exe_files_are_executable() {
        // Zips written on Windows carry no unix mode at all.
        let z = zip_with(&[Z::Attrs("codex-x86_64-pc-windows-msvc.exe", 0, b"MZ")]);
        let (_dir, r) = unpack(&z, None, Limits::default());
        let files = r.unwrap().files;
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].path, "codex-x86_64-pc-windows-msvc.exe");
        assert!(files[0].executable);
    }

    #[test]
    fn duplicate_entries_are_refused() {
        // The zip writer will not write a name twice: write two names of one length, then give
        // the second the first's name in its local and central headers.
        let first = runtime("codex-resources/bwrap");
        let second = runtime("codex-resources/bwraq");
        let mut z = zip_with(&[
            Z::File(&first, 0o755, b"the real one"),
            Z::File(&second, 0o755, b"the other one"),
        ]);
        let mut at = 0;
        while let Some(i) = z[at..]
            .windows(second.len())
            .position(|w| w == second.as_bytes())
        {
            z[at + i..at + i + second.len()].copy_from_slice(first.as_bytes());
            at += i + second.len();
        }
        let (dir, r) = unpack(&z, ROOT, Limits::default());
        match r {
            Err(UnpackError::Refused { entry, reason }) => {
                assert_eq!(entry, first);
                assert_eq!(reason, "the archive lists this path twice");
            }
            other => panic!("a duplicate was accepted: {other:?}"),
        }
        assert!(!dir.path().join("pkg/codex-resources/bwrap").exists());

        // Two names that differ only by `./` name one path.
        let z = zip_with(&[
            Z::File(&runtime("bin/codex"), 0o755, b"1"),
            Z::File(&runtime("./bin/codex"), 0o755, b"2"),
        ]);
        refused("normalised duplicate", &z, ROOT, Limits::default(), "twice");
    }

    #[test]
    fn hostile_entries_are_refused() {
        let (up, escape) = crate::unpack::tar::tests::chained_links();
        let cases: Vec<(&str, Vec<u8>, Option<&str>, &str)> = vec![
            (
                "traversal",
                zip_with(&[Z::File("codex_cli_bin/../../evil", 0o644, b"x")]),
                ROOT,
                "`..`",
            ),
            (
                "traversal in a legacy zip",
                zip_with(&[Z::File("../evil.exe", 0o644, b"x")]),
                None,
                "`..`",
            ),
            (
                "absolute below the root",
                zip_with(&[Z::File("codex_cli_bin//tmp/evil", 0o644, b"x")]),
                ROOT,
                "absolute",
            ),
            (
                "absolute in a legacy zip",
                zip_with(&[Z::File("/tmp/evil", 0o644, b"x")]),
                None,
                "absolute",
            ),
            (
                "backslash",
                zip_with(&[Z::File("codex_cli_bin/..\\evil", 0o644, b"x")]),
                ROOT,
                "backslash",
            ),
            (
                "escaping symlink",
                zip_with(&[Z::Link(&runtime("bin/x"), "../../evil")]),
                ROOT,
                "outside the package",
            ),
            (
                "symlink out of the root into the dist-info",
                zip_with(&[Z::Link(
                    &runtime("record"),
                    "../openai_codex_cli_bin-0.163.0.dist-info/RECORD",
                )]),
                ROOT,
                "outside the package",
            ),
            (
                "chained symlinks",
                zip_with(&[
                    Z::Link(&runtime(&up.0), &up.1),
                    Z::Link(&runtime(&escape.0), &escape.1),
                ]),
                ROOT,
                "passes through another link",
            ),
            (
                "absolute symlink",
                zip_with(&[Z::Link(&runtime("bin/x"), "/etc/passwd")]),
                ROOT,
                "absolute",
            ),
            (
                "write through a symlink",
                zip_with(&[
                    Z::Link(&runtime("bin"), "codex-path"),
                    Z::File(&runtime("bin/codex"), 0o755, b"x"),
                ]),
                ROOT,
                "through a symbolic link",
            ),
            (
                "character device",
                zip_with(&[Z::Attrs(&runtime("dev"), 0o020644 << 16, b"")]),
                ROOT,
                "special files",
            ),
            (
                "fifo",
                zip_with(&[Z::Attrs(&runtime("fifo"), 0o010644 << 16, b"")]),
                ROOT,
                "special files",
            ),
            (
                "the root as a file",
                zip_with(&[Z::File("codex_cli_bin", 0o644, b"x")]),
                ROOT,
                "not a directory",
            ),
        ];
        for (what, bytes, root, expect) in cases {
            refused(what, &bytes, root, Limits::default(), expect);
        }
    }

    #[test]
    fn bombs_are_refused_before_writing() {
        let zeros = vec![0u8; 4096];
        let z = zip_with(&[Z::File(&runtime("bin/codex"), 0o755, &zeros)]);
        let limits = Limits {
            max_total: 1024,
            max_entry: 1024,
            max_entries: 10,
        };
        refused("bomb", &z, ROOT, limits, "decompression bomb");
        let (dir, _) = unpack(&z, ROOT, limits);
        assert!(!dir.path().join("pkg/bin/codex").exists());
    }

    #[test]
    fn skipped_entries_count_against_the_entry_limit() {
        let z = zip_with(&[
            Z::File(
                "openai_codex_cli_bin-0.163.0.dist-info/METADATA",
                0o644,
                b"m",
            ),
            Z::File("openai_codex_cli_bin-0.163.0.dist-info/RECORD", 0o644, b"r"),
            Z::File("codex_cli_bin/__init__.py", 0o644, b""),
            Z::File(&runtime("bin/codex"), 0o755, b"x"),
        ]);
        let limits = Limits {
            max_entries: 3,
            ..Limits::default()
        };
        refused("too many entries", &z, ROOT, limits, "more than 3 entries");
        let limits = Limits {
            max_entries: 4,
            ..Limits::default()
        };
        assert_eq!(unpack(&z, ROOT, limits).1.unwrap().files.len(), 1);
    }
}
