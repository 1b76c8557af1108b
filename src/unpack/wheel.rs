//! A wheel tree unpacked while the wheel downloads, its entries inflated in parallel.
//!
//! The runtime's wheel is a few entries, one of them 80% of the bytes (`bin/codex`), and
//! inflating is the slow step: slower than the download on a fast network. Read in order from
//! the stream, every entry waits for the one before it. Here one thread walks the local file
//! headers as the download reaches them (each header gives the next one's offset) and judges
//! each entry by the same [`State`] policy as every archive; a small pool inflates the entries,
//! each from its own range of the `.partial` file the download is writing ([`Growing`]), with
//! its CRC-32 and size checked, and writes and hashes it through its own [`Writer`].
//!
//! Local headers carry no file modes: [`super::reconcile_streamed_wheel`] applies them from the
//! central directory once the whole file is there, and checks that it lists exactly what was
//! unpacked. An entry whose sizes follow its data (a data descriptor) is refused: without them
//! the next header cannot be found until the entry is inflated.

use std::collections::HashMap;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

use super::growing::Growing;
use super::policy::State;
use super::writer::Writer;
use super::{Hashing, Limits, UnpackError, Unpacked};
use crate::verify::Sha256;

/// Threads that inflate entries. Two cores are common; the largest entry takes one of them,
/// and the rest of the wheel and the download share the other.
const INFLATERS: usize = 2;

/// Read-ahead of the compressed bytes of one entry.
const READ_BUFFER: usize = 256 << 10;

const LOCAL_HEADER: u32 = 0x0403_4b50;
const CENTRAL_HEADER: u32 = 0x0201_4b50;
const END_OF_CENTRAL_DIRECTORY: u32 = 0x0605_4b50;
const ZIP64_EXTRA: u16 = 0x0001;
/// General purpose flags: bit 0 encrypted, bit 3 sizes in a data descriptor, bit 11 UTF-8.
const ENCRYPTED: u16 = 1;
const DATA_DESCRIPTOR: u16 = 1 << 3;
pub(super) const STORED: u16 = 0;
pub(super) const DEFLATED: u16 = 8;

/// One entry's data, for an inflater.
struct Entry {
    rel: PathBuf,
    name: String,
    data: u64,
    compressed: u64,
    size: u64,
    deflated: bool,
    crc32: u32,
    /// Whether its sha256 is computed as it is written ([`Hashing`]).
    hash: bool,
}

/// Unpack every entry of the wheel that `file` is receiving into `dest` (a wheel tree:
/// `codex_cli_bin/`, `*.dist-info/`), files without their executable bits. The entries
/// `hashing` leaves out are written unhashed, and listed in [`Unpacked::unhashed`]: each is
/// still checked against its CRC-32 and size.
pub fn unpack_wheel_growing(
    file: &Arc<Growing>,
    dest: &Path,
    limits: Limits,
    hashing: &Hashing,
) -> Result<Unpacked, UnpackError> {
    let (tx, rx) = mpsc::sync_channel::<Entry>(0);
    let rx = Arc::new(Mutex::new(rx));
    let failed = Arc::new(AtomicBool::new(false));
    let inflaters: Vec<_> = (0..INFLATERS)
        .map(|_| {
            let (file, rx, failed, dest) = (
                Arc::clone(file),
                Arc::clone(&rx),
                Arc::clone(&failed),
                dest.to_path_buf(),
            );
            super::spawn_named("inflate", move || {
                let result = inflate_entries(&file, &rx, &dest);
                if result.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                result
            })
        })
        .collect();
    // Only the inflaters may hold the receiver: once every one has failed and dropped it, a
    // send fails instead of waiting forever for an inflater that is gone.
    drop(rx);
    let mut state = State::new(dest, limits);
    let walked = walk(file, &mut state, hashing, |entry| {
        // Every inflater gone means each has failed; its error is collected below.
        !failed.load(Ordering::Relaxed) && tx.send(entry).is_ok()
    });
    drop(tx);
    let mut digests = HashMap::new();
    let mut first_error = walked.err();
    for handle in inflaters {
        let result = match handle.join() {
            Ok(r) => r,
            Err(payload) => Err(UnpackError::panicked("inflater", payload)),
        };
        match result {
            Ok(d) => digests.extend(d),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    state.finish_with(digests, *hashing != Hashing::Every)
}

/// Walk the local headers from the start of the file, judging each entry and handing files to
/// `dispatch` (false: stop, the inflaters have failed).
fn walk(
    file: &Arc<Growing>,
    state: &mut State,
    hashing: &Hashing,
    mut dispatch: impl FnMut(Entry) -> bool,
) -> Result<(), UnpackError> {
    let mut read_at =
        |at: u64, buf: &mut [u8]| read_full(&mut file.reader(at, buf.len() as u64), buf);
    let mut offset = 0u64;
    while let Some(header) = local_header(&mut read_at, offset)? {
        offset = header.next;
        let LocalHeader { name, .. } = &header;
        let is_dir = name.ends_with('/');
        let Some(path) = state.member(name, None, is_dir)? else {
            continue;
        };
        let rel = state.enclosed(path, name)?;
        if is_dir {
            state.dir(&rel, name)?;
            continue;
        }
        state.declare(&rel, name, header.size, false)?;
        let hash = hashing.hashes(name);
        let entry = Entry {
            rel,
            name: header.name,
            data: header.data,
            compressed: header.compressed,
            size: header.size,
            deflated: header.method == DEFLATED,
            crc32: header.crc32,
            hash,
        };
        if !dispatch(entry) {
            return Ok(());
        }
    }
    Ok(())
}

/// Fill what it can of a buffer from a position of the file; how much that was.
pub(super) type ReadAt<'a> = dyn FnMut(u64, &mut [u8]) -> Result<usize, UnpackError> + 'a;

/// One local file header, as the walk reads it: what the streamed path trusts about an entry.
#[derive(Debug)]
pub(super) struct LocalHeader {
    pub(super) name: String,
    /// Stored or deflated; nothing else is accepted.
    pub(super) method: u16,
    pub(super) crc32: u32,
    pub(super) compressed: u64,
    pub(super) size: u64,
    /// Where the entry's data starts, and where the next header is.
    pub(super) data: u64,
    pub(super) next: u64,
}

/// The local header at `offset`, read with `read_at` (which fills what it can of a buffer from
/// a position and says how much), or `None` where the central directory starts. An entry the
/// streamed path cannot trust (encrypted, sizes after the data, another compression method) is
/// refused here.
pub(super) fn local_header(
    read_at: &mut ReadAt<'_>,
    offset: u64,
) -> Result<Option<LocalHeader>, UnpackError> {
    let mut fixed = [0u8; 30];
    let got = read_at(offset, &mut fixed)?;
    let signature = (got >= 4).then(|| u32_at(&fixed, 0));
    match signature {
        Some(LOCAL_HEADER) if got == 30 => {}
        Some(CENTRAL_HEADER | END_OF_CENTRAL_DIRECTORY) => return Ok(None),
        _ => return Err(not_a_zip("a local file header is missing or cut short")),
    }
    let flags = u16_at(&fixed, 6);
    let method = u16_at(&fixed, 8);
    let name_len = u64::from(u16_at(&fixed, 26));
    let extra_len = u64::from(u16_at(&fixed, 28));
    let mut variable = vec![0u8; (name_len + extra_len) as usize];
    if read_at(offset + 30, &mut variable)? != variable.len() {
        return Err(not_a_zip("a local file header is cut short"));
    }
    let (name, extra) = variable.split_at(name_len as usize);
    let name = String::from_utf8(name.to_vec())
        .map_err(|_| not_a_zip("an entry's name is not UTF-8, as a wheel's must be"))?;
    let refuse = |reason| UnpackError::Refused {
        entry: name.clone(),
        reason,
    };
    if flags & ENCRYPTED != 0 {
        return Err(refuse("the entry is encrypted"));
    }
    if flags & DATA_DESCRIPTOR != 0 {
        return Err(refuse(
            "its sizes follow its data (a data descriptor), so it cannot be unpacked as it downloads",
        ));
    }
    if method != STORED && method != DEFLATED {
        return Err(refuse(
            "the entry's compression method is not stored or deflate",
        ));
    }
    let (size, compressed) =
        sizes(&fixed, extra).ok_or_else(|| refuse("a zip64 size is missing"))?;
    let data = offset + 30 + name_len + extra_len;
    let next = data
        .checked_add(compressed)
        .ok_or_else(|| refuse("the entry's size is out of range"))?;
    Ok(Some(LocalHeader {
        name,
        method,
        crc32: u32_at(&fixed, 14),
        compressed,
        size,
        data,
        next,
    }))
}

/// An inflater: take entries until there are none, inflate and write each.
fn inflate_entries(
    file: &Arc<Growing>,
    entries: &Mutex<Receiver<Entry>>,
    dest: &Path,
) -> Result<HashMap<PathBuf, Sha256>, UnpackError> {
    let mut writer = Writer::spawn(dest.to_path_buf());
    loop {
        let next = entries.lock().unwrap_or_else(|e| e.into_inner()).recv();
        let Ok(entry) = next else {
            return writer.join();
        };
        let raw = BufReader::with_capacity(READ_BUFFER, file.reader(entry.data, entry.compressed));
        let mut data = Crc32Reader {
            inner: if entry.deflated {
                Box::new(flate2::bufread::DeflateDecoder::new(raw)) as Box<dyn Read>
            } else {
                Box::new(raw)
            },
            crc: crc32fast::Hasher::new(),
        };
        writer.create(&entry.rel, false, entry.hash)?;
        // At most one byte past the declared size, so an entry that lies about it is caught.
        let written = writer.pump(&mut data, entry.size + 1)?;
        if written != entry.size {
            return Err(UnpackError::Refused {
                entry: entry.name,
                reason: "the entry's data does not match its declared size",
            });
        }
        if data.crc.clone().finalize() != entry.crc32 {
            return Err(UnpackError::Refused {
                entry: entry.name,
                reason: "the entry's data does not match its CRC-32",
            });
        }
        writer.close()?;
    }
}

/// The uncompressed and compressed sizes of an entry: the header's, or its zip64 extra field's
/// where the header says 0xFFFFFFFF.
fn sizes(fixed: &[u8; 30], mut extra: &[u8]) -> Option<(u64, u64)> {
    let (size, compressed) = (u32_at(fixed, 22), u32_at(fixed, 18));
    if size != u32::MAX && compressed != u32::MAX {
        return Some((u64::from(size), u64::from(compressed)));
    }
    while extra.len() >= 4 {
        let (id, len) = (u16_at(extra, 0), usize::from(u16_at(extra, 2)));
        let body = extra.get(4..4 + len)?;
        if id == ZIP64_EXTRA {
            // The 64-bit values present are those whose 32-bit field is 0xFFFFFFFF, in order.
            let mut values = body
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()));
            let size = if size == u32::MAX {
                values.next()?
            } else {
                u64::from(size)
            };
            let compressed = if compressed == u32::MAX {
                values.next()?
            } else {
                u64::from(compressed)
            };
            return Some((size, compressed));
        }
        extra = &extra[4 + len..];
    }
    None
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn not_a_zip(why: &'static str) -> UnpackError {
    UnpackError::Corrupt {
        kind: "zip",
        source: io::Error::new(io::ErrorKind::InvalidData, why),
    }
}

/// Fill `buf` as far as the file allows; how many bytes that was.
pub(super) fn read_full(r: &mut impl Read, buf: &mut [u8]) -> Result<usize, UnpackError> {
    super::writer::read_full(r, buf).map_err(|source| UnpackError::Corrupt {
        kind: "zip",
        source,
    })
}

/// The bytes of an entry, with their CRC-32 kept as they pass.
struct Crc32Reader {
    inner: Box<dyn Read>,
    crc: crc32fast::Hasher,
}

impl Read for Crc32Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.crc.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ::zip::write::SimpleFileOptions;
    use std::io::Write;

    /// A zip of `entries`, written with its sizes in the local headers (as wheels are).
    fn zip_of(entries: &[(&str, &[u8])], opts: SimpleFileOptions) -> Vec<u8> {
        let mut z = ::zip::ZipWriter::new(io::Cursor::new(Vec::new()));
        for (name, data) in entries {
            z.start_file(*name, opts).unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    /// A zip of one entry whose sizes follow its data (written to a stream that cannot seek).
    fn streamed_zip_of(name: &str, data: &[u8]) -> Vec<u8> {
        let mut z = ::zip::ZipWriter::new_stream(Vec::new());
        z.start_file(name, deflated()).unwrap();
        z.write_all(data).unwrap();
        z.finish().unwrap().into_inner()
    }

    /// Unpack `bytes` as a download would deliver them: appended to the partial in `pieces`
    /// slices by another thread, each published once it is written.
    fn unpack_arriving(
        bytes: &[u8],
        pieces: usize,
    ) -> (tempfile::TempDir, Result<Unpacked, UnpackError>) {
        let dir = tempfile::tempdir().unwrap();
        let partial = dir.path().join("w.whl.partial");
        let dest = dir.path().join("tree");
        std::fs::create_dir(&dest).unwrap();
        let mut f = std::fs::File::create(&partial).unwrap();
        let growing = Growing::new(std::fs::File::open(&partial).unwrap());
        let writer = {
            let (growing, bytes) = (Arc::clone(&growing), bytes.to_vec());
            std::thread::spawn(move || {
                let step = bytes.len().div_ceil(pieces).max(1);
                let mut written = 0;
                for piece in bytes.chunks(step) {
                    f.write_all(piece).unwrap();
                    written += piece.len() as u64;
                    growing.publish(written);
                    std::thread::yield_now();
                }
                growing.complete();
            })
        };
        let r = unpack_wheel_growing(&growing, &dest, Limits::default(), &Hashing::Every);
        writer.join().unwrap();
        (dir, r)
    }

    fn deflated() -> SimpleFileOptions {
        SimpleFileOptions::default().compression_method(::zip::CompressionMethod::Deflated)
    }

    #[test]
    fn entries_arriving_piece_by_piece_unpack_whole() {
        let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let z = zip_of(
            &[
                ("codex_cli_bin/__init__.py", b"import os\n"),
                ("codex_cli_bin/bin/codex", &big),
                ("codex_cli_bin/codex-path/rg", b"rg"),
                ("openai_codex_cli_bin-0.163.0.dist-info/RECORD", b"r"),
            ],
            deflated(),
        );
        let (dir, r) = unpack_arriving(&z, 97);
        let unpacked = r.unwrap();
        let tree = dir.path().join("tree");
        assert_eq!(
            std::fs::read(tree.join("codex_cli_bin/bin/codex")).unwrap(),
            big
        );
        let codex = unpacked
            .files
            .iter()
            .find(|f| f.path == "codex_cli_bin/bin/codex")
            .unwrap();
        assert_eq!(codex.sha256, Sha256::of(&big));
        assert_eq!(codex.size, big.len() as u64);
        let paths: Vec<_> = unpacked.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "codex_cli_bin/__init__.py",
                "codex_cli_bin/bin/codex",
                "codex_cli_bin/codex-path/rg",
                "openai_codex_cli_bin-0.163.0.dist-info/RECORD"
            ]
        );
    }

    #[test]
    fn only_the_entries_named_are_hashed_the_others_listed_unhashed() {
        let z = zip_of(
            &[
                ("codex_cli_bin/bin/codex", b"the runtime"),
                ("codex_cli_bin/codex-path/rg", b"rg"),
            ],
            deflated(),
        );
        let dir = tempfile::tempdir().unwrap();
        let whl = dir.path().join("w.whl");
        std::fs::write(&whl, &z).unwrap();
        let dest = dir.path().join("tree");
        std::fs::create_dir(&dest).unwrap();
        let growing = Growing::whole(std::fs::File::open(&whl).unwrap());
        let only = Hashing::Only(vec!["codex_cli_bin/bin/codex".into()]);
        let unpacked = unpack_wheel_growing(&growing, &dest, Limits::default(), &only).unwrap();
        let hashed: Vec<_> = unpacked
            .files
            .iter()
            .map(|f| (f.path.as_str(), f.sha256))
            .collect();
        assert_eq!(
            hashed,
            [("codex_cli_bin/bin/codex", Sha256::of(b"the runtime"))]
        );
        assert_eq!(
            unpacked.unhashed,
            [super::super::Unhashed {
                path: "codex_cli_bin/codex-path/rg".into(),
                size: 2,
                executable: false,
            }]
        );
        // Written all the same, its CRC-32 and size checked.
        assert_eq!(
            std::fs::read(dest.join("codex_cli_bin/codex-path/rg")).unwrap(),
            b"rg"
        );
    }

    #[test]
    fn stored_and_zip64_entries_unpack() {
        let opts = SimpleFileOptions::default()
            .compression_method(::zip::CompressionMethod::Stored)
            .large_file(true);
        let z = zip_of(&[("codex_cli_bin/bin/codex", b"#!/bin/sh\n")], opts);
        assert_eq!(z[18..26], [0xff; 8], "sizes in the zip64 extra field");
        let (dir, r) = unpack_arriving(&z, 3);
        r.unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("tree/codex_cli_bin/bin/codex")).unwrap(),
            b"#!/bin/sh\n"
        );
    }

    #[test]
    fn what_cannot_be_trusted_is_refused() {
        // Sizes after the data: the next header cannot be found.
        let z = streamed_zip_of("codex_cli_bin/bin/codex", b"x");
        let err = unpack_arriving(&z, 2).1.unwrap_err();
        assert!(err.to_string().contains("data descriptor"), "{err}");

        // A path out of the tree, judged by the same policy as every archive.
        let z = zip_of(&[("../escape", b"x")], deflated());
        let err = unpack_arriving(&z, 2).1.unwrap_err();
        assert!(err.to_string().contains(".."), "{err}");

        // Data that does not match its CRC-32 (one stored byte changed).
        let stored =
            SimpleFileOptions::default().compression_method(::zip::CompressionMethod::Stored);
        let mut z = zip_of(&[("codex_cli_bin/bin/codex", b"genuine")], stored);
        let at = z.windows(7).position(|w| w == b"genuine").unwrap();
        z[at] = b'G';
        let err = unpack_arriving(&z, 2).1.unwrap_err();
        assert!(err.to_string().contains("CRC-32"), "{err}");

        // Not a zip at all.
        let err = unpack_arriving(b"not a wheel, only text", 2).1.unwrap_err();
        assert!(matches!(err, UnpackError::Corrupt { .. }), "{err}");
    }

    #[test]
    fn a_download_that_stops_ends_the_unpack_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let partial = dir.path().join("w.whl.partial");
        let dest = dir.path().join("tree");
        std::fs::create_dir(&dest).unwrap();
        let z = zip_of(&[("codex_cli_bin/bin/codex", &[7u8; 100_000])], deflated());
        std::fs::write(&partial, &z[..z.len() / 2]).unwrap();
        let growing = Growing::new(std::fs::File::open(&partial).unwrap());
        growing.publish((z.len() / 2) as u64);
        let stopper = {
            let growing = Arc::clone(&growing);
            std::thread::spawn(move || growing.stop())
        };
        let err =
            unpack_wheel_growing(&growing, &dest, Limits::default(), &Hashing::Every).unwrap_err();
        stopper.join().unwrap();
        assert!(matches!(err, UnpackError::Corrupt { .. }), "{err}");
    }

    /// Found by the `zip` fuzz target: when every inflater had failed between the walker's
    /// check and its next send, the send waited forever (the receiver was still held here).
    #[test]
    fn a_wheel_whose_inflaters_all_fail_ends_with_their_error() {
        let bad = [b'A'; 64];
        let z = zip_of(
            &[
                ("codex_cli_bin/a", &bad),
                ("codex_cli_bin/b", &bad),
                ("codex_cli_bin/c", b"c"),
                ("codex_cli_bin/d", b"d"),
            ],
            SimpleFileOptions::default().compression_method(::zip::CompressionMethod::Stored),
        );
        // Same sizes, other bytes: the first two entries fail their CRC-32 in the inflaters.
        let mut z = z;
        let at: Vec<usize> = (0..z.len() - 64).filter(|&i| z[i..i + 64] == bad).collect();
        for i in at {
            z[i..i + 64].fill(b'B');
        }
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            // The race is narrow: many rounds make a hang all but certain without the fix.
            for _ in 0..200 {
                let dir = tempfile::tempdir().unwrap();
                let whl = dir.path().join("w.whl");
                std::fs::write(&whl, &z).unwrap();
                let dest = dir.path().join("tree");
                std::fs::create_dir(&dest).unwrap();
                let growing = Growing::whole(std::fs::File::open(&whl).unwrap());
                let err = unpack_wheel_growing(&growing, &dest, Limits::default(), &Hashing::Every)
                    .unwrap_err();
                assert!(matches!(err, UnpackError::Refused { .. }), "{err}");
            }
            done.send(()).unwrap();
        });
        finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("the unpack ended (it waited forever for failed inflaters)");
    }
}
