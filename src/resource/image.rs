//! `alicloud_image`: a custom image made by CreateImage from an instance, a snapshot, or a
//! set of disk snapshots. Unlike the provider, `instance_id` and `snapshot_id` force
//! replacement, and a block naming more than one source is rejected instead of letting the
//! API pick one by priority (InstanceId > DiskDeviceMapping > SnapshotId).

use super::rules::*;
use super::{attr, BlockSchema, EvalBody, Schema, Ty, Update::*};
use crate::diag::{Diagnostic, Diagnostics};

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
        attr("description", Ty::String, InPlace).check(description),
        attr("detection_strategy", Ty::String, ForceNew).check(detection_strategy),
        attr("force", Ty::Bool, Local),
        attr("delete_auto_snapshot", Ty::Bool, Local),
        attr("image_family", Ty::String, InPlace).check(image_family),
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
        attr("tags", Ty::Map, InPlace).check(tags),
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
    create_timeout: 60 * 60,
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
