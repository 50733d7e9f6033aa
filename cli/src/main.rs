//! `conv`: check, format and explain .conv programs.

mod commands;

use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

/// conv: a typed language for deployments, checked before anything runs.
///
/// Declare environments, services, health gates and releases in .conv files; conv checks the
/// whole rollout before anything runs.
#[derive(Parser)]
#[command(name = "conv", version, propagate_version = true, arg_required_else_help = true)]
struct Cli {
    /// When to color output: auto colors a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, global = true)]
    color: ColorChoice,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Check programs and report every problem found, without running anything.
    ///
    /// Each PATH is one program: a .conv file, or a directory whose .conv files (found
    /// recursively) form the program together.
    ///
    /// Exit status: 0 no errors (warnings allowed), 1 errors found, 2 usage or I/O error.
    ///
    /// Examples:
    ///   conv check examples/quickstart
    ///   conv check --format json deploy/ > diagnostics.json
    Check {
        /// Files or directories to check (default: the current directory).
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
        /// Output format: human-readable reports on stderr, or a JSON array on stdout.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print the resolved program: every default applied, every template expanded.
    ///
    /// The output is deterministic: the same program always prints the same bytes. Its shape
    /// is the versioned schema of docs/program-json.md.
    ///
    /// Examples:
    ///   conv eval examples/quickstart
    ///   conv eval deploy/ --format json > program.json
    Eval {
        /// The program: a .conv file or a directory (default: the current directory).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Output format (JSON is the only one).
        #[arg(long, value_enum, default_value_t = EvalFormat::Json)]
        format: EvalFormat,
    },
    /// Print the execution graph: deploys, bakes, gate checks, approvals and barriers, with
    /// each release's rollback path.
    ///
    /// Examples:
    ///   conv graph examples/quickstart --format mermaid
    ///   conv graph deploy/ --format dot | dot -Tsvg > graph.svg
    Graph {
        /// The program: a .conv file or a directory (default: the current directory).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = commands::graph::GraphFormat::Mermaid)]
        format: commands::graph::GraphFormat,
    },
    /// Rewrite .conv files in the canonical format (there are no options).
    ///
    /// Files with syntax errors are never rewritten: their errors are shown and the exit
    /// status is 1.
    ///
    /// Examples:
    ///   conv fmt .
    ///   conv fmt --check examples    # in CI: list unformatted files, exit 1 if any
    Fmt {
        /// Files or directories to format (default: the current directory).
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
        /// Do not write; list files that are not formatted and exit 1 if there are any.
        #[arg(long)]
        check: bool,
    },
    /// Explain a diagnostic code in detail, with an example and the fix.
    ///
    /// Examples:
    ///   conv explain E0105
    ///   conv explain --list
    Explain {
        /// A code such as E0105 (or its name, such as syntax-error).
        #[arg(required_unless_present = "list")]
        code: Option<String>,
        /// List every code with its name.
        #[arg(long)]
        list: bool,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EvalFormat {
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
        }
    };
    let code = match cli.command {
        Command::Check { paths, format } => commands::check::run(&paths, format, color),
        Command::Eval { path, format: EvalFormat::Json } => commands::eval::run(&path, color),
        Command::Graph { path, format } => commands::graph::run(&path, format, color),
        Command::Fmt { paths, check } => commands::fmt::run(&paths, check, color),
        Command::Explain { code, list } => commands::explain::run(code.as_deref(), list),
    };
    ExitCode::from(code)
}
