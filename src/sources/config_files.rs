//! The configuration files pip and npm read, parsed as they parse them: netrc, `.npmrc`
//! (`key=value`, `${VAR}` expanded) and pip's INI files.

use std::path::PathBuf;

use url::Url;

use crate::net::{Credential, Token};

/// Whether a netrc `default` entry may answer for a host no `machine` line names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetrcDefault {
    /// The index is the user's own choice (a flag, a variable, pip's or the user's uv config).
    Use,
    /// The index comes from a project's file: a checked-out repository may not send the
    /// user's catch-all login to a host it picked.
    Ignore,
}

/// netrc credentials for the URL's host (`NETRC`, else `~/.netrc`, `~/_netrc` on Windows).
pub fn netrc_for(url: &Url, default: NetrcDefault) -> Option<Credential> {
    let file = std::env::var_os("NETRC")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            let name = if cfg!(windows) { "_netrc" } else { ".netrc" };
            dirs::home_dir().map(|h| h.join(name))
        })?;
    let text = std::fs::read_to_string(file).ok()?;
    netrc_lookup(&text, url.host_str()?, default)
}

/// The login and password of `machine HOST` (else of `default`, when `default` allows it) in
/// netrc text.
pub fn netrc_lookup(text: &str, host: &str, default: NetrcDefault) -> Option<Credential> {
    struct Entry {
        machine: Option<String>,
        login: Option<String>,
        password: Option<String>,
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut tokens = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace);
    while let Some(tok) = tokens.next() {
        let value = |t: &mut dyn Iterator<Item = &str>| t.next().map(str::to_string);
        match tok {
            "machine" => entries.push(Entry {
                machine: Some(value(&mut tokens).unwrap_or_default()),
                login: None,
                password: None,
            }),
            "default" => entries.push(Entry {
                machine: None,
                login: None,
                password: None,
            }),
            "login" | "password" => {
                let v = value(&mut tokens);
                if let Some(e) = entries.last_mut() {
                    if tok == "login" {
                        e.login = v;
                    } else {
                        e.password = v;
                    }
                }
            }
            // A macro definition runs to the end of its paragraph; nothing after it is ours.
            "macdef" => break,
            _ => {}
        }
    }
    let pick = |e: &Entry| {
        e.login
            .clone()
            .map(|l| (l, e.password.clone().unwrap_or_default()))
    };
    entries
        .iter()
        .find(|e| {
            e.machine
                .as_deref()
                .is_some_and(|m| m.eq_ignore_ascii_case(host))
        })
        .or_else(|| {
            entries
                .iter()
                .find(|e| e.machine.is_none())
                .filter(|_| default == NetrcDefault::Use)
        })
        .and_then(pick)
        .map(basic)
}

pub(super) fn basic((user, password): (String, String)) -> Credential {
    Credential::Basic {
        user,
        password: Token::new(password),
    }
}

/// `key=value` lines of an `.npmrc`, with `${VAR}` expanded as npm does.
pub fn npmrc_pairs(text: &str) -> Vec<(String, String)> {
    npmrc_raw_pairs(text)
        .map(|(k, v)| (k.to_string(), expand_env(v)))
        .collect()
}

/// The keys of an `.npmrc` whose value names an environment variable (`${VAR}`).
pub fn npmrc_interpolated_keys(text: &str) -> Vec<String> {
    npmrc_raw_pairs(text)
        .filter(|(_, v)| v.contains("${"))
        .map(|(k, _)| k.to_string())
        .collect()
}

fn npmrc_raw_pairs(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim().trim_matches('"').trim_matches('\'')))
}

pub(super) fn expand_env(v: &str) -> String {
    let mut out = String::new();
    let mut rest = v;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        match rest[start + 2..].find('}') {
            Some(end) => {
                let name = &rest[start + 2..start + 2 + end];
                out.push_str(&std::env::var(name).unwrap_or_default());
                rest = &rest[start + 3 + end..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The value of `key` in `[section]` of an INI file (pip's config format).
pub(crate) fn ini_value(text: &str, section: &str, keys: &[&str]) -> Option<String> {
    let mut in_section = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_section = line.trim_matches(|c| c == '[' || c == ']').trim() == section;
            continue;
        }
        if !in_section || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some((k, v)) = line.split_once('=').or_else(|| line.split_once(':')) {
            if keys.contains(&k.trim()) && !v.trim().is_empty() {
                return Some(v.trim().to_string());
            }
        }
    }
    None
}
