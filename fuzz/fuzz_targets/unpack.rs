//! The tar unpacker's entry checks. The input is either raw bytes read as a tar stream, or a
//! list of entries (any path, link name, type and mode) packed into a well-formed tar, so the
//! fuzzer spends its time on the checks rather than on header checksums; it is unpacked whole,
//! or (as an npm tarball is) only below a member root. Whatever the input:
//! no panic, nothing created beside the destination (a sibling directory must stay empty),
//! every link that resolves stays inside, and nothing is group- or world-writable.
#![no_main]
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use codex_bootstrap::unpack::{unpack_tar, Limits};
use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;

/// An npm tarball's member root, as the installer passes it.
const NPM_ROOT: &str = "package/vendor/x86_64-unknown-linux-musl/";

#[derive(Arbitrary, Debug)]
struct Case {
    npm: bool,
    input: Input,
}

#[derive(Arbitrary, Debug)]
enum Input {
    Raw(Vec<u8>),
    Entries(Vec<Entry>),
}

#[derive(Arbitrary, Debug)]
struct Entry {
    kind: Kind,
    path: Vec<u8>,
    link: Vec<u8>,
    mode: u16,
    data: Vec<u8>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Kind {
    File,
    Dir,
    Symlink,
    HardLink,
    Char,
    Block,
    Fifo,
    Continuous,
    Other(u8),
}

impl Kind {
    fn byte(self) -> u8 {
        match self {
            Kind::File => b'0',
            Kind::HardLink => b'1',
            Kind::Symlink => b'2',
            Kind::Char => b'3',
            Kind::Block => b'4',
            Kind::Dir => b'5',
            Kind::Fifo => b'6',
            Kind::Continuous => b'7',
            Kind::Other(b) => b,
        }
    }
}

/// A GNU tar with the entries as given: names longer than the header field go through GNU
/// long-name and long-link records, as real archivers write them.
fn pack(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        if e.path.len() > 100 {
            long_record(&mut out, b'L', &e.path);
        }
        if e.link.len() > 100 {
            long_record(&mut out, b'K', &e.link);
        }
        let mut h = tar::Header::new_gnu();
        {
            let old = h.as_old_mut();
            let n = e.path.len().min(100);
            old.name[..n].copy_from_slice(&e.path[..n]);
            let n = e.link.len().min(100);
            old.linkname[..n].copy_from_slice(&e.link[..n]);
        }
        h.set_entry_type(tar::EntryType::new(e.kind.byte()));
        h.set_mode(u32::from(e.mode));
        h.set_size(e.data.len() as u64);
        h.set_cksum();
        out.extend_from_slice(h.as_bytes());
        block(&mut out, &e.data);
    }
    out.extend_from_slice(&[0; 1024]);
    out
}

fn long_record(out: &mut Vec<u8>, ty: u8, name: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
    h.set_entry_type(tar::EntryType::new(ty));
    h.set_size(name.len() as u64 + 1);
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    let mut data = name.to_vec();
    data.push(0);
    block(out, &data);
}

/// `data` padded to the 512-byte record size.
fn block(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn check_tree(dir: &Path, root: &Path) {
    let Ok(read) = std::fs::read_dir(dir) else { return };
    for e in read.flatten() {
        let path = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.file_type().is_symlink() {
            if let Ok(resolved) = std::fs::canonicalize(&path) {
                assert!(resolved.starts_with(root), "{} leads out to {}", path.display(), resolved.display());
            }
            continue;
        }
        assert_eq!(meta.permissions().mode() & 0o022, 0, "{} is writable by others", path.display());
        if meta.is_dir() {
            check_tree(&path, root);
        }
    }
}

fuzz_target!(|case: Case| {
    let bytes = match &case.input {
        Input::Raw(b) => b.clone(),
        Input::Entries(e) => pack(e),
    };
    let Ok(root) = tempfile::tempdir() else { return };
    let dest = root.path().join("pkg");
    let outside = root.path().join("outside");
    if std::fs::create_dir(&dest).is_err() || std::fs::create_dir(&outside).is_err() {
        return;
    }
    let limits = Limits { max_total: 1 << 20, max_entry: 1 << 20, max_entries: 64 };
    let member_root = case.npm.then_some(NPM_ROOT);
    let _ = unpack_tar(bytes.as_slice(), &dest, limits, "tar", member_root);
    let siblings: Vec<_> = std::fs::read_dir(root.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(siblings.len(), 2, "wrote beside the destination: {siblings:?}");
    assert!(std::fs::read_dir(&outside).unwrap().next().is_none(), "wrote outside the destination");
    let canonical = std::fs::canonicalize(&dest).unwrap();
    check_tree(&dest, &canonical);
});
