//! Node lock files (`package-lock.json`/`npm-shrinkwrap.json`, `pnpm-lock.yaml`, `yarn.lock`
//! v1 and berry, `bun.lock`), read as `install --node` reads them. The input is the files
//! joined with `==> NAME <==` lines (text before the first is `package-lock.json`). Whatever
//! they hold: no panic, every platform package read is one of the platforms npm publishes, at
//! a version the file spells, and an integrity is read only where the file spells one and
//! the lock does not say it pins none.
#![no_main]
#[path = "common/mod.rs"]
mod common;

use codex_bootstrap::node::read_locks;
use libfuzzer_sys::fuzz_target;

const FILES: &[&str] = &["npm-shrinkwrap.json", "package-lock.json", "pnpm-lock.yaml", "yarn.lock", "bun.lock"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(tmp) = tempfile::tempdir() else { return };
    let mut written = std::collections::HashMap::new();
    for (name, body) in common::sections(text, "package-lock.json") {
        if FILES.contains(&name) {
            std::fs::write(tmp.path().join(name), &body).unwrap();
            written.insert(name.to_string(), body);
        }
    }
    for l in read_locks(tmp.path()) {
        let name = l.file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let body = written.get(&name).unwrap_or_else(|| panic!("read {name}, which was not written"));
        for p in &l.platforms {
            assert!(codex_bootstrap::node::PLATFORMS.contains(&p.platform.as_str()), "{}", p.platform);
            let spelled = format!("{}-{}", p.version, p.platform);
            assert!(body.contains(&spelled), "{spelled} is not in {name}");
            if p.integrity.is_some() {
                assert!(l.no_integrity.is_none(), "{name} {spelled}: an integrity in a lock that says it pins none");
                assert!(body.contains("sha512-"), "{name} {spelled}: an integrity the file does not spell");
            }
        }
    }
});
