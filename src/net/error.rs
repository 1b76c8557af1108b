//! What a request can fail with, and what to do about it.

use crate::error::Hint;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("`{url}` is not a valid URL")]
    BadUrl { url: crate::redact::DisplayUrl },
    #[error("refusing plain http:// to `{host}`")]
    InsecureUrl { host: String },
    #[error("could not build the HTTP client")]
    Client(#[source] reqwest::Error),
    #[error("could not connect to `{host}`{}", proxy_note(.proxy))]
    Connect {
        host: String,
        proxy: Option<crate::redact::DisplayUrl>,
        #[source]
        source: reqwest::Error,
    },
    #[error("request to `{host}` timed out{}", proxy_note(.proxy))]
    Timeout {
        host: String,
        proxy: Option<crate::redact::DisplayUrl>,
        #[source]
        source: reqwest::Error,
    },
    #[error("request to `{url}` failed")]
    Request {
        url: crate::redact::DisplayUrl,
        #[source]
        source: reqwest::Error,
    },
    #[error("`{url}` answered HTTP {status}")]
    Status {
        url: crate::redact::DisplayUrl,
        status: u16,
    },
    /// HTTP 407: the proxy's answer, not the server's (plain http through the proxy answers
    /// with it; an https `CONNECT` the proxy refuses ends in it).
    #[error("the proxy `{proxy}` refused the request for `{host}` (HTTP 407): {}", if *.sent { "it rejected the proxy credentials given" } else { "it wants credentials, and none were given" })]
    ProxyAuth {
        proxy: crate::redact::DisplayUrl,
        host: String,
        /// Whether the proxy URL carried credentials.
        sent: bool,
    },
    #[error("the transfer of `{url}` failed after {attempts} attempts")]
    GaveUp {
        url: crate::redact::DisplayUrl,
        attempts: u32,
        #[source]
        source: Box<NetError>,
    },
    #[error("the body of `{url}` ended early: {got} of {expected} bytes")]
    Truncated {
        url: crate::redact::DisplayUrl,
        got: u64,
        expected: u64,
    },
    /// More bytes than the transfer's expected size (a pin, the index's or the API's size, a
    /// metadata cap): stopped there, by `Content-Length` before reading when it says so.
    #[error("`{url}` sent more than the {expected} bytes expected: the transfer was stopped")]
    TooLarge {
        url: crate::redact::DisplayUrl,
        expected: u64,
    },
    /// A metadata request that was still going at its total deadline.
    #[error("`{url}` did not answer in full within {secs} s")]
    Deadline {
        url: crate::redact::DisplayUrl,
        secs: u64,
    },
    #[error("could not read `{path}`")]
    File {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not write the download to `{path}`")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn proxy_note(proxy: &Option<crate::redact::DisplayUrl>) -> String {
    proxy
        .as_ref()
        .map(|p| format!(" (through proxy `{p}`)"))
        .unwrap_or_default()
}

impl NetError {
    /// Whether another attempt may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            NetError::Connect { .. } | NetError::Timeout { .. } | NetError::Truncated { .. } => {
                true
            }
            NetError::Request { source, .. } => super::retry::error_is_transient(source),
            NetError::Status { status, .. } => super::retry::status_is_transient(*status),
            _ => false,
        }
    }
}

impl Hint for NetError {
    fn hint(&self) -> Option<String> {
        match self {
            NetError::BadUrl { .. } => Some("check the URL given to `--mirror` / `--github-api-url`".into()),
            NetError::InsecureUrl { .. } => Some("use https://, or pass `--allow-http` if this host is trusted".into()),
            NetError::Connect { proxy: Some(_), .. } | NetError::Timeout { proxy: Some(_), .. } => Some("check the proxy in HTTPS_PROXY / NO_PROXY, or use a mirror with `--mirror URL`".into()),
            NetError::Connect { .. } | NetError::Timeout { .. } => Some("are you offline or behind a proxy? set HTTPS_PROXY, use `--mirror URL`, or install from a file with `--archive`".into()),
            NetError::Request { source, .. } if is_tls(source) => Some("TLS verification failed: if a proxy intercepts TLS, put its CA in the system store or point SSL_CERT_FILE at it".into()),
            NetError::Status { status: 404, .. } => Some("the file is not there: check the version and `--mirror`".into()),
            NetError::ProxyAuth { sent: true, .. } => Some("fix the proxy's user and password in HTTPS_PROXY / HTTP_PROXY (`http://user:password@proxy:port`, %-escaped), or exempt the host in NO_PROXY".into()),
            NetError::ProxyAuth { sent: false, .. } => Some("give the proxy's user and password in HTTPS_PROXY / HTTP_PROXY (`http://user:password@proxy:port`, %-escaped), or exempt the host in NO_PROXY".into()),
            NetError::GaveUp { source, .. } => source.hint(),
            NetError::Truncated { .. } | NetError::Request { .. } | NetError::Status { .. } => Some("rerun to resume the download; raise `--retries` or `--read-timeout` on a slow network".into()),
            NetError::Client(_) => Some("check SSL_CERT_FILE and the proxy variables".into()),
            NetError::TooLarge { .. } => Some("the server sent more than the file it lists: it is broken or hostile; use another `--source` or `--mirror`".into()),
            NetError::Deadline { .. } => Some("the server is too slow: raise `--metadata-timeout` (CODEX_BOOTSTRAP_METADATA_TIMEOUT) on a slow network, or use another `--source` or `--mirror`".into()),
            NetError::File { .. } => Some("check the path given to `--mirror file://…`".into()),
            NetError::Write { .. } => Some("the cache must be writable, with room for the download: see `--cache-dir`".into()),
        }
    }
}

/// An https `CONNECT` that the proxy answered with 407 (hyper-util's tunnel error says
/// "proxy authorization required"; the status itself is not kept).
pub(super) fn tunnel_refused(e: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        if c.to_string()
            .to_ascii_lowercase()
            .contains("proxy authorization required")
        {
            return true;
        }
        cur = c.source();
    }
    false
}

pub(super) fn is_tls(e: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cur {
        let s = c.to_string().to_ascii_lowercase();
        if s.contains("certificate") || s.contains("tls") || s.contains("handshake") {
            return true;
        }
        cur = c.source();
    }
    false
}
