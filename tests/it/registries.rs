//! The loopback Python index and npm registry (tests/support) and the wheel and npm tarball
//! fixtures, checked on their own with a raw HTTP/1.1 client, so a failing sources scenario
//! points at the product and not at its stand-ins.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;

use crate::common::{assert_exit, command_runs, host_target, require, stderr, TestContext, V};
use crate::fixture::{
    host_wheel_tag, npm_escape, npm_tarball, npm_tarball_with_escaping_symlink,
    npm_tarball_with_traversal, record_hash, sha256_hex, wheel, wheel_name, wheel_with_duplicate,
    wheel_with_traversal, Package, WHEEL_ESCAPE,
};
use crate::support::npm::{self, NpmRegistry};
use crate::support::pyindex::{self, basic_auth_header, PythonIndex, PROJECT};

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or("")
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// `GET url` over a fresh connection, `Connection: close`, the body read to EOF.
fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut conn = TcpStream::connect(authority).expect("connect to the loopback server");
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    conn.write_all(head.as_bytes()).unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete response head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

fn host_wheel() -> (String, Vec<u8>) {
    let name = wheel_name(V, host_wheel_tag());
    (name, wheel(V, host_wheel_tag(), &Package::codex(V)))
}

fn project_url(index: &PythonIndex) -> String {
    format!("{}/{PROJECT}/", index.url())
}

// ---------------------------------------------------------------------------------------------
// The Python index

#[test]
fn the_index_answers_pep_691_json_to_the_products_accept_header() {
    let (name, bytes) = host_wheel();
    let index = PythonIndex::builder().wheel(&name, bytes.clone()).start();
    let page = get(&project_url(&index), &[("Accept", pyindex::ACCEPT)]);
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), pyindex::JSON_TYPE);
    let json = page.json();
    assert_eq!(json["meta"]["api-version"], "1.1");
    assert_eq!(json["name"], PROJECT);
    assert_eq!(json["versions"], serde_json::json!([V]));
    let file = &json["files"][0];
    assert_eq!(file["filename"], name.as_str());
    assert_eq!(file["url"], index.file_url(&name).as_str());
    assert_eq!(file["hashes"]["sha256"], sha256_hex(&bytes).as_str());
    assert_eq!(file["size"], bytes.len());
    assert_eq!(file["requires-python"], ">=3.9");
    assert_eq!(file["yanked"], false);

    let download = get(file["url"].as_str().unwrap(), &[]);
    assert_eq!(download.status, 200);
    assert_eq!(download.body, bytes);
    let tail = get(file["url"].as_str().unwrap(), &[("Range", "bytes=100-")]);
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, bytes[100..]);

    assert_eq!(index.page_requests(), 1);
    assert_eq!(index.downloads(&name), 2);
    assert_eq!(index.requests_per_path()[&index.project_path()], 1);
    let seen = &index.requests()[0];
    assert_eq!(seen.headers["accept"], pyindex::ACCEPT);
}

#[test]
fn the_index_answers_pep_503_html_to_html_clients_and_when_json_is_off() {
    let (name, bytes) = host_wheel();
    let link = |index: &PythonIndex| {
        format!(
            "<a href=\"{}#sha256={}\" data-requires-python=\"&gt;=3.9\">{name}</a>",
            index.file_url(&name),
            sha256_hex(&bytes)
        )
    };
    let index = PythonIndex::builder().wheel(&name, bytes.clone()).start();
    let page = get(&project_url(&index), &[("Accept", "text/html")]);
    assert_eq!(page.status, 200);
    assert_eq!(page.header("content-type"), "text/html");
    assert!(page.text().contains(&link(&index)), "{}", page.text());
    assert!(!page.text().contains("data-yanked"), "{}", page.text());

    let html_only = PythonIndex::builder()
        .wheel(&name, bytes.clone())
        .json(false)
        .start();
    let page = get(&project_url(&html_only), &[("Accept", pyindex::ACCEPT)]);
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        "application/vnd.pypi.simple.v1+html"
    );
    assert!(page.text().contains(&link(&html_only)), "{}", page.text());
}

#[test]
fn an_index_without_hashes_lists_none() {
    let (name, bytes) = host_wheel();
    let index = PythonIndex::builder()
        .wheel(&name, bytes)
        .hashes(false)
        .start();
    let json = get(&project_url(&index), &[("Accept", pyindex::ACCEPT)]).json();
    assert_eq!(json["files"][0]["hashes"], serde_json::json!({}));
    let html = get(&project_url(&index), &[("Accept", "text/html")]).text();
    assert!(!html.contains("#sha256="), "{html}");
    assert!(
        html.contains(&format!("href=\"{}\"", index.file_url(&name))),
        "{html}"
    );
}

#[test]
fn yanked_files_carry_their_reason_in_both_formats() {
    let (name, bytes) = host_wheel();
    let other = wheel_name("0.162.0", host_wheel_tag());
    let index = PythonIndex::builder()
        .wheel(&name, bytes)
        .wheel(
            &other,
            wheel("0.162.0", host_wheel_tag(), &Package::codex("0.162.0")),
        )
        .yank(&name, "broken <build> & more")
        .yank(&other, "")
        .start();
    let json = get(&project_url(&index), &[("Accept", pyindex::ACCEPT)]).json();
    assert_eq!(json["files"][0]["yanked"], "broken <build> & more");
    assert_eq!(json["files"][1]["yanked"], true);
    assert_eq!(json["versions"], serde_json::json!([V, "0.162.0"]));
    let html = get(&project_url(&index), &[("Accept", "text/html")]).text();
    assert!(
        html.contains("data-yanked=\"broken &lt;build&gt; &amp; more\""),
        "{html}"
    );
    assert!(html.contains("data-yanked=\"\""), "{html}");
}

#[test]
fn relative_file_urls_resolve_against_the_page() {
    let (name, bytes) = host_wheel();
    let index = PythonIndex::builder()
        .wheel(&name, bytes.clone())
        .relative_urls(true)
        .start();
    {
        let page_url = project_url(&index);
        let json = get(&page_url, &[("Accept", pyindex::ACCEPT)]).json();
        let href = json["files"][0]["url"].as_str().unwrap().to_string();
        assert_eq!(href, format!("../../files/{name}"));
        let resolved = url::Url::parse(&page_url).unwrap().join(&href).unwrap();
        assert_eq!(resolved.as_str(), index.file_url(&name));
        assert_eq!(get(resolved.as_str(), &[]).body, bytes);
        let html = get(&page_url, &[("Accept", "text/html")]).text();
        assert!(
            html.contains(&format!("href=\"../../files/{name}#sha256=")),
            "{html}"
        );
    }
}

#[test]
fn the_project_page_without_its_slash_redirects_and_unknown_projects_are_404() {
    let (name, bytes) = host_wheel();
    let index = PythonIndex::builder().wheel(&name, bytes).start();
    let bare = get(&format!("{}/{PROJECT}", index.url()), &[]);
    assert_eq!(bare.status, 301);
    assert_eq!(bare.header("location"), project_url(&index));
    let unknown = get(&format!("{}/not-codex/", index.url()), &[]);
    assert_eq!(unknown.status, 404);
    assert_eq!(index.requests_per_path().len(), 2);
}

#[test]
fn basic_auth_is_required_on_every_path_of_the_index() {
    let (name, bytes) = host_wheel();
    let index = PythonIndex::builder()
        .wheel(&name, bytes.clone())
        .basic_auth("alice", "s3cret")
        .start();
    let good = basic_auth_header("alice", "s3cret");
    let bad = basic_auth_header("alice", "wrong");
    for url in [project_url(&index), index.file_url(&name)] {
        let none = get(&url, &[]);
        assert_eq!(none.status, 401, "{url}");
        assert_eq!(none.header("www-authenticate"), "Basic realm=\"index\"");
        assert_eq!(get(&url, &[("Authorization", &bad)]).status, 401, "{url}");
        assert_eq!(get(&url, &[("Authorization", &good)]).status, 200, "{url}");
    }
    let unknown = format!("{}/not-codex/", index.url());
    assert_eq!(get(&unknown, &[]).status, 401);
    assert_eq!(get(&unknown, &[("Authorization", &good)]).status, 404);
    assert_eq!(
        get(&index.file_url(&name), &[("Authorization", &good)]).body,
        bytes
    );
    index.assert_credentials_stayed_on_the_index();
}

#[test]
fn files_on_another_host_need_no_credentials_and_record_any_that_arrive() {
    let (name, bytes) = host_wheel();
    let index = PythonIndex::builder()
        .wheel(&name, bytes.clone())
        .basic_auth("alice", "s3cret")
        .files_on_another_host()
        .relative_urls(true)
        .start();
    let good = basic_auth_header("alice", "s3cret");
    let json = get(
        &project_url(&index),
        &[("Accept", pyindex::ACCEPT), ("Authorization", &good)],
    )
    .json();
    let file_url = json["files"][0]["url"].as_str().unwrap().to_string();
    assert_eq!(
        file_url,
        index.file_url(&name),
        "absolute, on the file host"
    );
    assert_ne!(index.file_server().addr(), index.server().addr());
    assert_eq!(get(&file_url, &[]).body, bytes);
    assert_eq!(index.downloads(&name), 1);
    assert_eq!(index.file_host_requests().len(), 1);
    index.assert_credentials_stayed_on_the_index();

    // A leak is caught.
    get(&file_url, &[("Authorization", &good)]);
    let leak = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        index.assert_credentials_stayed_on_the_index()
    }));
    assert!(leak.is_err(), "credentials on the file host went unnoticed");
}

#[test]
fn a_tampered_wheel_keeps_its_listed_hash_and_size() {
    let (name, bytes) = host_wheel();
    let index = PythonIndex::builder()
        .wheel(&name, bytes.clone())
        .tamper(&name)
        .start();
    let json = get(&project_url(&index), &[("Accept", pyindex::ACCEPT)]).json();
    assert_eq!(
        json["files"][0]["hashes"]["sha256"],
        index.sha256(&name).as_str()
    );
    let served = get(&index.file_url(&name), &[]).body;
    assert_eq!(served.len(), bytes.len());
    assert_ne!(sha256_hex(&served), index.sha256(&name));
}

// ---------------------------------------------------------------------------------------------
// The npm registry

fn host_platform() -> &'static str {
    npm::npm_platform(host_target())
}

fn host_tarball(version: &str) -> Vec<u8> {
    npm_tarball(version, host_target(), &Package::codex(version))
}

#[test]
fn the_packument_lists_platform_and_main_versions_with_their_integrity() {
    let tgz = host_tarball(V);
    let registry = NpmRegistry::builder()
        .tarball(V, host_platform(), tgz.clone())
        .tarball(V, "darwin-arm64", b"another platform".to_vec())
        .start();
    let doc = get(
        &format!("{}@openai%2fcodex", registry.url()),
        &[("Accept", npm::ACCEPT)],
    );
    assert_eq!(doc.status, 200);
    assert_eq!(doc.header("content-type"), npm::CORGI_TYPE);
    let json = doc.json();
    assert_eq!(json["name"], "@openai/codex");
    assert_eq!(json["dist-tags"]["latest"], V);
    let key = format!("{V}-{}", host_platform());
    let version = &json["versions"][&key];
    assert_eq!(version["name"], "@openai/codex");
    assert_eq!(version["version"], key.as_str());
    let (os, cpu) = host_platform().split_once('-').unwrap();
    assert_eq!(version["os"], serde_json::json!([os]));
    assert_eq!(version["cpu"], serde_json::json!([cpu]));
    let tarball = version["dist"]["tarball"].as_str().unwrap();
    assert_eq!(tarball, registry.tarball_url(V, host_platform()));
    assert!(tarball.ends_with(&format!("/@openai/codex/-/codex-{key}.tgz")));
    let served = get(tarball, &[]).body;
    assert_eq!(served, tgz);
    assert_eq!(
        version["dist"]["integrity"],
        npm::integrity(&served).as_str()
    );
    assert_eq!(version["dist"]["shasum"], npm::sha1_hex(&served).as_str());

    let main = &json["versions"][V];
    assert_eq!(
        main["optionalDependencies"][format!("@openai/codex-{}", host_platform())],
        format!("npm:@openai/codex@{key}").as_str()
    );
    let main_tgz = get(main["dist"]["tarball"].as_str().unwrap(), &[]).body;
    assert_eq!(
        main["dist"]["integrity"],
        npm::integrity(&main_tgz).as_str()
    );
    let names = tar_names(&main_tgz);
    assert!(
        names.contains(&"package/package.json".to_string()),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n.contains("vendor")), "{names:?}");
    assert_eq!(registry.packument_requests(), 1);
    assert_eq!(registry.downloads(V, host_platform()), 1);
}

#[test]
fn the_full_packument_for_plain_json_and_every_spelling_of_the_name() {
    let registry = NpmRegistry::builder()
        .tarball(V, host_platform(), host_tarball(V))
        .tarball("0.170.0", host_platform(), host_tarball("0.170.0"))
        .dist_tag("latest", V)
        .dist_tag("next", "0.170.0")
        .start();
    for spelling in ["@openai%2fcodex", "@openai%2Fcodex", "@openai/codex"] {
        let doc = get(
            &format!("{}{spelling}", registry.url()),
            &[("Accept", "application/json")],
        );
        assert_eq!(doc.status, 200, "{spelling}");
        assert_eq!(doc.header("content-type"), "application/json");
        let json = doc.json();
        assert_eq!(json["_id"], "@openai/codex");
        assert_eq!(json["dist-tags"]["latest"], V);
        assert_eq!(json["dist-tags"]["next"], "0.170.0");
        assert!(
            json["versions"][format!("0.170.0-{}", host_platform())].is_object(),
            "{json}"
        );
    }
    assert_eq!(registry.packument_requests(), 3);
    assert_eq!(
        get(&format!("{}@openai%2fnot-codex", registry.url()), &[]).status,
        404
    );
}

#[test]
fn a_prefixed_registry_serves_everything_under_its_prefix() {
    let tgz = host_tarball(V);
    let registry = NpmRegistry::builder()
        .prefix("/npm/")
        .tarball(V, host_platform(), tgz.clone())
        .start();
    assert!(registry.url().ends_with("/npm/"), "{}", registry.url());
    assert_eq!(registry.packument_path(), "/npm/@openai%2fcodex");
    let json = get(
        &format!("{}@openai%2fcodex", registry.url()),
        &[("Accept", npm::ACCEPT)],
    )
    .json();
    let tarball = json["versions"][format!("{V}-{}", host_platform())]["dist"]["tarball"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(tarball.contains("/npm/@openai/codex/-/"), "{tarball}");
    assert_eq!(get(&tarball, &[]).body, tgz);
    let root = get(
        &format!("{}@openai%2fcodex", registry.url().trim_end_matches("npm/")),
        &[],
    );
    assert_eq!(root.status, 404, "nothing outside the prefix");
    assert!(registry.nerf_dart().ends_with("/npm/"));
}

#[test]
fn wrong_integrity_and_corrupted_bytes_are_what_they_say() {
    let tgz = host_tarball(V);
    let registry = NpmRegistry::builder()
        .tarball(V, host_platform(), tgz.clone())
        .tarball(V, "darwin-arm64", b"mac".to_vec())
        .wrong_integrity(V, host_platform())
        .corrupt(V, "darwin-arm64")
        .start();
    let json = get(
        &format!("{}@openai%2fcodex", registry.url()),
        &[("Accept", npm::ACCEPT)],
    )
    .json();
    let listed = &json["versions"][format!("{V}-{}", host_platform())]["dist"]["integrity"];
    assert_ne!(listed, npm::integrity(&tgz).as_str());
    assert_eq!(
        get(&registry.tarball_url(V, host_platform()), &[]).body,
        tgz
    );
    assert_eq!(registry.integrity(V, host_platform()), npm::integrity(&tgz));

    let mac = &json["versions"][format!("{V}-darwin-arm64")]["dist"]["integrity"];
    assert_eq!(mac, npm::integrity(b"mac").as_str());
    let served = get(&registry.tarball_url(V, "darwin-arm64"), &[]).body;
    assert_eq!(served.len(), 3);
    assert_ne!(served, b"mac");
}

#[test]
fn a_bearer_token_is_required_on_the_packument_and_the_tarballs() {
    let registry = NpmRegistry::builder()
        .tarball(V, host_platform(), host_tarball(V))
        .bearer_token("npm_SECRET")
        .start();
    for url in [
        format!("{}@openai%2fcodex", registry.url()),
        registry.tarball_url(V, host_platform()),
    ] {
        assert_eq!(get(&url, &[]).status, 401, "{url}");
        assert_eq!(
            get(&url, &[("Authorization", "Bearer wrong")]).status,
            401,
            "{url}"
        );
        assert_eq!(
            get(&url, &[("Authorization", "Bearer npm_SECRET")]).status,
            200,
            "{url}"
        );
    }
    let wrong = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        registry.assert_token_arrived()
    }));
    assert!(wrong.is_err(), "a wrong token went unnoticed");
    let only_right = NpmRegistry::builder()
        .tarball(V, host_platform(), host_tarball(V))
        .bearer_token("npm_SECRET")
        .start();
    get(&format!("{}@openai%2fcodex", only_right.url()), &[]);
    get(
        &format!("{}@openai%2fcodex", only_right.url()),
        &[("Authorization", "Bearer npm_SECRET")],
    );
    only_right.assert_token_arrived();
}

#[test]
fn sha1_matches_the_fips_vectors() {
    assert_eq!(
        npm::sha1_hex(b""),
        "da39a3ee5e6b4b0d3255bfef95601890afd80709"
    );
    assert_eq!(
        npm::sha1_hex(b"abc"),
        "a9993e364706816aba3e25717850c26c9cd0d89d"
    );
    assert_eq!(
        npm::sha1_hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
    );
    assert_eq!(
        npm::sha1_hex(&vec![b'a'; 1_000_000]),
        "34aa973cd4c4daa4f61eeb2bdbad27316534016f"
    );
}

// ---------------------------------------------------------------------------------------------
// The fixtures

/// Each central-directory record of a zip: (name, unix mode), in order, duplicates kept (the
/// zip crate keys entries by name, so it cannot show them).
fn zip_central_directory(zip: &[u8]) -> Vec<(String, u32)> {
    let u16_at = |i: usize| u16::from_le_bytes([zip[i], zip[i + 1]]) as usize;
    let u32_at = |i: usize| u32::from_le_bytes([zip[i], zip[i + 1], zip[i + 2], zip[i + 3]]);
    let eocd = zip.len() - 22;
    assert_eq!(u32_at(eocd), 0x0605_4b50, "end of central directory");
    let mut at = u32_at(eocd + 16) as usize;
    (0..u16_at(eocd + 10))
        .map(|_| {
            assert_eq!(u32_at(at), 0x0201_4b50, "central directory record");
            let name_len = u16_at(at + 28);
            let skip = name_len + u16_at(at + 30) + u16_at(at + 32);
            let mode = u32_at(at + 38) >> 16;
            let name = String::from_utf8_lossy(&zip[at + 46..at + 46 + name_len]).into_owned();
            at += 46 + skip;
            (name, mode)
        })
        .collect()
}

#[test]
fn a_wheel_is_a_valid_zip_with_modes_and_a_matching_record() {
    let (name, bytes) = host_wheel();
    assert_eq!(
        name,
        format!("openai_codex_cli_bin-{V}-py3-none-{}.whl", host_wheel_tag())
    );
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.clone())).unwrap();
    let mut members = HashMap::new();
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap(); // checks each CRC
        members.insert(
            f.name().unwrap().to_string(),
            (data, f.unix_mode().unwrap()),
        );
    }
    let dist_info = format!("openai_codex_cli_bin-{V}.dist-info");
    for (path, mode) in [
        ("codex_cli_bin/__init__.py", 0o100644),
        ("codex_cli_bin/codex-package.json", 0o100644),
        ("codex_cli_bin/bin/codex", 0o100755),
        ("codex_cli_bin/codex-resources/bwrap", 0o100755),
    ] {
        assert_eq!(members[path].1, mode, "{path}");
    }
    let wheel_meta = String::from_utf8(members[&format!("{dist_info}/WHEEL")].0.clone()).unwrap();
    assert!(
        wheel_meta.contains(&format!("Tag: py3-none-{}\n", host_wheel_tag())),
        "{wheel_meta}"
    );
    let metadata = String::from_utf8(members[&format!("{dist_info}/METADATA")].0.clone()).unwrap();
    assert!(metadata.contains(&format!("Version: {V}\n")), "{metadata}");
    let record = String::from_utf8(members[&format!("{dist_info}/RECORD")].0.clone()).unwrap();
    let mut recorded = 0;
    for line in record.lines() {
        let fields: Vec<&str> = line.rsplitn(3, ',').collect();
        let (size, hash, path) = (fields[0], fields[1], fields[2]);
        if path.ends_with("/RECORD") {
            assert_eq!((hash, size), ("", ""));
            continue;
        }
        let data = &members[path].0;
        assert_eq!(hash, format!("sha256={}", record_hash(data)), "{path}");
        assert_eq!(size, data.len().to_string(), "{path}");
        recorded += 1;
    }
    assert_eq!(recorded + 1, members.len(), "RECORD lists every member");
    assert_eq!(zip_central_directory(&bytes).len(), members.len());

    // Python's own zipfile agrees.
    let python = command_runs("python3", &["--version"]);
    if require("`python3` on PATH, for the zipfile cross-check", python).is_none() {
        return;
    }
    let (_dir, path) = write_temp(&name, &bytes);
    let py = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(len(z.namelist()))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        py.status.success(),
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&py.stdout).trim(),
        members.len().to_string()
    );
}

fn write_temp(name: &str, bytes: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    (dir, path)
}

#[test]
fn the_fixture_wheel_passes_the_products_layout_checks() {
    let (name, bytes) = host_wheel();
    let (_dir, path) = write_temp(&name, &bytes);
    let ctx = TestContext::new();
    let out = ctx.run([
        "install",
        "--json",
        "--archive",
        path.to_str().unwrap(),
        "--sha256",
        &sha256_hex(&bytes),
    ]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let version = std::process::Command::new(json["path"].as_str().unwrap())
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("codex-cli {V}"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn hostile_wheels_hold_what_they_promise() {
    let pkg = Package::codex(V);
    let dup = wheel_with_duplicate(V, host_wheel_tag(), &pkg, "codex-resources/bwrap");
    let names: Vec<String> = zip_central_directory(&dup)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| *n == "codex_cli_bin/codex-resources/bwrap")
            .count(),
        2,
        "{names:?}"
    );
    let traversal = wheel_with_traversal(V, host_wheel_tag(), &pkg);
    let names: Vec<String> = zip_central_directory(&traversal)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert!(names.contains(&WHEEL_ESCAPE.to_string()), "{names:?}");
}

/// (raw name, entry type, mode, link target) of each member of a `.tgz`.
fn tar_entries(tgz: &[u8]) -> Vec<(String, tar::EntryType, u32, Option<String>)> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tgz));
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                String::from_utf8_lossy(&e.path_bytes()).into_owned(),
                h.entry_type(),
                h.mode().unwrap(),
                e.link_name_bytes()
                    .map(|l| String::from_utf8_lossy(&l).into_owned()),
            )
        })
        .collect()
}

fn tar_names(tgz: &[u8]) -> Vec<String> {
    tar_entries(tgz).into_iter().map(|e| e.0).collect()
}

#[test]
fn an_npm_tarball_holds_the_package_under_vendor() {
    let tgz = host_tarball(V);
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&tgz[..]));
    let mut files = HashMap::new();
    for e in archive.entries().unwrap() {
        let mut e = e.unwrap();
        let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
        let mode = e.header().mode().unwrap();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        files.insert(name, (data, mode));
    }
    let vendor = format!("package/vendor/{}", host_target());
    let package_json: serde_json::Value =
        serde_json::from_slice(&files["package/package.json"].0).unwrap();
    assert_eq!(package_json["name"], "@openai/codex");
    assert_eq!(
        package_json["version"],
        format!("{V}-{}", host_platform()).as_str()
    );
    assert!(files.contains_key("package/README.md"));
    let meta: serde_json::Value =
        serde_json::from_slice(&files[&format!("{vendor}/codex-package.json")].0).unwrap();
    assert_eq!(meta["version"], V);
    assert_eq!(meta["target"], host_target());
    assert_eq!(files[&format!("{vendor}/bin/codex")].1 & 0o777, 0o755);
    assert_eq!(
        files
            .keys()
            .filter(|k| !k.starts_with(&format!("{vendor}/")))
            .count(),
        2,
        "package.json and README.md beside vendor/: {:?}",
        files.keys()
    );
}

#[test]
fn hostile_npm_tarballs_hold_what_they_promise() {
    let pkg = Package::codex(V);
    let traversal = npm_tarball_with_traversal(V, host_target(), &pkg);
    assert!(tar_names(&traversal).contains(&npm_escape(host_target())));
    let link = npm_tarball_with_escaping_symlink(V, host_target(), &pkg);
    let escape = tar_entries(&link)
        .into_iter()
        .find(|e| e.1 == tar::EntryType::Symlink)
        .expect("a symlink entry");
    assert!(escape
        .0
        .starts_with(&format!("package/vendor/{}/", host_target())));
    assert!(escape.3.unwrap().starts_with("../../../../"));
}

/// What real private registries (devpi behind devpi-lockdown's nginx front, verdaccio, squid;
/// tests/private_registries/) showed we got wrong, each checked here against the loopback
/// stand-ins so a plain `cargo test` keeps it fixed.
mod what_real_registries_taught {
    use std::process::{Command, Output};

    use base64::Engine as _;

    use crate::common::{assert_exit, describe, host_target, stderr, stdout, TestContext, V};
    use crate::fixture::{host_wheel_tag, npm_tarball, wheel, wheel_name, Package};
    use crate::support::http::{Response, TestServer};
    use crate::support::npm::{npm_platform, NpmRegistry};
    use crate::support::pyindex::{basic_auth_header, PythonIndex};

    const USER: &str = "fleet";
    const PASSWORD: &str = "s3cret-index-pw";

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    fn host_wheel() -> (String, Vec<u8>) {
        (
            wheel_name(V, host_wheel_tag()),
            wheel(V, host_wheel_tag(), &Package::codex(V)),
        )
    }

    /// An index that, like devpi-lockdown's nginx front, answers a request without the right
    /// Basic credentials with a redirect to `/+login`, a 200 HTML page with links of its own.
    fn index_behind_a_login_front() -> PythonIndex {
        let (name, bytes) = host_wheel();
        let index = PythonIndex::builder().wheel(&name, bytes).start();
        let login = format!("{}/+login", index.server().url());
        let expected = basic_auth_header(USER, PASSWORD);
        index.server().gate(move |r| {
            if r.path == "/+login" {
                return Some(
                    Response::new(
                        200,
                        "<!doctype html><html><head><title>devpi - Login</title>\
                         <link rel=\"stylesheet\" href=\"/+static/style.css\"/></head>\
                         <body><a href=\"/\">devpi</a><form method=\"post\"></form></body></html>",
                    )
                    .header("content-type", "text/html"),
                );
            }
            (r.headers.get("authorization") != Some(&expected))
                .then(|| Response::new(302, Vec::new()).header("location", &login))
        });
        index
    }

    fn install(ctx: &TestContext, source: &str) -> Command {
        let mut cmd = ctx.cmd(["install", "--source", source]);
        cmd.env_remove("CODEX_BOOTSTRAP_INDEX_URL")
            .env_remove("CODEX_BOOTSTRAP_NPM_REGISTRY");
        cmd
    }

    fn run(cmd: &mut Command) -> Output {
        cmd.output().expect("run codex-bootstrap")
    }

    #[track_caller]
    fn assert_says(out: &Output, needles: &[&str]) {
        let err = stderr(out);
        for n in needles {
            assert!(err.contains(n), "`{n}` missing:\n{}", describe(out));
        }
    }

    #[test]
    fn a_wrong_password_redirected_to_a_login_page_is_an_auth_failure() {
        let ctx = TestContext::new();
        let index = index_behind_a_login_front();
        let out = run(install(&ctx, "python-index").env(
            "PIP_INDEX_URL",
            index.url_with_credentials(USER, "wrong-pw"),
        ));
        assert_exit(&out, 1);
        assert_says(&out, &["login page", "rejected", "PIP_INDEX_URL"]);
        assert!(!stderr(&out).contains("has no"), "{}", describe(&out));
        assert!(!stderr(&out).contains("wrong-pw"), "{}", describe(&out));

        // No credentials at all: the same page, and the hint asks for them.
        let out = run(install(&ctx, "python-index").env("PIP_INDEX_URL", index.url()));
        assert_exit(&out, 1);
        assert_says(
            &out,
            &[
                "login page",
                "none were given",
                "give the index's credentials",
            ],
        );

        // The right ones pass the front.
        let out = run(install(&ctx, "python-index")
            .env("PIP_INDEX_URL", index.url_with_credentials(USER, PASSWORD)));
        assert_exit(&out, 0);
    }

    #[test]
    fn a_refused_password_says_rejected_and_a_missing_one_says_give() {
        let ctx = TestContext::new();
        let (name, bytes) = host_wheel();
        let index = PythonIndex::builder()
            .wheel(&name, bytes)
            .basic_auth(USER, PASSWORD)
            .start();
        let out = run(install(&ctx, "python-index")
            .env("PIP_INDEX_URL", index.url_with_credentials(USER, "nope")));
        assert_exit(&out, 1);
        assert_says(&out, &["HTTP 401", "rejected", "fix the user and password"]);
        let out = run(install(&ctx, "python-index").env("PIP_INDEX_URL", index.url()));
        assert_exit(&out, 1);
        assert_says(
            &out,
            &[
                "HTTP 401",
                "none were given",
                "give the index's credentials",
            ],
        );
    }

    #[test]
    fn index_url_in_pip_conf_install_section_is_used_and_beats_global() {
        let ctx = TestContext::new();
        let (name, bytes) = host_wheel();
        let index = PythonIndex::builder().wheel(&name, bytes).start();
        let decoy = PythonIndex::builder().start();
        // The user's file has [global]; the site's (lower) has [install]: pip takes [install].
        let user = ctx.root().join("xdg-config/pip");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::write(
            user.join("pip.conf"),
            format!("[global]\nindex-url = {}\n", decoy.url()),
        )
        .unwrap();
        let venv = ctx.root().join("venv");
        std::fs::create_dir_all(&venv).unwrap();
        std::fs::write(
            venv.join("pip.conf"),
            format!("[install]\nindex-url = {}\n", index.url()),
        )
        .unwrap();
        let out = run(install(&ctx, "python-index")
            .env("VIRTUAL_ENV", &venv)
            .arg("-v"));
        assert_exit(&out, 0);
        assert_eq!(index.downloads(&name), 1);
        assert!(
            decoy.requests().is_empty(),
            "{:?}",
            decoy.requests_per_path()
        );
        assert_says(&out, &["[install]"]);
    }

    fn npm_registry_requiring_basic() -> NpmRegistry {
        let platform = npm_platform(host_target());
        let npm = NpmRegistry::builder()
            .tarball(
                V,
                platform,
                npm_tarball(V, host_target(), &Package::codex(V)),
            )
            .start();
        let expected = basic_auth_header(USER, PASSWORD);
        npm.server().gate(move |r| {
            (r.headers.get("authorization") != Some(&expected)).then(|| {
                Response::new(401, "{\"error\":\"authorization required\"}")
                    .header("content-type", "application/json")
            })
        });
        npm
    }

    #[test]
    fn npmrc_auth_base64_user_password_reaches_the_registry() {
        let ctx = TestContext::new();
        let npm = npm_registry_requiring_basic();
        std::fs::write(
            ctx.work_dir().join(".npmrc"),
            format!(
                "registry={}/\n{}:_auth={}\n",
                npm.url(),
                npm.nerf_dart(),
                b64(&format!("{USER}:{PASSWORD}"))
            ),
        )
        .unwrap();
        let out = run(&mut install(&ctx, "npm"));
        assert_exit(&out, 0);
        assert!(!stderr(&out).contains(PASSWORD));
    }

    #[test]
    fn npmrc_username_and_base64_password_reach_the_registry() {
        let ctx = TestContext::new();
        let npm = npm_registry_requiring_basic();
        let dart = npm.nerf_dart();
        std::fs::write(
            ctx.work_dir().join(".npmrc"),
            format!(
                "@openai:registry={}/\n{dart}:username={USER}\n{dart}:_password={}\n",
                npm.url(),
                b64(PASSWORD)
            ),
        )
        .unwrap();
        let out = run(&mut install(&ctx, "npm"));
        assert_exit(&out, 0);

        // A wrong one is rejected, and the hint names the .npmrc line.
        std::fs::write(
            ctx.work_dir().join(".npmrc"),
            format!(
                "registry={}/\n{dart}:username={USER}\n{dart}:_password={}\n",
                npm.url(),
                b64("wrong")
            ),
        )
        .unwrap();
        let fresh = TestContext::new();
        std::fs::copy(
            ctx.work_dir().join(".npmrc"),
            fresh.work_dir().join(".npmrc"),
        )
        .unwrap();
        let out = run(&mut install(&fresh, "npm"));
        assert_exit(&out, 1);
        assert_says(&out, &["HTTP 401", "rejected", ".npmrc"]);
    }

    /// A proxy that refuses everything with 407, as squid does without the right credentials.
    fn refusing_proxy() -> TestServer {
        let proxy = TestServer::start();
        proxy.gate(|_| {
            Some(
                Response::new(407, "<html>Cache Access Denied</html>")
                    .header("proxy-authenticate", "Basic realm=\"proxy\"")
                    .header("content-type", "text/html"),
            )
        });
        proxy
    }

    #[test]
    fn a_proxy_407_on_plain_http_is_the_proxy_s_answer_not_the_index_s() {
        let ctx = TestContext::new();
        let (name, bytes) = host_wheel();
        let index = PythonIndex::builder().wheel(&name, bytes).start();
        let proxy = refusing_proxy();
        let proxy_url = format!("http://squid-user:proxy-pw-9@{}", proxy.addr());
        let out = run(install(&ctx, "python-index")
            .env("PIP_INDEX_URL", index.url())
            .env("HTTP_PROXY", &proxy_url));
        assert_exit(&out, 1);
        assert_says(
            &out,
            &[
                &format!("the proxy `http://{}`", proxy.addr()),
                "HTTP 407",
                "rejected",
                "HTTP_PROXY",
            ],
        );
        assert!(
            !stderr(&out).contains("check `--index-url`"),
            "{}",
            describe(&out)
        );
        assert!(!stderr(&out).contains("proxy-pw-9"), "{}", describe(&out));
        assert!(index.requests().is_empty(), "the proxy stood between");

        // Without proxy credentials the hint asks for them.
        let out = run(install(&ctx, "python-index")
            .env("PIP_INDEX_URL", index.url())
            .env("HTTP_PROXY", format!("http://{}", proxy.addr())));
        assert_exit(&out, 1);
        assert_says(
            &out,
            &[
                "HTTP 407",
                "none were given",
                "give the proxy's user and password",
            ],
        );
    }

    #[test]
    fn doctor_calls_a_refused_index_an_authentication_problem() {
        let ctx = TestContext::new();
        let (name, bytes) = host_wheel();
        let index = PythonIndex::builder()
            .wheel(&name, bytes)
            .basic_auth(USER, PASSWORD)
            .start();
        let out = run(ctx
            .cmd(["doctor", "--json", "--source", "python-index"])
            .env(
                "CODEX_BOOTSTRAP_INDEX_URL",
                index.url_with_credentials(USER, "nope"),
            ));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", describe(&out)));
        let check = report["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["id"] == "network"))
            .unwrap_or_else(|| panic!("no network check: {report}"))
            .clone();
        assert_eq!(check["status"], "warn", "{check}");
        let summary = check["summary"].as_str().unwrap_or_default();
        let hint = check["hint"].as_str().unwrap_or_default();
        assert!(
            summary.contains("authentication failed") && summary.contains("401"),
            "{check}"
        );
        assert!(
            hint.contains("rejected") && hint.contains("netrc"),
            "{check}"
        );
        assert!(!hint.contains("offline"), "{check}");
        assert!(!stdout(&out).contains("nope") && !stderr(&out).contains("nope"));
    }

    #[test]
    fn verbose_names_codex_bootstrap_index_url_as_the_origin() {
        let ctx = TestContext::new();
        let (name, bytes) = host_wheel();
        let index = PythonIndex::builder().wheel(&name, bytes).start();
        let out = run(ctx
            .cmd(["install", "--source", "python-index", "-v"])
            .env("CODEX_BOOTSTRAP_INDEX_URL", index.url()));
        assert_exit(&out, 0);
        assert_says(&out, &["from=CODEX_BOOTSTRAP_INDEX_URL"]);
        assert!(
            !stderr(&out).contains("from=--index-url"),
            "{}",
            describe(&out)
        );
        let ctx = TestContext::new();
        let out = run(ctx
            .cmd(["install", "--source", "python-index", "-v", "--index-url"])
            .arg(index.url())
            .env_remove("CODEX_BOOTSTRAP_INDEX_URL"));
        assert_exit(&out, 0);
        assert_says(&out, &["from=--index-url"]);
    }

    #[test]
    fn pin_records_the_wheel_size_from_an_html_index() {
        let ctx = TestContext::new();
        let (name, bytes) = host_wheel();
        let size = bytes.len() as i64;
        // PEP 503 HTML gives no sizes (devpi's pages); the wheel is the only archive, so it is
        // the one downloaded and hashed.
        let index = PythonIndex::builder()
            .wheel(&name, bytes)
            .json(false)
            .start();
        let out = run(ctx
            .cmd(["pin", V, "--source", "python-index"])
            .env("CODEX_BOOTSTRAP_INDEX_URL", index.url()));
        assert_exit(&out, 0);
        let text = std::fs::read_to_string(ctx.work_dir().join("codex-runtime.toml")).unwrap();
        let manifest: toml::Value = toml::from_str(&text).unwrap();
        let wheel = &manifest["targets"][host_target()]["wheel"];
        assert_eq!(wheel["file"].as_str(), Some(name.as_str()), "{text}");
        assert_eq!(wheel["size"].as_integer(), Some(size), "{text}");

        // With npm first, bin/codex is hashed from the tarball; the wheel is downloaded to
        // check its bin/codex against it, and sized as it is read.
        let ctx = TestContext::new();
        let platform = npm_platform(host_target());
        let npm = NpmRegistry::builder()
            .tarball(
                V,
                platform,
                npm_tarball(V, host_target(), &Package::codex(V)),
            )
            .start();
        let out = run(ctx
            .cmd(["pin", V, "--source", "npm,python-index"])
            .env("CODEX_BOOTSTRAP_INDEX_URL", index.url())
            .env("CODEX_BOOTSTRAP_NPM_REGISTRY", npm.url()));
        assert_exit(&out, 0);
        let file = index.server().requests_to(&index.file_path(&name));
        let whole = |r: &&crate::support::http::RecordedRequest| !r.headers.contains_key("range");
        assert_eq!(
            file.iter().filter(whole).count(),
            2,
            "the wheel was downloaded once above and once here"
        );
        let text = std::fs::read_to_string(ctx.work_dir().join("codex-runtime.toml")).unwrap();
        let manifest: toml::Value = toml::from_str(&text).unwrap();
        let t = &manifest["targets"][host_target()];
        assert_eq!(t["wheel"]["size"].as_integer(), Some(size), "{text}");
        assert!(t["npm"]["size"].as_integer().is_some(), "{text}");
        // Sized by the download: no ranged request for its length.
        assert!(
            file.iter().all(|r| !r.headers.contains_key("range")),
            "{:?}",
            index.requests_per_path()
        );
    }
}
