//! The command line: clap arguments, one file per command, each a thin `exec` that builds
//! options, calls one core function and hands the result to `render`.
//!
//! Terraform's single-dash long flags (`-detailed-exitcode`, `-out=plan`, `-json`) are
//! accepted by rewriting them to the GNU form before clap sees them ([`normalize_args`]);
//! the set of names is read from clap's own definition, so it never drifts.

mod apply;
mod cloud;
mod console;
mod fmt;
mod graph;
mod init;
mod plan;
mod run;
mod state;
mod validate;
mod workspace;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Where resources live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CloudKind {
    /// Alibaba Cloud, with credentials from the environment.
    Alicloud,
    /// The built-in simulated ECS region.
    Local,
}

/// imgform: plan and apply for Alibaba Cloud ECS custom images.
#[derive(Debug, Parser)]
#[command(name = "imgform", version, about, long_about = None)]
pub struct Cli {
    /// Run as if started in DIR.
    #[arg(
        short = 'C',
        long = "chdir",
        global = true,
        value_name = "DIR",
        default_value = "."
    )]
    pub chdir: PathBuf,
    /// Which cloud to talk to.
    #[arg(
        long,
        global = true,
        env = "IMGFORM_CLOUD",
        value_enum,
        default_value = "alicloud"
    )]
    pub cloud: CloudKind,
    /// Path of the state database (default: imgform.state.db in the working directory).
    #[arg(long, global = true, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// The workspace: one of several states of this configuration, side by side (default:
    /// the one `imgform workspace select` chose, else `default`).
    #[arg(long, global = true, env = "IMGFORM_WORKSPACE", value_name = "NAME")]
    pub workspace: Option<String>,
    /// More logging on stderr (-v debug, -vv trace); IMGFORM_LOG takes a filter too.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Never use colour.
    #[arg(long = "no-color", global = true)]
    pub no_color: bool,
    /// Let file functions (file, templatefile, fileset, ...) also read DIR, outside the
    /// repository that holds the configuration (repeatable; for trusted runs only).
    #[arg(long = "allow-files-outside", global = true, value_name = "DIR")]
    pub allow_files_outside: Vec<PathBuf>,
    /// The configuration is untrusted (a pull request): ignore its own
    /// `imgform { allow_files_outside }`, so that it cannot widen what file functions read.
    #[arg(long = "untrusted-config", global = true)]
    pub untrusted_config: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Variable options shared by commands that evaluate the configuration.
#[derive(Debug, Clone, clap::Args, Default)]
pub struct VarArgs {
    /// Set a variable: NAME=VALUE (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Read variable values from a file (repeatable).
    #[arg(long = "var-file", value_name = "FILE")]
    pub var_files: Vec<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration against every rule of the ECS API, without calling it.
    Validate(validate::Args),
    /// Rewrite configuration files in the canonical format.
    Fmt(fmt::Args),
    /// Print the dependency graph (DOT or Mermaid).
    Graph(graph::Args),
    /// Prepare a working directory: check the configuration, open or create the state,
    /// resolve credentials (idempotent; nothing to download).
    Init(init::Args),
    /// Show what apply would change.
    Plan(plan::Args),
    /// Create, update and destroy images to match the configuration.
    Apply(apply::Args),
    /// Destroy every object in the state.
    Destroy(apply::DestroyArgs),
    /// Update the state to match the cloud, changing nothing in the cloud (the same as
    /// `apply --refresh-only --auto-approve`).
    Refresh(apply::RefreshArgs),
    /// Show the state or a saved plan.
    Show(state::ShowArgs),
    /// Print output values.
    Output(state::OutputArgs),
    /// Evaluate expressions typed on stdin against the configuration and the state.
    Console(console::Args),
    /// Inspect and edit the state (forgetting never destroys).
    #[command(subcommand)]
    State(state::Cmd),
    /// Adopt an existing object into the state.
    Import(state::ImportArgs),
    /// Release a lock left by a process that is gone.
    #[command(name = "force-unlock")]
    ForceUnlock(state::UnlockArgs),
    /// Workspaces: several states of one configuration, side by side.
    #[command(subcommand)]
    Workspace(workspace::Cmd),
    /// The local cloud: a simulated ECS region that speaks the real API.
    #[command(subcommand)]
    Cloud(cloud::Cmd),
    /// Print the version.
    Version {
        /// As JSON, in the shape of Terraform's `version -json`.
        #[arg(long)]
        json: bool,
    },
}

/// What `run` needs from the process besides argv.
pub struct Context {
    /// Colour on stderr.
    pub color_err: bool,
}

/// Rewrites Terraform-style `-long-flag[=v]` arguments to `--long-flag[=v]`.
pub fn normalize_args(args: Vec<String>) -> Vec<String> {
    let mut longs = std::collections::BTreeSet::new();
    fn collect(cmd: &clap::Command, longs: &mut std::collections::BTreeSet<String>) {
        for a in cmd.get_arguments() {
            if let Some(l) = a.get_long() {
                longs.insert(l.to_string());
            }
        }
        for s in cmd.get_subcommands() {
            collect(s, longs);
        }
    }
    collect(&Cli::command(), &mut longs);
    let mut out = Vec::with_capacity(args.len());
    let mut rest = false;
    for (i, a) in args.into_iter().enumerate() {
        if i > 0 && !rest && a.starts_with('-') && !a.starts_with("--") && a.len() > 2 {
            let name = a[1..].split('=').next().unwrap_or("");
            // A known long flag, or a near miss of one (`-detailed-exitcod`): written as a
            // long flag, a near miss gets clap's "a similar argument exists" instead of
            // being read as a row of short flags.
            if longs.contains(name)
                || (name.len() > 3
                    && crate::diag::did_you_mean(name, longs.iter().map(String::as_str)).is_some())
            {
                out.push(format!("-{a}"));
                continue;
            }
        }
        if a == "--" {
            rest = true;
        }
        out.push(a);
    }
    out
}

/// Logs go to stderr, coloured only where diagnostics are (a terminal, without `--no-color`
/// or `NO_COLOR`): a CI log or a redirected file never receives an escape sequence.
fn init_logging(verbose: u8, color: bool) {
    let filter = match std::env::var("IMGFORM_LOG") {
        Ok(f) if !f.is_empty() => f,
        _ => match verbose {
            0 => "warn".to_string(),
            1 => "imgform=debug".to_string(),
            _ => "imgform=trace".to_string(),
        },
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .try_init();
}

/// How a command ended; `main` alone turns it into the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// It did what was asked.
    Success,
    /// It failed; what went wrong was reported.
    Failed,
    /// `plan -detailed-exitcode` found changes.
    Changes,
    /// `fmt -check` found files to format.
    Unformatted,
}

/// The global flags each command does not use, left out of its `--help` (still accepted,
/// so that a wrapper passing them to every command keeps working). `-C`, `-v` and
/// `--no-color` apply everywhere.
const NOT_USED: &[(&str, &[&str])] = &[
    ("fmt", &[CLOUD, STATE, WORKSPACE, FILES, UNTRUSTED]),
    ("validate", &[CLOUD, STATE, WORKSPACE]),
    ("graph", &[CLOUD, STATE, WORKSPACE]),
    ("show", &[CLOUD, FILES, UNTRUSTED]),
    ("output", &[CLOUD, FILES, UNTRUSTED]),
    ("console", &[CLOUD]),
    ("force-unlock", &[CLOUD, FILES, UNTRUSTED]),
    ("workspace", &[CLOUD, FILES, UNTRUSTED]),
    ("cloud", &[CLOUD, STATE, WORKSPACE, FILES, UNTRUSTED]),
    ("version", &[CLOUD, STATE, WORKSPACE, FILES, UNTRUSTED]),
    // The state commands read only the state (`state import-terraform` is the exception).
    ("state", &[CLOUD, FILES, UNTRUSTED]),
];
const CLOUD: &str = "cloud";
const STATE: &str = "state";
const WORKSPACE: &str = "workspace";
const FILES: &str = "allow_files_outside";
const UNTRUSTED: &str = "untrusted_config";

/// The help of the command that `args` name, listing only the flags it uses; `None` for
/// the top level, whose help lists every global flag.
fn help_of(args: &[String]) -> Option<String> {
    let mut root = Cli::command();
    // Global flags are copied into every command when it is built.
    root.build();
    let mut path: Vec<String> = Vec::new();
    {
        let mut cur = &root;
        for a in args.iter().skip(1).filter(|a| !a.starts_with('-')) {
            match cur.find_subcommand(a) {
                Some(s) => {
                    path.push(s.get_name().to_string());
                    cur = s;
                }
                None => break,
            }
        }
    }
    let first = path.first()?.clone();
    let mut cur = &mut root;
    for n in &path {
        cur = cur.find_subcommand_mut(n)?;
    }
    // `state import-terraform` reads the configuration and the cloud's region.
    let ids: &[&str] = if path == ["state", "import-terraform"] {
        &[]
    } else {
        NOT_USED
            .iter()
            .find(|(n, _)| *n == first)
            .map(|(_, ids)| *ids)
            .unwrap_or(&[])
    };
    for id in ids {
        if cur.get_arguments().any(|a| a.get_id() == *id) {
            let c = std::mem::replace(cur, clap::Command::new("imgform"));
            *cur = c.mut_arg(*id, |a| a.hide(true));
        }
    }
    let long = !args.iter().any(|a| a == "-h");
    Some(
        if long {
            cur.render_long_help()
        } else {
            cur.render_help()
        }
        .to_string(),
    )
}

/// Runs the command line; returns how it ended. Errors are reported by `main`.
pub fn run(args: Vec<String>) -> anyhow::Result<Ended> {
    let mut args = normalize_args(args);
    // `help COMMAND...` is `COMMAND... --help`, as in Terraform and cargo.
    if args.len() > 2 && args[1] == "help" {
        args.remove(1);
        args.push("--help".into());
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(c) => c,
        Err(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
            match help_of(&args) {
                Some(text) => print!("{text}"),
                None => {
                    let _ = e.print();
                }
            }
            return Ok(Ended::Success);
        }
        Err(e) => {
            let ended = if e.use_stderr() {
                Ended::Failed
            } else {
                Ended::Success
            };
            let _ = e.print();
            return Ok(ended);
        }
    };
    // As Terraform's -chdir: the process moves into DIR first, so that every relative path
    // given (a plan file, a -var-file, -state) is DIR's.
    let mut cli = cli;
    if cli.chdir != std::path::Path::new(".") {
        if let Err(e) = std::env::set_current_dir(&cli.chdir) {
            eprintln!(
                "error: Cannot read the configuration directory\n = note: {}: {e}\n = help: -C DIR (Terraform's -chdir) names the directory to run in",
                cli.chdir.display()
            );
            return Ok(Ended::Failed);
        }
        cli.chdir = ".".into();
    }
    let color =
        !cli.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal();
    init_logging(cli.verbose, color);
    let ctx = Context { color_err: color };
    match &cli.command {
        Command::Validate(a) => validate::exec(&cli, &ctx, a),
        Command::Fmt(a) => fmt::exec(&cli, a),
        Command::Graph(a) => graph::exec(&cli, &ctx, a),
        Command::Cloud(c) => cloud::exec(&cli, c),
        Command::Init(a) => init::exec(&cli, &ctx, a),
        Command::Plan(a) => plan::exec(&cli, &ctx, a),
        Command::Apply(a) => apply::exec(&cli, &ctx, a),
        Command::Destroy(a) => apply::exec_destroy(&cli, &ctx, a),
        Command::Refresh(a) => apply::exec_refresh(&cli, &ctx, a),
        Command::Show(a) => state::exec_show(&cli, a),
        Command::Output(a) => state::exec_output(&cli, a),
        Command::Console(a) => console::exec(&cli, &ctx, a),
        Command::State(c) => state::exec(&cli, c),
        Command::Import(a) => state::exec_import(&cli, &ctx, a),
        Command::ForceUnlock(a) => state::exec_unlock(&cli, a),
        Command::Workspace(c) => workspace::exec(&cli, c),
        Command::Version { json } => version(*json),
    }
}

/// `version [-json]`: imgform's version, or Terraform's `version -json` document.
fn version(json: bool) -> anyhow::Result<Ended> {
    if !json {
        println!("imgform {}", env!("CARGO_PKG_VERSION"));
        return Ok(Ended::Success);
    }
    let platform = format!(
        "{}_{}",
        std::env::consts::OS,
        match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        }
    );
    let v = serde_json::json!({
        "terraform_version": crate::render::json::TERRAFORM_FORMAT_VERSION,
        "imgform_version": env!("CARGO_PKG_VERSION"),
        "platform": platform,
        "provider_selections": {"registry.terraform.io/aliyun/alicloud": "built-in"},
        "terraform_outdated": false,
    });
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(Ended::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_dash_long_flags_are_accepted() {
        let got = normalize_args(
            [
                "imgform", "-chdir=x", "validate", "-json", "-v", "-C", "d", "--", "-json",
            ]
            .map(String::from)
            .to_vec(),
        );
        assert_eq!(
            got,
            [
                "imgform",
                "--chdir=x",
                "validate",
                "--json",
                "-v",
                "-C",
                "d",
                "--",
                "-json"
            ]
        );
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
