//! A tiny OCI distribution registry on loopback: manifests and blobs by repository, uploads
//! (monolithic, or `PATCH` chunks with `Content-Range` and a status `GET`; a chunk can be made
//! to drop its connection), cross-repository mounts, and the auth flows registries use: none, HTTP Basic, or a Bearer token server at
//! `/token` (realm/service/scope, the login as Basic). Blob GETs may be redirected to a second
//! server standing in for a storage host (S3, a CDN), which records what it was sent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use sha2::Digest;

use super::http::{RecordedRequest, Response, TestServer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    Open,
    Basic { user: String, password: String },
    Bearer { user: String, password: String },
}

#[derive(Default)]
struct State {
    /// (repository, tag or digest) -> (media type, bytes)
    manifests: HashMap<(String, String), (String, Vec<u8>)>,
    blobs: HashMap<String, Vec<u8>>,
    /// Blobs put by the test: in every repository.
    global: std::collections::HashSet<String>,
    /// (repository, digest): which repository holds which blob, as uploads and mounts link it.
    links: std::collections::HashSet<(String, String)>,
    /// Upload sessions: the bytes each has so far.
    sessions: HashMap<String, Vec<u8>>,
    next_session: usize,
    /// Whether mounts are done (else a mount opens an upload, as registries that cannot do).
    no_mounts: bool,
    mounts: usize,
    /// Whether the registry has the referrers API (OCI distribution 1.1); distribution 2.8
    /// has not, and answers 404.
    referrers_api: bool,
    /// The most tags one tag-list page holds (whatever `n` asks).
    tags_page: usize,
    /// The next PATCH keeps this many of its bytes, then the connection drops.
    drop_patch: Option<usize>,
    uploads: usize,
    /// Tokens given, with whether each allows push.
    tokens: Vec<(String, bool)>,
}

pub struct OciRegistry {
    pub server: TestServer,
    /// Where blob GETs are redirected, when asked for.
    pub blob_store: Option<TestServer>,
    state: Arc<Mutex<State>>,
}

pub fn sha256_digest(bytes: &[u8]) -> String {
    let d = sha2::Sha256::digest(bytes);
    format!(
        "sha256:{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

impl OciRegistry {
    pub fn start(auth: Auth) -> OciRegistry {
        OciRegistry::start_with(auth, false)
    }

    /// With `redirect_blobs`, blob GETs answer 307 to the blob store.
    pub fn start_with(auth: Auth, redirect_blobs: bool) -> OciRegistry {
        let server = TestServer::start();
        let blob_store = redirect_blobs.then(TestServer::start);
        let state = Arc::new(Mutex::new(State {
            tags_page: usize::MAX,
            ..State::default()
        }));
        let realm = format!("{}/token", server.url());
        let store_url = blob_store.as_ref().map(|s| s.url());
        if let Some(store) = &blob_store {
            let st = state.clone();
            store.gate(move |req| {
                let digest = req.path.strip_prefix("/storage/")?;
                let st = st.lock().unwrap_or_else(|p| p.into_inner());
                Some(match st.blobs.get(digest) {
                    Some(b) => Response::new(200, b.clone()),
                    None => Response::new(404, ""),
                })
            });
        }
        let st = state.clone();
        server.gate(move |req| Some(route(&st, &auth, &realm, store_url.as_deref(), req)));
        OciRegistry {
            server,
            blob_store,
            state,
        }
    }

    /// `oci+http://127.0.0.1:PORT/REPO`
    pub fn reference(&self, repo: &str) -> String {
        format!("oci+http://{}/{repo}", self.server.addr())
    }

    /// `127.0.0.1:PORT`, as auth files key it.
    pub fn host(&self) -> String {
        self.server.addr().to_string()
    }

    pub fn manifest(&self, repo: &str, reference: &str) -> Option<(String, Vec<u8>)> {
        self.lock()
            .manifests
            .get(&(repo.to_string(), reference.to_string()))
            .cloned()
    }

    pub fn blob(&self, digest: &str) -> Option<Vec<u8>> {
        self.lock().blobs.get(digest).cloned()
    }

    /// Replace a blob's bytes in storage (a damaged or tampered registry).
    pub fn corrupt_blob(&self, digest: &str) {
        if let Some(b) = self.lock().blobs.get_mut(digest) {
            if let Some(x) = b.first_mut() {
                *x ^= 0xff;
            }
        }
    }

    /// Put a manifest (and its blobs) as another client would have pushed it.
    pub fn put_manifest(&self, repo: &str, tag: &str, media_type: &str, bytes: Vec<u8>) {
        let mut st = self.lock();
        let digest = sha256_digest(&bytes);
        st.manifests.insert(
            (repo.to_string(), digest),
            (media_type.to_string(), bytes.clone()),
        );
        st.manifests.insert(
            (repo.to_string(), tag.to_string()),
            (media_type.to_string(), bytes),
        );
    }

    pub fn put_blob(&self, bytes: Vec<u8>) -> String {
        let digest = sha256_digest(&bytes);
        let mut st = self.lock();
        st.blobs.insert(digest.clone(), bytes);
        st.global.insert(digest.clone());
        digest
    }

    /// Whether `repo` holds the blob.
    pub fn has(&self, repo: &str, digest: &str) -> bool {
        let st = self.lock();
        st.global.contains(digest) || st.links.contains(&(repo.to_string(), digest.to_string()))
    }

    /// Serve the referrers API, and say `OCI-Subject` to a manifest with a subject.
    pub fn with_referrers_api(&self) {
        self.lock().referrers_api = true;
    }

    /// Tag lists answer at most `n` tags a page, with a `Link` to the next.
    pub fn tags_per_page(&self, n: usize) {
        self.lock().tags_page = n;
    }

    /// Mounts done.
    pub fn mounts(&self) -> usize {
        self.lock().mounts
    }

    /// Answer mounts as a registry that cannot mount: 202 and an upload.
    pub fn refuse_mounts(&self) {
        self.lock().no_mounts = true;
    }

    /// The next chunk (`PATCH`) keeps `n` of its bytes, then the connection drops unanswered.
    pub fn drop_next_patch_after(&self, n: usize) {
        self.lock().drop_patch = Some(n);
    }

    /// Completed blob uploads.
    pub fn uploads(&self) -> usize {
        self.lock().uploads
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

fn error(status: u16, code: &str) -> Response {
    Response::new(
        status,
        format!(r#"{{"errors":[{{"code":"{code}","message":"{code}"}}]}}"#),
    )
    .header("content-type", "application/json")
}

fn route(
    st: &Mutex<State>,
    auth: &Auth,
    realm: &str,
    blob_store: Option<&str>,
    req: &RecordedRequest,
) -> Response {
    let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
    let given = req
        .headers
        .get("authorization")
        .cloned()
        .unwrap_or_default();
    let mut st = st.lock().unwrap_or_else(|p| p.into_inner());
    if path == "/token" {
        return match auth {
            Auth::Bearer { user, password } if given == basic(user, password) => {
                let token = format!("tok-{}", st.tokens.len() + 1);
                let push = query.contains("%3Apull%2Cpush") || query.contains(":pull,push");
                st.tokens.push((token.clone(), push));
                Response::new(200, format!(r#"{{"token":"{token}"}}"#))
                    .header("content-type", "application/json")
            }
            _ => error(401, "UNAUTHORIZED"),
        };
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return error(404, "NOT_FOUND");
    };
    let allowed = match auth {
        Auth::Open => true,
        Auth::Basic { user, password } => given == basic(user, password),
        // Pushing (POST, PUT) needs a token with push access, as distribution's token auth has.
        Auth::Bearer { .. } => given.strip_prefix("Bearer ").is_some_and(|t| {
            let writes = matches!(req.method.as_str(), "POST" | "PUT" | "PATCH");
            st.tokens
                .iter()
                .any(|(k, push)| k == t && (*push || !writes))
        }),
    };
    if !allowed {
        let challenge = match auth {
            Auth::Basic { .. } => r#"Basic realm="Registry Realm""#.to_string(),
            _ => format!(r#"Bearer realm="{realm}",service="loopback-registry""#),
        };
        return error(401, "UNAUTHORIZED").header("www-authenticate", &challenge);
    }
    if let Some((repo, subject)) = rest.split_once("/referrers/") {
        if !st.referrers_api {
            return error(404, "NOT_FOUND");
        }
        let mut seen = std::collections::HashSet::new();
        let mut manifests = Vec::new();
        let mut keys: Vec<&(String, String)> = st.manifests.keys().collect();
        keys.sort();
        for key in keys {
            let (mt, bytes) = &st.manifests[key];
            let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes) else {
                continue;
            };
            let digest = sha256_digest(bytes);
            if key.0 == repo && doc["subject"]["digest"] == subject && seen.insert(digest.clone()) {
                manifests.push(serde_json::json!({
                    "mediaType": mt,
                    "digest": digest,
                    "size": bytes.len(),
                    "artifactType": doc["artifactType"],
                }));
            }
        }
        let body = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        });
        return Response::new(200, body.to_string())
            .header("content-type", "application/vnd.oci.image.index.v1+json");
    }
    if let Some(repo) = rest.strip_suffix("/tags/list") {
        // Sorted, `n` at a time after `last`, with a `Link` to the next page as distribution.
        let mut tags: Vec<&String> = st
            .manifests
            .keys()
            .filter(|(r, t)| r == repo && !t.starts_with("sha256:"))
            .map(|(_, t)| t)
            .collect();
        tags.sort();
        let param = |k: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
        };
        if let Some(last) = param("last") {
            tags.retain(|t| t.as_str() > last);
        }
        let n = param("n")
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(usize::MAX)
            .min(st.tags_page);
        let more = tags.len() > n;
        tags.truncate(n);
        let body = serde_json::json!({"name": repo, "tags": tags}).to_string();
        let mut r = Response::new(200, body).header("content-type", "application/json");
        if let (true, Some(last)) = (more, tags.last()) {
            r = r.header(
                "link",
                &format!(r#"</v2/{repo}/tags/list?n={n}&last={last}>; rel="next""#),
            );
        }
        return r;
    }
    if let Some((repo, reference)) = rest.split_once("/manifests/") {
        let key = (repo.to_string(), reference.to_string());
        return match req.method.as_str() {
            "PUT" => {
                let media_type = req.headers.get("content-type").cloned().unwrap_or_default();
                let digest = sha256_digest(&req.body);
                st.manifests.insert(
                    (repo.to_string(), digest.clone()),
                    (media_type.clone(), req.body.clone()),
                );
                st.manifests.insert(key, (media_type, req.body.clone()));
                let subject = serde_json::from_slice::<serde_json::Value>(&req.body)
                    .ok()
                    .and_then(|d| d["subject"]["digest"].as_str().map(str::to_string));
                let r = Response::new(201, "").header("docker-content-digest", &digest);
                match subject {
                    Some(s) if st.referrers_api => r.header("oci-subject", &s),
                    _ => r,
                }
            }
            "GET" | "HEAD" => match st.manifests.get(&key) {
                Some((mt, bytes)) => {
                    let r = Response::new(
                        200,
                        if req.method == "GET" {
                            bytes.clone()
                        } else {
                            Vec::new()
                        },
                    )
                    .header("content-type", mt)
                    .header("docker-content-digest", &sha256_digest(bytes));
                    if req.method == "HEAD" {
                        r.header("content-length", &bytes.len().to_string())
                    } else {
                        r
                    }
                }
                None => error(404, "MANIFEST_UNKNOWN"),
            },
            _ => error(405, "UNSUPPORTED"),
        };
    }
    if let Some((repo, session)) = rest.split_once("/blobs/uploads/") {
        let param = |k: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                .map(|v| v.replace("%3A", ":").replace("%2F", "/"))
        };
        let range = |n: usize| format!("0-{}", n.saturating_sub(1));
        let st = &mut *st;
        return match (req.method.as_str(), session) {
            ("POST", "") => {
                if let (Some(digest), Some(from)) = (param("mount"), param("from")) {
                    let held =
                        st.global.contains(&digest) || st.links.contains(&(from, digest.clone()));
                    if held && !st.no_mounts {
                        st.links.insert((repo.to_string(), digest.clone()));
                        st.mounts += 1;
                        return Response::new(201, "")
                            .header("location", &format!("/v2/{repo}/blobs/{digest}"))
                            .header("docker-content-digest", &digest);
                    }
                }
                st.next_session += 1;
                let id = format!("session-{}", st.next_session);
                st.sessions.insert(id.clone(), Vec::new());
                Response::new(202, "")
                    .header(
                        "location",
                        &format!("/v2/{repo}/blobs/uploads/{id}?state=x"),
                    )
                    .header("range", "0-0")
            }
            ("PATCH", id) => {
                let Some(have) = st.sessions.get_mut(id) else {
                    return error(404, "BLOB_UPLOAD_UNKNOWN");
                };
                let start = req
                    .headers
                    .get("content-range")
                    .and_then(|r| r.split_once('-'))
                    .and_then(|(a, _)| a.parse::<usize>().ok())
                    .unwrap_or(have.len());
                if start != have.len() {
                    return error(416, "BLOB_UPLOAD_INVALID").header("range", &range(have.len()));
                }
                if let Some(keep) = st.drop_patch.take() {
                    have.extend_from_slice(&req.body[..keep.min(req.body.len())]);
                    return Response::new(0, "");
                }
                have.extend_from_slice(&req.body);
                Response::new(202, "")
                    .header(
                        "location",
                        &format!("/v2/{repo}/blobs/uploads/{id}?state=y"),
                    )
                    .header("range", &range(have.len()))
            }
            ("GET", id) => match st.sessions.get(id) {
                Some(have) => Response::new(204, "")
                    .header(
                        "location",
                        &format!("/v2/{repo}/blobs/uploads/{id}?state=z"),
                    )
                    .header("range", &range(have.len())),
                None => error(404, "BLOB_UPLOAD_UNKNOWN"),
            },
            ("PUT", id) => {
                let Some(mut bytes) = st.sessions.remove(id) else {
                    return error(404, "BLOB_UPLOAD_UNKNOWN");
                };
                bytes.extend_from_slice(&req.body);
                let digest = param("digest").unwrap_or_default();
                if sha256_digest(&bytes) != digest {
                    return error(400, "DIGEST_INVALID");
                }
                st.blobs.insert(digest.clone(), bytes);
                st.links.insert((repo.to_string(), digest.clone()));
                st.uploads += 1;
                Response::new(201, "").header("docker-content-digest", &digest)
            }
            _ => error(405, "UNSUPPORTED"),
        };
    }
    if let Some((repo, digest)) = rest.split_once("/blobs/") {
        let held = st.global.contains(digest)
            || st.links.contains(&(repo.to_string(), digest.to_string()));
        let Some(bytes) = st.blobs.get(digest).filter(|_| held).cloned() else {
            return error(404, "BLOB_UNKNOWN");
        };
        return match (req.method.as_str(), blob_store) {
            ("HEAD", _) => Response::new(200, Vec::new())
                .header("content-length", &bytes.len().to_string())
                .header("docker-content-digest", digest),
            ("GET", Some(store)) => {
                Response::new(307, "").header("location", &format!("{store}/storage/{digest}"))
            }
            ("GET", None) => Response::new(200, bytes).header("docker-content-digest", digest),
            _ => error(405, "UNSUPPORTED"),
        };
    }
    error(404, "NOT_FOUND")
}
