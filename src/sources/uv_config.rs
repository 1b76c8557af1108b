//! The Python index as a uv user has configured it: `uv.toml`, or `[tool.uv]` in
//! `pyproject.toml`, found as uv finds them.
//!
//! Precedence, as uv's documentation gives it: the command line, then the environment
//! (`UV_DEFAULT_INDEX`, `UV_INDEX_URL`: [`super::locate`] reads those first), then the project's
//! configuration (in the current directory or the nearest parent that has one: `uv.toml` wins
//! over `pyproject.toml`'s `[tool.uv]` in the same directory), then the user's
//! (`$XDG_CONFIG_HOME/uv/uv.toml`, `~/.config/uv/uv.toml`, `%APPDATA%\uv\uv.toml`), then the
//! system's (`$XDG_CONFIG_DIRS/uv/uv.toml`, `/etc/uv/uv.toml`). `UV_CONFIG_FILE` replaces them
//! all; `UV_NO_CONFIG` turns them off.
//!
//! Within one configuration, the index uv would ask for `openai-codex-cli-bin`: the `[[index]]`
//! that `[tool.uv.sources]` names for it, else the first `[[index]]` that is neither `explicit`
//! nor `default` (uv asks those before the default), else the `[[index]]` with
//! `default = true`, else `default-index`, else `index-url`.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::sources::pyindex::PROJECT;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct UvSettings {
    #[serde(default)]
    index: Vec<UvIndex>,
    default_index: Option<String>,
    index_url: Option<String>,
    #[serde(default)]
    sources: toml::Table,
}

#[derive(Debug, Deserialize)]
struct UvIndex {
    name: Option<String>,
    url: String,
    #[serde(default)]
    default: bool,
    #[serde(default)]
    explicit: bool,
}

#[derive(Debug, Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
}

#[derive(Debug, Deserialize)]
struct Tool {
    uv: Option<UvSettings>,
}

impl UvSettings {
    /// The index this configuration sends `openai-codex-cli-bin` to, if it names one.
    fn index_for_runtime(&self) -> Option<String> {
        let pinned = self
            .sources
            .iter()
            .find(|(k, _)| k.to_ascii_lowercase().replace(['_', '.'], "-") == PROJECT)
            .and_then(|(_, v)| v.get("index"))
            .and_then(|v| v.as_str());
        if let Some(name) = pinned {
            if let Some(i) = self.index.iter().find(|i| i.name.as_deref() == Some(name)) {
                return Some(i.url.clone());
            }
        }
        self.index
            .iter()
            .find(|i| !i.explicit && !i.default)
            .or_else(|| self.index.iter().find(|i| i.default))
            .map(|i| i.url.clone())
            .or_else(|| self.default_index.clone())
            .or_else(|| self.index_url.clone())
    }
}

/// A configuration file uv would read, and the settings in it (None: it is not one, e.g. a
/// `pyproject.toml` without `[tool.uv]`).
fn read(path: &Path) -> Option<UvSettings> {
    let text = std::fs::read_to_string(path).ok()?;
    if path.file_name().is_some_and(|n| n == "pyproject.toml") {
        let p: Pyproject = toml::from_str(&text).ok()?;
        p.tool?.uv
    } else {
        match toml::from_str(&text) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::debug!(file = %path.display(), "not a uv configuration: {e}");
                None
            }
        }
    }
}

/// The index the configuration file at `path` names for the runtime (for `fuzzing`).
pub(crate) fn index_in_file(path: &Path) -> Option<String> {
    read(path)?.index_for_runtime()
}

/// The project's configuration file: in `cwd` or the nearest parent with one.
fn project_file(cwd: &Path) -> Option<(PathBuf, UvSettings)> {
    cwd.ancestors().find_map(|dir| {
        ["uv.toml", "pyproject.toml"]
            .iter()
            .map(|n| dir.join(n))
            .find_map(|p| read(&p).map(|s| (p, s)))
    })
}

fn user_and_system_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    if cfg!(windows) {
        if let Some(appdata) = std::env::var_os("APPDATA") {
            files.push(PathBuf::from(appdata).join("uv").join("uv.toml"));
        }
        if let Some(pd) = std::env::var_os("SYSTEMDRIVE") {
            files.push(
                PathBuf::from(pd)
                    .join("ProgramData")
                    .join("uv")
                    .join("uv.toml"),
            );
        }
        return files;
    }
    let xdg_config = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| dirs::home_dir().map(|h| h.join(".config")));
    if let Some(x) = xdg_config {
        files.push(x.join("uv").join("uv.toml"));
    }
    if let Ok(dirs) = std::env::var("XDG_CONFIG_DIRS") {
        for d in dirs.split(':').filter(|d| !d.is_empty()) {
            files.push(Path::new(d).join("uv").join("uv.toml"));
        }
    }
    files.push(PathBuf::from("/etc/uv/uv.toml"));
    files
}

/// Whether `from` (the second half of [`uv_index`]'s answer) is the project's own file, found
/// walking up from `cwd`, rather than the user's or the system's configuration.
pub fn is_project_file(cwd: &Path, from: &str) -> bool {
    // A file named in UV_CONFIG_FILE is the user's choice, wherever it lies.
    if std::env::var_os("UV_CONFIG_FILE").is_some_and(|f| !f.is_empty()) {
        return false;
    }
    let user = user_and_system_files();
    project_file(cwd).is_some_and(|(p, _)| {
        p.display().to_string() == from && !user.iter().any(|u| u.display().to_string() == from)
    })
}

/// The index uv's configuration gives for the runtime, and the file that says so.
pub fn uv_index(cwd: &Path) -> Option<(String, String)> {
    if std::env::var_os("UV_NO_CONFIG").is_some_and(|v| !v.is_empty() && v != "0" && v != "false") {
        return None;
    }
    if let Some(f) = std::env::var_os("UV_CONFIG_FILE").filter(|f| !f.is_empty()) {
        let f = PathBuf::from(f);
        return read(&f)?
            .index_for_runtime()
            .map(|u| (u, f.display().to_string()));
    }
    let mut candidates: Vec<(PathBuf, UvSettings)> = project_file(cwd).into_iter().collect();
    candidates.extend(
        user_and_system_files()
            .into_iter()
            .filter_map(|p| read(&p).map(|s| (p, s))),
    );
    candidates.into_iter().find_map(|(path, s)| {
        s.index_for_runtime()
            .map(|u| (u, path.display().to_string()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(text: &str) -> UvSettings {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_index_uv_would_ask_for_the_runtime() {
        assert_eq!(
            settings("index-url = \"http://a/simple\"").index_for_runtime(),
            Some("http://a/simple".into())
        );
        let s = settings(
            "index-url = \"http://a/simple\"\n[[index]]\nurl = \"http://b/simple\"\ndefault = true\n",
        );
        assert_eq!(s.index_for_runtime(), Some("http://b/simple".into()));
        let s = settings(
            "[[index]]\nname = \"x\"\nurl = \"http://x/simple\"\nexplicit = true\n[[index]]\nurl = \"http://d/simple\"\ndefault = true\n",
        );
        assert_eq!(s.index_for_runtime(), Some("http://d/simple".into()));
        let s = settings(
            "[[index]]\nname = \"x\"\nurl = \"http://x/simple\"\nexplicit = true\n[[index]]\nurl = \"http://d/simple\"\ndefault = true\n[sources]\nopenai-codex-cli-bin = { index = \"x\" }\n",
        );
        assert_eq!(s.index_for_runtime(), Some("http://x/simple".into()));
    }

    #[test]
    fn uv_toml_wins_over_pyproject_and_the_nearest_directory_wins() {
        let d = tempfile::tempdir().unwrap();
        let sub = d.path().join("a/b");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(
            d.path().join("pyproject.toml"),
            "[project]\nname = \"p\"\n[tool.uv]\nindex-url = \"http://outer/simple\"\n",
        )
        .unwrap();
        let (url, from) = project_file(&sub)
            .and_then(|(p, s)| s.index_for_runtime().map(|u| (u, p)))
            .unwrap();
        assert_eq!(url, "http://outer/simple");
        assert!(from.ends_with("pyproject.toml"));
        std::fs::write(
            d.path().join("a/uv.toml"),
            "[[index]]\nurl = \"http://inner/simple\"\ndefault = true\n",
        )
        .unwrap();
        std::fs::write(
            d.path().join("a/pyproject.toml"),
            "[tool.uv]\nindex-url = \"http://ignored/simple\"\n",
        )
        .unwrap();
        let (p, s) = project_file(&sub).unwrap();
        assert!(p.ends_with("a/uv.toml"));
        assert_eq!(s.index_for_runtime(), Some("http://inner/simple".into()));
        // A pyproject.toml without [tool.uv] is not a uv configuration.
        let e = tempfile::tempdir().unwrap();
        std::fs::write(e.path().join("pyproject.toml"), "[project]\nname = \"p\"\n").unwrap();
        assert!(project_file(e.path()).is_none());
    }
}
