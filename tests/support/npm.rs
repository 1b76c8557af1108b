//! A loopback npm registry for `@openai/codex`, on the generic [`TestServer`].
//!
//! The packument is served at `<prefix>/@openai%2fcodex` (also `%2F` and the unencoded
//! spelling): the abbreviated document (`application/vnd.npm.install-v1+json`) when the client
//! asks for it, else the full one. It lists one version per platform tarball
//! (`<v>-linux-x64`, ...) and the main package `<v>` (no vendor directory, only
//! `optionalDependencies` on the platform versions), each with `dist.integrity` (sha512 SRI),
//! `dist.shasum` (sha1) and an absolute `dist.tarball` URL on this server. Options: a path
//! prefix, dist-tags, a wrong integrity, corrupted bytes, and a bearer token required on every
//! path.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;

use base64::Engine as _;

use crate::support::http::{Fault, RecordedRequest, Response, TestServer};

/// The package every document is about.
pub const PACKAGE: &str = "@openai/codex";
/// npm's abbreviated-metadata content type.
pub const CORGI_TYPE: &str = "application/vnd.npm.install-v1+json";
/// What npm sends, and what the product sends.
pub const ACCEPT: &str = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*";

/// npm platform suffix <-> Rust target triple, as `@openai/codex` publishes them.
pub const PLATFORMS: &[(&str, &str)] = &[
    ("linux-x64", "x86_64-unknown-linux-musl"),
    ("linux-arm64", "aarch64-unknown-linux-musl"),
    ("darwin-x64", "x86_64-apple-darwin"),
    ("darwin-arm64", "aarch64-apple-darwin"),
    ("win32-x64", "x86_64-pc-windows-msvc"),
    ("win32-arm64", "aarch64-pc-windows-msvc"),
];

/// The npm platform suffix for a target triple.
pub fn npm_platform(triple: &str) -> &'static str {
    PLATFORMS
        .iter()
        .find(|(_, t)| *t == triple)
        .map(|(p, _)| *p)
        .unwrap_or_else(|| panic!("no npm platform for `{triple}`"))
}

/// The target triple for an npm platform suffix.
pub fn npm_triple(platform: &str) -> &'static str {
    PLATFORMS
        .iter()
        .find(|(p, _)| *p == platform)
        .map(|(_, t)| *t)
        .unwrap_or_else(|| panic!("no target for npm platform `{platform}`"))
}

/// `sha512-<base64>`, as `dist.integrity` spells it.
pub fn integrity(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha512::digest(bytes))
    )
}

/// The tarball's file name: `codex-<v>-<platform>.tgz` (`codex-<v>.tgz` for the main package).
pub fn tarball_name(version: &str, platform: Option<&str>) -> String {
    match platform {
        Some(p) => format!("codex-{version}-{p}.tgz"),
        None => format!("codex-{version}.tgz"),
    }
}

#[derive(Clone)]
struct Tarball {
    version: String,
    platform: String,
    bytes: Vec<u8>,
}

/// How the registry is set up; see [`NpmRegistry::builder`].
#[derive(Clone)]
pub struct NpmRegistryBuilder {
    prefix: String,
    tarballs: Vec<Tarball>,
    dist_tags: BTreeMap<String, String>,
    wrong_integrity: HashSet<String>,
    corrupt: HashSet<String>,
    token: Option<String>,
}

impl NpmRegistryBuilder {
    /// Publish `@openai/codex@<version>-<platform>` (platform as npm spells it: `linux-x64`).
    pub fn tarball(mut self, version: &str, platform: &str, bytes: Vec<u8>) -> Self {
        npm_triple(platform);
        self.tarballs.push(Tarball {
            version: version.to_string(),
            platform: platform.to_string(),
            bytes,
        });
        self
    }

    /// Set a dist-tag (`latest` defaults to the last main version published).
    pub fn dist_tag(mut self, tag: &str, version: &str) -> Self {
        self.dist_tags.insert(tag.to_string(), version.to_string());
        self
    }

    /// List an integrity for this tarball that is not that of its bytes.
    pub fn wrong_integrity(mut self, version: &str, platform: &str) -> Self {
        self.wrong_integrity.insert(format!("{version}-{platform}"));
        self
    }

    /// Serve this tarball with one byte flipped, listing the genuine integrity.
    pub fn corrupt(mut self, version: &str, platform: &str) -> Self {
        self.corrupt.insert(format!("{version}-{platform}"));
        self
    }

    /// Require `Authorization: Bearer <token>` on every path (401 otherwise).
    pub fn bearer_token(mut self, token: &str) -> Self {
        self.token = Some(token.to_string());
        self
    }

    /// Serve under a path prefix (`/npm`): the registry URL becomes `http://HOST:PORT/npm/`.
    pub fn prefix(mut self, prefix: &str) -> Self {
        self.prefix = format!("/{}", prefix.trim_matches('/'));
        if self.prefix == "/" {
            self.prefix.clear();
        }
        self
    }

    pub fn start(self) -> NpmRegistry {
        let http = TestServer::start();
        let base = format!("{}{}", http.url(), self.prefix);
        let mut versions = serde_json::Map::new();
        let mut mains: Vec<String> = Vec::new();
        for t in &self.tarballs {
            if !mains.contains(&t.version) {
                mains.push(t.version.clone());
            }
        }
        for v in &mains {
            let platforms: Vec<&str> = self
                .tarballs
                .iter()
                .filter(|t| &t.version == v)
                .map(|t| t.platform.as_str())
                .collect();
            let bytes = main_tarball(v, &platforms);
            let path = format!("{}/{PACKAGE}/-/{}", self.prefix, tarball_name(v, None));
            let optional: serde_json::Map<String, serde_json::Value> = platforms
                .iter()
                .map(|p| {
                    (
                        format!("{PACKAGE}-{p}"),
                        serde_json::Value::from(format!("npm:{PACKAGE}@{v}-{p}")),
                    )
                })
                .collect();
            let mut doc = version_doc(
                v,
                &bytes,
                &integrity(&bytes),
                &format!("{base}/{PACKAGE}/-/{}", tarball_name(v, None)),
            );
            doc["bin"] = serde_json::json!({ "codex": "bin/codex.js" });
            doc["optionalDependencies"] = serde_json::Value::Object(optional);
            versions.insert(v.clone(), doc);
            http.add_file(&path, bytes);
        }
        for t in &self.tarballs {
            let key = format!("{}-{}", t.version, t.platform);
            let name = tarball_name(&t.version, Some(&t.platform));
            let path = format!("{}/{PACKAGE}/-/{name}", self.prefix);
            let listed = if self.wrong_integrity.contains(&key) {
                integrity(b"not the tarball that is served")
            } else {
                integrity(&t.bytes)
            };
            let mut doc = version_doc(
                &key,
                &t.bytes,
                &listed,
                &format!("{base}/{PACKAGE}/-/{name}"),
            );
            let (os, cpu) = t.platform.split_once('-').expect("platform is os-cpu");
            doc["os"] = serde_json::json!([os]);
            doc["cpu"] = serde_json::json!([cpu]);
            doc["files"] = serde_json::json!(["vendor"]);
            versions.insert(key.clone(), doc);
            http.add_file(&path, t.bytes.clone());
            if self.corrupt.contains(&key) {
                http.fault(&path, Fault::CorruptByte(t.bytes.len() as u64 / 2));
            }
        }
        let mut dist_tags = self.dist_tags.clone();
        if let Some(last) = mains.last() {
            dist_tags
                .entry("latest".into())
                .or_insert_with(|| last.clone());
        }
        let corgi = serde_json::json!({
            "name": PACKAGE,
            "dist-tags": dist_tags,
            "versions": versions,
            "modified": "2026-11-01T00:00:00.000Z",
        });
        let mut full = corgi.clone();
        full["_id"] = serde_json::Value::from(PACKAGE);
        full["description"] = serde_json::Value::from(
            "Codex CLI is a coding agent from OpenAI that runs locally on your computer.",
        );
        full["time"] = serde_json::json!({ "modified": "2026-11-01T00:00:00.000Z" });
        let (corgi, full) = (corgi.to_string(), full.to_string());
        let respond = move |r: &RecordedRequest| {
            let accept = r.headers.get("accept").map(String::as_str).unwrap_or("");
            if crate::support::pyindex::accept_q(accept, CORGI_TYPE) > 0.0 {
                Response::new(200, corgi.clone()).header("content-type", CORGI_TYPE)
            } else {
                Response::new(200, full.clone()).header("content-type", "application/json")
            }
        };
        let respond = std::sync::Arc::new(respond);
        for spelling in ["@openai%2fcodex", "@openai%2Fcodex", "@openai/codex"] {
            let respond = respond.clone();
            http.add_responder(&format!("{}/{spelling}", self.prefix), move |r| respond(r));
        }
        if let Some(token) = &self.token {
            let expected = format!("Bearer {token}");
            http.gate(move |r| {
                (r.headers.get("authorization") != Some(&expected)).then(|| {
                    Response::new(401, "{\"error\":\"This request requires auth credentials. Run `npm login` and repeat the request.\"}")
                        .header("content-type", "application/json")
                        .header("www-authenticate", "Bearer realm=\"npm\"")
                })
            });
        }
        NpmRegistry {
            http,
            prefix: self.prefix,
            tarballs: self
                .tarballs
                .into_iter()
                .map(|t| (format!("{}-{}", t.version, t.platform), t.bytes))
                .collect(),
            token: self.token,
        }
    }
}

/// A running registry. Unknown packages and paths are 404 (after the token check).
pub struct NpmRegistry {
    http: TestServer,
    prefix: String,
    tarballs: HashMap<String, Vec<u8>>,
    token: Option<String>,
}

impl NpmRegistry {
    /// No prefix, no token, no tarballs yet.
    pub fn builder() -> NpmRegistryBuilder {
        NpmRegistryBuilder {
            prefix: String::new(),
            tarballs: Vec::new(),
            dist_tags: BTreeMap::new(),
            wrong_integrity: HashSet::new(),
            corrupt: HashSet::new(),
            token: None,
        }
    }

    /// The registry URL to give the product: `http://127.0.0.1:PORT/` or `.../npm/`.
    pub fn url(&self) -> String {
        format!("{}{}/", self.http.url(), self.prefix)
    }

    /// `//127.0.0.1:PORT/` (with the prefix): the key `.npmrc` scopes `_authToken` by.
    pub fn nerf_dart(&self) -> String {
        format!("//{}{}/", self.http.addr(), self.prefix)
    }

    /// `<prefix>/@openai%2fcodex`, the path the product requests.
    pub fn packument_path(&self) -> String {
        format!("{}/@openai%2fcodex", self.prefix)
    }

    /// The path of `@openai/codex@<version>-<platform>`'s tarball.
    pub fn tarball_path(&self, version: &str, platform: &str) -> String {
        format!(
            "{}/{PACKAGE}/-/{}",
            self.prefix,
            tarball_name(version, Some(platform))
        )
    }

    /// The absolute URL of that tarball, as `dist.tarball` gives it.
    pub fn tarball_url(&self, version: &str, platform: &str) -> String {
        format!(
            "{}{}",
            self.http.url(),
            self.tarball_path(version, platform)
        )
    }

    /// The genuine integrity of a published platform tarball (whatever the packument says).
    pub fn integrity(&self, version: &str, platform: &str) -> String {
        let bytes = self
            .tarballs
            .get(&format!("{version}-{platform}"))
            .unwrap_or_else(|| panic!("no tarball {version}-{platform} was published"));
        integrity(bytes)
    }

    pub fn server(&self) -> &TestServer {
        &self.http
    }

    /// Every request, with headers.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.http.requests()
    }

    /// Requests to exactly `path`.
    pub fn count(&self, path: &str) -> usize {
        self.http.requests_to(path).len()
    }

    pub fn requests_per_path(&self) -> BTreeMap<String, usize> {
        self.http.counts()
    }

    /// Requests for the packument, whichever spelling.
    pub fn packument_requests(&self) -> usize {
        ["@openai%2fcodex", "@openai%2Fcodex", "@openai/codex"]
            .iter()
            .map(|s| self.count(&format!("{}/{s}", self.prefix)))
            .sum()
    }

    /// Downloads of one platform tarball.
    pub fn downloads(&self, version: &str, platform: &str) -> usize {
        self.count(&self.tarball_path(version, platform))
    }

    /// The token reached the registry (at least once; every request after a 401 challenge
    /// counts too) and no request to it carried a different `authorization`.
    #[track_caller]
    pub fn assert_token_arrived(&self) {
        let token = self
            .token
            .as_ref()
            .expect("the registry was built without a bearer token");
        let expected = format!("Bearer {token}");
        let requests = self.requests();
        assert!(
            requests
                .iter()
                .any(|r| r.headers.get("authorization") == Some(&expected)),
            "no request carried the token: {:?}",
            self.requests_per_path()
        );
        for r in &requests {
            if let Some(auth) = r.headers.get("authorization") {
                assert_eq!(auth, &expected, "unexpected credentials for {}", r.path);
            }
        }
    }
}

fn version_doc(version: &str, bytes: &[u8], integrity: &str, tarball: &str) -> serde_json::Value {
    serde_json::json!({
        "name": PACKAGE,
        "version": version,
        "license": "Apache-2.0",
        "engines": { "node": ">=16" },
        "dist": {
            "integrity": integrity,
            "shasum": sha1_hex(bytes),
            "tarball": tarball,
        },
    })
}

/// The main package's tarball: `package/package.json` and `package/bin/codex.js`, no vendor.
fn main_tarball(version: &str, platforms: &[&str]) -> Vec<u8> {
    let optional: serde_json::Map<String, serde_json::Value> = platforms
        .iter()
        .map(|p| {
            (
                format!("{PACKAGE}-{p}"),
                serde_json::Value::from(format!("npm:{PACKAGE}@{version}-{p}")),
            )
        })
        .collect();
    let package_json = serde_json::to_vec_pretty(&serde_json::json!({
        "name": PACKAGE,
        "version": version,
        "bin": { "codex": "bin/codex.js" },
        "type": "module",
        "files": ["bin/codex.js"],
        "optionalDependencies": optional,
    }))
    .expect("serialize package.json");
    let launcher = b"#!/usr/bin/env node\nconsole.error('the launcher picks vendor/<triple>/ from an optional dependency');\n";
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data, mode) in [
        ("package/package.json", &package_json[..], 0o644),
        ("package/bin/codex.js", &launcher[..], 0o755),
    ] {
        let mut h = tar::Header::new_ustar();
        h.set_path(path).expect("tar path");
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(499_162_500);
        h.set_cksum();
        tar.append(&h, data).expect("append to tar");
    }
    let tar = tar.into_inner().expect("finish tar");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&tar).expect("gzip");
    gz.finish().expect("gzip")
}

/// SHA-1 (FIPS 180-4), for `dist.shasum` only: npm still lists it beside the integrity, and
/// nothing here trusts it. Written out to avoid a dependency for one field.
pub fn sha1_hex(data: &[u8]) -> String {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    h.iter().map(|x| format!("{x:08x}")).collect()
}
