//! A loopback Python package index for `openai-codex-cli-bin`, on the generic [`TestServer`].
//!
//! `GET /simple/openai-codex-cli-bin/` answers with the PEP 691 JSON page when the request's
//! `Accept` allows `application/vnd.pypi.simple.v1+json` (and JSON is on), else the PEP 503 HTML
//! page; files are served at `/files/<filename>` with `Range` support. Options cover the ways
//! real indexes differ: no hashes, yanked files, relative file URLs, HTTP Basic auth on every
//! path, files on another origin (as on a CDN: the credentials must not follow them there), and
//! bytes that do not match the listed hash.

use std::collections::{BTreeMap, HashMap, HashSet};

use base64::Engine as _;

use crate::support::http::{RecordedRequest, Response, TestServer};

/// The project every page is about.
pub const PROJECT: &str = "openai-codex-cli-bin";
/// PEP 691's JSON content type.
pub const JSON_TYPE: &str = "application/vnd.pypi.simple.v1+json";
/// What pip and uv send, and what the product sends.
pub const ACCEPT: &str =
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";
const REQUIRES_PYTHON: &str = ">=3.9";

/// How the index is set up; see [`PythonIndex::builder`].
#[derive(Clone)]
pub struct PythonIndexBuilder {
    wheels: Vec<(String, Vec<u8>)>,
    json: bool,
    hashes: bool,
    yanked: HashMap<String, String>,
    relative_urls: bool,
    basic_auth: Option<(String, String)>,
    files_elsewhere: bool,
    tampered: HashSet<String>,
}

impl PythonIndexBuilder {
    /// Publish a wheel (any file name; the version is read from it for the JSON `versions`).
    pub fn wheel(mut self, filename: &str, bytes: Vec<u8>) -> Self {
        self.wheels.push((filename.to_string(), bytes));
        self
    }

    /// Answer with PEP 691 JSON when the client accepts it (on by default); off: HTML only.
    pub fn json(mut self, on: bool) -> Self {
        self.json = on;
        self
    }

    /// List each file's sha256 (on by default); off: no `#sha256=`, `"hashes": {}`.
    pub fn hashes(mut self, on: bool) -> Self {
        self.hashes = on;
        self
    }

    /// Mark `filename` yanked (PEP 592); an empty reason is a yank without one.
    pub fn yank(mut self, filename: &str, reason: &str) -> Self {
        self.yanked.insert(filename.to_string(), reason.to_string());
        self
    }

    /// Link files relative to the project page (`../../files/NAME`) instead of absolutely.
    pub fn relative_urls(mut self, on: bool) -> Self {
        self.relative_urls = on;
        self
    }

    /// Require HTTP Basic credentials on every path of the index host: 401 with
    /// `WWW-Authenticate: Basic realm="index"` otherwise.
    pub fn basic_auth(mut self, user: &str, password: &str) -> Self {
        self.basic_auth = Some((user.to_string(), password.to_string()));
        self
    }

    /// Serve the files from a second server (another port: another origin) that asks for no
    /// credentials and records whether any arrived. Implies absolute file URLs.
    pub fn files_on_another_host(mut self) -> Self {
        self.files_elsewhere = true;
        self
    }

    /// List `filename` with its genuine hash and size but serve it with one byte flipped.
    pub fn tamper(mut self, filename: &str) -> Self {
        self.tampered.insert(filename.to_string());
        self
    }

    pub fn start(self) -> PythonIndex {
        let index = TestServer::start();
        let files = self.files_elsewhere.then(TestServer::start);
        let file_host = files.as_ref().unwrap_or(&index).url();
        for (name, bytes) in &self.wheels {
            let server = files.as_ref().unwrap_or(&index);
            let path = file_path(name);
            server.add_file(&path, bytes.clone());
            if self.tampered.contains(name) {
                server.fault(
                    &path,
                    crate::support::http::Fault::CorruptByte(bytes.len() as u64 / 2),
                );
            }
        }
        if let Some((user, password)) = &self.basic_auth {
            let expected = basic_auth_header(user, password);
            index.gate(move |r| {
                (r.headers.get("authorization") != Some(&expected)).then(|| {
                    Response::new(401, "401 Unauthorized: credentials are required\n")
                        .header("www-authenticate", "Basic realm=\"index\"")
                        .header("content-type", "text/plain")
                })
            });
        }
        let page = Page {
            files: self
                .wheels
                .iter()
                .map(|(name, bytes)| PageFile {
                    filename: name.clone(),
                    url: if self.relative_urls && !self.files_elsewhere {
                        format!("../..{}", file_path(name))
                    } else {
                        format!("{file_host}{}", file_path(name))
                    },
                    sha256: self
                        .hashes
                        .then(|| crate::support::github::sha256_hex(bytes)),
                    size: bytes.len(),
                    yanked: self.yanked.get(name).cloned(),
                })
                .collect(),
        };
        let json = self.json;
        let project_path = format!("/simple/{PROJECT}/");
        index.add_responder(&project_path, move |r| page.respond(r, json));
        let slash = format!("{}{project_path}", index.url());
        index.add_responder(&format!("/simple/{PROJECT}"), move |_| {
            Response::new(301, Vec::new()).header("location", &slash)
        });
        index.add_responder("/simple/", |_| {
            Response::new(
                200,
                format!("<!DOCTYPE html>\n<html><body><a href=\"{PROJECT}/\">{PROJECT}</a></body></html>\n"),
            )
            .header("content-type", "text/html")
        });
        PythonIndex {
            index,
            files,
            wheels: self.wheels,
            basic_auth: self.basic_auth,
        }
    }
}

/// A running index. Unknown projects and paths are 404 (after the credential check).
pub struct PythonIndex {
    index: TestServer,
    files: Option<TestServer>,
    wheels: Vec<(String, Vec<u8>)>,
    basic_auth: Option<(String, String)>,
}

impl PythonIndex {
    /// JSON and hashes on, absolute URLs on the same host, no credentials, no wheels yet.
    pub fn builder() -> PythonIndexBuilder {
        PythonIndexBuilder {
            wheels: Vec::new(),
            json: true,
            hashes: true,
            yanked: HashMap::new(),
            relative_urls: false,
            basic_auth: None,
            files_elsewhere: false,
            tampered: HashSet::new(),
        }
    }

    /// The index URL to give the product, `http://127.0.0.1:PORT/simple` (no trailing slash;
    /// append one to test that spelling).
    pub fn url(&self) -> String {
        format!("{}/simple", self.index.url())
    }

    /// The same URL with `user:password@` in it, as pip accepts.
    pub fn url_with_credentials(&self, user: &str, password: &str) -> String {
        format!("http://{user}:{password}@{}/simple", self.index.addr())
    }

    /// `127.0.0.1` (the host a netrc `machine` line names) and the port.
    pub fn host(&self) -> String {
        self.index.addr().ip().to_string()
    }

    /// The project page's path: `/simple/openai-codex-cli-bin/`.
    pub fn project_path(&self) -> String {
        format!("/simple/{PROJECT}/")
    }

    /// Where `filename` is served, absolutely (on the file host when it is another one).
    pub fn file_url(&self, filename: &str) -> String {
        format!("{}{}", self.file_server().url(), file_path(filename))
    }

    /// The path of `filename` on the file host.
    pub fn file_path(&self, filename: &str) -> String {
        file_path(filename)
    }

    /// The genuine sha256 of a published wheel (what the index lists, tampered or not).
    pub fn sha256(&self, filename: &str) -> String {
        let (_, bytes) = self
            .wheels
            .iter()
            .find(|(n, _)| n == filename)
            .unwrap_or_else(|| panic!("no wheel `{filename}` was published"));
        crate::support::github::sha256_hex(bytes)
    }

    /// The index host's server (pages, and files unless they live elsewhere).
    pub fn server(&self) -> &TestServer {
        &self.index
    }

    /// The server the files are on: the second one, or the index host.
    pub fn file_server(&self) -> &TestServer {
        self.files.as_ref().unwrap_or(&self.index)
    }

    /// Every request the index host received, with headers.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.index.requests()
    }

    /// Every request the file host received; empty when the files live on the index host.
    pub fn file_host_requests(&self) -> Vec<RecordedRequest> {
        self.files
            .as_ref()
            .map(TestServer::requests)
            .unwrap_or_default()
    }

    /// Requests to exactly `path` on the index host.
    pub fn count(&self, path: &str) -> usize {
        self.index.requests_to(path).len()
    }

    /// Requests per path on the index host.
    pub fn requests_per_path(&self) -> BTreeMap<String, usize> {
        self.index.counts()
    }

    /// Requests to the project page (with or without its trailing slash).
    pub fn page_requests(&self) -> usize {
        self.count(&self.project_path()) + self.count(&format!("/simple/{PROJECT}"))
    }

    /// Downloads of `filename` from the file host.
    pub fn downloads(&self, filename: &str) -> usize {
        self.file_server().requests_to(&file_path(filename)).len()
    }

    /// The configured credentials reached the index host, and no request to the file host
    /// carried any `authorization` header at all.
    #[track_caller]
    pub fn assert_credentials_stayed_on_the_index(&self) {
        let (user, password) = self
            .basic_auth
            .as_ref()
            .expect("the index was built without basic_auth");
        let expected = basic_auth_header(user, password);
        assert!(
            self.requests()
                .iter()
                .any(|r| r.headers.get("authorization") == Some(&expected)),
            "no request to the index carried the credentials: {:?}",
            self.requests_per_path()
        );
        for r in self.file_host_requests() {
            assert_eq!(
                r.headers.get("authorization"),
                None,
                "credentials sent to the file host for {}",
                r.path
            );
        }
    }
}

/// `Basic base64(user:password)`.
pub fn basic_auth_header(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn file_path(filename: &str) -> String {
    format!("/files/{filename}")
}

/// The version in a wheel file name: `NAME-VERSION-...`.
fn wheel_version(filename: &str) -> Option<&str> {
    filename.split('-').nth(1)
}

struct PageFile {
    filename: String,
    url: String,
    sha256: Option<String>,
    size: usize,
    yanked: Option<String>,
}

struct Page {
    files: Vec<PageFile>,
}

impl Page {
    fn respond(&self, r: &RecordedRequest, json_on: bool) -> Response {
        let accept = r.headers.get("accept").map(String::as_str).unwrap_or("");
        let accepted = |media: &str| accept_q(accept, media) > 0.0;
        if json_on && (accepted(JSON_TYPE) || accepted("application/vnd.pypi.simple.latest+json")) {
            return Response::new(200, self.json())
                .header("content-type", JSON_TYPE)
                .header("vary", "Accept");
        }
        let content_type = if accepted("application/vnd.pypi.simple.v1+html") {
            "application/vnd.pypi.simple.v1+html"
        } else {
            "text/html"
        };
        Response::new(200, self.html())
            .header("content-type", content_type)
            .header("vary", "Accept")
    }

    fn json(&self) -> String {
        let mut versions: Vec<&str> = Vec::new();
        for f in &self.files {
            if let Some(v) = wheel_version(&f.filename) {
                if !versions.contains(&v) {
                    versions.push(v);
                }
            }
        }
        let files: Vec<serde_json::Value> = self
            .files
            .iter()
            .map(|f| {
                let hashes = match &f.sha256 {
                    Some(h) => serde_json::json!({ "sha256": h }),
                    None => serde_json::json!({}),
                };
                let yanked = match f.yanked.as_deref() {
                    None => serde_json::Value::Bool(false),
                    Some("") => serde_json::Value::Bool(true),
                    Some(reason) => serde_json::Value::from(reason),
                };
                serde_json::json!({
                    "filename": f.filename,
                    "url": f.url,
                    "hashes": hashes,
                    "requires-python": REQUIRES_PYTHON,
                    "size": f.size,
                    "upload-time": "2026-11-01T00:00:00.000000Z",
                    "yanked": yanked,
                })
            })
            .collect();
        serde_json::json!({
            "meta": { "api-version": "1.1" },
            "name": PROJECT,
            "files": files,
            "versions": versions,
        })
        .to_string()
    }

    fn html(&self) -> String {
        let mut out = format!(
            "<!DOCTYPE html>\n<html>\n  <head>\n    <meta name=\"pypi:repository-version\" content=\"1.1\">\n    <title>Links for {PROJECT}</title>\n  </head>\n  <body>\n    <h1>Links for {PROJECT}</h1>\n"
        );
        for f in &self.files {
            let href = match &f.sha256 {
                Some(h) => format!("{}#sha256={h}", f.url),
                None => f.url.clone(),
            };
            let yanked = f
                .yanked
                .as_ref()
                .map(|reason| format!(" data-yanked=\"{}\"", html_escape(reason)))
                .unwrap_or_default();
            out.push_str(&format!(
                "    <a href=\"{}\"{yanked} data-requires-python=\"{}\">{}</a><br />\n",
                html_escape(&href),
                html_escape(REQUIRES_PYTHON),
                html_escape(&f.filename)
            ));
        }
        out.push_str("  </body>\n</html>\n");
        out
    }
}

/// The q-value `accept` gives `media` (exact match, `type/*` or `*/*`), 0 when absent.
pub fn accept_q(accept: &str, media: &str) -> f32 {
    let major = media.split('/').next().unwrap_or_default();
    accept
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';').map(str::trim);
            let range = parts.next()?.to_ascii_lowercase();
            let matches = range == media || range == "*/*" || range == format!("{major}/*");
            let q = parts
                .filter_map(|p| p.strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            matches.then_some(q)
        })
        .fold(0.0, f32::max)
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
