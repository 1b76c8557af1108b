//! Credentials: the GitHub token (for the API only) and the registries' credentials, each
//! scoped to the URLs it may be sent to.

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
    pub(super) fn secret(&self) -> &str {
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
}

/// The registry credentials a client may use, filled in as registries are located.
#[derive(Clone, Debug, Default)]
pub struct Credentials(Arc<std::sync::RwLock<Vec<ScopedCredential>>>);

impl Credentials {
    /// Add credentials (one scope is kept once).
    pub fn add(&self, more: impl IntoIterator<Item = ScopedCredential>) {
        if let Ok(mut all) = self.0.write() {
            for c in more {
                if !all.iter().any(|have| have.scope == c.scope) {
                    all.push(c);
                }
            }
            // The most specific scope first, so it wins.
            all.sort_by_key(|c| std::cmp::Reverse(c.scope.path().len()));
        }
    }

    /// The credential to send to `url`, if any.
    pub fn for_url(&self, url: &Url) -> Option<Credential> {
        let all = self.0.read().ok()?;
        all.iter()
            .find(|c| c.applies_to(url))
            .map(|c| c.credential.clone())
    }
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
