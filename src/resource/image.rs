//! `alicloud_image`: a custom image made by CreateImage from an instance, a snapshot, or a
//! set of disk snapshots. Unlike the provider, `instance_id` and `snapshot_id` force
//! replacement, and a block naming more than one source is rejected instead of letting the
//! API pick one by priority (InstanceId > DiskDeviceMapping > SnapshotId).

use super::api::{self, blocks, features, int, s, tag_map};
use super::kind::*;
use super::objects;
use super::rules::*;
use super::{attr, BlockSchema, EvalBody, Schema, Ty, Update::*};
use crate::cloud::client::Client;
use crate::cloud::error::Error;
use crate::cloud::ops;
use crate::cloud::waiter::{Acceptance, WaitError};
use crate::diag::{Diagnostic, Diagnostics};
use futures_util::future::BoxFuture;
use serde_json::{json, Map, Value as J};
use std::collections::HashMap;

const MAPPING: &[super::AttrSchema] = &[
    attr("disk_type", Ty::String, ForceNew).check(disk_type),
    attr("snapshot_id", Ty::String, ForceNew).check(snapshot_id),
    attr("device", Ty::String, ForceNew).check(device),
    attr("size", Ty::Int, ForceNew).check(mapping_size),
    attr("progress", Ty::String, Computed),
    attr("format", Ty::String, Computed),
    attr("import_oss_bucket", Ty::String, Computed),
    attr("import_oss_object", Ty::String, Computed),
    attr("remain_time", Ty::Int, Computed),
];

const FEATURES: &[super::AttrSchema] = &[
    attr("nvme_support", Ty::String, ForceNew).check(nvme_support),
    attr("imds_support", Ty::String, ForceNew).check(imds_support),
];

/// The schema.
pub const SCHEMA: Schema = Schema {
    kind: "alicloud_image",
    attrs: &[
        attr("architecture", Ty::String, ForceNew).check(architecture),
        attr("boot_mode", Ty::String, InPlace).check(boot_mode),
        attr("create_time", Ty::String, Computed),
        attr("description", Ty::String, InPlace)
            .check(description)
            .cleared(),
        attr("detection_strategy", Ty::String, ForceNew).check(detection_strategy),
        attr("force", Ty::Bool, Local),
        attr("delete_auto_snapshot", Ty::Bool, Local),
        attr("image_family", Ty::String, InPlace)
            .check(image_family)
            .cleared(),
        attr("image_name", Ty::String, InPlace).check(image_name),
        attr("name", Ty::String, InPlace).check(image_name),
        attr("image_version", Ty::String, ForceNew),
        attr("instance_id", Ty::String, ForceNew).check(instance_id),
        attr("license_type", Ty::String, InPlace).check(license_type),
        attr("platform", Ty::String, ForceNew).check(platform),
        attr("resource_group_id", Ty::String, InPlace).check(resource_group_id),
        attr("snapshot_id", Ty::String, ForceNew).check(snapshot_id),
        attr("status", Ty::String, Computed),
        attr("usable", Ty::Bool, Computed),
        attr("progress", Ty::String, Computed),
        attr("size", Ty::Int, Computed),
        attr("tags", Ty::Map, InPlace).check(tags).cleared(),
    ],
    blocks: &[
        BlockSchema {
            name: "disk_device_mapping",
            min: 0,
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
        create: 3600,
        delete: 3600,
    },
};

fn cross(b: &EvalBody, diags: &mut Diagnostics) {
    if b.attrs.contains_key("name") && b.attrs.contains_key("image_name") {
        diags.push(
            Diagnostic::error(
                "Conflicting arguments",
                "`name` and `image_name` are the same setting; `name` is deprecated",
                Some(b.span_of("name")),
            )
            .with_hint("keep `image_name` only"),
        );
    }
    let mappings: Vec<_> = b.blocks("disk_device_mapping").collect();
    let mut sources = Vec::new();
    if b.attrs.contains_key("instance_id") {
        sources.push(("instance_id", b.span_of("instance_id")));
    }
    if let Some(m) = mappings.first() {
        sources.push(("disk_device_mapping", m.span.clone()));
    }
    if b.attrs.contains_key("snapshot_id") {
        sources.push(("snapshot_id", b.span_of("snapshot_id")));
    }
    sources.sort_by_key(|s| s.1.range.start);
    match sources.len() {
        0 => diags.push(
            Diagnostic::error(
                "No image source",
                "an image is made from `instance_id`, `snapshot_id` or `disk_device_mapping` blocks; none is set (CreateImage would fail with MissingParameter)",
                Some(b.span.clone()),
            )
            .with_hint("set exactly one of instance_id, snapshot_id or disk_device_mapping"),
        ),
        1 => {}
        _ => {
            let names: Vec<&str> = sources.iter().map(|s| s.0).collect();
            diags.push(
                Diagnostic::error(
                    "Ambiguous image source",
                    format!(
                        "{} are all set; CreateImage would silently use `{}` (InstanceId > DiskDeviceMapping > SnapshotId) and ignore the rest",
                        names.join(" and "),
                        names[0]
                    ),
                    sources.last().map(|s| s.1.clone()),
                )
                .with_hint("keep exactly one image source"),
            );
        }
    }
    let mut systems = 0;
    let mut datas = 0;
    let mut devices: Vec<(String, crate::diag::Span)> = Vec::new();
    for m in &mappings {
        match m.body.str("disk_type") {
            Some("system") => {
                systems += 1;
                if systems > 1 {
                    diags.push(
                        Diagnostic::error(
                            "More than one system disk",
                            "only one disk_device_mapping may have disk_type = \"system\"",
                            Some(m.body.span_of("disk_type")),
                        )
                        .with_hint("mark the other disks as \"data\""),
                    );
                }
                if let Some(dev) = m.body.str("device") {
                    if dev != "/dev/xvda" {
                        diags.push(
                            Diagnostic::error(
                                "Invalid system disk device",
                                format!("the system disk's device must be /dev/xvda, not {dev:?}"),
                                Some(m.body.span_of("device")),
                            )
                            .with_hint("set device = \"/dev/xvda\" or leave it out"),
                        );
                    }
                }
            }
            Some("data") => {
                datas += 1;
                if datas == 17 {
                    diags.push(
                        Diagnostic::error(
                            "Too many data disks",
                            "at most 16 data disk snapshots can be part of an image",
                            Some(m.span.clone()),
                        )
                        .with_hint("remove data disks"),
                    );
                }
                if m.body.str("device") == Some("/dev/xvda") {
                    diags.push(
                        Diagnostic::error(
                            "Invalid data disk device",
                            "/dev/xvda is reserved for the system disk",
                            Some(m.body.span_of("device")),
                        )
                        .with_hint("data disks use /dev/xvdb to /dev/xvdz"),
                    );
                }
            }
            _ => {}
        }
        if let Some(dev) = m.body.str("device") {
            if let Some((_, first)) = devices.iter().find(|(d, _)| d == dev) {
                let _ = first;
                diags.push(
                    Diagnostic::error(
                        "Duplicate device name",
                        format!("{dev:?} is used by more than one disk (InvalidDevice.InUse)"),
                        Some(m.body.span_of("device")),
                    )
                    .with_hint("give every disk its own device name"),
                );
            } else {
                devices.push((dev.to_string(), m.body.span_of("device")));
            }
        }
        if m.body.get("snapshot_id").is_none()
            && m.body.get("size").is_none()
            && m.body.str("disk_type") == Some("system")
        {
            diags.push(
                Diagnostic::error(
                    "System disk without a snapshot",
                    "the system disk of an image must come from a snapshot",
                    Some(m.span.clone()),
                )
                .with_hint("set snapshot_id in the system disk mapping"),
            );
        }
    }
    let all_typed =
        !mappings.is_empty() && mappings.iter().all(|m| m.body.str("disk_type").is_some());
    if all_typed && systems == 0 {
        diags.push(
            Diagnostic::error(
                "No system disk",
                "the disk_device_mapping blocks contain no system disk snapshot (OperationDenied)",
                Some(mappings[0].span.clone()),
            )
            .with_hint("mark one mapping with disk_type = \"system\""),
        );
    }
}

/// The kind.
pub struct Image;

/// Images by id: DescribeImages with every status, 100 ids a call.
pub static IMAGES: Lookup = Lookup {
    name: "images",
    fetch: fetch_images,
    batch: 100,
};

fn fetch_images(
    c: Client,
    ids: Vec<String>,
) -> BoxFuture<'static, Result<HashMap<String, J>, Error>> {
    Box::pin(async move {
        let imgs = c.describe_images_by_ids(&ids).await?;
        Ok(imgs
            .into_iter()
            .map(|i| {
                let item = image_item(&i);
                (i.image_id, item)
            })
            .collect())
    })
}

/// The item the image lookup hands out, taken once from the typed answer: what a wait
/// judges (`Status`, `Progress`, `Usable`) and the image's attributes. Every reader of an
/// image item is in this file.
fn image_item(i: &ops::Image) -> J {
    json!({
        "Status": i.status,
        "Progress": i.progress,
        "Usable": i.usable,
        "Attributes": read_image(i),
    })
}

/// Judges an image: usable and Available is done; CreateFailed or UnAvailable failed.
pub(super) fn judge_image(id: &str, item: &J) -> Verdict {
    let status = item["Status"].as_str().unwrap_or_default();
    let pct = ops::parse_progress(item["Progress"].as_str().unwrap_or(""));
    match status {
        "Available" if item["Usable"].as_bool() != Some(false) => match read_image_item(item) {
            Some(attrs) => Verdict::Done(attrs, None),
            None => Verdict::Failed(format!("image {id}: unexpected answer: {item}"), None),
        },
        "CreateFailed" | "UnAvailable" => {
            Verdict::Failed(format!("image {id} ended {status}"), None)
        }
        _ => Verdict::Pending(status.to_string(), Some(pct)),
    }
}

/// An image's attributes from an item of the image lookup.
pub(super) fn read_image_item(item: &J) -> Option<Map<String, J>> {
    item.get("Attributes").and_then(J::as_object).cloned()
}

/// The in-place calls of an image: ModifyImageAttribute for the attributes it takes,
/// JoinResourceGroup, then the tags. Which attributes change in place is the schema's.
pub(super) fn image_update(
    schema: &Schema,
    region: &str,
    id: &str,
    before: &J,
    after: &J,
) -> Vec<Request> {
    let changed = |k: &str| {
        schema.attr(k).is_some_and(|a| a.update == InPlace)
            && after.get(k).is_some()
            && after.get(k) != before.get(k)
    };
    let mut calls = Vec::new();
    let mut m = ops::ModifyImageAttribute {
        region_id: region.into(),
        image_id: id.into(),
        ..Default::default()
    };
    let mut any = false;
    if changed("name") {
        m.image_name = api::s(after, "name");
        any = true;
    }
    for (k, slot) in [
        ("image_name", &mut m.image_name),
        ("description", &mut m.description),
        ("image_family", &mut m.image_family),
        ("boot_mode", &mut m.boot_mode),
        ("license_type", &mut m.license_type),
    ] {
        if changed(k) {
            *slot = api::s(after, k);
            any = true;
        }
    }
    if any {
        calls.push(("ModifyImageAttribute", ops::flatten(&m)));
    }
    if changed("resource_group_id") {
        let j = ops::JoinResourceGroup {
            region_id: region.into(),
            resource_id: id.into(),
            resource_group_id: api::s(after, "resource_group_id").unwrap_or_default(),
            resource_type: "image".into(),
        };
        calls.push(("JoinResourceGroup", ops::flatten(&j)));
    }
    calls.extend(tag_calls("image", region, id, before, after));
    calls
}

/// Deletes an image: DeleteImage, waiting out `ImageIsCreating`/`ImageIsImporting` (an
/// import in progress is cancelled first, with CancelTask).
pub(super) fn delete_image<'a>(
    cx: &'a dyn Cx,
    obj: Object<'a>,
) -> BoxFuture<'a, Result<(), String>> {
    Box::pin(async move {
        let cancelled = std::sync::atomic::AtomicBool::new(false);
        let cancelled = &cancelled;
        let r = cx
            .waiter()
            .wait(|_| async move {
                let req = ops::DeleteImage {
                    region_id: obj.region.into(),
                    image_id: obj.id.into(),
                    force: api::boolean(obj.attrs, "force"),
                };
                match cx.call(obj.region, "DeleteImage", ops::flatten(&req)).await {
                    Ok(_) => Acceptance::Success(()),
                    Err(e) if not_found(&e) => Acceptance::Success(()),
                    Err(e) if matches!(e.code(), Some("ImageIsImporting" | "ImageIsCreating")) => {
                        if !cancelled.swap(true, std::sync::atomic::Ordering::SeqCst) {
                            if let Some(task) = api::s(obj.attrs, "task_id") {
                                let cancel = ops::CancelTask {
                                    region_id: obj.region.into(),
                                    task_id: task,
                                };
                                let r = cx
                                    .call(obj.region, "CancelTask", ops::flatten(&cancel))
                                    .await;
                                tracing::debug!(?r, "cancelled the import before deleting");
                            }
                        }
                        let code = e.code().unwrap_or_default().to_string();
                        cx.progress(&code);
                        Acceptance::Retry(code)
                    }
                    Err(e) => Acceptance::Failure(e.to_string()),
                }
            })
            .await;
        match r {
            Ok(()) => Ok(()),
            Err(WaitError::Failed(e)) => Err(e),
            Err(WaitError::Interrupted { .. }) => Err(format!(
                "interrupted while waiting to delete image {} (it is still being created); it stays in the state, so the next run goes on",
                obj.id
            )),
            Err(_) => Err(format!(
                "timed out deleting image {}: it is still being created",
                obj.id
            )),
        }
    })
}

impl Kind for Image {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn create(&self, region: &str, attrs: &J, token: &str) -> Request {
        (
            "CreateImage",
            ops::flatten(&create_image(region, attrs, token)),
        )
    }

    fn created(&self, answer: &J, _: &J) -> Option<(String, Map<String, J>)> {
        id_in(answer, "ImageId")
    }

    fn stages(&self, id: &str, _: &J) -> Vec<Stage> {
        vec![Stage {
            lookup: &IMAGES,
            key: id.into(),
            what: "image",
        }]
    }

    fn judge(&self, stage: &Stage, item: &J, _: &J) -> Verdict {
        judge_image(&stage.key, item)
    }

    fn update(&self, region: &str, id: &str, before: &J, after: &J) -> Vec<Request> {
        image_update(&SCHEMA, region, id, before, after)
    }

    fn tag_type(&self) -> Option<&'static str> {
        Some("image")
    }

    /// What CreateImage makes the image from, by the API's priority: the instance, else
    /// the snapshots of the disk mappings, else the snapshot.
    fn references(&self, attrs: &J) -> Vec<Reference> {
        if let Some(id) = s(attrs, "instance_id") {
            return vec![Reference::new("instance_id", &objects::IMAGE_INSTANCE, &id)];
        }
        let mappings = blocks(attrs, "disk_device_mapping");
        if !mappings.is_empty() {
            return mappings
                .iter()
                .enumerate()
                .filter_map(|(i, m)| {
                    let id = s(m, "snapshot_id")?;
                    Some(Reference::new(
                        format!("disk_device_mapping.{i}.snapshot_id"),
                        &objects::IMAGE_SNAPSHOT,
                        &id,
                    ))
                })
                .collect();
        }
        s(attrs, "snapshot_id")
            .map(|id| vec![Reference::new("snapshot_id", &objects::IMAGE_SNAPSHOT, &id)])
            .unwrap_or_default()
    }

    fn naming(&self) -> &'static [&'static str] {
        &["instance_id", "snapshot_id", "disk_device_mapping"]
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

/// The computed attributes of an image a refresh copies.
pub(super) const IMAGE_REFRESHED: &[&str] =
    &["status", "usable", "progress", "size", "create_time"];

/// CreateImage from `alicloud_image` attributes.
pub fn create_image(region: &str, a: &J, token: &str) -> ops::CreateImage {
    ops::CreateImage {
        region_id: region.into(),
        instance_id: s(a, "instance_id"),
        snapshot_id: s(a, "snapshot_id"),
        disk_device_mapping: blocks(a, "disk_device_mapping")
            .into_iter()
            .map(|m| ops::CreateImageDisk {
                snapshot_id: s(m, "snapshot_id"),
                size: int(m, "size"),
                device: s(m, "device"),
                disk_type: s(m, "disk_type"),
            })
            .collect(),
        image_name: s(a, "image_name").or_else(|| s(a, "name")),
        image_family: s(a, "image_family"),
        image_version: s(a, "image_version"),
        description: s(a, "description"),
        platform: s(a, "platform"),
        architecture: s(a, "architecture"),
        boot_mode: s(a, "boot_mode"),
        detection_strategy: s(a, "detection_strategy"),
        features: features(a)
            .filter(|f| f.imds_support.is_some())
            .map(|f| ops::Features {
                nvme_support: None,
                ..f
            }),
        resource_group_id: s(a, "resource_group_id"),
        tag: api::tags(a, "tags"),
        client_token: Some(token.into()),
    }
}

/// Attributes of an image as the cloud reports them.
pub fn read_image(i: &ops::Image) -> Map<String, J> {
    let mut m = Map::new();
    m.insert("id".into(), json!(i.image_id));
    m.insert("image_name".into(), json!(i.image_name));
    m.insert("description".into(), json!(i.description));
    m.insert("image_family".into(), json!(i.image_family));
    m.insert("boot_mode".into(), json!(i.boot_mode));
    m.insert("platform".into(), json!(i.platform));
    m.insert("architecture".into(), json!(i.architecture));
    m.insert("resource_group_id".into(), json!(i.resource_group_id));
    m.insert("tags".into(), tag_map(&i.tags));
    m.insert("status".into(), json!(i.status));
    m.insert("usable".into(), json!(i.usable));
    m.insert("progress".into(), json!(i.progress));
    m.insert("size".into(), json!(i.size));
    m.insert("create_time".into(), json!(i.creation_time));
    if !i.license_type.is_empty() {
        m.insert("license_type".into(), json!(i.license_type));
    }
    if let Some(sys) = i
        .disk_device_mappings
        .items
        .iter()
        .find(|d| d.disk_type == "system")
    {
        if !sys.snapshot_id.is_empty() {
            m.insert("snapshot_id".into(), json!(sys.snapshot_id));
        }
    }
    m
}
