//! Terminal output: status lines and errors on stderr, colour only on a terminal and never with
//! `NO_COLOR`, progress bars only when a person is watching.

use std::io::{IsTerminal, Write};

/// Where human-facing output goes and how it looks.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    /// Print progress and status lines (false with `--quiet`, `--json`, `--print-path`).
    pub chatty: bool,
    pub color: bool,
    /// stderr is a terminal: progress bars make sense.
    pub interactive: bool,
}

impl Ui {
    pub fn new(quiet: bool) -> Ui {
        let interactive = std::io::stderr().is_terminal();
        Ui {
            chatty: !quiet,
            color: color_for(interactive),
            interactive,
        }
    }

    /// For errors only: nothing else is printed.
    pub fn stderr_only() -> Ui {
        let mut ui = Ui::new(true);
        ui.interactive = false;
        ui
    }

    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    /// A status line on stderr, e.g. `  Fetching codex-package-… (136 MiB)`.
    pub fn status(&self, verb: &str, message: &str) {
        if self.chatty {
            let verb = self.paint("1;32", &format!("{verb:>12}"));
            let _ = writeln!(std::io::stderr(), "{verb} {message}");
        }
    }

    pub fn warn(&self, message: &str) {
        let w = self.paint("1;33", "warning");
        let _ = writeln!(std::io::stderr(), "{w}: {message}");
    }

    /// `error: …`, `  Caused by: …` for each cause, then `hint: …`.
    pub fn error(&self, err: &anyhow::Error) {
        let mut out = String::new();
        out.push_str(&format!("{}: {err}\n", self.paint("1;31", "error")));
        let mut last = err.to_string();
        for cause in err.chain().skip(1) {
            let text = cause.to_string();
            // Transparent wrappers repeat their inner message; print each sentence once.
            if text != last && !last.ends_with(&text) {
                out.push_str(&format!("  Caused by: {text}\n"));
            }
            last = text;
        }
        if let Some(hint) = crate::error::hint_for(err) {
            out.push_str(&format!("{}: {hint}\n", self.paint("1;36", "hint")));
        }
        let _ = std::io::stderr().write_all(out.as_bytes());
    }

    /// A byte progress bar, or a hidden one when nobody watches.
    pub fn progress(&self, total: Option<u64>, what: &str) -> indicatif::ProgressBar {
        if !(self.chatty && self.interactive) {
            return indicatif::ProgressBar::hidden();
        }
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::no_length(),
        };
        let style = indicatif::ProgressStyle::with_template(
            "{prefix:>12.cyan.bold} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(what.to_string());
        bar
    }
}

/// Colour for a stream: on a terminal, or when `CLICOLOR_FORCE` asks for it; never with
/// `NO_COLOR` (any non-empty value; see https://no-color.org).
pub fn color_for(is_terminal: bool) -> bool {
    let set = |name| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    !set("NO_COLOR") && (is_terminal || set("CLICOLOR_FORCE"))
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
