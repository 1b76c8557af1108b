//! The network: every source a runtime could come from answers, and the proxy and root
//! certificates in effect.

use std::time::Duration;

use crate::error::Hint;
use crate::provision::{Context, Online};

use super::{Check, Status};

/// network: each source reachable (the GitHub API with its rate limit, the Python index, npm,
/// the mirror), and the proxy and CA in effect. Impatient: short timeouts, one attempt.
pub fn network(ctx: &Context) -> Check {
    let mut quick = ctx.settings.clone();
    quick.net.connect_timeout = quick.net.connect_timeout.min(5);
    quick.net.read_timeout = quick.net.read_timeout.min(5);
    quick.net.retries = 1;
    let quick_ctx = match Context::resolve(&quick) {
        Ok(c) => c,
        Err(e) => return Check::warn("network", format!("{e:#}"), "check the flags"),
    };
    let online = match Online::new(&quick_ctx) {
        Ok(o) => o,
        Err(e) => {
            return Check::warn(
                "network",
                format!("{e:#}"),
                "check SSL_CERT_FILE and the proxy variables",
            )
        }
    };
    let token = crate::net::Token::from_env().map(|(_, name)| name);
    let api = format!("{}/rate_limit", ctx.github.api_url);
    let Ok(url) = online.http.url(&api) else {
        return Check::warn(
            "network",
            format!("`{api}` is not an allowed URL"),
            "check `--github-api-url`",
        );
    };
    let settings = network_settings(&url, online.http.roots());
    let result = online.runtime.block_on(async {
        tokio::time::timeout(
            Duration::from_secs(10),
            online.http.get_small(&url, true, 1 << 20),
        )
        .await
    });
    let mut check = match result {
        Ok(Ok((200, _, body))) => {
            let remaining = serde_json::from_slice::<serde_json::Value>(&body)
                .ok()
                .and_then(|v| v.pointer("/resources/core/remaining").and_then(|r| r.as_u64()));
            let who = token.map_or("anonymous".to_string(), |t| format!("token from {t}"));
            match remaining {
                Some(0) => Check::warn(
                    "network",
                    format!("GitHub API reachable, but its rate limit is used up ({who})"),
                    "set GH_TOKEN, or pin digests with `codex-bootstrap pin` so install needs no API request",
                ),
                Some(n) => Check::ok("network", format!("GitHub API reachable, {n} requests left ({who})")),
                None => Check::ok("network", format!("GitHub API reachable ({who})")),
            }
        }
        Ok(Ok((status, _, _))) => Check::warn(
            "network",
            format!("GitHub API answered HTTP {status} at {api}"),
            "check `--github-api-url` and GH_TOKEN; pinned digests make the API unnecessary (`codex-bootstrap pin`)",
        ),
        Ok(Err(e)) => Check::warn("network", format!("GitHub API unreachable: {e}"), e.hint().unwrap_or_default()),
        Err(_) => Check::warn(
            "network",
            format!("GitHub API did not answer within 10s at {api}"),
            "check HTTPS_PROXY / NO_PROXY, or use a mirror (`--mirror URL`)",
        ),
    };
    let mut detail = settings;
    let (registries, any_registry, auth) = registries_reachable(&online, &quick_ctx);
    detail.push_str(&registries);
    if let Some((summary, hint)) = auth {
        // A registry that refuses the credentials fails installs from it, whatever GitHub said.
        check = Check::warn("network", format!("{summary} ({})", check.summary), hint);
    } else if check.status != Status::Ok && any_registry.is_some() {
        check = Check::ok(
            "network",
            format!(
                "{}; installs will use {}",
                check.summary,
                any_registry.unwrap_or_default()
            ),
        );
    }
    if let Some(mirror) = &ctx.mirror {
        let base = &mirror.download_base;
        let reachable = match crate::net::local_path(base) {
            Some(dir) => dir.is_dir(),
            None => online.http.url(base).ok().is_some_and(|u| {
                online.runtime.block_on(async {
                    tokio::time::timeout(
                        Duration::from_secs(10),
                        online.http.send(&u, online.http.get(&u)),
                    )
                    .await
                    .is_ok_and(|r| r.is_ok())
                })
            }),
        };
        detail.push_str(&format!(
            "; mirror {}: {}",
            crate::redact::DisplayUrl::new(base),
            if reachable {
                "reachable"
            } else {
                "UNREACHABLE"
            }
        ));
        if !reachable && check.status == Status::Ok {
            check = Check::warn(
                "network",
                format!("{}; the mirror is unreachable", check.summary),
                "check `--mirror` / CODEX_BOOTSTRAP_MIRROR",
            );
        }
    }
    if online.http.roots().is_bundled() {
        // Not a failure (the bundled roots work for public hosts), but a proxy that intercepts
        // TLS will not be trusted until its CA is where SSL_CERT_FILE / SSL_CERT_DIR point.
        check
            .summary
            .push_str("; TLS trusts the bundled Mozilla roots (the system store has none)");
    }
    check.detail(detail)
}

/// What a registry source said to the doctor's probe.
enum Answer {
    Reachable,
    Status(u16),
    /// It refused our credentials, or wanted some (401, 403, a login page, a proxy's 407):
    /// the reason and the hint naming the credential setting.
    Auth(String, String),
    Unreachable(String),
}

/// The registries the sources of `ctx` would use: one line each (where it was found and
/// whether it answers), the first reachable registry source, and the first authentication
/// problem (its summary and hint).
fn registries_reachable(
    online: &Online,
    ctx: &Context,
) -> (String, Option<String>, Option<(String, String)>) {
    use crate::sources::{npm, pyindex, reason_of, Location, SourceKind};
    let (python, npm_loc) = ctx.registries();
    let mut lines = String::new();
    let mut first = None;
    let mut auth = None;
    let http = &online.http;
    for kind in &ctx.order {
        let location = match kind {
            SourceKind::PythonIndex => python,
            SourceKind::Npm => npm_loc,
            _ => continue,
        };
        let line = match location {
            Location::Missing(reason) => format!("{kind}: not found ({reason})"),
            Location::Found(l) => {
                let answer = match kind {
                    // The project page itself, read as install reads it: an auth front that
                    // redirects a refused login to its login page answers 200 there.
                    SourceKind::PythonIndex => {
                        match within(online, pyindex::project_files(http, &l.url)) {
                            Ok(Ok(_)) => Answer::Reachable,
                            Ok(Err(e)) => index_answer(e),
                            Err(_) => Answer::Unreachable("no answer within 10s".into()),
                        }
                    }
                    _ => {
                        let probe = npm::packument_url(&l.url);
                        match http.url(&probe) {
                            Err(e) => Answer::Unreachable(e.to_string()),
                            Ok(u) => {
                                let sent = http.config.credentials.for_url(&u).is_some();
                                match within(online, http.send(&u, http.get(&u))) {
                                    Ok(Ok(r)) => match r.status().as_u16() {
                                        200 => Answer::Reachable,
                                        status @ (401 | 403) => {
                                            let e = npm::NpmError::Unauthorized {
                                                url: probe.into(),
                                                status,
                                                sent,
                                            };
                                            Answer::Auth(
                                                reason_of(&e),
                                                e.hint().unwrap_or_default(),
                                            )
                                        }
                                        status => Answer::Status(status),
                                    },
                                    Ok(Err(e @ crate::net::NetError::ProxyAuth { .. })) => {
                                        Answer::Auth(reason_of(&e), e.hint().unwrap_or_default())
                                    }
                                    Ok(Err(e)) => Answer::Unreachable(reason_of(&e)),
                                    Err(_) => Answer::Unreachable("no answer within 10s".into()),
                                }
                            }
                        }
                    }
                };
                let at = format!(
                    "{kind}: {} (from {})",
                    crate::redact::DisplayUrl::from(&l.url),
                    l.from
                );
                match answer {
                    Answer::Reachable => {
                        first.get_or_insert_with(|| kind.to_string());
                        format!("{at} reachable")
                    }
                    Answer::Status(status) => format!("{at} answered HTTP {status}"),
                    Answer::Auth(reason, hint) => {
                        auth.get_or_insert_with(|| {
                            (format!("{kind}: authentication failed: {reason}"), hint)
                        });
                        format!("{at} refused: {reason}")
                    }
                    Answer::Unreachable(e) => format!("{at} UNREACHABLE: {e}"),
                }
            }
        };
        lines.push_str("; ");
        lines.push_str(&line);
    }
    (lines, first, auth)
}

/// Run `fut` on the doctor's runtime, for at most 10 seconds.
fn within<T>(
    online: &Online,
    fut: impl std::future::Future<Output = T>,
) -> Result<T, tokio::time::error::Elapsed> {
    online
        .runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), fut).await })
}

/// The doctor's reading of an index error.
fn index_answer(e: crate::sources::pyindex::IndexError) -> Answer {
    use crate::net::NetError;
    use crate::sources::pyindex::IndexError;
    let reason = crate::sources::reason_of(&e);
    match &e {
        IndexError::Unauthorized { .. }
        | IndexError::LoginRedirect { .. }
        | IndexError::Net(NetError::ProxyAuth { .. }) => {
            Answer::Auth(reason, e.hint().unwrap_or_default())
        }
        IndexError::NoProject { .. } => Answer::Status(404),
        IndexError::Status { status, .. } => Answer::Status(*status),
        // It answered, with a page we could not read: reachable, and install will say more.
        IndexError::Malformed { .. } | IndexError::Hostile(_) => Answer::Reachable,
        IndexError::Net(_) => Answer::Unreachable(reason),
    }
}

/// The proxy and the root certificates in effect, for the network check's detail.
pub fn network_settings(url: &reqwest::Url, roots: &crate::net::client::Roots) -> String {
    let proxy = crate::net::client::proxy_for(url).unwrap_or_else(|| "none".into());
    format!("proxy: {proxy}; CA: {roots}")
}
