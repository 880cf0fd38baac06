//! Updating an object in place: the kind's calls, in order, then the new attributes.

use super::ctx::{api_call, put, row, Ctx};
use super::eval::desired;
use crate::plan::model::Change;
use crate::resource;
use serde_json::json;

/// Changes the object of `c` in place with the calls its kind gives for the difference.
pub(super) async fn update(ctx: &Ctx, c: &Change) -> Result<(), String> {
    let kind = resource::kind(&c.kind)?;
    let mut row = row(ctx, &c.addr)?.ok_or("the object is not in state")?;
    let id = row.id.clone().ok_or("the object has no id")?;
    let client = ctx.sess.client(&c.provider, &row.region)?;
    let after = desired(ctx, c)?;
    let before = c.before.as_deref().cloned().unwrap_or(json!({}));
    for (action, params) in kind.update(client.region(), &id, &before, &after) {
        api_call(ctx, &client, action, params).await?;
    }
    row.attrs.modify(|attrs| {
        if let (Some(o), Some(a)) = (attrs.as_object_mut(), after.as_object()) {
            for (k, v) in a {
                o.insert(k.clone(), v.clone());
            }
            if c.sensitive.is_empty() {
                o.remove("_sensitive");
            } else {
                o.insert("_sensitive".into(), json!(c.sensitive));
            }
        }
    });
    put(ctx, &row).await
}
