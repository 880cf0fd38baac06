//! `alicloud_image_import`: an image imported from OSS by ImportImage. imgform sends a
//! ClientToken and tags (the provider sends neither), allows arm64 with UEFI, and waits for
//! both the import task and the image.

use super::api::{self, blocks, features, int, s};
use super::image::{
    delete_image, image_update, judge_image, read_image_item, IMAGES, IMAGE_REFRESHED,
};
use super::kind::*;
use super::rules::*;
use super::{attr, BlockSchema, EvalBody, Schema, Ty, Update::*};
use crate::cloud::client::Client;
use crate::cloud::error::Error;
use crate::cloud::ops;
use crate::diag::{Diagnostic, Diagnostics};
use futures_util::future::BoxFuture;
use serde_json::{Map, Value as J};
use std::collections::HashMap;

const MAPPING: &[super::AttrSchema] = &[
    attr("format", Ty::String, ForceNew).check(disk_format),
    attr("oss_bucket", Ty::String, ForceNew)
        .required()
        .check(oss_bucket),
    attr("oss_object", Ty::String, ForceNew)
        .required()
        .check(oss_object),
    attr("device", Ty::String, ForceNew),
    attr("disk_image_size", Ty::Int, ForceNew).check(disk_image_size),
];

const FEATURES: &[super::AttrSchema] = &[
    attr("nvme_support", Ty::String, ForceNew).check(nvme_support),
    attr("imds_support", Ty::String, ForceNew).check(imds_support),
];

/// The schema.
pub const SCHEMA: Schema = Schema {
    kind: "alicloud_image_import",
    attrs: &[
        attr("architecture", Ty::String, ForceNew).check(architecture),
        attr("os_type", Ty::String, ForceNew).check(os_type),
        attr("platform", Ty::String, ForceNew).check(import_platform),
        attr("boot_mode", Ty::String, ForceNew).check(import_boot_mode),
        attr("license_type", Ty::String, InPlace).check(license_type),
        attr("image_name", Ty::String, InPlace).check(image_name),
        attr("description", Ty::String, InPlace)
            .check(description)
            .cleared(),
        attr("detection_strategy", Ty::String, ForceNew).check(detection_strategy),
        attr("role_name", Ty::String, ForceNew),
        attr("resource_group_id", Ty::String, ForceNew).check(resource_group_id),
        attr("tags", Ty::Map, InPlace).check(tags).cleared(),
        attr("force", Ty::Bool, Local),
        attr("task_id", Ty::String, Computed),
        attr("status", Ty::String, Computed),
        attr("usable", Ty::Bool, Computed),
        attr("progress", Ty::String, Computed),
        attr("create_time", Ty::String, Computed),
    ],
    blocks: &[
        BlockSchema {
            name: "disk_device_mapping",
            min: 1,
            max: 17,
            update: ForceNew,
            attrs: MAPPING,
            blocks: &[],
        },
        BlockSchema {
            name: "features",
            min: 0,
            max: 1,
            update: ForceNew,
            attrs: FEATURES,
            blocks: &[],
        },
    ],
    cross,
    timeouts: super::Timeouts {
        create: 7200,
        delete: 7200,
    },
};

fn cross(b: &EvalBody, diags: &mut Diagnostics) {
    if b.str("architecture") == Some("arm64") && b.str("boot_mode") == Some("BIOS") {
        diags.push(
            Diagnostic::error(
                "arm64 imports need UEFI",
                "ImportImage supports only the UEFI boot mode for arm64 images; BIOS is set",
                Some(b.span_of("boot_mode")),
            )
            .with_hint("set boot_mode = \"UEFI\" or leave it out"),
        );
    }
    if b.str("os_type") == Some("windows") {
        if let Some(p) = b.str("platform") {
            if !p.starts_with("Windows") && p != "Other Windows" {
                diags.push(
                    Diagnostic::error(
                        "Platform does not match the OS type",
                        format!("os_type is \"windows\" but the platform is {p:?}"),
                        Some(b.span_of("platform")),
                    )
                    .with_hint("use a Windows Server platform, or os_type = \"linux\""),
                );
            }
        }
    } else if let Some(p) = b.str("platform") {
        if p.starts_with("Windows") || p == "Other Windows" {
            diags.push(
                Diagnostic::error(
                    "Platform does not match the OS type",
                    format!("the platform {p:?} is Windows but os_type is \"linux\" (the default)"),
                    Some(b.span_of("platform")),
                )
                .with_hint("set os_type = \"windows\""),
            );
        }
    }
}

/// The kind.
pub struct ImageImport;

/// Import tasks by id: DescribeTasks, 100 ids a call. A task that failed carries the
/// reason DescribeTaskAttribute gives, as `_failure`.
pub static TASKS: Lookup = Lookup {
    name: "tasks",
    fetch: fetch_tasks,
    batch: 100,
};

fn fetch_tasks(
    c: Client,
    ids: Vec<String>,
) -> BoxFuture<'static, Result<HashMap<String, J>, Error>> {
    Box::pin(async move {
        let mut out = HashMap::new();
        for t in c.describe_tasks_by_ids(&ids).await? {
            let mut j = serde_json::to_value(&t).expect("a task serialises");
            if matches!(t.task_status.as_str(), "Failed" | "Cancelled" | "Deleted") {
                j["_failure"] = J::String(task_failure(&c, &t.task_id).await);
            }
            out.insert(t.task_id, j);
        }
        Ok(out)
    })
}

async fn task_failure(client: &Client, task: &str) -> String {
    let req = ops::DescribeTaskAttribute {
        region_id: client.region().into(),
        task_id: task.into(),
    };
    match client
        .call::<_, ops::DescribeTaskAttributeResponse>("DescribeTaskAttribute", &req)
        .await
    {
        Ok(r) => r
            .operation_progress_set
            .items
            .iter()
            .map(|o| format!("{} {}", o.error_code, o.error_msg))
            .collect::<Vec<_>>()
            .join("; "),
        Err(e) => format!("(the reason could not be read: {e})"),
    }
}

impl Kind for ImageImport {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn create(&self, region: &str, attrs: &J, token: &str) -> Request {
        (
            "ImportImage",
            ops::flatten(&import_image(region, attrs, token)),
        )
    }

    fn created(&self, answer: &J, _: &J) -> Option<(String, Map<String, J>)> {
        id_in(answer, "ImageId")
    }

    /// The import task first (its failure says why), then the image.
    fn stages(&self, id: &str, attrs: &J) -> Vec<Stage> {
        let mut v = Vec::new();
        if let Some(task) = api::s(attrs, "task_id") {
            v.push(Stage {
                lookup: &TASKS,
                key: task,
                what: "import task",
            });
        }
        v.push(Stage {
            lookup: &IMAGES,
            key: id.into(),
            what: "image",
        });
        v
    }

    fn judge(&self, stage: &Stage, item: &J, _: &J) -> Verdict {
        if stage.lookup != &TASKS {
            return judge_image(&stage.key, item);
        }
        let status = item["TaskStatus"].as_str().unwrap_or_default();
        match status {
            "Finished" => Verdict::Done(Map::new(), None),
            "Failed" | "Cancelled" | "Deleted" => Verdict::Failed(
                format!(
                    "import task {} {status}: {}",
                    stage.key,
                    item["_failure"].as_str().unwrap_or("no reason given")
                ),
                None,
            ),
            _ => Verdict::Pending(status.to_string(), None),
        }
    }

    fn update(&self, region: &str, id: &str, before: &J, after: &J) -> Vec<Request> {
        image_update(&SCHEMA, region, id, before, after)
    }

    fn tag_type(&self) -> Option<&'static str> {
        Some("image")
    }

    fn read_key(&self, id: &str, _: &Attrs) -> (&'static Lookup, String) {
        (&IMAGES, id.into())
    }

    fn read_back(&self, item: &J) -> Option<Map<String, J>> {
        read_image_item(item)
    }

    fn refreshed(&self) -> &'static [&'static str] {
        IMAGE_REFRESHED
    }

    fn delete<'a>(&'a self, cx: &'a dyn Cx, obj: Object<'a>) -> BoxFuture<'a, Result<(), String>> {
        delete_image(cx, obj)
    }
}

/// ImportImage from `alicloud_image_import` attributes.
pub fn import_image(region: &str, a: &J, token: &str) -> ops::ImportImage {
    ops::ImportImage {
        region_id: region.into(),
        disk_device_mapping: blocks(a, "disk_device_mapping")
            .into_iter()
            .map(|m| ops::ImportDisk {
                oss_bucket: s(m, "oss_bucket").unwrap_or_default(),
                oss_object: s(m, "oss_object").unwrap_or_default(),
                format: s(m, "format").map(|f| f.to_uppercase()),
                disk_image_size: int(m, "disk_image_size"),
                device: s(m, "device"),
            })
            .collect(),
        image_name: s(a, "image_name"),
        description: s(a, "description"),
        architecture: s(a, "architecture"),
        os_type: s(a, "os_type"),
        platform: s(a, "platform"),
        boot_mode: s(a, "boot_mode"),
        license_type: s(a, "license_type"),
        role_name: s(a, "role_name"),
        detection_strategy: s(a, "detection_strategy"),
        features: features(a),
        resource_group_id: s(a, "resource_group_id"),
        tag: api::tags(a, "tags"),
        client_token: Some(token.into()),
    }
}
