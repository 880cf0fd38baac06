//! `data "alicloud_images"`: looks up existing images (for base images) with
//! DescribeImages, as the provider's data source does.

use super::rules::*;
use super::{attr, EvalBody, Schema, Ty, Update::*};
use crate::diag::Diagnostics;

/// The schema.
pub const SCHEMA: Schema = Schema {
    kind: "alicloud_images",
    attrs: &[
        attr("name_regex", Ty::String, ForceNew).check(regex),
        attr("owners", Ty::String, ForceNew).check(owners),
        attr("image_family", Ty::String, ForceNew),
        attr("image_name", Ty::String, ForceNew),
        attr("most_recent", Ty::Bool, ForceNew),
        attr("architecture", Ty::String, ForceNew).check(architecture),
        attr("os_type", Ty::String, ForceNew).check(os_type),
        attr("status", Ty::String, ForceNew).check(image_status_list),
        attr("tags", Ty::Map, ForceNew),
        attr("ids", Ty::StringList, Computed),
        attr("images", Ty::Any, Computed),
    ],
    blocks: &[],
    cross,
    create_timeout: 5 * 60,
};

fn cross(_: &EvalBody, _: &mut Diagnostics) {}
