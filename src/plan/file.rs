//! The saved plan file (`plan -out`): its format, and the checks that it still applies to
//! the state and configuration it was made for.

use super::model::Plan;
use anyhow::{bail, Context as _};
use std::io::Write as _;
use std::path::Path;

/// Reads a saved plan.
pub fn read_plan_file(p: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(p)
        .with_context(|| format!("cannot read the plan file {}", p.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an imgform plan file", p.display()))?;
    if v["imgform_plan"] != 1 {
        bail!(
            "{} is not an imgform plan file (or was written by a newer imgform)",
            p.display()
        );
    }
    serde_json::from_value(v["plan"].clone()).with_context(|| format!("{} is damaged", p.display()))
}

/// Writes a saved plan (mode 0600: it holds variable values).
pub fn write_plan_file(p: &Path, plan: &Plan) -> anyhow::Result<()> {
    let text = serde_json::to_string(&serde_json::json!({"imgform_plan": 1, "plan": plan}))?;
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
