//! `data "alicloud_images"`: looks up existing images (for base images) with
//! DescribeImages, as the provider's data source does.

use super::api;
use super::kind::DataKind;
use super::rules::*;
use super::{attr, EvalBody, Schema, Ty, Update::*};
use crate::cloud::client::Client;
use crate::cloud::ops;
use crate::diag::Diagnostics;
use futures_util::future::BoxFuture;
use serde_json::{json, Value as J};

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
        attr("instance_type", Ty::String, ForceNew),
        attr("image_owner_id", Ty::String, ForceNew).check(account_id),
        attr("is_support_io_optimized", Ty::Bool, ForceNew),
        attr("action_type", Ty::String, ForceNew).check(action_type),
        attr("output_file", Ty::String, Local),
        attr("ids", Ty::StringList, Computed),
        attr("images", Ty::Any, Computed),
    ],
    blocks: &[],
    cross,
    timeouts: super::Timeouts {
        create: 300,
        delete: 300,
    },
};

fn cross(b: &EvalBody, diags: &mut Diagnostics) {
    output_file_not_written(b, diags);
}

/// `output_file` is accepted so that provider code ports, but never written: a plan of an
/// untrusted pull request must not write files.
pub fn output_file_not_written(b: &EvalBody, diags: &mut Diagnostics) {
    if b.attrs.contains_key("output_file") {
        diags.push(
            crate::diag::Diagnostic::warning(
                "output_file is not written",
                "imgform reads the data source but does not write its results to a file (a plan must not write files)",
                Some(b.span_of("output_file")),
            )
            .with_hint("use the data source's attributes, or an output with `imgform output -json`"),
        );
    }
}

/// The data source.
pub struct Images;

impl DataKind for Images {
    fn schema(&self) -> &'static Schema {
        &SCHEMA
    }

    /// DescribeImages page by page (at most 50 pages), filtered by `name_regex`, newest
    /// first, the newest only with `most_recent`.
    fn read<'a>(&'a self, c: &'a Client, args: &'a J) -> BoxFuture<'a, Result<J, String>> {
        Box::pin(async move {
            let mut all = Vec::new();
            let mut page = 1;
            loop {
                let req = ops::DescribeImages {
                    region_id: c.region().into(),
                    image_owner_alias: api::s(args, "owners").filter(|o| !o.is_empty()),
                    image_family: api::s(args, "image_family"),
                    image_name: api::s(args, "image_name"),
                    architecture: api::s(args, "architecture"),
                    os_type: api::s(args, "os_type"),
                    status: api::s(args, "status").or_else(|| Some("Available".into())),
                    tag: api::tags(args, "tags"),
                    instance_type: api::s(args, "instance_type"),
                    image_owner_id: api::s(args, "image_owner_id"),
                    is_support_io_optimized: api::boolean(args, "is_support_io_optimized"),
                    action_type: api::s(args, "action_type"),
                    page_number: Some(page),
                    page_size: Some(100),
                    ..Default::default()
                };
                let r: ops::DescribeImagesResponse = c
                    .call("DescribeImages", &req)
                    .await
                    .map_err(|e| e.to_string())?;
                let n = r.images.items.len() as i64;
                all.extend(r.images.items);
                if n == 0 || page * 100 >= r.total_count || page >= 50 {
                    break;
                }
                page += 1;
            }
            if let Some(re) = api::s(args, "name_regex") {
                let re = regex::Regex::new(&re).map_err(|e| format!("invalid name_regex: {e}"))?;
                all.retain(|i| re.is_match(&i.image_name) || re.is_match(&i.image_id));
            }
            all.sort_by(|a, b| {
                b.creation_time
                    .cmp(&a.creation_time)
                    .then(a.image_id.cmp(&b.image_id))
            });
            if api::boolean(args, "most_recent") == Some(true) {
                all.truncate(1);
            }
            let images: Vec<J> = all
                .iter()
                .map(|i| json!({"id": i.image_id, "image_id": i.image_id, "name": i.image_name, "image_name": i.image_name, "image_family": i.image_family, "os_type": i.os_type, "platform": i.platform, "architecture": i.architecture, "status": i.status, "creation_time": i.creation_time, "owner_alias": i.image_owner_alias, "size": i.size, "boot_mode": i.boot_mode}))
                .collect();
            let mut out = args.as_object().cloned().unwrap_or_default();
            out.insert(
                "ids".into(),
                json!(all.iter().map(|i| i.image_id.clone()).collect::<Vec<_>>()),
            );
            out.insert("images".into(), J::Array(images));
            out.insert("id".into(), json!(format!("{}", all.len())));
            Ok(J::Object(out))
        })
    }
}
