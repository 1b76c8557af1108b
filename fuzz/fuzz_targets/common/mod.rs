//! What the unpacker targets share: tar entries packed into a well-formed archive (so the
//! fuzzer spends its time on the checks rather than on header checksums), and the checks of
//! what an unpacker left behind.
#![allow(dead_code)]
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use libfuzzer_sys::arbitrary::{self, Arbitrary};

#[derive(Arbitrary, Debug)]
pub struct Entry {
    pub kind: Kind,
    pub path: Vec<u8>,
    pub link: Vec<u8>,
    pub mode: u16,
    pub data: Vec<u8>,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Kind {
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
pub fn pack(entries: &[Entry]) -> Vec<u8> {
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

/// A temp dir holding an empty destination `pkg` and an empty sibling `outside`.
pub struct Sandbox {
    pub root: tempfile::TempDir,
    pub dest: std::path::PathBuf,
    pub outside: std::path::PathBuf,
}

impl Sandbox {
    pub fn new() -> Option<Sandbox> {
        let root = tempfile::tempdir().ok()?;
        let dest = root.path().join("pkg");
        let outside = root.path().join("outside");
        std::fs::create_dir(&dest).ok()?;
        std::fs::create_dir(&outside).ok()?;
        Some(Sandbox { root, dest, outside })
    }

    /// Nothing created beside the destination (the sibling stays empty, nothing else appears
    /// in the temp dir but `extra` names), every link that resolves stays inside, and nothing
    /// is group- or world-writable.
    pub fn check(&self, extra: &[&str]) {
        let mut siblings: Vec<_> = std::fs::read_dir(self.root.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        siblings.retain(|n| !extra.contains(&n.as_str()));
        assert_eq!(siblings.len(), 2, "wrote beside the destination: {siblings:?}");
        assert!(std::fs::read_dir(&self.outside).unwrap().next().is_none(), "wrote outside the destination");
        let canonical = std::fs::canonicalize(&self.dest).unwrap();
        check_tree(&self.dest, &canonical);
    }
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

/// Every regular file under `dir`, relative with `/`, with its bytes and whether it is executable.
pub fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    let Ok(read) = std::fs::read_dir(dir) else { return };
    for e in read.flatten() {
        let path = e.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
        if meta.is_dir() {
            walk(root, &path, out);
        } else if meta.is_file() {
            let rel = path.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            out.push((rel, std::fs::read(&path).unwrap_or_default()));
        }
    }
}

/// A text of several files, each after a `==> NAME <==` line (as `head` prints them); what
/// comes before the first marker belongs to `first`. Seeds are real files joined this way.
pub fn sections<'a>(text: &'a str, first: &'a str) -> Vec<(&'a str, String)> {
    let mut out: Vec<(&str, String)> = vec![(first, String::new())];
    for line in text.split_inclusive('\n') {
        let marker = line
            .trim_end_matches(['\n', '\r'])
            .strip_prefix("==> ")
            .and_then(|l| l.strip_suffix(" <=="));
        match marker {
            Some(name) => out.push((name, String::new())),
            None => out.last_mut().unwrap().1.push_str(line),
        }
    }
    if out.len() > 1 && out[0].1.is_empty() {
        out.remove(0);
    }
    out
}
