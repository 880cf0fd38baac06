//! `imgform init`: what `terraform init` does that imgform needs, so that CI scripts which
//! run `init` first keep working. It reads and checks the configuration, opens (or
//! creates) the state in its backend, and resolves each provider's region and credentials,
//! without calling the cloud. There is nothing to download (the provider is built in), and
//! a second run changes nothing.

use super::run;
use super::{Cli, Context, Ended, VarArgs};
use std::time::Duration;

/// Flags of `init`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    vars: VarArgs,
    /// Accepted for Terraform's scripts: the provider is built in, so there is nothing to
    /// upgrade.
    #[arg(long)]
    upgrade: bool,
    /// Accepted for Terraform's scripts: init never prompts.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    input: bool,
    /// How long to wait for the state lock (e.g. 30s, 5m).
    #[arg(long = "lock-timeout", default_value = "0s")]
    lock_timeout: String,
}

/// Runs `init`.
pub fn exec(cli: &Cli, ctx: &Context, a: &Args) -> anyhow::Result<Ended> {
    let _ = (a.upgrade, a.input);
    let Some(ev) = run::load_config(cli, ctx, &a.vars)? else {
        return Ok(Ended::Failed);
    };
    let timeout: Duration = run::lock_timeout(&a.lock_timeout)?;
    println!("\nInitializing the backend...");
    let run = run::open(cli, ev, None, "init", timeout, true)?;
    let (where_, st) = {
        let store = run.store.lock().expect("never poisoned");
        (store.describe(), store.load()?)
    };
    println!(
        "  state: {where_} (lineage {}, serial {}, {} object(s))",
        st.lineage,
        st.serial,
        st.resources.len()
    );
    println!("\nInitializing provider plugins...");
    for (key, region) in &run.sess.regions {
        println!("  {key}: built in, region {region}, credentials found");
    }
    println!("\nimgform has been successfully initialized!\n\nYou may now begin working with imgform. Try running \"imgform plan\" to see\nany changes that are required for your infrastructure.");
    Ok(Ended::Success)
}
