//! The codex-package layout: what an unpacked tree must hold to be a Codex runtime.
//!
//! Package archives (GitHub's `codex-package-*`, the wheel's `codex_cli_bin/`, the npm
//! tarball's `package/vendor/<triple>/`) carry `codex-package.json`, which names the version,
//! the target and the entrypoint (`bin/codex`); [`validate_layout`] checks it against the pin.
//! Legacy single-binary assets (releases older than the package layout) are rearranged into
//! the same shape: `bin/codex[.exe]`.
//!
//! Extraction itself, and what an archive entry may be, is [`crate::unpack`]'s business.

use std::path::{Component, Path};

use crate::fs::{create_dirs, slash_path};
use crate::pin::CodexVersion;
use crate::platform::{AssetKind, Target};
use crate::store::receipt::FileRecord;
use crate::store::wheel_tree;
use crate::unpack::{UnpackError, Unpacked};
use crate::verify::Sha256;

/// `codex-package.json`, the fields we read (serde skips the others, e.g. `variant` and
/// `resourcesDir`).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PackageMetadata {
    pub layout_version: u32,
    pub version: String,
    pub target: String,
    pub entrypoint: String,
    #[serde(default)]
    pub path_dir: Option<String>,
}

/// The validated shape of an unpacked runtime.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub entrypoint: String,
    pub path_dir: Option<String>,
}

/// Check an unpacked package: `codex-package.json` names `version` and `target`, and its
/// entrypoint is an executable file. Legacy single-binary archives are rearranged into
/// `bin/codex[.exe]` first.
pub(crate) fn validate_layout(
    dir: &Path,
    unpacked: &mut Unpacked,
    kind: AssetKind,
    version: &CodexVersion,
    target: &Target,
) -> Result<Layout, UnpackError> {
    let bad = |m: String| UnpackError::Layout(m);
    if !kind.is_package() {
        return legacy_layout(dir, unpacked, target);
    }
    let meta_path = dir.join("codex-package.json");
    let text = std::fs::read(&meta_path)
        .map_err(|_| bad("`codex-package.json` is missing from the archive".into()))?;
    let meta: PackageMetadata = serde_json::from_slice(&text)
        .map_err(|e| bad(format!("`codex-package.json` is not valid: {e}")))?;
    if meta.layout_version != 1 {
        return Err(bad(format!(
            "layoutVersion {} is not supported by this codex-bootstrap (supports 1); upgrade codex-bootstrap",
            meta.layout_version
        )));
    }
    match CodexVersion::parse(&meta.version) {
        Ok(v) if &v == version => {}
        _ => {
            return Err(bad(format!(
                "`codex-package.json` says version `{}`, but {version} was pinned",
                meta.version
            )))
        }
    }
    if meta.target != target.as_str() {
        return Err(bad(format!(
            "`codex-package.json` says target `{}`, but `{target}` was requested",
            meta.target
        )));
    }
    let entry = Path::new(&meta.entrypoint);
    if entry.is_absolute()
        || entry
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Err(bad(format!(
            "entrypoint `{}` is not a relative path",
            meta.entrypoint
        )));
    }
    let entry_rel = slash_path(entry);
    let record = unpacked.files.iter().find(|f| f.path == entry_rel);
    match record {
        Some(f) if f.executable || target.is_windows() => {}
        Some(_) => return Err(bad(format!("entrypoint `{entry_rel}` is not executable"))),
        None => return Err(bad(format!("entrypoint `{entry_rel}` is missing"))),
    }
    let path_dir = meta
        .path_dir
        .filter(|p| dir.join(p).is_dir() && !p.contains("..") && !Path::new(p).is_absolute());
    Ok(Layout {
        entrypoint: entry_rel,
        path_dir,
    })
}

fn legacy_layout(
    dir: &Path,
    unpacked: &mut Unpacked,
    target: &Target,
) -> Result<Layout, UnpackError> {
    let bad = |m: String| UnpackError::Layout(m);
    if unpacked.files.len() != 1 {
        return Err(bad(format!(
            "a legacy asset must hold exactly one binary, found {} files",
            unpacked.files.len()
        )));
    }
    let entrypoint = format!("bin/{}", target.exe_name("codex"));
    let from = dir.join(&unpacked.files[0].path);
    let to = dir.join(&entrypoint);
    let write_err = |source| UnpackError::Write {
        path: to.clone(),
        source,
    };
    create_dirs(&dir.join("bin")).map_err(write_err)?;
    std::fs::rename(&from, &to).map_err(write_err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o755)).map_err(write_err)?;
    }
    unpacked.files[0].path = entrypoint.clone();
    unpacked.files[0].executable = true;
    Ok(Layout {
        entrypoint,
        path_dir: None,
    })
}

/// Give each file a wheel's unpack wrote without hashing ([`Unpacked::unhashed`]) the
/// sha256 the wheel's RECORD lists for it, once the wheel's own sha256 has matched an
/// independent pin (`install::wheel_hashing` says why that is as strong as hashing it).
/// The RECORD line must be one line for that path, with a well-formed `sha256=` and the size
/// the file was unpacked with (a different size is refused); a file RECORD lists twice, or
/// without a well-formed digest or size, is hashed from `pkg` instead; a file RECORD does not
/// list is refused, as [`validate_wheel_tree`] refuses it.
pub fn digests_from_record(pkg: &Path, unpacked: &mut Unpacked) -> Result<(), UnpackError> {
    if unpacked.unhashed.is_empty() {
        return Ok(());
    }
    let bad = UnpackError::Layout;
    let all = unpacked.files.iter().map(|f| f.path.as_str());
    let dist_info =
        wheel_tree::dist_info_of(all.chain(unpacked.unhashed.iter().map(|u| u.path.as_str())))
            .ok_or_else(|| bad("the wheel has no `*.dist-info/RECORD`".into()))?;
    let record_path = format!("{dist_info}/RECORD");
    let record = std::fs::read_to_string(pkg.join(&record_path))
        .map_err(|e| bad(format!("`{record_path}` is unreadable: {e}")))?;
    let lines = wheel_tree::record_lines(&record);
    for u in std::mem::take(&mut unpacked.unhashed) {
        let mut listed = lines.iter().filter(|l| l.path == u.path);
        let (first, second) = (listed.next(), listed.next());
        let Some(line) = first else {
            return Err(bad(format!(
                "`{}` is in the wheel but not in its RECORD",
                u.path
            )));
        };
        let sha256 = match (line.sha256, line.size, second) {
            (Some(sha256), Some(size), None) if size == u.size => sha256,
            (Some(_), Some(_), None) => {
                return Err(bad(format!(
                    "`{}` does not have the size the wheel's RECORD lists",
                    u.path
                )))
            }
            // Listed twice, or without a well-formed digest or size: its own bytes decide.
            _ => hash_file(&pkg.join(&u.path))?,
        };
        unpacked.files.push(FileRecord {
            path: u.path,
            size: u.size,
            sha256,
            executable: u.executable,
        });
    }
    unpacked.files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(())
}

/// The directory inside a plain install's staging dir that a wheel is unpacked into as it
/// downloads, before its package is moved up ([`hoist_wheel_package`]).
pub(crate) const WHEEL_SUBDIR: &str = ".wheel";

/// A plain install from a wheel: the runtime is the wheel's `codex_cli_bin/` package. The wheel
/// was unpacked whole into `tree` (`<pkg>/.wheel`, as it downloaded) and checked as a wheel tree
/// ([`validate_wheel_tree`], which gave `layout`); now the package's entries move up into
/// `pkg` (renames), the rest (`*.dist-info/`, the module's `__init__.py` and `__pycache__/`) is
/// removed, and `unpacked` and the layout lose the `codex_cli_bin/` prefix. A wheel holds
/// regular files only (the streamed unpack refuses anything else), so no link can point from
/// the package into what is removed.
pub(crate) fn hoist_wheel_package(
    pkg: &Path,
    tree: &Path,
    unpacked: &mut Unpacked,
    layout: Layout,
) -> Result<Layout, UnpackError> {
    let module = tree.join(wheel_tree::MODULE_DIR);
    let prefix = format!("{}/", wheel_tree::MODULE_DIR);
    let skipped = |rel: &str| rel == "__init__.py" || rel.split('/').next() == Some("__pycache__");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| UnpackError::Write {
            path: path.clone(),
            source,
        }
    };
    let entries = std::fs::read_dir(&module).map_err(io(&module))?;
    for entry in entries {
        let entry = entry.map_err(io(&module))?;
        let name = entry.file_name();
        if skipped(&name.to_string_lossy()) {
            continue;
        }
        let to = pkg.join(&name);
        std::fs::rename(entry.path(), &to).map_err(io(&to))?;
    }
    std::fs::remove_dir_all(tree).map_err(io(tree))?;
    // The entries' new names are durable before the receipt is written.
    crate::fs::sync_dir(pkg);
    let strip = |p: &str| p.strip_prefix(&prefix).map(str::to_string);
    unpacked.files = std::mem::take(&mut unpacked.files)
        .into_iter()
        .filter_map(|f| {
            let path = strip(&f.path).filter(|p| !skipped(p))?;
            Some(FileRecord { path, ..f })
        })
        .collect();
    Ok(Layout {
        entrypoint: strip(&layout.entrypoint).unwrap_or(layout.entrypoint),
        path_dir: layout.path_dir.and_then(|p| strip(&p)),
    })
}

/// The sha256 of a file just unpacked.
pub(crate) fn hash_file(path: &Path) -> Result<Sha256, UnpackError> {
    let read = |source| UnpackError::Write {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(read)?;
    Ok(crate::verify::HashingReader::new(file)
        .finish()
        .map_err(read)?
        .0)
}

/// Check an unpacked wheel: its `*.dist-info/` has WHEEL and a RECORD that lists every file
/// with the sha256 it was unpacked with, and its `codex_cli_bin/` is a valid package. The
/// layout's paths are relative to the tree (`codex_cli_bin/bin/codex`).
pub fn validate_wheel_tree(
    pkg: &Path,
    unpacked: &mut Unpacked,
    version: &CodexVersion,
    target: &Target,
) -> Result<Layout, UnpackError> {
    let bad = UnpackError::Layout;
    if let Some(u) = unpacked.unhashed.first() {
        // `digests_from_record` runs first; a file without a digest must not reach a receipt.
        return Err(bad(format!("`{}` was unpacked without a digest", u.path)));
    }
    let prefix = format!("{}/", wheel_tree::MODULE_DIR);
    let dist_info = wheel_tree::dist_info_of(unpacked.files.iter().map(|f| f.path.as_str()))
        .ok_or_else(|| bad("the wheel has no `*.dist-info/RECORD`".into()))?;
    if !unpacked
        .files
        .iter()
        .any(|f| f.path == format!("{dist_info}/WHEEL"))
    {
        return Err(bad(format!("the wheel has no `{dist_info}/WHEEL`")));
    }
    let record_path = format!("{dist_info}/RECORD");
    let record = std::fs::read_to_string(pkg.join(&record_path))
        .map_err(|e| bad(format!("`{record_path}` is unreadable: {e}")))?;
    let listed = wheel_tree::parse_record(&record);
    for f in unpacked.files.iter().filter(|f| f.path != record_path) {
        match listed.iter().find(|(p, _)| *p == f.path) {
            Some((_, Some(h))) if *h == f.sha256.to_base64url() => {}
            Some((_, None)) => {}
            Some(_) => {
                return Err(bad(format!(
                    "`{}` does not have the sha256 the wheel's RECORD lists",
                    f.path
                )))
            }
            None => {
                return Err(bad(format!(
                    "`{}` is in the wheel but not in its RECORD",
                    f.path
                )))
            }
        }
    }
    let mut package = Unpacked {
        files: unpacked
            .files
            .iter()
            .filter_map(|f| {
                f.path.strip_prefix(&prefix).map(|p| FileRecord {
                    path: p.to_string(),
                    ..f.clone()
                })
            })
            .collect(),
        unhashed: Vec::new(),
    };
    let layout = validate_layout(
        &pkg.join(wheel_tree::MODULE_DIR),
        &mut package,
        AssetKind::PackageTarZst,
        version,
        target,
    )?;
    Ok(Layout {
        entrypoint: format!("{prefix}{}", layout.entrypoint),
        path_dir: layout.path_dir.map(|p| format!("{prefix}{p}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FileRecord;

    const TARGET: &str = "x86_64-unknown-linux-musl";

    fn record(path: &str, executable: bool) -> FileRecord {
        FileRecord {
            path: path.into(),
            size: 1,
            sha256: Sha256::of(path.as_bytes()),
            executable,
        }
    }

    /// A package directory with `codex-package.json` holding `meta`, and `codex-path/`.
    fn package(meta: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("codex-package.json"), meta).unwrap();
        std::fs::create_dir(dir.path().join("codex-path")).unwrap();
        dir
    }

    fn meta(version: &str, target: &str, entrypoint: &str) -> String {
        format!(
            r#"{{"layoutVersion":1,"version":"{version}","target":"{target}","variant":"codex","entrypoint":"{entrypoint}","resourcesDir":"codex-resources","pathDir":"codex-path"}}"#
        )
    }

    fn validate(
        dir: &Path,
        files: Vec<FileRecord>,
        kind: AssetKind,
    ) -> Result<Layout, UnpackError> {
        let version = CodexVersion::parse("0.163.0").unwrap();
        let target: Target = TARGET.parse().unwrap();
        let mut unpacked = Unpacked {
            files,
            unhashed: Vec::new(),
        };
        validate_layout(dir, &mut unpacked, kind, &version, &target)
    }

    /// A wheel tree in a temp dir: `files` written, RECORD as given, all of them unhashed.
    fn unhashed_tree(files: &[(&str, &[u8])], record: &str) -> (tempfile::TempDir, Unpacked) {
        let dir = tempfile::tempdir().unwrap();
        let mut unpacked = Unpacked::default();
        let all = files
            .iter()
            .copied()
            .chain([("w-1.dist-info/RECORD", record.as_bytes())]);
        for (path, data) in all {
            let p = dir.path().join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, data).unwrap();
            unpacked.unhashed.push(crate::unpack::Unhashed {
                path: path.into(),
                size: data.len() as u64,
                executable: false,
            });
        }
        (dir, unpacked)
    }

    fn line(path: &str, sha256: &Sha256, size: usize) -> String {
        format!("{path},sha256={},{size}\n", sha256.to_base64url())
    }

    #[test]
    fn record_digests_are_taken_when_well_formed_and_hashed_otherwise() {
        let told = Sha256::of(b"what RECORD says");
        let record = format!(
            "{}{}c,sha256=bad,1\n{}{}w-1.dist-info/RECORD,,\n",
            line("a", &told, 1),
            line("b", &told, 1),
            line("d", &told, 1),
            line("d", &told, 1),
        );
        let (dir, mut unpacked) = unhashed_tree(
            &[("a", b"1"), ("b", b"2"), ("c", b"3"), ("d", b"4")],
            &record,
        );
        digests_from_record(dir.path(), &mut unpacked).unwrap();
        assert!(unpacked.unhashed.is_empty());
        let got: Vec<_> = unpacked
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256))
            .collect();
        assert_eq!(
            got,
            [
                // Well formed: RECORD's word (the wheel's pin fixed it).
                ("a", told),
                ("b", told),
                // A malformed digest, a path listed twice: the bytes' own.
                ("c", Sha256::of(b"3")),
                ("d", Sha256::of(b"4")),
                ("w-1.dist-info/RECORD", Sha256::of(record.as_bytes())),
            ]
        );
    }

    #[test]
    fn record_digests_refuse_another_size_or_a_file_not_listed() {
        let d = Sha256::of(b"1");
        let (dir, mut unpacked) = unhashed_tree(
            &[("a", b"1")],
            &format!("{}w-1.dist-info/RECORD,,\n", line("a", &d, 2)),
        );
        let err = digests_from_record(dir.path(), &mut unpacked).unwrap_err();
        assert!(
            err.to_string().contains("size the wheel's RECORD lists"),
            "{err}"
        );

        let (dir, mut unpacked) = unhashed_tree(
            &[("a", b"1"), ("b", b"2")],
            &format!("{}w-1.dist-info/RECORD,,\n", line("a", &d, 1)),
        );
        let err = digests_from_record(dir.path(), &mut unpacked).unwrap_err();
        assert!(
            err.to_string()
                .contains("`b` is in the wheel but not in its RECORD"),
            "{err}"
        );

        // Nothing without a digest gets past the tree's validation.
        let mut left = Unpacked::default();
        left.unhashed.push(crate::unpack::Unhashed {
            path: "a".into(),
            size: 1,
            executable: false,
        });
        let version = CodexVersion::parse("0.163.0").unwrap();
        let target: Target = TARGET.parse().unwrap();
        let err = validate_wheel_tree(dir.path(), &mut left, &version, &target).unwrap_err();
        assert!(err.to_string().contains("without a digest"), "{err}");
    }

    #[test]
    fn a_package_naming_the_pin_is_valid_whatever_its_container() {
        let dir = package(&meta("0.163.0", TARGET, "bin/codex"));
        for kind in [
            AssetKind::PackageTarZst,
            AssetKind::PackageTarGz,
            AssetKind::Wheel,
            AssetKind::NpmTarball,
        ] {
            let layout = validate(dir.path(), vec![record("bin/codex", true)], kind).unwrap();
            assert_eq!(layout.entrypoint, "bin/codex");
            assert_eq!(layout.path_dir.as_deref(), Some("codex-path"));
        }
    }

    #[test]
    fn a_package_that_is_not_the_pinned_runtime_is_refused() {
        let cases = [
            (
                meta("0.162.0", TARGET, "bin/codex"),
                "says version `0.162.0`",
            ),
            (
                meta("0.163.0", "aarch64-apple-darwin", "bin/codex"),
                "says target",
            ),
            (
                meta("0.163.0", TARGET, "/bin/codex"),
                "is not a relative path",
            ),
            (
                meta("0.163.0", TARGET, "../bin/codex"),
                "is not a relative path",
            ),
            (
                meta("0.163.0", TARGET, "bin/other"),
                "`bin/other` is missing",
            ),
            (
                meta("0.163.0", TARGET, "bin/helper"),
                "`bin/helper` is not executable",
            ),
            (
                meta("0.163.0", TARGET, "bin/codex")
                    .replace(r#""layoutVersion":1"#, r#""layoutVersion":2"#),
                "layoutVersion 2 is not supported",
            ),
            ("{".into(), "`codex-package.json` is not valid"),
        ];
        for (meta, expect) in cases {
            let dir = package(&meta);
            let files = vec![record("bin/codex", true), record("bin/helper", false)];
            match validate(dir.path(), files, AssetKind::PackageTarZst) {
                Err(UnpackError::Layout(m)) => assert!(m.contains(expect), "{m}"),
                other => panic!("{expect}: {other:?}"),
            }
        }
        let empty = tempfile::tempdir().unwrap();
        let r = validate(empty.path(), vec![], AssetKind::NpmTarball);
        assert!(matches!(r, Err(UnpackError::Layout(m)) if m.contains("missing")));
    }

    #[test]
    fn a_legacy_binary_becomes_bin_codex() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(format!("codex-{TARGET}")), b"elf").unwrap();
        let version = CodexVersion::parse("0.163.0").unwrap();
        let target: Target = TARGET.parse().unwrap();
        let mut unpacked = Unpacked {
            files: vec![record(&format!("codex-{TARGET}"), false)],
            unhashed: Vec::new(),
        };
        let layout = validate_layout(
            dir.path(),
            &mut unpacked,
            AssetKind::LegacyTarGz,
            &version,
            &target,
        )
        .unwrap();
        assert_eq!(layout.entrypoint, "bin/codex");
        assert_eq!(unpacked.files[0].path, "bin/codex");
        assert!(unpacked.files[0].executable);
        assert_eq!(std::fs::read(dir.path().join("bin/codex")).unwrap(), b"elf");

        let two = vec![record("a", true), record("b", true)];
        let r = validate(dir.path(), two, AssetKind::LegacyTarGz);
        assert!(matches!(r, Err(UnpackError::Layout(m)) if m.contains("exactly one binary")));
    }
}
