//! `alicloud_ecs_image_component`: a reusable Image Builder component
//! (CreateImageComponent), referenced from a pipeline's `build_content` as
//! `COMPONENT ic-…`. Everything but `tags` and `resource_group_id` forces replacement, as in
//! the provider; its `content` is checked with the same command rules as a pipeline's.

use super::api::{self, s};
use super::kind::*;
use super::rules::*;
use super::{attr, EvalBody, Schema, Ty, Update::*};
use crate::cloud::client::Client;
use crate::cloud::error::Error;
use crate::cloud::ops;
use crate::diag::Diagnostics;
use futures_util::future::BoxFuture;
use serde_json::{Map, Value as J};
use std::collections::HashMap;

/// The schema.
pub const SCHEMA: Schema = Schema {
    kind: "alicloud_ecs_image_component",
    attrs: &[
        attr("content", Ty::String, ForceNew)
            .required()
            .check(build_content),
        attr("component_type", Ty::String, ForceNew).check(component_type),
        attr("component_version", Ty::String, ForceNew).check(component_version),
        attr("description", Ty::String, ForceNew).check(description),
        attr("image_component_name", Ty::String, ForceNew).check(component_name),
        attr("system_type", Ty::String, ForceNew).check(system_type),
        attr("resource_group_id", Ty::String, InPlace).check(resource_group_id),
        attr("tags", Ty::Map, InPlace).check(tags).cleared(),
        attr("create_time", Ty::String, Computed),
    ],
    blocks: &[],
    cross,
    timeouts: super::Timeouts {
        create: 300,
        delete: 300,
    },
};

fn cross(_: &EvalBody, _: &mut Diagnostics) {}

/// The kind.
pub struct ImageComponent;

/// Components by id: DescribeImageComponents, 20 ids a call.
pub static COMPONENTS: Lookup = Lookup {
    name: "components",
    fetch: fetch_components,
    batch: 20,
};

fn fetch_components(
    c: Client,
    ids: Vec<String>,
) -> BoxFuture<'static, Result<HashMap<String, J>, Error>> {
    Box::pin(async move {
        let mut out = HashMap::new();
        for chunk in ids.chunks(20) {
            let mut params = vec![
                ("RegionId".to_string(), c.region().to_string()),
                ("MaxResults".to_string(), "20".to_string()),
            ];
            for (i, id) in chunk.iter().enumerate() {
                params.push((format!("ImageComponentId.{}", i + 1), id.clone()));
            }
            let r = c.call_raw("DescribeImageComponents", params, None).await?;
            for item in r["ImageComponent"]["ImageComponentSet"]
                .as_array()
                .into_iter()
                .flatten()
            {
                if let Some(id) = item["ImageComponentId"].as_str() {
                    out.insert(id.to_string(), item.clone());
                }
            }
        }
        Ok(out)
    })
}

/// The CreateImageComponent request.
pub fn create_component(region: &str, a: &J, token: &str) -> Vec<(String, String)> {
    let mut p = vec![("RegionId".to_string(), region.to_string())];
    for (param, key) in [
        ("Name", "image_component_name"),
        ("Content", "content"),
        ("ComponentType", "component_type"),
        ("ComponentVersion", "component_version"),
        ("SystemType", "system_type"),
        ("Description", "description"),
        ("ResourceGroupId", "resource_group_id"),
    ] {
        if let Some(v) = s(a, key) {
            p.push((param.to_string(), v));
        }
    }
    for (i, t) in api::tags(a, "tags").into_iter().enumerate() {
        p.push((format!("Tag.{}.Key", i + 1), t.key));
        p.push((format!("Tag.{}.Value", i + 1), t.value));
    }
    p.push(("ClientToken".to_string(), token.to_string()));
    p
}

impl Kind for ImageComponent {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    fn create(&self, region: &str, attrs: &J, token: &str) -> Request {
        (
            "CreateImageComponent",
            create_component(region, attrs, token),
        )
    }

    fn created(&self, answer: &J, _: &J) -> Option<(String, Map<String, J>)> {
        id_in(answer, "ImageComponentId")
    }

    /// A component is ready when CreateImageComponent answers.
    fn stages(&self, _: &str, _: &J) -> Vec<Stage> {
        vec![]
    }

    fn judge(&self, _: &Stage, _: &J, _: &J) -> Verdict {
        Verdict::Done(Map::new(), None)
    }

    fn update(&self, region: &str, id: &str, before: &J, after: &J) -> Vec<Request> {
        let mut calls = Vec::new();
        if after.get("resource_group_id").is_some()
            && after.get("resource_group_id") != before.get("resource_group_id")
        {
            let j = ops::JoinResourceGroup {
                region_id: region.into(),
                resource_id: id.into(),
                resource_group_id: s(after, "resource_group_id").unwrap_or_default(),
                resource_type: "imagecomponent".into(),
            };
            calls.push(("JoinResourceGroup", ops::flatten(&j)));
        }
        calls.extend(tag_calls("imagecomponent", region, id, before, after));
        calls
    }

    fn tag_type(&self) -> Option<&'static str> {
        Some("imagecomponent")
    }

    fn read_key(&self, id: &str, _: &Attrs) -> (&'static Lookup, String) {
        (&COMPONENTS, id.into())
    }

    fn read_back(&self, item: &J) -> Option<Map<String, J>> {
        let mut m = Map::new();
        m.insert("id".into(), item.get("ImageComponentId")?.clone());
        for (k, from) in [
            ("image_component_name", "Name"),
            ("content", "Content"),
            ("component_type", "ComponentType"),
            ("component_version", "ComponentVersion"),
            ("system_type", "SystemType"),
            ("description", "Description"),
            ("resource_group_id", "ResourceGroupId"),
            ("create_time", "CreationTime"),
        ] {
            if let Some(v) = item.get(from).filter(|v| v.as_str() != Some("")) {
                m.insert(k.into(), v.clone());
            }
        }
        let tags: Map<String, J> = item["Tags"]["Tag"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| Some((t["TagKey"].as_str()?.to_string(), t["TagValue"].clone())))
            .collect();
        m.insert("tags".into(), J::Object(tags));
        Some(m)
    }

    fn refreshed(&self) -> &'static [&'static str] {
        &["create_time"]
    }

    /// DeleteImageComponent; a component already gone is deleted.
    fn delete<'a>(&'a self, cx: &'a dyn Cx, obj: Object<'a>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let params = vec![
                ("RegionId".to_string(), obj.region.to_string()),
                ("ImageComponentId".to_string(), obj.id.to_string()),
            ];
            match cx.call(obj.region, "DeleteImageComponent", params).await {
                Ok(_) => Ok(()),
                Err(e) if not_found(&e) => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        })
    }
}
