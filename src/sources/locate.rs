//! Where the Python index and the npm registry are, found the way the user's own tools find
//! them: flags and our variables, then pip's / uv's / npm's variables and config files, then the
//! package managers' own answer (`pip`'s built-in default, `npm config get registry`). No
//! registry host is written in this crate: corporate proxies and mirrors configured for pip and
//! npm are used as they are.
//!
//! Credentials come from the index URL's userinfo or netrc (Python) and `//host/:_authToken`
//! lines of `.npmrc` (npm); each is scoped to its own URL (see
//! [`crate::net::ScopedCredential`]) and never printed: locations are shown without userinfo.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use super::config_files::{
    basic, ini_value, netrc_for, npmrc_interpolated_keys, npmrc_pairs, NetrcDefault,
};
use crate::net::client::env_nonempty;
use crate::net::{Credential, ScopedCredential, Token};

/// A registry's base URL, where that answer came from, and the credentials configured for it.
#[derive(Debug, Clone)]
pub struct Located {
    /// Without userinfo.
    pub url: Url,
    /// `--index-url`, `PIP_INDEX_URL`, `/etc/pip.conf`, "pip's default (python3)", …
    pub from: String,
    pub credentials: Vec<ScopedCredential>,
}

/// The answer for one registry: where it is, or why it could not be found.
#[derive(Debug, Clone)]
pub enum Location {
    Found(Located),
    Missing(Unlocated),
}

/// Why a registry could not be located: what a plan says when it skips the registry's source.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Unlocated {
    #[error("not among the sources")]
    NotASource,
    #[error("no Python index configured, and no python3 on PATH to ask pip")]
    NoPython,
    #[error("no Python index configured, and `{}` has no pip to ask for its default (nor has any python3 on PATH)", .python.display())]
    NoPip { python: PathBuf },
    #[error("no npm registry configured, and no npm on PATH to ask")]
    NoNpm,
    #[error("no npm registry configured, and `npm config get registry` gave none")]
    NpmGaveNone,
    /// `shown` is the setting's value without its credentials.
    #[error("{from} is not a URL: `{shown}`")]
    NotAUrl { from: String, shown: String },
}

impl crate::error::Hint for Unlocated {
    fn hint(&self) -> Option<String> {
        match self {
            Unlocated::NotASource => None,
            Unlocated::NoPython | Unlocated::NoPip { .. } => Some(
                "name the index with `--index-url` or `PIP_INDEX_URL`, or give the interpreter pip"
                    .into(),
            ),
            Unlocated::NoNpm | Unlocated::NpmGaveNone => Some(
                "name the registry with `--npm-registry` or `NPM_CONFIG_REGISTRY`, or install npm"
                    .into(),
            ),
            Unlocated::NotAUrl { from, .. } => Some(format!("give {from} an http(s) URL")),
        }
    }
}

impl Unlocated {
    fn not_a_url(from: &str, raw: &str) -> Unlocated {
        Unlocated::NotAUrl {
            from: from.to_string(),
            shown: crate::redact::DisplayUrl::new(raw).to_string(),
        }
    }
}

impl Location {
    pub fn found(&self) -> Option<&Located> {
        match self {
            Location::Found(l) => Some(l),
            Location::Missing(_) => None,
        }
    }
}

/// What the locators read besides the process environment.
#[derive(Debug, Clone)]
pub struct LocateInputs {
    /// `--index-url` / `--npm-registry`.
    pub flag: Option<String>,
    /// Where `.npmrc` lookup starts.
    pub cwd: PathBuf,
    /// The interpreter whose pip is asked for its default index.
    pub python: Option<PathBuf>,
    /// `<cache>/registries.json` remembers the package managers' answers.
    pub cache_file: PathBuf,
}

const INDEX_ENVS: &[&str] = &[
    "CODEX_BOOTSTRAP_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX_URL",
    "PIP_INDEX_URL",
];

/// Locate the Python package index.
pub fn python_index(inputs: &LocateInputs) -> Location {
    let location = locate_python_index(inputs);
    log_location("python index", &location);
    location
}

/// What `-v` says about a registry: where it is and where that came from (no credentials;
/// only how many there are), or why it is missing.
fn log_location(registry: &str, location: &Location) {
    match location {
        Location::Found(l) => tracing::debug!(
            url = %crate::redact::DisplayUrl::from(&l.url),
            from = %l.from,
            credentials = l.credentials.len(),
            "{registry} located"
        ),
        Location::Missing(reason) => tracing::debug!(%reason, "{registry} not located"),
    }
}

fn locate_python_index(inputs: &LocateInputs) -> Location {
    let (raw, from) = match python_index_configured(inputs) {
        Some(found) => found,
        None => match pip_default(inputs) {
            Ok(found) => found,
            Err(reason) => return Location::Missing(reason),
        },
    };
    // uv and pip send netrc's `default` login to whatever index is in use; here only to an
    // index the user chose, not to one a project's uv.toml / pyproject.toml names.
    let default = if super::uv_config::is_project_file(&inputs.cwd, &from) {
        NetrcDefault::Ignore
    } else {
        NetrcDefault::Use
    };
    match split_credentials(&raw) {
        Ok((url, basic)) => {
            let mut credentials = Vec::new();
            if let Some(c) = basic.or_else(|| netrc_for(&url, default)) {
                credentials.push(ScopedCredential {
                    scope: origin_of(&url),
                    credential: c,
                });
            }
            Location::Found(Located {
                url,
                from,
                credentials,
            })
        }
        Err(()) => Location::Missing(Unlocated::not_a_url(&from, &raw)),
    }
}

fn python_index_configured(inputs: &LocateInputs) -> Option<(String, String)> {
    if let Some(f) = inputs.flag.as_deref().filter(|f| !f.trim().is_empty()) {
        return Some((
            f.trim().to_string(),
            flag_origin(f, "--index-url", INDEX_ENVS[0]),
        ));
    }
    for name in INDEX_ENVS {
        if let Some(v) = env_nonempty(name) {
            return Some((v, (*name).to_string()));
        }
    }
    if let Some(found) = super::uv_config::uv_index(&inputs.cwd) {
        return Some(found);
    }
    // pip reads `[global]`, then the command's section, which overrides it: an `[install]`
    // index-url in any file beats a `[global]` one in every file.
    let texts: Vec<(PathBuf, String)> = pip_config_files()
        .into_iter()
        .filter_map(|f| std::fs::read_to_string(&f).ok().map(|t| (f, t)))
        .collect();
    for section in ["install", "global"] {
        for (file, text) in &texts {
            if let Some(v) = ini_value(text, section, &["index-url", "index_url"]) {
                return Some((v, format!("{} [{section}]", file.display())));
            }
        }
    }
    None
}

/// Where the flag's value came from: clap fills `--index-url` from its variable
/// (`CODEX_BOOTSTRAP_INDEX_URL`) too, so a value equal to the variable's is reported as it.
fn flag_origin(value: &str, flag: &str, env: &str) -> String {
    if env_nonempty(env).as_deref() == Some(value.trim()) {
        env.to_string()
    } else {
        flag.to_string()
    }
}

/// pip's configuration files, the one that wins first (pip loads them in the reverse order,
/// later ones overriding earlier ones). `PIP_CONFIG_FILE=/dev/null` turns them all off.
pub fn pip_config_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(f) = std::env::var_os("PIP_CONFIG_FILE").filter(|f| !f.is_empty()) {
        let f = PathBuf::from(f);
        if f == Path::new("/dev/null") || f == Path::new("nul") {
            return files;
        }
        files.push(f);
    }
    if let Some(venv) = std::env::var_os("VIRTUAL_ENV").filter(|v| !v.is_empty()) {
        let name = if cfg!(windows) { "pip.ini" } else { "pip.conf" };
        files.push(PathBuf::from(venv).join(name));
    }
    let home = dirs::home_dir();
    if cfg!(windows) {
        if let Some(appdata) = std::env::var_os("APPDATA") {
            files.push(PathBuf::from(appdata).join("pip").join("pip.ini"));
        }
        if let Some(h) = &home {
            files.push(h.join("pip").join("pip.ini"));
        }
        if let Some(pd) = std::env::var_os("PROGRAMDATA") {
            files.push(PathBuf::from(pd).join("pip").join("pip.ini"));
        }
        return files;
    }
    let xdg_config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| home.as_ref().map(|h| h.join(".config")));
    if let Some(x) = xdg_config {
        files.push(x.join("pip").join("pip.conf"));
    }
    if cfg!(target_os = "macos") {
        if let Some(h) = &home {
            files.push(h.join("Library/Application Support/pip/pip.conf"));
        }
    }
    if let Some(h) = &home {
        files.push(h.join(".pip").join("pip.conf"));
    }
    files.push(PathBuf::from("/etc/pip.conf"));
    let xdg_dirs = std::env::var("XDG_CONFIG_DIRS")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "/etc/xdg".into());
    for d in xdg_dirs.split(':').rev().filter(|d| !d.is_empty()) {
        files.push(Path::new(d).join("pip").join("pip.conf"));
    }
    files
}

/// What the interpreter's pip uses when nothing is configured: pip keeps it as a constant.
fn pip_default(inputs: &LocateInputs) -> Result<(String, String), Unlocated> {
    let python = crate::python::interpreter_to_ask(inputs.python.as_deref())
        .map_err(|_| Unlocated::NoPython)?;
    let key = cache_key("pip", &python);
    if let Some(url) = key.as_deref().and_then(|k| cached(&inputs.cache_file, k)) {
        tracing::debug!(cache = %inputs.cache_file.display(), "pip's default index, remembered");
        return Ok((url, format!("pip's default ({})", python.display())));
    }
    let out = run_quick(Command::new(&python).args([
        "-I",
        "-c",
        "from pip._internal.models.index import PyPI; print(PyPI.simple_url)",
    ]))
    .map(|out| (out, python.clone()))
    .or_else(|| pip_default_elsewhere(inputs, &python));
    let Some((out, asked)) = out else {
        return Err(Unlocated::NoPip { python });
    };
    if let (Some(k), true) = (key, asked == python) {
        remember(&inputs.cache_file, &k, &out);
    }
    Ok((out, format!("pip's default ({})", asked.display())))
}

/// pip's default from another interpreter on PATH, when the chosen one has no pip (an
/// environment made by `uv venv` has none): `python3`, then `python`.
fn pip_default_elsewhere(inputs: &LocateInputs, chosen: &Path) -> Option<(String, PathBuf)> {
    let path = std::env::var_os("PATH");
    // Not by canonical path: a venv's `python` links to its base interpreter, whose own
    // site-packages (where pip is) the venv does not see.
    ["python3", "python"]
        .iter()
        .filter_map(|n| crate::fs::which(n, path.as_deref()))
        .filter(|p| p != chosen)
        .find_map(|other| {
            let key = cache_key("pip", &other);
            if let Some(url) = key.as_deref().and_then(|k| cached(&inputs.cache_file, k)) {
                return Some((url, other));
            }
            let out = run_quick(Command::new(&other).args([
                "-I",
                "-c",
                "from pip._internal.models.index import PyPI; print(PyPI.simple_url)",
            ]))?;
            tracing::debug!(interpreter = %other.display(), "pip's default index, from another interpreter");
            if let Some(k) = key {
                remember(&inputs.cache_file, &k, &out);
            }
            Some((out, other))
        })
}

const NPM_ENVS: &[&str] = &[
    "CODEX_BOOTSTRAP_NPM_REGISTRY",
    "npm_config_@openai:registry",
    "NPM_CONFIG_@OPENAI:REGISTRY",
    "npm_config_registry",
    "NPM_CONFIG_REGISTRY",
];

/// Locate the npm registry (the one `@openai` packages come from).
pub fn npm_registry(inputs: &LocateInputs) -> Location {
    let location = locate_npm_registry(inputs);
    log_location("npm registry", &location);
    location
}

fn locate_npm_registry(inputs: &LocateInputs) -> Location {
    let files = npmrc_files(&inputs.cwd);
    let project = project_npmrc(&inputs.cwd);
    // Per file: its pairs, and the keys whose value came from `${VAR}` in a project's file.
    let parsed: Vec<(PathBuf, Vec<(String, String)>)> = files
        .iter()
        .filter_map(|f| {
            std::fs::read_to_string(f)
                .ok()
                .map(|t| (f.clone(), npmrc_pairs(&t)))
        })
        .collect();
    let interpolated: Vec<String> = project
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| npmrc_interpolated_keys(&t))
        .unwrap_or_default();
    let configured = || -> Option<(String, String)> {
        if let Some(f) = inputs.flag.as_deref().filter(|f| !f.trim().is_empty()) {
            return Some((
                f.trim().to_string(),
                flag_origin(f, "--npm-registry", NPM_ENVS[0]),
            ));
        }
        for name in NPM_ENVS {
            if let Some(v) = env_nonempty(name) {
                return Some((v, (*name).to_string()));
            }
        }
        // A scope's registry beats the default registry in every file.
        for key in ["@openai:registry", "registry"] {
            for (file, pairs) in &parsed {
                if let Some((_, v)) = pairs.iter().find(|(k, _)| k == key) {
                    return Some((v.clone(), file.display().to_string()));
                }
            }
        }
        None
    };
    let (raw, from) = match configured() {
        Some(found) => found,
        None => match npm_default(inputs) {
            Ok(found) => found,
            Err(reason) => return Location::Missing(reason),
        },
    };
    let (url, basic) = match split_credentials(&raw) {
        Ok(found) => found,
        Err(()) => {
            return Location::Missing(Unlocated::not_a_url(&from, &raw));
        }
    };
    let mut credentials = Vec::new();
    if let Some(c) = basic {
        credentials.push(ScopedCredential {
            scope: url.clone(),
            credential: c,
        });
    }
    // npm sends a project `.npmrc`'s `//host/:_authToken=${NPM_TOKEN}` to the host that file
    // names: a checked-out repository could collect the user's token by naming its own
    // registry. A secret from the environment goes, from a project's file, only to a registry
    // the user's own configuration agrees on (it names the registry, or has a line for that
    // host); a token written in the project's file itself is the project's, and goes.
    let registry_from_project = project
        .as_ref()
        .is_some_and(|p| p.display().to_string() == from);
    for (file, pairs) in &parsed {
        let from_project = project.as_ref() == Some(file);
        let kept: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| {
                let keep = !from_project
                    || !interpolated.contains(k)
                    || !registry_from_project
                    || user_names_prefix(&parsed, project.as_deref(), k);
                if !keep {
                    tracing::debug!(
                        "{}: `{k}` takes a secret from the environment for a registry only this project file names: not sent",
                        file.display()
                    );
                }
                keep
            })
            .cloned()
            .collect();
        credentials.extend(npmrc_credentials(&kept, url.scheme()));
    }
    // The most specific scope first, so it wins.
    credentials.sort_by_key(|c| std::cmp::Reverse(c.scope.path().len()));
    Location::Found(Located {
        url,
        from,
        credentials,
    })
}

/// The credentials of one `.npmrc`, keyed by npm's "nerf darts" (`//host[:port]/path/:key`),
/// each scoped to that URL prefix. Per prefix, as npm reads them: `_authToken` (a bearer
/// token), else `username` with `_password` (base64 of the password), else `_auth` (base64 of
/// `user:password`), the form Nexus and Artifactory set-ups write.
fn npmrc_credentials(pairs: &[(String, String)], scheme: &str) -> Vec<ScopedCredential> {
    use base64::Engine as _;
    let decode = |v: &str| {
        base64::engine::general_purpose::STANDARD
            .decode(v.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
    };
    let value = |prefix: &str, key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k.strip_suffix(key) == Some(prefix))
            .map(|(_, v)| v.as_str())
    };
    let mut prefixes: Vec<&str> = Vec::new();
    for (k, _) in pairs {
        let Some((prefix, _)) = k.rsplit_once(':') else {
            continue;
        };
        if prefix.starts_with("//") && !prefixes.contains(&prefix) {
            prefixes.push(prefix);
        }
    }
    let mut out = Vec::new();
    for prefix in prefixes {
        let credential = if let Some(token) = value(prefix, ":_authToken") {
            Some(Credential::Bearer(Token::new(token)))
        } else if let (Some(user), Some(password)) = (
            value(prefix, ":username"),
            value(prefix, ":_password").and_then(decode),
        ) {
            Some(basic((user.to_string(), password)))
        } else {
            value(prefix, ":_auth")
                .and_then(decode)
                .and_then(|pair| {
                    pair.split_once(':')
                        .map(|(u, p)| (u.to_string(), p.to_string()))
                })
                .map(basic)
        };
        let scope = Url::parse(&format!("{scheme}:{prefix}"));
        match (credential, scope) {
            (Some(credential), Ok(scope)) => out.push(ScopedCredential { scope, credential }),
            (None, _)
                if value(prefix, ":_password").is_some() || value(prefix, ":_auth").is_some() =>
            {
                tracing::debug!(
                    "{prefix}: `_auth` / `_password` is not base64 (of `user:password`): ignored"
                );
            }
            _ => {}
        }
    }
    out
}

/// Whether a file other than the `project` one has a line for the nerf dart of `key`
/// (`//host/path/:_authToken` -> `//host/path/:`): the user's own configuration knows that
/// registry.
fn user_names_prefix(
    parsed: &[(PathBuf, Vec<(String, String)>)],
    project: Option<&Path>,
    key: &str,
) -> bool {
    let Some((prefix, _)) = key.rsplit_once(':') else {
        return false;
    };
    parsed
        .iter()
        .filter(|(f, _)| Some(f.as_path()) != project)
        .flat_map(|(_, pairs)| pairs)
        .any(|(k, _)| k.rsplit_once(':').is_some_and(|(p, _)| p == prefix))
}

/// The project's `.npmrc` (nearest walking up from `cwd`), unless it is the user's own.
fn project_npmrc(cwd: &Path) -> Option<PathBuf> {
    let found = cwd
        .ancestors()
        .map(|d| d.join(".npmrc"))
        .find(|f| f.is_file())?;
    (user_npmrc().as_ref() != Some(&found)).then_some(found)
}

/// The user's `.npmrc`: `npm_config_userconfig`, else `~/.npmrc`.
fn user_npmrc() -> Option<PathBuf> {
    ["npm_config_userconfig", "NPM_CONFIG_USERCONFIG"]
        .iter()
        .find_map(|n| env_nonempty(n))
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".npmrc")))
}

/// `.npmrc` files, the one that wins first: the project's (nearest walking up), the user's,
/// the global one.
pub fn npmrc_files(cwd: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    if let Some(project) = cwd
        .ancestors()
        .map(|d| d.join(".npmrc"))
        .find(|f| f.is_file())
    {
        files.push(project);
    }
    if let Some(u) = user_npmrc() {
        if !files.contains(&u) {
            files.push(u);
        }
    }
    if let Some(g) = ["npm_config_globalconfig", "NPM_CONFIG_GLOBALCONFIG"]
        .iter()
        .find_map(|n| env_nonempty(n))
    {
        files.push(PathBuf::from(g));
    }
    files
}

/// `npm config get registry`: what npm itself would use.
fn npm_default(inputs: &LocateInputs) -> Result<(String, String), Unlocated> {
    let name = if cfg!(windows) { "npm.cmd" } else { "npm" };
    let npm =
        crate::fs::which(name, std::env::var_os("PATH").as_deref()).ok_or(Unlocated::NoNpm)?;
    let key = cache_key("npm", &npm);
    if let Some(url) = key.as_deref().and_then(|k| cached(&inputs.cache_file, k)) {
        tracing::debug!(cache = %inputs.cache_file.display(), "npm's registry, remembered");
        return Ok((
            url,
            "npm's configuration (`npm config get registry`)".into(),
        ));
    }
    let out = run_quick(
        Command::new(&npm)
            .args(["config", "get", "registry"])
            .current_dir(&inputs.cwd),
    )
    .filter(|o| o.contains("://"))
    .ok_or(Unlocated::NpmGaveNone)?;
    if let Some(k) = key {
        remember(&inputs.cache_file, &k, &out);
    }
    Ok((
        out,
        "npm's configuration (`npm config get registry`)".into(),
    ))
}

/// Parse a URL, splitting off userinfo as Basic credentials.
fn split_credentials(raw: &str) -> Result<(Url, Option<Credential>), ()> {
    let mut url = Url::parse(raw.trim()).map_err(|_| ())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(());
    }
    let user = percent_decode(url.username());
    let password = url.password().map(percent_decode);
    let cred = (!user.is_empty() || password.is_some()).then(|| Credential::Basic {
        user,
        password: Token::new(password.unwrap_or_default()),
    });
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok((url, cred))
}

fn origin_of(url: &Url) -> Url {
    let mut u = url.clone();
    u.set_path("/");
    u.set_query(None);
    u.set_fragment(None);
    u
}

/// A userinfo part with its %-escapes decoded (an invalid escape stays as it is).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// Run a short command with a bound, returning its trimmed stdout when it succeeded.
fn run_quick(cmd: &mut Command) -> Option<String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let args: Vec<_> = cmd
        .get_args()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    tracing::debug!(%program, ?args, "starting a child process");
    let mut child = match cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::debug!(%program, "could not start it: {e}");
            return None;
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => break,
            Ok(Some(status)) => {
                tracing::debug!(%program, %status, "it failed");
                return None;
            }
            Err(_) => return None,
            Ok(None) if std::time::Instant::now() > deadline => {
                tracing::debug!(%program, "it took over 20s: killed");
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    let mut out = String::new();
    use std::io::Read;
    child.stdout.take()?.read_to_string(&mut out).ok()?;
    let out = out.trim().to_string();
    (!out.is_empty()).then_some(out)
}

#[derive(Default, Serialize, Deserialize)]
struct Remembered {
    answers: std::collections::BTreeMap<String, String>,
}

/// A key that changes when the program does: its path and modification time.
fn cache_key(kind: &str, program: &Path) -> Option<String> {
    let modified = std::fs::metadata(program).ok()?.modified().ok()?;
    let secs = modified
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(format!("{kind}:{}:{secs}", program.display()))
}

fn cached(file: &Path, key: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let r: Remembered = serde_json::from_str(&text).ok()?;
    r.answers.get(key).cloned()
}

fn remember(file: &Path, key: &str, value: &str) {
    let mut r: Remembered = std::fs::read_to_string(file)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    r.answers.insert(key.to_string(), value.to_string());
    if let (Some(dir), Ok(json)) = (file.parent(), serde_json::to_vec_pretty(&r)) {
        // Best effort, atomically: a failed write only costs one more question to pip/npm.
        let _ = crate::fs::create_dirs(dir).and_then(|()| crate::fs::write_atomic(file, &json));
    }
}

#[cfg(test)]
mod tests {
    use super::super::config_files::netrc_lookup;
    use super::*;

    fn creds(c: &Credential) -> (String, String) {
        match c {
            Credential::Basic { user, password } => (user.clone(), format!("{password:?}")),
            Credential::Bearer(t) => ("bearer".into(), format!("{t:?}")),
            Credential::Query(t) => ("query".into(), format!("{t:?}")),
        }
    }

    #[test]
    fn netrc_finds_the_host_and_falls_back_to_default() {
        let text = "machine other.example login a password b\n\
                    # comment\n\
                    machine idx.example\n  login u\n  password p\n\
                    default login d password dp\n";
        let lookup = |text, host| netrc_lookup(text, host, NetrcDefault::Use);
        match lookup(text, "idx.example") {
            Some(Credential::Basic { user, .. }) => assert_eq!(user, "u"),
            other => panic!("{other:?}"),
        }
        match lookup(text, "nowhere.example") {
            Some(Credential::Basic { user, .. }) => assert_eq!(user, "d"),
            other => panic!("{other:?}"),
        }
        // For an index a project's file chose, `default` stays home; `machine` lines still count.
        assert!(netrc_lookup(text, "nowhere.example", NetrcDefault::Ignore).is_none());
        assert!(netrc_lookup(text, "idx.example", NetrcDefault::Ignore).is_some());
        assert!(lookup("machine a login x password y", "b").is_none());
        let (_, shown) = creds(&lookup(text, "idx.example").unwrap());
        assert!(
            !shown.contains('p') || shown.contains("redacted"),
            "{shown}"
        );
    }

    #[test]
    fn userinfo_becomes_credentials_and_leaves_the_url() {
        let (url, c) = split_credentials("https://us%40er:p%3Ass@idx.example/simple").unwrap();
        assert_eq!(url.as_str(), "https://idx.example/simple");
        match c {
            Some(Credential::Basic { user, .. }) => assert_eq!(user, "us@er"),
            other => panic!("{other:?}"),
        }
        assert!(split_credentials("ftp://x/").is_err());
        assert!(split_credentials("not a url").is_err());
    }

    #[test]
    fn npmrc_pairs_expand_variables_and_skip_comments() {
        std::env::set_var("CB_TEST_NPM_TOKEN", "t0k");
        let pairs = npmrc_pairs(
            "; comment\n# another\nregistry=https://r.example/\n@openai:registry = \"https://s.example/npm/\"\n//s.example/npm/:_authToken=${CB_TEST_NPM_TOKEN}\n",
        );
        assert_eq!(
            pairs,
            vec![
                ("registry".into(), "https://r.example/".into()),
                ("@openai:registry".into(), "https://s.example/npm/".into()),
                ("//s.example/npm/:_authToken".into(), "t0k".into()),
            ]
        );
    }

    #[test]
    fn pip_ini_global_index_url() {
        let text = "[install]\nindex-url = https://wrong.example\n[global]\n# c\nindex-url = https://right.example/simple\n";
        assert_eq!(
            ini_value(text, "global", &["index-url"]).as_deref(),
            Some("https://right.example/simple")
        );
        assert_eq!(
            ini_value("[global]\ntimeout = 3\n", "global", &["index-url"]),
            None
        );
    }

    #[test]
    fn scoped_credentials_apply_under_their_url_only() {
        let c = ScopedCredential {
            scope: Url::parse("https://r.example/npm/").unwrap(),
            credential: Credential::Bearer(Token::new("x")),
        };
        assert!(c.applies_to(&Url::parse("https://r.example/npm/@openai%2fcodex").unwrap()));
        assert!(!c.applies_to(&Url::parse("https://r.example/other/x").unwrap()));
        assert!(!c.applies_to(&Url::parse("http://r.example/npm/x").unwrap()));
        assert!(!c.applies_to(&Url::parse("https://r.example:8443/npm/x").unwrap()));
        assert!(!c.applies_to(&Url::parse("https://cdn.example/npm/x").unwrap()));
    }
}
