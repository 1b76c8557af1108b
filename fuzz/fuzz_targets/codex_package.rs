//! `codex-package.json`, the package's own description of its layout, checked against what
//! was unpacked: no panic on any document, and what is accepted names an entrypoint that is a
//! relative path of plain components among the unpacked executables, and a `path_dir` that
//! is a directory inside the package.
#![no_main]
use std::path::{Component, Path};

use codex_bootstrap::pin::CodexVersion;
use codex_bootstrap::platform::Target;
use codex_bootstrap::store::receipt::FileRecord;
use codex_bootstrap::unpack::Unpacked;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(tmp) = tempfile::tempdir() else { return };
    let dir = tmp.path().join("pkg");
    std::fs::create_dir_all(dir.join("bin")).unwrap();
    std::fs::create_dir_all(dir.join("codex-path")).unwrap();
    std::fs::write(dir.join("bin/codex"), b"#!/bin/sh\n").unwrap();
    std::fs::write(dir.join("codex-package.json"), data).unwrap();
    let sha = "0".repeat(64).parse().unwrap();
    let mut unpacked = Unpacked {
        files: vec![
            FileRecord { path: "bin/codex".into(), size: 10, sha256: sha, executable: true },
            FileRecord { path: "codex-package.json".into(), size: data.len() as u64, sha256: sha, executable: false },
        ],
        unhashed: Vec::new(),
    };
    let version = CodexVersion::parse("0.163.0").unwrap();
    let target: Target = "x86_64-unknown-linux-musl".parse().unwrap();
    if let Ok((entry, path_dir)) = codex_bootstrap::fuzzing::codex_package(&dir, &mut unpacked, &version, &target) {
        assert!(Path::new(&entry).components().all(|c| matches!(c, Component::Normal(_))), "{entry:?}");
        assert!(unpacked.files.iter().any(|f| f.path == entry && f.executable), "{entry:?}");
        if let Some(p) = path_dir {
            assert!(!Path::new(&p).is_absolute() && !p.contains(".."), "{p:?}");
            let resolved = std::fs::canonicalize(dir.join(&p)).unwrap();
            assert!(resolved.starts_with(std::fs::canonicalize(&dir).unwrap()), "{p:?} leads out");
        }
    }
});
