//! The apply operation: a saved plan is checked (fresh for this state and configuration,
//! and equal to the plan made again from them), objects left by an interrupted
//! `create_before_destroy` are deleted, what the plan's refresh learnt is kept, and the
//! walk runs the plan. Progress goes to the event sink; nothing is printed.

use super::plan::{config_digest, plan, Planned};
use super::Run;
use crate::apply::walk::{self, Outcome};
use crate::events::{Discard, EventSink};
use crate::plan::model::Plan;
use std::sync::Arc;

/// A saved plan, checked before anything runs: made for this state (lineage, serial) and
/// this configuration (digest), then made again and compared change by change
/// ([`crate::plan::file::check_remade`]). The plan made again is the one returned, to
/// run: it is the file's, from trusted inputs. Its diagnostics come back with it.
pub fn check_saved(run: &Run, saved: &Plan) -> anyhow::Result<Planned> {
    let st = run.store.lock().expect("never poisoned").load()?;
    crate::plan::file::check_fresh(
        saved,
        &st.lineage,
        st.serial,
        &config_digest(&run.dir, &run.ev),
    )?;
    let remade = plan(run, &saved.options, &Discard)?;
    if let Some(p) = &remade.plan {
        crate::plan::file::check_remade(saved, p)?;
    }
    Ok(remade)
}

/// Keeps what the plan's refresh learnt (objects deleted outside imgform or whose
/// interrupted destroy the cloud finished, changed attributes). The plan's prior state is
/// the state as refresh found it; no second round of reads.
pub fn persist_refresh(run: &Run, plan: &Plan) -> anyhow::Result<()> {
    if plan.options.no_refresh {
        return Ok(());
    }
    let mut store = run.store.lock().expect("never poisoned");
    crate::state::edit::persist_refresh(store.as_mut(), &plan.prior_state)
}

/// Applies `plan`: deletes what an interrupted `create_before_destroy` left, keeps the
/// refresh, and walks the changes (a refresh-only plan stops after keeping the refresh).
/// The run's stop request (`run.sess.stop()`) ends it early.
pub fn apply(
    run: &Run,
    plan: &Plan,
    opts: &walk::Options,
    sink: Arc<dyn EventSink>,
) -> anyhow::Result<Outcome> {
    run.rt
        .block_on(walk::clean_deposed(
            run.sess.clone(),
            run.store.clone(),
            run.ev.clone(),
            sink.clone(),
        ))
        .map_err(anyhow::Error::msg)?;
    persist_refresh(run, plan)?;
    if plan.options.refresh_only {
        return Ok(Outcome {
            outputs: run.store.lock().expect("never poisoned").load()?.outputs,
            ..Default::default()
        });
    }
    Ok(run.rt.block_on(walk::apply(
        run.sess.clone(),
        run.store.clone(),
        run.ev.clone(),
        plan,
        opts,
        sink,
        run.sess.stop().clone(),
    )))
}
