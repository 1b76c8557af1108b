//! Requirements files (`requirements*.txt`, as pip reads them) and the PEP 508 subset that finds
//! an exact pin of the runtime or the SDK in a requirement string (shared with `pyproject.toml`).
//!
//! pip's lexer, as far as pins go: a line ending in `\` continues on the next, comments are
//! removed, `-r FILE` includes another file (relative to the including one), and a requirement's
//! `--hash` options are the digests pip would accept for it. Every other option line is ignored.

use std::path::{Path, PathBuf};

use super::{Found, LockedWheel, PinProblem, PinWarning, RUNTIME_DIST, SDK_DIST};
use crate::pin::version::CodexVersion;
use crate::verify::Sha256;

/// A requirement of a requirements file: where it starts, its PEP 508 text, and its `--hash`
/// values, each with the line of its option.
struct Requirement {
    file: PathBuf,
    line: usize,
    req: String,
    hashes: Vec<(usize, String)>,
}

/// Pins in a requirements file and the files it includes.
pub(super) fn read(file: &Path, warnings: &mut Vec<PinWarning>) -> Vec<Found> {
    let mut reqs = Vec::new();
    collect(file, None, &mut reqs, &mut Vec::new(), warnings);
    reqs.iter()
        .filter_map(|r| {
            let hashes: Vec<(usize, &str)> =
                r.hashes.iter().map(|(l, h)| (*l, h.as_str())).collect();
            pin_in_requirement(&r.file, Some(r.line), &r.req, &hashes, warnings)
        })
        .collect()
}

/// Requirements of `file`, following `-r` / `--requirement` (relative to the including file),
/// each file once. `included_from` names the line that included `file`, which a warning about
/// an unreadable include points at.
fn collect(
    file: &Path,
    included_from: Option<(&Path, usize)>,
    out: &mut Vec<Requirement>,
    seen: &mut Vec<PathBuf>,
    warnings: &mut Vec<PinWarning>,
) {
    let canonical = file.canonicalize().unwrap_or_else(|_| file.to_path_buf());
    if seen.contains(&canonical) {
        return;
    }
    seen.push(canonical);
    let text = match std::fs::read_to_string(file) {
        Ok(text) => text,
        Err(e) => {
            warnings.push(match included_from {
                Some((from, line)) => PinWarning {
                    file: from.to_path_buf(),
                    line: Some(line),
                    problem: PinProblem::Include {
                        path: file.to_path_buf(),
                        reason: e.to_string(),
                    },
                },
                None => PinWarning {
                    file: file.to_path_buf(),
                    line: None,
                    problem: PinProblem::Unreadable(e.to_string()),
                },
            });
            return;
        }
    };
    // Windows editors may start the file with a byte order mark; pip skips it too.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    for logical in logical_lines(text) {
        match entry(&logical.text) {
            Entry::Include(rel) => {
                let path = file.parent().unwrap_or(Path::new(".")).join(rel);
                collect(&path, Some((file, logical.line)), out, seen, warnings);
            }
            Entry::Requirement { req, hashes } => out.push(Requirement {
                file: file.to_path_buf(),
                line: logical.line,
                req,
                hashes: hashes
                    .into_iter()
                    .map(|(at, hash)| (logical.line_of(at), hash.to_string()))
                    .collect(),
            }),
            Entry::Other => {}
        }
    }
}

/// One of pip's logical lines: physical lines joined where one ends in `\`, comment removed.
#[derive(Debug)]
struct LogicalLine {
    /// The 1-based number of its first physical line.
    line: usize,
    text: String,
    /// Where in `text` each physical line after the first begins.
    breaks: Vec<usize>,
}

impl LogicalLine {
    /// The 1-based physical line that holds byte `offset` of `text`.
    fn line_of(&self, offset: usize) -> usize {
        self.line + self.breaks.partition_point(|&b| b <= offset)
    }

    /// Cut the comment off, once the line is complete.
    fn finish(mut self) -> LogicalLine {
        let end = strip_comment(&self.text).len();
        self.text.truncate(end);
        self
    }
}

/// pip's logical lines: a line ending in `\` continues on the next, a comment line ends a
/// continuation, and comments (`#` at the start or after whitespace) are removed. This is the
/// shape `uv export` and `pip-compile --generate-hashes` write:
///
/// ```text
/// openai-codex-cli-bin==0.163.0 ; python_version >= "3.10" \
///     --hash=sha256:75b7… \
///     --hash=sha256:e810…
///     # via openai-codex
/// ```
fn logical_lines(text: &str) -> Vec<LogicalLine> {
    let mut out = Vec::new();
    let mut pending: Option<LogicalLine> = None;
    for (i, raw) in text.lines().enumerate() {
        let mut logical = match pending.take() {
            Some(mut logical) => {
                logical.breaks.push(logical.text.len());
                logical
            }
            None => LogicalLine {
                line: i + 1,
                text: String::new(),
                breaks: Vec::new(),
            },
        };
        let is_comment = raw.trim_start().starts_with('#');
        match raw.trim_end().strip_suffix('\\') {
            Some(head) if !is_comment => {
                logical.text.push_str(head);
                logical.text.push(' ');
                pending = Some(logical);
            }
            _ => {
                logical.text.push_str(raw);
                out.push(logical.finish());
            }
        }
    }
    // A file that ends inside a continuation: pip takes what it has.
    out.extend(pending.map(LogicalLine::finish));
    out
}

/// The line up to its comment: `#` at the start or after whitespace (so a URL's `#sha256=`
/// fragment stays).
fn strip_comment(line: &str) -> &str {
    let mut after_space = true;
    for (i, c) in line.char_indices() {
        if c == '#' && after_space {
            return &line[..i];
        }
        after_space = c.is_whitespace();
    }
    line
}

/// What a logical line of a requirements file is, as far as pins go.
#[derive(Debug, PartialEq, Eq)]
enum Entry<'a> {
    /// `-r FILE`, `-rFILE`, `--requirement FILE`, `--requirement=FILE`.
    Include(&'a str),
    /// A requirement and its `--hash` values (`sha256:HEX`, as written), each with the offset
    /// in the line of its `--hash` option.
    Requirement {
        req: String,
        hashes: Vec<(usize, &'a str)>,
    },
    /// Blank lines and every other option line (`-e .`, `--index-url …`, `-c FILE`, …).
    Other,
}

fn entry(line: &str) -> Entry<'_> {
    let mut tokens = tokens(line);
    let Some((_, first)) = tokens.next() else {
        return Entry::Other;
    };
    if first.starts_with('-') {
        let include = first.strip_prefix("--requirement").or_else(|| {
            first
                .strip_prefix("-r")
                .filter(|_| !first.starts_with("--"))
        });
        return match include.map(|rest| rest.strip_prefix('=').unwrap_or(rest)) {
            Some("") => tokens
                .next()
                .map_or(Entry::Other, |(_, path)| Entry::Include(path)),
            Some(path) => Entry::Include(path),
            None => Entry::Other,
        };
    }
    // pip's rule: the requirement runs up to the first token that is an option; the rest are
    // per-requirement options, of which only `--hash` matters here.
    let mut req = vec![first];
    let mut hashes = Vec::new();
    let mut in_options = false;
    while let Some((at, token)) = tokens.next() {
        if let Some(value) = token.strip_prefix("--hash") {
            in_options = true;
            match value.strip_prefix('=') {
                Some(v) => hashes.push((at, v)),
                None if value.is_empty() => hashes.extend(tokens.next().map(|(_, v)| (at, v))),
                None => {}
            }
        } else if token.starts_with('-') {
            in_options = true;
        } else if !in_options {
            req.push(token);
        }
    }
    Entry::Requirement {
        req: req.join(" "),
        hashes,
    }
}

/// The whitespace-separated tokens of `line`, each with its byte offset.
fn tokens(line: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut end = 0;
    std::iter::from_fn(move || {
        let start = end + line[end..].find(|c: char| !c.is_whitespace())?;
        end = line[start..]
            .find(char::is_whitespace)
            .map_or(line.len(), |len| start + len);
        Some((start, &line[start..end]))
    })
}

/// The pin in one requirement string, if it pins the runtime or the SDK exactly. `hashes` are
/// the requirement's `--hash` values with their lines: for the runtime, they become its wheel
/// pins. Warnings point at `line`, where the requirement starts.
pub(super) fn pin_in_requirement(
    file: &Path,
    line: Option<usize>,
    req: &str,
    hashes: &[(usize, &str)],
    warnings: &mut Vec<PinWarning>,
) -> Option<Found> {
    let (dist, spec) = exact_pin(req)?;
    let mut warn = |problem| {
        warnings.push(PinWarning {
            file: file.to_path_buf(),
            line,
            problem,
        })
    };
    let Ok(version) = CodexVersion::parse(&spec) else {
        warn(PinProblem::BadVersion { dist, spec });
        return None;
    };
    let mut wheels = Vec::new();
    if dist == RUNTIME_DIST {
        for &(hash_line, hash) in hashes {
            match Sha256::parse(hash) {
                Ok(sha256) => wheels.push(LockedWheel {
                    filename: None,
                    url: None,
                    sha256,
                    size: None,
                    line: Some(hash_line),
                }),
                Err(_) => warn(PinProblem::BadHash {
                    dist,
                    hash: hash.to_string(),
                }),
            }
        }
    }
    Some(Found::new(file, dist, version, wheels))
}

/// The runtime or the SDK, by a distribution name as written (PEP 503: case and runs of `-_.`
/// do not matter); `None` for every other distribution.
pub(super) fn codex_dist(name: &str) -> Option<&'static str> {
    match normalize_name(name).as_str() {
        RUNTIME_DIST => Some(RUNTIME_DIST),
        SDK_DIST => Some(SDK_DIST),
        _ => None,
    }
}

/// PEP 503 name normalisation: lowercase, runs of `-_.` become `-`.
pub(super) fn normalize_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// `openai-codex-cli-bin[x] == 0.163.0 ; python_version >= "3.10"` -> (dist, "0.163.0").
/// Only exact pins (`==` / `===`) count: a range does not name one runtime.
fn exact_pin(req: &str) -> Option<(&'static str, String)> {
    let req = req.split(';').next()?.split('#').next()?.trim();
    let name_end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    let dist = codex_dist(&req[..name_end])?;
    let mut rest = req[name_end..].trim_start();
    if rest.starts_with('[') {
        rest = rest[rest.find(']')? + 1..].trim_start();
    }
    let spec = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))?
        .trim();
    if spec.is_empty() || spec.contains(',') || spec.contains('*') {
        return None;
    }
    Some((dist, spec.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirement_strings() {
        let cases = [
            (
                "openai-codex-cli-bin==0.163.0",
                Some((RUNTIME_DIST, "0.163.0")),
            ),
            (
                "OpenAI_Codex.CLI-bin == 0.154.0a6 ; python_version>='3.10'",
                Some((RUNTIME_DIST, "0.154.0a6")),
            ),
            ("openai-codex[extra]===0.163.0", Some((SDK_DIST, "0.163.0"))),
            ("openai-codex>=0.163.0", None),
            ("openai-codex==0.163.*", None),
            ("openai-codexx==0.163.0", None),
            ("openai==1.0.0", None),
        ];
        for (req, want) in cases {
            let got = exact_pin(req);
            assert_eq!(got.as_ref().map(|(d, s)| (*d, s.as_str())), want, "{req}");
        }
    }

    #[test]
    fn logical_lines_join_continuations_and_drop_comments() {
        let text = "# header \\\n\
                    openai-codex==0.163.0 ; python_version >= \"3.9\" \\\n    \
                    --hash=sha256:aa \\\n    \
                    --hash=sha256:bb\n    \
                    # via -r requirements.in\n\
                    pkg @ https://host.test/pkg-1.0.whl#sha256=cc  # a direct URL\n\
                    left==1 \\\n    \
                    # a comment ends the continuation\n\
                    tail==2 \\";
        let got = logical_lines(text);
        let want = [
            (1, ""),
            (
                2,
                "openai-codex==0.163.0 ; python_version >= \"3.9\"      --hash=sha256:aa      --hash=sha256:bb",
            ),
            (5, ""),
            (6, "pkg @ https://host.test/pkg-1.0.whl#sha256=cc"),
            (7, "left==1"),
            (9, "tail==2"),
        ];
        let lines: Vec<(usize, &str)> = got.iter().map(|l| (l.line, l.text.trim())).collect();
        assert_eq!(lines, want);
        // Each byte of a joined line knows its physical line.
        let joined = &got[1];
        let line_of = |needle: &str| joined.line_of(joined.text.find(needle).unwrap());
        assert_eq!(
            [
                line_of("openai"),
                line_of("sha256:aa"),
                line_of("sha256:bb")
            ],
            [2, 3, 4]
        );
    }

    #[test]
    fn requirement_entries() {
        let req = |req: &str, hashes: &[&'static str]| Entry::Requirement {
            req: req.to_string(),
            hashes: hashes.iter().map(|h| (0, *h)).collect(),
        };
        // The offsets are checked by `hashes_know_the_line_of_their_option`.
        let without_offsets = |e: Entry<'static>| match e {
            Entry::Requirement { req, hashes } => Entry::Requirement {
                req,
                hashes: hashes.into_iter().map(|(_, h)| (0, h)).collect(),
            },
            other => other,
        };
        let cases = [
            ("-r base.txt", Entry::Include("base.txt")),
            ("-rbase.txt", Entry::Include("base.txt")),
            ("--requirement=base.txt", Entry::Include("base.txt")),
            ("--requirement base.txt", Entry::Include("base.txt")),
            ("-r", Entry::Other),
            ("-e .", Entry::Other),
            ("-c constraints.txt", Entry::Other),
            ("--index-url http://127.0.0.1:3141/simple/", Entry::Other),
            ("--extra-index-url http://127.0.0.1:3141/x/", Entry::Other),
            ("--require-hashes", Entry::Other),
            ("", Entry::Other),
            (
                "openai-codex-cli-bin==0.163.0 ; python_version >= \"3.9\" --hash=sha256:aa --hash sha256:bb",
                req(
                    "openai-codex-cli-bin==0.163.0 ; python_version >= \"3.9\"",
                    &["sha256:aa", "sha256:bb"],
                ),
            ),
            (
                "openai-codex==0.163.0 --config-settings key=value --hash=sha256:aa",
                req("openai-codex==0.163.0", &["sha256:aa"]),
            ),
        ];
        for (line, want) in cases {
            assert_eq!(without_offsets(entry(line)), want, "{line}");
        }
    }

    #[test]
    fn tokens_carry_their_offsets() {
        let line = "  a==1\t--hash sha256:bb  ";
        let got: Vec<(usize, &str)> = tokens(line).collect();
        assert_eq!(got, [(2, "a==1"), (7, "--hash"), (14, "sha256:bb")]);
        assert_eq!(tokens(" \t ").count(), 0);
    }

    #[test]
    fn hashes_know_the_line_of_their_option() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("requirements.txt");
        let (a, b, c) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
        std::fs::write(
            &file,
            format!(
                "# locked\nopenai-codex-cli-bin==0.163.0 --hash=sha256:{a} \\\n    --hash \\\n    sha256:{b} \\\n    # via demo\n\nopenai-codex-cli-bin==0.163.0 --hash=sha256:{c}\n"
            ),
        )
        .unwrap();
        let mut warnings = Vec::new();
        let found = read(&file, &mut warnings);
        assert!(warnings.is_empty(), "{warnings:?}");
        let lines: Vec<Vec<(Option<usize>, Sha256)>> = found
            .iter()
            .map(|f| {
                let wheels = &f.wheels.as_ref().unwrap().wheels;
                wheels.iter().map(|w| (w.line, w.sha256)).collect()
            })
            .collect();
        let sha = |hex: &str| Sha256::parse(hex).unwrap();
        // `--hash` and its value on two lines: the option's line counts.
        assert_eq!(
            lines,
            [
                vec![(Some(2), sha(&a)), (Some(3), sha(&b))],
                vec![(Some(7), sha(&c))],
            ]
        );
    }
}
