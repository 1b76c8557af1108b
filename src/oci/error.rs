//! What talking to a registry can fail with, and the fix each failure names.

use crate::error::Hint;

#[derive(Debug, thiserror::Error)]
pub enum OciError {
    #[error("`{reference}` is not an OCI reference: {why}")]
    BadReference { reference: String, why: String },
    #[error(transparent)]
    Net(#[from] crate::net::NetError),
    /// 401 after the challenge was answered (or with nothing to answer it with).
    #[error("`{registry}` refused the credentials {}", match .from { Some(f) => format!("from {f}"), None => "(none found)".into() })]
    Unauthorized {
        registry: String,
        /// Where the credentials were read from, `None` when there were none.
        from: Option<String>,
        /// The files and helpers looked in.
        looked: String,
    },
    /// 403, or a token server's `denied`: authenticated, but not allowed this access.
    #[error("`{registry}` denied `{scope}`{}", match .from { Some(f) => format!(" to the credentials from {f}"), None => String::new() })]
    Denied {
        registry: String,
        scope: String,
        from: Option<String>,
    },
    #[error("`{reference}` has no tag `{tag}`")]
    NoTag { reference: String, tag: String },
    /// `latest` from a repository none of whose tags is a stable Codex version.
    #[error("`{reference}` has no tag that is a stable Codex version (its tags: {tags})")]
    NoVersionTag { reference: String, tags: String },
    #[error("`{url}` answered HTTP {status}")]
    Status {
        url: crate::redact::DisplayUrl,
        status: u16,
    },
    #[error("`{url}` is not a valid {what}: {why}")]
    BadDocument {
        url: crate::redact::DisplayUrl,
        what: &'static str,
        why: String,
    },
    #[error("the registry's `WWW-Authenticate` challenge cannot be answered: `{challenge}`")]
    BadChallenge { challenge: String },
    #[error("could not read the credentials in `{}`", .path.display())]
    AuthFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not valid JSON: {why}", .path.display())]
    AuthFileJson {
        path: std::path::PathBuf,
        why: String,
    },
    #[error("the credential helper `docker-credential-{helper}` failed: {why}")]
    Helper { helper: String, why: String },
    #[error("could not read `{}`", .path.display())]
    Read {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the blob `{url}` has digest `{actual}`, not `{expected}`")]
    BlobDigest {
        url: crate::redact::DisplayUrl,
        expected: String,
        actual: String,
    },
    #[error("`{image}` has no image for `{target}`")]
    NoPlatform { image: String, target: String },
}

impl Hint for OciError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            OciError::BadReference { .. } => "write it as `oci://REGISTRY/REPO` or `oci://REGISTRY/REPO:TAG` (`oci+http://` for a plain-http registry on loopback)".into(),
            OciError::Net(e) => return e.hint(),
            OciError::Unauthorized { registry, from: Some(f), .. } => format!("fix the credentials for `{registry}` in {f}, or log in again: `docker login {registry}` / `podman login {registry}`"),
            OciError::Unauthorized { registry, from: None, looked } => format!("log in first: `docker login {registry}` or `podman login {registry}` (looked in {looked})"),
            OciError::Denied { registry, scope, .. } => format!("ask the owner of `{registry}` for `{scope}` access, or use credentials that have it"),
            OciError::NoVersionTag { .. } => "push a version first (`codex-bootstrap mirror VERSION --out oci://REGISTRY/REPO`), or name one: `codex-bootstrap install VERSION`".into(),
            OciError::NoTag { .. } => "check the version, or push it first: `codex-bootstrap mirror VERSION --out oci://REGISTRY/REPO`".into(),
            OciError::Status { .. } | OciError::BadDocument { .. } | OciError::BadChallenge { .. } => "check that the reference names an OCI distribution registry, and rerun with `-v` to see the requests".into(),
            OciError::AuthFile { .. } | OciError::AuthFileJson { .. } => "fix or remove that file (DOCKER_CONFIG, REGISTRY_AUTH_FILE name others)".into(),
            OciError::Helper { helper, .. } => format!("check that `docker-credential-{helper}` is on PATH and works: `echo REGISTRY | docker-credential-{helper} get`"),
            OciError::BlobDigest { .. } => "the registry's copy is damaged or was replaced: push it again (`codex-bootstrap mirror VERSION --out oci://REGISTRY/REPO`) and tell the registry's owner".into(),
            OciError::Read { .. } => "check that the file is readable".into(),
            OciError::NoPlatform { .. } => "push that target: `codex-bootstrap mirror VERSION --targets TARGET --out oci://REGISTRY/REPO`".into(),
        })
    }

    fn is_usage(&self) -> bool {
        matches!(self, OciError::BadReference { .. })
    }
}
