//! Where the runtime comes from: this host's platform, and the pin.

use crate::error::Hint;
use crate::platform::Target;
use crate::provision::PinResolution;

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

/// pin: the version and where it came from, as `install` resolves it. Pins that conflict fail
/// with the error `install` stops on; every pin found but not used, or that cannot apply, is a
/// warning with its fix.
pub(crate) fn pin(pins: &PinResolution) -> Check {
    let v = pins
        .version
        .as_ref()
        .map_or_else(|| "latest".to_string(), |v| v.to_string());
    let using = format!("codex {v} from {}", pins.source);
    if let Some(e) = &pins.conflict {
        // The error `install` gives, its first line as the summary and the pins below.
        let text = e.to_string();
        let (first, rest) = text.split_once('\n').unwrap_or((&text, ""));
        let mut detail: Vec<&str> = rest.lines().map(str::trim).collect();
        let using = format!("`install` refuses to install {}", using);
        detail.push(&using);
        return Check::fail("pin", first, e.hint().unwrap_or_default()).detail(detail.join("\n"));
    }
    if pins.warnings.is_empty() {
        return Check::ok("pin", using);
    }
    let mut hints: Vec<&str> = Vec::new();
    for w in &pins.warnings {
        if !hints.contains(&w.hint.as_str()) {
            hints.push(&w.hint);
        }
    }
    let detail: Vec<&str> = pins.warnings.iter().map(|w| w.message.as_str()).collect();
    Check::warn(
        "pin",
        format!("{using}; {} pin(s) found but not used", pins.warnings.len()),
        hints.join("; "),
    )
    .detail(detail.join("\n"))
}
