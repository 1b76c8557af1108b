//! Terminal output: status lines and errors on stderr, progress bars only when a person is
//! watching, and colour decided the way `anstream` decides it for every tool built on clap:
//! `--color always|never` first, then `NO_COLOR` (any value; <https://no-color.org>),
//! `CLICOLOR_FORCE`, `CLICOLOR=0`, and otherwise a terminal whose `TERM` is not `dumb`.
//! Everything is written through `anstream`, which strips styles from a stream that gets no
//! colour and makes them work on Windows consoles (virtual-terminal mode, else the console API).

use std::io::{IsTerminal, Write};

use anstyle::{AnsiColor, Style};

use codex_bootstrap::error::Report;
use codex_bootstrap::net::Progress;
use codex_bootstrap::remote::printable_lines;

/// `--color`: when to use colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorWhen {
    // No doc comments on the variants: clap would turn them into a long possible-values list
    // in every command's help; the flag's own help says what `auto` means.
    #[default]
    Auto,
    Always,
    Never,
}

/// Apply `--color` to every stream this process writes (anstream keeps it process-wide).
pub fn set_color(when: ColorWhen) {
    let choice = match when {
        ColorWhen::Auto => anstream::ColorChoice::Auto,
        ColorWhen::Always => anstream::ColorChoice::Always,
        ColorWhen::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

/// `--color WHEN` / `--color=WHEN` from raw arguments, for clap's own output (help, usage
/// errors), which is printed while parsing, before the parsed flag can be applied.
pub fn color_from_args<I, T>(args: I) -> Option<ColorWhen>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString>,
{
    use clap::ValueEnum as _;
    let mut args = args.into_iter().map(Into::into);
    let mut found = None;
    while let Some(arg) = args.next() {
        let arg = arg.to_string_lossy().into_owned();
        let value = match arg.as_str() {
            "--" => break,
            "--color" => args.next().map(|v| v.to_string_lossy().into_owned()),
            _ => arg.strip_prefix("--color=").map(str::to_string),
        };
        if let Some(v) = value {
            found = ColorWhen::from_str(&v, false).ok().or(found);
        }
    }
    found
}

/// Whether `stream` gets colour (see the module documentation for the rules).
pub fn colors<S: anstream::stream::RawStream>(stream: &S) -> bool {
    anstream::AutoStream::choice(stream) != anstream::ColorChoice::Never
}

const VERB: Style = AnsiColor::Green.on_default().bold();
const WARNING: Style = AnsiColor::Yellow.on_default().bold();
const ERROR: Style = AnsiColor::Red.on_default().bold();
const HINT: Style = AnsiColor::Cyan.on_default().bold();

/// Where human-facing output goes and how it looks.
#[derive(Debug, Clone, Copy)]
pub struct Ui {
    /// Print progress and status lines (false with `--quiet`, `--json`, `--print-path`).
    pub chatty: bool,
    /// Style what [`Ui::paint`] returns (it is written to stderr, unless [`Ui::for_stdout`]).
    pub color: bool,
    /// stderr is a terminal and no log lines go to it: progress bars make sense.
    pub interactive: bool,
}

impl Ui {
    pub fn new(quiet: bool) -> Ui {
        let stderr = std::io::stderr();
        Ui {
            chatty: !quiet,
            color: colors(&stderr),
            interactive: stderr.is_terminal() && !codex_bootstrap::logging::enabled(),
        }
    }

    /// For errors only: nothing else is printed.
    pub fn stderr_only() -> Ui {
        let mut ui = Ui::new(true);
        ui.interactive = false;
        ui
    }

    /// The same, for text written to stdout (through `anstream::stdout()`): colour follows
    /// stdout, not stderr.
    pub fn for_stdout(self) -> Ui {
        Ui {
            color: colors(&std::io::stdout()),
            ..self
        }
    }

    /// `text` in the SGR style `code` (`"1;32"`, `"2"`), or plain without colour.
    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}{}", anstyle::Reset)
        } else {
            text.to_string()
        }
    }

    fn styled(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    /// A status line on stderr, e.g. `  Fetching codex-package-… (136 MiB)`. Messages, warnings
    /// and errors may carry a server's words (a yank reason, GitHub's `message`): their control
    /// characters are stripped here, where text meets the terminal.
    pub fn status(&self, verb: &str, message: &str) {
        if self.chatty {
            let verb = self.styled(VERB, &format!("{verb:>12}"));
            let _ = writeln!(anstream::stderr(), "{verb} {}", printable_lines(message));
        }
    }

    pub fn warn(&self, message: &str) {
        let w = self.styled(WARNING, "warning");
        let _ = writeln!(anstream::stderr(), "{w}: {}", printable_lines(message));
    }

    /// `error: …`, `  Caused by: …` for each cause, then `hint: …`.
    pub fn error(&self, err: &Report) {
        let mut out = String::new();
        let err_text = err.to_string();
        out.push_str(&format!(
            "{}: {}\n",
            self.styled(ERROR, "error"),
            printable_lines(&err_text)
        ));
        for cause in err.causes() {
            out.push_str(&format!(
                "  Caused by: {}\n",
                printable_lines(&cause.to_string())
            ));
        }
        if let Some(hint) = err.hint() {
            out.push_str(&format!(
                "{}: {}\n",
                self.styled(HINT, "hint"),
                printable_lines(&hint)
            ));
        }
        let _ = anstream::stderr().write_all(out.as_bytes());
    }

    /// A byte progress bar (the library's [`Progress`] through the `Reporter` below), or a
    /// hidden one when nobody watches.
    pub fn progress(&self, total: Option<u64>, what: &str) -> indicatif::ProgressBar {
        if !(self.chatty && self.interactive) {
            return indicatif::ProgressBar::hidden();
        }
        let bar = match total {
            Some(n) => indicatif::ProgressBar::new(n),
            None => indicatif::ProgressBar::no_length(),
        };
        let prefix = if self.color {
            "{prefix:>12.cyan.bold}"
        } else {
            "{prefix:>12}"
        };
        let style = indicatif::ProgressStyle::with_template(&format!(
            "{prefix} [{{bar:30}}] {{bytes}}/{{total_bytes}} {{bytes_per_sec}} {{eta}}"
        ))
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(what.to_string());
        bar
    }
}

pub use codex_bootstrap::report::human_bytes;

/// A terminal bar that clears itself when the library is done with it.
struct ClearOnDrop(indicatif::ProgressBar);

impl Progress for ClearOnDrop {
    fn set_length(&self, n: u64) {
        self.0.set_length(n);
    }
    fn set_position(&self, n: u64) {
        self.0.set_position(n);
    }
    fn inc(&self, n: u64) {
        self.0.inc(n);
    }
}

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

impl codex_bootstrap::report::Reporter for Ui {
    fn status(&self, verb: &str, message: &str) {
        Ui::status(self, verb, message);
    }
    fn warn(&self, message: &str) {
        Ui::warn(self, message);
    }
    fn progress(&self, total: Option<u64>, what: &str) -> Box<dyn Progress> {
        Box::new(ClearOnDrop(Ui::progress(self, total, what)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_is_found_before_parsing_in_both_spellings() {
        let find = |args: &[&str]| color_from_args(args.iter().copied());
        assert_eq!(
            find(&["cb", "--color", "never", "install"]),
            Some(ColorWhen::Never)
        );
        assert_eq!(
            find(&["cb", "install", "--color=always"]),
            Some(ColorWhen::Always)
        );
        assert_eq!(
            find(&["cb", "--color=never", "--color", "always"]),
            Some(ColorWhen::Always)
        );
        assert_eq!(find(&["cb", "quickstart", "--", "--color=never"]), None);
        assert_eq!(find(&["cb", "--color", "sometimes"]), None);
        assert_eq!(find(&["cb", "--color"]), None);
    }
}
