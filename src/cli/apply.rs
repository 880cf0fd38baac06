//! `imgform apply [PLANFILE]` and `imgform destroy`: plan (or load a saved plan), show it,
//! ask for `yes` unless `--auto-approve`, walk it, print the summary and the outputs.

use super::run::{self, PlanArgs};
use super::{Cli, Context, Ended};
use crate::apply::walk;
use crate::events::EventSink;
use crate::ops;
use crate::render;
use std::sync::Arc;
use std::time::Duration;

/// Flags of `apply`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub common: PlanArgs,
    /// A plan saved by `imgform plan --out FILE`.
    pub planfile: Option<std::path::PathBuf>,
    /// Do not ask for confirmation.
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// Stream progress as JSON lines (stdout holds JSON only).
    #[arg(long)]
    pub json: bool,
}

/// Flags of `destroy`.
#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub common: PlanArgs,
    /// Do not ask for confirmation.
    #[arg(long = "auto-approve")]
    pub auto_approve: bool,
    /// Stream progress as JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// Flags of `refresh`.
#[derive(Debug, clap::Args)]
pub struct RefreshArgs {
    #[command(flatten)]
    pub common: PlanArgs,
    /// Stream progress as JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// Runs `refresh`: as Terraform's, `apply --refresh-only --auto-approve` — the state takes
/// what the cloud reports, and nothing in the cloud changes.
pub fn exec_refresh(cli: &Cli, ctx: &Context, a: &RefreshArgs) -> anyhow::Result<Ended> {
    let mut common = a.common.clone();
    common.refresh_only = true;
    go(cli, ctx, &common, None, true, a.json, false)
}

/// Runs `apply`.
pub fn exec(cli: &Cli, ctx: &Context, a: &Args) -> anyhow::Result<Ended> {
    go(
        cli,
        ctx,
        &a.common,
        a.planfile.as_deref(),
        a.auto_approve,
        a.json,
        false,
    )
}

/// Runs `destroy`.
pub fn exec_destroy(cli: &Cli, ctx: &Context, a: &DestroyArgs) -> anyhow::Result<Ended> {
    go(cli, ctx, &a.common, None, a.auto_approve, a.json, true)
}

fn go(
    cli: &Cli,
    ctx: &Context,
    common: &PlanArgs,
    planfile: Option<&std::path::Path>,
    auto: bool,
    json: bool,
    destroy: bool,
) -> anyhow::Result<Ended> {
    let jl = json.then(|| Arc::new(render::json::JsonLines::default()));
    run::streamed(jl, |jl| {
        go_on(cli, ctx, common, planfile, auto, jl.cloned(), destroy)
    })
}

fn go_on(
    cli: &Cli,
    ctx: &Context,
    common: &PlanArgs,
    planfile: Option<&std::path::Path>,
    auto: bool,
    jl: Option<Arc<render::json::JsonLines>>,
    destroy: bool,
) -> anyhow::Result<Ended> {
    let Some(ev) = run::load_config_with(
        cli,
        ctx,
        &common.vars,
        common.compact_warnings,
        jl.as_deref(),
    )?
    else {
        return Ok(Ended::Failed);
    };
    let timeout = run::lock_timeout(&common.lock_timeout)?;
    let operation = if destroy { "destroy" } else { "apply" };
    let run = run::open(
        cli,
        ev,
        common.signature.as_deref(),
        operation,
        timeout,
        common.lock,
    )?;
    apply_locked(cli, ctx, &run, common, planfile, auto, jl, destroy)
}

#[allow(clippy::too_many_arguments)]
fn apply_locked(
    cli: &Cli,
    ctx: &Context,
    run: &run::Run,
    common: &PlanArgs,
    planfile: Option<&std::path::Path>,
    auto: bool,
    jl: Option<Arc<render::json::JsonLines>>,
    destroy: bool,
) -> anyhow::Result<Ended> {
    let color = run::color_out(cli);
    let plan = match planfile {
        Some(p) => {
            // The file is not trusted: the plan made again from the configuration, the
            // state and the cloud must be the one it holds, and is what runs.
            let remade = ops::apply::check_saved(run, &run::read_plan_file(p)?)?;
            run::show_diags(run, ctx, &remade.diags, None);
            match remade.plan {
                Some(plan) => plan,
                None => return Ok(Ended::Failed),
            }
        }
        None => match planned(cli, ctx, run, common, auto, jl.as_deref(), destroy)? {
            Ok(plan) => plan,
            Err(ended) => return Ok(ended),
        },
    };
    run::interrupts(&run.rt, run.sess.stop().clone());
    // JSON lines with --json; live lines on a terminal; Terraform-style lines otherwise.
    let sink: Arc<dyn EventSink> = if let Some(jl) = &jl {
        jl.clone()
    } else if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        Arc::new(render::apply::Live::default())
    } else {
        Arc::new(render::apply::Lines::new(Duration::from_secs(10), color))
    };
    let opts = walk::Options {
        parallelism: common.parallelism.max(1),
        max_in_progress: common.max_in_progress,
    };
    let out = ops::apply::apply(run, &plan, &opts, sink)?;
    let shown = if plan.options.refresh_only {
        Shown::Summary
    } else if plan.options.targets.is_empty() {
        Shown::Outputs
    } else {
        Shown::OutputsAndTargetWarning
    };
    Ok(report(
        &out,
        destroy && !plan.options.refresh_only,
        jl.as_deref(),
        shown,
    ))
}

/// Plans, shows the plan and asks for `yes` (unless `auto`): the plan to apply, or how the
/// command ended without applying (nothing to do, declined).
fn planned(
    cli: &Cli,
    ctx: &Context,
    run: &run::Run,
    common: &PlanArgs,
    auto: bool,
    jl: Option<&render::json::JsonLines>,
    destroy: bool,
) -> anyhow::Result<Result<crate::plan::model::Plan, Ended>> {
    let Some(plan) = run::make_plan(run, ctx, &run::plan_options(common, destroy), jl, true)?
    else {
        return Ok(Err(Ended::Failed));
    };
    match jl {
        Some(jl) => jl.plan(&plan),
        None => print!(
            "{}",
            run::plan_text(render::plan::human(
                &plan,
                render::plan::Style {
                    color: run::color_out(cli),
                    reveal: common.show_sensitive,
                },
            ))
        ),
    }
    if !plan.has_changes() {
        // Nothing to do, but what refresh learnt is kept: a destroy that was interrupted
        // after the cloud deleted the object leaves a `deleting` row that refresh found
        // gone, and it must not outlive this run. Terraform ends every apply with its
        // count and the outputs, nothing done included.
        ops::apply::persist_refresh(run, &plan)?;
        let mut none = walk::Outcome::default();
        if !destroy {
            none.outputs = run.store.lock().expect("never poisoned").load()?.outputs;
        }
        return Ok(Err(report(&none, destroy, jl, Shown::Outputs)));
    }
    if !auto && !confirmed(common, &plan, destroy, jl.is_some())? {
        println!("\n{} cancelled.", if destroy { "Destroy" } else { "Apply" });
        return Ok(Err(Ended::Failed));
    }
    Ok(Ok(plan))
}

/// Asks for `yes` in Terraform's words; refuses to ask where nobody can answer (`--json`,
/// `--input=false`).
fn confirmed(
    common: &PlanArgs,
    plan: &crate::plan::model::Plan,
    destroy: bool,
    json: bool,
) -> anyhow::Result<bool> {
    if json {
        anyhow::bail!(
            "--json needs --auto-approve or a saved plan: there is no prompt in JSON mode"
        );
    }
    if !common.input {
        anyhow::bail!(
            "no interactive input (--input=false): pass --auto-approve, or apply a saved plan"
        );
    }
    let prompt = if destroy {
        run::Prompt::Destroy
    } else if plan.options.refresh_only {
        run::Prompt::RefreshOnly
    } else {
        run::Prompt::Apply
    };
    run::confirm(prompt)
}

/// What a successful apply shows after its summary line.
#[derive(Clone, Copy, PartialEq)]
enum Shown {
    /// Nothing more (a refresh-only apply).
    Summary,
    /// The outputs.
    Outputs,
    /// The outputs, and Terraform's warning after a targeted apply.
    OutputsAndTargetWarning,
}

/// Shows how an apply ended: its summary and what `shown` says, or what failed, what was
/// skipped and what the state holds.
fn report(
    out: &walk::Outcome,
    destroy: bool,
    jl: Option<&render::json::JsonLines>,
    shown: Shown,
) -> Ended {
    let verb = if destroy { "Destroy" } else { "Apply" };
    if !out.failed.is_empty() || out.interrupted {
        // A failed run never ends with "Apply complete!": each failure was an
        // `apply_errored` line and its diagnostic; what was left undone follows.
        let what = if out.interrupted {
            "interrupted"
        } else {
            "failed"
        };
        let counts = format!(
            "{} added, {} changed, {} destroyed; {} failed, {} skipped.",
            out.added,
            out.changed,
            out.destroyed,
            out.failed.len(),
            out.skipped.len()
        );
        let mut detail = String::new();
        for (addr, why) in &out.skipped {
            detail.push_str(&format!("  skipped {addr}: {why}\n"));
        }
        detail.push_str(&closing(out));
        match jl {
            Some(jl) => jl.error(&format!("{verb} {what}"), &format!("{counts}\n{detail}")),
            None => {
                for (addr, e) in &out.failed {
                    eprintln!("\nError: {addr}: {e}");
                }
                eprintln!("\n{verb} {what}: {counts}\n{detail}");
            }
        }
        return Ended::Failed;
    }
    match jl {
        Some(jl) => jl.applied(destroy, out),
        None => {
            // Terraform's words (and the regexes of Atlantis and tfcmt): a destroy counts
            // only what it destroyed.
            println!("\n{}", crate::render::plan::apply_summary(destroy, out));
            if shown != Shown::Summary {
                print_outputs(&out.outputs);
            }
            if shown == Shown::OutputsAndTargetWarning {
                // Terraform's warning after a targeted apply.
                println!("\nWarning: Applied changes may be incomplete\n\nThe plan was created with the -target option in effect, so some changes requested in the configuration may have been ignored and the output values may not be fully updated. Run the following command to verify that no other changes are pending:\n    imgform plan\n\nNote that the -target option is not suitable for routine use, and is provided only for exceptional situations such as recovering from errors or mistakes, or when imgform specifically suggests to use it as part of an error message.");
            }
        }
    }
    Ended::Success
}

/// The last line of an apply that did not complete: what the state holds, and what to do.
fn closing(out: &walk::Outcome) -> String {
    match &out.state_error {
        Some(e) => format!(
            "The state could NOT be written ({e}), so it may not record everything that was done. Once the state backend works again, run `imgform apply`: a create whose id was not recorded is sent again with the ClientToken its row holds, and the cloud answers with the object it made."
        ),
        None if out.interrupted => {
            "The state records what was done; run `imgform apply` again to continue.".into()
        }
        None => "The state records what was done; fix the errors and run `imgform apply` again to continue.".into(),
    }
}

/// `Outputs:` after an apply, sensitive ones as `<sensitive>`, as Terraform prints them.
fn print_outputs(outputs: &std::collections::BTreeMap<String, crate::state::OutputState>) {
    if outputs.is_empty() {
        return;
    }
    println!("\nOutputs:\n");
    for (k, v) in outputs {
        let shown = if v.sensitive {
            "<sensitive>".to_string()
        } else {
            crate::render::value::hcl(&v.value, 0)
        };
        println!("{k} = {shown}");
    }
}
