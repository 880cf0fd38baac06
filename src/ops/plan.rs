//! The plan operation: the state loaded once, refreshed from the cloud (unless
//! `--refresh=false`), and handed with the configuration to the pure planner
//! (`plan::build`), which reads data sources through the session. Nothing is printed: the
//! diagnostics come back with the plan.

use super::Run;
use crate::apply;
use crate::config::check::Evaluated;
use crate::diag::Diagnostics;
use crate::events::EventSink;
use crate::plan::build::{self, Input};
use crate::plan::model::{Options, Plan};
use sha2::Digest as _;
use std::path::Path;

/// What planning produced: the plan (none when a diagnostic is an error) and every
/// diagnostic, for the caller to show.
pub struct Planned {
    /// The plan.
    pub plan: Option<Plan>,
    /// Errors and warnings.
    pub diags: Diagnostics,
}

/// Refreshes (telling `sink` of each object read) and plans. The plan records the state's
/// lineage and serial and the configuration's digest, which a saved plan is checked by.
pub fn plan(run: &Run, opts: &Options, sink: &dyn EventSink) -> anyhow::Result<Planned> {
    let t = std::time::Instant::now();
    let state = run.store.lock().expect("never poisoned").load()?;
    let (lineage, serial) = (state.lineage.clone(), state.serial);
    tracing::debug!(
        rows = state.resources.len(),
        ms = t.elapsed().as_millis() as u64,
        "state loaded"
    );
    // One copy of the state from here on: refresh updates it, and the plan keeps it as its
    // prior state.
    let (refreshed, drift) = if opts.no_refresh {
        (state, vec![])
    } else {
        run.rt
            .block_on(apply::refresh_with(&run.sess, state, sink))
            .map_err(anyhow::Error::msg)?
    };
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "refreshed");
    let sess = run.sess.clone();
    let ev = run.ev.clone();
    let handle = run.rt.handle().clone();
    let opts2 = opts.clone();
    let (plan, diags) = run.rt.block_on(async move {
        tokio::task::spawn_blocking(move || {
            let regions = sess.regions.clone();
            let mut reader = apply::CloudReader {
                sess: &sess,
                rt: handle,
                reads: 0,
            };
            build::plan(
                Input {
                    ev: &ev,
                    state: refreshed,
                    drift,
                    regions: &regions,
                    options: &opts2,
                },
                &mut reader,
            )
        })
        .await
    })?;
    tracing::debug!(ms = t.elapsed().as_millis() as u64, "planned");
    Ok(Planned {
        plan: plan.map(|mut p| {
            p.lineage = lineage;
            p.serial = serial;
            p.config_digest = config_digest(&run.dir, &run.ev);
            p
        }),
        diags,
    })
}

/// SHA-256 of the configuration files and variable values, to refuse stale saved plans.
pub fn config_digest(dir: &Path, ev: &Evaluated) -> String {
    let mut h = sha2::Sha256::new();
    if let Ok(files) = crate::config::load::config_files(dir) {
        for f in files {
            h.update(
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
                    .as_bytes(),
            );
            h.update(std::fs::read(&f).unwrap_or_default());
        }
    }
    h.update(
        serde_json::to_string(
            &ev.vars
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect::<std::collections::BTreeMap<_, _>>(),
        )
        .unwrap_or_default()
        .as_bytes(),
    );
    hex::encode(h.finalize())
}
