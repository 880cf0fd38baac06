//! The saved plan file (`plan -out`): its format, and the checks that it still applies to
//! the state and configuration it was made for.

use super::model::Plan;
use anyhow::{bail, Context as _};
use std::io::Write as _;
use std::path::Path;

/// The plan file format this imgform writes and reads. Version 2 added the digest; a
/// version 1 file (no digest) is refused: saved plans live minutes, and one without a
/// digest cannot be told from an edited one.
const PLAN_FILE_VERSION: u64 = 2;

/// The file: the plan's exact JSON text, and its SHA-256.
#[derive(serde::Deserialize)]
struct PlanFile<'a> {
    imgform_plan: u64,
    #[serde(default)]
    digest: Option<String>,
    #[serde(borrow)]
    plan: &'a serde_json::value::RawValue,
}

fn digest_of(text: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

/// Reads a saved plan. The digest is checked over the plan's exact bytes before anything
/// is decoded, so a plan changed after it was written (by hand, by a broken artifact
/// store, by a truncated copy) is refused. A digest anyone can recompute does not stop a
/// forger: that is what [`check_remade`] does, by making the plan again.
pub fn read_plan_file(p: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(p)
        .with_context(|| format!("cannot read the plan file {}", p.display()))?;
    parse_plan_file(&text).with_context(|| format!("{} cannot be applied", p.display()))
}

/// [`read_plan_file`] of a file's text.
pub fn parse_plan_file(text: &str) -> anyhow::Result<Plan> {
    let f: PlanFile = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("it is not an imgform plan file: {e}"))?;
    if f.imgform_plan != PLAN_FILE_VERSION {
        bail!(
            "it is not a plan file of this imgform (format {}, this imgform reads format {PLAN_FILE_VERSION}): run `imgform plan --out FILE` again",
            f.imgform_plan
        );
    }
    let Some(digest) = f.digest else {
        bail!("the plan file has no digest: run `imgform plan --out FILE` again");
    };
    if digest_of(f.plan.get()) != digest {
        bail!("the plan file was changed after imgform wrote it (its digest does not match its content): run `imgform plan --out FILE` again, and keep the file unchanged until `apply`");
    }
    serde_json::from_str(f.plan.get()).map_err(|e| anyhow::anyhow!("the plan file is damaged: {e}"))
}

/// The text of a saved plan.
pub fn plan_file_text(plan: &Plan) -> anyhow::Result<String> {
    let body = serde_json::to_string(plan)?;
    Ok(format!(
        "{{\"imgform_plan\":{PLAN_FILE_VERSION},\"digest\":\"{}\",\"plan\":{body}}}",
        digest_of(&body)
    ))
}

/// Writes a saved plan (mode 0600: it holds variable values).
pub fn write_plan_file(p: &Path, plan: &Plan) -> anyhow::Result<()> {
    let text = plan_file_text(plan)?;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let mut f = o
        .open(p)
        .with_context(|| format!("cannot write {}", p.display()))?;
    f.write_all(text.as_bytes())?;
    Ok(())
}

/// Checks a saved plan against the plan made again, just before applying it, from the
/// configuration, the state and the cloud it was made from: every change must be one the
/// configuration and state produce, with the same action and the same values, and none
/// may be missing. An address the configuration lacks, an `after` value it does not
/// produce, a dropped or added change, or a changed action is refused, naming each one.
/// A plan whose world moved on since (the cloud changed between plan and apply) is
/// refused the same way: it would no longer do what it showed.
pub fn check_remade(saved: &Plan, remade: &Plan) -> anyhow::Result<()> {
    use super::model::Action;
    use std::collections::BTreeMap;
    // What a change makes apply do: its action and object, and for the actions that send
    // the configuration's values, those values. What it would replace (`before`), and a
    // resumed create's values (the stored request is what is re-sent), are the cloud's and
    // move on between plan and apply (a build's progress), so they are not compared.
    let index = |p: &Plan| -> BTreeMap<String, serde_json::Value> {
        p.changes
            .iter()
            .map(|c| {
                let sends = matches!(
                    c.action,
                    Action::Create
                        | Action::Update
                        | Action::DeleteThenCreate
                        | Action::CreateThenDelete
                        | Action::Read
                );
                let (_, after) = p.before_after(c);
                let mut v = serde_json::json!({
                    "prev_addr": c.prev_addr.as_ref().map(|a| a.to_string()),
                    "kind": c.kind,
                    "provider": c.provider,
                    "region": c.region,
                    "action": c.action,
                    "sensitive": c.sensitive,
                    "importing": c.importing,
                    "deps": c.deps,
                });
                if sends {
                    v["after"] = after.map(|a| a.into_owned()).unwrap_or_default();
                    v["after_unknown"] = c.after_unknown.clone();
                }
                (c.addr.to_string(), v)
            })
            .collect()
    };
    let (a, b) = (index(saved), index(remade));
    let mut problems = Vec::new();
    for (addr, v) in &a {
        match b.get(addr) {
            None => problems.push(format!(
                "{addr}: the plan file has a change ({}) the configuration and state do not produce",
                v["action"].as_str().unwrap_or("?")
            )),
            Some(w) if w != v => {
                let fields: Vec<&str> = v
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.iter())
                    .filter(|(k, x)| w.get(k.as_str()) != Some(*x))
                    .map(|(k, _)| k.as_str())
                    .collect();
                problems.push(format!(
                    "{addr}: the plan file's {} differ from what the configuration and state produce",
                    fields.join(", ")
                ));
            }
            Some(_) => {}
        }
    }
    for (addr, w) in &b {
        if !a.contains_key(addr) {
            problems.push(format!(
                "{addr}: the configuration and state produce a change ({}) the plan file lacks",
                w["action"].as_str().unwrap_or("?")
            ));
        }
    }
    if saved.outputs != remade.outputs {
        problems.push(
            "the plan file's output changes differ from what the configuration produces".into(),
        );
    }
    if saved.options != remade.options {
        problems.push("the plan file's options differ".into());
    }
    if problems.is_empty() {
        return Ok(());
    }
    let shown = problems.len().min(20);
    bail!(
        "Saved plan does not match what the configuration and state produce; nothing was applied:\n  {}{}\nThe plan file was edited, or the cloud changed since the plan was made. Run `imgform plan --out FILE` again.",
        problems[..shown].join("\n  "),
        if problems.len() > shown {
            format!("\n  ... and {} more", problems.len() - shown)
        } else {
            String::new()
        }
    )
}

/// Checks that a saved plan still applies to this state and configuration.
pub fn check_fresh(plan: &Plan, lineage: &str, serial: u64, digest: &str) -> anyhow::Result<()> {
    if !plan.lineage.is_empty() && plan.lineage != lineage {
        bail!("Saved plan does not match the given state: the plan was made for state lineage {} but the state has lineage {lineage}.", plan.lineage);
    }
    if plan.serial != serial {
        bail!("Saved plan is stale: the given plan file can no longer be applied because the state was changed by another operation after the plan was created (serial {} then, {serial} now). Run `imgform plan` again.", plan.serial);
    }
    if plan.config_digest != digest {
        bail!("Saved plan is stale: the configuration or the variable values changed since the plan was created. Run `imgform plan` again.");
    }
    Ok(())
}
