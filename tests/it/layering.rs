//! The shape of the tree, as ARCHITECTURE.md's code map promises it, where the compiler cannot
//! check it: library modules import each other without a cycle, and no command imports a
//! sibling command. (That the library never reaches up into the command line the compiler
//! checks: `cli`, `commands` and `ui` are the binary's modules, out of the library's reach.)
//! Read from the sources (test modules and comments left out), so a new `use` that breaks the
//! shape fails here with the file to fix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules of the binary (`src/main.rs`) rather than the library.
const FRONT: &[&str] = &["cli", "commands", "ui"];

/// `(module, file, the crate modules it names)` for every source file but `lib.rs`/`main.rs`.
fn sources() -> Vec<(String, PathBuf, BTreeSet<String>)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(&src).unwrap();
            let first = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy();
            let module = first.trim_end_matches(".rs").to_string();
            if module == "lib" || module == "main" {
                continue;
            }
            let code = code_of(&std::fs::read_to_string(&path).unwrap());
            out.push((module, rel.to_path_buf(), crate_refs(&code)));
        }
    }
    out.sort();
    out
}

/// The text without line comments and without its `#[cfg(test)] mod tests { .. }`.
fn code_of(text: &str) -> String {
    let mut text = text.to_string();
    if let Some(start) = text.find("#[cfg(test)]\nmod tests {") {
        // To the brace that closes the module (format strings' braces come in pairs).
        let mut depth = 0usize;
        let body = start + text[start..].find('{').unwrap();
        let end = text[body..]
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                depth == 0
            })
            .map_or(text.len(), |(i, _)| body + i + 1);
        text.replace_range(start..end, "");
    }
    text.lines()
        .map(|line| {
            // `//` that starts a comment: at the line's start or after a space (not `https://`).
            let cut = line
                .match_indices("//")
                .find(|(i, _)| *i == 0 || line[..*i].ends_with([' ', '\t']))
                .map_or(line.len(), |(i, _)| i);
            &line[..cut]
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first segment of every `crate::` path, groups (`crate::{a, b::c}`) included.
fn crate_refs(code: &str) -> BTreeSet<String> {
    path_refs(code, "crate::")
}

/// The first segment after every `prefix` (`crate::`, `super::`), groups included.
fn path_refs(code: &str, prefix: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.trim()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut refs = BTreeSet::new();
    for (i, _) in code.match_indices(prefix) {
        if code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Split the group's top level on commas.
            let (mut depth, mut item) = (0usize, String::new());
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        refs.insert(ident(&item));
                        item.clear();
                        continue;
                    }
                    _ => {}
                }
                item.push(c);
            }
            refs.insert(ident(&item));
        } else {
            refs.insert(ident(rest));
        }
    }
    refs.retain(|r| !r.is_empty());
    refs
}

#[test]
fn library_modules_import_each_other_without_a_cycle() {
    let files = sources();
    let modules: BTreeSet<String> = files
        .iter()
        .map(|(m, ..)| m.clone())
        .filter(|m| !FRONT.contains(&m.as_str()))
        .collect();
    // module -> the modules it imports, with the files that do.
    let mut edges: BTreeMap<&str, BTreeMap<&str, Vec<String>>> = BTreeMap::new();
    for (module, file, refs) in &files {
        if !modules.contains(module) {
            continue;
        }
        let out = edges.entry(module).or_default();
        for r in refs {
            if r != module && modules.contains(r) {
                out.entry(r).or_default().push(file.display().to_string());
            }
        }
    }
    // Depth-first search; a module met again while on the path closes a cycle.
    fn visit<'a>(
        m: &'a str,
        edges: &BTreeMap<&'a str, BTreeMap<&'a str, Vec<String>>>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<&'a str>> {
        if let Some(at) = path.iter().position(|p| *p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m);
            return Some(cycle);
        }
        if !done.insert(m) {
            return None;
        }
        path.push(m);
        for next in edges.get(m).into_iter().flat_map(|e| e.keys()) {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for m in &modules {
        if let Some(cycle) = visit(m, &edges, &mut Vec::new(), &mut done) {
            let why: Vec<String> = cycle
                .windows(2)
                .map(|w| format!("{} -> {} ({})", w[0], w[1], edges[w[0]][w[1]].join(", ")))
                .collect();
            panic!(
                "library modules import each other in a cycle:\n{}",
                why.join("\n")
            );
        }
    }
    // The check is only as good as the references it sees: `use` lines, and paths written out
    // in the code (provision names `crate::interrupt::…` only so).
    assert!(edges["provision"].contains_key("sources"), "{edges:#?}");
    assert!(edges["provision"].contains_key("interrupt"), "{edges:#?}");
}

#[test]
fn no_command_imports_a_sibling_command() {
    let commands_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/commands");
    let names: BTreeSet<String> = std::fs::read_dir(&commands_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| Some(p.file_stem()?.to_string_lossy().into_owned()))
        .filter(|n| n != "mod")
        .collect();
    let mut offending = Vec::new();
    for name in &names {
        let path = commands_dir.join(format!("{name}.rs"));
        let code = code_of(&std::fs::read_to_string(&path).unwrap());
        let siblings = path_refs(&code, "super::")
            .into_iter()
            .chain(path_refs(&code, "crate::commands::"));
        for other in siblings.filter(|o| o != name && names.contains(o)) {
            offending.push(format!("commands/{name}.rs imports the `{other}` command"));
        }
    }
    assert!(names.len() > 5, "{names:?}");
    assert!(offending.is_empty(), "{offending:#?}");
}
