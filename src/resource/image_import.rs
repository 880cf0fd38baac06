//! `alicloud_image_import`: an image imported from OSS by ImportImage. imgform sends a
//! ClientToken and tags (the provider sends neither), allows arm64 with UEFI, and waits for
//! both the import task and the image.

use super::rules::*;
use super::{attr, BlockSchema, EvalBody, Schema, Ty, Update::*};
use crate::diag::{Diagnostic, Diagnostics};

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
        attr("description", Ty::String, InPlace).check(description),
        attr("detection_strategy", Ty::String, ForceNew).check(detection_strategy),
        attr("role_name", Ty::String, ForceNew),
        attr("resource_group_id", Ty::String, ForceNew).check(resource_group_id),
        attr("tags", Ty::Map, InPlace).check(tags),
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
    create_timeout: 120 * 60,
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
