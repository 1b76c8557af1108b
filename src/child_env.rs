//! The environment a codex child starts with: only what it needs, never the rest of ours.
//!
//! Our environment holds secrets codex has no use for (`GH_TOKEN`, `NPM_TOKEN`, a registry's
//! password in `PIP_INDEX_URL`, `CODEX_BOOTSTRAP_*`), so a child starts from an empty
//! environment and gets, by name:
//!
//! - every child ([`Child::Version`], `codex --version`): the system's basics: `PATH`, `HOME`,
//!   the user and shell, `CODEX_HOME`, the locale (`LANG`, `LANGUAGE`, `LC_*`), `TZ`, the
//!   temporary directory, the terminal (`TERM`, `COLORTERM`, `NO_COLOR`), `RUST_LOG` /
//!   `RUST_BACKTRACE`, the XDG base directories, and on Windows the variables a process
//!   needs to start at all (`SYSTEMROOT`, `WINDIR`, `COMSPEC`, `PATHEXT`, `USERPROFILE`,
//!   `APPDATA`, …);
//! - the app-server ([`Child::AppServer`]), which talks to the model, also: the proxy
//!   variables (credentials included: the proxy wants them), the TLS trust variables
//!   (`SSL_CERT_FILE`, `SSL_CERT_DIR`, `CODEX_CA_CERTIFICATE`), the model's credentials and
//!   settings (`OPENAI_*`, `AZURE_OPENAI_*`, `CODEX_*` but not `CODEX_BOOTSTRAP_*`), and each
//!   variable a model provider names as its `env_key`, in `-c` overrides or `config.toml`;
//! - both: the names listed in [`PASS_ENV`], for anything else a setup needs.

use std::ffi::{OsStr, OsString};
use std::path::Path;

/// A comma-separated list of more variable names to pass to codex children.
pub const PASS_ENV: &str = "CODEX_BOOTSTRAP_PASS_ENV";

/// Which child is started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Child {
    /// `codex --version`: proves the binary runs; needs nothing from the network.
    Version,
    /// `codex app-server`: runs turns against the model.
    AppServer,
}

/// Every child: what a process needs to start, find programs, and write text.
const BASE: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "CODEX_HOME",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TMPDIR",
    "TERM",
    "COLORTERM",
    "NO_COLOR",
    "RUST_LOG",
    "RUST_BACKTRACE",
    "XDG_CONFIG_HOME",
    "XDG_CACHE_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_RUNTIME_DIR",
    // Windows: a process cannot load system libraries, find its shell or its profile without
    // these (names are case-insensitive there).
    "SYSTEMROOT",
    "SYSTEMDRIVE",
    "WINDIR",
    "COMSPEC",
    "PATHEXT",
    "TEMP",
    "TMP",
    "USERPROFILE",
    "USERNAME",
    "USERDOMAIN",
    "HOMEDRIVE",
    "HOMEPATH",
    "APPDATA",
    "LOCALAPPDATA",
    "PROGRAMDATA",
    "PROGRAMFILES",
    "PROGRAMFILES(X86)",
    "PROGRAMW6432",
    "COMMONPROGRAMFILES",
    "COMPUTERNAME",
    "NUMBER_OF_PROCESSORS",
    "PROCESSOR_ARCHITECTURE",
    "OS",
];

/// Every child, by prefix: the locale's categories.
const BASE_PREFIXES: &[&str] = &["LC_"];

/// The app-server also: how to reach the model (proxies, trust) and who to be there.
const APP_SERVER: &[&str] = &[
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// The app-server also, by prefix: the model's credentials and settings, and codex's own.
const APP_SERVER_PREFIXES: &[&str] = &["OPENAI_", "AZURE_OPENAI_", "CODEX_"];

/// Ours, never a child's (unless named in [`PASS_ENV`]).
const NEVER_PREFIX: &str = "CODEX_BOOTSTRAP_";

/// The environment of a `child`, from the process's own: `config` holds the `-c` overrides
/// and `config.toml` text whose providers' `env_key`s are passed too.
pub fn for_child(child: Child, config: &[&str]) -> Vec<(OsString, OsString)> {
    select(child, std::env::vars_os(), config)
}

/// [`for_child`] for the app-server, reading the providers of `codex_home`'s `config.toml`.
pub fn for_app_server(
    overrides: &[String],
    codex_home: Option<&Path>,
) -> Vec<(OsString, OsString)> {
    let home = codex_home
        .map(Path::to_path_buf)
        .or_else(|| std::env::var_os("CODEX_HOME").map(Into::into))
        .or_else(|| dirs::home_dir().map(|h| h.join(".codex")));
    let file = home
        .and_then(|h| std::fs::read_to_string(h.join("config.toml")).ok())
        .unwrap_or_default();
    let mut config: Vec<&str> = overrides.iter().map(String::as_str).collect();
    config.push(&file);
    for_child(Child::AppServer, &config)
}

/// The names of an environment, for logs (never the values).
pub fn names(env: &[(OsString, OsString)]) -> Vec<String> {
    env.iter()
        .map(|(k, _)| k.to_string_lossy().into_owned())
        .collect()
}

fn select(
    child: Child,
    vars: impl Iterator<Item = (OsString, OsString)>,
    config: &[&str],
) -> Vec<(OsString, OsString)> {
    let vars: Vec<(OsString, OsString)> = vars.collect();
    let mut passed = vars_listed(config);
    if let Some((_, list)) = vars.iter().find(|(k, _)| k == OsStr::new(PASS_ENV)) {
        passed.extend(
            list.to_string_lossy()
                .split(',')
                .map(|n| n.trim().to_string()),
        );
    }
    vars.into_iter()
        .filter(|(k, _)| {
            let Some(name) = k.to_str() else {
                return false;
            };
            passed.iter().any(|p| p.eq_ignore_ascii_case(name)) || wanted(child, name)
        })
        .collect()
}

/// Whether `child` gets `name` by the lists above.
fn wanted(child: Child, name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let is = |list: &[&str]| list.contains(&upper.as_str());
    let starts = |list: &[&str]| list.iter().any(|p| upper.starts_with(p));
    if upper.starts_with(NEVER_PREFIX) {
        return false;
    }
    is(BASE)
        || starts(BASE_PREFIXES)
        || (child == Child::AppServer && (is(APP_SERVER) || starts(APP_SERVER_PREFIXES)))
}

/// The variables model providers name as `env_key = "NAME"` (in `config.toml` or in a `-c`
/// override, where the value may be quoted or bare).
fn vars_listed(config: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for text in config {
        let mut rest = *text;
        while let Some(i) = rest.find("env_key") {
            rest = &rest[i + "env_key".len()..];
            let value = rest.trim_start();
            let Some(value) = value.strip_prefix('=') else {
                continue;
            };
            let value = value.trim_start().trim_start_matches(['"', '\'']);
            let name: String = value
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(k, v)| (OsString::from(k), OsString::from(v)))
            .collect()
    }

    fn passed(child: Child, pairs: &[(&str, &str)], config: &[&str]) -> Vec<String> {
        names(&select(child, env(pairs).into_iter(), config))
    }

    const ALL: &[(&str, &str)] = &[
        ("PATH", "/bin"),
        ("HOME", "/h"),
        ("LC_ALL", "C.UTF-8"),
        ("GH_TOKEN", "ghp_x"),
        ("GITHUB_TOKEN", "ghp_y"),
        ("NPM_TOKEN", "npm_x"),
        ("PIP_INDEX_URL", "https://u:pw@idx/simple"),
        ("CODEX_BOOTSTRAP_HOME", "/store"),
        ("HTTPS_PROXY", "http://u:pw@proxy:3128"),
        ("https_proxy", "http://u:pw@proxy:3128"),
        ("OPENAI_API_KEY", "sk-x"),
        ("CODEX_API_KEY", "sk-y"),
        ("MY_PROVIDER_KEY", "k"),
    ];

    #[test]
    fn codex_version_gets_the_basics_only() {
        assert_eq!(passed(Child::Version, ALL, &[]), ["PATH", "HOME", "LC_ALL"]);
    }

    #[test]
    fn the_app_server_also_gets_the_model_and_the_proxy_never_our_secrets() {
        assert_eq!(
            passed(Child::AppServer, ALL, &[]),
            [
                "PATH",
                "HOME",
                "LC_ALL",
                "HTTPS_PROXY",
                "https_proxy",
                "OPENAI_API_KEY",
                "CODEX_API_KEY"
            ]
        );
    }

    #[test]
    fn a_providers_env_key_and_the_pass_list_are_passed() {
        let overrides = ["model_providers.x={name=\"x\", env_key=\"MY_PROVIDER_KEY\"}"];
        assert!(passed(Child::AppServer, ALL, &overrides).contains(&"MY_PROVIDER_KEY".into()));
        let toml = "[model_providers.x]\nenv_key = 'MY_PROVIDER_KEY'\n";
        assert!(passed(Child::AppServer, ALL, &[toml]).contains(&"MY_PROVIDER_KEY".into()));
        assert!(!passed(Child::Version, ALL, &[]).contains(&"MY_PROVIDER_KEY".into()));

        let mut with_list = ALL.to_vec();
        with_list.push((PASS_ENV, "MY_PROVIDER_KEY, NPM_TOKEN"));
        let got = passed(Child::Version, &with_list, &[]);
        assert!(got.contains(&"MY_PROVIDER_KEY".into()) && got.contains(&"NPM_TOKEN".into()));
        assert!(!got.contains(&PASS_ENV.into()));
    }
}
