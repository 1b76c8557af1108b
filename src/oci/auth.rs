//! Registry credentials where container tools keep them, looked up as they look them up:
//! `REGISTRY_AUTH_FILE` (podman, skopeo, buildah), docker's `config.json` (`DOCKER_CONFIG`, else
//! `~/.docker`), then podman's `${XDG_RUNTIME_DIR}/containers/auth.json`. In each file, a
//! `credHelpers` entry for the registry, then `auths` (base64 `user:password` in `auth`, or
//! `username`/`password`), then the file's `credsStore`; a helper is run as docker runs it,
//! `docker-credential-<helper> get` with the registry on stdin.
//!
//! The credentials found are sent to that registry alone (and to the token server its
//! challenge names), never to a blob store a download is redirected to.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::OciError;
use crate::net::Token;

/// A user and secret for one registry, and where they were read from.
#[derive(Debug, Clone)]
pub struct Login {
    pub user: String,
    pub secret: Token,
    /// `` `/home/u/.docker/config.json` (auths) ``, as a person reads it.
    pub from: String,
}

/// The auth files to look in, in order, with what put each on the list.
#[derive(Debug, Clone, Default)]
pub struct AuthFiles {
    pub files: Vec<PathBuf>,
}

impl AuthFiles {
    /// The files container tools read, from the environment.
    pub fn from_env() -> AuthFiles {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let mut files = Vec::new();
        if let Some(f) = var("REGISTRY_AUTH_FILE") {
            files.push(PathBuf::from(f));
        }
        match var("DOCKER_CONFIG") {
            Some(d) => files.push(PathBuf::from(d).join("config.json")),
            None => {
                if let Some(home) = dirs::home_dir() {
                    files.push(home.join(".docker").join("config.json"));
                }
            }
        }
        if let Some(run) = var("XDG_RUNTIME_DIR") {
            files.push(PathBuf::from(run).join("containers").join("auth.json"));
        }
        AuthFiles { files }
    }

    /// The files, as a hint lists them.
    pub fn describe(&self) -> String {
        if self.files.is_empty() {
            return "no auth file (set DOCKER_CONFIG or REGISTRY_AUTH_FILE)".into();
        }
        self.files
            .iter()
            .map(|f| format!("`{}`", f.display()))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The credentials for `registry` (`host[:port]`), from the first file that has any.
    pub fn lookup(&self, registry: &str) -> Result<Option<Login>, OciError> {
        for path in &self.files {
            let text = match std::fs::read_to_string(path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(OciError::AuthFile {
                        path: path.clone(),
                        source,
                    })
                }
            };
            let file: AuthFile =
                serde_json::from_str(&text).map_err(|e| OciError::AuthFileJson {
                    path: path.clone(),
                    why: e.to_string(),
                })?;
            if let Some(login) = file.lookup(registry, path)? {
                return Ok(Some(login));
            }
        }
        Ok(None)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthFile {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

impl AuthFile {
    fn lookup(&self, registry: &str, path: &Path) -> Result<Option<Login>, OciError> {
        let shown = path.display();
        if let Some((_, helper)) = self
            .cred_helpers
            .iter()
            .find(|(k, _)| key_host(k) == registry)
        {
            return helper_get(
                helper,
                registry,
                &format!("`{shown}` (credHelpers: {helper})"),
            );
        }
        if let Some((_, e)) = self.auths.iter().find(|(k, _)| key_host(k) == registry) {
            let from = format!("`{shown}` (auths)");
            if let Some(b64) = e.auth.as_deref().filter(|a| !a.is_empty()) {
                use base64::Engine;
                let bad = |why: &str| OciError::AuthFileJson {
                    path: path.to_path_buf(),
                    why: format!("the `auth` of `{registry}` {why}"),
                };
                let raw = base64::engine::general_purpose::STANDARD
                    .decode(b64.trim())
                    .map_err(|_| bad("is not base64"))?;
                let text = String::from_utf8(raw).map_err(|_| bad("is not UTF-8"))?;
                let (user, pass) = text
                    .split_once(':')
                    .ok_or_else(|| bad("is not `user:password`"))?;
                return Ok(Some(Login {
                    user: user.into(),
                    secret: Token::new(pass),
                    from,
                }));
            }
            if let (Some(u), Some(p)) = (&e.username, &e.password) {
                return Ok(Some(Login {
                    user: u.clone(),
                    secret: Token::new(p.clone()),
                    from,
                }));
            }
        }
        if let Some(store) = &self.creds_store {
            return helper_get(store, registry, &format!("`{shown}` (credsStore: {store})"));
        }
        Ok(None)
    }
}

/// The `host[:port]` an `auths` key names: `reg.example`, `https://reg.example`,
/// `https://reg.example/v1/` all name `reg.example`.
fn key_host(key: &str) -> String {
    let k = key.trim();
    let k = k
        .strip_prefix("https://")
        .or_else(|| k.strip_prefix("http://"))
        .unwrap_or(k);
    k.split('/').next().unwrap_or_default().to_ascii_lowercase()
}

/// `docker-credential-<helper> get`, the registry on stdin, `{"Username","Secret"}` out. A
/// helper that has nothing for the registry says so on stdout and exits non-zero: no login.
fn helper_get(helper: &str, registry: &str, from: &str) -> Result<Option<Login>, OciError> {
    use std::io::Write;
    let fail = |why: String| OciError::Helper {
        helper: helper.to_string(),
        why,
    };
    // The helper's name becomes a program name: one plain word, never a path.
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        || helper.starts_with('.')
    {
        return Err(fail("its name is not a plain word".into()));
    }
    let mut child = std::process::Command::new(format!("docker-credential-{helper}"))
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("it could not be run ({e})")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(registry.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| fail(format!("it could not be run ({e})")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        if stdout
            .to_ascii_lowercase()
            .contains("credentials not found")
        {
            return Ok(None);
        }
        let err = String::from_utf8_lossy(&out.stderr);
        let first = err
            .lines()
            .chain(stdout.lines())
            .next()
            .unwrap_or("")
            .trim();
        return Err(fail(format!("it exited with {}: {first}", out.status)));
    }
    #[derive(Deserialize)]
    struct Answer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let a: Answer = serde_json::from_str(&stdout)
        .map_err(|_| fail("its answer is not `{\"Username\",\"Secret\"}` JSON".into()))?;
    Ok(Some(Login {
        user: a.username,
        secret: Token::new(a.secret),
        from: from.to_string(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn auths_are_found_by_registry_host_in_the_first_file_that_has_them() {
        let dir = tempfile::tempdir().unwrap();
        // user:p@ss, and a key spelled as a URL.
        let podman = write(
            dir.path(),
            "auth.json",
            r#"{"auths":{"https://reg.example:5000/v1/":{"auth":"dXNlcjpwQHNz"}}}"#,
        );
        let docker = write(
            dir.path(),
            "config.json",
            r#"{"auths":{"reg.example:5000":{"auth":"b3RoZXI6eA=="},"other.example":{"username":"u2","password":"p2"}}}"#,
        );
        let files = AuthFiles {
            files: vec![dir.path().join("missing.json"), podman.clone(), docker],
        };
        let l = files.lookup("reg.example:5000").unwrap().unwrap();
        assert_eq!((l.user.as_str(), l.secret.secret()), ("user", "p@ss"));
        assert!(
            l.from.contains("auth.json") && l.from.contains("auths"),
            "{}",
            l.from
        );
        let o = files.lookup("other.example").unwrap().unwrap();
        assert_eq!((o.user.as_str(), o.secret.secret()), ("u2", "p2"));
        assert!(files.lookup("reg.example").unwrap().is_none());
    }

    #[test]
    fn a_broken_auth_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = write(dir.path(), "config.json", "{not json");
        let err = AuthFiles { files: vec![f] }.lookup("reg").unwrap_err();
        assert!(err.to_string().contains("config.json"), "{err}");
        let f = write(dir.path(), "c2.json", r#"{"auths":{"reg":{"auth":"!!"}}}"#);
        let err = AuthFiles { files: vec![f] }.lookup("reg").unwrap_err();
        assert!(err.to_string().contains("not base64"), "{err}");
    }

    #[test]
    fn a_helper_name_is_never_a_path() {
        for name in ["../x", "a/b", "", ".hidden", "a b"] {
            let err = helper_get(name, "reg", "test").unwrap_err();
            assert!(err.to_string().contains("plain word"), "{name}: {err}");
        }
    }
}
