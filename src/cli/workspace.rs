//! `imgform workspace list|show|new|select|delete`: several states of one configuration,
//! side by side, with Terraform's commands and words. The local backend keeps workspace W
//! in `imgform.state.d/W/` beside the default state file; the PostgreSQL backend keys its
//! rows by workspace. The selection is remembered in `.imgform/environment`, and
//! `--workspace` or `IMGFORM_WORKSPACE` overrides it (as `TF_WORKSPACE` does).

use super::run;
use super::{Cli, Ended};
use crate::state::backend::Locked;
use crate::state::workspace::{self, Home};
use anyhow::{bail, Context as _};

/// The workspace subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Cmd {
    /// List the workspaces, the selected one marked with `*`.
    List,
    /// Print the name of the selected workspace.
    Show,
    /// Create a workspace with an empty state, and select it.
    New {
        /// The new workspace's name.
        name: String,
    },
    /// Select a workspace.
    Select {
        /// The workspace to select.
        name: String,
        /// Create the workspace if it does not exist.
        #[arg(long = "or-create")]
        or_create: bool,
    },
    /// Delete a workspace; one whose state still tracks objects only with --force.
    Delete {
        /// The workspace to delete.
        name: String,
        /// Delete even a workspace whose state tracks objects (they are forgotten, not
        /// destroyed).
        #[arg(long)]
        force: bool,
        /// Take the workspace's state lock while checking it (--lock=false skips it).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
        lock: bool,
        /// How long to wait for the state lock (e.g. 30s, 5m).
        #[arg(long = "lock-timeout", default_value = "0s")]
        lock_timeout: String,
    },
}

/// Where the workspaces of this configuration live.
fn home(cli: &Cli) -> Home {
    let (cfg, _) = crate::config::load::load_dir(&cli.chdir);
    if cli.state.is_none() {
        if let Some((conn, schema)) = run::pg_settings(&cfg.settings) {
            return Home::Pg(conn, schema);
        }
    }
    Home::Local(run::default_state_path(cli, &cfg.settings))
}

fn select(cli: &Cli, ws: &str) -> anyhow::Result<()> {
    let path = run::workspace_file(cli);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    // Written whole and renamed into place: a kill never leaves half a name.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{ws}\n"))
        .and_then(|_| std::fs::rename(&tmp, &path))
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Runs a workspace subcommand.
pub fn exec(cli: &Cli, cmd: &Cmd) -> anyhow::Result<Ended> {
    let (current, overridden) = run::workspace(cli)?;
    let home = home(cli);
    match cmd {
        Cmd::Show => println!("{current}"),
        Cmd::List => {
            let mut out = String::new();
            for w in home.list()? {
                out.push_str(if w == current { "* " } else { "  " });
                out.push_str(&w);
                out.push('\n');
            }
            println!("{out}");
            if overridden {
                println!("The active workspace is being overridden using the IMGFORM_WORKSPACE environment\nvariable (or --workspace).");
            }
        }
        Cmd::New { name } => {
            workspace::check_name(name)?;
            if overridden && *name != current {
                bail!("The workspace is currently overridden using the IMGFORM_WORKSPACE environment\nvariable (or --workspace). You cannot create a new workspace when using this setting.\n\nTo create a new workspace, either unset this environment variable or update it\nto match the workspace name you are trying to create, and then run this command\nagain.");
            }
            if home.list()?.contains(name) {
                bail!("Workspace {name:?} already exists");
            }
            home.open(name)?;
            select(cli, name)?;
            println!("Created and switched to workspace {name:?}!\n\nYou're now on a new, empty workspace. Workspaces isolate their state,\nso if you run \"imgform plan\" imgform will not see any existing state\nfor this configuration.");
        }
        Cmd::Select { name, or_create } => {
            workspace::check_name(name)?;
            if overridden {
                bail!("The selected workspace is currently overridden using the IMGFORM_WORKSPACE\nenvironment variable (or --workspace).\n\nTo select a new workspace, either update this environment variable or unset\nit and then run this command again.");
            }
            if !home.list()?.contains(name) {
                if !or_create {
                    bail!("{}", run::workspace_missing(name));
                }
                home.open(name)?;
            }
            select(cli, name)?;
            println!("Switched to workspace {name:?}.");
        }
        Cmd::Delete {
            name,
            force,
            lock,
            lock_timeout,
        } => return delete(&home, &current, name, *force, *lock, lock_timeout),
    }
    Ok(Ended::Success)
}

/// `workspace delete`: never the active workspace nor `default`, and one whose state still
/// tracks objects only with `-force`.
fn delete(
    home: &Home,
    current: &str,
    name: &str,
    force: bool,
    lock: bool,
    lock_timeout: &str,
) -> anyhow::Result<Ended> {
    workspace::check_name(name)?;
    if !home.list()?.iter().any(|w| w == name) {
        bail!("{}", run::workspace_missing(name));
    }
    if name == current {
        bail!("Workspace {name:?} is your active workspace.\n\nYou cannot delete the currently active workspace. Please switch\nto another workspace and try again.");
    }
    if name == workspace::DEFAULT {
        bail!("cannot delete default state");
    }
    let mut store = home.open(name)?;
    let tracked: Vec<String> = {
        let timeout = run::lock_timeout(lock_timeout)?;
        let state = if lock {
            let l = Locked::take(&mut store, "workspace delete", timeout)?;
            let s = l.load()?;
            l.release()?;
            s
        } else {
            store.load()?
        };
        state
            .resources
            .values()
            .filter(|r| r.addr.id.mode == crate::addr::Mode::Managed)
            .map(|r| r.addr.to_string())
            .collect()
    };
    if !tracked.is_empty() && !force {
        let list: String = tracked.iter().map(|a| format!("\n  - {a}")).collect();
        eprintln!("\nError: Workspace is not empty\n\nWorkspace {name:?} is currently tracking the following resource instances:{list}\n\nDeleting this workspace would cause imgform to lose track of any associated remote objects, which would then require you to delete them manually outside of imgform. You should destroy these objects with imgform before deleting the workspace.\n\nIf you want to delete this workspace anyway, and have imgform forget about these managed objects, use the -force option to disable this safety check.");
        return Ok(Ended::Failed);
    }
    drop(store);
    home.delete(name)?;
    println!("Deleted workspace {name:?}!");
    if !tracked.is_empty() {
        println!("WARNING: {name:?} was non-empty.\nThe resources managed by the deleted workspace may still exist,\nbut are no longer manageable by imgform since the state has\nbeen deleted.");
    }
    Ok(Ended::Success)
}
