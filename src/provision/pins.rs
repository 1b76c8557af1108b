//! The one pin resolution every command shares: the version and where it came from, every pin
//! found but not used, and pins that cannot hold together. `install` computes it, and `which`,
//! `cache-key`, `list`, `doctor`, `uninstall`, `prune`, `mirror` and `pin` read the same value
//! ([`Context::pins`]), so no command falls back to another pin without the word `install` says.
//!
//! Each warning is said once per run ([`Context::warn_once`]): the plan built later repeats the
//! resolution's, and `install --python` plans twice when it falls back to the full package.

use std::sync::Mutex;

use super::*;

/// What the pins of a run say, before anything is fetched.
#[derive(Debug, Clone)]
pub struct PinResolution {
    /// The version, when it is known without the network (`None` for `latest`).
    pub version: Option<CodexVersion>,
    pub source: PinSource,
    /// Every pin found but not used, and every pin that cannot apply to this version and
    /// target, one line each with its fix. For `latest`, only the pins discovery could not
    /// use: the rest are known once the version is.
    pub warnings: Vec<PinNotice>,
    /// Pins at the same level that no file can satisfy: what `install` refuses with.
    pub conflict: Option<plan::PlanError>,
}

/// One pin that is not used, or cannot apply, and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinNotice {
    pub message: String,
    pub hint: String,
}

/// The fix for a pin the plan cannot apply: the version asked for is not the one it pins.
const PLAN_WARNING_HINT: &str = "pin the version you mean in one place (`codex-bootstrap pin VERSION`, then `uv lock` or `uv export` for the Python locks), or ask for the version the project pins";

impl PinResolution {
    pub(super) fn of(ctx: &Context) -> PinResolution {
        let mut warnings: Vec<PinNotice> = ctx
            .pin
            .warnings
            .iter()
            .map(|w| PinNotice {
                message: w.to_string(),
                hint: w.hint(),
            })
            .collect();
        let mut conflict = None;
        if let Some(version) = ctx.exact_version() {
            match ctx
                .plan_inputs(version, &ctx.target, Pins::Enforce)
                .pin_warnings()
            {
                Ok(found) => warnings.extend(found.into_iter().map(|message| PinNotice {
                    message,
                    hint: PLAN_WARNING_HINT.into(),
                })),
                Err(e) => conflict = Some(e),
            }
        }
        PinResolution {
            version: ctx.exact_version().cloned(),
            source: ctx.pin.source.clone(),
            warnings,
            conflict,
        }
    }

    /// The conflict as one line, for the commands that go on without installing.
    pub fn conflict_warning(&self) -> Option<String> {
        self.conflict.as_ref().map(|e| match e {
            plan::PlanError::Conflict {
                file,
                first,
                second,
            } => format!(
                "the pins of `{file}` disagree ({first}; {second}): `install` refuses to install until they agree"
            ),
        })
    }
}

/// The warnings said so far in this run, in order.
#[derive(Debug, Default)]
pub(super) struct Said(Mutex<Vec<String>>);

impl Said {
    /// Whether `message` is new (then it is recorded).
    fn first_time(&self, message: &str) -> bool {
        let mut said = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if said.iter().any(|m| m == message) {
            return false;
        }
        said.push(message.to_string());
        true
    }

    fn all(&self) -> Vec<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Context {
    /// The one pin resolution of this run (computed on first use: no network, no writes).
    pub fn pins(&self) -> &PinResolution {
        self.pins.get_or_init(|| PinResolution::of(self))
    }

    /// Say every pin warning, and refuse when pins conflict, as `install` does: for commands
    /// that fetch or name what `install` would install (`install`, `--dry-run`, `cache-key`,
    /// `mirror`).
    pub fn check_pins(&self, ui: &dyn Reporter) -> Result<&PinResolution, ProvisionError> {
        let pins = self.pins();
        for w in &pins.warnings {
            self.warn_once(ui, &w.message);
        }
        match &pins.conflict {
            Some(e) => Err(e.clone().into()),
            None => Ok(pins),
        }
    }

    /// Say every pin warning, the conflict among them: for commands that read what is
    /// installed and go on (`which`, `list`, `uninstall`, `prune`, `pin`).
    pub fn warn_pins(&self, ui: &dyn Reporter) -> &PinResolution {
        let pins = self.pins();
        for w in &pins.warnings {
            self.warn_once(ui, &w.message);
        }
        if let Some(w) = pins.conflict_warning() {
            self.warn_once(ui, &w);
        }
        pins
    }

    /// Say a pin warning unless this run said it already.
    pub fn warn_once(&self, ui: &dyn Reporter, message: &str) {
        if self.said.first_time(message) {
            ui.warn(message);
        }
    }

    /// Every pin warning said so far, in order: what `--json` lists as `warnings`.
    pub fn warnings(&self) -> Vec<String> {
        self.said.all()
    }
}
