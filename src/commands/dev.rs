//! `codex-bootstrap dev …`: tasks for people working on codex-bootstrap, hidden from `--help`
//! and completions. `cargo dev generate-cli-reference` (an alias in `.cargo/config.toml`)
//! writes the guide's command-line reference, `docs/src/reference/cli.md`, from the clap
//! definitions themselves, as uv's `cargo dev generate-cli-reference` does; `--check` (what
//! the test `docs::the_cli_reference_is_fresh` runs) fails when the file is stale.
//! `cargo dev generate-man-pages --out DIR` writes a man page per command (clap_mangen), for
//! packagers; they are generated, not kept in the repository.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Arg, ArgAction, Command, CommandFactory};
use codex_bootstrap::error::{Failure, Report};

#[derive(Debug, clap::Args)]
pub struct DevArgs {
    #[command(subcommand)]
    pub task: Task,
}

#[derive(Debug, clap::Subcommand)]
pub enum Task {
    /// Write the guide's command-line reference from the clap definitions.
    GenerateCliReference {
        /// Compare the file with what would be written, and fail when it differs.
        #[arg(long)]
        check: bool,
        /// The file to write or check.
        #[arg(long, value_name = "FILE", default_value = DEFAULT_REFERENCE)]
        path: PathBuf,
    },
    /// Write a man page per command (`codex-bootstrap.1`, `codex-bootstrap-install.1`, …).
    GenerateManPages {
        /// The directory to write them into (created when missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// Where the reference lives, from the checkout's root (where `cargo dev` runs). Relative, so
/// no build machine's path is compiled into the binary.
const DEFAULT_REFERENCE: &str = "docs/src/reference/cli.md";

/// The command that regenerates the reference, for the message of a stale one.
const REGENERATE: &str = "cargo dev generate-cli-reference";

pub fn run(args: DevArgs) -> Result<ExitCode, Report> {
    match args.task {
        Task::GenerateCliReference { check, path } => {
            let fresh = cli_reference();
            if check {
                let current = std::fs::read_to_string(&path).map_err(|e| {
                    Report::from(e).context(format!(
                        "could not read `{}` (run from the checkout's root, or pass --path)",
                        path.display()
                    ))
                })?;
                if current != fresh {
                    return Err(Failure::new(format!(
                        "`{}` is not what the clap definitions generate",
                        path.display()
                    ))
                    .hint(format!("run `{REGENERATE}` and commit the file"))
                    .into());
                }
                println!("{} is up to date", path.display());
            } else {
                std::fs::write(&path, fresh).map_err(|e| {
                    Report::from(e).context(format!("could not write `{}`", path.display()))
                })?;
                println!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        Task::GenerateManPages { out } => {
            let context = || format!("could not write the man pages into `{}`", out.display());
            std::fs::create_dir_all(&out).map_err(|e| Report::from(e).context(context()))?;
            clap_mangen::generate_to(crate::cli::Cli::command(), &out)
                .map_err(|e| Report::from(e).context(context()))?;
            println!("wrote the man pages into {}", out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The whole reference page, in Markdown (the option lists as HTML definition lists, with an
/// anchor per flag: `#install--dry-run`).
pub fn cli_reference() -> String {
    let mut cli = crate::cli::Cli::command();
    cli.build();
    let mut out = String::new();
    out.push_str(
        "# Command-line reference\n\n\
         <!-- Generated from the clap definitions (src/cli.rs, src/commands/*.rs) by \
         `cargo dev generate-cli-reference`; do not edit by hand. A test fails when it is \
         stale. -->\n\n\
         Every command, argument and flag of `codex-bootstrap`, with the environment variable \
         that sets it, its default and its possible values, as `--help` shows them. Every \
         command also takes `-h` (short help) and `--help` (long help, with examples). \
         Flags may come before or after the command name when they are marked global \
         (`-v`, `--color`). This page is generated from the program's own definitions \
         (`cargo dev generate-cli-reference`), so it lists exactly what the binary accepts; \
         the other pages explain what each option is for.\n\n",
    );
    out.push_str("## Commands\n\n");
    for sub in visible(&cli) {
        let _ = writeln!(
            out,
            "- [`codex-bootstrap {}`](#codex-bootstrap-{}): {}",
            sub.get_name(),
            sub.get_name(),
            about(sub)
        );
    }
    out.push('\n');
    command(&mut out, &cli, "codex-bootstrap", 2);
    for sub in visible(&cli) {
        walk(
            &mut out,
            sub,
            &format!("codex-bootstrap {}", sub.get_name()),
        );
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn visible(cmd: &Command) -> impl Iterator<Item = &Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

fn walk(out: &mut String, cmd: &Command, path: &str) {
    command(out, cmd, path, 2 + path.matches(' ').count().min(3));
    for sub in visible(cmd) {
        walk(out, sub, &format!("{path} {}", sub.get_name()));
    }
}

fn about(cmd: &Command) -> String {
    cmd.get_about()
        .map(|a| a.to_string())
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_string()
}

fn command(out: &mut String, cmd: &Command, path: &str, level: usize) {
    let hashes = "#".repeat(level);
    let _ = writeln!(out, "{hashes} `{path}`\n");
    let long = cmd
        .get_long_about()
        .or(cmd.get_about())
        .map(|a| a.to_string());
    if let Some(long) = long {
        let _ = writeln!(out, "{}\n", long.trim());
    }
    let usage = cmd.clone().render_usage().to_string();
    let usage = usage.trim_start_matches("Usage:").trim();
    let _ = writeln!(out, "```text\n{usage}\n```\n");
    let id = path.replace(' ', "-");
    let args: Vec<&Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && !matches!(a.get_id().as_str(), "help"))
        .collect();
    let positionals: Vec<&Arg> = args.iter().copied().filter(|a| a.is_positional()).collect();
    if !positionals.is_empty() {
        let _ = writeln!(
            out,
            "<h{} id=\"{id}-arguments\">Arguments</h{}>\n",
            level + 1,
            level + 1
        );
        definitions(out, &id, &positionals);
    }
    // Options in the order `--help` shows them: ungrouped first, then each heading.
    let mut headings: Vec<Option<&str>> = Vec::new();
    for a in args.iter().filter(|a| !a.is_positional()) {
        if !headings.contains(&a.get_help_heading()) {
            headings.push(a.get_help_heading());
        }
    }
    headings.sort_by_key(|h| h.is_some());
    for heading in headings {
        let group: Vec<&Arg> = args
            .iter()
            .copied()
            .filter(|a| !a.is_positional() && a.get_help_heading() == heading)
            .collect();
        let title = heading.unwrap_or("Options");
        let anchor = title.to_lowercase().replace(' ', "-");
        let _ = writeln!(
            out,
            "<h{} id=\"{id}-{anchor}\">{}</h{}>\n",
            level + 1,
            html(title),
            level + 1
        );
        definitions(out, &id, &group);
    }
    if let Some(after) = cmd.get_after_long_help().or(cmd.get_after_help()) {
        let after = after.to_string();
        if let Some(examples) = after.trim().strip_prefix("Examples:") {
            let _ = writeln!(out, "Examples:\n\n```sh\n{}\n```\n", dedent(examples));
        }
    }
}

fn dedent(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.strip_prefix("  ").unwrap_or(l).trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

fn definitions(out: &mut String, id: &str, args: &[&Arg]) {
    out.push_str("<dl class=\"cli-reference\">\n");
    for a in args {
        // `#install--dry-run` for a flag, `#install-version` for an argument.
        let anchor = match a.get_long() {
            Some(long) => format!("{id}--{long}"),
            None => {
                let name = a
                    .get_value_names()
                    .and_then(|v| v.first().map(|n| n.to_string()))
                    .unwrap_or_else(|| a.get_id().to_string());
                format!("{id}-{}", name.to_lowercase())
            }
        };
        let mut names = Vec::new();
        if a.is_positional() {
            names.push(value_names(a));
        } else {
            if let Some(s) = a.get_short() {
                names.push(format!("<code>-{s}</code>"));
            }
            if let Some(l) = a.get_long() {
                let mut n = format!("<code>--{l}</code>");
                if takes_value(a) {
                    let _ = write!(n, " {}", value_names(a));
                }
                names.push(n);
            }
        }
        let _ = writeln!(
            out,
            "<dt id=\"{anchor}\"><a href=\"#{anchor}\">{}</a></dt>",
            names.join(", ")
        );
        out.push_str("<dd>");
        let help = a
            .get_long_help()
            .or(a.get_help())
            .map(|h| h.to_string())
            .unwrap_or_default();
        let _ = write!(out, "{}", paragraphs(&help));
        let mut facts = Vec::new();
        if let Some(env) = a.get_env() {
            facts.push(format!(
                "Environment variable: <code>{}</code>.",
                html(&env.to_string_lossy())
            ));
        }
        let defaults: Vec<String> = a
            .get_default_values()
            .iter()
            .map(|d| format!("<code>{}</code>", html(&d.to_string_lossy())))
            .collect();
        if !defaults.is_empty() && !matches!(a.get_action(), ArgAction::SetTrue | ArgAction::Count)
        {
            facts.push(format!("Default: {}.", defaults.join(", ")));
        }
        let aliases: Vec<String> = a
            .get_visible_aliases()
            .unwrap_or_default()
            .iter()
            .map(|l| format!("<code>--{l}</code>"))
            .collect();
        if !aliases.is_empty() {
            facts.push(format!("Alias: {}.", aliases.join(", ")));
        }
        if matches!(a.get_action(), ArgAction::Append | ArgAction::Count) {
            facts.push("Repeatable.".to_string());
        }
        if a.is_required_set() {
            facts.push("Required.".to_string());
        }
        if a.is_global_set() {
            facts.push("Global: before or after the command name.".to_string());
        }
        if !facts.is_empty() {
            let _ = write!(out, "<p>{}</p>", facts.join(" "));
        }
        let possible: Vec<_> = a
            .get_possible_values()
            .into_iter()
            .filter(|p| !p.is_hide_set())
            .collect();
        if !possible.is_empty() && takes_value(a) {
            out.push_str("<p>Possible values:</p><ul>");
            for p in possible {
                let _ = write!(out, "<li><code>{}</code>", html(p.get_name()));
                if let Some(h) = p.get_help() {
                    let _ = write!(out, ": {}", inline(&h.to_string()));
                }
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        }
        out.push_str("</dd>\n");
    }
    out.push_str("</dl>\n\n");
}

fn takes_value(a: &Arg) -> bool {
    a.get_action().takes_values()
}

fn value_names(a: &Arg) -> String {
    let names: Vec<String> = match a.get_value_names() {
        Some(v) => v.iter().map(|n| n.to_string()).collect(),
        None => vec![a.get_id().as_str().to_uppercase()],
    };
    names
        .iter()
        .map(|n| format!("<i>{}</i>", html(n)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Help text as HTML paragraphs: blank lines separate them; `code` spans become `<code>`.
fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let joined = p.lines().map(str::trim).collect::<Vec<_>>().join(" ");
            format!("<p>{}</p>", inline(&joined))
        })
        .collect()
}

fn inline(text: &str) -> String {
    let escaped = html(text);
    if escaped.matches('`').count() % 2 == 1 {
        return escaped;
    }
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
