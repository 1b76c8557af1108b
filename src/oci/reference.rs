//! `oci://REGISTRY/REPO[:TAG]` (https) and `oci+http://…` (plain http: loopback, or with
//! `--allow-http`). The repository and tag follow the distribution spec's grammar, so no part of
//! a reference can climb out of a URL path or name a file.

use std::fmt;

use super::OciError;

/// How the registry is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Https,
    Http,
}

/// A repository on a registry, and maybe a tag in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub scheme: Scheme,
    /// `host` or `host:port`.
    pub registry: String,
    /// `codex/runtime`: lowercase components separated by `/`.
    pub repository: String,
    pub tag: Option<String>,
}

/// Whether `s` is meant as an OCI reference (and so must never be taken for a directory):
/// `oci:` or `oci+…:` in any case, however malformed the rest.
pub fn looks_like_oci(s: &str) -> bool {
    let lower = s.trim().to_ascii_lowercase();
    lower.starts_with("oci:") || lower.starts_with("oci+")
}

impl Reference {
    pub fn parse(raw: &str) -> Result<Reference, OciError> {
        let bad = |why: &str| OciError::BadReference {
            reference: raw.to_string(),
            why: why.to_string(),
        };
        let s = raw.trim();
        let (scheme, rest) = if let Some(r) = s.strip_prefix("oci://") {
            (Scheme::Https, r)
        } else if let Some(r) = s.strip_prefix("oci+http://") {
            (Scheme::Http, r)
        } else {
            return Err(bad(
                "it must start with `oci://` (or `oci+http://` for plain http)",
            ));
        };
        let (registry, path) = rest
            .split_once('/')
            .ok_or_else(|| bad("it names no repository (`oci://REGISTRY/REPO`)"))?;
        if !valid_registry(registry) {
            return Err(bad(
                "the registry must be a host name or address, with an optional `:port`",
            ));
        }
        // A tag follows the last `:` after the last `/`; a `@digest` is not a place to push to.
        if path.contains('@') {
            return Err(bad("name a tag, not a digest"));
        }
        let last = path.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match path[last..].rfind(':') {
            Some(i) => (&path[..last + i], Some(&path[last + i + 1..])),
            None => (path, None),
        };
        if !valid_repository(repository) {
            return Err(bad("the repository must be lowercase letters, digits and `.`, `_`, `-` separators, in `/`-separated components"));
        }
        if let Some(t) = tag {
            if !valid_tag(t) {
                return Err(bad("a tag is up to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"));
            }
        }
        Ok(Reference {
            scheme,
            registry: registry.to_ascii_lowercase(),
            repository: repository.to_string(),
            tag: tag.map(str::to_string),
        })
    }

    /// The same repository with `tag`.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, OciError> {
        if !valid_tag(tag) {
            return Err(OciError::BadReference {
                reference: format!("{self}:{tag}"),
                why: "not a valid tag".into(),
            });
        }
        Ok(Reference {
            tag: Some(tag.to_string()),
            ..self.clone()
        })
    }

    /// The repository alone, as `install --mirror` takes it.
    /// Another repository of the same registry (a mount's source), vetted as a name is.
    pub fn sibling(&self, repository: &str) -> Result<Reference, OciError> {
        if !valid_repository(repository) {
            return Err(OciError::BadReference {
                reference: repository.to_string(),
                why: "it is not a repository name (lowercase components separated by `/`)".into(),
            });
        }
        Ok(Reference {
            repository: repository.to_string(),
            tag: None,
            ..self.clone()
        })
    }

    pub fn without_tag(&self) -> Reference {
        Reference {
            tag: None,
            ..self.clone()
        }
    }

    /// `https://REGISTRY/v2/REPO/`: every request of this repository is under it.
    pub fn api_base(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Https => "https",
            Scheme::Http => "http",
        };
        format!("{scheme}://{}/v2/{}/", self.registry, self.repository)
    }

    /// `…/manifests/<tag or digest>`.
    pub fn manifest_url(&self, tag_or_digest: &str) -> String {
        format!("{}manifests/{tag_or_digest}", self.api_base())
    }

    /// `…/blobs/sha256:<hex>`.
    pub fn blob_url(&self, digest: &str) -> String {
        format!("{}blobs/{digest}", self.api_base())
    }

    /// `…/referrers/<digest>`: the referrers API (OCI distribution 1.1).
    pub fn referrers_url(&self, digest: &str) -> String {
        format!("{}referrers/{digest}", self.api_base())
    }

    /// `…/blobs/uploads/`: where an upload session starts.
    pub fn uploads_url(&self) -> String {
        format!("{}blobs/uploads/", self.api_base())
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match self.scheme {
            Scheme::Https => "oci",
            Scheme::Http => "oci+http",
        };
        write!(f, "{scheme}://{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        Ok(())
    }
}

/// `host`, `host:port`, an IPv4 address or `[v6]`, with nothing else (no userinfo, no path).
fn valid_registry(r: &str) -> bool {
    let (host, port) = if r.starts_with('[') {
        match r.find(']') {
            Some(i) => (&r[..=i], r[i + 1..].strip_prefix(':')),
            None => return false,
        }
    } else {
        match r.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (r, None),
        }
    };
    if r.starts_with('[') && host.len() + port.map_or(0, |p| p.len() + 1) != r.len() {
        return false;
    }
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    port_ok && host_ok && url::Url::parse(&format!("https://{r}/")).is_ok()
}

/// The distribution spec's `name`: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/…)*`.
fn valid_repository(repo: &str) -> bool {
    !repo.is_empty() && repo.len() <= 255 && repo.split('/').all(valid_component)
}

fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator: `.`, `_`, `__` or a run of `-`, between alphanumerics.
        let sep_len = match b[i] {
            b'.' => 1,
            b'_' if b.get(i + 1) == Some(&b'_') => 2,
            b'_' => 1,
            b'-' => b[i..].iter().take_while(|&&x| x == b'-').count(),
            _ => return false,
        };
        i += sep_len;
        if !b.get(i).copied().is_some_and(alnum) {
            return false;
        }
    }
    true
}

/// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub(crate) fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&x| x.is_ascii_alphanumeric() || matches!(x, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_parse_into_registry_repository_and_tag() {
        let r = Reference::parse("oci://Registry.example:5000/codex/runtime:0.163.0").unwrap();
        assert_eq!(r.registry, "registry.example:5000");
        assert_eq!(r.repository, "codex/runtime");
        assert_eq!(r.tag.as_deref(), Some("0.163.0"));
        assert_eq!(
            r.manifest_url("0.163.0"),
            "https://registry.example:5000/v2/codex/runtime/manifests/0.163.0"
        );
        assert_eq!(
            r.to_string(),
            "oci://registry.example:5000/codex/runtime:0.163.0"
        );
        let plain = Reference::parse("oci+http://127.0.0.1:8080/codex").unwrap();
        assert_eq!(plain.tag, None);
        assert_eq!(plain.api_base(), "http://127.0.0.1:8080/v2/codex/");
        let v6 = Reference::parse("oci://[::1]:5000/a/b:x").unwrap();
        assert_eq!(v6.registry, "[::1]:5000");
    }

    #[test]
    fn a_reference_can_never_climb_out_of_its_path() {
        for bad in [
            "oci://reg/../etc",
            "oci://reg/a/../b",
            "oci://reg/A",
            "oci://reg/a//b",
            "oci://reg/a/",
            "oci://reg/a:..",
            "oci://reg/a:-x",
            "oci://reg/a:x/y",
            "oci://reg/a%2fb",
            "oci://reg/a\\b",
            "oci://reg/a\0b",
            "oci://reg/a@sha256:00",
            "oci://user:pw@reg/a",
            "oci://reg",
            "oci:///a",
            "oci://reg:99999x/a",
            "oci:reg/a",
            "https://reg/a",
            "./oci://reg/a",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn an_oci_looking_destination_is_recognised_however_malformed() {
        for s in [
            "oci://reg/a",
            "OCI://reg/a",
            "oci:reg",
            "oci+http://x/y",
            " oci:",
        ] {
            assert!(looks_like_oci(s), "{s}");
        }
        for s in ["./oci", "mirror", "/srv/oci:x", "file:///oci:"] {
            assert!(!looks_like_oci(s), "{s}");
        }
    }
}
