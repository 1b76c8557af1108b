//! The distribution API for one repository, over our one HTTP client: manifests GET/PUT, blobs
//! HEAD/GET, cross-repository mount (`POST …/blobs/uploads/?mount=&from=`), and uploads:
//! monolithic (`POST …/blobs/uploads/`, then `PUT <location>?digest=`) or, for a blob larger
//! than the chunk size, `PATCH` chunks with `Content-Range` that resume from the upload's
//! status (`GET <location>`, its `Range`) after a dropped connection.
//!
//! Authentication answers the registry's challenge: a request goes out with what we have; on
//! 401 the `WWW-Authenticate` header says `Basic` (send the login) or `Bearer realm,service,scope`
//! (fetch a token from the realm with the login, then send the token), and the request is sent
//! once more. The login and the token are attached only to requests to the registry's own host
//! and port (the token request to the realm carries the login): a blob redirected to a storage
//! host gets neither (reqwest drops `Authorization` across hosts, and we attach nothing there).

use std::path::Path;
use std::sync::Mutex;

use reqwest::{header, Method, StatusCode, Url};

use super::auth::{AuthFiles, Login};
use super::image;
use super::{OciError, Reference};
use crate::net::{Http, Token};
use crate::redact::DisplayUrl;

/// What a request needs: reading, or pushing too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Pull,
    Push,
}

#[derive(Debug, Clone)]
enum Auth {
    /// Nothing sent yet; the first 401 says what to send.
    None,
    Basic,
    Bearer(Token),
}

/// One repository on a registry, with its login.
pub struct Registry<'a> {
    http: &'a Http,
    pub reference: Reference,
    login: Option<Login>,
    looked: String,
    auth: Mutex<Auth>,
    /// The access tokens are asked for: a pusher asks for push from its first request, so one
    /// token serves the HEADs, uploads and manifests alike.
    intent: Access,
    /// Repositories of this registry a blob may be mounted from instead of sent.
    mount_from: Vec<String>,
    /// Blobs larger than this go up in chunks of this size.
    chunk: u64,
}

/// What pushing a blob did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The repository had it.
    Present,
    /// The registry linked it from another of its repositories.
    Mounted { from: String },
    /// Its bytes went up.
    Uploaded,
}

/// The chunk size of an upload: large enough for every registry's minimum (ECR's is 5 MiB),
/// small enough that a dropped connection costs little.
pub const CHUNK: u64 = 32 << 20;
/// A test knob: the chunk size in bytes, so a test against a real registry sends a small
/// layer in chunks.
pub(crate) const TEST_CHUNK_SIZE: &str = "__CODEX_BOOTSTRAP_TEST_OCI_CHUNK_SIZE";
/// How many times an upload resumes after a failed chunk before it gives up.
const RESUMES: u32 = 5;

/// A manifest or index as the registry served it: its bytes are what its digest covers.
#[derive(Debug, Clone)]
pub struct Document {
    pub media_type: String,
    pub digest: String,
    pub bytes: Vec<u8>,
    pub url: String,
}

/// Manifests and indexes are small; a larger one is refused before it is read.
const MANIFEST_LIMIT: usize = 4 << 20;

impl<'a> Registry<'a> {
    /// The repository `reference` names, with the login `files` hold for its registry.
    pub fn new(
        http: &'a Http,
        reference: Reference,
        files: &AuthFiles,
    ) -> Result<Registry<'a>, OciError> {
        let login = files.lookup(&reference.registry)?;
        Ok(Registry {
            http,
            reference,
            login,
            looked: files.describe(),
            auth: Mutex::new(Auth::None),
            intent: Access::Pull,
            mount_from: Vec::new(),
            chunk: std::env::var(TEST_CHUNK_SIZE)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|n| *n > 0)
                .unwrap_or(CHUNK),
        })
    }

    /// Blobs this repository lacks are mounted from these repositories of the same registry
    /// when they have them (`POST …/uploads/?mount=&from=`), instead of sent again.
    pub fn mounting_from(mut self, repositories: Vec<String>) -> Self {
        self.mount_from = repositories
            .into_iter()
            .filter(|r| *r != self.reference.repository)
            .collect();
        self
    }

    /// Upload blobs larger than `bytes` in chunks of `bytes` (at least 1).
    pub fn chunk_size(mut self, bytes: u64) -> Self {
        self.chunk = bytes.max(1);
        self
    }

    /// This client will push: its tokens carry push access from the start.
    pub fn pushing(mut self) -> Self {
        self.intent = Access::Push;
        self
    }

    /// Where the login came from, for a plan or a message.
    pub fn login_from(&self) -> Option<&str> {
        self.login.as_ref().map(|l| l.from.as_str())
    }

    /// The token in use after a Bearer exchange: the install path hands it to the download
    /// pipeline, scoped to this repository's blobs.
    pub fn bearer(&self) -> Option<Token> {
        match &*self.auth.lock().ok()? {
            Auth::Bearer(t) => Some(t.clone()),
            _ => None,
        }
    }

    /// The Basic login, when the registry asked for Basic.
    pub fn basic(&self) -> Option<(String, Token)> {
        match &*self.auth.lock().ok()? {
            Auth::Basic => self
                .login
                .as_ref()
                .map(|l| (l.user.clone(), l.secret.clone())),
            _ => None,
        }
    }

    fn url(&self, raw: &str) -> Result<Url, OciError> {
        Ok(self.http.url(raw)?)
    }

    /// Whether `url` is on the registry's own host and port: only there do credentials go.
    fn is_registry(&self, url: &Url) -> bool {
        let base = Url::parse(&self.reference.api_base()).ok();
        base.is_some_and(|b| {
            b.scheme() == url.scheme()
                && b.host_str() == url.host_str()
                && b.port_or_known_default() == url.port_or_known_default()
        })
    }

    fn authorize(&self, url: &Url, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        if !self.is_registry(url) {
            return req;
        }
        let auth = self.auth.lock().map(|a| a.clone()).unwrap_or(Auth::None);
        match (auth, &self.login) {
            (Auth::Bearer(t), _) => req.bearer_auth(t.secret()),
            (Auth::Basic, Some(l)) => req.basic_auth(&l.user, Some(l.secret.secret())),
            _ => req,
        }
    }

    fn scope(&self, access: Access) -> String {
        let what = match (access, self.intent) {
            (Access::Push, _) | (_, Access::Push) => Access::Push,
            _ => Access::Pull,
        };
        let what = match what {
            Access::Pull => "pull",
            Access::Push => "pull,push",
        };
        format!("repository:{}:{what}", self.reference.repository)
    }

    /// A pull request: `method` on `url`, accepting `accept` when given ([`Client::send`]).
    async fn pull(
        &self,
        method: Method,
        url: &Url,
        accept: Option<&'static str>,
    ) -> Result<reqwest::Response, OciError> {
        self.send(url, Access::Pull, || {
            let request = self.http.request(method.clone(), url);
            Ok(match accept {
                Some(a) => request.header(header::ACCEPT, a),
                None => request,
            })
        })
        .await
    }

    /// Send what `build` makes, answering one challenge; a second 401, or a 403, is a verdict
    /// naming the credentials and where they came from.
    async fn send(
        &self,
        url: &Url,
        access: Access,
        build: impl Fn() -> Result<reqwest::RequestBuilder, OciError>,
    ) -> Result<reqwest::Response, OciError> {
        let mut answered = false;
        loop {
            let resp = self.http.send(url, self.authorize(url, build()?)).await?;
            match resp.status() {
                StatusCode::UNAUTHORIZED if !answered && self.is_registry(url) => {
                    let challenge = resp
                        .headers()
                        .get(header::WWW_AUTHENTICATE)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_string();
                    self.answer(&challenge, access).await?;
                    answered = true;
                }
                StatusCode::UNAUTHORIZED => return Err(self.unauthorized()),
                StatusCode::FORBIDDEN => {
                    return Err(OciError::Denied {
                        registry: self.reference.registry.clone(),
                        scope: self.scope(access),
                        from: self.login.as_ref().map(|l| l.from.clone()),
                    })
                }
                _ => return Ok(resp),
            }
        }
    }

    fn unauthorized(&self) -> OciError {
        OciError::Unauthorized {
            registry: self.reference.registry.clone(),
            from: self.login.as_ref().map(|l| l.from.clone()),
            looked: self.looked.clone(),
        }
    }

    /// Answer a `WWW-Authenticate` challenge: remember Basic, or fetch a Bearer token.
    async fn answer(&self, challenge: &str, access: Access) -> Result<(), OciError> {
        let (scheme, params) =
            parse_challenge(challenge).ok_or_else(|| OciError::BadChallenge {
                challenge: challenge.to_string(),
            })?;
        if scheme.eq_ignore_ascii_case("basic") {
            if self.login.is_none() {
                return Err(self.unauthorized());
            }
            if let Ok(mut a) = self.auth.lock() {
                *a = Auth::Basic;
            }
            return Ok(());
        }
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(OciError::BadChallenge {
                challenge: challenge.to_string(),
            });
        }
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        let realm = get("realm").ok_or_else(|| OciError::BadChallenge {
            challenge: challenge.to_string(),
        })?;
        // The scope we need; a registry's own `scope` is for the request it refused, which
        // may be narrower than a push needs.
        let scope = self.scope(access);
        let mut token_url = self.url(realm)?;
        {
            let mut q = token_url.query_pairs_mut();
            if let Some(s) = get("service") {
                q.append_pair("service", s);
            }
            q.append_pair("scope", &scope);
            // A mount reads the blob from its repository: the token must allow that too.
            if self.intent == Access::Push {
                for from in &self.mount_from {
                    q.append_pair("scope", &format!("repository:{from}:pull"));
                }
            }
        }
        let mut req = self.http.request(Method::GET, &token_url);
        if let Some(l) = &self.login {
            req = req.basic_auth(&l.user, Some(l.secret.secret()));
        }
        let resp = self.http.send(&token_url, req).await?;
        match resp.status().as_u16() {
            200 => {}
            401 => return Err(self.unauthorized()),
            403 => {
                return Err(OciError::Denied {
                    registry: self.reference.registry.clone(),
                    scope,
                    from: self.login.as_ref().map(|l| l.from.clone()),
                })
            }
            status => {
                return Err(OciError::Status {
                    url: DisplayUrl::from(&token_url),
                    status,
                })
            }
        }
        #[derive(serde::Deserialize)]
        struct TokenAnswer {
            token: Option<String>,
            access_token: Option<String>,
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| OciError::Net(self.http.describe(&token_url, e)))?;
        let t: TokenAnswer = serde_json::from_slice(&body).map_err(|e| OciError::BadDocument {
            url: DisplayUrl::from(&token_url),
            what: "token answer",
            why: e.to_string(),
        })?;
        let token = t
            .token
            .or(t.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OciError::BadDocument {
                url: DisplayUrl::from(&token_url),
                what: "token answer",
                why: "it has no `token`".into(),
            })?;
        if let Ok(mut a) = self.auth.lock() {
            *a = Auth::Bearer(Token::new(token));
        }
        Ok(())
    }

    /// A document's GET answered 200; a 404 is the tag (or digest) the registry does not
    /// have, anything else the status it gave.
    fn document_found(&self, status: u16, url: &Url, tag: &str) -> Result<(), OciError> {
        match status {
            200 => Ok(()),
            404 => Err(OciError::NoTag {
                reference: self.reference.to_string(),
                tag: tag.to_string(),
            }),
            status => Err(OciError::Status {
                url: DisplayUrl::from(url),
                status,
            }),
        }
    }

    /// The body of a document the registry serves (a manifest, an index, a tag list), read
    /// whole up to [`MANIFEST_LIMIT`]: a larger one is refused, by its length when it says one.
    async fn document_body(
        &self,
        resp: &mut reqwest::Response,
        url: &Url,
    ) -> Result<Vec<u8>, OciError> {
        if resp
            .content_length()
            .is_some_and(|n| n > MANIFEST_LIMIT as u64)
        {
            return Err(too_large(url));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| OciError::Net(self.http.describe(url, e)))?
        {
            if bytes.len() + chunk.len() > MANIFEST_LIMIT {
                return Err(too_large(url));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    /// GET a manifest or index by tag or digest. A digest names the bytes: they are checked.
    pub async fn get_manifest(&self, tag_or_digest: &str) -> Result<Document, OciError> {
        let raw = self.reference.manifest_url(tag_or_digest);
        let url = self.url(&raw)?;
        let mut resp = self.pull(Method::GET, &url, Some(image::ACCEPT)).await?;
        self.document_found(resp.status().as_u16(), &url, tag_or_digest)?;
        let media_type = resp
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        let bytes = self.document_body(&mut resp, &url).await?;
        let digest = image::digest_of(&bytes);
        if tag_or_digest.starts_with("sha256:") && tag_or_digest != digest {
            return Err(OciError::BadDocument {
                url: DisplayUrl::from(&url),
                what: "manifest",
                why: format!("its digest is `{digest}`, not the `{tag_or_digest}` asked for"),
            });
        }
        Ok(Document {
            media_type,
            digest,
            bytes,
            url: raw,
        })
    }

    /// PUT a manifest or index under a tag (or its digest). Returns whether the registry said
    /// it took the manifest's `subject` into its referrers (an `OCI-Subject` header).
    pub async fn put_manifest(
        &self,
        tag_or_digest: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<bool, OciError> {
        let url = self.url(&self.reference.manifest_url(tag_or_digest))?;
        let resp = self
            .send(&url, Access::Push, || {
                Ok(self
                    .http
                    .request(Method::PUT, &url)
                    .header(header::CONTENT_TYPE, media_type)
                    .body(bytes.to_vec()))
            })
            .await?;
        expect_success(&url, resp.status())?;
        Ok(resp.headers().contains_key("oci-subject"))
    }

    /// Push `blob` (of `media_type`) as an artifact of `artifact_type` that refers to `subject`
    /// (an image manifest): an empty config, the blob as its one layer, the subject named. A
    /// registry without the referrers API (no `OCI-Subject` answer) gets the tag schema's
    /// fallback as the spec asks: the index tagged `sha256-<hex>` of the subject, with this
    /// artifact added. Returns the artifact manifest's digest.
    pub async fn push_referrer(
        &self,
        subject: image::Descriptor,
        artifact_type: &str,
        blob: &[u8],
        annotations: std::collections::BTreeMap<String, String>,
    ) -> Result<String, OciError> {
        let empty = image::digest_of(image::EMPTY_BYTES);
        self.push_blob_bytes(&empty, image::EMPTY_BYTES).await?;
        let blob_digest = image::digest_of(blob);
        self.push_blob_bytes(&blob_digest, blob).await?;
        let descriptor = |media_type: &str, digest: String, size: usize| image::Descriptor {
            media_type: media_type.into(),
            digest,
            size: size as u64,
            artifact_type: None,
            platform: None,
            annotations: Default::default(),
        };
        let manifest = image::Manifest {
            schema_version: 2,
            media_type: Some(image::MANIFEST.into()),
            artifact_type: Some(artifact_type.into()),
            config: descriptor(image::EMPTY, empty, image::EMPTY_BYTES.len()),
            layers: vec![descriptor(artifact_type, blob_digest, blob.len())],
            subject: Some(subject.clone()),
            annotations: annotations.clone(),
        };
        let bytes = serde_json::to_vec(&manifest).map_err(|e| OciError::BadDocument {
            url: DisplayUrl::new(&self.reference.manifest_url("")),
            what: "referrer manifest",
            why: e.to_string(),
        })?;
        let digest = image::digest_of(&bytes);
        if self.put_manifest(&digest, image::MANIFEST, &bytes).await? {
            return Ok(digest);
        }
        let tag = image::referrers_tag(&subject.digest);
        let mut index = match self.get_manifest(&tag).await {
            Ok(doc) => serde_json::from_slice::<image::Index>(&doc.bytes).map_err(|e| {
                OciError::BadDocument {
                    url: DisplayUrl::new(&doc.url),
                    what: "referrers index",
                    why: e.to_string(),
                }
            })?,
            Err(OciError::NoTag { .. }) => image::Index {
                schema_version: 2,
                media_type: Some(image::INDEX.into()),
                manifests: Vec::new(),
                annotations: Default::default(),
            },
            Err(e) => return Err(e),
        };
        if !index.manifests.iter().any(|d| d.digest == digest) {
            index.manifests.push(image::Descriptor {
                artifact_type: Some(artifact_type.into()),
                annotations,
                ..descriptor(image::MANIFEST, digest.clone(), bytes.len())
            });
            let index_bytes = serde_json::to_vec(&index).map_err(|e| OciError::BadDocument {
                url: DisplayUrl::new(&self.reference.manifest_url(&tag)),
                what: "referrers index",
                why: e.to_string(),
            })?;
            self.put_manifest(&tag, image::INDEX, &index_bytes).await?;
        }
        Ok(digest)
    }

    /// The artifacts that refer to `digest`: the referrers API, else (a 404: a registry
    /// without it) the tag schema's `sha256-<hex>` index, else none. Returns them with the
    /// URL they were read from.
    pub async fn referrers(
        &self,
        digest: &str,
    ) -> Result<(Vec<image::Descriptor>, String), OciError> {
        let raw = self.reference.referrers_url(digest);
        let url = self.url(&raw)?;
        let mut resp = self.pull(Method::GET, &url, Some(image::INDEX)).await?;
        let (bytes, from) = match resp.status().as_u16() {
            200 => (self.document_body(&mut resp, &url).await?, raw),
            404 => match self.get_manifest(&image::referrers_tag(digest)).await {
                Ok(doc) => (doc.bytes, doc.url),
                Err(OciError::NoTag { .. }) => return Ok((Vec::new(), raw)),
                Err(e) => return Err(e),
            },
            status => {
                return Err(OciError::Status {
                    url: DisplayUrl::from(&url),
                    status,
                })
            }
        };
        let index: image::Index =
            serde_json::from_slice(&bytes).map_err(|e| OciError::BadDocument {
                url: DisplayUrl::new(&from),
                what: "referrers index",
                why: e.to_string(),
            })?;
        Ok((index.manifests, from))
    }

    /// GET a blob: its URL and the successful response (any other status is an error).
    async fn get_blob(&self, digest: &str) -> Result<(Url, reqwest::Response), OciError> {
        let url = self.url(&self.reference.blob_url(digest))?;
        let resp = self.pull(Method::GET, &url, None).await?;
        if !resp.status().is_success() {
            return Err(OciError::Status {
                url: DisplayUrl::from(&url),
                status: resp.status().as_u16(),
            });
        }
        Ok((url, resp))
    }

    /// A small blob's bytes (at most `limit`), its digest checked.
    pub async fn fetch_blob_bytes(&self, digest: &str, limit: u64) -> Result<Vec<u8>, OciError> {
        let (url, mut resp) = self.get_blob(digest).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| OciError::Net(self.http.describe(&url, e)))?
        {
            if (bytes.len() + chunk.len()) as u64 > limit {
                return Err(OciError::BadDocument {
                    url: DisplayUrl::from(&url),
                    what: "blob",
                    why: format!("it is larger than the {limit} bytes expected"),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        let actual = image::digest_of(&bytes);
        if actual != digest {
            return Err(OciError::BlobDigest {
                url: DisplayUrl::from(&url),
                expected: digest.to_string(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Every tag of the repository (`GET …/tags/list`), page by page as the `Link` header
    /// says, at most [`TAG_PAGES`] pages.
    pub async fn list_tags(&self) -> Result<Vec<String>, OciError> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let mut url = self.url(&format!("{}tags/list?n=1000", self.reference.api_base()))?;
        let mut tags = Vec::new();
        for _ in 0..TAG_PAGES {
            let mut resp = self.pull(Method::GET, &url, None).await?;
            self.document_found(resp.status().as_u16(), &url, "(any)")?;
            let next = resp
                .headers()
                .get(header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link)
                .and_then(|l| url.join(&l).ok());
            let body = self.document_body(&mut resp, &url).await?;
            let page: TagList =
                serde_json::from_slice(&body).map_err(|e| OciError::BadDocument {
                    url: DisplayUrl::from(&url),
                    what: "tag list",
                    why: e.to_string(),
                })?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(n) => url = self.url(n.as_str())?,
                None => return Ok(tags),
            }
        }
        Ok(tags)
    }

    /// Whether the repository has the blob (HEAD).
    pub async fn has_blob(&self, digest: &str) -> Result<bool, OciError> {
        let url = self.url(&self.reference.blob_url(digest))?;
        let resp = self.pull(Method::HEAD, &url, None).await?;
        match resp.status().as_u16() {
            200..=299 => Ok(true),
            404 => Ok(false),
            status => Err(OciError::Status {
                url: DisplayUrl::from(&url),
                status,
            }),
        }
    }

    /// GET a blob into `to`, hashing as it arrives; more than `limit` bytes, or bytes whose
    /// digest is not `digest`, are refused (and the file removed). A redirect to a blob store
    /// is followed without our credentials. Returns the size.
    pub async fn fetch_blob(&self, digest: &str, to: &Path, limit: u64) -> Result<u64, OciError> {
        use tokio::io::AsyncWriteExt;
        let (url, mut resp) = self.get_blob(digest).await?;
        let write_err = |source| OciError::Read {
            path: to.to_path_buf(),
            source,
        };
        let mut file = tokio::fs::File::create(to).await.map_err(write_err)?;
        let mut hasher = crate::verify::Hasher::new();
        let result: Result<(), OciError> = async {
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| OciError::Net(self.http.describe(&url, e)))?
            {
                if hasher.len() + chunk.len() as u64 > limit {
                    return Err(OciError::BadDocument {
                        url: DisplayUrl::from(&url),
                        what: "blob",
                        why: format!("it is larger than the {limit} bytes expected"),
                    });
                }
                hasher.update(&chunk);
                file.write_all(&chunk).await.map_err(write_err)?;
            }
            file.flush().await.map_err(write_err)?;
            Ok(())
        }
        .await;
        let (sha256, size) = hasher.finish();
        let actual = format!("sha256:{}", sha256.to_hex());
        let result = result.and_then(|()| {
            if actual == digest {
                Ok(size)
            } else {
                Err(OciError::BlobDigest {
                    url: DisplayUrl::from(&url),
                    expected: digest.to_string(),
                    actual,
                })
            }
        });
        if result.is_err() {
            let _ = tokio::fs::remove_file(to).await;
        }
        result
    }

    /// Upload `bytes` as a blob unless the repository has it. Returns whether it was sent.
    pub async fn push_blob_bytes(&self, digest: &str, bytes: &[u8]) -> Result<bool, OciError> {
        if self.has_blob(digest).await? {
            return Ok(false);
        }
        let location = self.start_upload(None).await?.1;
        self.put_monolithic(
            location,
            digest,
            || Ok(reqwest::Body::from(bytes.to_vec())),
            bytes.len() as u64,
        )
        .await?;
        Ok(true)
    }

    /// Push the file at `path` (of `size` bytes, digest `digest`) unless the repository has
    /// it: mounted from another repository of ours that has it, else uploaded from disk, in
    /// one `PUT` or, when larger than the chunk size, in `PATCH` chunks that resume where the
    /// registry says it got to after a failure.
    pub async fn push_blob_file(
        &self,
        digest: &str,
        path: &Path,
        size: u64,
    ) -> Result<Sent, OciError> {
        if self.has_blob(digest).await? {
            return Ok(Sent::Present);
        }
        let mut session = None;
        for (i, from) in self.mount_from.iter().enumerate() {
            match self.start_upload(Some((digest, from))).await? {
                (true, _) => return Ok(Sent::Mounted { from: from.clone() }),
                // The registry could not mount it and opened an upload instead (as the spec
                // has it): the last one is used, the others are cancelled.
                (false, location) if i + 1 == self.mount_from.len() => session = Some(location),
                (false, location) => self.cancel_upload(&location).await,
            }
        }
        let location = match session {
            Some(l) => l,
            None => self.start_upload(None).await?.1,
        };
        if size > self.chunk {
            self.upload_chunked(location, digest, path, size).await?;
        } else {
            let open = || {
                let file = std::fs::File::open(path).map_err(|source| OciError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                Ok(reqwest::Body::from(tokio::fs::File::from_std(file)))
            };
            self.put_monolithic(location, digest, open, size).await?;
        }
        Ok(Sent::Uploaded)
    }

    /// `POST …/blobs/uploads/` (with `?mount=&from=`, a mount): `(true, _)` when the registry
    /// mounted the blob (201), else `(false, the upload's location)` (202).
    async fn start_upload(&self, mount: Option<(&str, &str)>) -> Result<(bool, Url), OciError> {
        let mut start = self.url(&self.reference.uploads_url())?;
        if let Some((digest, from)) = mount {
            start
                .query_pairs_mut()
                .append_pair("mount", digest)
                .append_pair("from", from);
        }
        let resp = self
            .send(&start, Access::Push, || {
                Ok(self
                    .http
                    .request(Method::POST, &start)
                    .header(header::CONTENT_LENGTH, 0))
            })
            .await?;
        expect_success(&start, resp.status())?;
        let location = self.location(&start, &resp)?;
        Ok((
            mount.is_some() && resp.status() == StatusCode::CREATED,
            location,
        ))
    }

    /// `DELETE <location>`: an upload that will not be used. Its failure is only logged (the
    /// registry expires abandoned uploads).
    async fn cancel_upload(&self, location: &Url) {
        let sent = self
            .send(location, Access::Push, || {
                Ok(self.http.request(Method::DELETE, location))
            })
            .await;
        if let Err(e) = sent {
            tracing::debug!(reason = %e, "could not cancel an unused upload");
        }
    }

    /// The `Location` an upload answer names: relative to the registry, perhaps with a query
    /// of its own.
    fn location(&self, at: &Url, resp: &reqwest::Response) -> Result<Url, OciError> {
        let bad = |why: &str| OciError::BadDocument {
            url: DisplayUrl::from(at),
            what: "upload answer",
            why: why.into(),
        };
        let location = resp
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| bad("it has no `Location`"))?;
        let url = at
            .join(location)
            .map_err(|_| bad("its `Location` is not a URL"))?;
        self.url(url.as_str())
    }

    /// One `PUT <location>?digest=` with the whole blob.
    async fn put_monolithic(
        &self,
        location: Url,
        digest: &str,
        body: impl Fn() -> Result<reqwest::Body, OciError>,
        size: u64,
    ) -> Result<(), OciError> {
        let mut url = location;
        url.query_pairs_mut().append_pair("digest", digest);
        let url = self.url(url.as_str())?;
        let resp = self
            .send(&url, Access::Push, || {
                Ok(self
                    .http
                    .request(Method::PUT, &url)
                    .header(header::CONTENT_TYPE, "application/octet-stream")
                    // A known length: no chunked encoding, which some registries refuse.
                    .header(header::CONTENT_LENGTH, size)
                    .body(body()?))
            })
            .await?;
        expect_success(&url, resp.status())
    }

    /// `PATCH` chunks with `Content-Range`, each answered with the next location; after a
    /// failed chunk (a dropped connection, a 416) the upload's status (`GET <location>`, its
    /// `Range`) says where to go on from. Then `PUT <location>?digest=` closes it.
    async fn upload_chunked(
        &self,
        mut location: Url,
        digest: &str,
        path: &Path,
        size: u64,
    ) -> Result<(), OciError> {
        use std::io::{Read, Seek};
        let read_err = |source| OciError::Read {
            path: path.to_path_buf(),
            source,
        };
        let mut file = std::fs::File::open(path).map_err(read_err)?;
        let mut offset = 0u64;
        let mut failures = 0u32;
        while offset < size {
            let len = self.chunk.min(size - offset);
            let mut chunk = vec![0u8; len as usize];
            file.seek(std::io::SeekFrom::Start(offset))
                .map_err(read_err)?;
            file.read_exact(&mut chunk).map_err(read_err)?;
            let chunk = bytes::Bytes::from(chunk);
            let range = format!("{offset}-{}", offset + len - 1);
            let sent = self
                .send(&location, Access::Push, || {
                    Ok(self
                        .http
                        .request(Method::PATCH, &location)
                        .header(header::CONTENT_TYPE, "application/octet-stream")
                        .header(header::CONTENT_RANGE, range.as_str())
                        .header(header::CONTENT_LENGTH, len)
                        .body(chunk.clone()))
                })
                .await;
            let failed = match sent {
                Ok(resp) if resp.status().is_success() => {
                    location = self.location(&location, &resp)?;
                    offset += len;
                    failures = 0;
                    continue;
                }
                Ok(resp) if resp.status() == StatusCode::RANGE_NOT_SATISFIABLE => {
                    OciError::Status {
                        url: DisplayUrl::from(&location),
                        status: 416,
                    }
                }
                Ok(resp) => {
                    return Err(OciError::Status {
                        url: DisplayUrl::from(&location),
                        status: resp.status().as_u16(),
                    })
                }
                Err(e @ OciError::Net(_)) => e,
                Err(e) => return Err(e),
            };
            failures += 1;
            if failures > RESUMES {
                return Err(failed);
            }
            tracing::debug!(offset, reason = %failed, "chunk failed; asking the upload's status");
            // `0-0` is both no byte and one: a chunk from 0 refused as out of range means one.
            let refused_from_zero =
                offset == 0 && matches!(failed, OciError::Status { status: 416, .. });
            (location, offset) = match self.upload_status(&location).await {
                Ok((next, 0)) if refused_from_zero => (next, 1),
                Ok(status) => status,
                // A registry that cancelled the upload (distribution does when the upload's
                // state and its bytes disagree): start over.
                Err(e) => {
                    tracing::debug!(reason = %e, "the upload has no status; starting it again");
                    (self.start_upload(None).await?.1, 0)
                }
            };
        }
        self.put_monolithic(location, digest, || Ok(reqwest::Body::from(Vec::new())), 0)
            .await
    }

    /// `GET <location>` of an upload: its next location and how many bytes it has (`Range:
    /// 0-<last>`; distribution says `0-0` for none).
    async fn upload_status(&self, location: &Url) -> Result<(Url, u64), OciError> {
        let resp = self
            .send(location, Access::Push, || {
                Ok(self.http.request(Method::GET, location))
            })
            .await?;
        expect_success(location, resp.status())?;
        let have = resp
            .headers()
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|r| r.trim().split_once('-'))
            .and_then(|(_, last)| last.trim().parse::<u64>().ok())
            .map_or(0, |last| if last == 0 { 0 } else { last + 1 });
        let next = self
            .location(location, &resp)
            .unwrap_or_else(|_| location.clone());
        Ok((next, have))
    }
}

/// The most pages of tags read.
const TAG_PAGES: usize = 100;

/// The `rel="next"` target of a `Link` header: `</v2/r/tags/list?n=2&last=b>; rel="next"`.
fn next_link(h: &str) -> Option<String> {
    h.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let rel_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p.eq_ignore_ascii_case("rel=\"next\"") || p.eq_ignore_ascii_case("rel=next")
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        rel_next.then(|| target.to_string())
    })
}

fn too_large(url: &Url) -> OciError {
    OciError::BadDocument {
        url: DisplayUrl::from(url),
        what: "manifest",
        why: format!("it is larger than {MANIFEST_LIMIT} bytes"),
    }
}

fn expect_success(url: &Url, status: StatusCode) -> Result<(), OciError> {
    if status.is_success() {
        Ok(())
    } else {
        Err(OciError::Status {
            url: DisplayUrl::from(url),
            status: status.as_u16(),
        })
    }
}

/// `Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"` ->
/// (`Bearer`, [(realm, …), (service, …), (scope, …)]). Quoted values may hold commas.
pub fn parse_challenge(h: &str) -> Option<(String, Vec<(String, String)>)> {
    let h = h.trim();
    let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
    if scheme.is_empty() {
        return None;
    }
    let mut params = Vec::new();
    let mut chars = rest.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let name: String = std::iter::from_fn(|| chars.next_if(|c| *c != '=')).collect();
        if name.trim().is_empty() {
            break;
        }
        chars.next()?; // '='
        let value = if chars.peek() == Some(&'"') {
            chars.next();
            let mut v = String::new();
            loop {
                match chars.next()? {
                    '\\' => v.push(chars.next()?),
                    '"' => break,
                    c => v.push(c),
                }
            }
            v
        } else {
            std::iter::from_fn(|| chars.next_if(|c| *c != ',')).collect::<String>()
        };
        params.push((name.trim().to_string(), value.trim().to_string()));
    }
    Some((scheme.to_string(), params))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_parse_with_quoted_commas() {
        let (s, p) = parse_challenge(
            r#"Bearer realm="https://auth.example/token",service="reg.example",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(s, "Bearer");
        assert_eq!(
            p,
            vec![
                ("realm".into(), "https://auth.example/token".into()),
                ("service".into(), "reg.example".into()),
                ("scope".into(), "repository:a/b:pull,push".into()),
            ]
        );
        let (s, p) = parse_challenge(r#"Basic realm="Registry Realm""#).unwrap();
        assert_eq!((s.as_str(), p.len()), ("Basic", 1));
        assert!(parse_challenge("").is_none());
        assert_eq!(
            next_link(r#"</v2/a/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?n=2&last=b")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
        assert!(parse_challenge(r#"Bearer realm="unterminated"#).is_none());
    }
}
