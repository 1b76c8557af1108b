//! A minimal HTTP/1.1 server on 127.0.0.1:0 with per-path responders, files served with
//! `Range`/`If-Range`, fault injection and request recording. Ready when `start` returns (the
//! socket is bound first); its threads stop when it is dropped; every read has a timeout.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A request as the server saw it. Header names are lowercase.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

/// A response to send.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: Vec::new(),
            body: body.into(),
        }
    }
    pub fn header(mut self, name: &str, value: &str) -> Response {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }
}

/// Something to do wrong, for one request to a path (or every request, where noted).
#[derive(Debug, Clone)]
pub enum Fault {
    /// Send the full Content-Length, but close after `n` body bytes.
    CutAfter(u64),
    /// Like `CutAfter`, on every request (not consumed).
    CutEveryTime(u64),
    /// Answer with this instead.
    Status(u16, Vec<(String, String)>, Vec<u8>),
    /// Answer 200 with the whole body even when `Range` was sent.
    IgnoreRange,
    /// Send `n` body bytes, then nothing for the duration, then close.
    StallAfter(u64, Duration),
    /// Flip the byte at this offset, on every request (not consumed).
    CorruptByte(u64),
    /// 302 to this absolute URL.
    Redirect(String),
    /// Hold the answer until a request whose path ends with this has come, or for at most the
    /// duration; [`TestServer::held`] says which it was.
    AnswerAfter(String, Duration),
}

impl Fault {
    fn persistent(&self) -> bool {
        matches!(self, Fault::CutEveryTime(_) | Fault::CorruptByte(_))
    }

    /// A plain status with no body.
    pub fn status(code: u16) -> Fault {
        Fault::Status(code, Vec::new(), Vec::new())
    }
}

type Responder = Arc<dyn Fn(&RecordedRequest) -> Response + Send + Sync>;
type Gate = Arc<dyn Fn(&RecordedRequest) -> Option<Response> + Send + Sync>;

#[derive(Default)]
struct State {
    gate: Option<Gate>,
    files: HashMap<String, Vec<u8>>,
    responders: HashMap<String, Responder>,
    faults: HashMap<String, VecDeque<Fault>>,
    requests: Vec<RecordedRequest>,
    held: Vec<bool>,
}

/// The server. Cheap to clone handles are not needed: share it by reference.
pub struct TestServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    accept: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start() -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local addr");
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (state.clone(), stop.clone());
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                std::thread::spawn(move || {
                    let _ = serve(conn, &st);
                });
            }
        });
        TestServer {
            addr,
            state,
            stop,
            accept: Some(accept),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serve `bytes` at `path` with ETag, Last-Modified and Range support.
    pub fn add_file(&self, path: &str, bytes: Vec<u8>) {
        self.lock().files.insert(path.to_string(), bytes);
    }

    /// A canned response at `path`.
    pub fn add_response(
        &self,
        path: &str,
        status: u16,
        headers: &[(&str, &str)],
        body: impl Into<Vec<u8>>,
    ) {
        let mut r = Response::new(status, body);
        for (k, v) in headers {
            r = r.header(k, v);
        }
        self.add_responder(path, move |_| r.clone());
    }

    /// Any behaviour at `path`.
    pub fn add_responder(
        &self,
        path: &str,
        f: impl Fn(&RecordedRequest) -> Response + Send + Sync + 'static,
    ) {
        self.lock().responders.insert(path.to_string(), Arc::new(f));
    }

    /// Look at every request first, whatever its path: a `Some` response is sent instead of the
    /// route's (an authentication check, say); `None` lets the request through. Gated requests
    /// are recorded too.
    pub fn gate(&self, f: impl Fn(&RecordedRequest) -> Option<Response> + Send + Sync + 'static) {
        self.lock().gate = Some(Arc::new(f));
    }

    /// How many requests each path (without the query) received.
    pub fn counts(&self) -> std::collections::BTreeMap<String, usize> {
        let mut counts = std::collections::BTreeMap::new();
        for r in self.requests() {
            let bare = r.path.split('?').next().unwrap_or_default().to_string();
            *counts.entry(bare).or_insert(0) += 1;
        }
        counts
    }

    /// Queue a fault for the next request to `path` (persistent faults stay).
    pub fn fault(&self, path: &str, fault: Fault) {
        self.lock()
            .faults
            .entry(path.to_string())
            .or_default()
            .push_back(fault);
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.lock().requests.clone()
    }

    /// For each answer an [`Fault::AnswerAfter`] held, in order: whether the request it waited
    /// for came (else it gave up waiting).
    pub fn held(&self) -> Vec<bool> {
        self.lock().held.clone()
    }

    /// Requests whose path (without the query) is exactly `path`.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path.split('?').next() == Some(path))
            .collect()
    }

    /// How many requests started with `prefix`.
    pub fn count(&self, prefix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r.path.starts_with(prefix))
            .count()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Unblock accept() with one last connection.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn serve(conn: TcpStream, state: &Mutex<State>) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    conn.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(());
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let path = parts.next().unwrap_or_default().to_string();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    let req = RecordedRequest {
        method,
        path,
        headers,
        body,
    };
    let bare = req.path.split('?').next().unwrap_or_default().to_string();
    let (fault, file, responder) = {
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        st.requests.push(req.clone());
        if let Some(refused) = st.gate.clone().and_then(|g| g(&req)) {
            drop(st);
            // Status 0: the connection drops without an answer.
            if refused.status == 0 {
                return Ok(());
            }
            let mut out = conn;
            return write_response(&mut out, &refused, None, None);
        }
        let fault = st.faults.get_mut(&bare).and_then(|q| {
            let persistent = q.front().is_some_and(Fault::persistent);
            if persistent {
                q.front().cloned()
            } else {
                q.pop_front()
            }
        });
        (
            fault,
            st.files.get(&bare).cloned(),
            st.responders.get(&bare).cloned(),
        )
    };
    let mut out = conn;
    match fault {
        Some(Fault::Status(code, hs, b)) => {
            let mut r = Response::new(code, b);
            r.headers = hs;
            return write_response(&mut out, &r, None, None);
        }
        Some(Fault::Redirect(to)) => {
            return write_response(
                &mut out,
                &Response::new(302, Vec::new()).header("location", &to),
                None,
                None,
            );
        }
        _ => {}
    }
    if let Some(Fault::AnswerAfter(suffix, at_most)) = &fault {
        let deadline = std::time::Instant::now() + *at_most;
        let came = loop {
            let st = state.lock().unwrap_or_else(|p| p.into_inner());
            let came = st
                .requests
                .iter()
                .any(|r| r.path.ends_with(suffix.as_str()));
            drop(st);
            if came || std::time::Instant::now() >= deadline {
                break came;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
        st.held.push(came);
    }
    let response = if let Some(bytes) = file {
        file_response(&req, bytes, fault.as_ref())
    } else if let Some(f) = responder {
        f(&req)
    } else {
        Response::new(404, format!("no route for {bare}\n"))
    };
    let (cut, stall) = match fault {
        Some(Fault::CutAfter(n)) | Some(Fault::CutEveryTime(n)) => (Some(n), None),
        Some(Fault::StallAfter(n, d)) => (Some(n), Some(d)),
        _ => (None, None),
    };
    let body_only = req.method == "HEAD";
    if body_only {
        // HEAD: the length the GET would have, without the body (uv sizes range reads by it).
        let mut r = response
            .clone()
            .header("content-length", &response.body.len().to_string());
        r.body.clear();
        return write_response(&mut out, &r, None, None);
    }
    write_response(&mut out, &response, cut, stall)
}

fn file_response(req: &RecordedRequest, mut bytes: Vec<u8>, fault: Option<&Fault>) -> Response {
    if let Some(Fault::CorruptByte(at)) = fault {
        if let Some(b) = bytes.get_mut(*at as usize) {
            *b ^= 0xff;
        }
    }
    let etag = format!("\"{}\"", &short_hash(&bytes));
    let last_modified = "Tue, 14 Nov 2023 22:13:20 GMT";
    let base = |status, body: Vec<u8>| {
        Response::new(status, body)
            .header("etag", &etag)
            .header("last-modified", last_modified)
            .header("accept-ranges", "bytes")
            .header("content-type", "application/octet-stream")
    };
    let ignore_range = matches!(fault, Some(Fault::IgnoreRange));
    let range = req.headers.get("range").filter(|_| !ignore_range);
    let if_range_ok = req
        .headers
        .get("if-range")
        .is_none_or(|v| v == &etag || v == last_modified);
    let Some(range) = range.filter(|_| if_range_ok) else {
        return base(200, bytes);
    };
    let total = bytes.len() as u64;
    let Some((start, end)) = parse_range(range, total) else {
        return Response::new(416, Vec::new()).header("content-range", &format!("bytes */{total}"));
    };
    let body = bytes[start as usize..=end as usize].to_vec();
    base(206, body).header("content-range", &format!("bytes {start}-{end}/{total}"))
}

fn parse_range(v: &str, total: u64) -> Option<(u64, u64)> {
    let spec = v.trim().strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    // A suffix range (`bytes=-N`, the last N bytes), as uv asks for a wheel's central directory.
    if a.trim().is_empty() {
        let n: u64 = b.trim().parse().ok()?;
        return (n > 0 && total > 0).then(|| (total.saturating_sub(n), total - 1));
    }
    let start: u64 = a.trim().parse().ok()?;
    let end: u64 = if b.trim().is_empty() {
        total.checked_sub(1)?
    } else {
        b.trim().parse().ok()?
    };
    (start < total && start <= end).then_some((start, end.min(total - 1)))
}

fn short_hash(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        416 => "Range Not Satisfiable",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_response(
    out: &mut TcpStream,
    r: &Response,
    cut: Option<u64>,
    stall: Option<Duration>,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    let has_len = r
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_len {
        head.push_str(&format!("content-length: {}\r\n", r.body.len()));
    }
    head.push_str("connection: close\r\n\r\n");
    out.write_all(head.as_bytes())?;
    match cut {
        Some(n) => {
            let n = (n as usize).min(r.body.len());
            out.write_all(&r.body[..n])?;
            out.flush()?;
            if let Some(d) = stall {
                std::thread::sleep(d);
            }
            let _ = out.shutdown(std::net::Shutdown::Both);
        }
        None => out.write_all(&r.body)?,
    }
    out.flush()
}
