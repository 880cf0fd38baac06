//! What plan, apply, destroy, import and the state commands share: the run context (the
//! configuration, the state store, the cloud session, the local cloud when `--cloud
//! local`), refresh-then-plan, saved plan files and the confirmation prompt.

use super::{Cli, CloudKind, Context, VarArgs};
use crate::cloud::client::Scheme;
use crate::config::check::{self, Evaluated, Options};
use crate::config::vars::VarOptions;
use crate::plan::model::{Options as PlanOptions, Plan};
use crate::render;
use crate::state::backend::Backend;
use crate::state::store::Store;
use anyhow::Context as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

/// Flags shared by plan, apply and destroy.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub vars: VarArgs,
    /// Show sensitive values in the human plan instead of `(sensitive value)` (never in
    /// markdown or JSON). For a person at a terminal, not for CI logs.
    #[arg(long = "show-sensitive")]
    pub show_sensitive: bool,
    /// List warnings one line each, errors still in full.
    #[arg(long = "compact-warnings")]
    pub compact_warnings: bool,
    /// Only plan changes to these addresses and what they depend on (repeatable).
    #[arg(long = "target", value_name = "ADDR")]
    pub targets: Vec<String>,
    /// Replace this object even if nothing changed (repeatable).
    #[arg(long = "replace", value_name = "ADDR")]
    pub replace: Vec<String>,
    /// Refresh the state from the cloud first (--refresh=false skips it).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    /// Only reconcile the state with the cloud; propose no changes.
    #[arg(long = "refresh-only")]
    pub refresh_only: bool,
    /// API requests in flight at most.
    #[arg(long, default_value_t = 10)]
    pub parallelism: usize,
    /// Objects being created at once at most.
    #[arg(long = "max-in-progress")]
    pub max_in_progress: Option<usize>,
    /// How long to wait for the state lock (e.g. 30s, 5m).
    #[arg(long = "lock-timeout", default_value = "0s")]
    pub lock_timeout: String,
    /// Take the state lock (--lock=false skips it: only when nothing else can run).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub lock: bool,
    /// Ask for input (--input=false never prompts: apply then needs --auto-approve or a
    /// saved plan, as in Terraform's -input=false for CI).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub input: bool,
    /// Sign requests with RPC HMAC-SHA1 (v1) instead of ACS3-HMAC-SHA256 (v3).
    #[arg(long, value_parser = ["v1", "v3"])]
    pub signature: Option<String>,
}

pub use crate::ops::Run;

/// The options for loading the configuration from the global flags and `vars`.
pub fn config_options(cli: &Cli, vars: &VarArgs) -> Options {
    Options {
        dir: cli.chdir.clone(),
        vars: VarOptions::from_env(vars.var_files.clone(), vars.vars.clone()),
        allow_files_outside: cli.allow_files_outside.clone(),
        untrusted_config: cli.untrusted_config,
    }
}

/// Starts Terraform's machine-readable UI for `-json` (its version line first), runs
/// `body` and ends the stream: an error becomes a diagnostic line like every other.
pub fn streamed<J: std::ops::Deref<Target = render::json::JsonLines>>(
    jl: Option<J>,
    body: impl FnOnce(Option<&J>) -> anyhow::Result<super::Ended>,
) -> anyhow::Result<super::Ended> {
    if let Some(jl) = &jl {
        jl.version();
    }
    match (body(jl.as_ref()), &jl) {
        (Err(e), Some(jl)) => {
            jl.error(&format!("{e:#}"), "");
            Ok(super::Ended::Failed)
        }
        (r, _) => r,
    }
}

/// Loads and checks the configuration, printing diagnostics.
pub fn load_config(cli: &Cli, ctx: &Context, vars: &VarArgs) -> anyhow::Result<Option<Evaluated>> {
    load_config_with(cli, ctx, vars, false, None)
}

/// Like [`load_config`]; with `compact`, warnings are listed one line each
/// (`-compact-warnings`); with `json`, diagnostics are Terraform's `diagnostic` lines.
pub fn load_config_with(
    cli: &Cli,
    ctx: &Context,
    vars: &VarArgs,
    compact: bool,
    json: Option<&render::json::JsonLines>,
) -> anyhow::Result<Option<Evaluated>> {
    let opts = config_options(cli, vars);
    let t = std::time::Instant::now();
    let (ev, diags, sources) = check::load_with_sources(&opts);
    tracing::debug!(
        instances = ev.as_ref().map_or(0, |e| e.instances.len()),
        ms = t.elapsed().as_millis() as u64,
        "configuration checked"
    );
    if let Some(jl) = json {
        jl.diagnostics(&sources, &diags);
        return Ok(ev);
    }
    let text = if compact {
        render::diag::human_compact(&sources, &diags, ctx.color_err)
    } else {
        render::diag::human_all(&sources, &diags, ctx.color_err)
    };
    eprint!("{text}");
    Ok(ev)
}

fn env(k: &str) -> Option<String> {
    std::env::var(k).ok().filter(|v| !v.is_empty())
}

/// Opens the state backend the flags and settings name, takes its lock for `operation`
/// (waiting up to `timeout`), starts the local cloud for `--cloud local` and connects
/// (`ops::Run::open`).
pub fn open(
    cli: &Cli,
    ev: Evaluated,
    signature: Option<&str>,
    operation: &str,
    timeout: Duration,
    lock: bool,
) -> anyhow::Result<Run> {
    let backend = open_backend(cli, &ev.config.settings)?;
    Run::open(
        ev,
        backend,
        &crate::ops::OpenOptions {
            dir: cli.chdir.clone(),
            local_cloud: cli.cloud == CloudKind::Local,
            scheme: signature.map(|s| if s == "v1" { Scheme::V1 } else { Scheme::V3 }),
            operation: operation.into(),
            lock_timeout: timeout,
            lock,
        },
    )
}

/// Where the state lives: `--state PATH` (a local file), the PostgreSQL team backend
/// (`backend "pg"` or `IMGFORM_PG_CONN_STR`), or the local file `state_path` /
/// `imgform.state.db`.
pub fn open_backend(
    cli: &Cli,
    settings: &crate::config::Settings,
) -> anyhow::Result<Box<dyn Backend>> {
    if cli.state.is_none() {
        if let Some((conn, schema)) = pg_settings(settings) {
            let pg = crate::state::pg::PgStore::open(&conn, &schema, &workspace(cli)?.0)?;
            return Ok(Box::new(pg));
        }
    }
    let path = local_state_path(cli, settings)?;
    let ws = workspace(cli)?.0;
    if ws != crate::state::workspace::DEFAULT && !path.exists() {
        anyhow::bail!("{}", workspace_missing(&ws));
    }
    let store = Store::open(&path)
        .with_context(|| format!("cannot open the state at {}", path.display()))?;
    Ok(Box::new(store))
}

/// The PostgreSQL connection string and schema, when the team backend is configured.
pub fn pg_settings(settings: &crate::config::Settings) -> Option<(String, String)> {
    let schema = settings
        .backend
        .as_ref()
        .map(|b| b.schema_name.clone())
        .unwrap_or_else(|| "imgform".into());
    let conn = env("IMGFORM_PG_CONN_STR")
        .or_else(|| settings.backend.as_ref().and_then(|b| b.conn_str.clone()))?;
    Some((conn, schema))
}

/// The local state file of the selected workspace: `--state`, `imgform { state_path }`,
/// or `imgform.state.db` for `default`; for another workspace W, the file of the same name
/// in `imgform.state.d/W/` beside it (Terraform's `terraform.tfstate.d/W/`).
pub fn local_state_path(cli: &Cli, settings: &crate::config::Settings) -> anyhow::Result<PathBuf> {
    let ws = workspace(cli)?.0;
    Ok(crate::state::workspace::state_path(
        &default_state_path(cli, settings),
        &ws,
    ))
}

/// The local state file of the `default` workspace.
pub fn default_state_path(cli: &Cli, settings: &crate::config::Settings) -> PathBuf {
    if let Some(p) = &cli.state {
        return p.clone();
    }
    if let Some(s) = settings
        .state_path
        .as_ref()
        .and_then(|a| crate::config::load::literal_str(&a.expr))
    {
        return cli.chdir.join(s);
    }
    cli.chdir.join("imgform.state.db")
}

/// Terraform's words for a workspace that does not exist.
pub fn workspace_missing(ws: &str) -> String {
    format!("Workspace {ws:?} doesn't exist.\n\nYou can create this workspace with the \"new\" subcommand \nor include the \"-or-create\" flag with the \"select\" subcommand.")
}

/// The file that remembers the selected workspace (Terraform's `.terraform/environment`).
pub fn workspace_file(cli: &Cli) -> PathBuf {
    cli.chdir.join(".imgform").join("environment")
}

/// The selected workspace, and whether `--workspace` or `IMGFORM_WORKSPACE` chose it
/// (overriding what `imgform workspace select` remembered).
pub fn workspace(cli: &Cli) -> anyhow::Result<(String, bool)> {
    if let Some(w) = cli.workspace.as_deref().filter(|w| !w.is_empty()) {
        crate::state::workspace::check_name(w)?;
        return Ok((w.to_string(), true));
    }
    let path = workspace_file(cli);
    match std::fs::read_to_string(&path) {
        Ok(s) if !s.trim().is_empty() => {
            let w = s.trim().to_string();
            crate::state::workspace::check_name(&w)
                .with_context(|| format!("{} names no valid workspace", path.display()))?;
            Ok((w, false))
        }
        _ => Ok((crate::state::workspace::DEFAULT.into(), false)),
    }
}

/// Parses `--lock-timeout`.
pub fn lock_timeout(s: &str) -> anyhow::Result<Duration> {
    crate::config::load::parse_go_duration(s)
        .with_context(|| format!("--lock-timeout {s:?} is not a duration such as 30s or 5m"))
}

/// Which confirmation to ask, in Terraform's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// `apply`.
    Apply,
    /// `destroy` (or `apply --destroy`).
    Destroy,
    /// Applying a refresh-only plan.
    RefreshOnly,
    /// `force-unlock` without `-force`.
    ForceUnlock,
}

impl Prompt {
    /// The question, its explanation and the acceptance line.
    fn text(self) -> &'static str {
        match self {
            Prompt::Apply => "Do you want to perform these actions?\n  imgform will perform the actions described above.\n  Only 'yes' will be accepted to approve.",
            Prompt::Destroy => "Do you really want to destroy all resources?\n  imgform will destroy all your managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm.",
            Prompt::ForceUnlock => "Do you really want to force-unlock?\n  imgform will remove the lock on the state.\n  This will allow local imgform commands to modify this state, even though it\n  may still be in use. Only 'yes' will be accepted to confirm.",
            Prompt::RefreshOnly => "Would you like to update the imgform state to reflect these detected changes?\n  imgform will write these changes to the state without modifying any real infrastructure.\n  There is no undo. Only 'yes' will be accepted to confirm.",
        }
    }
}

/// Asks for `yes`.
pub fn confirm(p: Prompt) -> anyhow::Result<bool> {
    let mut out = std::io::stdout();
    write!(out, "\n{}\n\n  Enter a value: ", p.text())?;
    out.flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    println!();
    Ok(line.trim() == "yes")
}

/// Installs the Ctrl-C handler: the first interrupt stops starting new operations, the
/// second exits at once (the state stays consistent either way).
pub fn interrupts(rt: &tokio::runtime::Runtime, stop: crate::cloud::waiter::Stop) {
    let s = stop;
    rt.spawn(async move {
        // SIGTERM (what CI runners and `kill` send) counts as an interrupt, as in Terraform.
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        if interrupted(&mut term).await {
            s.trigger();
            // Above the live display on a terminal, where it would otherwise be drawn over.
            crate::render::apply::announce("\nInterrupt received.\nPlease wait for imgform to exit or data loss may occur.\nGracefully shutting down...");
            if interrupted(&mut term).await {
                crate::render::apply::announce("\nTwo interrupts received. Exiting immediately. The state records every operation in flight; run `imgform apply` again to resume.");
                std::process::exit(130);
            }
        }
    });
}

/// Waits for Ctrl-C or SIGTERM; false if neither can be waited for.
async fn interrupted(term: &mut Option<tokio::signal::unix::Signal>) -> bool {
    match term {
        Some(t) => tokio::select! {
            r = tokio::signal::ctrl_c() => r.is_ok(),
            r = t.recv() => r.is_some(),
        },
        None => tokio::signal::ctrl_c().await.is_ok(),
    }
}

/// True when stdout is a terminal and colour is allowed.
/// The human plan as printed: with Terraform's anchor lines when `IMGFORM_TEXT=terraform`
/// (for the PR tools that parse Terraform's text; see examples/ci/README.md).
pub fn plan_text(text: String) -> String {
    match std::env::var("IMGFORM_TEXT").as_deref() {
        Ok("terraform") => crate::render::plan::as_terraform(&text),
        _ => text,
    }
}

pub fn color_out(cli: &Cli) -> bool {
    !cli.no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

pub use crate::plan::file::{read_plan_file, write_plan_file};

/// The plan options from flags.
pub fn plan_options(a: &PlanArgs, destroy: bool) -> PlanOptions {
    PlanOptions {
        destroy,
        refresh_only: a.refresh_only,
        no_refresh: !a.refresh,
        targets: a.targets.clone(),
        replace: a.replace.clone(),
    }
}

/// Refreshes and plans (`ops::plan`), showing the diagnostics: as Terraform's
/// `diagnostic` lines with `json`, on stderr otherwise. With `refresh_lines`, each object
/// read is Terraform's `Refreshing state... [id=…]` line (never in a markdown comment).
pub fn make_plan(
    run: &Run,
    ctx: &Context,
    opts: &PlanOptions,
    json: Option<&render::json::JsonLines>,
    refresh_lines: bool,
) -> anyhow::Result<Option<Plan>> {
    let lines = render::apply::Lines::new(Duration::from_secs(10), false);
    let sink: &dyn crate::events::EventSink = match json {
        Some(jl) => jl,
        None if refresh_lines => &lines,
        None => &crate::events::Discard,
    };
    let planned = crate::ops::plan::plan(run, opts, sink)?;
    show_diags(run, ctx, &planned.diags, json);
    Ok(planned.plan)
}

/// Shows diagnostics of a run: as Terraform's `diagnostic` lines with `json`, on stderr
/// otherwise.
pub fn show_diags(
    run: &Run,
    ctx: &Context,
    diags: &crate::diag::Diagnostics,
    json: Option<&render::json::JsonLines>,
) {
    match json {
        Some(jl) => jl.diagnostics(&run.ev.config.sources, diags),
        None => eprint!(
            "{}",
            render::diag::human_all(&run.ev.config.sources, diags, ctx.color_err)
        ),
    }
}
