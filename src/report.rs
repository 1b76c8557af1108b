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
