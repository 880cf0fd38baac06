//! Just before a create the plan could not check in full — an object named by another
//! resource's attribute (unknown at plan time), or one not yet usable (an instance
//! Starting) — the objects its resolved values name are read and judged by the same rules
//! as at plan time (`resource::objects`). One not yet usable is waited for with the one
//! waiter, up to the create's timeout; one refused fails the create before its row is
//! written or its request sent, so nothing is left behind.

use super::create::timeout_of;
use super::ctx::Ctx;
use super::eval::desired;
use crate::cloud::waiter::{fmt_elapsed, Acceptance, WaitError, Waiter};
use crate::events::{Event, Verb};
use crate::plan::model::Change;
use crate::resource::kind::Kind;
use crate::resource::objects::{self, Finding};
use tokio::time::Instant;

/// Waits until every object `c`'s create names is usable; the error says which is not.
pub(super) async fn objects_usable(
    ctx: &Ctx,
    kind: &dyn Kind,
    c: &Change,
    region: &str,
    start: Instant,
) -> Result<(), String> {
    let attrs = desired(ctx, c)?;
    let refs = kind.references(&attrs);
    if refs.is_empty() {
        return Ok(());
    }
    let waiter = Waiter::new(timeout_of(ctx, &c.addr, kind, false))
        .with_backoff(ctx.sess.poll_min, ctx.sess.poll_max, 1.5)
        .with_stop(ctx.stop.clone());
    for r in &refs {
        let at = r.region.clone().unwrap_or_else(|| region.to_string());
        let client = ctx.sess.client(&c.provider, &at)?;
        let named = format!("`{}` names {} {} in {at}", r.path, r.sort.what, r.id);
        let verdict = waiter
            .wait(|_| async {
                let found = match (r.sort.lookup.fetch)(client.clone(), vec![r.id.clone()]).await {
                    Ok(found) => found,
                    Err(e) => {
                        return Acceptance::Failure(format!(
                            "{named}, which could not be read: {e}"
                        ))
                    }
                };
                match objects::judge(r.sort, found.get(&r.id)) {
                    Finding::Usable => Acceptance::Success(()),
                    Finding::Absent => Acceptance::Failure(format!(
                        "{named}: it does not exist ({}); nothing was created\n  hint: {}",
                        r.sort.absent, r.sort.hint
                    )),
                    Finding::Transitional(why) => {
                        ctx.sink.emit(Event::Progress {
                            addr: c.addr.clone(),
                            verb: Verb::Create,
                            elapsed: start.elapsed(),
                            percent: None,
                            status: format!("waiting for {} {}: {why}", r.sort.what, r.id),
                        });
                        Acceptance::Retry(why)
                    }
                    Finding::Refused { why, code } => Acceptance::Failure(format!(
                        "{named}: {why} ({code}); nothing was created\n  hint: {}",
                        r.sort.hint
                    )),
                }
            })
            .await;
        match verdict {
            Ok(()) => {}
            Err(WaitError::Failed(e)) => return Err(format!("{}: {e}", c.addr)),
            Err(WaitError::TimedOut { elapsed, last }) => {
                return Err(format!(
                    "{}: {named}, which was still not usable after {} ({}); nothing was created",
                    c.addr,
                    fmt_elapsed(elapsed),
                    last.unwrap_or_default()
                ))
            }
            Err(WaitError::Exhausted(last)) => {
                return Err(format!("{}: {named}, which is not usable ({last}); nothing was created", c.addr))
            }
            Err(WaitError::Interrupted { .. }) => {
                return Err(format!(
                    "{}: not created: the apply was interrupted while waiting for {} {}; the next `imgform apply` creates it",
                    c.addr, r.sort.what, r.id
                ))
            }
        }
    }
    Ok(())
}
