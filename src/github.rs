//! GitHub release metadata: one API request per release, at most; errors that explain rate
//! limits and missing releases.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::HeaderMap;
use serde::Deserialize;

use crate::error::Hint;
use crate::net::client::{Http, NetError, TOKEN_ENVS};

pub(crate) const DEFAULT_API_URL: &str = "https://api.github.com";
pub(crate) const DEFAULT_DOWNLOAD_URL: &str = "https://github.com/openai/codex/releases/download";
/// The repository whose releases carry the runtime.
pub(crate) const REPO: &str = "openai/codex";
/// Release JSON is small; anything bigger is not GitHub talking.
const MAX_JSON: usize = 8 << 20;

/// A release, as much of it as we use.
#[derive(Debug, Clone, Deserialize)]
pub struct Release {
    pub tag_name: String,
    #[serde(default)]
    pub prerelease: bool,
    #[serde(default)]
    pub draft: bool,
    #[serde(default)]
    pub assets: Vec<ReleaseAsset>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ReleaseAsset {
    pub name: String,
    #[serde(default)]
    pub size: Option<u64>,
    /// `sha256:<hex>` on releases published since GitHub started computing asset digests.
    #[serde(default)]
    pub digest: Option<String>,
    pub browser_download_url: String,
}

impl Release {
    pub(crate) fn asset(&self, name: &str) -> Option<&ReleaseAsset> {
        self.assets.iter().find(|a| a.name == name)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GithubError {
    #[error("GitHub's API rate limit is exhausted{}{}", if *.authenticated { " for this token" } else { " for anonymous requests from this address" }, reset_note(.reset))]
    RateLimited {
        reset: Option<SystemTime>,
        authenticated: bool,
    },
    #[error("GitHub has no release `{tag}` in {REPO}")]
    NotFound { tag: String },
    #[error("GitHub's API answered HTTP {status} for `{url}`: {message}")]
    Status {
        url: crate::redact::DisplayUrl,
        status: u16,
        message: String,
    },
    #[error("GitHub's API sent a release we cannot read (`{url}`)")]
    Malformed {
        url: crate::redact::DisplayUrl,
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Net(#[from] NetError),
}

fn reset_note(reset: &Option<SystemTime>) -> String {
    let Some(reset) = reset else {
        return String::new();
    };
    let secs = reset
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let wait = reset
        .duration_since(SystemTime::now())
        .unwrap_or(Duration::ZERO)
        .as_secs();
    format!(
        "; it resets at {} (in {} min)",
        httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs)),
        wait.div_ceil(60)
    )
}

impl Hint for GithubError {
    fn hint(&self) -> Option<String> {
        match self {
            GithubError::RateLimited { authenticated: false, .. } => Some(format!(
                "set {} to a GitHub token (5,000 requests an hour), or pin digests with `codex-bootstrap pin` so install makes no API request",
                TOKEN_ENVS.join(" or ")
            )),
            GithubError::RateLimited { authenticated: true, .. } => Some("wait for the reset, or pin digests with `codex-bootstrap pin` so install makes no API request".into()),
            GithubError::NotFound { .. } => Some("check the version (`--version`); releases are listed at https://github.com/openai/codex/releases".into()),
            GithubError::Status { status: 401, .. } => Some(format!("the token in {} was refused; unset it or renew it", TOKEN_ENVS.join("/"))),
            GithubError::Status { .. } | GithubError::Malformed { .. } => Some("check `--github-api-url`, or pin digests with `codex-bootstrap pin` so no API request is needed".into()),
            GithubError::Net(e) => e.hint(),
        }
    }
}

/// `{api}/repos/openai/codex/releases/tags/{tag}`.
pub fn release_url(api_url: &str, tag: &str) -> String {
    format!(
        "{}/repos/{REPO}/releases/tags/{tag}",
        api_url.trim_end_matches('/')
    )
}

/// `{api}/repos/openai/codex/releases/latest`.
pub(crate) fn latest_url(api_url: &str) -> String {
    format!(
        "{}/repos/{REPO}/releases/latest",
        api_url.trim_end_matches('/')
    )
}

/// A client for the release API.
pub struct Github<'a> {
    pub http: &'a Http,
    pub api_url: String,
}

impl<'a> Github<'a> {
    pub fn new(http: &'a Http, api_url: &str) -> Github<'a> {
        Github {
            http,
            api_url: api_url.trim_end_matches('/').to_string(),
        }
    }

    pub fn release_url(&self, tag: &str) -> String {
        release_url(&self.api_url, tag)
    }

    pub(crate) fn latest_url(&self) -> String {
        latest_url(&self.api_url)
    }

    /// `GET /repos/openai/codex/releases/tags/{tag}`.
    pub async fn release(&self, tag: &str) -> Result<Release, GithubError> {
        self.get_release(&self.release_url(tag), tag).await
    }

    /// `GET /repos/openai/codex/releases/latest`: the newest stable release.
    pub async fn latest(&self) -> Result<Release, GithubError> {
        self.get_release(&self.latest_url(), "latest").await
    }

    /// The release at `url` (what a plan names), `tag` naming it in errors.
    pub(crate) async fn release_at(&self, url: &str, tag: &str) -> Result<Release, GithubError> {
        self.get_release(url, tag).await
    }

    async fn get_release(&self, url: &str, tag: &str) -> Result<Release, GithubError> {
        let parsed = self.http.url(url)?;
        let (status, headers, body) = self.http.get_small(&parsed, true, MAX_JSON).await?;
        match status {
            200 => serde_json::from_slice(&body).map_err(|source| GithubError::Malformed {
                url: (&url).into(),
                source,
            }),
            403 | 429 if is_rate_limited(&headers, &body) => Err(GithubError::RateLimited {
                reset: header_u64(&headers, "x-ratelimit-reset")
                    .map(|s| UNIX_EPOCH + Duration::from_secs(s)),
                authenticated: self.http.config.token.is_some(),
            }),
            404 => Err(GithubError::NotFound {
                tag: tag.to_string(),
            }),
            _ => Err(GithubError::Status {
                url: (&url).into(),
                status,
                message: api_message(&body),
            }),
        }
    }
}

fn header_u64(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// GitHub signals the primary rate limit with `x-ratelimit-remaining: 0`, and secondary limits
/// with `retry-after` or a message that says so.
fn is_rate_limited(headers: &HeaderMap, body: &[u8]) -> bool {
    header_u64(headers, "x-ratelimit-remaining") == Some(0)
        || headers.contains_key("retry-after")
        || api_message(body)
            .to_ascii_lowercase()
            .contains("rate limit")
}

/// The `message` of a GitHub error body, shortened; never echoes anything else.
fn api_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct ApiError {
        message: Option<String>,
    }
    serde_json::from_slice::<ApiError>(body)
        .ok()
        .and_then(|e| e.message)
        .map(|m| crate::remote::printable(&m).chars().take(200).collect())
        .unwrap_or_else(|| "(no message)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_message_loses_its_control_characters() {
        let body = br#"{"message":"Bad\u001b[2J\rcredentials\u0007"}"#;
        assert_eq!(api_message(body), "Badcredentials");
    }

    #[test]
    fn release_json_parses_with_and_without_digests() {
        let json = r#"{"tag_name":"rust-v0.163.0","prerelease":false,"extra":1,
            "assets":[{"name":"a","size":3,"digest":"sha256:abc","browser_download_url":"https://x/a"},
                      {"name":"b","digest":null,"browser_download_url":"https://x/b"}]}"#;
        let r: Release = serde_json::from_str(json).unwrap();
        assert_eq!(r.asset("a").unwrap().digest.as_deref(), Some("sha256:abc"));
        assert!(r.asset("b").unwrap().digest.is_none());
        assert!(r.asset("c").is_none());
    }

    #[test]
    fn rate_limit_detection() {
        let mut h = HeaderMap::new();
        assert!(!is_rate_limited(&h, b"{\"message\":\"Bad credentials\"}"));
        assert!(is_rate_limited(
            &h,
            b"{\"message\":\"API rate limit exceeded for 1.2.3.4.\"}"
        ));
        h.insert("x-ratelimit-remaining", "0".parse().unwrap());
        assert!(is_rate_limited(&h, b""));
    }

    #[test]
    fn rate_limit_message_names_reset_and_fixes() {
        let e = GithubError::RateLimited {
            reset: Some(SystemTime::now() + Duration::from_secs(600)),
            authenticated: false,
        };
        let text = e.to_string();
        assert!(
            text.contains("rate limit") && text.contains("resets at"),
            "{text}"
        );
        assert!(
            e.hint().unwrap().contains("GH_TOKEN")
                && e.hint().unwrap().contains("codex-bootstrap pin")
        );
    }
}
