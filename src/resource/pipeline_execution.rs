//! `alicloud_ecs_image_pipeline_execution`: one build of a pipeline
//! (StartImagePipelineExecution). imgform waits for a terminal status, not just for the build
//! to start, exposes the built `image_id`, rebuilds when `triggers` change, and can delete
//! the built image on destroy.

use super::api::{self, s};
use super::kind::*;
use super::rules::*;
use super::{attr, EvalBody, Schema, Ty, Update::*};
use crate::cloud::client::{in_parallel, Client, Read};
use crate::cloud::error::Error;
use crate::cloud::ops;
use crate::cloud::waiter::{Acceptance, WaitError};
use crate::diag::Diagnostics;
use futures_util::future::BoxFuture;
use serde_json::{json, Map, Value as J};
use std::collections::HashMap;

/// The schema.
pub const SCHEMA: Schema = Schema {
    kind: "alicloud_ecs_image_pipeline_execution",
    attrs: &[
        attr("image_pipeline_id", Ty::String, ForceNew)
            .required()
            .check(pipeline_id),
        attr("triggers", Ty::Map, ForceNew),
        attr("delete_image_on_destroy", Ty::Bool, Local),
        attr("tags", Ty::Map, ForceNew).check(tags),
        // As in the provider: setting it to CANCELLED cancels the build; otherwise it is
        // what the cloud reports.
        attr("status", Ty::String, InPlace).check(build_status),
        attr("image_id", Ty::String, Computed),
        attr("create_time", Ty::String, Computed),
    ],
    blocks: &[],
    cross,
    timeouts: super::Timeouts {
        create: 10800,
        delete: 10800,
    },
};

fn cross(_: &EvalBody, _: &mut Diagnostics) {}

fn build_status(v: &crate::value::Value) -> Result<(), (String, String)> {
    match v.as_str() {
        Some("CANCELLED") => Ok(()),
        other => Err((
            format!("{other:?} cannot be set: a build's status is the cloud's, but for CANCELLED"),
            "set status = \"CANCELLED\" to cancel the build, or leave it out".into(),
        )),
    }
}

/// The kind.
pub struct PipelineExecution;

/// Builds, keyed `pipeline/execution`: one DescribeImagePipelineExecutions per pipeline
/// (every page). A key without a pipeline (`/exec-…`, an import) is read by its id.
pub static BUILDS: Lookup = Lookup {
    name: "builds",
    fetch: fetch_builds,
    batch: 1,
};

fn fetch_builds(
    c: Client,
    keys: Vec<String>,
) -> BoxFuture<'static, Result<HashMap<String, J>, Error>> {
    Box::pin(async move {
        let mut pipes: Vec<&str> = keys
            .iter()
            .filter_map(|k| Some(k.split_once('/')?.0))
            .collect();
        pipes.sort();
        pipes.dedup();
        let mut out = HashMap::new();
        // The pipelines are read in parallel (as other batched reads are), so a tick over
        // 500 builds costs 500 calls divided by the read parallelism in time.
        let reads: Vec<Read<'_, (String, J)>> = pipes
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(|p| -> Read<'_, (String, J)> {
                let c = &c;
                Box::pin(async move {
                    Ok(c.describe_executions_of(p)
                        .await?
                        .unwrap_or_default()
                        .into_iter()
                        .map(|e| {
                            let j = serde_json::to_value(&e).expect("a build serialises");
                            (format!("{p}/{}", e.execution_id), j)
                        })
                        .collect())
                })
            })
            .collect();
        out.extend(in_parallel(reads).await?);
        for k in keys.iter().filter(|k| k.starts_with('/')) {
            let req = ops::DescribeImagePipelineExecutions {
                region_id: c.region().into(),
                execution_id: Some(k[1..].to_string()),
                ..Default::default()
            };
            let r: ops::DescribeImagePipelineExecutionsResponse =
                c.call("DescribeImagePipelineExecutions", &req).await?;
            if let Some(e) = r.image_pipeline_execution.items.first() {
                out.insert(
                    k.clone(),
                    serde_json::to_value(e).expect("a build serialises"),
                );
            }
        }
        Ok(out)
    })
}

const TERMINAL: &[&str] = &[
    "SUCCESS",
    "PARTITION_SUCCESS",
    "FAILED",
    "TEST_FAILED",
    "CANCELLED",
];
const FAILED: &[&str] = &["FAILED", "TEST_FAILED", "CANCELLED"];

impl Kind for PipelineExecution {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn create(&self, region: &str, attrs: &J, token: &str) -> Request {
        (
            "StartImagePipelineExecution",
            ops::flatten(&start_execution(region, attrs, token)),
        )
    }

    /// Records the regions the build distributes its image to (its pipeline's
    /// `to_region_id`), so that deleting it never depends on the pipeline's row, which may
    /// have been replaced or removed by then.
    fn prepare(&self, cx: &dyn Cx, attrs: &mut J) {
        let pipeline = api::s(attrs, "image_pipeline_id").unwrap_or_default();
        let regions = cx
            .attr_of(&pipeline, "to_region_id")
            .unwrap_or_else(|| J::Array(vec![]));
        if let Some(o) = attrs.as_object_mut() {
            o.insert("_copy_regions".into(), regions);
        }
    }

    fn created(&self, answer: &J, _: &J) -> Option<(String, Map<String, J>)> {
        id_in(answer, "ExecutionId")
    }

    /// A build is waited on to its end, not just to its start.
    fn stages(&self, id: &str, attrs: &J) -> Vec<Stage> {
        vec![Stage {
            lookup: &BUILDS,
            key: format!(
                "{}/{id}",
                api::s(attrs, "image_pipeline_id").unwrap_or_default()
            ),
            what: "build",
        }]
    }

    fn judge(&self, stage: &Stage, e: &J, _: &J) -> Verdict {
        let status = e["Status"].as_str().unwrap_or_default().to_string();
        let message = e["Message"].as_str().unwrap_or_default();
        let mut learned = Map::new();
        learned.insert("status".into(), J::String(status.clone()));
        learned.insert("image_id".into(), e["ImageId"].clone());
        if FAILED.contains(&status.as_str()) {
            let id = stage.key.rsplit('/').next().unwrap_or_default();
            let why = if message.is_empty() {
                "no reason given"
            } else {
                message
            };
            return Verdict::Failed(format!("build {id} ended {status}: {why}"), Some(learned));
        }
        if !TERMINAL.contains(&status.as_str()) {
            return Verdict::Pending(status, None);
        }
        learned.insert("create_time".into(), e["CreationTime"].clone());
        let warning = (status == "PARTITION_SUCCESS")
            .then(|| format!("the build succeeded but some distribution steps failed: {message}"));
        Verdict::Done(learned, warning)
    }

    fn tag_type(&self) -> Option<&'static str> {
        None
    }

    /// `status = "CANCELLED"` cancels a running build (CancelImagePipelineExecution).
    fn update(&self, region: &str, id: &str, before: &J, after: &J) -> Vec<Request> {
        if s(after, "status").as_deref() == Some("CANCELLED")
            && s(before, "status").as_deref() != Some("CANCELLED")
        {
            return vec![(
                "CancelImagePipelineExecution",
                vec![
                    ("RegionId".to_string(), region.to_string()),
                    ("ExecutionId".to_string(), id.to_string()),
                ],
            )];
        }
        vec![]
    }

    /// The status changes as the build runs: it is refreshed, never drift.
    fn drift(&self) -> Vec<&'static str> {
        vec![]
    }

    /// The pipeline run.
    fn references(&self, attrs: &J) -> Vec<Reference> {
        s(attrs, "image_pipeline_id")
            .map(|id| {
                vec![Reference::new(
                    "image_pipeline_id",
                    &super::objects::PIPELINE,
                    &id,
                )]
            })
            .unwrap_or_default()
    }

    fn naming(&self) -> &'static [&'static str] {
        &["image_pipeline_id"]
    }

    fn read_key(&self, id: &str, attrs: &Attrs) -> (&'static Lookup, String) {
        (
            &BUILDS,
            format!(
                "{}/{id}",
                api::s(&attrs.value(), "image_pipeline_id").unwrap_or_default()
            ),
        )
    }

    fn read_back(&self, item: &J) -> Option<Map<String, J>> {
        serde_json::from_value::<ops::Execution>(item.clone())
            .ok()
            .map(|e| read_execution(&e))
    }

    fn refreshed(&self) -> &'static [&'static str] {
        &["status", "image_id", "create_time"]
    }

    /// Waits for the build to end (cancelling it while it runs); then, when the build
    /// failed or `delete_image_on_destroy` is set, deletes its image and the copies the
    /// build distributed to other regions.
    fn delete<'a>(&'a self, cx: &'a dyn Cx, obj: Object<'a>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            end_build(cx, obj).await?;
            let failed = api::s(obj.attrs, "status").is_some_and(|s| FAILED.contains(&s.as_str()));
            if !failed && api::boolean(obj.attrs, "delete_image_on_destroy") != Some(true) {
                return Ok(());
            }
            let Some(img) = api::s(obj.attrs, "image_id").filter(|s| !s.is_empty()) else {
                return Ok(());
            };
            delete_copies(cx, obj, &img).await?;
            delete_one_image(cx, obj.region, &img).await
        })
    }
}

async fn end_build(cx: &dyn Cx, obj: Object<'_>) -> Result<(), String> {
    let r = cx
        .waiter()
        .wait(|_| async move {
            let req = ops::DescribeImagePipelineExecutions {
                region_id: obj.region.into(),
                execution_id: Some(obj.id.into()),
                ..Default::default()
            };
            let answer = match cx
                .call(
                    obj.region,
                    "DescribeImagePipelineExecutions",
                    ops::flatten(&req),
                )
                .await
            {
                Ok(a) => a,
                Err(e) if not_found(&e) => return Acceptance::Success(()),
                Err(e) => return Acceptance::Failure(e.to_string()),
            };
            let r: ops::DescribeImagePipelineExecutionsResponse =
                match serde_json::from_value(answer) {
                    Ok(r) => r,
                    Err(e) => return Acceptance::Failure(format!("unexpected answer: {e}")),
                };
            let Some(e) = r.image_pipeline_execution.items.first() else {
                return Acceptance::Success(());
            };
            match e.status.as_str() {
                s if TERMINAL.contains(&s) => return Acceptance::Success(()),
                "PREPARING" | "REPAIRING" | "BUILDING" => {
                    let cancel = ops::CancelImagePipelineExecution {
                        region_id: obj.region.into(),
                        execution_id: obj.id.into(),
                    };
                    let _ = cx
                        .call(
                            obj.region,
                            "CancelImagePipelineExecution",
                            ops::flatten(&cancel),
                        )
                        .await;
                }
                s => cx.progress(s),
            }
            Acceptance::Retry(())
        })
        .await;
    match r {
        Ok(()) => Ok(()),
        Err(WaitError::Failed(e)) => Err(e),
        Err(WaitError::Interrupted { .. }) => Err(format!(
            "interrupted while waiting for build {} to end; it stays in the state, so the next run goes on",
            obj.id
        )),
        Err(_) => Err(format!("timed out waiting for build {} to end", obj.id)),
    }
}

/// Copies a build distributed to other regions carry the built image's name: they go
/// too, so that a destroy leaves nothing behind.
async fn delete_copies(cx: &dyn Cx, obj: Object<'_>, img: &str) -> Result<(), String> {
    let read = ops::DescribeImages {
        region_id: obj.region.into(),
        image_id: Some(img.into()),
        image_owner_alias: Some("self".into()),
        status: Some(ops::ALL_IMAGE_STATUSES.into()),
        ..Default::default()
    };
    let name = cx
        .call(obj.region, "DescribeImages", ops::flatten(&read))
        .await
        .ok()
        .and_then(|a| serde_json::from_value::<ops::DescribeImagesResponse>(a).ok())
        .and_then(|r| r.images.items.first().map(|i| i.image_name.clone()))
        .filter(|n| !n.is_empty());
    let Some(name) = name else { return Ok(()) };
    let recorded = obj
        .attrs
        .get("_copy_regions")
        .cloned()
        .filter(|v| v.as_array().is_some_and(|a| !a.is_empty()));
    let pipeline = api::s(obj.attrs, "image_pipeline_id").unwrap_or_default();
    let regions = recorded
        .or_else(|| cx.attr_of(&pipeline, "to_region_id"))
        .unwrap_or_default();
    for r in regions
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str())
    {
        if r == obj.region {
            continue;
        }
        let req = ops::DescribeImages {
            region_id: r.into(),
            image_name: Some(name.clone()),
            image_owner_alias: Some("self".into()),
            status: Some(ops::ALL_IMAGE_STATUSES.into()),
            page_size: Some(100),
            ..Default::default()
        };
        let found: ops::DescribeImagesResponse = cx
            .call(r, "DescribeImages", ops::flatten(&req))
            .await
            .map_err(|e| e.to_string())
            .and_then(|a| serde_json::from_value(a).map_err(|e| e.to_string()))?;
        for copy in found
            .images
            .items
            .into_iter()
            .filter(|i| i.image_name == name)
        {
            delete_one_image(cx, r, &copy.image_id)
                .await
                .map_err(|e| format!("deleting the copy {} in {r}: {e}", copy.image_id))?;
        }
    }
    Ok(())
}

async fn delete_one_image(cx: &dyn Cx, region: &str, id: &str) -> Result<(), String> {
    let req = ops::DeleteImage {
        region_id: region.into(),
        image_id: id.into(),
        force: Some(true),
    };
    match cx.call(region, "DeleteImage", ops::flatten(&req)).await {
        Ok(_) => Ok(()),
        Err(e) if not_found(&e) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// StartImagePipelineExecution from `alicloud_ecs_image_pipeline_execution` attributes.
pub fn start_execution(region: &str, a: &J, token: &str) -> ops::StartImagePipelineExecution {
    ops::StartImagePipelineExecution {
        region_id: region.into(),
        image_pipeline_id: s(a, "image_pipeline_id").unwrap_or_default(),
        tag: api::tags(a, "tags"),
        client_token: Some(token.into()),
    }
}

/// Attributes of a build as the cloud reports them.
pub fn read_execution(e: &ops::Execution) -> Map<String, J> {
    let mut m = Map::new();
    m.insert("id".into(), json!(e.execution_id));
    m.insert("image_pipeline_id".into(), json!(e.image_pipeline_id));
    m.insert("status".into(), json!(e.status));
    m.insert("image_id".into(), json!(e.image_id));
    m.insert("create_time".into(), json!(e.creation_time));
    m
}
