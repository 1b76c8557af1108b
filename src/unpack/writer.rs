//! The write side of an unpack: a thread that creates, writes and hashes each file while the
//! decoder produces the next bytes, and behind it a thread that fsyncs finished files. On two
//! cores this takes the hashing and the write syscalls off the decompressor's path, and
//! flushing one file overlaps writing the next.
//!
//! The policy decides what may be written; this module only writes what it is handed, in
//! archive order, and reports the first error.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::JoinHandle;

use super::UnpackError;
use crate::verify::{Hasher, Sha256};

/// Bytes per hand-off from the decoder to the writer. Small enough to stay in cache from the
/// decoder's write through the hash to the kernel's copy into the page cache: with 1 MiB the
/// copy read each chunk back from memory, and the writer of the real runtime's `bin/codex`
/// spent about 3.4x as long in the kernel (380 ms against 110 ms of CPU, `perf`, 2026-12-06).
pub(super) const CHUNK: usize = 128 << 10;
/// Chunks in flight between them: bounds memory (6 MiB) while keeping both threads busy.
const IN_FLIGHT: usize = 48;

/// Work for the writer thread, in archive order.
enum Op {
    /// `hash`: whether the file's digest is computed here; a file written without one gets
    /// it from the wheel's RECORD ([`crate::package::digests_from_record`]).
    Create {
        rel: PathBuf,
        executable: bool,
        hash: bool,
    },
    Data(Vec<u8>),
    Close,
    Copy {
        from: PathBuf,
        to: PathBuf,
    },
}

type Digests = HashMap<PathBuf, Sha256>;

/// The handle the decoder side holds on the writer thread.
pub(super) struct Writer {
    dest: PathBuf,
    tx: SyncSender<Op>,
    /// Buffers the writer is done with, reused so memory stays at a few chunks.
    recycled: Receiver<Vec<u8>>,
    handle: Option<JoinHandle<Result<Digests, UnpackError>>>,
}

impl Writer {
    /// Start the writer for files below `dest`.
    pub(super) fn spawn(dest: PathBuf) -> Writer {
        let (tx, rx) = mpsc::sync_channel::<Op>(IN_FLIGHT);
        let (done, recycled) = mpsc::channel();
        let root = dest.clone();
        let handle = super::spawn_named("write", move || {
            super::defer_on_wake();
            write_files(&root, rx, done)
        });
        Writer {
            dest,
            tx,
            recycled,
            handle: Some(handle),
        }
    }

    /// Create `rel` (which must not exist) and make it the file that data goes to; with
    /// `hash`, its sha256 is computed as it is written.
    pub(super) fn create(
        &mut self,
        rel: &Path,
        executable: bool,
        hash: bool,
    ) -> Result<(), UnpackError> {
        self.send(Op::Create {
            rel: rel.to_path_buf(),
            executable,
            hash,
        })
    }

    /// Copy at most `limit` bytes from `reader` into the current file; returns how many there
    /// were.
    pub(super) fn pump(&mut self, reader: &mut dyn Read, limit: u64) -> Result<u64, UnpackError> {
        let mut limited = reader.take(limit);
        let mut written = 0u64;
        loop {
            let mut buf = self.buffer();
            let n = read_full(&mut limited, &mut buf).map_err(|source| UnpackError::Corrupt {
                kind: "archive",
                source,
            })?;
            if n == 0 {
                return Ok(written);
            }
            buf.truncate(n);
            written += n as u64;
            self.send(Op::Data(buf))?;
        }
    }

    /// Finish the current file: its digest (if hashed) is recorded and it is queued for fsync.
    pub(super) fn close(&mut self) -> Result<(), UnpackError> {
        self.send(Op::Close)
    }

    /// Copy an earlier file of the archive (a hard link becomes an independent file).
    pub(super) fn copy(&mut self, from: &Path, to: &Path) -> Result<(), UnpackError> {
        self.send(Op::Copy {
            from: from.to_path_buf(),
            to: to.to_path_buf(),
        })
    }

    /// Close the queue and wait for the thread: the digests of what it wrote, or its first
    /// error. A second call finds nothing to wait for.
    pub(super) fn join(&mut self) -> Result<Digests, UnpackError> {
        let (closed, _) = mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.tx, closed));
        match self.handle.take().map(|h| h.join()) {
            Some(Ok(result)) => result,
            Some(Err(payload)) => Err(UnpackError::panicked("writer", payload)),
            None => Ok(HashMap::new()),
        }
    }

    /// A chunk-sized buffer, recycled when one is free.
    fn buffer(&self) -> Vec<u8> {
        let mut buf = self.recycled.try_recv().unwrap_or_default();
        buf.resize(CHUNK, 0);
        buf
    }

    /// Hand work to the writer; if it has stopped, surface its error.
    fn send(&mut self, op: Op) -> Result<(), UnpackError> {
        if self.tx.send(op).is_err() {
            return Err(self.join().err().unwrap_or_else(|| UnpackError::Write {
                path: self.dest.clone(),
                source: io::Error::other("the writer thread stopped"),
            }));
        }
        Ok(())
    }
}

impl Drop for Writer {
    /// An unpack that stops part way (a refused entry, a corrupt stream) still waits for its
    /// writer, so nothing is written into the destination after the unpacker has returned: the
    /// caller is about to remove it.
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// Fill `buf` as far as the reader allows.
pub(super) fn read_full(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn write_files(
    dest: &Path,
    rx: Receiver<Op>,
    done: Sender<Vec<u8>>,
) -> Result<Digests, UnpackError> {
    // fsync runs on its own thread, so flushing one file overlaps writing the next.
    let (sync_tx, sync_rx) = mpsc::channel::<(PathBuf, File)>();
    let syncer = super::spawn_named("fsync", move || -> Result<(), (PathBuf, io::Error)> {
        for (rel, file) in sync_rx {
            file.sync_all().map_err(|e| (rel, e))?;
        }
        Ok(())
    });
    let written = write_ops(dest, rx, done, sync_tx);
    tracing::trace!(dest = %dest.display(), "every file written; waiting for their fsync");
    // Joined on every path, so no thread outlives the unpack. Every file is durable before the
    // receipt and the rename that publish them.
    let joined = syncer.join();
    tracing::trace!(dest = %dest.display(), "every file durable");
    let synced = match joined {
        Ok(Ok(())) => Ok(()),
        Ok(Err((rel, source))) => Err(UnpackError::Write {
            path: dest.join(rel),
            source,
        }),
        Err(payload) => Err(UnpackError::panicked("fsync", payload)),
    };
    let digests = written?;
    synced.map(|()| digests)
}

/// The writer thread's loop: create, write and hash each file, hand finished ones to the syncer.
fn write_ops(
    dest: &Path,
    rx: Receiver<Op>,
    done: Sender<Vec<u8>>,
    sync_tx: Sender<(PathBuf, File)>,
) -> Result<Digests, UnpackError> {
    let mut digests = HashMap::new();
    let mut current: Option<(PathBuf, File, Option<Hasher>)> = None;
    // Bytes of the current file written, and how far its writeback has been started.
    let (mut at, mut started) = (0u64, 0u64);
    let err = |rel: &Path| {
        let path = dest.join(rel);
        move |source| UnpackError::Write { path, source }
    };
    for op in rx {
        match op {
            Op::Create {
                rel,
                executable,
                hash,
            } => {
                let file = create_new(&dest.join(&rel), executable).map_err(err(&rel))?;
                current = Some((rel, file, hash.then(Hasher::new)));
                (at, started) = (0, 0);
            }
            Op::Data(buf) => {
                if let Some((rel, file, hasher)) = current.as_mut() {
                    if let Some(h) = hasher {
                        h.update(&buf);
                    }
                    file.write_all(&buf).map_err(err(rel))?;
                    at += buf.len() as u64;
                    if at - started >= WRITEBACK_WINDOW {
                        start_writeback(file, started, at - started);
                        started = at;
                    }
                }
                let _ = done.send(buf);
            }
            Op::Close => {
                if let Some((rel, file, hasher)) = current.take() {
                    if let Some(h) = hasher {
                        digests.insert(rel.clone(), h.finish().0);
                    }
                    // If the syncer already failed, its error is collected by the caller.
                    let _ = sync_tx.send((rel, file));
                }
            }
            Op::Copy { from, to } => {
                std::fs::copy(dest.join(&from), dest.join(&to)).map_err(err(&to))?;
                if let Some(d) = digests.get(&from).copied() {
                    digests.insert(to, d);
                }
            }
        }
    }
    Ok(digests)
}

/// A new file, 0755 or 0644: only the executable bit survives from the archive's mode.
fn create_new(path: &Path, executable: bool) -> io::Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(if executable { 0o755 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = executable;
    o.open(path)
}

/// How much of a file is written before its writeback is started.
const WRITEBACK_WINDOW: u64 = 16 << 20;

/// Start writing `len` bytes of `file` from `offset` back to the disk without waiting, so the
/// fsync that makes it durable has little left to do.
#[cfg(target_os = "linux")]
fn start_writeback(file: &File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid open descriptor; the call only starts I/O on the given range.
    unsafe {
        libc::sync_file_range(
            file.as_raw_fd(),
            offset as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn start_writeback(_: &File, _: u64, _: u64) {}
