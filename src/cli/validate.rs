//! `imgform validate [--json]`: parse and check the configuration.

use super::{Cli, Context, Ended, VarArgs};
use crate::config::check;
use crate::render;

/// Flags of `validate`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print Terraform's `validate -json` document on stdout.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    vars: VarArgs,
}

/// Runs `validate`.
pub fn exec(cli: &Cli, ctx: &Context, a: &Args) -> anyhow::Result<Ended> {
    let opts = super::run::config_options(cli, &a.vars);
    let (_, diags, sources) = check::load_with_sources(&opts);
    if a.json {
        let doc = render::diag::validate_json(&sources, &diags);
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        eprint!(
            "{}",
            render::diag::human_all(&sources, &diags, ctx.color_err)
        );
        if !diags.has_errors() {
            let w = diags.warning_count();
            if w > 0 {
                println!("Success! The configuration is valid, but there were {w} warning(s).");
            } else {
                println!("Success! The configuration is valid.");
            }
        }
    }
    Ok(if diags.has_errors() {
        Ended::Failed
    } else {
        Ended::Success
    })
}
