//! `alicloud_image_copy`: a custom image copied from another region (CopyImage). The copy
//! lives in its provider's region and is requested in the source region, as in the
//! provider. The request carries a ClientToken (the current SDKs send one; older API pages
//! do not list it), and the copy is also tagged with the token: an interrupted create is
//! looked for by that tag before anything is sent again, so no ECS that ignores the token
//! can be asked for two copies. Destroying a copy still in progress cancels it
//! (CancelCopyImage).

use super::api::{self, s};
use super::image::{image_update, judge_image, read_image_item, IMAGES, IMAGE_REFRESHED};
use super::kind::*;
use super::objects;
use super::rules::*;
use super::{attr, EvalBody, Schema, Ty, Update::*};
use crate::cloud::ops;
use crate::diag::Diagnostics;
use futures_util::future::BoxFuture;
use serde_json::{Map, Value as J};

/// The tag an interrupted copy is found by.
pub const TOKEN_TAG: &str = "imgform:client-token";

/// The schema.
pub const SCHEMA: Schema = Schema {
    kind: "alicloud_image_copy",
    attrs: &[
        attr("source_image_id", Ty::String, ForceNew)
            .required()
            .check(image_id),
        attr("source_region_id", Ty::String, ForceNew)
            .required()
            .check(region),
        attr("image_name", Ty::String, InPlace).check(image_name),
        attr("description", Ty::String, InPlace)
            .check(description)
            .cleared(),
        attr("encrypted", Ty::Bool, ForceNew),
        attr("kms_key_id", Ty::String, ForceNew),
        attr("tags", Ty::Map, InPlace).check(tags).cleared(),
        attr("force", Ty::Bool, Local),
        attr("delete_auto_snapshot", Ty::Bool, Local),
        attr("status", Ty::String, Computed),
        attr("usable", Ty::Bool, Computed),
        attr("progress", Ty::String, Computed),
        attr("size", Ty::Int, Computed),
        attr("create_time", Ty::String, Computed),
    ],
    blocks: &[],
    cross,
    timeouts: super::Timeouts {
        create: 600,
        delete: 600,
    },
};

fn cross(_: &EvalBody, _: &mut Diagnostics) {}

/// The kind.
pub struct ImageCopy;

/// The CopyImage request, sent to the source region; the copy carries the token as a tag.
pub fn copy_image(destination: &str, a: &J, token: &str) -> Vec<(String, String)> {
    let mut p = vec![
        (
            "RegionId".to_string(),
            s(a, "source_region_id").unwrap_or_default(),
        ),
        (
            "ImageId".to_string(),
            s(a, "source_image_id").unwrap_or_default(),
        ),
        ("DestinationRegionId".to_string(), destination.to_string()),
    ];
    for (param, key) in [
        ("DestinationImageName", "image_name"),
        ("DestinationDescription", "description"),
        ("Encrypted", "encrypted"),
        ("KMSKeyId", "kms_key_id"),
    ] {
        if let Some(v) = s(a, key) {
            p.push((param.to_string(), v));
        }
    }
    let mut tags = api::tags(a, "tags");
    tags.push(ops::Tag {
        key: TOKEN_TAG.into(),
        value: token.into(),
    });
    for (i, t) in tags.into_iter().enumerate() {
        p.push((format!("Tag.{}.Key", i + 1), t.key));
        p.push((format!("Tag.{}.Value", i + 1), t.value));
    }
    p.push(("ClientToken".to_string(), token.to_string()));
    p
}

impl Kind for ImageCopy {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn create(&self, region: &str, attrs: &J, token: &str) -> Request {
        ("CopyImage", copy_image(region, attrs, token))
    }

    fn created(&self, answer: &J, _: &J) -> Option<(String, Map<String, J>)> {
        id_in(answer, "ImageId")
    }

    fn call_region(&self, provider_region: &str, attrs: &J) -> String {
        s(attrs, "source_region_id").unwrap_or_else(|| provider_region.to_string())
    }

    fn idempotent(&self) -> bool {
        false
    }

    /// DescribeImages in the destination region by the token tag.
    fn adopt<'a>(
        &'a self,
        cx: &'a dyn Cx,
        region: &'a str,
        token: &'a str,
        _attrs: &'a J,
    ) -> BoxFuture<'a, Result<Option<Found>, String>> {
        Box::pin(async move {
            let req = ops::DescribeImages {
                region_id: region.into(),
                image_owner_alias: Some("self".into()),
                status: Some(ops::ALL_IMAGE_STATUSES.into()),
                tag: vec![ops::Tag {
                    key: TOKEN_TAG.into(),
                    value: token.into(),
                }],
                page_size: Some(10),
                ..Default::default()
            };
            let answer = cx
                .call(region, "DescribeImages", ops::flatten(&req))
                .await
                .map_err(|e| e.to_string())?;
            let found: ops::DescribeImagesResponse =
                serde_json::from_value(answer).map_err(|e| e.to_string())?;
            Ok(found
                .images
                .items
                .first()
                .map(|i| (i.image_id.clone(), Map::new())))
        })
    }

    fn stages(&self, id: &str, _: &J) -> Vec<Stage> {
        vec![Stage {
            lookup: &IMAGES,
            key: id.into(),
            what: "image copy",
        }]
    }

    fn judge(&self, stage: &Stage, item: &J, _: &J) -> Verdict {
        match judge_image(&stage.key, item) {
            Verdict::Done(m, w) => Verdict::Done(without_token(m), w),
            other => other,
        }
    }

    fn update(&self, region: &str, id: &str, before: &J, after: &J) -> Vec<Request> {
        image_update(&SCHEMA, region, id, before, after)
    }

    fn tag_type(&self) -> Option<&'static str> {
        Some("image")
    }

    /// The source region, and the source image in it.
    fn references(&self, attrs: &J) -> Vec<Reference> {
        let region = s(attrs, "source_region_id");
        let mut out: Vec<Reference> = region
            .iter()
            .map(|r| Reference::new("source_region_id", &objects::REGION, r))
            .collect();
        if let Some(id) = s(attrs, "source_image_id") {
            out.push(
                Reference::new("source_image_id", &objects::SOURCE_IMAGE, &id).in_region(region),
            );
        }
        out
    }

    fn naming(&self) -> &'static [&'static str] {
        &["source_image_id", "source_region_id"]
    }

    fn read_key(&self, id: &str, _: &Attrs) -> (&'static Lookup, String) {
        (&IMAGES, id.into())
    }

    fn read_back(&self, item: &J) -> Option<Map<String, J>> {
        read_image_item(item).map(without_token)
    }

    fn refreshed(&self) -> &'static [&'static str] {
        IMAGE_REFRESHED
    }

    /// DeleteImage; a copy still in progress (`OperationDenied.ImageCopying`) is cancelled
    /// with CancelCopyImage instead, which removes it.
    fn delete<'a>(&'a self, cx: &'a dyn Cx, obj: Object<'a>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let req = ops::DeleteImage {
                region_id: obj.region.into(),
                image_id: obj.id.into(),
                force: api::boolean(obj.attrs, "force"),
            };
            match cx.call(obj.region, "DeleteImage", ops::flatten(&req)).await {
                Ok(_) => Ok(()),
                Err(e) if not_found(&e) => Ok(()),
                Err(e)
                    if matches!(
                        e.code(),
                        Some("OperationDenied.ImageCopying" | "ImageIsCreating")
                    ) =>
                {
                    cx.progress("cancelling the copy");
                    let cancel = vec![
                        ("RegionId".to_string(), obj.region.to_string()),
                        ("ImageId".to_string(), obj.id.to_string()),
                    ];
                    match cx.call(obj.region, "CancelCopyImage", cancel).await {
                        Ok(_) => Ok(()),
                        Err(e) if not_found(&e) => Ok(()),
                        Err(e) => Err(e.to_string()),
                    }
                }
                Err(e) => Err(e.to_string()),
            }
        })
    }
}

/// The attributes without the token tag imgform added.
fn without_token(mut m: Map<String, J>) -> Map<String, J> {
    if let Some(J::Object(t)) = m.get_mut("tags") {
        t.remove(TOKEN_TAG);
    }
    m
}
