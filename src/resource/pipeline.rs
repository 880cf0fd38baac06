//! `alicloud_ecs_image_pipeline`: an Image Builder template (CreateImagePipeline). There is
//! no Modify API, so everything but `tags` forces replacement. imgform also exposes the
//! newer `image_options`, `import_image_options`, `advanced_options`, `test_content` and
//! `repair_mode` the provider lacks.

use super::api;
use super::kind::*;
use super::rules::*;
use super::{attr, BlockSchema, EvalBody, Schema, Ty, Update::*};
use crate::cloud::client::Client;
use crate::cloud::error::Error;
use crate::cloud::ops;
use crate::cloud::waiter::{Acceptance, WaitError};
use crate::diag::{Diagnostic, Diagnostics};
use futures_util::future::BoxFuture;
use serde_json::{Map, Value as J};
use std::collections::HashMap;

const IMAGE_FEATURES: &[super::AttrSchema] =
    &[attr("nvme_support", Ty::String, ForceNew).check(nvme_support_auto)];

const IMAGE_OPTIONS: &[super::AttrSchema] = &[
    attr("image_name", Ty::String, ForceNew).check(image_name_prefix),
    attr("image_family", Ty::String, ForceNew).check(image_family),
    attr("description", Ty::String, ForceNew).check(description),
    attr("image_tags", Ty::Map, ForceNew).check(tags),
];

const IMPORT_MAPPING: &[super::AttrSchema] = &[
    attr("oss_bucket", Ty::String, ForceNew)
        .required()
        .check(oss_bucket),
    attr("oss_object", Ty::String, ForceNew)
        .required()
        .check(oss_object),
    attr("format", Ty::String, ForceNew).check(disk_format),
    attr("disk_image_size", Ty::Int, ForceNew).check(disk_image_size),
];

const IMPORT_FEATURES: &[super::AttrSchema] = &[
    attr("nvme_support", Ty::String, ForceNew).check(nvme_support),
    attr("imds_support", Ty::String, ForceNew).check(imds_support),
];

const IMPORT_OPTIONS: &[super::AttrSchema] = &[
    attr("architecture", Ty::String, ForceNew).check(architecture),
    attr("boot_mode", Ty::String, ForceNew).check(import_boot_mode),
    attr("os_type", Ty::String, ForceNew).check(os_type),
    attr("platform", Ty::String, ForceNew).check(import_platform),
    attr("license_type", Ty::String, ForceNew).check(license_type),
    attr("role_name", Ty::String, ForceNew),
    attr("image_name", Ty::String, ForceNew).check(image_name),
    attr("description", Ty::String, ForceNew).check(description),
    attr("retain_imported_image", Ty::Bool, ForceNew),
    attr("retention_strategy", Ty::String, ForceNew),
    attr("import_image_tags", Ty::Map, ForceNew).check(tags),
];

const ADVANCED: &[super::AttrSchema] = &[
    attr("image_name_suffix", Ty::String, ForceNew).check(image_name_suffix),
    attr("retain_cloud_assistant", Ty::Bool, ForceNew),
];

/// The schema.
pub const SCHEMA: Schema = Schema {
    kind: "alicloud_ecs_image_pipeline",
    attrs: &[
        attr("add_account", Ty::StringList, ForceNew).check(accounts),
        attr("base_image", Ty::String, ForceNew),
        attr("base_image_type", Ty::String, ForceNew)
            .required()
            .check(base_image_type),
        attr("build_content", Ty::String, ForceNew).check(build_content),
        attr("test_content", Ty::String, ForceNew).check(build_content),
        attr("delete_instance_on_failure", Ty::Bool, ForceNew),
        attr("description", Ty::String, ForceNew).check(description),
        attr("image_name", Ty::String, ForceNew).check(image_name_prefix),
        attr("image_family", Ty::String, ForceNew).check(image_family),
        attr("nvme_support", Ty::String, ForceNew).check(nvme_support_auto),
        attr("instance_type", Ty::String, ForceNew),
        attr("internet_max_bandwidth_out", Ty::Int, ForceNew).check(bandwidth),
        attr("name", Ty::String, ForceNew).check(pipeline_name),
        attr("system_disk_size", Ty::Int, ForceNew).check(system_disk_size),
        attr("tags", Ty::Map, InPlace).check(tags),
        attr("to_region_id", Ty::StringList, ForceNew).check(to_regions),
        attr("vswitch_id", Ty::String, ForceNew).check(vswitch_id),
        attr("resource_group_id", Ty::String, ForceNew).check(resource_group_id),
        attr("repair_mode", Ty::String, ForceNew).check(repair_mode),
        attr("create_time", Ty::String, Computed),
    ],
    blocks: &[
        BlockSchema {
            name: "image_options",
            min: 0,
            max: 1,
            update: ForceNew,
            attrs: IMAGE_OPTIONS,
            blocks: &[BlockSchema {
                name: "image_features",
                min: 0,
                max: 1,
                update: ForceNew,
                attrs: IMAGE_FEATURES,
                blocks: &[],
            }],
        },
        BlockSchema {
            name: "import_image_options",
            min: 0,
            max: 1,
            update: ForceNew,
            attrs: IMPORT_OPTIONS,
            blocks: &[
                BlockSchema {
                    name: "disk_device_mappings",
                    min: 1,
                    max: 17,
                    update: ForceNew,
                    attrs: IMPORT_MAPPING,
                    blocks: &[],
                },
                BlockSchema {
                    name: "features",
                    min: 0,
                    max: 1,
                    update: ForceNew,
                    attrs: IMPORT_FEATURES,
                    blocks: &[],
                },
            ],
        },
        BlockSchema {
            name: "advanced_options",
            min: 0,
            max: 1,
            update: ForceNew,
            attrs: ADVANCED,
            blocks: &[],
        },
    ],
    cross,
    timeouts: super::Timeouts {
        create: 600,
        delete: 3600,
    },
};

fn cross(b: &EvalBody, diags: &mut Diagnostics) {
    let ty = b.str("base_image_type");
    let has_import = b.blocks("import_image_options").next().is_some();
    match ty {
        Some("OSS") if !has_import => {
            diags.push(
                    Diagnostic::error(
                        "Missing import_image_options",
                        "base_image_type = \"OSS\" builds from an image file in OSS, described by an import_image_options block (MissingParameter.ImportImageOptions)",
                        Some(b.span_of("base_image_type")),
                    )
                    .with_hint("add an import_image_options block with disk_device_mappings"),
                );
        }
        Some("OSS") => {}
        Some(_) => {
            if !b.attrs.contains_key("base_image") {
                diags.push(
                    Diagnostic::error(
                        "Missing base_image",
                        "base_image is required when base_image_type is IMAGE or IMAGE_FAMILY",
                        Some(b.span.clone()),
                    )
                    .with_hint("set base_image to an image id (IMAGE) or an image family name (IMAGE_FAMILY)"),
                );
            }
            if has_import {
                diags.push(
                    Diagnostic::error(
                        "Invalid combination of parameters",
                        "import_image_options is only used with base_image_type = \"OSS\" (InvalidParameterCombination)",
                        Some(b.blocks("import_image_options").next().map(|x| x.span.clone()).unwrap_or_else(|| b.span.clone())),
                    )
                    .with_hint("remove import_image_options or set base_image_type = \"OSS\""),
                );
            }
        }
        None => {}
    }
    if let Some(opts) = b.blocks("import_image_options").next() {
        if opts.body.str("architecture") == Some("arm64")
            && opts.body.str("boot_mode") == Some("BIOS")
        {
            diags.push(
                Diagnostic::error(
                    "arm64 imports need UEFI",
                    "an arm64 image must be imported with the UEFI boot mode",
                    Some(opts.body.span_of("boot_mode")),
                )
                .with_hint("set boot_mode = \"UEFI\""),
            );
        }
    }
    if b.attrs.contains_key("image_name")
        && b.blocks("image_options")
            .any(|o| o.body.attrs.contains_key("image_name"))
    {
        diags.push(
            Diagnostic::error(
                "Conflicting arguments",
                "image_name is set both at the top level (deprecated) and in image_options",
                Some(b.span_of("image_name")),
            )
            .with_hint("keep image_options.image_name only"),
        );
    }
}

/// The kind.
pub struct Pipeline;

/// Pipelines by id: DescribeImagePipelines, 20 ids a call.
pub static PIPELINES: Lookup = Lookup {
    name: "pipelines",
    fetch: fetch_pipelines,
};

fn fetch_pipelines(
    c: Client,
    ids: Vec<String>,
) -> BoxFuture<'static, Result<HashMap<String, J>, Error>> {
    Box::pin(async move {
        Ok(c.describe_pipelines_by_ids(&ids)
            .await?
            .into_iter()
            .map(|p| {
                let j = serde_json::to_value(&p).expect("a pipeline serialises");
                (p.image_pipeline_id, j)
            })
            .collect())
    })
}

impl Kind for Pipeline {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn create(&self, region: &str, attrs: &J, token: &str) -> Request {
        (
            "CreateImagePipeline",
            ops::flatten(&api::create_pipeline(region, attrs, token)),
        )
    }

    fn created(&self, answer: &J) -> Option<(String, Map<String, J>)> {
        id_in(answer, "ImagePipelineId")
    }

    /// A pipeline is ready when CreateImagePipeline answers.
    fn stages(&self, _: &str, _: &J) -> Vec<Stage> {
        vec![]
    }

    fn judge(&self, _: &Stage, _: &J, _: &J) -> Verdict {
        Verdict::Done(Map::new(), None)
    }

    fn tag_type(&self) -> Option<&'static str> {
        Some("imagepipeline")
    }

    fn read_key(&self, id: &str, _: &J) -> (&'static Lookup, String) {
        (&PIPELINES, id.into())
    }

    fn read_back(&self, item: &J) -> Option<Map<String, J>> {
        serde_json::from_value::<ops::Pipeline>(item.clone())
            .ok()
            .map(|p| api::read_pipeline(&p))
    }

    fn refreshed(&self) -> &'static [&'static str] {
        &["create_time"]
    }

    /// DeleteImagePipeline, waiting while a build of it runs (403 `*Running*`).
    fn delete<'a>(&'a self, cx: &'a dyn Cx, obj: Object<'a>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let r = cx
                .waiter()
                .wait(|_| async move {
                    let req = ops::DeleteImagePipeline {
                        region_id: obj.region.into(),
                        image_pipeline_id: obj.id.into(),
                    };
                    match cx
                        .call(obj.region, "DeleteImagePipeline", ops::flatten(&req))
                        .await
                    {
                        Ok(_) => Acceptance::Success(()),
                        Err(e) if not_found(&e) => Acceptance::Success(()),
                        Err(e)
                            if e.api()
                                .is_some_and(|a| a.status == 403 && a.code.contains("Running")) =>
                        {
                            cx.progress("waiting for the running build");
                            Acceptance::Retry(())
                        }
                        Err(e) => Acceptance::Failure(e.to_string()),
                    }
                })
                .await;
            match r {
                Ok(()) => Ok(()),
                Err(WaitError::Failed(e)) => Err(e),
                Err(_) => Err(format!(
                    "timed out waiting for the builds of pipeline {} to end",
                    obj.id
                )),
            }
        })
    }
}
