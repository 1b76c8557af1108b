//! What a server says is data: never a path, never a place on this machine, never a command to
//! the terminal.
//!
//! - A file name from a server (an index's wheel `filename`, the last segment of an npm
//!   tarball URL, a `SHA256SUMS` line) must be one plain path component, as pip and uv require
//!   ([`file_name`]): checked where the name enters, before anything is written under it.
//! - A URL from a server's metadata (an index page, a packument) must be http or https
//!   ([`fetchable_url`]): `file://` is only ever the user's own word (`--mirror`, `--archive`).
//! - Text from a server shown to a person (GitHub's `message`, a yank reason, an error body)
//!   loses its control characters first ([`printable`]), so it cannot move the cursor, rewrite
//!   a line or change the terminal's state.
//!
//! This module imports nothing from the crate but [`Hint`]: every module that reads a server
//! may use it.

use std::borrow::Cow;

use crate::error::Hint;

/// The longest file name most file systems take (`NAME_MAX`).
const MAX_NAME: usize = 255;

/// Names Windows reserves for devices in every directory, whatever the extension
/// (<https://learn.microsoft.com/en-us/windows/win32/fileio/naming-a-file>).
const DEVICES: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "COM1", "COM2", "COM3", "COM4", "COM5",
    "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5",
    "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³",
];

/// Why `name` is not one plain path component, or `None` when it is: not empty, not `.` or
/// `..`, no `/`, `\`, `:` (drive letters, NTFS streams), NUL or other control character, no
/// trailing dot or space (Windows drops them, so two names would be one file), not a Windows
/// device name, at most 255 bytes.
pub fn file_name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("it is empty");
    }
    if name == "." || name == ".." {
        return Some("it names a directory (`.` or `..`)");
    }
    if name.contains(['/', '\\']) {
        return Some("it contains a path separator");
    }
    if name.contains(':') {
        return Some("it contains `:` (a drive letter or a stream name)");
    }
    if name.chars().any(char::is_control) {
        return Some("it contains a control character");
    }
    if name.ends_with(['.', ' ']) {
        return Some("it ends in a dot or a space");
    }
    let stem = name.split('.').next().unwrap_or_default().trim_end();
    if DEVICES.iter().any(|d| d.eq_ignore_ascii_case(stem)) {
        return Some("it is a Windows device name");
    }
    if name.len() > MAX_NAME {
        return Some("it is longer than 255 bytes");
    }
    None
}

/// A file name from a server that is not one plain path component, or a URL from a server's
/// metadata that is not http(s).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    #[error("`{server}` names a file `{}`, which is not a plain file name: {why}", printable(.name))]
    FileName {
        /// The server (its URL, without credentials) or document that named it.
        server: String,
        name: String,
        why: &'static str,
    },
    #[error("`{server}` points `{}` at `{}`: only http and https are followed from a server's metadata", printable(.name), printable(.url))]
    Scheme {
        server: String,
        name: String,
        url: String,
    },
    #[error("`{server}` points `{}` at `{}`, which is not a URL ({reason})", printable(.name), printable(.url))]
    NotUrl {
        server: String,
        name: String,
        url: String,
        reason: String,
    },
}

impl Hint for RemoteError {
    /// The fix is the same for all: the server is broken or hostile.
    fn hint(&self) -> Option<String> {
        Some("nothing was written: the server's listing is malformed or hostile; use another `--source` or index, and report it to whoever runs the server".into())
    }
}

/// `name`, when it is one plain path component ([`file_name_problem`]); `server` names who said
/// it, for the error.
pub fn file_name<'n>(server: &str, name: &'n str) -> Result<&'n str, RemoteError> {
    match file_name_problem(name) {
        None => Ok(name),
        Some(why) => Err(RemoteError::FileName {
            server: server.to_string(),
            name: name.to_string(),
            why,
        }),
    }
}

/// `url` (what `server`'s metadata gives for the file `name`), when its scheme is http or
/// https. Anything else (`file:`, `data:`, `ftp:`, a URL that does not parse) is refused: a
/// server may not point us at this machine's files.
pub fn fetchable_url<'u>(server: &str, name: &str, url: &'u str) -> Result<&'u str, RemoteError> {
    let scheme = url
        .split_once(':')
        .map(|(s, _)| s.to_ascii_lowercase())
        .unwrap_or_default();
    if scheme == "http" || scheme == "https" {
        return match url::Url::parse(url) {
            Ok(_) => Ok(url),
            Err(e) => Err(RemoteError::NotUrl {
                server: server.to_string(),
                name: name.to_string(),
                url: url.to_string(),
                reason: e.to_string(),
            }),
        };
    }
    Err(RemoteError::Scheme {
        server: server.to_string(),
        name: name.to_string(),
        url: url.to_string(),
    })
}

/// `text` without control characters: ANSI escapes (ESC and the sequence it starts), carriage
/// returns, backspaces, bells and the C1 controls are dropped; a newline or tab becomes a
/// space, so one line of server text stays one line.
pub fn printable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' | '\t' => out.push(' '),
            // ESC [ … final byte (CSI), ESC ] … BEL or ESC \ (OSC), or ESC and one character.
            '\u{1b}' => match chars.next() {
                Some('[') => {
                    for c in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    while let Some(c) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                            chars.next();
                            break;
                        }
                    }
                }
                _ => {}
            },
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// [`printable`], line by line: a multi-line message keeps its lines, each stripped.
pub fn printable_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.split('\n')
            .map(printable)
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass() {
        for name in [
            "openai_codex_cli_bin-0.163.0-py3-none-musllinux_1_1_x86_64.whl",
            "codex-0.163.0-linux-x64.tgz",
            "codex-package-x86_64-unknown-linux-musl.tar.zst",
            "codex-package_SHA256SUMS",
            "a b.whl",
            "CONSOLE.txt",
            ".hidden",
        ] {
            assert_eq!(file_name_problem(name), None, "{name}");
            assert_eq!(file_name("s", name), Ok(name));
        }
    }

    #[test]
    fn names_that_are_paths_or_devices_are_refused() {
        for name in [
            "",
            ".",
            "..",
            "openai_codex_cli_bin-0.170.0-1/../../../tmp/x/evil-py3-none-any.whl",
            "..\\..\\evil.tgz",
            "/etc/passwd",
            "C:evil.whl",
            "c:",
            "evil.whl:stream",
            "a\0b",
            "a\nb",
            "a\u{1b}[2Jb",
            "evil.whl.",
            "evil.whl ",
            "CON",
            "nul.tgz",
            "Com1.whl",
            "lpt9",
            "COM¹.txt",
        ] {
            assert!(file_name_problem(name).is_some(), "{name:?} passed");
        }
        assert!(file_name_problem(&"a".repeat(256)).is_some());
        assert_eq!(file_name_problem(&"a".repeat(255)), None);
        let e = file_name("https://idx.example/simple/p/", "../x").unwrap_err();
        assert_eq!(
            e.to_string(),
            "`https://idx.example/simple/p/` names a file `../x`, which is not a plain file name: it contains a path separator"
        );
    }

    #[test]
    fn only_http_and_https_urls_are_followed() {
        assert!(fetchable_url("s", "n", "https://cdn.example/a.whl").is_ok());
        assert!(fetchable_url("s", "n", "HTTP://127.0.0.1/a.whl").is_ok());
        for url in [
            "file:///etc/hostname",
            "FILE:///dev/zero",
            "data:,hello",
            "ftp://x/y",
            "/relative/but/unresolved",
            "",
        ] {
            assert!(
                matches!(
                    fetchable_url("s", "n", url),
                    Err(RemoteError::Scheme { .. })
                ),
                "{url}"
            );
        }
    }

    /// Found by the `pyindex` fuzz target: an http URL that does not parse (a host whose last
    /// label is a number but not an IPv4 address) passed as fetchable, and failed only later.
    #[test]
    fn an_http_url_that_does_not_parse_is_refused() {
        for url in ["http://q27.0.0.1/a.whl", "https://[::1/a.whl", "http://"] {
            assert!(
                matches!(
                    fetchable_url("s", "n", url),
                    Err(RemoteError::NotUrl { .. })
                ),
                "{url}"
            );
        }
    }

    #[test]
    fn control_characters_are_stripped_and_lines_kept_whole() {
        assert!(matches!(printable("plain text"), Cow::Borrowed(_)));
        assert_eq!(printable("a\u{1b}[31mred\u{1b}[0m b"), "ared b");
        assert_eq!(printable("ok\rFAKE"), "okFAKE");
        assert_eq!(printable("two\nlines\tand tab"), "two lines and tab");
        assert_eq!(
            printable("title\u{1b}]0;pwned\u{7}done\u{1b}]8;;x\u{1b}\\y"),
            "titledoney"
        );
        assert_eq!(printable("bell\u{7}\u{8}\u{9b}31m"), "bell31m");
        assert_eq!(printable("trailing esc\u{1b}"), "trailing esc");
        assert_eq!(printable("naïve ünïcode ✓"), "naïve ünïcode ✓");
        assert!(matches!(printable_lines("a\nb"), Cow::Borrowed(_)));
        assert_eq!(
            printable_lines("expected: x\r\n  actual: \u{1b}[8my"),
            "expected: x\n  actual: y"
        );
    }
}
