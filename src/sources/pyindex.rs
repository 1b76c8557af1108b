//! The Python package index: the `openai-codex-cli-bin` wheels the Python SDK depends on.
//!
//! One request for the project page, in the PEP 691 JSON form when the index speaks it, else
//! PEP 503 HTML; each file's sha256 comes from `hashes.sha256` or the `#sha256=` fragment.
//! Yanked files are skipped. The wheel holds the codex-package layout under `codex_cli_bin/`.

use serde::Deserialize;
use url::Url;

use crate::error::Hint;
use crate::net::{Http, NetError};
use crate::pin::CodexVersion;
use crate::platform::WheelFilename;
use crate::remote::{self, RemoteError};
use crate::verify::Sha256;

/// The runtime's distribution name (PEP 503 normalised).
pub const PROJECT: &str = "openai-codex-cli-bin";

/// JSON first, HTML as a fallback: what pip and uv send.
pub const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// One file the index lists for the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    pub filename: String,
    /// Absolute, without the `#sha256=` fragment.
    pub url: String,
    pub sha256: Option<Sha256>,
    pub size: Option<u64>,
    /// The reason, when yanked (an empty reason is still a yank).
    pub yanked: Option<String>,
}

impl IndexFile {
    /// The Codex version of a wheel, read from its file name.
    pub fn version(&self) -> Option<CodexVersion> {
        crate::platform::wheel_version(&self.filename).and_then(|v| CodexVersion::parse(v).ok())
    }

    /// Whether this is a wheel for one of the platform `tags`.
    pub fn has_platform(&self, tags: &[&str]) -> bool {
        WheelFilename::parse(&self.filename).is_some_and(|w| tags.iter().any(|t| w.has_platform(t)))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("the index has no project `{PROJECT}` (`{url}` answered 404)")]
    NoProject { url: crate::redact::DisplayUrl },
    #[error("the index refused the request for `{url}` (HTTP {status}): {}", refusal(*.sent))]
    Unauthorized {
        url: crate::redact::DisplayUrl,
        status: u16,
        /// Whether credentials were sent (and so rejected).
        sent: bool,
    },
    /// An auth front (devpi-lockdown's nginx configuration, a single sign-on proxy) answers a
    /// refused login with a redirect to its login page, which then answers 200.
    #[error("the index sent the request for `{url}` to a login page (`{to}`) instead of the project page: {}", refusal(*.sent))]
    LoginRedirect {
        url: crate::redact::DisplayUrl,
        to: crate::redact::DisplayUrl,
        sent: bool,
    },
    #[error("`{url}` answered HTTP {status}")]
    Status {
        url: crate::redact::DisplayUrl,
        status: u16,
    },
    #[error("the index page `{url}` is malformed: {reason}")]
    Malformed {
        url: crate::redact::DisplayUrl,
        reason: String,
    },
    /// A listed file whose name is a path, or whose URL is not http(s): the page is refused
    /// whole, before anything is downloaded.
    #[error(transparent)]
    Hostile(#[from] RemoteError),
    #[error(transparent)]
    Net(#[from] NetError),
}

impl Hint for IndexError {
    fn hint(&self) -> Option<String> {
        match self {
            IndexError::NoProject { .. } => Some("this index does not mirror openai-codex-cli-bin: point `--index-url` at one that does, or use another `--source`".into()),
            IndexError::Unauthorized { sent: true, .. } | IndexError::LoginRedirect { sent: true, .. } => Some("the index rejected the credentials given: fix the user and password in the index URL (`https://user:password@host/simple`, from --index-url, PIP_INDEX_URL or pip.conf) or in netrc (NETRC, ~/.netrc)".into()),
            IndexError::Unauthorized { sent: false, .. } | IndexError::LoginRedirect { sent: false, .. } => Some("give the index's credentials in its URL (`https://user:password@host/simple`, in --index-url, PIP_INDEX_URL or pip.conf) or in netrc (NETRC, ~/.netrc)".into()),
            IndexError::Status { .. } | IndexError::Malformed { .. } => Some("check `--index-url` / PIP_INDEX_URL, or use another `--source`".into()),
            IndexError::Hostile(e) => e.hint(),
            IndexError::Net(e) => e.hint(),
        }
    }
}

fn refusal(sent: bool) -> &'static str {
    if sent {
        "the credentials given were rejected"
    } else {
        "it wants credentials, and none were given"
    }
}

/// The project page URL under an index base.
pub fn project_url(index: &Url) -> String {
    crate::plan::index_page_url(index)
}

/// Fetch and parse the project page of an index.
pub async fn project_files(http: &Http, index: &Url) -> Result<Vec<IndexFile>, IndexError> {
    page_files(http, &project_url(index)).await
}

/// Fetch and parse the project page at `page` (what a plan names).
pub async fn page_files(http: &Http, page: &str) -> Result<Vec<IndexFile>, IndexError> {
    let page = page.to_string();
    let url = http.url(&page)?;
    let sent = http.config.credentials.for_url(&url).is_some();
    let answer = http.get_page(&url, false, Some(ACCEPT), 32 << 20).await?;
    let status = answer.status;
    match status {
        200 => {}
        404 => return Err(IndexError::NoProject { url: page.into() }),
        401 | 403 => {
            return Err(IndexError::Unauthorized {
                url: page.into(),
                status,
                sent,
            })
        }
        _ => {
            return Err(IndexError::Status {
                url: page.into(),
                status,
            })
        }
    }
    let content_type = answer
        .headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    // Relative links resolve against the URL that answered, after redirects (devpi's are
    // `../../+f/…`).
    if content_type.starts_with("application/vnd.pypi.simple.v1+json") {
        return parse_json(&answer.body, &answer.url);
    }
    let files = html_links(&String::from_utf8_lossy(&answer.body), &answer.url);
    if is_login_page(&url, &answer.url, &files) {
        return Err(IndexError::LoginRedirect {
            url: page.into(),
            to: crate::redact::DisplayUrl::from(&answer.url),
            sent,
        });
    }
    vetted(files, &answer.url, is_wheel_link)
}

/// A redirect away from the project page to an HTML page that lists none of the project's
/// files: an auth front's login page (devpi-lockdown's `/+login`), not an index's answer. An
/// index that moved its project page elsewhere still lists the project's wheels there.
fn is_login_page(asked: &Url, answered: &Url, files: &[IndexFile]) -> bool {
    let moved = asked.path().trim_end_matches('/') != answered.path().trim_end_matches('/')
        || asked.host_str() != answered.host_str();
    let project = PROJECT.replace('-', "_");
    let lists_project = files.iter().any(|f| {
        f.filename
            .to_ascii_lowercase()
            .replace('-', "_")
            .starts_with(&format!("{project}-"))
    });
    moved && !lists_project
}

#[derive(Deserialize)]
struct JsonPage {
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    yanked: Yanked,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Yanked {
    #[default]
    No,
    Flag(bool),
    Reason(String),
}

/// PEP 691: `files[].{filename, url, hashes.sha256, size, yanked}`.
pub fn parse_json(body: &[u8], page: &Url) -> Result<Vec<IndexFile>, IndexError> {
    let parsed: JsonPage = serde_json::from_slice(body).map_err(|e| IndexError::Malformed {
        url: page.into(),
        reason: e.to_string(),
    })?;
    let files = parsed
        .files
        .into_iter()
        .map(|f| {
            let (url, fragment_hash) = absolute(page, &f.url);
            IndexFile {
                sha256: f
                    .hashes
                    .get("sha256")
                    .and_then(|h| Sha256::parse(h).ok())
                    .or(fragment_hash),
                url,
                size: f.size,
                yanked: match f.yanked {
                    Yanked::No | Yanked::Flag(false) => None,
                    Yanked::Flag(true) => Some(String::new()),
                    Yanked::Reason(r) => Some(r),
                },
                filename: f.filename,
            }
        })
        .collect();
    vetted(files, page, |_| true)
}

/// `files`, when every one `judged` is named by one plain path component and lives at an
/// http(s) URL (relative links resolved against an http(s) page stay so). pip and uv refuse
/// such names too; a page that lists one is malformed or hostile, and is refused whole, before
/// anything is downloaded.
fn vetted(
    files: Vec<IndexFile>,
    page: &Url,
    judged: impl Fn(&IndexFile) -> bool,
) -> Result<Vec<IndexFile>, IndexError> {
    let server = crate::redact::DisplayUrl::new(page.as_str()).to_string();
    for f in files.iter().filter(|f| judged(f)) {
        remote::file_name(&server, &f.filename)?;
        remote::fetchable_url(&server, &f.filename, &f.url)?;
    }
    Ok(files)
}

/// An HTML page's links that can be chosen: wheels. Every entry of a JSON page is a file, but
/// an HTML page may also carry navigation (`../`, a `mailto:`), which is never downloaded.
fn is_wheel_link(f: &IndexFile) -> bool {
    f.filename.to_ascii_lowercase().ends_with(".whl")
}

/// PEP 503: `<a href="URL#sha256=HEX" data-yanked="reason">FILENAME</a>`; every wheel
/// vetted as [`parse_json`] vets files.
pub fn parse_html(body: &str, page: &Url) -> Result<Vec<IndexFile>, IndexError> {
    vetted(html_links(body, page), page, is_wheel_link)
}

/// The links of a PEP 503 page, not yet vetted.
fn html_links(body: &str, page: &Url) -> Vec<IndexFile> {
    let mut files = Vec::new();
    let mut rest = body;
    while let Some(start) = find_ci(rest, "<a") {
        let after = &rest[start + 2..];
        if !after.starts_with(|c: char| c.is_whitespace()) {
            rest = after;
            continue;
        }
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let attrs = &after[..tag_end];
        let body_start = &after[tag_end + 1..];
        let text_end = find_ci(body_start, "</a>").unwrap_or(body_start.len());
        let text = unescape(body_start[..text_end].trim());
        rest = &body_start[text_end..];
        let Some(href) = attribute(attrs, "href") else {
            continue;
        };
        let (url, sha256) = absolute(page, &unescape(&href));
        let filename = if text.is_empty() {
            url.rsplit('/').next().unwrap_or_default().to_string()
        } else {
            text
        };
        files.push(IndexFile {
            filename,
            url,
            sha256,
            size: None,
            yanked: attribute(attrs, "data-yanked").map(|r| unescape(&r)),
        });
    }
    files
}

fn find_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The value of `name="…"` (or `'…'`, or bare, or present without a value) in a tag.
fn attribute(attrs: &str, name: &str) -> Option<String> {
    let bytes = attrs.as_bytes();
    let mut i = 0;
    while let Some(pos) = find_ci(&attrs[i..], name) {
        let at = i + pos;
        let end = at + name.len();
        let boundary_before = at == 0 || bytes[at - 1].is_ascii_whitespace();
        let next = attrs[end..].trim_start();
        if boundary_before
            && (next.starts_with('=')
                || next.is_empty()
                || next.starts_with(char::is_whitespace)
                || end == attrs.len())
        {
            if let Some(v) = next.strip_prefix('=') {
                let v = v.trim_start();
                return Some(match v.chars().next() {
                    Some(q @ ('"' | '\'')) => {
                        v[1..].split(q).next().unwrap_or_default().to_string()
                    }
                    _ => v.split_whitespace().next().unwrap_or_default().to_string(),
                });
            }
            return Some(String::new());
        }
        i = end;
    }
    None
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Resolve `href` against the page, splitting off a `#sha256=` fragment.
fn absolute(page: &Url, href: &str) -> (String, Option<Sha256>) {
    let (link, fragment) = match href.split_once('#') {
        Some((l, f)) => (l, Some(f)),
        None => (href, None),
    };
    let sha256 = fragment
        .and_then(|f| f.strip_prefix("sha256="))
        .and_then(|h| Sha256::parse(h).ok());
    let url = page
        .join(link)
        .map(|u| u.to_string())
        .unwrap_or_else(|_| link.to_string());
    (url, sha256)
}

/// The newest stable version with a non-yanked wheel whose platform tag is one of `tags`.
pub fn newest_stable(files: &[IndexFile], tags: &[&str]) -> Option<CodexVersion> {
    files
        .iter()
        .filter(|f| f.yanked.is_none() && f.has_platform(tags))
        .filter_map(IndexFile::version)
        .filter(|v| !v.is_prerelease())
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Url {
        Url::parse("https://idx.example/simple/openai-codex-cli-bin/").unwrap()
    }

    #[test]
    fn json_files_with_hashes_sizes_and_yanks() {
        let d = Sha256::of(b"w");
        let body = format!(
            r#"{{"meta":{{"api-version":"1.1"}},"name":"openai-codex-cli-bin","files":[
              {{"filename":"a.whl","url":"../../files/a.whl","hashes":{{"sha256":"{d}"}},"size":3,"yanked":false}},
              {{"filename":"b.whl","url":"https://cdn.example/b.whl","hashes":{{}},"yanked":"broken"}},
              {{"filename":"c.whl","url":"/c.whl#sha256={d}","hashes":{{}},"yanked":true}}]}}"#
        );
        let files = parse_json(body.as_bytes(), &page()).unwrap();
        assert_eq!(files[0].url, "https://idx.example/files/a.whl");
        assert_eq!(files[0].sha256, Some(d));
        assert_eq!(files[0].size, Some(3));
        assert_eq!(files[0].yanked, None);
        assert_eq!(files[1].sha256, None);
        assert_eq!(files[1].yanked.as_deref(), Some("broken"));
        assert_eq!(files[2].sha256, Some(d), "a fragment hash counts too");
        assert_eq!(files[2].yanked.as_deref(), Some(""));
        assert!(parse_json(b"{}", &page()).is_err());
    }

    #[test]
    fn html_links_with_fragments_and_data_yanked() {
        let d = Sha256::of(b"w");
        let body = format!(
            "<!DOCTYPE html><html><body><h1>Links</h1>\n\
             <a href=\"../../files/a.whl#sha256={d}\" data-requires-python=\"&gt;=3.9\">a.whl</a><br/>\n\
             <A HREF='https://cdn.example/b.whl' data-yanked=\"bad &amp; old\">b.whl</A>\n\
             <a href=\"c.whl\" data-yanked>c.whl</a>\n\
             <abbr>not a link</abbr></body></html>"
        );
        let files = parse_html(&body, &page()).unwrap();
        assert_eq!(files.len(), 3, "{files:?}");
        assert_eq!(files[0].filename, "a.whl");
        assert_eq!(files[0].url, "https://idx.example/files/a.whl");
        assert_eq!(files[0].sha256, Some(d));
        assert_eq!(files[0].yanked, None);
        assert_eq!(files[1].url, "https://cdn.example/b.whl");
        assert_eq!(files[1].yanked.as_deref(), Some("bad & old"));
        assert_eq!(
            files[2].url,
            "https://idx.example/simple/openai-codex-cli-bin/c.whl"
        );
        assert_eq!(files[2].yanked.as_deref(), Some(""));
    }

    /// The issue's name: a build tag that climbs out of the downloads directory.
    const CLIMBING: &str =
        "openai_codex_cli_bin-0.170.0-1/../../../../tmp/x/evil-py3-none-musllinux_1_1_x86_64.whl";

    #[test]
    fn a_page_naming_a_path_or_a_local_file_is_refused_whole() {
        let json = |name: &str, url: &str| {
            format!(
                r#"{{"files":[{{"filename":"ok-1.0-py3-none-any.whl","url":"ok.whl"}},
                  {{"filename":"{name}","url":"{url}"}}]}}"#
            )
        };
        for (name, url) in [
            (CLIMBING, "https://cdn.example/x.whl"),
            ("..\\\\evil.whl", "https://cdn.example/x.whl"),
            ("CON.whl", "https://cdn.example/x.whl"),
        ] {
            match parse_json(json(name, url).as_bytes(), &page()) {
                Err(IndexError::Hostile(RemoteError::FileName { server, .. })) => {
                    assert_eq!(server, page().to_string())
                }
                other => panic!("{name}: {other:?}"),
            }
        }
        let local = parse_json(json("a.whl", "file:///etc/hostname").as_bytes(), &page());
        assert!(
            matches!(local, Err(IndexError::Hostile(RemoteError::Scheme { .. }))),
            "{local:?}"
        );
        let html = |href: &str, text: &str| format!("<a href=\"{href}\">{text}</a>");
        assert!(matches!(
            parse_html(&html("/x.whl", CLIMBING), &page()),
            Err(IndexError::Hostile(RemoteError::FileName { .. }))
        ));
        assert!(matches!(
            parse_html(&html("file:///etc/hostname", "a.whl"), &page()),
            Err(IndexError::Hostile(RemoteError::Scheme { .. }))
        ));
        // Navigation on an HTML page is not a file: it is never downloaded, nor refused.
        let nav = format!(
            "{}{}",
            html("../", "../"),
            html("mailto:admin@idx.example", "admin")
        );
        assert_eq!(parse_html(&nav, &page()).unwrap().len(), 2);
    }

    #[test]
    fn newest_stable_skips_yanked_prereleases_and_other_platforms() {
        let f = |name: &str, yanked: bool| IndexFile {
            filename: name.into(),
            url: String::new(),
            sha256: None,
            size: None,
            yanked: yanked.then(String::new),
        };
        let files = vec![
            f(
                "openai_codex_cli_bin-0.160.0-py3-none-musllinux_1_1_x86_64.whl",
                false,
            ),
            f(
                "openai_codex_cli_bin-0.163.0-py3-none-musllinux_1_1_x86_64.whl",
                true,
            ),
            f(
                "openai_codex_cli_bin-0.162.0-py3-none-manylinux_2_17_x86_64.whl",
                false,
            ),
            f(
                "openai_codex_cli_bin-0.170.0a1-py3-none-musllinux_1_1_x86_64.whl",
                false,
            ),
            f("openai_codex_cli_bin-0.180.0-py3-none-win_amd64.whl", false),
        ];
        let tags = ["musllinux_1_1_x86_64", "manylinux_2_17_x86_64"];
        assert_eq!(newest_stable(&files, &tags).unwrap().to_string(), "0.162.0");
    }
}
