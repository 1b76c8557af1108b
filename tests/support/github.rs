//! A fake GitHub: the release API (`/repos/openai/codex/releases/...`, `/rate_limit`) and the
//! release downloads (`/download/<tag>/<asset>`), on one loopback [`TestServer`].

use std::sync::{Arc, Mutex};

use crate::support::http::{Response, TestServer};

/// How the API reports an asset's digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestMode {
    /// `"digest": "sha256:<the real one>"`
    Api,
    /// `"digest": null` (releases from before GitHub computed digests)
    None,
    /// A digest that does not match the bytes.
    Wrong,
}

/// A release asset.
#[derive(Debug, Clone)]
pub struct Asset {
    pub name: String,
    pub bytes: Vec<u8>,
    pub digest: DigestMode,
}

impl Asset {
    pub fn new(name: &str, bytes: Vec<u8>, digest: DigestMode) -> Asset {
        Asset {
            name: name.to_string(),
            bytes,
            digest,
        }
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `codex-package_SHA256SUMS` for these assets.
pub fn sha256sums(assets: &[Asset]) -> String {
    assets
        .iter()
        .map(|a| format!("{}  {}\n", sha256_hex(&a.bytes), a.name))
        .collect()
}

pub struct ReleaseServer {
    http: TestServer,
    rate_limited: Arc<Mutex<Option<u64>>>,
}

impl ReleaseServer {
    pub fn start() -> ReleaseServer {
        let http = TestServer::start();
        let server = ReleaseServer {
            http,
            rate_limited: Arc::new(Mutex::new(None)),
        };
        let limited = server.rate_limited.clone();
        server.http.add_responder("/rate_limit", move |_| {
            let remaining = if limited.lock().map(|l| l.is_some()).unwrap_or(false) { 0 } else { 59 };
            Response::new(200, format!("{{\"resources\":{{\"core\":{{\"limit\":60,\"remaining\":{remaining},\"reset\":4000000000}}}}}}"))
                .header("content-type", "application/json")
        });
        server
    }

    pub fn http(&self) -> &TestServer {
        &self.http
    }

    /// The API base, as for `--github-api-url`.
    pub fn api_url(&self) -> String {
        self.http.url()
    }

    /// The download base, as for `--github-download-url` or `--mirror`.
    pub fn download_url(&self) -> String {
        format!("{}/download", self.http.url())
    }

    pub fn requests(&self) -> Vec<crate::support::http::RecordedRequest> {
        self.http.requests()
    }

    /// Every API request carried `token` as a bearer token, and no download request carried any.
    pub fn assert_token_went_to_the_api_only(&self, token: &str) {
        for r in self.requests() {
            let auth = r.headers.get("authorization").map(String::as_str);
            if r.path.starts_with("/repos/") {
                assert_eq!(auth, Some(format!("Bearer {token}").as_str()));
            } else {
                assert_eq!(auth, None, "token sent to {}", r.path);
            }
        }
    }

    /// Publish a release: its API JSON and its downloads.
    pub fn add_release(&self, tag: &str, assets: &[Asset]) {
        let json = self.release_json(tag, assets);
        for a in assets {
            self.http
                .add_file(&format!("/download/{tag}/{}", a.name), a.bytes.clone());
        }
        self.add_api(&format!("/repos/openai/codex/releases/tags/{tag}"), json);
    }

    /// Make `/releases/latest` answer with `tag`'s release.
    pub fn set_latest(&self, tag: &str, assets: &[Asset]) {
        let json = self.release_json(tag, assets);
        self.add_api("/repos/openai/codex/releases/latest", json);
    }

    fn add_api(&self, path: &str, json: String) {
        let limited = self.rate_limited.clone();
        self.http.add_responder(path, move |_| {
            if let Some(reset) = *limited.lock().unwrap_or_else(|p| p.into_inner()) {
                return Response::new(403, "{\"message\":\"API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit.)\",\"documentation_url\":\"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting\"}")
                    .header("content-type", "application/json")
                    .header("x-ratelimit-limit", "60")
                    .header("x-ratelimit-remaining", "0")
                    .header("x-ratelimit-reset", &reset.to_string());
            }
            Response::new(200, json.clone()).header("content-type", "application/json")
        });
    }

    fn release_json(&self, tag: &str, assets: &[Asset]) -> String {
        let assets: Vec<serde_json::Value> = assets
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let digest = match a.digest {
                    DigestMode::Api => serde_json::Value::from(format!("sha256:{}", sha256_hex(&a.bytes))),
                    DigestMode::Wrong => serde_json::Value::from(format!("sha256:{}", sha256_hex(b"something else"))),
                    DigestMode::None => serde_json::Value::Null,
                };
                serde_json::json!({
                    "id": i + 1,
                    "name": a.name,
                    "size": a.bytes.len(),
                    "digest": digest,
                    "content_type": "application/octet-stream",
                    "state": "uploaded",
                    "url": format!("{}/repos/openai/codex/releases/assets/{}", self.api_url(), i + 1),
                    "browser_download_url": format!("{}/{tag}/{}", self.download_url(), a.name),
                })
            })
            .collect();
        serde_json::json!({
            "tag_name": tag,
            "name": tag,
            "draft": false,
            "prerelease": tag.contains('-'),
            "published_at": "2026-11-01T00:00:00Z",
            "assets": assets,
        })
        .to_string()
    }

    /// From now on the API answers 403 with GitHub's rate-limit headers, resetting at `reset`.
    pub fn rate_limited(&self, reset_epoch: u64) {
        *self.rate_limited.lock().unwrap_or_else(|p| p.into_inner()) = Some(reset_epoch);
    }
}
