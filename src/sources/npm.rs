//! The npm registry: `@openai/codex` publishes one version per platform
//! (`<v>-linux-x64`, …), whose tarball holds `package/vendor/<triple>/` in the codex-package
//! layout. One request for the packument (the abbreviated form npm itself asks for) gives every
//! version's `dist.tarball` and `dist.integrity` (sha512), and the `latest` dist-tag.

use std::collections::BTreeMap;

use serde::Deserialize;
use url::Url;

use crate::error::Hint;
use crate::net::{Http, NetError};
use crate::pin::CodexVersion;
use crate::platform::Target;
use crate::remote::{self, RemoteError};
use crate::verify::Sha512;

/// The package, URL-encoded as registries expect a scoped name in a path.
pub use crate::plan::NPM_PACKAGE_PATH as PACKAGE_PATH;
/// The package as users write it.
pub const PACKAGE: &str = "@openai/codex";

/// The abbreviated ("corgi") document first: a fraction of the full packument's size.
pub const ACCEPT: &str = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

#[derive(Debug, Clone, Deserialize)]
pub struct Packument {
    #[serde(default, rename = "dist-tags")]
    pub dist_tags: BTreeMap<String, String>,
    #[serde(default)]
    pub versions: BTreeMap<String, VersionDoc>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct VersionDoc {
    pub dist: Dist,
    #[serde(default)]
    pub deprecated: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Dist {
    pub tarball: String,
    #[serde(default)]
    pub integrity: Option<String>,
    #[serde(default, rename = "unpackedSize")]
    pub unpacked_size: Option<u64>,
}

/// The platform package's tarball for a version and target.
#[derive(Debug, Clone)]
pub struct Tarball {
    pub version_key: String,
    pub url: String,
    /// The file name (`codex-0.163.0-linux-x64.tgz`).
    pub file: String,
    pub integrity: Option<Sha512>,
}

#[derive(Debug, thiserror::Error)]
pub enum NpmError {
    #[error("the registry has no package `{PACKAGE}` (`{url}` answered 404)")]
    NoPackage { url: crate::redact::DisplayUrl },
    #[error("the registry refused the request for `{url}` (HTTP {status}): {}", if *.sent { "the credentials given were rejected" } else { "it wants credentials, and none were given" })]
    Unauthorized {
        url: crate::redact::DisplayUrl,
        status: u16,
        /// Whether credentials were sent (and so rejected).
        sent: bool,
    },
    #[error("`{url}` answered HTTP {status}")]
    Status {
        url: crate::redact::DisplayUrl,
        status: u16,
    },
    #[error("the packument `{url}` is malformed: {reason}")]
    Malformed {
        url: crate::redact::DisplayUrl,
        reason: String,
    },
    /// The tarball's file name is a path, or its URL is not http(s).
    #[error(transparent)]
    Hostile(#[from] RemoteError),
    #[error(transparent)]
    Net(#[from] NetError),
}

impl Hint for NpmError {
    fn hint(&self) -> Option<String> {
        match self {
            NpmError::NoPackage { .. } => Some("this registry does not serve @openai/codex: point `--npm-registry` at one that does, or use another `--source`".into()),
            NpmError::Unauthorized { sent: true, .. } => Some("the registry rejected the credentials given: fix the registry's `//host/:_authToken=…` (or `_auth`, `username` and `_password`) line in .npmrc, or run `npm login` again".into()),
            NpmError::Unauthorized { sent: false, .. } => Some("add `//host/:_authToken=…` for the registry to your .npmrc (as `npm login` does); a `${VAR}` token in a project's .npmrc goes only to a registry your own npm configuration names".into()),
            NpmError::Status { .. } | NpmError::Malformed { .. } => Some("check `--npm-registry` / npm_config_registry, or use another `--source`".into()),
            NpmError::Hostile(e) => e.hint(),
            NpmError::Net(e) => e.hint(),
        }
    }
}

pub use crate::plan::packument_url;

pub async fn packument(http: &Http, registry: &Url) -> Result<Packument, NpmError> {
    packument_at(http, &packument_url(registry)).await
}

/// Fetch and parse the packument at `doc` (what a plan names).
pub async fn packument_at(http: &Http, doc: &str) -> Result<Packument, NpmError> {
    let doc = doc.to_string();
    let url = http.url(&doc)?;
    let sent = http.config.credentials.for_url(&url).is_some();
    let (status, _, body) = http
        .get_small_accepting(&url, false, Some(ACCEPT), 256 << 20)
        .await?;
    match status {
        200 => {}
        404 => return Err(NpmError::NoPackage { url: doc.into() }),
        401 | 403 => {
            return Err(NpmError::Unauthorized {
                url: doc.into(),
                status,
                sent,
            })
        }
        _ => {
            return Err(NpmError::Status {
                url: doc.into(),
                status,
            })
        }
    }
    serde_json::from_slice(&body).map_err(|e| NpmError::Malformed {
        url: doc.into(),
        reason: e.to_string(),
    })
}

pub use crate::plan::npm_version_key as version_key;

impl Packument {
    /// The tarball of `version` for `target`, if published.
    pub fn tarball(&self, version: &CodexVersion, target: &Target) -> Option<Tarball> {
        let key = version_key(version, target);
        let doc = self.versions.get(&key)?;
        let file = doc
            .dist
            .tarball
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string();
        Some(Tarball {
            url: doc.dist.tarball.clone(),
            file,
            integrity: doc
                .dist
                .integrity
                .as_deref()
                .and_then(|i| Sha512::parse_integrity(i).ok()),
            version_key: key,
        })
    }

    /// [`Packument::tarball`], vetted: the file name (the URL's last segment, as written) is
    /// one plain path component and the URL is http(s). `doc` names the packument in the error.
    pub fn vetted_tarball(
        &self,
        doc: &str,
        version: &CodexVersion,
        target: &Target,
    ) -> Result<Option<Tarball>, NpmError> {
        let Some(t) = self.tarball(version, target) else {
            return Ok(None);
        };
        let server = crate::redact::DisplayUrl::new(doc).to_string();
        remote::fetchable_url(&server, &t.version_key, &t.url)?;
        remote::file_name(&server, &t.file)?;
        Ok(Some(t))
    }

    /// The `latest` dist-tag as a Codex version.
    pub fn latest(&self) -> Option<CodexVersion> {
        self.dist_tags
            .get("latest")
            .and_then(|v| CodexVersion::parse(v).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tarball_named_by_a_path_or_a_local_url_is_refused() {
        let v = CodexVersion::parse("0.163.0").unwrap();
        let t: Target = "x86_64-unknown-linux-musl".parse().unwrap();
        for tarball in [
            // What `rsplit('/')` leaves on Windows: `..\..\evil.tgz`.
            r"https://r.example/-/..\..\evil.tgz",
            "https://r.example/-/..",
            "https://r.example/-/",
            "file:///etc/hostname",
            "../codex.tgz",
        ] {
            let body = format!(
                r#"{{"versions":{{"0.163.0-linux-x64":{{"dist":{{"tarball":"{}"}}}}}}}}"#,
                tarball.replace('\\', "\\\\")
            );
            let p: Packument = serde_json::from_str(&body).unwrap();
            assert!(
                matches!(
                    p.vetted_tarball("https://r.example/@openai%2fcodex", &v, &t),
                    Err(NpmError::Hostile(_))
                ),
                "{tarball}"
            );
        }
    }

    #[test]
    fn finds_the_platform_tarball_and_latest() {
        let i = Sha512::of(b"t").to_integrity();
        let body = format!(
            r#"{{"name":"@openai/codex","dist-tags":{{"latest":"0.169.0"}},"versions":{{
              "0.163.0":{{"dist":{{"tarball":"https://r.example/@openai/codex/-/codex-0.163.0.tgz","integrity":"{i}"}}}},
              "0.163.0-linux-x64":{{"dist":{{"tarball":"https://r.example/@openai/codex/-/codex-0.163.0-linux-x64.tgz","integrity":"sha1-abc {i}"}}}}}}}}"#
        );
        let p: Packument = serde_json::from_str(&body).unwrap();
        let v = CodexVersion::parse("0.163.0").unwrap();
        let t: Target = "x86_64-unknown-linux-musl".parse().unwrap();
        let tb = p.tarball(&v, &t).unwrap();
        assert_eq!(tb.file, "codex-0.163.0-linux-x64.tgz");
        assert_eq!(tb.integrity, Some(Sha512::of(b"t")));
        assert!(p
            .tarball(&v, &"aarch64-apple-darwin".parse().unwrap())
            .is_none());
        assert_eq!(p.latest().unwrap().to_string(), "0.169.0");
        assert_eq!(
            p.vetted_tarball("https://r.example/@openai%2fcodex", &v, &t)
                .unwrap()
                .unwrap()
                .file,
            "codex-0.163.0-linux-x64.tgz"
        );
        assert_eq!(
            packument_url(&Url::parse("https://r.example/npm/").unwrap()),
            "https://r.example/npm/@openai%2fcodex"
        );
    }
}
