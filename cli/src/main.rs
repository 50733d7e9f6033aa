//! `conv`: check, format and explain .conv programs.

mod commands;
mod serve;
mod view;

use clap::{Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

// Checking a large program allocates millions of small tree nodes; mimalloc does that about
// twice as fast as the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    #[command(verbatim_doc_comment)]
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
    #[command(verbatim_doc_comment)]
    Eval {
        /// The program: a .conv file or a directory (default: the current directory).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Output format (JSON is the only one).
        #[arg(long, value_enum, default_value_t = EvalFormat::Json)]
        format: EvalFormat,
    },
    /// Print the execution graph: releases and their stages (dot, svg), or every deploy,
    /// bake, gate check, approval and barrier (steps-dot, mermaid, json), with each release's
    /// rollback path.
    ///
    /// Examples:
    ///   conv graph examples/quickstart --format svg > graph.svg
    ///   conv graph deploy/ --format dot | dot -Tsvg > graph.svg
    ///   conv graph examples/quickstart --format mermaid
    #[command(verbatim_doc_comment)]
    Graph {
        /// The program: a .conv file or a directory (default: the current directory).
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = commands::graph::GraphFormat::Mermaid)]
        format: commands::graph::GraphFormat,
    },
    /// Show what apply would change: per release, the stages with their sites, changes,
    /// gates and approvals, and the rollback path.
    ///
    /// Exit status: 0, or with --detailed-exitcode 0 no changes, 4 changes; 1 errors, 2 usage.
    ///
    /// Examples:
    ///   conv plan examples/quickstart
    ///   conv plan deploy/ --format markdown > plan.md   # for a pull-request comment
    ///   conv plan deploy/ -o plan.json                   # apply later with `conv apply plan.json`
    #[command(verbatim_doc_comment)]
    Plan {
        /// The program (default: the current directory).
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = commands::runtime::PlanFormat::Text)]
        format: commands::runtime::PlanFormat,
        /// Also save the plan as JSON to this file.
        #[arg(short = 'o', long = "out")]
        out: Option<PathBuf>,
        /// Exit 4 when there are changes, 0 when there are none.
        #[arg(long)]
        detailed_exitcode: bool,
        /// Override a `let` of the program: `--set api_version=1.5.0`, `--set bake=30s`.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// Plan and apply: roll out stage by stage, gated by health signals; a failed stage
    /// rolls its whole release back.
    ///
    /// With a program, shows the plan and asks to confirm (--yes skips the question; with
    /// no terminal, --yes is required). With a saved plan (plan.json), applies it only if
    /// live state is still what the plan was made against.
    ///
    /// Examples:
    ///   conv apply examples/quickstart --yes
    ///   conv apply plan.json
    #[command(verbatim_doc_comment)]
    Apply {
        /// A program, or a plan saved with `conv plan -o plan.json`.
        #[arg(default_value = ".")]
        target: PathBuf,
        /// Apply without asking.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Override a `let` of the program: `--set api_version=1.5.0`, `--set bake=30s`.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// Keep converging: re-plan every SECONDS and correct drift, logging each correction,
        /// until interrupted (implies --yes).
        #[arg(long, value_name = "SECONDS")]
        watch: Option<u64>,
        /// Stop (exit status 3) at a requirement that does not hold, such as a closed
        /// deployment window, instead of waiting for it.
        #[arg(long)]
        no_wait: bool,
        /// Deploy into an environment under a change freeze anyway; the reason is recorded in
        /// the journal with who overrode it.
        #[arg(long, value_name = "REASON")]
        override_freeze: Option<String>,
        /// How progress is reported on stderr: lines for people, or one JSON event a line
        /// (schema in docs/events.md).
        #[arg(long, value_enum, default_value_t = commands::events::LogFormat::Text)]
        log_format: commands::events::LogFormat,
    },
    /// Show sites x services: versions, instances up, health, and where the rollout stands.
    #[command(verbatim_doc_comment)]
    Status {
        #[arg(default_value = ".")]
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = commands::runtime::StatusFormat::Table)]
        format: commands::runtime::StatusFormat,
        /// Override a `let` of the program: `--set api_version=1.5.0`, `--set bake=30s`.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// Redraw every second until interrupted, following an apply run from anywhere.
        #[arg(long, conflicts_with = "format")]
        watch: bool,
    },
    /// Serve a web view of the project: releases and their stages, where the current run
    /// stands, every site and service, gate readings, history; approve and roll back from it.
    ///
    /// It follows an apply running anywhere through the journal. On 127.0.0.1 (the default)
    /// anyone on this machine may operate; with --token every request must carry the token
    /// (the printed URL does); on another address without a token the page is read-only.
    ///
    /// Examples:
    ///   conv serve examples/quickstart                 # then open http://127.0.0.1:4800/
    ///   conv serve . --listen 0.0.0.0:4800 --token "$(openssl rand -hex 16)"
    #[command(verbatim_doc_comment)]
    Serve {
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The address and port to listen on.
        #[arg(long, default_value = "127.0.0.1:4800")]
        listen: String,
        /// A token every request must carry (`Authorization: Bearer TOKEN` or `?token=TOKEN`).
        #[arg(long, env = "CONV_SERVE_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Override a `let` of the program, as the apply you follow does.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
    },
    /// Approve a stage that waits for approval, from another terminal.
    ///
    /// Example: conv approve storefront production examples/quickstart
    #[command(verbatim_doc_comment)]
    Approve {
        release: String,
        stage: String,
        /// The program whose state to write (default: the current directory).
        #[arg(default_value = ".")]
        path: PathBuf,
    },
    /// Roll a release back by hand: every service of it returns to what it ran before the
    /// last apply that changed it, in the rollback order the plan shows.
    #[command(verbatim_doc_comment)]
    Rollback {
        release: String,
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Roll back without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Past runs: when, how long, outcome, steps, who, what.
    #[command(verbatim_doc_comment)]
    History {
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Output format: a table, or the runs as a JSON array on stdout.
        #[arg(long, value_enum, default_value_t = DataFormat::Text)]
        format: DataFormat,
        /// The same as `--format json`.
        #[arg(long, conflicts_with = "format")]
        json: bool,
    },
    /// Compare live state with what was last applied and list each difference.
    ///
    /// Exit status: 0 no drift, 4 drift, 1 the program has errors or there is no journal,
    /// 2 usage or I/O error. `conv apply` converges drift back.
    #[command(verbatim_doc_comment)]
    Drift {
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Output format: a line per difference, or a JSON array on stdout.
        #[arg(long, value_enum, default_value_t = DataFormat::Text)]
        format: DataFormat,
        /// The same as `--format json`.
        #[arg(long, conflicts_with = "format")]
        json: bool,
    },
    /// Take an environment's apply lock from whoever holds it (after its holder is gone).
    #[command(verbatim_doc_comment)]
    Unlock {
        env: String,
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Required: confirms that the lock is taken from its holder.
        #[arg(long)]
        force: bool,
        /// Do not ask.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Stop everything conv started for the project.
    #[command(verbatim_doc_comment)]
    Destroy {
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Stop without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Serve the Language Server Protocol over stdin and stdout, for editors.
    ///
    /// Diagnostics as you type (the same as `conv check`), hover, go to definition,
    /// references, completion, rename, formatting, document symbols, semantic tokens and
    /// quick fixes. See editors/README.md for VS Code and Neovim.
    #[command(verbatim_doc_comment)]
    Lsp,
    /// Rewrite .conv files in the canonical format (there are no options).
    ///
    /// Files with syntax errors are never rewritten: their errors are shown and the exit
    /// status is 1.
    ///
    /// Examples:
    ///   conv fmt .
    ///   conv fmt --check examples    # in CI: list unformatted files, exit 1 if any
    #[command(verbatim_doc_comment)]
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
    #[command(verbatim_doc_comment)]
    Explain {
        /// A code such as E0105 (or its name, such as syntax-error).
        #[arg(required_unless_present = "list")]
        code: Option<String>,
        /// List every code with its name.
        #[arg(long)]
        list: bool,
        /// Output format: the explanation as Markdown, or a JSON object (an array with --list).
        #[arg(long, value_enum, default_value_t = DataFormat::Text)]
        format: DataFormat,
    },
    /// Write a small working program to start from, with comments, into DIR/main.conv.
    ///
    /// It rehearses on the simulator, so check, plan and apply work on any machine; the
    /// comments say how to run real processes instead. An existing main.conv is never
    /// overwritten (exit 2).
    ///
    /// Examples:
    ///   conv init
    ///   conv init deploy && conv apply deploy
    #[command(verbatim_doc_comment)]
    Init {
        /// The folder to write main.conv in (created if missing).
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print a shell completion script for conv.
    ///
    /// Examples:
    ///   conv completions bash > ~/.local/share/bash-completion/completions/conv
    ///   conv completions zsh > ~/.zfunc/_conv
    ///   conv completions fish > ~/.config/fish/completions/conv.fish
    #[command(verbatim_doc_comment)]
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Print conv's man page (roff), generated from the same help as --help.
    ///
    /// Examples:
    ///   conv man > conv.1 && man ./conv.1
    #[command(verbatim_doc_comment)]
    Man,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EvalFormat {
    Json,
}

/// How a command that prints data prints it: for people, or as JSON on stdout.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DataFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// The one tokio runtime of the process, built here for the commands that run the engine or
/// serve (checking and formatting never pay for it) and dropped when `main` returns.
fn with_runtime(command: impl FnOnce(&tokio::runtime::Handle) -> u8) -> u8 {
    match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => command(runtime.handle()),
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            commands::FAILED
        }
    }
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
        Command::Plan { path, format, out, detailed_exitcode, set } => {
            commands::runtime::plan_cmd(&path, &set, format, out.as_deref(), detailed_exitcode, color)
        }
        Command::Apply { target, set, watch: Some(seconds), .. } => {
            with_runtime(|rt| commands::runtime::watch_cmd(rt, &target, &set, seconds, color))
        }
        Command::Apply { target, yes, set, watch: None, log_format, no_wait, override_freeze } => {
            if override_freeze.as_deref().is_some_and(|r| r.trim().is_empty()) {
                eprintln!("error: --override-freeze needs a reason, which the journal records");
                return ExitCode::from(commands::FAILED);
            }
            let options = commands::runtime::options(no_wait, override_freeze);
            with_runtime(|rt| commands::runtime::apply_cmd(rt, &target, &set, yes, color, log_format, options))
        }
        Command::Status { path, set, watch: true, .. } => commands::runtime::status_watch_cmd(&path, &set, color),
        Command::Status { path, format, set, watch: false } => {
            commands::runtime::status_cmd(&path, &set, format, color)
        }
        Command::Serve { path, listen, token, set } => {
            with_runtime(|rt| serve::serve_cmd(rt, &path, &set, &listen, token, color))
        }
        Command::Approve { release, stage, path } => commands::runtime::approve_cmd(&release, &stage, &path),
        Command::Rollback { release, path, yes } => {
            with_runtime(|rt| commands::runtime::rollback_cmd(rt, &release, &path, yes, color))
        }
        Command::History { path, format, json } => {
            commands::journal::history_cmd(&path, json || format == DataFormat::Json)
        }
        Command::Drift { path, format, json } => {
            commands::journal::drift_cmd(&path, json || format == DataFormat::Json, color)
        }
        Command::Unlock { env, path, force, yes } => commands::journal::unlock_cmd(&env, &path, force, yes),
        Command::Destroy { path, yes } => commands::runtime::destroy_cmd(&path, yes),
        Command::Lsp => {
            conv_lsp::serve_stdio();
            0
        }
        Command::Fmt { paths, check } => commands::fmt::run(&paths, check, color),
        Command::Explain { code, list, format } => {
            commands::explain::run(code.as_deref(), list, format == DataFormat::Json)
        }
        Command::Init { dir } => commands::init::run(&dir),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "conv",
                &mut std::io::stdout(),
            );
            commands::OK
        }
        Command::Man => {
            match clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut std::io::stdout()) {
                Ok(()) => commands::OK,
                // `conv man | head` closes the pipe early; that is not an error.
                Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => commands::OK,
                Err(err) => {
                    eprintln!("error: cannot write the man page: {err}");
                    commands::FAILED
                }
            }
        }
    };
    ExitCode::from(code)
}
