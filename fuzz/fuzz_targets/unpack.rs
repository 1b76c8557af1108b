//! The tar unpacker's entry checks: arbitrary bytes as a tar stream never panic and never
//! create anything outside the destination (checked through a sibling directory that must stay
//! empty).
#![no_main]
use codex_bootstrap::unpack::{unpack_tar, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(root) = tempfile::tempdir() else { return };
    let dest = root.path().join("pkg");
    let outside = root.path().join("outside");
    if std::fs::create_dir(&dest).is_err() || std::fs::create_dir(&outside).is_err() {
        return;
    }
    let limits = Limits { max_total: 1 << 20, max_entry: 1 << 20, max_entries: 64 };
    let _ = unpack_tar(data, &dest, limits, "tar");
    let siblings: Vec<_> = std::fs::read_dir(root.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(siblings.len(), 2, "wrote beside the destination: {siblings:?}");
    assert!(std::fs::read_dir(&outside).unwrap().next().is_none(), "wrote outside the destination");
});
