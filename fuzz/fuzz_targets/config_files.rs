//! The configuration files credentials and indexes come from: netrc, `.npmrc`, pip's INI
//! files, uv's `uv.toml` and `pyproject.toml` `[tool.uv]`. The input is the files joined with
//! `==> NAME <==` lines (text before the first is `.netrc`). No panic on any text; a netrc
//! login is a whitespace-free token of the file; an `.npmrc` key is trimmed and on one line;
//! an INI value is trimmed and non-empty.
#![no_main]
#[path = "common/mod.rs"]
mod common;

use codex_bootstrap::fuzzing;
use libfuzzer_sys::fuzz_target;

const HOSTS: &[&str] = &["127.0.0.1", "example.invalid", "localhost", ""];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for (name, body) in common::sections(text, ".netrc") {
        match name {
            ".netrc" => {
                for host in HOSTS {
                    for use_default in [true, false] {
                        if let Some(user) = fuzzing::netrc(&body, host, use_default) {
                            assert!(!user.contains(char::is_whitespace), "{user:?}");
                            assert!(body.contains(&user), "{user:?} is not in the file");
                        }
                    }
                }
            }
            ".npmrc" => {
                let (pairs, interpolated) = fuzzing::npmrc(&body);
                for (k, _) in &pairs {
                    assert_eq!(k.trim(), k);
                    assert!(!k.contains('\n'));
                }
                assert!(interpolated.len() <= pairs.len());
            }
            "pip.conf" => {
                for (section, key) in [("global", "index-url"), ("install", "index-url"), ("global", "extra-index-url")] {
                    if let Some(v) = fuzzing::pip_ini(&body, section, key) {
                        assert!(!v.is_empty() && v.trim() == v, "{v:?}");
                    }
                }
            }
            "uv.toml" | "pyproject.toml" => {
                let Ok(tmp) = tempfile::tempdir() else { return };
                let path = tmp.path().join(name);
                std::fs::write(&path, &body).unwrap();
                let _ = fuzzing::uv_config_index(&path);
            }
            _ => {}
        }
    }
});
