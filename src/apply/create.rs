//! Creating an object, the same way for every kind: the pending row with its ClientToken is
//! committed before the create is sent, the id the moment the cloud returns it, and the
//! final attributes once the kind's waits end. A refused create leaves nothing behind; a
//! create whose outcome is unknown keeps its row, and the next run sends it again.

use super::ctx::{api_call_replaying, put, remove, row, Ctx, RunCx};
use super::eval::desired;
use crate::addr::ResourceAddr;
use crate::cloud::client::Client;
use crate::cloud::waiter::{fmt_elapsed, Acceptance, WaitError, Waiter};
use crate::events::{Event, Verb};
use crate::plan::model::{Action, Change};
use crate::resource::{self, kind::Kind, kind::Verdict};
use crate::state::{new_client_token, ResourceState, Status};
use serde_json::{json, Map, Value as J};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The timeout of an operation on `addr`: its `timeouts` block, or the kind's default.
pub(super) fn timeout_of(
    ctx: &Ctx,
    addr: &ResourceAddr,
    kind: &dyn Kind,
    delete: bool,
) -> Duration {
    let t = ctx.ev.config.resources.get(&addr.id).map(|r| &r.timeouts);
    let default = kind.schema().timeouts;
    let secs = if delete {
        t.and_then(|t| t.delete).unwrap_or(default.delete)
    } else {
        t.and_then(|t| t.create).unwrap_or(default.create)
    };
    ctx.sess.scaled(secs)
}

/// The create action of a kind (the request is rebuilt from the recorded parameters).
pub(super) fn create_action(kind: &dyn Kind) -> &'static str {
    kind.create("", &J::Null, "").0
}

/// Creates (or resumes creating) the object of `c`.
pub(super) async fn create(
    ctx: &Arc<Ctx>,
    c: &Change,
    start: Instant,
    replaced_generation: u64,
) -> Result<(), String> {
    let kind = resource::kind(&c.kind)?;
    let client = ctx.sess.client(&c.provider, &c.region)?;
    let existing = row(ctx, &c.addr)?;
    let resuming = existing
        .as_ref()
        .is_some_and(|r| r.status == Status::Creating);
    let mut row = match existing.clone().filter(|_| resuming) {
        Some(r) => r,
        None => {
            if ctx.recheck.contains(&c.addr.to_string()) {
                super::named::objects_usable(ctx, kind, c, client.region(), start).await?;
            }
            pending_row(
                ctx,
                kind,
                c,
                &client,
                existing.as_ref(),
                start,
                replaced_generation,
            )
            .await?
        }
    };
    let _slot = match &ctx.in_progress {
        Some(s) => Some(tokio::select! {
            p = s.acquire() => p.map_err(|e| e.to_string())?,
            // Not sent: the row (and its token) stays for the next run.
            _ = ctx.stop.stopped() => return Err(format!("{}: not created: the apply was interrupted before its create was sent; the next `imgform apply` sends it", c.addr)),
        }),
        None => None,
    };
    if row.id.is_none() && !(resuming && adopted(ctx, kind, c, &client, &mut row, start).await?) {
        send_create(ctx, kind, c, &client, &mut row, existing.as_ref()).await?;
    }
    // The object is waited on where it lives (a copy lives in another region than the
    // call that made it).
    let home = ctx.sess.client(&c.provider, &row.region)?;
    finish(ctx, kind, c, &home, row, start).await
}

/// Builds the pending row (the request with its ClientToken) and commits it.
async fn pending_row(
    ctx: &Ctx,
    kind: &dyn Kind,
    c: &Change,
    client: &Client,
    existing: Option<&ResourceState>,
    start: Instant,
    replaced_generation: u64,
) -> Result<ResourceState, String> {
    let mut attrs = desired(ctx, c)?;
    let generation = ctx.ledger.next_generation(&c.addr, replaced_generation);
    let token = new_client_token(&c.addr);
    let region = kind.region(client.region(), &attrs);
    let cx = RunCx {
        ctx,
        client: client.clone(),
        addr: &c.addr,
        verb: Verb::Create,
        start,
        deadline: tokio::time::Instant::now(),
    };
    kind.prepare(&cx, &mut attrs);
    let (_, pending) = kind.create(&region, &attrs, &token);
    if let Some(old) = existing.filter(|_| c.action == Action::CreateThenDelete) {
        // The objects this create replaces, recorded with it so that no crash or failure
        // can forget them: the live one and any it had not yet deleted.
        let mut deposed = super::destroy::deposed_of(old);
        if let Some(id) = &old.id {
            deposed.insert(0, (id.clone(), old.region.clone()));
        }
        super::destroy::set_deposed(&mut attrs, &deposed);
    }
    if let Some(o) = attrs.as_object_mut().filter(|_| !c.sensitive.is_empty()) {
        o.insert("_sensitive".into(), json!(c.sensitive));
    }
    let row = ResourceState {
        addr: c.addr.clone(),
        kind: c.kind.clone(),
        provider: c.provider.clone(),
        region,
        id: None,
        status: Status::Creating,
        client_token: Some(token),
        generation,
        attrs: attrs.into(),
        deps: c.deps.clone(),
        pending: Some(Box::new(json!(pending))),
    };
    // The pending row with its ClientToken is committed before the create is sent.
    put(ctx, &row).await?;
    crate::crash::at("before_send");
    Ok(row)
}

/// For a kind whose create is not idempotent, an interrupted create is looked for (by the
/// token it was tagged with) before anything is sent again; found, its id is committed.
async fn adopted(
    ctx: &Ctx,
    kind: &dyn Kind,
    c: &Change,
    client: &Client,
    row: &mut ResourceState,
    start: Instant,
) -> Result<bool, String> {
    if kind.idempotent() {
        return Ok(false);
    }
    let Some(token) = row.client_token.clone() else {
        return Ok(false);
    };
    let cx = RunCx {
        ctx,
        client: client.clone(),
        addr: &c.addr,
        verb: Verb::Create,
        start,
        deadline: tokio::time::Instant::now(),
    };
    let Some((id, extra)) = kind
        .adopt(&cx, &row.region, &token, &row.attrs.value())
        .await?
    else {
        return Ok(false);
    };
    row.id = Some(id);
    row.attrs.extend(extra);
    put(ctx, row).await?;
    Ok(true)
}

/// Sends the recorded create request (to the region the kind says) and commits the id the
/// cloud returns.
async fn send_create(
    ctx: &Ctx,
    kind: &dyn Kind,
    c: &Change,
    client: &Client,
    row: &mut ResourceState,
    existing: Option<&ResourceState>,
) -> Result<(), String> {
    let params: Vec<(String, String)> = row
        .pending
        .as_ref()
        .and_then(|p| serde_json::from_value(J::clone(p)).ok())
        .ok_or("the pending create request is missing from state")?;
    let action = create_action(kind);
    let attrs = row.attrs.value();
    let client = &ctx
        .sess
        .client(&c.provider, &kind.call_region(client.region(), &attrs))?;
    let answer = match api_call_replaying(ctx, client, action, params, kind.idempotent()).await {
        Ok(a) => a,
        Err(e) if e.may_have_acted => {
            // The cloud may have made the object: keep the row and its ClientToken, so the
            // next run sends the identical request and learns the object's id.
            return Err(format!(
                "{}\n  the outcome of {action} is unknown: the request and its ClientToken stay in the state, and the next `imgform apply` sends it again (the cloud answers with the object it made, if it made one)",
                e.message
            ));
        }
        Err(e) => {
            forget_refused(ctx, &c.addr, existing).await?;
            return Err(e.message);
        }
    };
    crate::crash::at("after_send");
    let (id, extra) = kind
        .created(&answer, &attrs)
        .ok_or_else(|| format!("{action} returned no id"))?;
    row.id = Some(id);
    row.attrs.extend(extra);
    // The id is committed the moment the API returns it.
    put(ctx, row).await?;
    crate::crash::at("after_id");
    Ok(())
}

/// Waits for the kind's stages and records the outcome: ready with what was learned, or
/// tainted with what the failure left behind (a failed build's image), so that replacing
/// or destroying it cleans that up.
async fn finish(
    ctx: &Ctx,
    kind: &dyn Kind,
    c: &Change,
    client: &Client,
    mut row: ResourceState,
    start: Instant,
) -> Result<(), String> {
    let learned = match wait_created(ctx, kind, c, client, &row, start).await {
        Ok(a) => a,
        Err(WaitOutcome::Failed(e, learned)) => {
            if let Some(l) = learned {
                row.attrs.extend(l);
            }
            row.status = Status::Tainted;
            row.pending = None;
            put(ctx, &row).await?;
            return Err(e);
        }
        Err(WaitOutcome::Unfinished(e)) => return Err(e),
        Err(WaitOutcome::Gone(e)) => {
            // The object the cloud named is not there: nothing is left to wait for or to
            // delete. The row goes (the next plan creates the object again, with a new
            // ClientToken). A create_before_destroy's row still carries the objects it was
            // replacing, which exist: the first (the object being replaced) becomes the
            // row again, tainted so that the next plan replaces it, with the rest still
            // owed deletion. A row of the vanished id would be dropped by the next refresh
            // and those objects orphaned.
            let mut owed = super::destroy::deposed_of(&row);
            if owed.is_empty() {
                remove(ctx, &c.addr).await?;
            } else {
                let (id, region) = owed.remove(0);
                let mut attrs = row.attrs.value();
                super::destroy::set_deposed(&mut attrs, &owed);
                row.id = Some(id);
                row.region = region;
                row.attrs = attrs.into();
                row.status = Status::Tainted;
                row.client_token = None;
                row.pending = None;
                put(ctx, &row).await?;
            }
            return Err(e);
        }
    };
    row.attrs
        .extend(learned.into_iter().filter(|(k, _)| k != "id"));
    row.status = Status::Ready;
    row.pending = None;
    put(ctx, &row).await
}

/// After the cloud refused a create: nothing was made, so the pending row goes. When the
/// row replaced the row of a live object (create_before_destroy, or a replacement of an
/// interrupted destroy), that row comes back: the old object stays managed.
async fn forget_refused(
    ctx: &Ctx,
    addr: &ResourceAddr,
    before: Option<&ResourceState>,
) -> Result<(), String> {
    match before.filter(|r| r.status != Status::Creating || r.id.is_some()) {
        Some(live) => put(ctx, live).await,
        None => match row(ctx, addr)? {
            Some(r) if r.status == Status::Creating && r.id.is_none() => remove(ctx, addr).await,
            _ => Ok(()),
        },
    }
}

/// Reads of an object in flight that may fail in a row (each after the client's own
/// retries) before its wait gives up.
const READ_FAILURES: u32 = 3;

/// Reads in a row that must not find an object the cloud said it made before the wait
/// gives it up. A new object can be missing from the first answers of a Describe call
/// (the API is eventually consistent), never from ten: with ticks of 2 s growing to 15 s
/// that is about a minute and a half, and an object deleted under the create (or a
/// restored state's id of an object deleted long ago) no longer holds the apply until the
/// create timeout.
pub(super) const ABSENT_READS: u32 = 10;

enum WaitOutcome {
    /// The object ended in failure; the attributes learned about it.
    Failed(String, Option<Map<String, J>>),
    Unfinished(String),
    /// The cloud no longer lists the object it returned.
    Gone(String),
}

/// Waits for each of the kind's stages through the region's batched poller, judging every
/// observation with the kind's acceptor, within the create timeout.
async fn wait_created(
    ctx: &Ctx,
    kind: &dyn Kind,
    c: &Change,
    client: &Client,
    row: &ResourceState,
    start: Instant,
) -> Result<Map<String, J>, WaitOutcome> {
    let id = row.id.clone().unwrap_or_default();
    let timeout = timeout_of(ctx, &c.addr, kind, false);
    // Receiving the next observation changes nothing: a stop abandons it at once.
    let waiter = Waiter::new(timeout).with_stop_cutting_polls(ctx.stop.clone());
    let mut learned = Map::new();
    // Parsed once for the whole wait: every poll's judgement reads them.
    let attrs = row.attrs.value();
    for stage in kind.stages(&id, &attrs) {
        let rx = tokio::sync::Mutex::new(ctx.sess.poller(client, stage.lookup).watch(&stage.key));
        // Reads that keep failing (the client has already retried each of them) end the
        // wait: the object may be fine, so its row stays `creating` for the next run,
        // instead of the run hanging until the create timeout on an unreachable cloud.
        let failed_reads = AtomicU32::new(0);
        let absent_reads = AtomicU32::new(0);
        let unreadable: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
        let gone: std::sync::Mutex<Option<String>> = std::sync::Mutex::new(None);
        let r = waiter
            .wait(|_| async {
                let item = match rx.lock().await.recv().await {
                    Some(Ok(Some(item))) => item,
                    Some(Err(e)) => {
                        if failed_reads.fetch_add(1, Ordering::Relaxed) + 1 >= READ_FAILURES {
                            let msg = format!(
                                "cannot read {} {id} while waiting for it ({READ_FAILURES} reads failed in a row): {e}",
                                stage.what
                            );
                            *unreadable.lock().expect("never poisoned") = Some(msg.clone());
                            return Acceptance::Failure((msg, None));
                        }
                        return Acceptance::Retry(());
                    }
                    Some(Ok(None)) => {
                        failed_reads.store(0, Ordering::Relaxed);
                        if absent_reads.fetch_add(1, Ordering::Relaxed) + 1 >= ABSENT_READS {
                            let which = stage.key.rsplit('/').next().unwrap_or_default();
                            let msg = format!(
                                "the cloud returned {which} for the create of {}, but no longer lists {} {which} ({ABSENT_READS} reads in a row, over {}): it was deleted, or never made\n  its state row was removed, so the next `imgform apply` creates it again (with a new ClientToken)",
                                c.addr,
                                stage.what,
                                fmt_elapsed(start.elapsed())
                            );
                            *gone.lock().expect("never poisoned") = Some(msg.clone());
                            return Acceptance::Failure((msg, None));
                        }
                        return Acceptance::Retry(());
                    }
                    None => return Acceptance::Retry(()),
                };
                failed_reads.store(0, Ordering::Relaxed);
                absent_reads.store(0, Ordering::Relaxed);
                crate::crash::at("waiting");
                match kind.judge(&stage, &item, &attrs) {
                    Verdict::Done(m, warning) => Acceptance::Success((m, warning)),
                    Verdict::Failed(e, l) => Acceptance::Failure((e, l)),
                    Verdict::Pending(status, percent) => {
                        ctx.sink.emit(Event::Progress {
                            addr: c.addr.clone(),
                            verb: Verb::Create,
                            elapsed: start.elapsed(),
                            percent,
                            status,
                        });
                        Acceptance::Retry(())
                    }
                }
            })
            .await;
        match r {
            Ok((m, warning)) => {
                if let Some(w) = warning {
                    ctx.sink.emit(Event::Warning(format!("{}: {w}", c.addr)));
                }
                learned.extend(m);
            }
            Err(WaitError::Failed((e, l))) => {
                if let Some(msg) = gone.into_inner().expect("never poisoned") {
                    return Err(WaitOutcome::Gone(msg));
                }
                return Err(match unreadable.into_inner().expect("never poisoned") {
                    Some(msg) => WaitOutcome::Unfinished(format!(
                        "{msg}\n  it is still recorded as creating, so the next `imgform apply` resumes the wait"
                    )),
                    None => WaitOutcome::Failed(e, l),
                });
            }
            Err(WaitError::Interrupted { .. }) => {
                let which = stage.key.rsplit('/').next().unwrap_or_default();
                return Err(WaitOutcome::Unfinished(format!(
                    "interrupted while waiting for {} {which}; it is still recorded as creating, so the next `imgform apply` resumes the wait",
                    stage.what
                )));
            }
            Err(_) => {
                let which = stage.key.rsplit('/').next().unwrap_or_default();
                return Err(WaitOutcome::Unfinished(format!(
                    "timed out after {} waiting for {} {which}; it is still recorded as creating, so the next `imgform apply` resumes the wait",
                    fmt_elapsed(timeout),
                    stage.what
                )));
            }
        }
    }
    Ok(learned)
}

/// Reads a data source during apply and records it, so dependents re-evaluated during
/// the apply see it.
pub(super) async fn read(ctx: &Ctx, c: &Change) -> Result<(), String> {
    let kind = resource::data_kind(&c.kind)?;
    let args = ctx.ledger.evaluate(&c.addr)?;
    let client = ctx.sess.client(&c.provider, &c.region)?;
    let v = kind.read(&client, &J::Object(args)).await?;
    let id = v["id"].as_str().map(String::from);
    put(
        ctx,
        &ResourceState::ready(
            c.addr.clone(),
            c.provider.clone(),
            client.region().into(),
            id,
            v,
        ),
    )
    .await
}
