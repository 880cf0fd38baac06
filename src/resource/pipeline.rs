//! `alicloud_ecs_image_pipeline`: an Image Builder template (CreateImagePipeline). There is
//! no Modify API, so everything but `tags` forces replacement. imgform also exposes the
//! newer `image_options`, `import_image_options`, `advanced_options`, `test_content` and
//! `repair_mode` the provider lacks.

use super::api::{self, blocks, boolean, int, s, strings, tag_map};
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
        attr("tags", Ty::Map, InPlace).check(tags).cleared(),
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
    batch: 20,
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
            ops::flatten(&create_pipeline(region, attrs, token)),
        )
    }

    fn created(&self, answer: &J, _: &J) -> Option<(String, Map<String, J>)> {
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

    /// The `COMPONENT ic-…` lines of the build and test content. (The base image is not
    /// looked up: it may be a Marketplace image, which DescribeImages lists only when asked
    /// for that owner, and a miss would refuse a valid plan.)
    fn references(&self, attrs: &J) -> Vec<Reference> {
        let mut out = Vec::new();
        for attr in ["build_content", "test_content"] {
            let Some(text) = s(attrs, attr) else { continue };
            for line in text.lines() {
                let mut words = line.split_whitespace();
                if !words
                    .next()
                    .is_some_and(|c| c.eq_ignore_ascii_case("COMPONENT"))
                {
                    continue;
                }
                if let Some(id) = words.next().filter(|w| w.starts_with("ic-")) {
                    out.push(Reference::new(attr, &objects::COMPONENT, id));
                }
            }
        }
        out
    }

    fn naming(&self) -> &'static [&'static str] {
        &["build_content", "test_content"]
    }

    fn read_key(&self, id: &str, _: &Attrs) -> (&'static Lookup, String) {
        (&PIPELINES, id.into())
    }

    fn read_back(&self, item: &J) -> Option<Map<String, J>> {
        serde_json::from_value::<ops::Pipeline>(item.clone())
            .ok()
            .map(|p| read_pipeline(&p))
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
                Err(WaitError::Interrupted { .. }) => Err(format!(
                    "interrupted while waiting for the builds of pipeline {} to end; it stays in the state, so the next run goes on",
                    obj.id
                )),
                Err(_) => Err(format!(
                    "timed out waiting for the builds of pipeline {} to end",
                    obj.id
                )),
            }
        })
    }
}

/// CreateImagePipeline from `alicloud_ecs_image_pipeline` attributes.
pub fn create_pipeline(region: &str, a: &J, token: &str) -> ops::CreateImagePipeline {
    let image_options = blocks(a, "image_options")
        .first()
        .map(|o| ops::ImageOptions {
            image_name: s(o, "image_name"),
            image_family: s(o, "image_family"),
            description: s(o, "description"),
            image_features: blocks(o, "image_features")
                .first()
                .map(|f| ops::ImageFeatures {
                    nvme_support: s(f, "nvme_support"),
                }),
            image_tags: api::tags(o, "image_tags"),
        });
    let import_image_options =
        blocks(a, "import_image_options")
            .first()
            .map(|o| ops::ImportImageOptions {
                architecture: s(o, "architecture"),
                boot_mode: s(o, "boot_mode"),
                os_type: s(o, "os_type"),
                platform: s(o, "platform"),
                license_type: s(o, "license_type"),
                role_name: s(o, "role_name"),
                image_name: s(o, "image_name"),
                description: s(o, "description"),
                retain_imported_image: boolean(o, "retain_imported_image"),
                retention_strategy: s(o, "retention_strategy"),
                features: blocks(o, "features").first().map(|f| ops::Features {
                    nvme_support: s(f, "nvme_support"),
                    imds_support: s(f, "imds_support"),
                }),
                disk_device_mappings: blocks(o, "disk_device_mappings")
                    .into_iter()
                    .map(|m| ops::PipelineImportDisk {
                        oss_bucket: s(m, "oss_bucket").unwrap_or_default(),
                        oss_object: s(m, "oss_object").unwrap_or_default(),
                        format: s(m, "format").map(|f| f.to_uppercase()),
                        disk_image_size: int(m, "disk_image_size"),
                    })
                    .collect(),
                import_image_tags: api::tags(o, "import_image_tags"),
            });
    let advanced_options = blocks(a, "advanced_options")
        .first()
        .map(|o| ops::AdvancedOptions {
            image_name_suffix: s(o, "image_name_suffix"),
            retain_cloud_assistant: boolean(o, "retain_cloud_assistant"),
        });
    ops::CreateImagePipeline {
        region_id: region.into(),
        base_image_type: s(a, "base_image_type").unwrap_or_default(),
        base_image: s(a, "base_image"),
        name: s(a, "name"),
        description: s(a, "description"),
        image_name: s(a, "image_name"),
        image_family: s(a, "image_family"),
        nvme_support: s(a, "nvme_support"),
        build_content: s(a, "build_content"),
        test_content: s(a, "test_content"),
        add_account: strings(a, "add_account"),
        to_region_id: strings(a, "to_region_id"),
        instance_type: s(a, "instance_type"),
        vswitch_id: s(a, "vswitch_id"),
        system_disk_size: int(a, "system_disk_size"),
        internet_max_bandwidth_out: int(a, "internet_max_bandwidth_out"),
        delete_instance_on_failure: boolean(a, "delete_instance_on_failure"),
        repair_mode: s(a, "repair_mode"),
        resource_group_id: s(a, "resource_group_id"),
        image_options,
        import_image_options,
        advanced_options,
        tag: api::tags(a, "tags"),
        client_token: Some(token.into()),
    }
}

/// Attributes of a pipeline as the cloud reports them.
pub fn read_pipeline(p: &ops::Pipeline) -> Map<String, J> {
    let mut m = Map::new();
    m.insert("id".into(), json!(p.image_pipeline_id));
    m.insert("name".into(), json!(p.name));
    m.insert("description".into(), json!(p.description));
    m.insert("base_image_type".into(), json!(p.base_image_type));
    m.insert("base_image".into(), json!(p.base_image));
    m.insert("tags".into(), tag_map(&p.tags));
    m.insert("create_time".into(), json!(p.creation_time));
    m.insert("build_content".into(), json!(p.build_content));
    m.insert("test_content".into(), json!(p.test_content));
    m.insert("instance_type".into(), json!(p.instance_type));
    m.insert(
        "internet_max_bandwidth_out".into(),
        json!(p.internet_max_bandwidth_out),
    );
    m.insert("system_disk_size".into(), json!(p.system_disk_size));
    m.insert(
        "delete_instance_on_failure".into(),
        json!(p.delete_instance_on_failure),
    );
    m.insert("vswitch_id".into(), json!(p.vswitch_id));
    m.insert("repair_mode".into(), json!(p.repair_mode));
    m.insert("resource_group_id".into(), json!(p.resource_group_id));
    m.insert("image_name".into(), json!(p.image_name));
    m.insert("image_family".into(), json!(p.image_family));
    m.insert("to_region_id".into(), json!(p.to_region_ids.items));
    m.insert("add_account".into(), json!(p.add_accounts.items));
    m.retain(|_, v| !(v.as_str() == Some("") || v.as_array().is_some_and(|a| a.is_empty())));
    m
}
