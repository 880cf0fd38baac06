//! `data "alicloud_ecs_image_pipelines"` and `data "alicloud_ecs_image_components"`: look up
//! Image Builder pipelines and components (DescribeImagePipelines, DescribeImageComponents),
//! every page, filtered by `ids`, name, resource group and tags, then by `name_regex`, as
//! the provider's data sources do. Their attributes follow the provider's docs.

use super::api::{self, s};
use super::kind::DataKind;
use super::rules::*;
use super::{attr, EvalBody, Schema, Ty, Update::*};
use crate::cloud::client::Client;
use crate::diag::Diagnostics;
use futures_util::future::BoxFuture;
use serde_json::{json, Map, Value as J};

fn cross(b: &EvalBody, diags: &mut Diagnostics) {
    super::images_data::output_file_not_written(b, diags);
}

/// The pipelines data source's schema.
pub const PIPELINES: Schema = Schema {
    kind: "alicloud_ecs_image_pipelines",
    attrs: &[
        attr("ids", Ty::StringList, ForceNew),
        attr("name_regex", Ty::String, ForceNew).check(regex),
        attr("name", Ty::String, ForceNew),
        attr("resource_group_id", Ty::String, ForceNew).check(resource_group_id),
        attr("tags", Ty::Map, ForceNew),
        attr("output_file", Ty::String, Local),
        attr("names", Ty::StringList, Computed),
        attr("pipelines", Ty::Any, Computed),
    ],
    blocks: &[],
    cross,
    timeouts: super::Timeouts {
        create: 300,
        delete: 300,
    },
};

/// The components data source's schema.
pub const COMPONENTS: Schema = Schema {
    kind: "alicloud_ecs_image_components",
    attrs: &[
        attr("ids", Ty::StringList, ForceNew),
        attr("name_regex", Ty::String, ForceNew).check(regex),
        attr("image_component_name", Ty::String, ForceNew),
        attr("owner", Ty::String, ForceNew).check(component_owner),
        attr("resource_group_id", Ty::String, ForceNew).check(resource_group_id),
        attr("tags", Ty::Map, ForceNew),
        attr("output_file", Ty::String, Local),
        attr("names", Ty::StringList, Computed),
        attr("components", Ty::Any, Computed),
    ],
    blocks: &[],
    cross,
    timeouts: super::Timeouts {
        create: 300,
        delete: 300,
    },
};

/// The pipelines data source.
pub struct Pipelines;

/// The components data source.
pub struct Components;

/// Every item of a token-paged Describe call, 500 a page.
async fn all_pages(
    c: &Client,
    action: &str,
    mut params: Vec<(String, String)>,
    set: (&str, &str),
) -> Result<Vec<J>, String> {
    params.push(("RegionId".into(), c.region().into()));
    params.push(("MaxResults".into(), "500".into()));
    let mut out = Vec::new();
    let mut token = String::new();
    for _ in 0..10_000 {
        let mut p = params.clone();
        if !token.is_empty() {
            p.push(("NextToken".into(), token.clone()));
        }
        let r = c
            .call_raw(action, p, None)
            .await
            .map_err(|e| e.to_string())?;
        let items = r[set.0][set.1].as_array().cloned().unwrap_or_default();
        let n = items.len();
        out.extend(items);
        token = r["NextToken"].as_str().unwrap_or_default().to_string();
        if token.is_empty() || n == 0 {
            break;
        }
    }
    Ok(out)
}

/// The common filters: `ids` (`<id_param>.N`), a name, the resource group and tags.
fn filters(args: &J, id_param: &str, name: (&str, &str)) -> Vec<(String, String)> {
    let mut p = Vec::new();
    for (i, id) in args["ids"].as_array().into_iter().flatten().enumerate() {
        if let Some(id) = id.as_str() {
            p.push((format!("{id_param}.{}", i + 1), id.to_string()));
        }
    }
    if let Some(n) = s(args, name.1) {
        p.push((name.0.to_string(), n));
    }
    if let Some(rg) = s(args, "resource_group_id") {
        p.push(("ResourceGroupId".into(), rg));
    }
    for (i, t) in api::tags(args, "tags").into_iter().enumerate() {
        p.push((format!("Tag.{}.Key", i + 1), t.key));
        p.push((format!("Tag.{}.Value", i + 1), t.value));
    }
    p
}

fn tag_map(item: &J) -> J {
    J::Object(
        item["Tags"]["Tag"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| Some((t["TagKey"].as_str()?.to_string(), t["TagValue"].clone())))
            .collect(),
    )
}

fn tag_list(item: &J) -> J {
    J::Array(
        item["Tags"]["Tag"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| json!({"tag_key": t["TagKey"], "tag_value": t["TagValue"]}))
            .collect(),
    )
}

/// Keeps the items whose name matches `name_regex`, and answers with ids, names and the
/// items under `key`.
fn answer(args: &J, mut items: Vec<Map<String, J>>, name: &str, key: &str) -> Result<J, String> {
    if let Some(re) = s(args, "name_regex") {
        let re = regex::Regex::new(&re).map_err(|e| format!("invalid name_regex: {e}"))?;
        items.retain(|i| {
            i.get(name)
                .and_then(|n| n.as_str())
                .is_some_and(|n| re.is_match(n))
        });
    }
    let mut out = args.as_object().cloned().unwrap_or_default();
    out.insert(
        "ids".into(),
        json!(items.iter().map(|i| i["id"].clone()).collect::<Vec<_>>()),
    );
    out.insert(
        "names".into(),
        json!(items.iter().map(|i| i[name].clone()).collect::<Vec<_>>()),
    );
    out.insert("id".into(), json!(items.len().to_string()));
    out.insert(
        key.into(),
        J::Array(items.into_iter().map(J::Object).collect()),
    );
    Ok(J::Object(out))
}

fn pick(item: &J, fields: &[(&str, &str)]) -> Map<String, J> {
    fields
        .iter()
        .map(|(k, from)| (k.to_string(), item.get(*from).cloned().unwrap_or(J::Null)))
        .collect()
}

impl DataKind for Pipelines {
    fn schema(&self) -> &'static Schema {
        &PIPELINES
    }

    fn read<'a>(&'a self, c: &'a Client, args: &'a J) -> BoxFuture<'a, Result<J, String>> {
        Box::pin(async move {
            let params = filters(args, "ImagePipelineId", ("Name", "name"));
            let raw = all_pages(
                c,
                "DescribeImagePipelines",
                params,
                ("ImagePipeline", "ImagePipelineSet"),
            )
            .await?;
            let items = raw
                .iter()
                .map(|p| {
                    let mut m = pick(
                        p,
                        &[
                            ("id", "ImagePipelineId"),
                            ("image_pipeline_id", "ImagePipelineId"),
                            ("name", "Name"),
                            ("base_image", "BaseImage"),
                            ("base_image_type", "BaseImageType"),
                            ("build_content", "BuildContent"),
                            ("description", "Description"),
                            ("image_name", "ImageName"),
                            ("instance_type", "InstanceType"),
                            ("system_disk_size", "SystemDiskSize"),
                            ("internet_max_bandwidth_out", "InternetMaxBandwidthOut"),
                            ("delete_instance_on_failure", "DeleteInstanceOnFailure"),
                            ("vswitch_id", "VSwitchId"),
                            ("resource_group_id", "ResourceGroupId"),
                            ("creation_time", "CreationTime"),
                        ],
                    );
                    m.insert(
                        "to_region_ids".into(),
                        p["ToRegionIds"]["ToRegionId"].clone(),
                    );
                    m.insert("add_account".into(), p["AddAccounts"]["AddAccount"].clone());
                    m.insert("tags".into(), tag_map(p));
                    m
                })
                .collect();
            answer(args, items, "name", "pipelines")
        })
    }
}

impl DataKind for Components {
    fn schema(&self) -> &'static Schema {
        &COMPONENTS
    }

    fn read<'a>(&'a self, c: &'a Client, args: &'a J) -> BoxFuture<'a, Result<J, String>> {
        Box::pin(async move {
            let mut params = filters(args, "ImageComponentId", ("Name", "image_component_name"));
            if let Some(o) = s(args, "owner") {
                params.push(("Owner".into(), o));
            }
            let raw = all_pages(
                c,
                "DescribeImageComponents",
                params,
                ("ImageComponent", "ImageComponentSet"),
            )
            .await?;
            let items = raw
                .iter()
                .map(|x| {
                    let mut m = pick(
                        x,
                        &[
                            ("id", "ImageComponentId"),
                            ("image_component_id", "ImageComponentId"),
                            ("image_component_name", "Name"),
                            ("content", "Content"),
                            ("component_type", "ComponentType"),
                            ("component_version", "ComponentVersion"),
                            ("system_type", "SystemType"),
                            ("description", "Description"),
                            ("owner", "Owner"),
                            ("resource_group_id", "ResourceGroupId"),
                            ("create_time", "CreationTime"),
                        ],
                    );
                    // A list of {tag_key, tag_value}, as the provider's data source has it.
                    m.insert("tags".into(), tag_list(x));
                    m
                })
                .collect();
            answer(args, items, "image_component_name", "components")
        })
    }
}
