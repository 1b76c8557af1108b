//! Where the runtime comes from: this host's platform, and the pin.

use crate::error::Hint;
use crate::pin::{CodexVersion, Pin, PinVia};
use crate::platform::Target;

use super::Check;

/// platform: this host's target, and whether Codex publishes a runtime for it.
pub(crate) fn platform(target: Result<&Target, &crate::platform::PlatformError>) -> Check {
    let host = format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH);
    match target {
        Ok(t) if t.is_host() => Check::ok("platform", format!("{host} -> {t}")),
        Ok(t) => Check::ok(
            "platform",
            format!("{host}; checking target {t} (not this host: it will not be run)"),
        ),
        Err(e) => Check::fail("platform", e.to_string(), e.hint().unwrap_or_default()),
    }
}

/// pin: the version and where it came from; SDK and runtime pins that disagree.
pub(crate) fn pin(pin: &Pin, version: Option<&CodexVersion>) -> Check {
    let v = version.map_or_else(|| "latest".to_string(), |v| v.to_string());
    let check = Check::ok("pin", format!("codex {v} from {}", pin.source));
    if let Some(project) = &pin.project {
        if let PinVia::Python {
            dist,
            other: Some((other_dist, other)),
        } = &project.via
        {
            if other != &project.version {
                return Check::warn(
                    "pin",
                    format!(
                        "{} pins {dist}=={} but {other_dist}=={}",
                        project.file.display(),
                        project.version.pep440(),
                        other.pep440()
                    ),
                    format!(
                        "the SDK requires its runtime at its own version: pin both to the same version in `{}`",
                        project.file.display()
                    ),
                )
                .detail(format!("using codex {v} from {}", pin.source));
            }
        }
    }
    check
}
