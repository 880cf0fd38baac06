//! `imgform console`: evaluates expressions typed on stdin, one per line, against the
//! configuration and the state, as Terraform's console does: `var.x`, `local.y`,
//! `alicloud_image.web.id`, functions. Sensitive values print as `(sensitive value)`.
//! It never changes the state and never calls the cloud.

use super::{Cli, Context, Ended, VarArgs};
use crate::config::check::{self, Evaluated};
use crate::config::eval::{eval, Scope};
use crate::config::types::Collection;
use crate::config::Expr;
use crate::diag::{Diagnostics, Span};
use crate::value::Value;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};

/// Flags of `console`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    vars: VarArgs,
}

/// What an expression evaluates to, as the console prints it; or the error's summary and
/// detail.
pub fn answer(
    ev: &Evaluated,
    resources: &BTreeMap<crate::addr::ResourceId, Value>,
    locals: &BTreeMap<String, Value>,
    line: &str,
) -> Result<String, (String, String)> {
    let edit = match hcl_edit::parser::parse_expr(line) {
        Ok(e) => e,
        Err(e) => return Err(("Invalid expression".into(), e.message().to_string())),
    };
    // A file index no configuration file has: the expression is in the root module.
    let expr = Expr {
        edit,
        span: Span::new(usize::MAX, 0..line.len()),
    };
    if ev.sensitive.refers_to_sensitive(&ev.config, &expr) {
        return Ok("(sensitive value)".into());
    }
    let scope = Scope {
        dir: &ev.dir,
        files: &ev.files,
        vars: &ev.vars,
        locals,
        resources,
        count_index: None,
        each: None,
        sensitivity: Some((&ev.config, &ev.sensitive)),
    };
    Ok(match eval(&ev.config.sources, &expr, &scope) {
        Ok(Value::Unknown) => "(known after apply)".into(),
        Ok(v) => match (
            crate::config::types::collection_of(&ev.config, &expr.edit),
            v.to_json(),
        ) {
            // Terraform shows a set's elements in its order (strings lexically, numbers
            // by value), inside `toset(...)`.
            (Some(Collection::Set), serde_json::Value::Array(mut items)) => {
                items.sort_by(set_order);
                items.dedup();
                wrap("toset", &serde_json::Value::Array(items))
            }
            (Some(Collection::List), j @ serde_json::Value::Array(_)) => wrap("tolist", &j),
            (Some(Collection::Map), j @ serde_json::Value::Object(_)) => wrap("tomap", &j),
            (_, j) => crate::render::value::hcl(&j, 0),
        },
        Err(d) => return Err((d.summary, d.detail)),
    })
}

/// An error of an expression typed in, as Terraform's console shows it.
fn error_text(line: &str, (summary, detail): &(String, String)) -> String {
    format!("\nError: {summary}\n\n  on <console-input> line 1:\n   1: {line}\n\n{detail}\n\n")
}

/// `toset([...])`, `tolist([...])`, `tomap({...})`.
fn wrap(f: &str, j: &serde_json::Value) -> String {
    format!("{f}({})", crate::render::value::hcl(j, 0))
}

fn set_order(a: &serde_json::Value, b: &serde_json::Value) -> std::cmp::Ordering {
    use serde_json::Value as J;
    match (a, b) {
        (J::Number(x), J::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
        (J::String(x), J::String(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

/// Runs `console`. As Terraform's: a directory without configuration files evaluates
/// expressions all the same; read from a pipe, the first error ends it with exit code 1
/// (at a terminal, the next expression is asked for).
pub fn exec(cli: &Cli, ctx: &Context, a: &Args) -> anyhow::Result<Ended> {
    let empty = crate::config::load::config_files(&cli.chdir).is_ok_and(|f| f.is_empty());
    let loaded = if empty {
        // Nothing to read: an empty configuration (not "No configuration files").
        let (mut cfg, mut diags) = crate::config::load::load_str(&[]);
        let ev = check::check(
            &mut cfg,
            &super::run::config_options(cli, &a.vars),
            &mut diags,
        );
        let text = crate::render::diag::human_all(&cfg.sources, &diags, ctx.color_err);
        eprint!("{text}");
        ev.filter(|_| !diags.has_errors())
    } else {
        super::run::load_config(cli, ctx, &a.vars)?
    };
    let Some(ev) = loaded else {
        return Ok(Ended::Failed);
    };
    // Resources as the state records them (none before the first apply), and the locals
    // evaluated with them.
    let state = super::state::open_store(cli)
        .and_then(|s| s.load().map_err(anyhow::Error::from))
        .unwrap_or_default();
    let mut known = crate::apply::known_from_state(&ev, &state);
    let mut diags = Diagnostics::default();
    // Locals read resources from the known values: no resource is evaluated.
    let (locals, _) = check::walk_expanding(
        &ev.config,
        &ev,
        check::Expand::Nothing,
        &mut known,
        &mut diags,
        &mut |_, _, _, _| {},
    );
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    let interactive = std::io::IsTerminal::is_terminal(&stdin);
    loop {
        if interactive {
            write!(out, "> ")?;
            out.flush()?;
        }
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "exit" {
            break;
        }
        match answer(&ev, &known, &locals, line) {
            Ok(text) => writeln!(out, "{text}")?,
            Err(e) => {
                out.flush()?;
                eprint!("{}", error_text(line, &e));
                if !interactive {
                    return Ok(Ended::Failed);
                }
            }
        }
    }
    Ok(Ended::Success)
}
