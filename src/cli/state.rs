//! State inspection and editing: `state list|show|rm|mv|pull|push`, `show`, `output`,
//! `import ADDR ID` and `force-unlock LOCK_ID`. `state rm` forgets; it never destroys.

use super::run;
use super::{Cli, Context, Ended, VarArgs};
use crate::addr::ResourceAddr;
use crate::render;
use crate::state::backend::Backend;
use crate::state::edit;
use crate::state::State;
use anyhow::{bail, Context as _};
use std::path::PathBuf;
use std::time::Duration;

/// `state` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// List addresses in state (optionally only those matching ADDR prefixes).
    List {
        /// Address prefixes.
        addrs: Vec<String>,
        /// List the applies the history keeps instead: serial, time, summary.
        #[arg(long)]
        history: bool,
    },
    /// Show one object's attributes.
    Show { addr: String },
    /// Forget objects without destroying them.
    Rm {
        /// Addresses.
        #[arg(required = true)]
        addrs: Vec<String>,
        /// Only print what would be forgotten.
        #[arg(long = "dry-run")]
        dry_run: bool,
    },
    /// Move an object to another address.
    Mv {
        /// Old address.
        src: String,
        /// New address.
        dst: String,
        /// Only print what would move.
        #[arg(long = "dry-run")]
        dry_run: bool,
    },
    /// Print the state as JSON.
    Pull {
        /// Print the state as it was after the apply that left this serial (see
        /// `state list --history`).
        #[arg(long, value_name = "N")]
        serial: Option<u64>,
    },
    /// Copy the state between the local file and the PostgreSQL backend (lineage kept).
    Migrate {
        /// Where to: `pg` or `local`.
        #[arg(long, value_parser = ["pg", "local"])]
        to: String,
    },
    /// Adopt the images a Terraform state manages (format 4; `-` reads stdin, e.g. from
    /// `terraform state pull`), at the same addresses, without creating or deleting anything.
    ImportTerraform {
        /// The Terraform state file, or `-`.
        path: PathBuf,
        /// Only print what would be adopted.
        #[arg(long = "dry-run")]
        dry_run: bool,
        #[command(flatten)]
        vars: VarArgs,
    },
    /// Replace the state with a JSON file (lineage and serial are checked).
    Push {
        /// The file (`state pull` output).
        file: PathBuf,
        /// Push even when the serial is not newer.
        #[arg(long)]
        force: bool,
    },
}

pub(crate) fn open_store(cli: &Cli) -> anyhow::Result<Box<dyn Backend>> {
    let (cfg, _) = crate::config::load::load_dir(&cli.chdir);
    if cli.state.is_none() && run::pg_settings(&cfg.settings).is_some() {
        return run::open_backend(cli, &cfg.settings);
    }
    let path = run::local_state_path(cli, &cfg.settings)?;
    if !path.exists() {
        bail!("no state at {}: nothing has been applied here yet (use --state PATH to point elsewhere)", path.display());
    }
    run::open_backend(cli, &cfg.settings)
}

fn parse(a: &str) -> anyhow::Result<ResourceAddr> {
    a.parse().map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs a `state` subcommand.
pub fn exec(cli: &Cli, cmd: &Cmd) -> anyhow::Result<Ended> {
    if let Cmd::Migrate { to } = cmd {
        return migrate(cli, to);
    }
    if let Cmd::ImportTerraform {
        path,
        dry_run,
        vars,
    } = cmd
    {
        return import_terraform(cli, path, *dry_run, vars);
    }
    let mut store = open_store(cli)?;
    match cmd {
        Cmd::List { history, addrs } => list(&mut store, *history, addrs),
        Cmd::Show { addr } => {
            let a = parse(addr)?;
            let st = store.load()?;
            let r = st
                .resources
                .get(&a)
                .with_context(|| format!("{a} is not in the state"))?;
            print!("{}", crate::render::state::resource(r));
            Ok(Ended::Success)
        }
        Cmd::Rm { addrs, dry_run } => rm(&mut store, addrs, *dry_run),
        Cmd::Mv { src, dst, dry_run } => {
            let (s, d) = (parse(src)?, parse(dst)?);
            edit::mv(&mut store, &s, &d, *dry_run)?;
            if *dry_run {
                println!("Would move {s} to {d}");
            } else {
                println!("Move {s} to {d}\nSuccessfully moved 1 object.");
            }
            Ok(Ended::Success)
        }
        Cmd::Migrate { .. } | Cmd::ImportTerraform { .. } => unreachable!("handled above"),
        Cmd::Pull { serial } => pull(&mut store, *serial),
        Cmd::Push { file, force } => push(&mut store, file, *force),
    }
}

/// `state list [--history] [ADDR...]`.
fn list(store: &mut Box<dyn Backend>, history: bool, addrs: &[String]) -> anyhow::Result<Ended> {
    if history {
        let h = store.history()?;
        if h.is_empty() {
            println!("The history is empty: no apply has been recorded yet.");
        }
        for (serial, time, summary) in h {
            println!("{serial}\t{time}\t{summary}");
        }
        return Ok(Ended::Success);
    }
    for a in store.load()?.resources.keys() {
        let s = a.to_string();
        if addrs.is_empty()
            || addrs
                .iter()
                .any(|p| s == *p || s.starts_with(&format!("{p}[")) || a.id.to_string() == *p)
        {
            println!("{s}");
        }
    }
    Ok(Ended::Success)
}

/// `state rm [--dry-run] ADDR...`: forgets, never destroys.
fn rm(store: &mut Box<dyn Backend>, addrs: &[String], dry_run: bool) -> anyhow::Result<Ended> {
    let addrs: Vec<ResourceAddr> = addrs
        .iter()
        .map(|a| parse(a))
        .collect::<anyhow::Result<_>>()?;
    let gone = edit::rm(store, &addrs, dry_run)?;
    let verb = if dry_run { "Would remove" } else { "Removed" };
    for m in &gone {
        println!("{verb} {m}");
    }
    if !dry_run {
        println!("Successfully removed {} resource instance(s). The objects still exist in the cloud; imgform no longer manages them.", gone.len());
    }
    Ok(Ended::Success)
}

/// `state pull [--serial N]`: the state, or one the history keeps, as JSON.
fn pull(store: &mut Box<dyn Backend>, serial: Option<u64>) -> anyhow::Result<Ended> {
    let doc = match serial {
        None => store.load()?.to_json(),
        Some(n) => match store.history_snapshot(n)? {
            Some(snap) => snap,
            None => {
                let kept: Vec<String> = store.history()?.iter().map(|h| h.0.to_string()).collect();
                bail!(
                    "the history keeps no state with serial {n}; it keeps serials {} (see `imgform state list --history`; imgform {{ history_retention = N }} keeps more)",
                    if kept.is_empty() { "none".to_string() } else { kept.join(", ") }
                );
            }
        },
    };
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(Ended::Success)
}

/// `state push [--force] FILE`: every field checked, then the whole state replaced in one
/// transaction.
fn push(
    store: &mut Box<dyn Backend>,
    file: &std::path::Path,
    force: bool,
) -> anyhow::Result<Ended> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let new = State::from_json(&v).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    edit::push(store, &new, force)?;
    println!(
        "Pushed {} object(s); serial {}.",
        new.resources.len(),
        new.serial
    );
    Ok(Ended::Success)
}

/// Flags of `show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// A saved plan; without it, the state.
    pub planfile: Option<PathBuf>,
    /// Terraform's JSON shape.
    #[arg(long)]
    pub json: bool,
}

/// Runs `show`.
pub fn exec_show(cli: &Cli, a: &ShowArgs) -> anyhow::Result<Ended> {
    if let Some(p) = &a.planfile {
        let plan = run::read_plan_file(p)?;
        if a.json {
            // Streamed: a plan of 50,000 objects is never held as one document.
            let out = std::io::stdout();
            let mut w = std::io::BufWriter::new(out.lock());
            render::json::write_plan(&plan, &mut w)?;
            std::io::Write::write_all(&mut w, b"\n")?;
            std::io::Write::flush(&mut w)?;
        } else {
            print!(
                "{}",
                run::plan_text(render::plan::human(
                    &plan,
                    render::plan::Style {
                        color: run::color_out(cli),
                        reveal: false,
                    }
                ))
            );
        }
        return Ok(Ended::Success);
    }
    let st = open_store(cli)?.load()?;
    if a.json {
        println!("{}", serde_json::to_string(&render::json::state(&st))?);
    } else if st.resources.is_empty() {
        println!("The state is empty. No resources are represented.");
    } else {
        for r in st.resources.values() {
            println!("{}", crate::render::state::resource(r));
        }
        if !st.outputs.is_empty() {
            println!("Outputs:\n");
            for (k, v) in &st.outputs {
                println!(
                    "{k} = {}",
                    if v.sensitive {
                        "(sensitive value)".to_string()
                    } else {
                        render::value::hcl(&v.value, 0)
                    }
                );
            }
        }
    }
    Ok(Ended::Success)
}

/// Flags of `output`.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// One output.
    pub name: Option<String>,
    /// JSON.
    #[arg(long, conflicts_with = "raw")]
    pub json: bool,
    /// The raw string value, without quotes.
    #[arg(long)]
    pub raw: bool,
}

/// Runs `output`.
pub fn exec_output(cli: &Cli, a: &OutputArgs) -> anyhow::Result<Ended> {
    let st = open_store(cli)?.load()?;
    match &a.name {
        Some(n) => {
            let Some(o) = st.outputs.get(n) else {
                eprintln!(
                    "error: output {n:?} not found; the outputs are: {}",
                    st.outputs.keys().cloned().collect::<Vec<_>>().join(", ")
                );
                return Ok(Ended::Failed);
            };
            if a.raw {
                match &o.value {
                    serde_json::Value::String(s) => print!("{s}"),
                    serde_json::Value::Number(_) | serde_json::Value::Bool(_) => {
                        print!("{}", o.value)
                    }
                    _ => {
                        bail!("--raw only prints strings, numbers and booleans; use --json for {n}")
                    }
                }
            } else if a.json {
                println!("{}", o.value);
            } else {
                // As Terraform: naming the output shows its value, sensitive or not.
                println!("{}", render::value::hcl(&o.value, 0));
            }
        }
        None => {
            if a.json {
                let m: serde_json::Map<String, serde_json::Value> = st.outputs.iter().map(|(k, v)| (k.clone(), serde_json::json!({"sensitive": v.sensitive, "type": kind(&v.value), "value": v.value}))).collect();
                println!("{}", serde_json::to_string_pretty(&m)?);
            } else {
                for (k, v) in &st.outputs {
                    println!(
                        "{k} = {}",
                        if v.sensitive {
                            "<sensitive>".to_string()
                        } else {
                            render::value::hcl(&v.value, 0)
                        }
                    );
                }
            }
        }
    }
    Ok(Ended::Success)
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::String(_) => "string",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Array(_) => "list",
        serde_json::Value::Object(_) => "map",
        serde_json::Value::Null => "null",
    }
}

/// Flags of `import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The address in the configuration.
    pub addr: String,
    /// The cloud id (`m-...`, `ip-...`, `exec-...`).
    pub id: String,
    #[command(flatten)]
    pub vars: VarArgs,
}

/// Runs `import`: reads the object from the cloud and records it at ADDR.
pub fn exec_import(cli: &Cli, ctx: &Context, a: &ImportArgs) -> anyhow::Result<Ended> {
    let addr = parse(&a.addr)?;
    let Some(ev) = run::load_config(cli, ctx, &a.vars)? else {
        return Ok(Ended::Failed);
    };
    let Some(inst) = ev.instances.get(&addr).cloned() else {
        bail!("{addr} is not in the configuration: write its resource block first, then import into it");
    };
    let run = run::open(cli, ev, None, "import", Duration::from_secs(0), true)?;
    run.rt
        .block_on(crate::apply::import(
            &run.sess,
            &run.store,
            &addr,
            &inst.provider,
            &a.id,
        ))
        .map_err(anyhow::Error::msg)?;
    println!("{addr}: Import prepared!\n  Prepared {} for import\n\nImport successful!\n\nThe resources that were imported are shown above. These resources are now in your imgform state and will henceforth be managed by imgform.", addr.id.kind);
    Ok(Ended::Success)
}

/// The region of each provider key: its block's `region`, or the environment's, and for
/// the default provider the local cloud's region.
fn provider_regions(
    cli: &Cli,
    ev: &crate::config::check::Evaluated,
) -> std::collections::BTreeMap<String, String> {
    let env_region = std::env::var("ALIBABA_CLOUD_REGION_ID")
        .or_else(|_| std::env::var("ALICLOUD_REGION"))
        .ok();
    let mut regions: std::collections::BTreeMap<String, String> = ev
        .providers
        .iter()
        .filter_map(|(k, a)| {
            let r = a.get("region").and_then(|v| v.as_str()).map(String::from);
            Some((k.clone(), r.or_else(|| env_region.clone())?))
        })
        .collect();
    if let Some(r) = env_region
        .clone()
        .or_else(|| (cli.cloud == super::CloudKind::Local).then(|| "cn-hangzhou".to_string()))
    {
        regions.entry("alicloud".into()).or_insert(r);
    }
    regions
}

/// `state import-terraform`: the provider blocks of the configuration say each object's
/// region; the rows are written in one transaction under the lock.
fn import_terraform(
    cli: &Cli,
    path: &std::path::Path,
    dry_run: bool,
    vars: &VarArgs,
) -> anyhow::Result<Ended> {
    let stdin = path.as_os_str() == "-";
    // A relative path is relative to -C, as Terraform's -chdir and imgform's fmt have it.
    let path = &cli.chdir.join(path);
    let text = if stdin {
        let mut t = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)?;
        t
    } else {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?
    };
    let doc: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a Terraform state (JSON)", path.display()))?;
    let ctx = Context { color_err: false };
    let Some(ev) = run::load_config(cli, &ctx, vars)? else {
        return Ok(Ended::Failed);
    };
    let regions = provider_regions(cli, &ev);
    let mut store = run::open_backend(cli, &ev.config.settings)?;
    let a = crate::ops::adopt::adopt_terraform(&mut store, &doc, &regions, dry_run)?;
    let verb = if dry_run { "Would adopt" } else { "Adopted" };
    for r in &a.take {
        println!(
            "{verb} {} [id={}]",
            r.addr,
            r.id.as_deref().unwrap_or_default()
        );
    }
    for (addr, why) in &a.skipped {
        println!("Skipped {addr}: {why}");
    }
    println!(
        "\n{} {} object(s) from the Terraform state; {} skipped. Nothing was created or deleted.{}",
        verb,
        a.take.len(),
        a.skipped.len(),
        if dry_run {
            ""
        } else {
            " Run `imgform plan`: the same configuration should plan no changes."
        }
    );
    Ok(Ended::Success)
}

/// Flags of `force-unlock`.
#[derive(Debug, clap::Args)]
pub struct UnlockArgs {
    /// The lock id, as printed by the command that could not take the lock.
    pub lock_id: String,
    /// Don't ask for input for unlock confirmation (Terraform's `-force`).
    #[arg(long)]
    pub force: bool,
}

/// Runs `force-unlock`: asks first, as Terraform does, unless `-force`.
pub fn exec_unlock(cli: &Cli, a: &UnlockArgs) -> anyhow::Result<Ended> {
    let mut store = open_store(cli)?;
    if !a.force && !super::run::confirm(super::run::Prompt::ForceUnlock)? {
        println!("force-unlock cancelled.");
        return Ok(Ended::Failed);
    }
    if store.force_unlock(&a.lock_id)? {
        println!("imgform state has been successfully unlocked!\n\nThe state has been unlocked, and imgform commands should now be able to\nobtain a new lock on the state.");
        Ok(Ended::Success)
    } else {
        let held = store.lock_holder()?;
        match held {
            Some(h) => eprintln!("\nError: the state is locked with a different id ({}, held by {} for {}); check the id", h.id, h.who, h.operation),
            None => eprintln!("\nError: the state is not locked"),
        }
        Ok(Ended::Failed)
    }
}

/// `state migrate --to pg|local`: copies the whole state, keeping its lineage; refuses to
/// overwrite a destination with a newer serial or another lineage.
fn migrate(cli: &Cli, to: &str) -> anyhow::Result<Ended> {
    let (cfg, _) = crate::config::load::load_dir(&cli.chdir);
    let Some((conn, schema)) = run::pg_settings(&cfg.settings) else {
        bail!("no PostgreSQL backend is configured: add imgform {{ backend \"pg\" {{ conn_str = \"...\" }} }} or set IMGFORM_PG_CONN_STR");
    };
    let local_path = run::local_state_path(cli, &cfg.settings)?;
    let mut local: Box<dyn Backend> = Box::new(crate::state::store::Store::open(&local_path)?);
    let mut pg: Box<dyn Backend> = Box::new(crate::state::pg::PgStore::open(
        &conn,
        &schema,
        &run::workspace(cli)?.0,
    )?);
    let (src, dst): (&mut Box<dyn Backend>, &mut Box<dyn Backend>) = if to == "pg" {
        (&mut local, &mut pg)
    } else {
        (&mut pg, &mut local)
    };
    let from = edit::migrate(src, dst)?;
    println!(
        "Migrated {} object(s), lineage {}, serial {}, from {} to {}.",
        from.resources.len(),
        from.lineage,
        from.serial,
        src.describe(),
        dst.describe()
    );
    Ok(Ended::Success)
}
