//! How the library reports the progress of a transfer, without knowing who watches: the
//! terminal's bar (the UI implements it), or nobody ([`NoProgress`]).

/// A byte counter someone may be watching. Calls are cheap and may come often.
pub trait Progress {
    /// The total, once known (a server's `Content-Length` can arrive after the bar was made).
    fn set_length(&self, n: u64);
    /// Bytes done so far (after a resumed partial was replayed, say).
    fn set_position(&self, n: u64);
    /// `n` more bytes done.
    fn inc(&self, n: u64);
    /// The source answered (a successful response, a file that opened): bytes are about to
    /// flow. Called once per attempt; what a person is told ("Downloading … from X") waits
    /// for it, so a 404 or a missing file is never announced as a download.
    fn started(&self) {}
}

/// Progress nobody watches.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn set_length(&self, _: u64) {}
    fn set_position(&self, _: u64) {}
    fn inc(&self, _: u64) {}
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::net::{download, Fetched};

    /// Remembers what it was told.
    #[derive(Default)]
    struct Recorder {
        length: Cell<Option<u64>>,
        position: Cell<u64>,
    }

    impl Progress for Recorder {
        fn set_length(&self, n: u64) {
            self.length.set(Some(n));
        }
        fn set_position(&self, n: u64) {
            self.position.set(n);
        }
        fn inc(&self, n: u64) {
            self.position.set(self.position.get() + n);
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn reading_a_local_archive_reports_its_bytes_to_whoever_watches() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("a.tar.gz");
        std::fs::write(&path, vec![7u8; 300_000]).unwrap();

        let seen = Recorder::default();
        let fetched = download::read_local(&path, false, download::Sink::None, &seen)
            .await
            .unwrap();
        assert!(matches!(fetched, Fetched::Complete { size: 300_000, .. }));
        assert_eq!(seen.position.get(), 300_000);

        // Nobody watching changes nothing about the result.
        let quiet = download::read_local(&path, false, download::Sink::None, &NoProgress)
            .await
            .unwrap();
        match (fetched, quiet) {
            (Fetched::Complete { sha256: a, .. }, Fetched::Complete { sha256: b, .. }) => {
                assert_eq!(a, b)
            }
            other => panic!("{other:?}"),
        }
    }
}
