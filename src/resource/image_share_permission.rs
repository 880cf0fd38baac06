//! `alicloud_image_share_permission`: one account a custom image is shared with
//! (ModifyImageSharePermission `AddAccount`), read back with DescribeImageSharePermission.
//! Its id is `<image_id>:<account_id>`, as in the provider. Sharing again is harmless, so
//! an interrupted create is simply sent again; an account removed outside imgform is drift.

use super::api::s;
use super::kind::*;
use super::rules::*;
use super::{attr, EvalBody, Schema, Ty, Update::*};
use crate::cloud::client::Client;
use crate::cloud::error::Error;
use crate::diag::Diagnostics;
use futures_util::future::BoxFuture;
use serde_json::{json, Map, Value as J};
use std::collections::HashMap;

/// The schema.
pub const SCHEMA: Schema = Schema {
    kind: "alicloud_image_share_permission",
    attrs: &[
        attr("image_id", Ty::String, ForceNew)
            .required()
            .check(image_id),
        attr("account_id", Ty::String, ForceNew)
            .required()
            .check(account_id),
    ],
    blocks: &[],
    cross,
    timeouts: super::Timeouts {
        create: 300,
        delete: 300,
    },
};

fn cross(_: &EvalBody, _: &mut Diagnostics) {}

/// The kind.
pub struct ImageSharePermission;

/// Shares keyed `image:account`: one DescribeImageSharePermission per image (every page).
pub static SHARES: Lookup = Lookup {
    name: "shares",
    fetch: fetch_shares,
    batch: 100,
};

fn fetch_shares(
    c: Client,
    keys: Vec<String>,
) -> BoxFuture<'static, Result<HashMap<String, J>, Error>> {
    Box::pin(async move {
        let mut images: Vec<&str> = keys
            .iter()
            .filter_map(|k| Some(k.split_once(':')?.0))
            .collect();
        images.sort();
        images.dedup();
        let mut out = HashMap::new();
        for image in images {
            let mut page = 1;
            loop {
                let params = vec![
                    ("RegionId".to_string(), c.region().to_string()),
                    ("ImageId".to_string(), image.to_string()),
                    ("PageNumber".to_string(), page.to_string()),
                    ("PageSize".to_string(), "100".to_string()),
                ];
                let r = match c
                    .call_raw("DescribeImageSharePermission", params, None)
                    .await
                {
                    Ok(r) => r,
                    Err(e) if not_found(&e) => break,
                    Err(e) => return Err(e),
                };
                let accounts = r["Accounts"]["Account"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                for a in &accounts {
                    if let Some(id) = a["AliyunId"].as_str() {
                        out.insert(
                            format!("{image}:{id}"),
                            json!({"ImageId": image, "AliyunId": id}),
                        );
                    }
                }
                let total = r["TotalCount"].as_i64().unwrap_or(0);
                if accounts.is_empty() || page * 100 >= total {
                    break;
                }
                page += 1;
            }
        }
        Ok(out)
    })
}

fn modify(region: &str, a: &J, add: bool) -> Vec<(String, String)> {
    vec![
        ("RegionId".to_string(), region.to_string()),
        ("ImageId".to_string(), s(a, "image_id").unwrap_or_default()),
        (
            if add {
                "AddAccount.1"
            } else {
                "RemoveAccount.1"
            }
            .to_string(),
            s(a, "account_id").unwrap_or_default(),
        ),
    ]
}

impl Kind for ImageSharePermission {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn create(&self, region: &str, attrs: &J, _token: &str) -> Request {
        ("ModifyImageSharePermission", modify(region, attrs, true))
    }

    fn created(&self, _: &J, attrs: &J) -> Option<(String, Map<String, J>)> {
        Some((
            format!("{}:{}", s(attrs, "image_id")?, s(attrs, "account_id")?),
            Map::new(),
        ))
    }

    fn stages(&self, _: &str, _: &J) -> Vec<Stage> {
        vec![]
    }

    fn judge(&self, _: &Stage, _: &J, _: &J) -> Verdict {
        Verdict::Done(Map::new(), None)
    }

    fn tag_type(&self) -> Option<&'static str> {
        None
    }

    /// The image shared.
    fn references(&self, attrs: &J) -> Vec<Reference> {
        s(attrs, "image_id")
            .map(|id| {
                vec![Reference::new(
                    "image_id",
                    &super::objects::SOURCE_IMAGE,
                    &id,
                )]
            })
            .unwrap_or_default()
    }

    fn naming(&self) -> &'static [&'static str] {
        &["image_id"]
    }

    fn read_key(&self, id: &str, _: &Attrs) -> (&'static Lookup, String) {
        (&SHARES, id.into())
    }

    fn read_back(&self, item: &J) -> Option<Map<String, J>> {
        let image = item["ImageId"].as_str()?;
        let account = item["AliyunId"].as_str()?;
        let mut m = Map::new();
        m.insert("id".into(), json!(format!("{image}:{account}")));
        m.insert("image_id".into(), json!(image));
        m.insert("account_id".into(), json!(account));
        Some(m)
    }

    fn refreshed(&self) -> &'static [&'static str] {
        &[]
    }

    /// ModifyImageSharePermission `RemoveAccount`; an image already gone shares nothing.
    fn delete<'a>(&'a self, cx: &'a dyn Cx, obj: Object<'a>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let (image, account) = obj.id.split_once(':').unwrap_or((obj.id, ""));
            let a = json!({"image_id": image, "account_id": account});
            match cx
                .call(
                    obj.region,
                    "ModifyImageSharePermission",
                    modify(obj.region, &a, false),
                )
                .await
            {
                Ok(_) => Ok(()),
                Err(e) if not_found(&e) => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}
