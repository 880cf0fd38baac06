//! Deleting objects, the same way for every kind: the row is marked `deleting` before the
//! kind's delete procedure runs and removed after it; objects a create_before_destroy
//! replaced are recorded on the new row and deleted one by one; a create interrupted
//! before its id was recorded is re-sent with its ClientToken to learn what to delete.

use super::create::{create_action, timeout_of};
use super::ctx::{api_call, put, remove, row, Ctx, RunCx};
use crate::events::Verb;
use crate::plan::model::Change;
use crate::resource::{self, kind::Object};
use crate::state::{ResourceState, Status};
use serde_json::{json, Value as J};
use tokio::time::Instant;

/// Destroys the object of `c`, and first what it had replaced and not yet deleted.
pub(super) async fn delete(ctx: &Ctx, c: &Change, start: Instant) -> Result<(), String> {
    let Some(row) = row(ctx, &c.addr)? else {
        return Ok(());
    };
    // Objects an earlier create_before_destroy replaced but did not delete go first: the
    // row that remembers them is about to go.
    delete_deposed(ctx, &row, None, start).await?;
    let row = self::row(ctx, &c.addr)?.unwrap_or(row);
    delete_object(ctx, &row, start, true).await?;
    remove(ctx, &c.addr).await
}

/// The objects a row replaced and has yet to delete: `(id, region)`. Older states kept
/// one id as a string.
pub(super) fn deposed_of(r: &ResourceState) -> Vec<(String, String)> {
    // Read for every row at the end of an apply: most rows have none, and are not parsed.
    if !r.attrs.text().contains("\"_deposed\"") {
        return Vec::new();
    }
    match r.attrs.get("_deposed") {
        Some(J::String(id)) => vec![(id, r.region.clone())],
        Some(J::Array(items)) => items
            .iter()
            .filter_map(|d| {
                let id = d.get("id")?.as_str()?.to_string();
                let region = d
                    .get("region")
                    .and_then(|x| x.as_str())
                    .unwrap_or(&r.region)
                    .to_string();
                Some((id, region))
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Records the objects a row replaced and has yet to delete.
pub(super) fn set_deposed(attrs: &mut J, deposed: &[(String, String)]) {
    let Some(o) = attrs.as_object_mut() else {
        return;
    };
    if deposed.is_empty() {
        o.remove("_deposed");
    } else {
        o.insert(
            "_deposed".into(),
            J::Array(
                deposed
                    .iter()
                    .map(|(id, region)| json!({"id": id, "region": region}))
                    .collect(),
            ),
        );
    }
}

/// Deletes the objects `row` replaced, one by one, recording each deletion in the row.
/// `old` is the replaced row as it was, when known: its attributes say how to delete it.
pub(super) async fn delete_deposed(
    ctx: &Ctx,
    row: &ResourceState,
    old: Option<&ResourceState>,
    start: Instant,
) -> Result<(), String> {
    let mut left = deposed_of(row);
    while let Some((id, region)) = left.first().cloned() {
        let mut ghost = old
            .filter(|o| o.id.as_deref() == Some(id.as_str()))
            .cloned()
            .unwrap_or_else(|| row.clone());
        ghost.id = Some(id);
        ghost.region = region;
        ghost.status = Status::Ready;
        delete_object(ctx, &ghost, start, false).await?;
        left.remove(0);
        let mut now = self::row(ctx, &row.addr)?.unwrap_or_else(|| row.clone());
        now.attrs.modify(|a| set_deposed(a, &left));
        put(ctx, &now).await?;
    }
    Ok(())
}

/// Deletes one object with its kind's procedure; `mark` records `deleting` first.
async fn delete_object(
    ctx: &Ctx,
    row: &ResourceState,
    start: Instant,
    mark: bool,
) -> Result<(), String> {
    let kind = resource::kind(&row.kind)?;
    let client = ctx.sess.client(&row.provider, &row.region)?;
    let Some(id) = row.id.clone() else {
        return match learn_id(ctx, row, mark).await? {
            Some(with_id) => Box::pin(delete_object(ctx, &with_id, start, mark)).await,
            None => Ok(()),
        };
    };
    if mark {
        let mut marked = row.clone();
        marked.status = Status::Deleting;
        put(ctx, &marked).await?;
    }
    let cx = RunCx {
        ctx,
        client: client.clone(),
        addr: &row.addr,
        verb: Verb::Delete,
        start,
        deadline: tokio::time::Instant::now() + timeout_of(ctx, &row.addr, kind, true),
    };
    let attrs = row.attrs.value();
    let obj = Object {
        id: &id,
        region: client.region(),
        attrs: &attrs,
    };
    kind.delete(&cx, obj).await
}

/// A create interrupted before its id was recorded may still have made the object: the
/// same request with the same ClientToken learns its id. `None` when the cloud refuses it
/// now (so the interrupted create made nothing) or nothing was pending.
async fn learn_id(
    ctx: &Ctx,
    row: &ResourceState,
    mark: bool,
) -> Result<Option<ResourceState>, String> {
    let kind = resource::kind(&row.kind)?;
    let client = ctx.sess.client(&row.provider, &row.region)?;
    if !kind.idempotent() {
        // Sending it again would make another object: look for the one it made.
        let Some(token) = &row.client_token else {
            return Ok(None);
        };
        let cx = RunCx {
            ctx,
            client: client.clone(),
            addr: &row.addr,
            verb: Verb::Delete,
            start: tokio::time::Instant::now(),
            deadline: tokio::time::Instant::now(),
        };
        let Some((id, extra)) = kind
            .adopt(&cx, &row.region, token, &row.attrs.value())
            .await?
        else {
            return Ok(None);
        };
        let mut with_id = row.clone();
        with_id.id = Some(id);
        with_id.attrs.extend(extra);
        if mark {
            put(ctx, &with_id).await?;
        }
        return Ok(Some(with_id));
    }
    let Some(params) = row
        .pending
        .as_ref()
        .and_then(|p| serde_json::from_value::<Vec<(String, String)>>(J::clone(p)).ok())
    else {
        return Ok(None);
    };
    let client = ctx.sess.client(
        &row.provider,
        &kind.call_region(&row.region, &row.attrs.value()),
    )?;
    let answer = match api_call(ctx, &client, create_action(kind), params).await {
        Ok(a) => a,
        Err(e) if !e.may_have_acted => return Ok(None),
        Err(e) => return Err(e.message),
    };
    let (id, extra) = kind.created(&answer, &row.attrs.value()).ok_or("no id")?;
    let mut with_id = row.clone();
    with_id.id = Some(id);
    with_id.attrs.extend(extra);
    if mark {
        put(ctx, &with_id).await?;
    }
    Ok(Some(with_id))
}
