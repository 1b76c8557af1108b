//! `install --node`: a Node project whose `@openai/codex` lost its optional platform package
//! gets it back, where `@openai/codex`'s own resolution finds it, for npm's and pnpm's layouts;
//! lock files' integrities are pins; a second project shares the store's bytes.
//!
//! The projects are made by the tests: `@openai/codex` with its real `package.json` shape
//! (`optionalDependencies` on the platform packages) and `@openai/codex-sdk` depending on it.
//! Where `node` is on PATH, `resolve.cjs` does what the SDK does (resolve `@openai/codex` from
//! the SDK, then the platform package from `@openai/codex`'s real path) and runs the binary.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::*;
use crate::fixture::{npm_tarball, Package};
use crate::support::npm::{npm_platform, NpmRegistry};

fn platform() -> &'static str {
    npm_platform(host_target())
}

fn tarball() -> Vec<u8> {
    npm_tarball(V, host_target(), &Package::codex(V))
}

fn registry() -> NpmRegistry {
    NpmRegistry::builder()
        .tarball(V, platform(), tarball())
        .start()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn codex_package_json() -> String {
    let optional: serde_json::Map<String, serde_json::Value> = [
        "linux-x64",
        "linux-arm64",
        "darwin-x64",
        "darwin-arm64",
        "win32-x64",
        "win32-arm64",
    ]
    .iter()
    .map(|p| {
        (
            format!("@openai/codex-{p}"),
            format!("npm:@openai/codex@{V}-{p}").into(),
        )
    })
    .collect();
    serde_json::json!({
        "name": "@openai/codex", "version": V, "type": "module",
        "bin": {"codex": "bin/codex.js"}, "optionalDependencies": optional,
    })
    .to_string()
}

fn sdk_package_json() -> String {
    serde_json::json!({"name": "@openai/codex-sdk", "version": V, "dependencies": {"@openai/codex": V}})
        .to_string()
}

/// What the SDK does, in CommonJS: `@openai/codex` from the SDK, the platform package from
/// `@openai/codex`'s real path, `vendor/<triple>/codex-package.json` and `bin/codex`.
fn resolver() -> String {
    format!(
        r#"const {{ createRequire }} = require("module");
const path = require("path");
const fs = require("fs");
const {{ execFileSync }} = require("child_process");
const project = createRequire(path.join(process.cwd(), "package.json"));
const sdk = project.resolve("@openai/codex-sdk/package.json");
const codex = createRequire(sdk).resolve("@openai/codex/package.json");
const pkg = createRequire(codex).resolve("@openai/codex-{platform}/package.json");
const root = path.join(path.dirname(pkg), "vendor", "{triple}");
fs.statSync(path.join(root, "codex-package.json"));
process.stdout.write(execFileSync(path.join(root, "bin", "codex"), ["--version"]).toString());
"#,
        platform = platform(),
        triple = host_target()
    )
}

/// A project as `npm install --omit=optional @openai/codex-sdk` leaves it.
fn npm_project(root: &Path) {
    write(
        &root.join("package.json"),
        &format!(r#"{{"name":"app","dependencies":{{"@openai/codex-sdk":"{V}"}}}}"#),
    );
    let modules = root.join("node_modules/@openai");
    write(&modules.join("codex/package.json"), &codex_package_json());
    write(&modules.join("codex-sdk/package.json"), &sdk_package_json());
    write(&root.join("resolve.cjs"), &resolver());
}

/// The same with pnpm's layout: real directories under `node_modules/.pnpm/`, the SDK linked
/// at the top, `@openai/codex` linked beside the SDK inside its entry.
fn pnpm_project(root: &Path) -> PathBuf {
    write(
        &root.join("package.json"),
        &format!(r#"{{"name":"app","dependencies":{{"@openai/codex-sdk":"{V}"}}}}"#),
    );
    let store = root.join("node_modules/.pnpm");
    let codex = store.join(format!("@openai+codex@{V}/node_modules/@openai/codex"));
    write(&codex.join("package.json"), &codex_package_json());
    let sdk_entry = store.join(format!("@openai+codex-sdk@{V}/node_modules/@openai"));
    write(
        &sdk_entry.join("codex-sdk/package.json"),
        &sdk_package_json(),
    );
    std::os::unix::fs::symlink(
        format!("../../../@openai+codex@{V}/node_modules/@openai/codex"),
        sdk_entry.join("codex"),
    )
    .unwrap();
    std::fs::create_dir_all(root.join("node_modules/@openai")).unwrap();
    std::os::unix::fs::symlink(
        format!("../.pnpm/@openai+codex-sdk@{V}/node_modules/@openai/codex-sdk"),
        root.join("node_modules/@openai/codex-sdk"),
    )
    .unwrap();
    write(
        &root.join("node_modules/.modules.yaml"),
        "layoutVersion: 5\n",
    );
    write(&root.join("resolve.cjs"), &resolver());
    codex
        .parent()
        .unwrap()
        .join(format!("codex-{}", platform()))
}

fn install_node(ctx: &TestContext, npm: &NpmRegistry, dir: &Path, extra: &[&str]) -> Output {
    ctx.cmd(["install", "--json", "--node"])
        .arg(dir)
        .args(extra)
        .npm_registry(npm)
        .output()
        .unwrap()
}

/// The platform package is at `dir`, as npm lays it out, and runs.
#[track_caller]
fn assert_placed(dir: &Path) {
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("package.json")).unwrap()).unwrap();
    assert_eq!(doc["name"], "@openai/codex");
    assert_eq!(doc["version"], format!("{V}-{}", platform()));
    let vendor = dir.join("vendor").join(host_target());
    assert!(vendor.join("codex-package.json").is_file());
    let out = std::process::Command::new(vendor.join("bin/codex"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("codex-cli {V}")
    );
}

/// Where `node` is on PATH, the SDK's resolution finds the binary from the project.
fn assert_node_resolves(ctx: &TestContext, root: &Path) {
    let Some(()) = require("node on PATH", command_runs("node", &["--version"])) else {
        return;
    };
    let out = ctx
        .command("node")
        .arg("resolve.cjs")
        .current_dir(root)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert_eq!(stdout(&out).trim(), format!("codex-cli {V}"));
}

#[test]
fn an_npm_project_gets_the_platform_package_beside_codex() {
    let ctx = TestContext::new();
    let npm = registry();
    let root = ctx.root().join("app");
    npm_project(&root);
    let out = install_node(&ctx, &npm, &root.join("node_modules"), &[]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let dir = root.join(format!("node_modules/@openai/codex-{}", platform()));
    assert_eq!(json["node"]["package_dir"], dir.display().to_string());
    assert_eq!(json["node"]["action"], "installed");
    assert_eq!(json["node"]["package_manager"], "npm");
    assert!(
        json["pin_source"]
            .as_str()
            .unwrap()
            .contains("Node project"),
        "{json}"
    );
    assert_placed(&dir);
    assert_node_resolves(&ctx, &root);

    // Again: nothing to do.
    let out = install_node(&ctx, &npm, &root, &[]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["node"]["action"], "already-installed");
    assert_eq!(npm.downloads(V, platform()), 1);
}

#[test]
fn a_pnpm_project_gets_it_inside_codexs_pnpm_entry() {
    let ctx = TestContext::new();
    let npm = registry();
    let root = ctx.root().join("app");
    let expected = pnpm_project(&root);
    let out = install_node(&ctx, &npm, &root, &[]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["node"]["package_manager"], "pnpm");
    let expected = std::fs::canonicalize(expected.parent().unwrap())
        .unwrap()
        .join(expected.file_name().unwrap());
    assert_eq!(json["node"]["package_dir"], expected.display().to_string());
    assert_placed(&expected);
    assert!(
        !root
            .join(format!("node_modules/@openai/codex-{}", platform()))
            .exists(),
        "not at the top: @openai/codex does not resolve from there under pnpm"
    );
    assert_node_resolves(&ctx, &root);
    let c = doctor_node(&ctx, &root, &[]).expect("a node check");
    assert_eq!(c["status"], "ok", "{c}");
}

#[test]
fn a_second_project_shares_the_stores_bytes() {
    let ctx = TestContext::new();
    let npm = registry();
    let (a, b) = (ctx.root().join("a"), ctx.root().join("b"));
    npm_project(&a);
    pnpm_project(&b);
    for p in [&a, &b] {
        assert_exit(
            &install_node(&ctx, &npm, p, &["--link-mode", "hardlink"]),
            0,
        );
    }
    let rel = format!("vendor/{}/bin/codex", host_target());
    let ino = |p: PathBuf| std::fs::metadata(p).unwrap().ino();
    let store = ino(runtime_dir(&ctx, V).join("bin/codex"));
    let in_a = ino(a.join(format!("node_modules/@openai/codex-{}/{rel}", platform())));
    let in_b = ino(b.join(format!(
        "node_modules/.pnpm/@openai+codex@{V}/node_modules/@openai/codex-{}/{rel}",
        platform()
    )));
    assert_eq!((in_a, in_b), (store, store));
    assert_eq!(
        npm.downloads(V, platform()),
        1,
        "the second project was warm"
    );
}

#[test]
fn a_project_without_codex_is_told_what_to_install() {
    let ctx = TestContext::new();
    let npm = registry();
    let root = ctx.root().join("app");
    write(
        &root.join("package.json"),
        r#"{"dependencies":{"left-pad":"1.3.0"}}"#,
    );
    let out = install_node(&ctx, &npm, &root, &[]);
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("has no `@openai/codex`"), "{err}");
    assert!(err.contains("npm install @openai/codex-sdk"), "{err}");
    assert!(npm.requests().is_empty());
}

#[test]
fn another_version_than_the_projects_is_a_usage_error() {
    let ctx = TestContext::new();
    let npm = registry();
    let root = ctx.root().join("app");
    npm_project(&root);
    let out = install_node(&ctx, &npm, &root, &["0.162.0"]);
    assert_exit(&out, 2);
    assert!(
        stderr(&out).contains("not the 0.162.0 asked for"),
        "{}",
        describe(&out)
    );
}

/// Each lock format, written with `integrity` for the host's platform package.
fn lock_files(integrity: &str) -> Vec<(&'static str, String)> {
    let p = platform();
    vec![
        (
            "package-lock.json",
            serde_json::json!({"lockfileVersion": 3, "packages": {
                "": {"dependencies": {"@openai/codex-sdk": V}},
                "node_modules/@openai/codex": {"version": V},
                (format!("node_modules/@openai/codex-{p}")): {
                    "name": "@openai/codex", "version": format!("{V}-{p}"),
                    "integrity": integrity, "optional": true},
            }})
            .to_string(),
        ),
        (
            "pnpm-lock.yaml",
            format!("lockfileVersion: '9.0'\n\npackages:\n\n  '@openai/codex@{V}':\n    resolution: {{integrity: sha512-AAAA}}\n\n  '@openai/codex@{V}-{p}':\n    resolution: {{integrity: {integrity}}}\n    cpu: [x64]\n\nsnapshots:\n\n  '@openai/codex@{V}-{p}': {{}}\n"),
        ),
        (
            "yarn.lock",
            format!("# yarn lockfile v1\n\n\n\"@openai/codex-{p}@npm:@openai/codex@{V}-{p}\":\n  version \"{V}-{p}\"\n  resolved \"http://127.0.0.1:9/codex-{V}-{p}.tgz\"\n  integrity {integrity}\n"),
        ),
        (
            "bun.lock",
            format!("{{\n  \"lockfileVersion\": 1,\n  \"packages\": {{\n    \"@openai/codex-{p}\": [\"@openai/codex@{V}-{p}\", \"\", {{ \"os\": \"linux\" }}, \"{integrity}\"],\n  }}\n}}\n"),
        ),
    ]
}

#[test]
fn each_lock_formats_wrong_integrity_is_refused_naming_the_file() {
    let wrong = crate::support::npm::integrity(b"not the tarball");
    for (name, text) in lock_files(&wrong) {
        let ctx = TestContext::new();
        let npm = registry();
        let root = ctx.root().join("app");
        npm_project(&root);
        write(&root.join(name), &text);
        let out = install_node(&ctx, &npm, &root, &[]);
        assert_exit(&out, 1);
        let err = stderr(&out);
        assert!(
            err.contains(&root.join(name).display().to_string()),
            "{name}: {err}"
        );
        assert_eq!(
            npm.downloads(V, platform()),
            0,
            "{name}: refused before the download"
        );
        assert!(
            !root
                .join(format!("node_modules/@openai/codex-{}", platform()))
                .exists(),
            "{name}: nothing placed"
        );
    }
}

#[test]
fn each_lock_formats_integrity_pins_the_tarball() {
    let right = crate::support::npm::integrity(&tarball());
    for (name, text) in lock_files(&right) {
        let ctx = TestContext::new();
        let npm = registry();
        let root = ctx.root().join("app");
        npm_project(&root);
        write(&root.join(name), &text);
        let out = install_node(&ctx, &npm, &root, &[]);
        assert_exit(&out, 0);
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            json["node"]["lock_pins"][0],
            root.join(name).display().to_string(),
            "{name}: {json}"
        );
        assert!(
            json["checked"]
                .to_string()
                .contains(&root.join(name).display().to_string()),
            "{name}: {json}"
        );
    }
}

#[test]
fn a_tree_another_channel_served_is_checked_against_the_lock_by_npms_tarball() {
    let ctx = TestContext::new();
    let npm = registry();
    let github = crate::fixture::release_gz(
        V,
        Package::codex(V).tar_gz(),
        crate::support::github::DigestMode::Api,
    );
    assert_exit(&ctx.install(&github, &[]), 0);
    let root = ctx.root().join("app");
    npm_project(&root);
    // No lock: GitHub's verified tree is the project's runtime, nothing is fetched.
    let out = install_node(&ctx, &npm, &root, &[]);
    assert_exit(&out, 0);
    assert_eq!(npm.downloads(V, platform()), 0);
    // A lock pins the npm tarball: only its bytes can be checked against it.
    let right = crate::support::npm::integrity(&tarball());
    let (name, text) = lock_files(&right).remove(0);
    write(&root.join(name), &text);
    let out = install_node(&ctx, &npm, &root, &[]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["source"], "npm", "{json}");
    assert_eq!(npm.downloads(V, platform()), 1);
    assert_placed(&root.join(format!("node_modules/@openai/codex-{}", platform())));
}

#[test]
fn dry_run_names_the_placement_and_the_lock_and_touches_nothing() {
    let ctx = TestContext::new();
    let npm = registry();
    let root = ctx.root().join("app");
    npm_project(&root);
    let right = crate::support::npm::integrity(&tarball());
    let (name, text) = lock_files(&right).remove(0);
    write(&root.join(name), &text);
    let out = ctx
        .cmd(["install", "--dry-run", "--node"])
        .arg(&root)
        .npm_registry(&npm)
        .output()
        .unwrap();
    assert_exit(&out, 0);
    let text = stdout(&out);
    let dir = root.join(format!("node_modules/@openai/codex-{}", platform()));
    assert!(text.contains(&dir.display().to_string()), "{text}");
    assert!(text.contains("pinned by"), "{text}");
    assert!(
        text.contains("1. npm"),
        "only npm can be checked against the lock: {text}"
    );
    assert!(!text.contains("github"), "{text}");
    assert!(!dir.exists());
    assert_eq!(npm.downloads(V, platform()), 0);
}

#[test]
fn list_prune_and_uninstall_know_the_node_projects_placed_from_a_runtime() {
    let ctx = TestContext::new();
    let npm = registry();
    let root = ctx.root().join("app");
    npm_project(&root);
    let dir = root.join(format!("node_modules/@openai/codex-{}", platform()));
    assert_exit(
        &install_node(&ctx, &npm, &root, &["--link-mode", "symlink"]),
        0,
    );

    let out = ctx.cmd(["list", "--json"]).output().unwrap();
    assert_exit(&out, 0);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        rows[0]["node_projects"][0],
        dir.display().to_string(),
        "{rows}"
    );
    let out = ctx.cmd(["list"]).output().unwrap();
    assert!(
        stdout(&out).contains("placed in 1 Node project"),
        "{}",
        stdout(&out)
    );

    // The project symlinks into the runtime: neither prune nor uninstall takes it away.
    let out = ctx
        .cmd(["prune", "--keep", "0", "--version", "0.1.0"])
        .output()
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        stderr(&out).contains("Node projects symlink into it"),
        "{}",
        stderr(&out)
    );
    let out = ctx.cmd(["uninstall", V]).output().unwrap();
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains(&dir.display().to_string()),
        "{}",
        stderr(&out)
    );
    assert!(runtime_dir(&ctx, V).join("bin/codex").is_file());
    assert_placed(&dir);

    // Relinked by copy, it no longer needs the store: uninstall goes ahead, the project runs.
    let out = install_node(&ctx, &npm, &root, &["--link-mode", "copy"]);
    assert_exit(&out, 0);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["node"]["method"], "copy", "{json}");
    let out = ctx.cmd(["uninstall", V]).output().unwrap();
    assert_exit(&out, 0);
    assert!(!runtime_dir(&ctx, V).exists());
    assert!(
        !runtime_dir(&ctx, V).parent().unwrap().exists(),
        "no records left behind: {:?}",
        std::fs::read_dir(runtime_dir(&ctx, V).parent().unwrap())
            .map(|d| d.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
    );
    assert_placed(&dir);
}

/// `doctor --json --offline ARGS` from `cwd`: its `node` check, if it ran one.
fn doctor_node(ctx: &TestContext, cwd: &Path, args: &[&str]) -> Option<serde_json::Value> {
    let out = ctx
        .cmd(["doctor", "--json", "--offline"])
        .args(args)
        .current_dir(cwd)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "node")
        .cloned()
}

#[test]
fn doctor_checks_the_projects_platform_package_and_never_runs_one_that_differs() {
    let ctx = TestContext::new();
    let npm = registry();
    let root = ctx.root().join("app");
    npm_project(&root);
    let dir = root.join(format!("node_modules/@openai/codex-{}", platform()));
    let src = root.join("src");
    std::fs::create_dir_all(&src).unwrap();

    // Found from inside the project, without being named: the package is missing.
    let c = doctor_node(&ctx, &src, &[]).expect("a node check");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["summary"].as_str().unwrap().contains("does not find"),
        "{c}"
    );
    assert!(
        c["hint"].as_str().unwrap().contains("install --node"),
        "{c}"
    );

    assert_exit(
        &install_node(&ctx, &npm, &root, &["--link-mode", "copy"]),
        0,
    );
    let c = doctor_node(&ctx, &src, &[]).unwrap();
    assert_eq!(c["status"], "ok", "{c}");
    let summary = c["summary"].as_str().unwrap();
    assert!(summary.contains("match the store's receipt"), "{c}");
    assert!(summary.contains(&format!("codex-cli {V}")), "{c}");

    // A placed file changed (same size): refused before anything in the package runs.
    let vendor = dir.join("vendor").join(host_target());
    let marker = ctx.root().join("ran");
    let exe = vendor.join("bin/codex");
    let size = std::fs::metadata(&exe).unwrap().len() as usize;
    let mut script = format!("#!/bin/sh\ntouch '{}'\n#", marker.display()).into_bytes();
    script.resize(size, b'#');
    std::fs::write(&exe, script).unwrap();
    let c = doctor_node(&ctx, &ctx.work_dir(), &["--node", root.to_str().unwrap()]).unwrap();
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["summary"]
            .as_str()
            .unwrap()
            .contains("the store's receipt says"),
        "{c}"
    );
    assert!(c["hint"].as_str().unwrap().contains("--force"), "{c}");
    assert!(!marker.exists(), "doctor ran a binary it had not verified");

    // Another version than the project's @openai/codex.
    write(
        &dir.join("package.json"),
        &format!(
            r#"{{"name":"@openai/codex","version":"0.1.0-{}"}}"#,
            platform()
        ),
    );
    let c = doctor_node(&ctx, &root, &[]).unwrap();
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["summary"].as_str().unwrap().contains("version 0.1.0"),
        "{c}"
    );

    // Outside any Node project: no check, unless one is named.
    std::fs::create_dir_all(ctx.work_dir()).unwrap();
    assert!(doctor_node(&ctx, &ctx.work_dir(), &[]).is_none());
    let c = doctor_node(&ctx, &ctx.work_dir(), &["--node"]).unwrap();
    assert_eq!(c["status"], "fail", "{c}");
    assert!(
        c["summary"].as_str().unwrap().contains("no Node project"),
        "{c}"
    );
}
