//! `latest`: which version the channels publish as their newest.

use super::run::Session;
use super::{npm, pyindex, AllSourcesFailed, Failed, SourceError};
use crate::pin::CodexVersion;
use crate::plan::{self, Resolved, SourceKind};

/// What `latest` resolved to.
pub struct Latest {
    pub version: CodexVersion,
    pub resolved: Resolved,
}

/// `latest`: an OCI mirror's newest version tag when the mirror is one; else GitHub's latest
/// release when GitHub answers (it is the origin); otherwise the
/// higher of the index's newest stable version with a wheel for the target and npm's `latest`
/// dist-tag, both asked. The answer says which channels carry it.
pub async fn latest(
    session: &Session<'_>,
    order: &[SourceKind],
    api_url: &str,
    registries: &dyn plan::Registries,
    target: &crate::platform::Target,
    wheel_tags: &[String],
    oci_mirror: Option<&str>,
) -> Result<Latest, AllSourcesFailed> {
    let mut failures = Vec::new();
    let mut urls = Vec::new();
    // An OCI repository answers with what it holds: its newest version tag, asked first (a
    // fleet on a registry often reaches nothing else, and GitHub's latest may not be pushed).
    if let Some(reference) = oci_mirror.filter(|_| order.contains(&SourceKind::Mirror)) {
        match super::oci::newest_tag(session.http, reference).await {
            Ok((version, url)) => {
                urls.push(url);
                return Ok(Latest {
                    version,
                    resolved: Resolved {
                        from: "the OCI repository's newest version tag".into(),
                        urls,
                    },
                });
            }
            Err(e) => failures.push(Failed::of(SourceError::Oci(e)).at(SourceKind::Mirror)),
        }
    }
    if order
        .iter()
        .any(|k| matches!(k, SourceKind::Github | SourceKind::Mirror))
    {
        let url = crate::github::latest_url(api_url);
        urls.push(url.clone());
        match session.release(&url, "latest").await.and_then(|r| {
            CodexVersion::parse(&r.tag_name).map_err(|e| SourceError::Unserved(e.to_string()))
        }) {
            Ok(version) => {
                return Ok(Latest {
                    version,
                    resolved: Resolved {
                        from: "GitHub's latest release".into(),
                        urls,
                    },
                })
            }
            Err(e) => failures.push(Failed::of(e).at(SourceKind::Github)),
        }
    }
    let mut answers: Vec<(SourceKind, CodexVersion, bool)> = Vec::new();
    if order.contains(&SourceKind::PythonIndex) {
        match registries.python_index() {
            plan::Registry::Found { url, .. } => {
                let page = pyindex::project_url(url);
                urls.push(page.clone());
                let tags: Vec<&str> = wheel_tags.iter().map(String::as_str).collect();
                match session.page(&page).await {
                    Ok(files) => match pyindex::newest_stable(&files, &tags) {
                        Some(v) => answers.push((SourceKind::PythonIndex, v, true)),
                        None => failures.push(
                            Failed::unserved("the index has no stable wheel for this target")
                                .at(SourceKind::PythonIndex),
                        ),
                    },
                    Err(e) => failures.push(Failed::of(e).at(SourceKind::PythonIndex)),
                }
            }
            plan::Registry::Missing(reason) => {
                failures.push(Failed::unserved(reason.to_string()).at(SourceKind::PythonIndex))
            }
        }
    }
    if order.contains(&SourceKind::Npm) {
        match registries.npm() {
            plan::Registry::Found { url, .. } => {
                let url = npm::packument_url(url);
                urls.push(url.clone());
                match session.packument(&url).await {
                    Ok(p) => match p.latest() {
                        Some(v) => {
                            let carried = p.tarball(&v, target).is_some();
                            answers.push((SourceKind::Npm, v, carried))
                        }
                        None => failures.push(
                            Failed::unserved("the packument has no usable `latest` dist-tag")
                                .at(SourceKind::Npm),
                        ),
                    },
                    Err(e) => failures.push(Failed::of(e).at(SourceKind::Npm)),
                }
            }
            plan::Registry::Missing(reason) => {
                failures.push(Failed::unserved(reason.to_string()).at(SourceKind::Npm))
            }
        }
    }
    let Some(version) = answers.iter().map(|(_, v, _)| v.clone()).max() else {
        return Err(AllSourcesFailed {
            what: "resolve `latest`".into(),
            failures,
        });
    };
    let said = |kind: SourceKind| match kind {
        SourceKind::Npm => "npm's `latest` dist-tag",
        _ => "the newest stable version on the Python index",
    };
    let carriers: Vec<String> = answers
        .iter()
        .filter(|(_, v, _)| *v == version)
        .map(|(k, _, carried)| {
            let mut s = said(*k).to_string();
            if !carried {
                s.push_str(" (no tarball for this platform yet)");
            }
            s
        })
        .collect();
    let others: Vec<String> = answers
        .iter()
        .filter(|(_, v, _)| *v != version)
        .map(|(k, v, _)| format!("{} is {v}", said(*k)))
        .collect();
    let mut from = carriers.join(" and ");
    if !others.is_empty() {
        from.push_str(&format!("; {}", others.join(", ")));
    }
    Ok(Latest {
        version,
        resolved: Resolved { from, urls },
    })
}
