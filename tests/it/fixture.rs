//! Fixture runtime packages built in memory: the codex-package layout with a shell-script
//! `codex` that prints its version, packed as `.tar.gz` or `.tar.zst`, as an
//! `openai-codex-cli-bin` wheel ([`wheels`]) or an `@openai/codex` platform tarball
//! ([`npm_tarballs`]), and hostile variants of each.

use std::io::Write;

use crate::common::{host_target, PointAt};

pub mod npm_tarballs;
pub mod wheels;

pub use npm_tarballs::{
    npm_escape, npm_tarball, npm_tarball_with_escaping_symlink, npm_tarball_with_traversal,
};
pub use wheels::{
    host_manylinux_tag, host_wheel_tag, record_hash, wheel, wheel_lying_about, wheel_name,
    wheel_with_duplicate, wheel_with_traversal, WHEEL_ESCAPE,
};

/// One archive entry.
#[derive(Clone)]
pub enum Entry {
    File {
        path: String,
        data: Vec<u8>,
        mode: u32,
    },
    Dir {
        path: String,
    },
    Symlink {
        path: String,
        target: String,
    },
    HardLink {
        path: String,
        target: String,
    },
}

/// A package to pack.
#[derive(Clone)]
pub struct Package {
    pub entries: Vec<Entry>,
}

impl Package {
    /// A valid package for `version` and the host target: `codex --version` prints
    /// `codex-cli <version>`.
    pub fn codex(version: &str) -> Package {
        Package::for_target(version, host_target())
    }

    /// A valid package whose `bin/codex` is the fake app-server, for doctor and the action.
    pub fn fake_app_server(version: &str) -> Package {
        let fake = std::fs::read(fake_app_server()).expect("read the fake app-server");
        Package::codex(version).file("bin/codex", &fake, 0o755)
    }

    pub fn for_target(version: &str, target: &str) -> Package {
        let meta = format!(
            "{{\"layoutVersion\":1,\"version\":\"{version}\",\"target\":\"{target}\",\"variant\":\"codex\",\"entrypoint\":\"bin/codex\",\"resourcesDir\":\"codex-resources\",\"pathDir\":\"codex-path\"}}"
        );
        Package {
            entries: vec![
                Entry::File {
                    path: "codex-package.json".into(),
                    data: meta.into_bytes(),
                    mode: 0o644,
                },
                Entry::Dir { path: "bin".into() },
                Entry::File {
                    path: "bin/codex".into(),
                    data: codex_script(version).into_bytes(),
                    mode: 0o755,
                },
                Entry::File {
                    path: "bin/codex-code-mode-host".into(),
                    data: b"#!/bin/sh\nexit 0\n".to_vec(),
                    mode: 0o755,
                },
                Entry::Dir {
                    path: "codex-path".into(),
                },
                Entry::File {
                    path: "codex-path/rg".into(),
                    data: b"#!/bin/sh\necho rg\n".to_vec(),
                    mode: 0o755,
                },
                Entry::Dir {
                    path: "codex-resources".into(),
                },
                Entry::File {
                    path: "codex-resources/bwrap".into(),
                    data: vec![0x7f; 4096],
                    mode: 0o755,
                },
            ],
        }
    }

    pub fn with(mut self, e: Entry) -> Package {
        self.entries.push(e);
        self
    }

    /// Replace (or add) a file.
    pub fn file(mut self, path: &str, data: &[u8], mode: u32) -> Package {
        self.entries
            .retain(|e| !matches!(e, Entry::File { path: p, .. } if p == path));
        self.entries.push(Entry::File {
            path: path.into(),
            data: data.to_vec(),
            mode,
        });
        self
    }

    pub fn without(mut self, path: &str) -> Package {
        self.entries
            .retain(|e| !matches!(e, Entry::File { path: p, .. } if p == path));
        self
    }

    /// An uncompressed tar, written with raw headers so hostile names survive.
    pub fn tar(&self) -> Vec<u8> {
        tar_of(&self.entries)
    }

    pub fn tar_gz(&self) -> Vec<u8> {
        gzip(&self.tar())
    }

    pub fn tar_zst(&self) -> Vec<u8> {
        zstd::stream::encode_all(&self.tar()[..], 3).expect("zstd")
    }
}

/// An uncompressed tar of `entries`, names copied raw into GNU headers (up to 100 bytes) so
/// `..`, absolute paths and the like survive.
pub fn tar_of(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let (path, ty, data, mode, link): (&str, tar::EntryType, &[u8], u32, Option<&str>) = match e
        {
            Entry::File { path, data, mode } => (path, tar::EntryType::Regular, data, *mode, None),
            Entry::Dir { path } => (path, tar::EntryType::Directory, &[], 0o755, None),
            Entry::Symlink { path, target } => {
                (path, tar::EntryType::Symlink, &[], 0o777, Some(target))
            }
            Entry::HardLink { path, target } => {
                (path, tar::EntryType::Link, &[], 0o644, Some(target))
            }
        };
        let name = path.as_bytes();
        h.as_gnu_mut().expect("gnu header").name[..name.len()].copy_from_slice(name);
        h.set_entry_type(ty);
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(1_700_000_000);
        if let Some(l) = link {
            h.set_link_name(l).expect("link name");
        }
        h.set_cksum();
        b.append(&h, data).expect("append");
    }
    b.into_inner().expect("finish tar")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).expect("gzip");
    gz.finish().expect("gzip")
}

/// A `codex` that answers `--version` like the real one, and like the real one writes into
/// `CODEX_HOME` (default `~/.codex`) on every run: here a line with its arguments appended to
/// [`CODEX_HOME_LOG`], so a test can tell whose `CODEX_HOME` a run used.
pub fn codex_script(version: &str) -> String {
    format!(
        "#!/bin/sh\nhome=\"${{CODEX_HOME:-$HOME/.codex}}\"\nmkdir -p \"$home/tmp\" 2>/dev/null && echo \"$*\" >> \"$home/{CODEX_HOME_LOG}\" 2>/dev/null\nif [ \"$1\" = \"--version\" ]; then echo \"codex-cli {version}\"; exit 0; fi\necho \"fake codex $*\"\n"
    )
}

/// Where the fixture's `codex` logs each run, relative to `CODEX_HOME`.
pub const CODEX_HOME_LOG: &str = "tmp/fake-codex-runs";

/// Asset names for the host target.
pub fn package_gz() -> String {
    format!("codex-package-{}.tar.gz", host_target())
}
pub fn package_zst() -> String {
    format!("codex-package-{}.tar.zst", host_target())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A release server with `gz` published as `version`'s `.tar.gz`, its digest as `digest` says.
pub fn release_gz(
    version: &str,
    gz: Vec<u8>,
    digest: crate::support::github::DigestMode,
) -> crate::support::github::ReleaseServer {
    use crate::support::github::{Asset, ReleaseServer};
    let server = ReleaseServer::start();
    server.add_release(
        &format!("rust-v{version}"),
        &[Asset::new(&package_gz(), gz, digest)],
    );
    server
}

/// A release server with the fixture package of `V` as its `.tar.gz`.
pub fn codex_release(
    digest: crate::support::github::DigestMode,
) -> crate::support::github::ReleaseServer {
    release_gz(
        crate::common::V,
        Package::codex(crate::common::V).tar_gz(),
        digest,
    )
}

/// Publish `pkg` as `version`'s `.tar.gz` (API digest) on a new release server and install it
/// into `ctx`'s cache; returns the server for later requests.
pub fn publish_and_install(
    ctx: &crate::common::TestContext,
    version: &str,
    pkg: &Package,
) -> crate::support::github::ReleaseServer {
    use crate::support::github::DigestMode;
    let server = release_gz(version, pkg.tar_gz(), DigestMode::Api);
    let out = ctx
        .cmd(["install", "-q", "--version", version])
        .github(&server)
        .output()
        .expect("run install");
    crate::common::assert_exit(&out, 0);
    server
}

/// The fake `codex app-server` (tests/support/fake_app_server.rs), built by `cargo test` at
/// `target/<profile>/examples/fake-app-server`, next to this test binary's `deps/`.
pub fn fake_app_server() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let fake = dir
        .join("examples")
        .join(format!("fake-app-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        fake.is_file(),
        "{} is missing: `cargo test` builds it as an example",
        fake.display()
    );
    fake
}
