//! `pyproject.toml`: exact pins in `[project] dependencies`, `[project.optional-dependencies]`
//! and `[dependency-groups]` (PEP 735). A pyproject pins versions only, never digests.

use std::path::Path;

use super::requirements::pin_in_requirement;
use super::{line_at, read_toml, Found, PinProblem, PinWarning};

/// Pins in a `pyproject.toml`.
pub(super) fn read(path: &Path, warnings: &mut Vec<PinWarning>) -> Vec<Found> {
    let Some((text, doc)) = read_toml::<toml::Table>(path, PinProblem::NotToml, warnings) else {
        return Vec::new();
    };
    requirements(&doc)
        .iter()
        .filter_map(|req| {
            // The parsed table has no spans: the requirement's own text finds its line.
            let line = text.find(req.as_str()).map(|at| line_at(&text, at));
            pin_in_requirement(path, line, req, &[], warnings)
        })
        .collect()
}

/// Every requirement string of the project's dependencies, extras and dependency groups.
fn requirements(doc: &toml::Table) -> Vec<String> {
    let strings = |v: Option<&toml::Value>| -> Vec<String> {
        v.and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let project = doc.get("project").and_then(|p| p.as_table());
    if let Some(project) = project {
        out.extend(strings(project.get("dependencies")));
        if let Some(extras) = project
            .get("optional-dependencies")
            .and_then(|t| t.as_table())
        {
            for v in extras.values() {
                out.extend(strings(Some(v)));
            }
        }
    }
    if let Some(groups) = doc.get("dependency-groups").and_then(|t| t.as_table()) {
        for v in groups.values() {
            out.extend(strings(Some(v)));
        }
    }
    out
}
