//! `imgform plan`: refresh, diff, print (human, markdown or Terraform's JSON), optionally
//! save the plan; `--detailed-exitcode` returns 2 when there are changes.

use super::run::{self, PlanArgs};
use super::{Cli, Context, Ended};
use crate::render;

/// Output format of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Terraform-style text.
    Human,
    /// Markdown for pull-request comments.
    Markdown,
}

/// Flags of `plan`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: PlanArgs,
    /// Save the plan to FILE for `imgform apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<std::path::PathBuf>,
    /// Exit 2 when the plan has changes (0 when none, 1 on error).
    #[arg(long = "detailed-exitcode")]
    pub detailed_exitcode: bool,
    /// Stream Terraform's machine-readable UI (one JSON object per line: version,
    /// refresh_start/complete, planned_change, change_summary, outputs, diagnostic). The
    /// plan document is `imgform show -json PLANFILE` of a plan saved with --out.
    #[arg(long)]
    pub json: bool,
    /// Human text or markdown.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Plan to destroy everything in state.
    #[arg(long)]
    pub destroy: bool,
}

/// Runs `plan`.
pub fn exec(cli: &Cli, ctx: &Context, a: &Args) -> anyhow::Result<Ended> {
    let jl = a.json.then(|| Box::new(render::json::JsonLines::default()));
    run::streamed(jl, |jl| plan(cli, ctx, a, jl.map(|j| &**j)))
}

fn plan(
    cli: &Cli,
    ctx: &Context,
    a: &Args,
    jl: Option<&render::json::JsonLines>,
) -> anyhow::Result<Ended> {
    let Some(ev) = run::load_config_with(cli, ctx, &a.common.vars, a.common.compact_warnings, jl)?
    else {
        return Ok(Ended::Failed);
    };
    let timeout = run::lock_timeout(&a.common.lock_timeout)?;
    let run = run::open(
        cli,
        ev,
        a.common.signature.as_deref(),
        "plan",
        timeout,
        a.common.lock,
    )?;
    let plan = run::make_plan(
        &run,
        ctx,
        &run::plan_options(&a.common, a.destroy),
        jl,
        a.format == Format::Human,
    );
    // The configuration and the plan live until the process ends, which frees them at
    // once: dropping 50,000 instances and state rows one by one took a tenth of a large
    // plan's time.
    let ev = std::sync::Arc::clone(&run.ev);
    drop(run);
    let Some(plan) = plan? else {
        return Ok(Ended::Failed);
    };
    show(cli, a, &plan, jl)?;
    let ended = if a.detailed_exitcode && plan.has_changes() {
        Ended::Changes
    } else {
        Ended::Success
    };
    std::mem::forget(plan);
    std::mem::forget(ev);
    Ok(ended)
}

/// Shows the plan (JSON lines, markdown or Terraform's text) and saves it with `--out`.
fn show(
    cli: &Cli,
    a: &Args,
    plan: &crate::plan::model::Plan,
    jl: Option<&render::json::JsonLines>,
) -> anyhow::Result<()> {
    if let Some(jl) = jl {
        jl.plan(plan);
    } else if a.format == Format::Markdown {
        print!(
            "{}",
            render::plan::markdown(plan, render::plan::MARKDOWN_BUDGET)
        );
    } else {
        print!(
            "{}",
            run::plan_text(render::plan::human(
                plan,
                render::plan::Style {
                    color: run::color_out(cli),
                    reveal: a.common.show_sensitive,
                }
            ))
        );
        if a.out.is_none() && plan.has_changes() {
            println!("\n{}\n\nNote: You didn't use the --out option to save this plan, so imgform can't guarantee to take exactly these actions if you run \"imgform apply\" now.", "─".repeat(77));
        }
    }
    if let Some(p) = &a.out {
        run::write_plan_file(p, plan)?;
        if !a.json && a.format == Format::Human {
            // Terraform's words and layout, the rule above them and the path quoted.
            println!("\n{}\n\nSaved the plan to: {}\n\nTo perform exactly these actions, run the following command to apply:\n    imgform apply {:?}", "─".repeat(77), p.display(), p.display().to_string());
        }
    }
    Ok(())
}
