//! Credentials: the GitHub token (for the API only) and the credentials configured URLs carry
//! (a registry's, a mirror's), each scoped to the URLs it may be sent to.
//!
//! A configured URL never keeps its secrets: [`split_secrets`] takes the userinfo
//! (`https://user:password@host/`) and the query (`?token=…`, a SAS or signed base) off it, so
//! what the plan holds, prints and writes to a receipt is the bare URL, and the secrets travel
//! only as [`ScopedCredential`]s, attached by the client to requests under that URL.

use std::fmt;
use std::sync::Arc;

use reqwest::Url;

use super::client::env_nonempty;

/// The environment variables a token may come from, in order.
pub const TOKEN_ENVS: &[&str] = &["GH_TOKEN", "GITHUB_TOKEN"];

/// A secret that never prints.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// `GH_TOKEN`, else `GITHUB_TOKEN`; empty values do not count.
    pub fn from_env() -> Option<(Token, &'static str)> {
        TOKEN_ENVS
            .iter()
            .find_map(|name| env_nonempty(name).map(|v| (Token(v), *name)))
    }

    pub fn new(secret: impl Into<String>) -> Token {
        Token(secret.into())
    }

    /// The secret, for the one header that carries it; never for a message or a log.
    pub(crate) fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// Credentials for one registry, never printed.
#[derive(Clone, Debug)]
pub enum Credential {
    /// HTTP Basic (a Python index's URL userinfo, or netrc).
    Basic { user: String, password: Token },
    /// `Authorization: Bearer` (an npm `_authToken`).
    Bearer(Token),
    /// A query string sent with each request under the scope that has none of its own (a
    /// mirror URL's `?token=…`, a storage container's SAS token): the form such bases take.
    Query(Token),
}

impl Credential {
    fn is_query(&self) -> bool {
        matches!(self, Credential::Query(_))
    }
}

/// The registry credentials a client may use, filled in as registries are located.
#[derive(Clone, Debug, Default)]
pub struct Credentials(Arc<std::sync::RwLock<Vec<ScopedCredential>>>);

impl Credentials {
    /// Add credentials (one header credential and one query per scope; the first added stays).
    pub fn add(&self, more: impl IntoIterator<Item = ScopedCredential>) {
        if let Ok(mut all) = self.0.write() {
            for c in more {
                let same = |have: &ScopedCredential| {
                    have.scope == c.scope && have.credential.is_query() == c.credential.is_query()
                };
                if !all.iter().any(same) {
                    all.push(c);
                }
            }
            // The most specific scope first, so it wins.
            all.sort_by_key(|c| std::cmp::Reverse(c.scope.path().len()));
        }
    }

    /// The credential to send to `url` in a header (Basic or Bearer), if any.
    pub fn for_url(&self, url: &Url) -> Option<Credential> {
        let all = self.0.read().ok()?;
        all.iter()
            .find(|c| !c.credential.is_query() && c.applies_to(url))
            .map(|c| c.credential.clone())
    }

    /// `url` as it is requested: with the query configured for its scope, when it has no
    /// query of its own. Only the request carries it; the URL shown and logged is `url`.
    pub(super) fn with_query(&self, url: &Url) -> Url {
        let mut out = url.clone();
        if url.query().is_some() {
            return out;
        }
        let Ok(all) = self.0.read() else { return out };
        if let Some(Credential::Query(q)) = all
            .iter()
            .find(|c| c.credential.is_query() && c.applies_to(url))
            .map(|c| &c.credential)
        {
            out.set_query(Some(q.secret()));
        }
        out
    }
}

/// A configured base URL (`--mirror`, `--github-api-url`, `--github-download-url`) without its
/// secrets, and the credentials taken from it, scoped to it: the userinfo as Basic, the query
/// as [`Credential::Query`]. A URL with neither, or one that does not parse as http(s), is
/// returned as it is (shown redacted, and refused by the client if it is no URL).
pub fn split_secrets(raw: &str) -> (String, Vec<ScopedCredential>) {
    let Ok(mut url) = Url::parse(raw.trim()) else {
        return (raw.to_string(), Vec::new());
    };
    let has_userinfo = !url.username().is_empty() || url.password().is_some();
    let query = url.query().filter(|q| !q.is_empty()).map(str::to_string);
    if !matches!(url.scheme(), "http" | "https") || (!has_userinfo && query.is_none()) {
        return (raw.to_string(), Vec::new());
    }
    let basic = has_userinfo.then(|| Credential::Basic {
        user: percent_decode(url.username()),
        password: Token::new(url.password().map(percent_decode).unwrap_or_default()),
    });
    let _ = url.set_username("");
    let _ = url.set_password(None);
    url.set_query(None);
    url.set_fragment(None);
    let scoped = basic
        .into_iter()
        .chain(query.map(|q| Credential::Query(Token::new(q))))
        .map(|credential| ScopedCredential {
            scope: url.clone(),
            credential,
        })
        .collect();
    (url.as_str().trim_end_matches('/').to_string(), scoped)
}

/// A userinfo part with its %-escapes decoded (an invalid escape stays as it is).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Credentials and the URL prefix they may be sent under (same scheme, host and port, and a
/// path below the prefix's).
#[derive(Clone, Debug)]
pub struct ScopedCredential {
    pub scope: Url,
    pub credential: Credential,
}

impl ScopedCredential {
    pub fn applies_to(&self, url: &Url) -> bool {
        url.scheme() == self.scope.scheme()
            && url.host_str() == self.scope.host_str()
            && url.port_or_known_default() == self.scope.port_or_known_default()
            && url
                .path()
                .starts_with(self.scope.path().trim_end_matches('/'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_base_url_loses_its_userinfo_and_query_to_scoped_credentials() {
        let (bare, scoped) = split_secrets("https://u:p%40ss@mirror.example/codex?sig=abc&sv=1");
        assert_eq!(bare, "https://mirror.example/codex");
        assert_eq!(scoped.len(), 2);
        let all = Credentials::default();
        all.add(scoped);
        let under = Url::parse("https://mirror.example/codex/rust-v1/a.tar.gz").unwrap();
        match all.for_url(&under) {
            Some(Credential::Basic { user, password }) => {
                assert_eq!((user.as_str(), password.secret()), ("u", "p@ss"));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(all.with_query(&under).query(), Some("sig=abc&sv=1"));
        // Not under the base: neither goes.
        let elsewhere = Url::parse("https://other.example/codex/a").unwrap();
        assert!(all.for_url(&elsewhere).is_none());
        assert_eq!(all.with_query(&elsewhere), elsewhere);
        // A URL with a query of its own keeps it.
        let own = Url::parse("https://mirror.example/codex/a?x=1").unwrap();
        assert_eq!(all.with_query(&own), own);
    }

    #[test]
    fn a_url_without_secrets_is_kept_as_written() {
        for raw in [
            "https://mirror.example/codex/",
            "file:///srv/mirror",
            "not a url",
        ] {
            let (bare, scoped) = split_secrets(raw);
            assert_eq!(bare, raw);
            assert!(scoped.is_empty());
        }
    }
}
