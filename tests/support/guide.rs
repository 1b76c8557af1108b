//! The user guide (`docs/src/`, an mdBook) for tests that hold it to what the binary does:
//! a page read whole, or one section of it by its heading.

use std::path::Path;

/// The Markdown of `docs/src/{page}` (e.g. `json.md`, `reference/cli.md`).
pub fn page(page: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/src")
        .join(page);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read the guide's page {}: {e}", path.display()))
}

/// The section of `docs/src/{page}` under the heading whose text is `title` (any level), up to
/// the next heading of the same or a higher level; headings inside fenced blocks do not count.
pub fn section(page_name: &str, title: &str) -> String {
    let text = page(page_name);
    let mut fenced = false;
    let mut level = None;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        let heading = (!fenced)
            .then(|| {
                let hashes = line.len() - line.trim_start_matches('#').len();
                (hashes > 0 && line[hashes..].starts_with(' '))
                    .then(|| (hashes, line[hashes..].trim()))
            })
            .flatten();
        match (level, heading) {
            (None, Some((n, t))) if t == title => level = Some(n),
            (Some(n), Some((m, _))) if m <= n => break,
            (Some(_), _) => out.push(line),
            _ => {}
        }
    }
    assert!(
        level.is_some(),
        "docs/src/{page_name} has no heading `{title}`"
    );
    out.join("\n") + "\n"
}
