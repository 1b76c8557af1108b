//! The Python pin files of a directory, read as pin discovery reads them: `pyproject.toml`,
//! `requirements*.txt` (with `-r` includes, `--hash`, continuations), `uv.lock`. The input is
//! the files joined with `==> NAME <==` lines (text before the first is `requirements.txt`).
//! Whatever the files hold: no panic, a bad line is a warning and never an error, the pin
//! found (if any) spells a version that reads back as itself, and every wheel pin names a
//! file of the project and locks at least one wheel.
#![no_main]
#[path = "common/mod.rs"]
mod common;

use codex_bootstrap::fuzzing::python_pin_in_dir;
use libfuzzer_sys::fuzz_target;

const NAMES: &[&str] = &["pyproject.toml", "requirements.txt", "requirements-dev.txt", "uv.lock"];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(tmp) = tempfile::tempdir() else { return };
    for (name, body) in common::sections(text, "requirements.txt") {
        // Only the names discovery reads; anything else would be a path of the fuzzer's choosing.
        if NAMES.contains(&name) {
            std::fs::write(tmp.path().join(name), body).unwrap();
        }
    }
    let (pin, _warnings) = python_pin_in_dir(tmp.path());
    let pin = pin.expect("Python pin files give warnings, never errors");
    if let Some(pin) = pin {
        let again = codex_bootstrap::pin::CodexVersion::parse(&pin.version.to_string()).expect("a pinned version reads back");
        assert_eq!(again, pin.version);
        for w in &pin.wheel_pins {
            assert!(w.file.starts_with(tmp.path()), "{} is outside the project", w.file.display());
            assert!(!w.wheels.is_empty());
        }
    }
});
