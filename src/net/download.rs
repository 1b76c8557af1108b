//! Resumable streaming downloads into `<cache>/downloads/*.partial`.
//!
//! Every byte is hashed as it arrives and passed on, in order, to a consumer (the unpacker), so
//! the archive is read once. A broken transfer resumes with `Range` + `If-Range` from the
//! partial file; a partial left by a killed process is replayed (hashed and passed on) and then
//! resumed. When a server answers a resumed request with the whole body (it ignored `Range`, or
//! the file changed), the caller must start over: [`Fetched::Restart`].

use std::path::{Path, PathBuf};

use reqwest::{header, StatusCode, Url};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::net::client::{retry_after_of, Http, NetError};
use crate::net::progress::Progress;
use crate::net::retry::{GiveUp, Tried};
use crate::verify::{Hasher, Sha256, Sha512};

/// Chunks handed to the consumer.
pub(crate) type Chunk = bytes::Bytes;

/// Where a download's bytes go besides its partial file.
#[derive(Clone, Copy)]
pub(crate) enum Sink<'a> {
    /// Nowhere: the file is read once it is whole.
    None,
    /// Every chunk, in order, to a consumer (the unpacker of a tar stream). When the receiver
    /// is gone, bytes are still downloaded and hashed.
    Chunks(&'a mpsc::Sender<Chunk>),
    /// How far the partial file is written, each time that grows by [`PUBLISH_EVERY`] and at
    /// the end of each response: its readers read it from there ([`crate::unpack::Growing`]).
    Written(&'a (dyn Fn(u64) + Sync)),
}

/// How much the partial file grows between two [`Sink::Written`] calls.
const PUBLISH_EVERY: u64 = 1 << 20;

/// One download.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub url: Url,
    /// Where the bytes are kept until the install completes.
    pub partial: PathBuf,
    pub expected_size: Option<u64>,
    /// Also compute sha512 (an npm integrity is expected).
    pub sha512: bool,
}

/// How a download ended.
#[derive(Debug)]
pub enum Fetched {
    Complete {
        sha256: Sha256,
        /// Only when asked for.
        sha512: Option<Sha512>,
        size: u64,
    },
    /// The server sent the whole body to a resumed request: truncate and start over.
    Restart,
}

/// The validator saved beside a partial file, sent back as `If-Range` on resume.
fn meta_path(partial: &Path) -> PathBuf {
    let mut p = partial.as_os_str().to_owned();
    p.push(".meta");
    PathBuf::from(p)
}

/// Remove a partial download and its validator.
pub(crate) fn discard_partial(partial: &Path) {
    let _ = std::fs::remove_file(partial);
    let _ = std::fs::remove_file(meta_path(partial));
}

/// Open (or create) the partial file at `path`, for appending and reading: never through a
/// link planted at its name (O_NOFOLLOW), mode 0644 whatever the umask, and only a regular file
/// of this user's. It is the one handle a download replays and writes, and that the unpacker
/// reads (a `try_clone`): the bytes hashed are the bytes unpacked, whatever is renamed onto the
/// path meanwhile.
pub(crate) fn open_partial(path: &Path) -> std::io::Result<std::fs::File> {
    if let Some(parent) = path.parent() {
        crate::fs::create_dirs(parent)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.read(true).append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.custom_flags(libc::O_NOFOLLOW).mode(0o644);
    }
    let file = o.open(path)?;
    let m = file.metadata()?;
    #[cfg(unix)]
    let ours = std::os::unix::fs::MetadataExt::uid(&m) == crate::fs::effective_uid();
    #[cfg(not(unix))]
    let ours = true;
    if !m.is_file() || !ours {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "it is not a regular file of this user's",
        ));
    }
    // One left by an older release under a lax umask gets the mode a new one has.
    #[cfg(unix)]
    if std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o7777 != 0o644 {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    Ok(file)
}

/// Stream `t.url` into `t.partial`, resuming what is there, and pass every byte to `sink`.
pub(crate) async fn fetch(
    http: &Http,
    t: &Transfer,
    sink: Sink<'_>,
    progress: &dyn Progress,
) -> Result<Fetched, NetError> {
    let file = open_partial(&t.partial).map_err(write_err(&t.partial))?;
    fetch_into(http, t, &file, sink, progress).await
}

/// [`fetch`] into `file`, the partial file [`open_partial`] opened at `t.partial`.
pub(crate) async fn fetch_into(
    http: &Http,
    t: &Transfer,
    file: &std::fs::File,
    sink: Sink<'_>,
    progress: &dyn Progress,
) -> Result<Fetched, NetError> {
    let write_err = write_err(&t.partial);
    let mut hasher = if t.sha512 {
        Hasher::with_sha512()
    } else {
        Hasher::new()
    };
    // Appends go to the end whatever the offset the replay leaves.
    let mut replayed = tokio::fs::File::from_std(file.try_clone().map_err(write_err)?);
    replayed
        .seek(std::io::SeekFrom::Start(0))
        .await
        .map_err(write_err)?;
    let have = replay(replayed, &mut hasher, sink, progress, None)
        .await
        .map_err(write_err)?;
    if have > 0 {
        tracing::debug!(partial = %t.partial.display(), "resuming: {have} bytes already downloaded");
    }
    let file = tokio::fs::File::from_std(file.try_clone().map_err(write_err)?);
    let mut p = Partial {
        file: tokio::io::BufWriter::with_capacity(1 << 20, file),
        hasher,
        have,
        published: have,
        validator: read_meta(&t.partial).await,
        total: t.expected_size,
    };
    if let Some(n) = p.total {
        progress.set_length(n);
    }
    // Each attempt resumes from what the ones before it wrote; the retry loop is the client's.
    let fetched = http
        .retrying(&t.url, GiveUp::Counted, async |_| {
            let tried = attempt(http, t, &mut p, sink, progress).await;
            if tried.is_err() {
                p.file.flush().await.map_err(|e| (write_err(e), None))?;
            }
            tried
        })
        .await?;
    // No fsync: a partial only saves a re-download, and a damaged one fails the digest check.
    p.file.flush().await.map_err(write_err)?;
    if let Some(restart) = fetched {
        return Ok(restart);
    }
    let (sha256, sha512, size) = p.hasher.finish_all();
    Ok(Fetched::Complete {
        sha256,
        sha512,
        size,
    })
}

/// Writing the partial file failed.
fn write_err(partial: &Path) -> impl Fn(std::io::Error) -> NetError + Copy + '_ {
    move |source| NetError::Write {
        path: partial.display().to_string(),
        source,
    }
}

/// What a download keeps from one attempt to the next.
struct Partial {
    file: tokio::io::BufWriter<tokio::fs::File>,
    /// Of every byte in the file so far.
    hasher: Hasher,
    /// How many bytes the file holds.
    have: u64,
    /// How many of them [`Sink::Written`] was told of.
    published: u64,
    /// The server's validator, sent back as `If-Range`.
    validator: Option<String>,
    /// The whole size, once known.
    total: Option<u64>,
}

impl Partial {
    /// Put what is buffered into the file and say how far it is written.
    async fn publish(&mut self, written: &(dyn Fn(u64) + Sync)) -> std::io::Result<()> {
        self.file.flush().await?;
        written(self.have);
        self.published = self.have;
        Ok(())
    }
}

/// One request for the rest of `t`, appended to `p` and passed on: `Some(Restart)` when the
/// server will not resume, `None` when the file is whole.
async fn attempt(
    http: &Http,
    t: &Transfer,
    p: &mut Partial,
    sink: Sink<'_>,
    progress: &dyn Progress,
) -> Tried<Option<Fetched>> {
    let write_err = write_err(&t.partial);
    // A partial left whole by a killed process, or a body that broke off at its very end.
    if p.total.is_some_and(|n| p.have >= n) && p.have > 0 {
        return Ok(None);
    }
    let mut req = http.get(&t.url);
    if p.have > 0 {
        req = req.header(header::RANGE, format!("bytes={}-", p.have));
        if let Some(v) = &p.validator {
            req = req.header(header::IF_RANGE, v.as_str());
        }
    }
    let mut resp = http.send(&t.url, req).await.map_err(|e| (e, None))?;
    let status = resp.status();
    let resumed = p.have > 0;
    let started = std::time::Instant::now();
    let from = p.have;
    match status {
        StatusCode::PARTIAL_CONTENT if resumed => {
            let start = resp
                .headers()
                .get(header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(content_range_start);
            if start != Some(p.have) {
                tracing::debug!(
                    ?start,
                    have = p.have,
                    "the server resumed from the wrong offset: starting over"
                );
                return Ok(Some(Fetched::Restart));
            }
        }
        StatusCode::OK if resumed => {
            tracing::debug!("the server ignored the range (or the file changed): starting over");
            return Ok(Some(Fetched::Restart));
        }
        StatusCode::OK => {}
        StatusCode::RANGE_NOT_SATISFIABLE => {
            tracing::debug!("the server refused the range: starting over");
            return Ok(Some(Fetched::Restart));
        }
        s => {
            let wait = retry_after_of(resp.headers());
            return Err((
                NetError::Status {
                    url: (&t.url).into(),
                    status: s.as_u16(),
                },
                wait,
            ));
        }
    }
    // The size the file must have (a pin, the index's or the API's size): a server that
    // announces more is refused before its body is read, and one that sends more is cut off.
    let too_large = |expected| NetError::TooLarge {
        url: t.url.as_str().into(),
        expected,
    };
    if let Some(len) = resp.content_length() {
        if let Some(expected) = t.expected_size.filter(|&n| p.have + len > n) {
            return Err((too_large(expected), None));
        }
        p.total = Some(p.have + len);
        progress.set_length(p.have + len);
    }
    progress.started();
    if let Some(v) = validator_of(resp.headers()) {
        if p.validator.as_deref() != Some(v.as_str()) {
            let _ = write_meta(&t.partial, &v).await;
            p.validator = Some(v);
        }
    }
    loop {
        let chunk = match resp.chunk().await {
            Ok(Some(c)) => c,
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(
                    "{}: the body broke off after {} bytes in {} ms",
                    crate::redact::DisplayUrl::from(&t.url),
                    p.have - from,
                    started.elapsed().as_millis()
                );
                return Err((http.describe(&t.url, e), None));
            }
        };
        if let Some(expected) = t.expected_size.filter(|&n| p.have + chunk.len() as u64 > n) {
            // Nothing past the expected size reaches the disk, the hash or the unpacker.
            tracing::debug!(
                "{}: more than the {expected} bytes expected; stopped",
                crate::redact::DisplayUrl::new(t.url.as_str()).to_string()
            );
            return Err((too_large(expected), None));
        }
        p.file
            .write_all(&chunk)
            .await
            .map_err(|e| (write_err(e), None))?;
        p.hasher.update(&chunk);
        p.have += chunk.len() as u64;
        progress.set_position(p.have);
        match sink {
            // A closed receiver means the unpacker stopped; keep hashing regardless.
            Sink::Chunks(tx) => {
                let _ = tx.send(chunk).await;
            }
            Sink::Written(written) if p.have - p.published >= PUBLISH_EVERY => {
                p.publish(written).await.map_err(|e| (write_err(e), None))?;
            }
            _ => {}
        }
    }
    if let Sink::Written(written) = sink {
        p.publish(written).await.map_err(|e| (write_err(e), None))?;
    }
    tracing::debug!(
        "{}: {} bytes in {} ms",
        crate::redact::DisplayUrl::from(&t.url),
        p.have - from,
        started.elapsed().as_millis()
    );
    if let Some(n) = p.total {
        if p.have < n {
            return Err((
                NetError::Truncated {
                    url: (&t.url).into(),
                    got: p.have,
                    expected: n,
                },
                None,
            ));
        }
    }
    Ok(None)
}

/// The validator saved beside `partial`, read without following a link planted at its name.
async fn read_meta(partial: &Path) -> Option<String> {
    let mut o = tokio::fs::OpenOptions::new();
    o.read(true);
    #[cfg(unix)]
    o.custom_flags(libc::O_NOFOLLOW);
    let mut f = o.open(meta_path(partial)).await.ok()?;
    let mut text = String::new();
    // A validator is a header value: a few hundred bytes at most.
    (&mut f)
        .take(8 << 10)
        .read_to_string(&mut text)
        .await
        .ok()?;
    Some(text)
}

/// Save the validator beside `partial`: written through no link planted at its name, mode
/// 0644 whatever the umask. Best effort: without it, a resume sends no `If-Range`.
async fn write_meta(partial: &Path, validator: &str) -> std::io::Result<()> {
    let mut o = tokio::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    o.custom_flags(libc::O_NOFOLLOW).mode(0o644);
    let mut f = o.open(meta_path(partial)).await?;
    f.write_all(validator.as_bytes()).await?;
    f.flush().await
}

/// Hash and forward the bytes of `file` from where it is read; returns how many there were.
/// With `copy`, each chunk is also appended to it before it is passed on, so a
/// [`Sink::Written`] reader of the copy finds the bytes there.
async fn replay(
    mut file: tokio::fs::File,
    hasher: &mut Hasher,
    sink: Sink<'_>,
    progress: &dyn Progress,
    mut copy: Option<&mut tokio::fs::File>,
) -> std::io::Result<u64> {
    let mut have = 0u64;
    loop {
        let mut buf = vec![0u8; 256 << 10];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        buf.truncate(n);
        hasher.update(&buf);
        have += n as u64;
        if let Some(copy) = copy.as_deref_mut() {
            copy.write_all(&buf).await?;
            copy.flush().await?;
            if let Sink::Written(written) = sink {
                written(have);
            }
        }
        if let Sink::Chunks(tx) = sink {
            let _ = tx.send(Chunk::from(buf)).await;
        }
    }
    if let Sink::Written(written) = sink {
        written(have);
    }
    progress.set_position(have);
    Ok(have)
}

/// Stream a local file (a `file://` mirror) to the consumer, hashing it.
pub(crate) async fn read_local(
    path: &Path,
    sha512: bool,
    sink: Sink<'_>,
    progress: &dyn Progress,
) -> Result<Fetched, NetError> {
    read_local_into(path, None, sha512, sink, progress).await
}

/// [`read_local`], copying the file into `copy` as it is hashed (a private file in the store,
/// made by the caller): what is unpacked from the copy is what was hashed, whatever the
/// original's owner does to it meanwhile. [`Sink::Written`] says how far the copy is written.
pub(crate) async fn read_local_into(
    path: &Path,
    copy: Option<&std::fs::File>,
    sha512: bool,
    sink: Sink<'_>,
    progress: &dyn Progress,
) -> Result<Fetched, NetError> {
    let file_err = |source| NetError::File {
        path: path.display().to_string(),
        source,
    };
    let mut hasher = if sha512 {
        Hasher::with_sha512()
    } else {
        Hasher::new()
    };
    // Opened first: a missing file is an error before anything is announced as read.
    let file = tokio::fs::File::open(path).await.map_err(file_err)?;
    let meta = file.metadata().await.map_err(file_err)?;
    if !meta.is_file() {
        return Err(file_err(std::io::Error::from(std::io::ErrorKind::NotFound)));
    }
    let mut copy = match copy {
        Some(c) => Some(tokio::fs::File::from_std(c.try_clone().map_err(file_err)?)),
        None => None,
    };
    progress.started();
    replay(file, &mut hasher, sink, progress, copy.as_mut())
        .await
        .map_err(file_err)?;
    let (sha256, sha512, size) = hasher.finish_all();
    Ok(Fetched::Complete {
        sha256,
        sha512,
        size,
    })
}

/// The strong validator to send as `If-Range`: the ETag when strong, else Last-Modified.
fn validator_of(headers: &header::HeaderMap) -> Option<String> {
    let etag = headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .filter(|e| !e.starts_with("W/"));
    etag.or_else(|| {
        headers
            .get(header::LAST_MODIFIED)
            .and_then(|v| v.to_str().ok())
    })
    .map(str::to_string)
}

/// `bytes 100-199/200` -> 100.
fn content_range_start(v: &str) -> Option<u64> {
    v.trim()
        .strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range() {
        assert_eq!(content_range_start("bytes 100-199/200"), Some(100));
        assert_eq!(content_range_start("bytes */200"), None);
        assert_eq!(content_range_start("items 1-2/3"), None);
    }

    #[test]
    fn weak_etags_are_not_validators() {
        let mut h = header::HeaderMap::new();
        h.insert(header::ETAG, "W/\"x\"".parse().unwrap());
        h.insert(
            header::LAST_MODIFIED,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(validator_of(&h).unwrap(), "Wed, 21 Oct 2015 07:28:00 GMT");
        h.insert(header::ETAG, "\"strong\"".parse().unwrap());
        assert_eq!(validator_of(&h).unwrap(), "\"strong\"");
    }
}
