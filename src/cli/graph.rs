//! `imgform graph [--format dot|mermaid]`: the dependency graph of the configuration.

use super::{Cli, Context, Ended, VarArgs};
use crate::config::check;
use crate::render;

/// Output format.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Format {
    /// Graphviz DOT.
    Dot,
    /// A Mermaid flowchart (renders in GitHub markdown).
    Mermaid,
}

/// Flags of `graph`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value = "dot")]
    pub format: Format,
    #[command(flatten)]
    vars: VarArgs,
}

/// Runs `graph`.
pub fn exec(cli: &Cli, ctx: &Context, a: &Args) -> anyhow::Result<Ended> {
    let opts = super::run::config_options(cli, &a.vars);
    let (ev, diags, sources) = check::load_with_sources(&opts);
    eprint!(
        "{}",
        render::diag::human_all(&sources, &diags, ctx.color_err)
    );
    let Some(ev) = ev else {
        return Ok(Ended::Failed);
    };
    let out = match a.format {
        Format::Dot => render::graph::dot(&ev.graph),
        Format::Mermaid => render::graph::mermaid(&ev.graph),
    };
    print!("{out}");
    Ok(Ended::Success)
}
