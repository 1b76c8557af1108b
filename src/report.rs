//! How the library tells a person what it is doing, without knowing who listens: status
//! lines, warnings and transfer progress go through [`Reporter`]; the terminal implements it
//! (the UI implements it), and [`Silent`] is for callers that want nothing shown.

pub use crate::net::progress::{NoProgress, Progress};

/// Where status lines, warnings and progress go.
pub trait Reporter {
    /// A line of what is happening, e.g. `Downloading codex-package-… (136 MiB)`.
    fn status(&self, verb: &str, message: &str);
    /// Something the user should know although the command goes on.
    fn warn(&self, message: &str);
    /// A byte counter for one transfer of `total` bytes (when known); finished when dropped.
    fn progress(&self, total: Option<u64>, what: &str) -> Box<dyn Progress>;
}

/// A transfer's progress that tells `ui` what is fetched from where (`verb message`) only
/// when the source answers ([`Progress::started`]), then shows its bar: a file the source does
/// not have is never announced.
pub fn announced<'a>(
    ui: &'a dyn Reporter,
    verb: &'a str,
    message: String,
    total: Option<u64>,
) -> Box<dyn Progress + 'a> {
    Box::new(Announced {
        ui,
        verb,
        message,
        length: std::cell::Cell::new(total),
        bar: std::cell::OnceCell::new(),
    })
}

struct Announced<'a> {
    ui: &'a dyn Reporter,
    verb: &'a str,
    message: String,
    /// The total as known before the bar exists.
    length: std::cell::Cell<Option<u64>>,
    bar: std::cell::OnceCell<Box<dyn Progress>>,
}

impl Progress for Announced<'_> {
    fn set_length(&self, n: u64) {
        self.length.set(Some(n));
        if let Some(b) = self.bar.get() {
            b.set_length(n);
        }
    }
    fn set_position(&self, n: u64) {
        if let Some(b) = self.bar.get() {
            b.set_position(n);
        }
    }
    fn inc(&self, n: u64) {
        if let Some(b) = self.bar.get() {
            b.inc(n);
        }
    }
    fn started(&self) {
        self.bar.get_or_init(|| {
            self.ui.status(self.verb, &self.message);
            self.ui.progress(self.length.get(), self.verb)
        });
    }
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Reporter for Silent {
    fn status(&self, _: &str, _: &str) {}
    fn warn(&self, _: &str) {}
    fn progress(&self, _: Option<u64>, _: &str) -> Box<dyn Progress> {
        Box::new(NoProgress)
    }
}

/// `1.2 MiB`-style sizes for people.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}
