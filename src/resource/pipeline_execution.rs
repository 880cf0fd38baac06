//! `alicloud_ecs_image_pipeline_execution`: one build of a pipeline
//! (StartImagePipelineExecution). imgform waits for a terminal status, not just for the build
//! to start, exposes the built `image_id`, rebuilds when `triggers` change, and can delete
//! the built image on destroy.

use super::rules::*;
use super::{attr, EvalBody, Schema, Ty, Update::*};
use crate::diag::Diagnostics;

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
        attr("status", Ty::String, Computed),
        attr("image_id", Ty::String, Computed),
        attr("create_time", Ty::String, Computed),
    ],
    blocks: &[],
    cross,
    create_timeout: 180 * 60,
};

fn cross(_: &EvalBody, _: &mut Diagnostics) {}
