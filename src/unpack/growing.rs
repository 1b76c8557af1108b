//! A file that a download is still writing. The download says how far the file is written
//! ([`Growing::publish`]); readers of any range wait until the bytes they need are there. A
//! wheel's entries are inflated from its `.partial` this way, each at its own pace, so one
//! large entry does not hold up the next, and what the download is ahead by stays in the page
//! cache instead of in our memory.
//!
//! Every reader reads the one open file the download writes (positioned reads of the same
//! handle), never the path: a file renamed onto the path meanwhile is never read, so the bytes
//! unpacked are the bytes the download hashed.

use std::fs::File;
use std::io::{self, Read};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// A file being written, and how far.
#[derive(Debug)]
pub struct Growing {
    file: File,
    state: Mutex<Written>,
    changed: Condvar,
}

#[derive(Debug, Clone, Copy)]
struct Written {
    len: u64,
    end: End,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// More bytes may come.
    Open,
    /// Every byte is there: reading past `len` is the end of the file.
    Complete,
    /// The writer stopped part way (a failed or abandoned download): readers stop too.
    Stopped,
}

impl Growing {
    /// The open `file` that is about to be written, from its first byte (a handle of the
    /// writer's own, from `try_clone`).
    pub fn new(file: File) -> Arc<Growing> {
        Arc::new(Growing {
            file,
            state: Mutex::new(Written {
                len: 0,
                end: End::Open,
            }),
            changed: Condvar::new(),
        })
    }

    /// An open file that is already whole. One that cannot be read reads as empty.
    pub fn whole(file: File) -> Arc<Growing> {
        let len = file.metadata().map_or(0, |m| m.len());
        let g = Growing::new(file);
        g.update(|w| {
            w.len = len;
            w.end = End::Complete;
        });
        g
    }

    /// The first `len` bytes of the file are written and readable.
    pub fn publish(&self, len: u64) {
        self.update(|w| w.len = w.len.max(len));
    }

    /// Every byte is written.
    pub fn complete(&self) {
        self.update(|w| {
            if w.end == End::Open {
                w.end = End::Complete;
            }
        });
    }

    /// No more bytes will come: a reader still waiting gets an error.
    pub fn stop(&self) {
        self.update(|w| {
            if w.end == End::Open {
                w.end = End::Stopped;
            }
        });
    }

    /// A reader of the `len` bytes from `offset` (fewer if the file ends first).
    pub fn reader(self: &Arc<Self>, offset: u64, len: u64) -> GrowingReader {
        GrowingReader {
            growing: Arc::clone(self),
            pos: offset,
            end: offset.saturating_add(len),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Written> {
        // A panicking writer leaves the counter as it was: still the truth.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut Written)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }

    /// Wait until the byte at `pos` is written or no more will come; how far the file is
    /// written then. Stopped before `pos`: an error.
    fn wait_past(&self, pos: u64) -> io::Result<u64> {
        let mut w = self.lock();
        while w.len <= pos && w.end == End::Open {
            w = self.changed.wait(w).unwrap_or_else(|e| e.into_inner());
        }
        if w.len <= pos && w.end == End::Stopped {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the download stopped before this part of the file arrived",
            ));
        }
        Ok(w.len)
    }
}

/// A range of a [`Growing`] file, read as it arrives.
#[derive(Debug)]
pub struct GrowingReader {
    growing: Arc<Growing>,
    pos: u64,
    end: u64,
}

impl Read for GrowingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.end || buf.is_empty() {
            return Ok(0);
        }
        let written = self.growing.wait_past(self.pos)?;
        if written <= self.pos {
            return Ok(0);
        }
        let n = (buf.len() as u64)
            .min(self.end - self.pos)
            .min(written - self.pos) as usize;
        let got = read_at(&self.growing.file, &mut buf[..n], self.pos)?;
        self.pos += got as u64;
        Ok(got)
    }
}

/// Reads and seeks of an open file by position (`pread`), leaving the offset it shares with
/// its clones alone: the zip reader's view of the one handle a download wrote.
#[derive(Debug)]
pub(super) struct FileAt<'a> {
    file: &'a File,
    pos: u64,
}

impl<'a> FileAt<'a> {
    pub(super) fn new(file: &'a File) -> FileAt<'a> {
        FileAt { file, pos: 0 }
    }
}

impl Read for FileAt<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = read_at(self.file, buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl io::Seek for FileAt<'_> {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let (base, delta) = match to {
            io::SeekFrom::Start(n) => (n, 0),
            io::SeekFrom::End(d) => (self.file.metadata()?.len(), d),
            io::SeekFrom::Current(d) => (self.pos, d),
        };
        self.pos = base
            .checked_add_signed(delta)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        Ok(self.pos)
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, pos)
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], pos: u64) -> io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, pos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_reader_waits_for_the_bytes_it_needs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.partial");
        let mut f = File::create(&path).unwrap();
        let g = Growing::new(File::open(&path).unwrap());
        let mut r = g.reader(3, 4);
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            r.read_to_end(&mut got).unwrap();
            got
        });
        for part in [&b"abc"[..], b"de", b"fghij"] {
            f.write_all(part).unwrap();
            let len = f.metadata().unwrap().len();
            g.publish(len);
        }
        g.complete();
        assert_eq!(reader.join().unwrap(), b"defg");
    }

    #[test]
    fn a_stopped_download_ends_its_readers_with_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.partial");
        std::fs::write(&path, b"ab").unwrap();
        let g = Growing::new(File::open(&path).unwrap());
        g.publish(2);
        let mut r = g.reader(0, 10);
        let waiting = std::thread::spawn(move || {
            let mut got = Vec::new();
            r.read_to_end(&mut got).map(|_| got)
        });
        g.stop();
        let err = waiting.join().unwrap().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn a_whole_file_reads_to_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w");
        std::fs::write(&path, b"0123456789").unwrap();
        let g = Growing::whole(File::open(&path).unwrap());
        let mut got = Vec::new();
        g.reader(8, 100).read_to_end(&mut got).unwrap();
        assert_eq!(got, b"89");
    }

    #[test]
    fn a_file_renamed_onto_the_path_is_never_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.partial");
        std::fs::write(&path, b"hashed").unwrap();
        let g = Growing::whole(File::open(&path).unwrap());
        let evil = dir.path().join("evil");
        std::fs::write(&evil, b"EVIL!!").unwrap();
        std::fs::rename(&evil, &path).unwrap();
        let mut got = Vec::new();
        g.reader(0, 100).read_to_end(&mut got).unwrap();
        assert_eq!(got, b"hashed");
    }
}
