//! The guide's tested examples: every `console` block of `tests/cmd/*.md` is run with trycmd
//! (the command, its output, `? N` its exit code when not 0; `[..]` matches the rest of a
//! line) and must print what the block shows. The guide includes these files verbatim
//! (`docs/src/reference/examples.md`, and pages that show one), so a renamed flag or a changed
//! message fails here, not in front of a reader. After an intended change:
//! `TRYCMD=overwrite cargo test --test examples`, then review the diff.
//!
//! Hermetic: a store, a home and configuration directories of the test's own; nothing the
//! examples run touches the network (`--dry-run` plans without requests for a pinned version).
//! Its own test binary, with one test, so the variables below can be removed from the process
//! before anything else runs.

/// Variables of the machine that would change what the examples print.
const SCRUBBED_PREFIXES: &[&str] = &["CODEX_BOOTSTRAP_", "GH_", "GITHUB_", "CODEX_", "OPENAI_"];
const SCRUBBED: &[&str] = &[
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "no_proxy",
    "VIRTUAL_ENV",
    "NO_COLOR",
    "CLICOLOR",
    "CLICOLOR_FORCE",
    "PIP_INDEX_URL",
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "npm_config_registry",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "COLUMNS",
];

#[test]
fn the_guide_examples_print_what_they_show() {
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy().into_owned();
        if SCRUBBED.contains(&key.as_str()) || SCRUBBED_PREFIXES.iter().any(|p| key.starts_with(p))
        {
            std::env::remove_var(&key);
        }
    }
    let home = tempfile::tempdir().expect("a temporary home");
    let path = |p: &str| home.path().join(p).to_string_lossy().into_owned();
    trycmd::TestCases::new()
        .register_bin(
            "codex-bootstrap",
            std::path::PathBuf::from(env!("CARGO_BIN_EXE_codex-bootstrap")),
        )
        .env("HOME", path("home"))
        .env("XDG_DATA_HOME", path("data"))
        .env("XDG_CACHE_HOME", path("cache"))
        .env("XDG_CONFIG_HOME", path("config"))
        .env("CODEX_BOOTSTRAP_HOME", path("store"))
        .env("CODEX_BOOTSTRAP_BIN_DIR", path("bin"))
        .env("npm_config_globalconfig", path("npmrc"))
        .case("tests/cmd/*.md");
}
