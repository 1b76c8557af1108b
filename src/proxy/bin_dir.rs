//! Where the `codex` entry point lives, and how `install` puts it there.
//!
//! The directory is `CODEX_BOOTSTRAP_BIN_DIR`, else `$XDG_BIN_HOME`, else `~/.local/bin`: where
//! uv puts tools and Codex's own installer puts `codex`, on every platform (Windows included,
//! under the user's profile). The entry point is codex-bootstrap itself, a hard link to the
//! running executable or, where a link cannot be made (another file system, a binary owned by
//! someone else), a copy: never a script, so it starts as fast as the binary does.
//!
//! It never replaces a `codex` it did not place. Ours is recognised without any state of our
//! own: the same file as the running executable (a hard link), the same bytes (a copy), or,
//! for the entry point an older codex-bootstrap placed, the [`MARKER`] every codex-bootstrap
//! binary carries. Replacing ours is atomic: the new one is made beside it and renamed over it.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::Hint;
use crate::fs::IoError;

/// The bin directory, instead of `$XDG_BIN_HOME` or `~/.local/bin`.
pub const BIN_DIR_ENV: &str = "CODEX_BOOTSTRAP_BIN_DIR";
/// Set (to anything but `0`, `false`, `no`, `off`) as `install --no-bin`: place no entry point.
pub const NO_BIN_ENV: &str = "CODEX_BOOTSTRAP_NO_BIN";
/// The XDG variable uv and Codex's installer honour.
const XDG_BIN_HOME: &str = "XDG_BIN_HOME";

/// Bytes every codex-bootstrap binary holds (this constant is read by the code below, so the
/// linker keeps it): how an entry point placed by an older codex-bootstrap is told from a
/// `codex` someone else put there.
pub(crate) const MARKER: &[u8] = b"codex-bootstrap entry point: runs the Codex runtime pinned here";

/// Where the bin directory came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Env,
    XdgBinHome,
    Home,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Env => f.write_str(BIN_DIR_ENV),
            Origin::XdgBinHome => f.write_str(XDG_BIN_HOME),
            Origin::Home => f.write_str("the default, ~/.local/bin"),
        }
    }
}

/// The directory that holds the `codex` entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinDir {
    pub dir: PathBuf,
    pub from: Origin,
}

#[derive(Debug, thiserror::Error)]
pub enum BinError {
    #[error("no home directory to find `~/.local/bin` in")]
    NoHome,
    #[error("`{}` is not codex-bootstrap's: left as it is", .path.display())]
    Foreign { path: PathBuf },
    #[error("could not find codex-bootstrap's own executable")]
    CurrentExe(#[source] std::io::Error),
    #[error(transparent)]
    Io(#[from] IoError),
}

impl Hint for BinError {
    fn hint(&self) -> Option<String> {
        Some(match self {
            BinError::NoHome | BinError::CurrentExe(_) => {
                format!("set {BIN_DIR_ENV}=DIR to choose the directory, or pass `--no-bin`")
            }
            BinError::Foreign { path } => format!(
                "to use codex-bootstrap's `codex` there, move `{}` away and rerun `codex-bootstrap install`; or choose another directory with {BIN_DIR_ENV}=DIR, or skip it with `--no-bin`",
                path.display()
            ),
            BinError::Io(e) => match e.hint() {
                Some(h) => format!("{h}; or choose another directory with {BIN_DIR_ENV}=DIR, or pass `--no-bin`"),
                None => format!("choose another directory with {BIN_DIR_ENV}=DIR, or pass `--no-bin`"),
            },
        })
    }
}

impl BinDir {
    /// From this process's environment and the user's home directory.
    pub fn locate() -> Result<BinDir, BinError> {
        BinDir::from_vars(|name| std::env::var_os(name), dirs::home_dir())
    }

    /// `CODEX_BOOTSTRAP_BIN_DIR` (a relative one from the current directory), else an absolute
    /// `$XDG_BIN_HOME` (the XDG rules ignore a relative one), else `<home>/.local/bin`.
    pub fn from_vars(
        var: impl Fn(&str) -> Option<std::ffi::OsString>,
        home: Option<PathBuf>,
    ) -> Result<BinDir, BinError> {
        let set = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(dir) = set(BIN_DIR_ENV) {
            let dir = std::path::absolute(&dir).unwrap_or(dir);
            return Ok(BinDir {
                dir,
                from: Origin::Env,
            });
        }
        if let Some(dir) = set(XDG_BIN_HOME).filter(|d| d.is_absolute()) {
            return Ok(BinDir {
                dir,
                from: Origin::XdgBinHome,
            });
        }
        let home = home.ok_or(BinError::NoHome)?;
        Ok(BinDir {
            dir: home.join(".local").join("bin"),
            from: Origin::Home,
        })
    }

    /// `<dir>/codex` (`codex.exe` on Windows).
    pub fn entry(&self) -> PathBuf {
        self.dir
            .join(format!("{}{}", super::NAME, std::env::consts::EXE_SUFFIX))
    }

    /// When this process's PATH misses the directory: saying so, with the line for the
    /// user's shell.
    pub fn not_on_path(&self) -> Option<String> {
        (!self.on_path(std::env::var_os("PATH").as_deref())).then(|| {
            format!(
                "{} is not on PATH, so a shell will not find `codex` there; add it with:\n    {}",
                self.dir.display(),
                Shell::of_this_user().path_line(&self.dir)
            )
        })
    }

    /// Whether `path_var` (a `PATH` value) lists this directory.
    pub fn on_path(&self, path_var: Option<&OsStr>) -> bool {
        let Some(path_var) = path_var else {
            return false;
        };
        let want = self.dir.canonicalize().ok();
        std::env::split_paths(path_var)
            .any(|d| d == self.dir || (want.is_some() && d.canonicalize().ok() == want))
    }
}

/// The user's shell, for the line that puts a directory on PATH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    PowerShell,
    Other,
}

impl Shell {
    /// `$SHELL`'s name on Unix; PowerShell on Windows.
    pub fn of_this_user() -> Shell {
        if cfg!(windows) {
            return Shell::PowerShell;
        }
        Shell::named(std::env::var_os("SHELL").as_deref())
    }

    /// The shell `$SHELL` names (`/bin/zsh`, `/usr/bin/fish`).
    pub fn named(shell: Option<&OsStr>) -> Shell {
        match shell
            .and_then(|s| Path::new(s).file_name())
            .and_then(OsStr::to_str)
        {
            Some("bash") => Shell::Bash,
            Some("zsh") => Shell::Zsh,
            Some("fish") => Shell::Fish,
            Some("pwsh" | "powershell") => Shell::PowerShell,
            _ => Shell::Other,
        }
    }

    /// The exact line that puts `dir` first on PATH for every new shell.
    pub fn path_line(self, dir: &Path) -> String {
        let d = dir.display();
        match self {
            Shell::Bash => format!("echo 'export PATH=\"{d}:$PATH\"' >> ~/.bashrc"),
            Shell::Zsh => format!("echo 'export PATH=\"{d}:$PATH\"' >> ~/.zshrc"),
            Shell::Fish => format!("fish_add_path '{d}'"),
            Shell::PowerShell => format!(
                "[Environment]::SetEnvironmentVariable('Path', '{d};' + [Environment]::GetEnvironmentVariable('Path', 'User'), 'User')"
            ),
            Shell::Other => format!("add `export PATH=\"{d}:$PATH\"` to your shell's startup file"),
        }
    }
}

/// Whose the `codex` at a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ownership {
    Missing,
    /// This very codex-bootstrap (a hard link, an identical copy, or a symbolic link to it).
    Current,
    /// An entry point another codex-bootstrap (an older one) placed.
    Older,
    /// Anything else: never replaced.
    Foreign,
}

/// Whose `entry` is, `exe` being this codex-bootstrap.
pub fn ownership(entry: &Path, exe: &Path) -> std::io::Result<Ownership> {
    let meta = match std::fs::symlink_metadata(entry) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ownership::Missing),
        Err(e) => return Err(e),
    };
    if meta.file_type().is_symlink() {
        // A link made by hand: it acts as ours only when it leads to this binary; we never
        // replace a link (its target is someone's choice).
        let same = matches!((entry.canonicalize(), exe.canonicalize()), (Ok(a), Ok(b)) if a == b);
        return Ok(if same {
            Ownership::Current
        } else {
            Ownership::Foreign
        });
    }
    if !meta.is_file() {
        return Ok(Ownership::Foreign);
    }
    let exe_meta = std::fs::metadata(exe)?;
    if same_file(&meta, &exe_meta) {
        return Ok(Ownership::Current);
    }
    if !contains(entry, MARKER)? {
        return Ok(Ownership::Foreign);
    }
    Ok(if meta.len() == exe_meta.len() && same_bytes(entry, exe)? {
        Ownership::Current
    } else {
        Ownership::Older
    })
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

/// Windows' file ids are not in stable std: the bytes decide.
#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
}

/// Whether the file at `path` holds `needle`, read in chunks (a foreign `codex` may be a
/// 100 MB binary).
fn contains(path: &Path, needle: &[u8]) -> std::io::Result<bool> {
    let finder = memchr::memmem::Finder::new(needle);
    let mut file = std::fs::File::open(path)?;
    let keep = needle.len().saturating_sub(1);
    let mut buf = vec![0u8; (1 << 20) + keep];
    let mut carried = 0;
    loop {
        let n = file.read(&mut buf[carried..])?;
        if n == 0 {
            return Ok(false);
        }
        let end = carried + n;
        if finder.find(&buf[..end]).is_some() {
            return Ok(true);
        }
        // The needle may straddle two reads: keep the tail.
        let tail = keep.min(end);
        buf.copy_within(end - tail..end, 0);
        carried = tail;
    }
}

/// Whether two files of the same length hold the same bytes.
fn same_bytes(a: &Path, b: &Path) -> std::io::Result<bool> {
    let (mut a, mut b) = (std::fs::File::open(a)?, std::fs::File::open(b)?);
    let (mut x, mut y) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = read_full(&mut a, &mut x)?;
        let m = read_full(&mut b, &mut y)?;
        if x[..n] != y[..m] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(f: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// How the entry point was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum How {
    HardLink,
    Copy,
}

/// What [`place`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    /// There was none: made.
    Created { path: PathBuf, how: How },
    /// An older codex-bootstrap's: replaced.
    Updated { path: PathBuf, how: How },
    /// Already this codex-bootstrap.
    Current { path: PathBuf },
}

impl Placed {
    pub fn path(&self) -> &Path {
        match self {
            Placed::Created { path, .. }
            | Placed::Updated { path, .. }
            | Placed::Current { path } => path,
        }
    }

    /// `created`, `updated`, `unchanged`: for `--json`.
    pub fn action(&self) -> &'static str {
        match self {
            Placed::Created { .. } => "created",
            Placed::Updated { .. } => "updated",
            Placed::Current { .. } => "unchanged",
        }
    }
}

/// `install`'s step: this codex-bootstrap placed as `codex` in the bin directory.
pub fn place_this() -> Result<(BinDir, Placed), BinError> {
    let bin = BinDir::locate()?;
    let exe = std::env::current_exe().map_err(BinError::CurrentExe)?;
    let placed = place(&bin, &exe)?;
    Ok((bin, placed))
}

/// Put this codex-bootstrap (`exe`) in `bin` as `codex`, unless a `codex` that is not ours is
/// there. Ours from an older codex-bootstrap is replaced atomically.
pub fn place(bin: &BinDir, exe: &Path) -> Result<Placed, BinError> {
    let entry = bin.entry();
    let replacing = match ownership(&entry, exe).map_err(IoError::at("read", &entry))? {
        Ownership::Current => return Ok(Placed::Current { path: entry }),
        Ownership::Foreign => return Err(BinError::Foreign { path: entry }),
        Ownership::Older => true,
        Ownership::Missing => false,
    };
    crate::fs::create_dirs(&bin.dir).map_err(IoError::at("create", &bin.dir))?;
    let how = link_or_copy(exe, &entry)?;
    tracing::debug!(entry = %entry.display(), ?how, replacing, "placed the codex entry point");
    Ok(if replacing {
        Placed::Updated { path: entry, how }
    } else {
        Placed::Created { path: entry, how }
    })
}

/// A hard link to `exe` (else a copy) made beside `entry`, then renamed over it.
fn link_or_copy(exe: &Path, entry: &Path) -> Result<How, IoError> {
    let dir = entry.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".codex.{}.{:08x}.tmp",
        std::process::id(),
        fastrand::u32(..)
    ));
    let how = match std::fs::hard_link(exe, &tmp) {
        Ok(()) => How::HardLink,
        Err(e) => {
            tracing::debug!("no hard link to {} ({e}): copying", exe.display());
            // `fs::copy` carries the executable's mode over.
            std::fs::copy(exe, &tmp).map_err(IoError::at("copy into", &tmp))?;
            How::Copy
        }
    };
    if let Err(e) = std::fs::rename(&tmp, entry) {
        let _ = std::fs::remove_file(&tmp);
        return Err(IoError::at("replace", entry)(e));
    }
    crate::fs::sync_dir(dir);
    Ok(how)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<std::ffi::OsString> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.into())
    }

    #[test]
    fn the_variable_then_xdg_then_home() {
        let home = Some(PathBuf::from("/home/me"));
        let dir = |pairs: &[(&str, &str)]| BinDir::from_vars(vars(pairs), home.clone()).unwrap();
        assert_eq!(
            dir(&[]),
            BinDir {
                dir: "/home/me/.local/bin".into(),
                from: Origin::Home
            }
        );
        assert_eq!(
            dir(&[("XDG_BIN_HOME", "/xdg/bin")]).dir,
            Path::new("/xdg/bin")
        );
        // The XDG rules ignore a relative path.
        assert_eq!(dir(&[("XDG_BIN_HOME", "rel/bin")]).from, Origin::Home);
        let env = dir(&[(BIN_DIR_ENV, "/opt/bin"), ("XDG_BIN_HOME", "/xdg/bin")]);
        assert_eq!(
            (env.dir.as_path(), env.from),
            (Path::new("/opt/bin"), Origin::Env)
        );
        assert!(matches!(
            BinDir::from_vars(vars(&[]), None),
            Err(BinError::NoHome)
        ));
    }

    #[test]
    fn the_line_for_each_shell() {
        let d = Path::new("/home/me/.local/bin");
        let line = |s: &str| Shell::named(Some(OsStr::new(s))).path_line(d);
        assert_eq!(
            line("/bin/bash"),
            "echo 'export PATH=\"/home/me/.local/bin:$PATH\"' >> ~/.bashrc"
        );
        assert_eq!(
            line("/usr/bin/zsh"),
            "echo 'export PATH=\"/home/me/.local/bin:$PATH\"' >> ~/.zshrc"
        );
        assert_eq!(line("/usr/bin/fish"), "fish_add_path '/home/me/.local/bin'");
        assert!(line("/bin/dash").contains("export PATH=\"/home/me/.local/bin:$PATH\""));
        assert_eq!(Shell::named(None), Shell::Other);
    }

    #[test]
    fn on_path_compares_directories() {
        let temp = tempfile::tempdir().unwrap();
        let bin = BinDir {
            dir: temp.path().join("bin"),
            from: Origin::Env,
        };
        std::fs::create_dir(&bin.dir).unwrap();
        let path = std::env::join_paths([Path::new("/usr/bin"), &bin.dir]).unwrap();
        assert!(bin.on_path(Some(&path)));
        assert!(!bin.on_path(Some(OsStr::new("/usr/bin"))));
        assert!(!bin.on_path(None));
    }

    /// A stand-in for codex-bootstrap: any bytes holding the marker.
    fn fake_exe(dir: &Path, name: &str, version: &str) -> PathBuf {
        let p = dir.join(name);
        let mut bytes = b"\x7fELF fake codex-bootstrap ".to_vec();
        bytes.extend_from_slice(MARKER);
        bytes.extend_from_slice(version.as_bytes());
        std::fs::write(&p, bytes).unwrap();
        p
    }

    #[test]
    fn placed_then_unchanged_then_updated_when_codex_bootstrap_changes() {
        let temp = tempfile::tempdir().unwrap();
        let bin = BinDir {
            dir: temp.path().join("bin"),
            from: Origin::Env,
        };
        let old = fake_exe(temp.path(), "old", "0.1.0");
        let new = fake_exe(temp.path(), "new", "0.2.0");

        let placed = place(&bin, &old).unwrap();
        assert!(matches!(placed, Placed::Created { .. }), "{placed:?}");
        assert_eq!(placed.path(), bin.entry());
        assert_eq!(ownership(&bin.entry(), &old).unwrap(), Ownership::Current);
        assert!(matches!(place(&bin, &old).unwrap(), Placed::Current { .. }));

        // Another codex-bootstrap (its entry point holds the marker): replaced by the new one.
        assert_eq!(ownership(&bin.entry(), &new).unwrap(), Ownership::Older);
        assert!(matches!(place(&bin, &new).unwrap(), Placed::Updated { .. }));
        assert_eq!(
            std::fs::read(bin.entry()).unwrap(),
            std::fs::read(&new).unwrap()
        );
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(&bin.dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");

        // An identical copy (no hard link possible) is ours and current.
        std::fs::remove_file(bin.entry()).unwrap();
        std::fs::copy(&new, bin.entry()).unwrap();
        assert_eq!(ownership(&bin.entry(), &new).unwrap(), Ownership::Current);
    }

    #[test]
    fn a_codex_that_is_not_ours_is_never_replaced() {
        let temp = tempfile::tempdir().unwrap();
        let bin = BinDir {
            dir: temp.path().join("bin"),
            from: Origin::Env,
        };
        std::fs::create_dir(&bin.dir).unwrap();
        let exe = fake_exe(temp.path(), "exe", "0.2.0");
        let theirs = b"#!/bin/sh\necho someone else's codex\n";
        std::fs::write(bin.entry(), theirs).unwrap();
        let e = place(&bin, &exe).unwrap_err();
        assert!(
            matches!(&e, BinError::Foreign { path } if path == &bin.entry()),
            "{e}"
        );
        assert!(e.hint().unwrap().contains(BIN_DIR_ENV));
        assert_eq!(std::fs::read(bin.entry()).unwrap(), theirs);

        // A symbolic link elsewhere is someone's choice too.
        #[cfg(unix)]
        {
            std::fs::remove_file(bin.entry()).unwrap();
            let other = temp.path().join("other");
            std::fs::write(&other, theirs).unwrap();
            std::os::unix::fs::symlink(&other, bin.entry()).unwrap();
            assert_eq!(ownership(&bin.entry(), &exe).unwrap(), Ownership::Foreign);
            assert!(matches!(place(&bin, &exe), Err(BinError::Foreign { .. })));
            std::fs::remove_file(bin.entry()).unwrap();
            std::os::unix::fs::symlink(&exe, bin.entry()).unwrap();
            assert_eq!(ownership(&bin.entry(), &exe).unwrap(), Ownership::Current);
        }
    }

    #[test]
    fn the_marker_is_found_across_reads() {
        let temp = tempfile::tempdir().unwrap();
        let p = temp.path().join("big");
        // The marker straddles the first 1 MiB read.
        let mut bytes = vec![0u8; (1 << 20) - 10];
        bytes.extend_from_slice(MARKER);
        std::fs::write(&p, &bytes).unwrap();
        assert!(contains(&p, MARKER).unwrap());
        std::fs::write(&p, vec![0u8; 3 << 20]).unwrap();
        assert!(!contains(&p, MARKER).unwrap());
    }
}
