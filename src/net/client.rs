//! The one HTTP client every request goes through.
//!
//! - TLS trusts the system store, or only `SSL_CERT_FILE` / `SSL_CERT_DIR` when either is set:
//!   corporate proxies that intercept TLS put their CA there, not in a bundled root list. When
//!   that yields no certificate at all (a slim container without ca-certificates, a mistyped
//!   `SSL_CERT_FILE`), Mozilla's roots bundled in the binary (webpki-roots) are trusted instead,
//!   rather than failing every handshake; [`Http::roots`] says which, for `doctor`.
//! - `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` are honoured, and on macOS and Windows the
//!   system's proxy settings (reqwest's `system-proxy`).
//! - Plain `http://` only to loopback hosts, unless `--allow-http`.
//! - A GitHub token is attached only to requests whose origin is the GitHub API's; registry
//!   credentials (a Python index's user and password, an npm `_authToken`) only to requests
//!   under the URL they were configured for. reqwest drops `Authorization` when a redirect
//!   changes host, and our redirect policy refuses to be downgraded to plain http.
//! - A host that never answered is not retried: a name that does not resolve or a refused
//!   connection hands over to the next source at once. Retries with backoff are for hosts that
//!   did answer (5xx, a cut body, a stalled transfer).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{header, Url};

use crate::redact::DisplayUrl;

pub use super::credentials::{
    split_secrets, Credential, Credentials, ScopedCredential, Token, TOKEN_ENVS,
};
pub use super::error::NetError;
use super::error::{is_tls, tunnel_refused};
use super::retry::GiveUp;
pub use super::roots::Roots;

/// The network's plain inputs, as the command line gives them; [`NetSettings::default`] holds
/// their defaults (clap shows and uses them through `Settings::default`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetSettings {
    pub allow_http: bool,
    /// Seconds to wait for a connection.
    pub connect_timeout: u64,
    /// Seconds a transfer may stall between two reads.
    pub read_timeout: u64,
    /// Seconds a metadata request (an index page, a packument, release JSON, SHA256SUMS) may
    /// take in all, retries included: a server that trickles a byte at a time never trips the
    /// read timeout.
    pub metadata_timeout: u64,
    /// Attempts per request before giving up.
    pub retries: u32,
}

impl Default for NetSettings {
    fn default() -> Self {
        NetSettings {
            allow_http: false,
            connect_timeout: 30,
            read_timeout: 30,
            metadata_timeout: 120,
            retries: 5,
        }
    }
}

/// How to talk to the network, made by [`NetConfig::new`] alone.
#[derive(Debug, Clone)]
pub struct NetConfig {
    pub connect_timeout: Duration,
    /// The longest a transfer may stall between two reads.
    pub read_timeout: Duration,
    /// The longest a metadata request may take in all, retries included.
    pub metadata_timeout: Duration,
    pub allow_http: bool,
    /// Attempts per request before giving up.
    pub attempts: u32,
    pub token: Option<Token>,
    /// Requests to this origin (the GitHub API) carry the token; no other request does.
    pub api_origin: Option<Url>,
    /// Registry credentials, each sent only under its own URL. Shared: a registry located after
    /// the client was built (only when its source is reached) adds its credentials here.
    pub credentials: Credentials,
}

impl NetConfig {
    /// The one place a config is made: `settings` (timeouts and attempts at least 1), the
    /// GitHub API whose origin alone is sent the token from the environment
    /// ([`Token::from_env`]), and the registries' credentials, shared with whoever locates them.
    pub fn new(
        settings: &NetSettings,
        github_api_url: &str,
        credentials: Credentials,
    ) -> NetConfig {
        NetConfig {
            connect_timeout: Duration::from_secs(settings.connect_timeout.max(1)),
            read_timeout: Duration::from_secs(settings.read_timeout.max(1)),
            metadata_timeout: Duration::from_secs(settings.metadata_timeout.max(1)),
            allow_http: settings.allow_http,
            attempts: settings.retries.max(1),
            token: Token::from_env().map(|(t, _)| t),
            api_origin: Url::parse(github_api_url).ok(),
            credentials,
        }
    }
}

/// The shared client.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    pub config: NetConfig,
    roots: Roots,
    /// `host:port` of every server that answered in this process.
    answered: Arc<Mutex<HashSet<String>>>,
}

fn host_key(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(0)
    )
}

impl Http {
    /// A client trusting the system's roots, or the bundled ones when the system has none.
    pub fn new(config: NetConfig) -> Result<Http, NetError> {
        Http::with_roots(config, Roots::load())
    }

    /// A client trusting `roots` (with [`Roots::System`], the system store as reqwest loads it).
    pub fn with_roots(config: NetConfig, mut roots: Roots) -> Result<Http, NetError> {
        let allow_http = config.allow_http;
        let redirect = move || {
            reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 10 {
                    return attempt.error("too many redirects");
                }
                // A redirect may not downgrade us to cleartext to a non-loopback host.
                if !allow_http && attempt.url().scheme() == "http" && !is_loopback(attempt.url()) {
                    return attempt.error("redirect to plain http:// refused");
                }
                attempt.follow()
            })
        };
        let builder = |bundled: bool| {
            reqwest::Client::builder()
                .user_agent(concat!(
                    "codex-bootstrap/",
                    env!("CARGO_PKG_VERSION"),
                    " (+https://github.com/openai/codex)"
                ))
                .connect_timeout(config.connect_timeout)
                .read_timeout(config.read_timeout)
                .redirect(redirect())
                // One set of roots or the other, never both: a user who points SSL_CERT_FILE at
                // their proxy's CA means to trust that and nothing else.
                .tls_built_in_native_certs(!bundled)
                .tls_built_in_webpki_certs(bundled)
                .build()
        };
        let client = match builder(roots.is_bundled()) {
            Ok(c) => c,
            // reqwest refuses a store whose every certificate is unparseable: that is no
            // usable root either.
            Err(e) if !roots.is_bundled() => {
                let from = match &roots {
                    Roots::System { from, .. } | Roots::Bundled { from, .. } => from.clone(),
                };
                roots = Roots::Bundled {
                    from,
                    why: format!("its certificates could not be used ({e})"),
                };
                builder(true).map_err(NetError::Client)?
            }
            Err(e) => return Err(NetError::Client(e)),
        };
        Ok(Http {
            client,
            config,
            roots,
            answered: Arc::default(),
        })
    }

    /// The root certificates this client trusts.
    pub fn roots(&self) -> &Roots {
        &self.roots
    }

    /// Whether another attempt at `url` may succeed after `err`. A connection that could not
    /// be made is worth retrying only if this host answered before: a name that does not
    /// resolve, a refused connection or a connect timeout on first contact means the source is
    /// out of reach, and the caller should move on to the next one now.
    pub fn worth_retrying(&self, url: &Url, err: &NetError) -> bool {
        match err {
            NetError::Connect { .. } => self
                .answered
                .lock()
                .is_ok_and(|a| a.contains(&host_key(url))),
            e => e.is_transient(),
        }
    }

    /// Whether `err` says the host could not be reached at all (as opposed to answering badly).
    pub fn unreachable(&self, url: &Url, err: &NetError) -> bool {
        matches!(err, NetError::Connect { .. }) && !self.worth_retrying(url, err)
    }

    /// Parse and vet a URL against the scheme policy.
    pub fn url(&self, url: &str) -> Result<Url, NetError> {
        allowed_url(url, self.config.allow_http)
    }

    /// A GET that carries no GitHub token: downloads, mirrors, checksum files, registries.
    /// Registry credentials are attached only when `url` is under the URL they belong to.
    pub fn get(&self, url: &Url) -> reqwest::RequestBuilder {
        let requested = self.config.credentials.with_query(url);
        self.with_credentials(url, self.client.get(requested))
    }

    fn with_credentials(
        &self,
        url: &Url,
        mut req: reqwest::RequestBuilder,
    ) -> reqwest::RequestBuilder {
        if let Some(c) = self.config.credentials.for_url(url) {
            req = match &c {
                Credential::Basic { user, password } => {
                    req.basic_auth(user, Some(password.secret()))
                }
                Credential::Bearer(t) => req.bearer_auth(t.secret()),
                // `for_url` gives header credentials only; the query went into the URL.
                Credential::Query(_) => req,
            };
        }
        req
    }

    /// A request with no credential attached: a caller that answers a server's own challenge
    /// (an OCI registry's `WWW-Authenticate`) attaches its own, to that server alone.
    pub fn request(&self, method: reqwest::Method, url: &Url) -> reqwest::RequestBuilder {
        self.client.request(method, url.clone())
    }

    /// A GET to the GitHub API: the token is attached, and only when `url` really is under the
    /// configured API base (same origin and path prefix), so a mistaken caller cannot leak it.
    pub fn get_api(&self, url: &Url) -> reqwest::RequestBuilder {
        let mut req = self
            .get(url)
            .header(header::ACCEPT, "application/vnd.github+json");
        if let (Some(token), Some(api)) = (&self.config.token, &self.config.api_origin) {
            let under_api = url.origin() == api.origin()
                && url.path().starts_with(api.path().trim_end_matches('/'));
            if under_api {
                req = req.header(header::AUTHORIZATION, format!("Bearer {}", token.secret()));
            }
        }
        req
    }

    /// Send, translating transport errors into ones that name the host and the proxy. Each
    /// request is logged (`-v`) with its method, URL (no userinfo, no query), status, length
    /// and time; never a header value.
    pub async fn send(
        &self,
        url: &Url,
        req: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, NetError> {
        let (client, request) = req.build_split();
        let request = request.map_err(|e| self.describe(url, e))?;
        let method = request.method().clone();
        let range = request
            .headers()
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let started = std::time::Instant::now();
        let resp = match client.execute(request).await {
            Ok(resp) => resp,
            Err(e) => {
                let e = self.describe(url, e);
                tracing::debug!(
                    "{method} {} failed after {} ms: {}",
                    crate::redact::DisplayUrl::from(url),
                    started.elapsed().as_millis(),
                    log_reason(&e)
                );
                return Err(e);
            }
        };
        tracing::debug!(
            range,
            length = resp.content_length(),
            redirected_to = (resp.url() != url).then(|| DisplayUrl::from(resp.url()).to_string()),
            "{method} {} -> {} in {} ms",
            crate::redact::DisplayUrl::from(url),
            resp.status().as_u16(),
            started.elapsed().as_millis()
        );
        if let Ok(mut a) = self.answered.lock() {
            a.insert(host_key(url));
        }
        // Only a proxy answers 407: it is never the server's word on the request.
        if resp.status() == reqwest::StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            return Err(self.proxy_refused(url));
        }
        Ok(resp)
    }

    /// The proxy in effect for `url` refused it (HTTP 407).
    fn proxy_refused(&self, url: &Url) -> NetError {
        let raw = proxy_url_for(url);
        NetError::ProxyAuth {
            proxy: DisplayUrl::new(raw.as_deref().unwrap_or("(system proxy)")),
            host: url.host_str().unwrap_or_default().to_string(),
            sent: raw
                .as_deref()
                .and_then(|p| Url::parse(p).ok())
                .is_some_and(|p| !p.username().is_empty() || p.password().is_some()),
        }
    }

    /// Turn a reqwest error into a [`NetError`] that names the host and the proxy in effect.
    /// The error's own copy of the URL is dropped: it is the one requested, with any query
    /// credential, and the error is shown with [`DisplayUrl`]s only.
    pub fn describe(&self, url: &Url, source: reqwest::Error) -> NetError {
        let source = source.without_url();
        let host = url.host_str().unwrap_or_default().to_string();
        let proxy = proxy_for(url);
        if proxy.is_some() && tunnel_refused(&source) {
            return self.proxy_refused(url);
        }
        if source.is_connect() {
            NetError::Connect {
                host,
                proxy,
                source,
            }
        } else if source.is_timeout() {
            NetError::Timeout {
                host,
                proxy,
                source,
            }
        } else {
            NetError::Request {
                url: (&url).into(),
                source,
            }
        }
    }

    /// GET a small body (API JSON with `api`, SHA256SUMS without) into memory, retrying
    /// transient failures. Bodies over `limit` bytes are refused.
    pub async fn get_small(
        &self,
        url: &Url,
        api: bool,
        limit: usize,
    ) -> Result<(u16, header::HeaderMap, Vec<u8>), NetError> {
        self.get_small_accepting(url, api, None, limit).await
    }

    /// [`Http::get_small`] with an `Accept` header (registries negotiate their formats).
    pub async fn get_small_accepting(
        &self,
        url: &Url,
        api: bool,
        accept: Option<&str>,
        limit: usize,
    ) -> Result<(u16, header::HeaderMap, Vec<u8>), NetError> {
        self.get_page(url, api, accept, limit)
            .await
            .map(|p| (p.status, p.headers, p.body))
    }

    /// [`Http::get_small_accepting`], keeping the URL the answer came from after redirects:
    /// relative links resolve against it, and a redirect to a login page shows in it. The
    /// whole request, retries included, ends at the metadata deadline; a body over `limit`
    /// is refused, by its `Content-Length` before a byte is read.
    pub async fn get_page(
        &self,
        url: &Url,
        api: bool,
        accept: Option<&str>,
        limit: usize,
    ) -> Result<Page, NetError> {
        let deadline = self.config.metadata_timeout;
        match tokio::time::timeout(deadline, self.get_page_retrying(url, api, accept, limit)).await
        {
            Ok(page) => page,
            Err(_) => {
                tracing::debug!(
                    "{} did not finish within {} s",
                    crate::redact::DisplayUrl::new(url.as_str()).to_string(),
                    deadline.as_secs()
                );
                Err(NetError::Deadline {
                    url: url.as_str().into(),
                    secs: deadline.as_secs(),
                })
            }
        }
    }

    async fn get_page_retrying(
        &self,
        url: &Url,
        api: bool,
        accept: Option<&str>,
        limit: usize,
    ) -> Result<Page, NetError> {
        let too_large = || NetError::TooLarge {
            url: url.as_str().into(),
            expected: limit as u64,
        };
        self.retrying(url, GiveUp::Last, async |attempt| {
            let mut req = if api {
                self.get_api(url)
            } else {
                self.get(url)
            };
            if let Some(a) = accept {
                req = req.header(header::ACCEPT, a);
            }
            let mut resp = self.send(url, req).await.map_err(|e| (e, None))?;
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let final_url = resp.url().clone();
            // The last attempt's answer is the caller's to read, whatever its status.
            if super::retry::status_is_transient(status) && attempt < self.config.attempts {
                let status = NetError::Status {
                    url: (&url).into(),
                    status,
                };
                return Err((status, retry_after_of(&headers)));
            }
            if resp.content_length().is_some_and(|n| n > limit as u64) {
                return Err((too_large(), None));
            }
            let started = std::time::Instant::now();
            let mut body = Vec::new();
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| (self.describe(url, e), None))?
            {
                if body.len() + chunk.len() > limit {
                    return Err((too_large(), None));
                }
                body.extend_from_slice(&chunk);
            }
            tracing::debug!(
                "{} read: {} bytes in {} ms",
                crate::redact::DisplayUrl::from(url),
                body.len(),
                started.elapsed().as_millis()
            );
            Ok(Page {
                status,
                headers,
                body,
                url: final_url,
            })
        })
        .await
    }
}

/// A small body read whole, with where it came from.
#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub headers: header::HeaderMap,
    pub body: Vec<u8>,
    /// The URL that answered, after redirects.
    pub url: Url,
}

/// Why a request failed, for logs: the kind of failure and the status or byte counts, without
/// the URL (it is logged beside it, redacted) or anything a server or proxy wrote back.
pub fn log_reason(e: &NetError) -> String {
    match e {
        NetError::BadUrl { .. } => "not a valid URL".into(),
        NetError::InsecureUrl { .. } => "plain http:// refused".into(),
        NetError::Client(_) => "the HTTP client could not be built".into(),
        NetError::Connect { proxy, .. } => format!(
            "could not connect{}",
            if proxy.is_some() {
                " (through the proxy)"
            } else {
                ""
            }
        ),
        NetError::Timeout { .. } => "timed out".into(),
        NetError::Request { source, .. } => {
            let io =
                std::iter::successors(Some(source as &(dyn std::error::Error + 'static)), |e| {
                    e.source()
                })
                .find_map(|e| e.downcast_ref::<std::io::Error>())
                .map(|io| format!(" ({:?})", io.kind()))
                .unwrap_or_default();
            let what = if is_tls(source) {
                "TLS failed"
            } else if source.is_body() || source.is_decode() {
                "the body broke off"
            } else {
                "the request failed"
            };
            format!("{what}{io}")
        }
        NetError::Status { status, .. } => format!("HTTP {status}"),
        NetError::ProxyAuth { .. } => "the proxy refused it (HTTP 407)".into(),
        NetError::GaveUp {
            attempts, source, ..
        } => {
            format!("gave up after {attempts} attempts: {}", log_reason(source))
        }
        NetError::Truncated { got, expected, .. } => {
            format!("the body ended at {got} of {expected} bytes")
        }
        NetError::TooLarge { expected, .. } => format!("more than the {expected} bytes expected"),
        NetError::Deadline { secs, .. } => format!("not finished within {secs} s"),
        NetError::File { source, .. } => format!("could not read the file ({:?})", source.kind()),
        NetError::Write { source, .. } => format!("could not write ({:?})", source.kind()),
    }
}

/// The `Retry-After` of a response, bounded.
pub fn retry_after_of(headers: &header::HeaderMap) -> Option<Duration> {
    headers
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| super::retry::retry_after(v, std::time::SystemTime::now()))
}

/// `url` as the client will request it: https, or plain http to a loopback host or with
/// `allow_http` (`--allow-http`); any other scheme, or no host, is refused. `--dry-run` asks
/// the same question of `--mirror` that a download would.
pub fn allowed_url(url: &str, allow_http: bool) -> Result<Url, NetError> {
    let parsed = Url::parse(url).map_err(|_| NetError::BadUrl { url: url.into() })?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(NetError::BadUrl { url: url.into() });
    }
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if allow_http || is_loopback(&parsed) => Ok(parsed),
        "http" => Err(NetError::InsecureUrl {
            host: parsed.host_str().unwrap_or_default().to_string(),
        }),
        _ => Err(NetError::BadUrl { url: url.into() }),
    }
}

/// 127.0.0.0/8, ::1 and `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The proxy reqwest would use for `url`, from the environment, without credentials.
pub fn proxy_for(url: &Url) -> Option<DisplayUrl> {
    proxy_url_for(url).map(DisplayUrl::from)
}

/// The proxy URL for `url` as the environment gives it: credentials included, never printed.
fn proxy_url_for(url: &Url) -> Option<String> {
    let host = url.host_str().unwrap_or_default();
    let no_proxy = env_any(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
    let bypass = no_proxy.split(',').map(str::trim).any(|p| {
        !p.is_empty()
            && (p == "*"
                || host == p.trim_start_matches('.')
                || host.ends_with(&format!(".{}", p.trim_start_matches('.'))))
    });
    if bypass {
        return None;
    }
    let names: &[&str] = if url.scheme() == "https" {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    env_any(names)
}

fn env_any(names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| env_nonempty(n))
}

/// The variable's value, trimmed, unless it is unset or blank.
pub fn env_nonempty(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults, with no GitHub API and no credentials.
    fn config() -> NetConfig {
        NetConfig::new(&NetSettings::default(), "", Credentials::default())
    }

    #[test]
    fn http_only_for_loopback() {
        let http = Http::new(config()).unwrap();
        assert!(http.url("http://127.0.0.1:8080/x").is_ok());
        assert!(http.url("http://127.3.4.5/x").is_ok());
        assert!(http.url("http://[::1]:80/x").is_ok());
        assert!(http.url("http://localhost/x").is_ok());
        assert!(matches!(
            http.url("http://example.com/x"),
            Err(NetError::InsecureUrl { .. })
        ));
        assert!(matches!(
            http.url("http://10.0.0.1/x"),
            Err(NetError::InsecureUrl { .. })
        ));
        assert!(http.url("https://example.com/x").is_ok());
        assert!(matches!(
            http.url("ftp://example.com/x"),
            Err(NetError::BadUrl { .. })
        ));
        let lax = Http::new(NetConfig {
            allow_http: true,
            ..config()
        })
        .unwrap();
        assert!(lax.url("http://example.com/x").is_ok());
    }

    #[test]
    fn token_goes_to_the_api_origin_only() {
        let api = Url::parse("https://api.github.com").unwrap();
        let http = Http::new(NetConfig {
            token: Some(Token::new("sekrit")),
            api_origin: Some(api.clone()),
            ..config()
        })
        .unwrap();
        let auth = |u: &str| {
            http.get_api(&Url::parse(u).unwrap())
                .build()
                .unwrap()
                .headers()
                .contains_key(header::AUTHORIZATION)
        };
        assert!(auth(
            "https://api.github.com/repos/openai/codex/releases/tags/x"
        ));
        assert!(!auth(
            "https://github.com/openai/codex/releases/download/x/y"
        ));
        assert!(!auth("https://mirror.example/rust-v1/x"));
        assert!(
            !auth("http://api.github.com/x"),
            "another scheme is another origin"
        );
        let plain = http
            .get(&Url::parse("https://api.github.com/x").unwrap())
            .build()
            .unwrap();
        assert!(
            !plain.headers().contains_key(header::AUTHORIZATION),
            "downloads never carry it"
        );
        assert_eq!(format!("{:?}", Token::new("sekrit")), "Token(<redacted>)");
    }

    /// ISRG Root X2: one real root, shared with the integration tests.
    const ONE_ROOT: &str = include_str!("../../tests/support/isrg-root-x2.pem");

    #[test]
    fn an_empty_cert_file_and_dir_fall_back_to_the_bundled_roots() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("empty.pem");
        std::fs::write(&file, b"").unwrap();
        let dir = d.path().join("certs");
        std::fs::create_dir(&dir).unwrap();
        // What SSL_CERT_FILE=empty.pem SSL_CERT_DIR=certs makes the loader read.
        let loaded = rustls_native_certs::load_certs_from_paths(Some(&file), Some(&dir));
        let roots = Roots::decide(loaded, "SSL_CERT_FILE=empty.pem".into());
        assert!(roots.is_bundled(), "{roots}");
        assert!(
            roots.to_string().contains("holds no certificate"),
            "{roots}"
        );

        let http = Http::with_roots(config(), roots).unwrap();
        assert!(http
            .roots()
            .to_string()
            .starts_with("bundled Mozilla roots"));
    }

    #[test]
    fn a_missing_cert_file_falls_back_and_says_why() {
        let d = tempfile::tempdir().unwrap();
        let missing = d.path().join("typo.pem");
        let loaded = rustls_native_certs::load_certs_from_paths(Some(&missing), None);
        let roots = Roots::decide(loaded, "SSL_CERT_FILE=typo.pem".into());
        let text = roots.to_string();
        assert!(roots.is_bundled(), "{text}");
        assert!(
            text.contains("SSL_CERT_FILE=typo.pem")
                && text.contains("no certificate could be read"),
            "{text}"
        );
    }

    #[test]
    fn one_usable_root_is_the_users_choice_and_no_bundled_root_is_added() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("proxy-ca.pem");
        std::fs::write(&file, ONE_ROOT).unwrap();
        let loaded = rustls_native_certs::load_certs_from_paths(Some(&file), None);
        let roots = Roots::decide(loaded, "SSL_CERT_FILE=proxy-ca.pem".into());
        assert_eq!(
            roots,
            Roots::System {
                from: "SSL_CERT_FILE=proxy-ca.pem".into(),
                certs: 1
            }
        );
        assert_eq!(
            roots.to_string(),
            "SSL_CERT_FILE=proxy-ca.pem (1 certificate)"
        );
    }
}
