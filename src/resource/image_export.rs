//! `alicloud_image_export`: a custom image exported to an OSS bucket of its region
//! (ExportImage), waited on through its task (DescribeTasks), as in the provider. Its id is
//! the image's id, as the provider has it; the task's id is recorded as `task_id`. The
//! provider's destroy only forgets the export (the file stays in OSS); imgform does the
//! same, and cancels the task first when it is still running.

use super::api::s;
use super::image_import::TASKS;
use super::kind::*;
use super::rules::*;
use super::{attr, EvalBody, Schema, Ty, Update::*};
use crate::diag::Diagnostics;
use crate::value::Value;
use futures_util::future::BoxFuture;
use serde_json::{json, Map, Value as J};

/// `OSSPrefix`: 1 to 30 letters and digits.
fn oss_prefix(v: &Value) -> Result<(), (String, String)> {
    let t = v.as_str().unwrap_or_default();
    if !t.is_empty() && t.len() <= 30 && t.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err((
            format!("{t:?} is not a valid OSS prefix"),
            "use 1 to 30 letters and digits".into(),
        ))
    }
}

/// `ImageFormat`: the formats ExportImage writes.
fn export_format(v: &Value) -> Result<(), (String, String)> {
    let t = v.as_str().unwrap_or_default();
    if ["raw", "vhd", "qcow2", "vmdk", "vdi"].contains(&t) {
        Ok(())
    } else {
        Err((
            format!("{t:?} is not an export format"),
            "use one of: raw, vhd, qcow2, vmdk, vdi".into(),
        ))
    }
}

/// The schema.
pub const SCHEMA: Schema = Schema {
    kind: "alicloud_image_export",
    attrs: &[
        attr("image_id", Ty::String, ForceNew)
            .required()
            .check(image_id),
        attr("oss_bucket", Ty::String, ForceNew)
            .required()
            .check(oss_bucket),
        attr("oss_prefix", Ty::String, ForceNew).check(oss_prefix),
        attr("image_format", Ty::String, ForceNew).check(export_format),
        attr("task_id", Ty::String, Computed),
        attr("status", Ty::String, Computed),
    ],
    blocks: &[],
    cross,
    timeouts: super::Timeouts {
        create: 1200,
        delete: 600,
    },
};

fn cross(_: &EvalBody, _: &mut Diagnostics) {}

/// The kind.
pub struct ImageExport;

fn export(region: &str, a: &J) -> Vec<(String, String)> {
    let mut p = vec![("RegionId".to_string(), region.to_string())];
    for (param, key) in [
        ("ImageId", "image_id"),
        ("OSSBucket", "oss_bucket"),
        ("OSSPrefix", "oss_prefix"),
        ("ImageFormat", "image_format"),
    ] {
        if let Some(v) = s(a, key) {
            p.push((param.to_string(), v));
        }
    }
    p
}

impl Kind for ImageExport {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn create(&self, region: &str, attrs: &J, _token: &str) -> Request {
        ("ExportImage", export(region, attrs))
    }

    fn created(&self, answer: &J, attrs: &J) -> Option<(String, Map<String, J>)> {
        let task = answer.get("TaskId")?.as_str()?;
        let mut m = Map::new();
        m.insert("task_id".into(), json!(task));
        Some((s(attrs, "image_id")?, m))
    }

    /// ExportImage takes no ClientToken and sending it again would export again: an
    /// interrupted export is found by its image's export task.
    fn idempotent(&self) -> bool {
        false
    }

    /// The export task of the image, if a lost request made one.
    fn adopt<'a>(
        &'a self,
        cx: &'a dyn Cx,
        region: &'a str,
        _token: &'a str,
        attrs: &'a J,
    ) -> BoxFuture<'a, Result<Option<Found>, String>> {
        Box::pin(async move {
            let Some(image) = s(attrs, "image_id") else {
                return Ok(None);
            };
            let params = vec![
                ("RegionId".to_string(), region.to_string()),
                ("TaskAction".to_string(), "ExportImage".to_string()),
                ("ResourceIds.1".to_string(), image.clone()),
                ("PageSize".to_string(), "100".to_string()),
            ];
            let answer = cx
                .call(region, "DescribeTasks", params)
                .await
                .map_err(|e| e.to_string())?;
            let task = answer["TaskSet"]["Task"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| t["TaskStatus"].as_str() != Some("Failed"))
                .filter_map(|t| t["TaskId"].as_str())
                .next_back()
                .map(String::from);
            Ok(task.map(|t| {
                let mut m = Map::new();
                m.insert("task_id".into(), json!(t));
                (image, m)
            }))
        })
    }

    fn stages(&self, _: &str, attrs: &J) -> Vec<Stage> {
        s(attrs, "task_id")
            .map(|t| {
                vec![Stage {
                    lookup: &TASKS,
                    key: t,
                    what: "export task",
                }]
            })
            .unwrap_or_default()
    }

    fn judge(&self, stage: &Stage, item: &J, _: &J) -> Verdict {
        let status = item["TaskStatus"].as_str().unwrap_or_default();
        match status {
            "Finished" => {
                let mut m = Map::new();
                m.insert("status".into(), json!(status));
                Verdict::Done(m, None)
            }
            "Failed" | "Cancelled" | "Deleted" => Verdict::Failed(
                format!(
                    "export task {} {status}: {}",
                    stage.key,
                    item["_failure"].as_str().unwrap_or("no reason given")
                ),
                None,
            ),
            _ => Verdict::Pending(status.to_string(), None),
        }
    }

    fn tag_type(&self) -> Option<&'static str> {
        None
    }

    /// The image exported.
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

    fn read_key(&self, id: &str, attrs: &Attrs) -> (&'static Lookup, String) {
        (
            &TASKS,
            attrs
                .get("task_id")
                .and_then(|t| t.as_str().map(String::from))
                .unwrap_or_else(|| id.to_string()),
        )
    }

    fn read_back(&self, item: &J) -> Option<Map<String, J>> {
        let mut m = Map::new();
        m.insert("id".into(), item.get("ResourceId")?.clone());
        m.insert("image_id".into(), item.get("ResourceId")?.clone());
        m.insert("task_id".into(), item.get("TaskId")?.clone());
        m.insert("status".into(), item.get("TaskStatus")?.clone());
        Some(m)
    }

    fn refreshed(&self) -> &'static [&'static str] {
        &["status"]
    }

    /// Cancels the export task while it runs; the exported file stays in OSS.
    fn delete<'a>(&'a self, cx: &'a dyn Cx, obj: Object<'a>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let Some(task) = s(obj.attrs, "task_id") else {
                return Ok(());
            };
            let params = vec![
                ("RegionId".to_string(), obj.region.to_string()),
                ("TaskId".to_string(), task),
            ];
            match cx.call(obj.region, "CancelTask", params).await {
                Ok(_) => Ok(()),
                Err(e) if not_found(&e) || e.code() == Some("IncorrectTaskStatus") => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}
