//! What of a URL may be shown: [`DisplayUrl`], the one form in which a URL is printed, logged,
//! put in JSON, carried in an error or written to a receipt.
//!
//! Two parts of a URL can hold a secret: the userinfo (`https://user:password@host/`) and the
//! query (a signed download's `?X-Amz-Signature=…`, a SAS token, `?token=…`). A `DisplayUrl`
//! has the userinfo removed and the whole query replaced by `<redacted>` (keys too: a bare
//! token can be a key); the scheme, host, port, path and fragment stay as written, so a
//! URL without secrets reads exactly as the user gave it. Configured URLs lose their secrets
//! before anything is requested (`crate::net::split_secrets` turns them into scoped
//! credentials); this type is the second line, for URLs a server handed us and for anything
//! that slips past the first.
//!
//! The redaction is textual, so a string that does not parse as a URL (a mistyped `--mirror`)
//! is redacted too.

use std::fmt;

/// What replaces a query.
pub const REDACTED: &str = "<redacted>";

/// A URL with its userinfo removed and its query redacted. The only way to make one is to
/// redact, so a field of this type cannot hold a secret.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct DisplayUrl(String);

impl DisplayUrl {
    pub fn new(raw: &str) -> DisplayUrl {
        DisplayUrl(redact(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether it names a local file (`file:`), which has nothing to redact.
    pub fn is_file(&self) -> bool {
        self.0.starts_with("file:")
    }
}

impl<T: AsRef<str>> From<T> for DisplayUrl {
    fn from(raw: T) -> DisplayUrl {
        DisplayUrl::new(raw.as_ref())
    }
}

impl fmt::Display for DisplayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for DisplayUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// Read back redacted: a receipt written before redaction existed is shown without its secrets.
impl<'de> serde::Deserialize<'de> for DisplayUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<DisplayUrl, D::Error> {
        String::deserialize(d).map(|s| DisplayUrl::new(&s))
    }
}

/// `serialize_with` for a `String` field that holds a URL to request (a plan's): written as its
/// [`DisplayUrl`].
pub fn serialize<S: serde::Serializer>(url: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&redact(url))
}

/// `serialize_with` for a `Vec<String>` of URLs.
pub fn serialize_all<S: serde::Serializer>(urls: &[String], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(urls.iter().map(|u| redact(u)))
}

/// `scheme://user:pw@host/p?q#f` -> `scheme://host/p?<redacted>#f`.
fn redact(raw: &str) -> String {
    let (start, schemed) = match raw.find("://") {
        Some(i) => (i + 3, true),
        None => (0, false),
    };
    let rest = &raw[start..];
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_len];
    // Without a scheme only a proxy-style `user:pw@host:port` has userinfo; a Windows path
    // (`C:\a@b`) does not.
    let userinfo_len = authority
        .rfind('@')
        .filter(|_| schemed || !authority.contains('\\'))
        .map_or(0, |at| at + 1);
    let mut out = String::with_capacity(raw.len());
    out.push_str(&raw[..start]);
    let after_userinfo = &rest[userinfo_len..];
    match after_userinfo.find('?') {
        Some(q) => {
            out.push_str(&after_userinfo[..q]);
            let query_and_more = &after_userinfo[q + 1..];
            let (query, fragment) = match query_and_more.find('#') {
                Some(h) => query_and_more.split_at(h),
                None => (query_and_more, ""),
            };
            out.push('?');
            if !query.is_empty() {
                out.push_str(REDACTED);
            }
            out.push_str(fragment);
        }
        None => out.push_str(after_userinfo),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn shown(raw: &str) -> String {
        DisplayUrl::new(raw).to_string()
    }

    #[test]
    fn userinfo_goes_and_the_query_is_redacted() {
        assert_eq!(
            shown("https://user:s3cret@host:8443/a/b?X-Amz-Signature=abc#f"),
            "https://host:8443/a/b?<redacted>#f"
        );
        assert_eq!(shown("http://tok@127.0.0.1:9"), "http://127.0.0.1:9");
        assert_eq!(
            shown("http://u:p%40ss@h/x?token=abc&b=c"),
            "http://h/x?<redacted>"
        );
        // A password with a raw `@` still leaves whole: the last `@` ends the userinfo.
        assert_eq!(shown("http://u:p@ss@h/x"), "http://h/x");
        assert_eq!(shown("http://u:pw@h?abc"), "http://h?<redacted>");
    }

    #[test]
    fn a_url_without_secrets_reads_as_written() {
        for clean in [
            "http://127.0.0.1:9/simple/",
            "https://registry.example/@openai%2fcodex",
            "file:///tmp/mirror",
            "https://h/a.whl#sha256=00ff",
            "http://h/x?",
        ] {
            assert_eq!(shown(clean), clean);
        }
    }

    #[test]
    fn strings_that_are_not_urls_are_redacted_too() {
        assert_eq!(
            shown("http://u:pw@[::bad/x?k=v"),
            "http://[::bad/x?<redacted>"
        );
        assert_eq!(shown("user:pw@proxy:3128"), "proxy:3128");
        assert_eq!(shown(r"C:\Users\a@b\mirror"), r"C:\Users\a@b\mirror");
        assert_eq!(shown("/srv/mirror"), "/srv/mirror");
    }

    #[test]
    fn json_holds_the_redacted_form_and_reads_back_redacted() {
        let json = serde_json::to_string(&DisplayUrl::new("http://u:pw@h/x?t=1")).unwrap();
        assert_eq!(json, "\"http://h/x?<redacted>\"");
        let old: DisplayUrl = serde_json::from_str("\"http://u:pw@h/x?t=1\"").unwrap();
        assert_eq!(old.as_str(), "http://h/x?<redacted>");
    }
}
