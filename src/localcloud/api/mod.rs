//! The ECS actions of the local cloud, each validating its parameters with the error codes
//! and HTTP statuses of the ECS API pages (`shared/seeds/`) and the simulated cloud's own
//! rules (`localcloud::rules`), acting on the world, and answering with the real response
//! shapes (the types of `cloud::ops`). This file holds what every action shares (the
//! parameters, errors, ClientToken idempotency) and the table of actions ([`dispatch`]);
//! each area of the product has its file:
//!
//! - `images`: custom images, copies, shares, exports;
//! - `imports`: ImportImage and its tasks;
//! - `builder`: Image Builder pipelines, builds and components;
//! - `tags`: tags and resource groups;
//! - `regions`: regions, snapshots and instances.
//!
//! Another product (VPC, OSS, RAM) is another directory beside this one, with its own table.

mod builder;
mod images;
mod imports;
mod regions;
mod tags;
use builder::*;
use images::*;
use imports::*;
use regions::*;
use tags::*;

use super::rules;

use super::world::{ExecutionRec, ImageDisk, ImageRec, PipelineRec, TaskRec};

use super::Cloud;

use serde::Serialize;

use serde_json::json;

use std::collections::BTreeMap;

/// An error answer.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq)]
pub struct ApiErr {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub retry_after_ms: Option<u64>,
}

impl ApiErr {
    /// An error answer without a retry delay.
    pub fn new(status: u16, code: &str, message: &str) -> ApiErr {
        ApiErr {
            status,
            code: code.into(),
            message: message.into(),
            retry_after_ms: None,
        }
    }
}

type R<T> = Result<T, ApiErr>;

fn err<T>(status: u16, code: &str, message: &str) -> R<T> {
    Err(ApiErr::new(status, code, message))
}

struct P<'a>(&'a BTreeMap<String, String>);

impl P<'_> {
    fn get(&self, k: &str) -> Option<&str> {
        self.0.get(k).map(String::as_str)
    }
    fn some(&self, k: &str) -> Option<&str> {
        self.get(k).filter(|v| !v.is_empty())
    }
    fn bool(&self, k: &str) -> R<Option<bool>> {
        match self.some(k) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => err(
                400,
                "InvalidParameter",
                &format!("The specified parameter \"{k}\" is not valid: {v:?} is not a boolean."),
            ),
        }
    }
    fn int(&self, k: &str) -> R<Option<i64>> {
        match self.some(k) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiErr::new(
                    400,
                    "InvalidParameter",
                    &format!(
                        "The specified parameter \"{k}\" is not valid: {v:?} is not an integer."
                    ),
                )
            }),
        }
    }
    /// `Prefix.N.Sub` entries grouped by N (1-based, in order).
    fn objects(&self, prefix: &str) -> Vec<(usize, BTreeMap<String, String>)> {
        let mut m: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
        let pre = format!("{prefix}.");
        for (k, v) in self.0.range(pre.clone()..) {
            let Some(rest) = k.strip_prefix(&pre) else {
                break;
            };
            if let Some((n, sub)) = rest.split_once('.') {
                if let Ok(n) = n.parse::<usize>() {
                    m.entry(n).or_default().insert(sub.to_string(), v.clone());
                }
            }
        }
        m.into_iter().collect()
    }
    /// `Prefix.N` values in order.
    fn strings(&self, prefix: &str) -> Vec<String> {
        let mut m: BTreeMap<usize, String> = BTreeMap::new();
        let pre = format!("{prefix}.");
        for (k, v) in self.0.range(pre.clone()..) {
            let Some(rest) = k.strip_prefix(&pre) else {
                break;
            };
            if let Ok(n) = rest.parse::<usize>() {
                m.insert(n, v.clone());
            }
        }
        m.into_values().collect()
    }
    /// `Tag.N.Key/Value` (also the legacy lower-case `key`/`value`).
    fn tags(&self, prefix: &str) -> Vec<(String, String)> {
        self.objects(prefix)
            .into_iter()
            .map(|(_, o)| {
                let k = o
                    .get("Key")
                    .or_else(|| o.get("key"))
                    .cloned()
                    .unwrap_or_default();
                let v = o
                    .get("Value")
                    .or_else(|| o.get("value"))
                    .cloned()
                    .unwrap_or_default();
                (k, v)
            })
            .collect()
    }
}

fn check(rule: fn(&str) -> bool, v: Option<&str>, code: &str, message: &str) -> R<()> {
    if let Some(x) = v {
        if !rule(x) {
            return err(400, code, message);
        }
    }
    Ok(())
}

fn one_of(v: Option<&str>, allowed: &[&str], code: &str, message: &str) -> R<()> {
    match v {
        Some(x) if !allowed.contains(&x) => err(400, code, message),
        _ => Ok(()),
    }
}

fn region_of(c: &Cloud, p: &P) -> R<String> {
    let Some(r) = p.some("RegionId") else {
        return err(400, "MissingParameter", "The input parameter \"RegionId\" that is mandatory for processing this request is not supplied.");
    };
    if !c.regions.contains_key(r) {
        return err(
            404,
            "InvalidRegionId.NotFound",
            &format!("The specified RegionId {r:?} does not exist."),
        );
    }
    Ok(r.to_string())
}

fn iso(t: f64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t as i64)
        .ok()
        .and_then(|d| {
            d.format(&time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
            ))
            .ok()
        })
        .unwrap_or_default()
}

fn check_tags(tags: &[(String, String)], dup_code: &str, dup_status: u16) -> R<()> {
    if tags.len() > 20 {
        return err(
            403,
            "QuotaExceed.Tags",
            &format!(
                "The number of specified tags ({}) exceeds the upper limit of 20.",
                tags.len()
            ),
        );
    }
    let mut seen: Vec<String> = Vec::new();
    for (k, v) in tags {
        if !rules::tag_key(k) {
            return err(
                400,
                "InvalidTagKey.Malformed",
                "The specified Tag.n.Key is not valid.",
            );
        }
        if !rules::tag_value(v) {
            return err(
                400,
                "InvalidTagValue.Malformed",
                "The specified Tag.n.Value is not valid.",
            );
        }
        let key = if dup_code == "TagKey.Duplication" {
            k.to_lowercase()
        } else {
            k.clone()
        };
        if seen.contains(&key) {
            return err(
                dup_status,
                dup_code,
                if dup_code == "TagKey.Duplication" {
                    "The TagKey has duplication with others, case-insensitive."
                } else {
                    "The Tag.N.Key contain duplicate key."
                },
            );
        }
        seen.push(key);
    }
    Ok(())
}

fn check_resource_group(c: &Cloud, region: &str, p: &P) -> R<()> {
    if let Some(rg) = p.some("ResourceGroupId") {
        if !c.regions[region].resource_groups.iter().any(|g| g == rg) {
            return err(
                404,
                "InvalidResourceGroup.NotFound",
                "The ResourceGroup provided does not exist in our records.",
            );
        }
    }
    Ok(())
}

fn client_token(p: &P) -> R<Option<String>> {
    match p.get("ClientToken") {
        None | Some("") => Ok(None),
        Some(t) if t.len() > 64 || !t.is_ascii() => err(
            400,
            "InvalidClientToken.Malformed",
            "The specified parameter clientToken is not valid.",
        ),
        Some(t) => Ok(Some(t.to_string())),
    }
}

fn fingerprint(params: &BTreeMap<String, String>) -> String {
    params
        .iter()
        .filter(|(k, _)| k.as_str() != "ClientToken")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn roll_failure(c: &mut Cloud, action: &str) -> bool {
    let f = c.faults.fail_create;
    if !c.faults.only.is_empty() && !c.faults.only.iter().any(|a| a == action) {
        return false;
    }
    f > 0.0 && c.fault_rng.get_or_insert_with(|| super::Rng::new(0)).f64() < f
}

/// Runs one action.
/// An answer document: built as JSON, or (for the reads that answer thousands of objects
/// per tick) written straight to text.
pub enum Doc {
    /// A JSON document.
    Json(serde_json::Value),
    /// A JSON object already written out.
    Text(String),
}

impl Doc {
    /// The document as sent, with its RequestId.
    pub fn with_request_id(self, rid: &str) -> String {
        let rid = serde_json::Value::from(rid);
        match self {
            Doc::Json(mut v) => {
                if let Some(o) = v.as_object_mut() {
                    o.insert("RequestId".into(), rid);
                }
                v.to_string()
            }
            Doc::Text(mut t) => {
                // `{…}` becomes `{…,"RequestId":"…"}`, where a built document has it.
                if t.ends_with('}') {
                    t.pop();
                    if !t.ends_with('{') {
                        t.push(',');
                    }
                    t.push_str(&format!("\"RequestId\":{rid}}}"));
                }
                t
            }
        }
    }
}

/// Runs one action: its answer document, or the error ECS answers with.
pub fn answer(c: &mut Cloud, action: &str, params: &BTreeMap<String, String>) -> R<Doc> {
    match action {
        "DescribeImages" => describe_images(c, &P(params)).map(Doc::Text),
        _ => dispatch(c, action, params).map(Doc::Json),
    }
}

fn dispatch(
    c: &mut Cloud,
    action: &str,
    params: &BTreeMap<String, String>,
) -> R<serde_json::Value> {
    let p = P(params);
    let idempotent = matches!(
        action,
        "CreateImage"
            | "ImportImage"
            | "CreateImagePipeline"
            | "StartImagePipelineExecution"
            | "CreateImageComponent"
            | "CopyImage"
    );
    let token = if idempotent { client_token(&p)? } else { None };
    if let Some(t) = &token {
        let key = format!("{action}/{t}");
        if let Some((fp, resp)) = c.tokens.get(&key) {
            if *fp == fingerprint(params) {
                return Ok(resp.clone());
            }
            return err(400, "IdempotenceParamNotMatch", "Request uses a client token in a previous request but is not identical to that request.");
        }
    }
    let out = match action {
        "CreateImage" => create_image(c, &p),
        "ImportImage" => import_image(c, &p),
        "CreateImagePipeline" => create_pipeline(c, &p),
        "StartImagePipelineExecution" => start_execution(c, &p),
        "DescribeTasks" => describe_tasks(c, &p),
        "DescribeTaskAttribute" => describe_task_attribute(c, &p),
        "DescribeImagePipelines" => describe_pipelines(c, &p),
        "DescribeImagePipelineExecutions" => describe_executions(c, &p),
        "ModifyImageAttribute" => modify_image(c, &p),
        "TagResources" => tag_resources(c, &p),
        "UntagResources" => untag_resources(c, &p),
        "JoinResourceGroup" => join_resource_group(c, &p),
        "DeleteImage" => delete_image(c, &p),
        "CancelTask" => cancel_task(c, &p),
        "DeleteImagePipeline" => delete_pipeline(c, &p),
        "CancelImagePipelineExecution" => cancel_execution(c, &p),
        "DescribeRegions" => describe_regions(c),
        "CopyImage" => copy_image(c, &p),
        "CancelCopyImage" => cancel_copy_image(c, &p),
        "ModifyImageSharePermission" => modify_share(c, &p),
        "DescribeImageSharePermission" => describe_share(c, &p),
        "CreateImageComponent" => create_component(c, &p),
        "DescribeImageComponents" => describe_components(c, &p),
        "DeleteImageComponent" => delete_component(c, &p),
        "ExportImage" => export_image(c, &p),
        "DescribeSnapshots" => describe_snapshots(c, &p),
        "DeleteSnapshot" => delete_snapshot(c, &p),
        "DescribeInstances" => describe_instances(c, &p),
        "DescribeDisks" => describe_disks(c, &p),
        "ListTagResources" => list_tag_resources(c, &p),
        other => err(
            404,
            "InvalidAction.NotFound",
            &format!("Specified api {other:?} is not found, please check your url and method."),
        ),
    }?;
    if let Some(t) = token {
        let key = format!("{action}/{t}");
        let fp = fingerprint(params);
        c.put_token(key, fp, out.clone());
    }
    Ok(out)
}

fn dry_run(p: &P, code: &str, message: &str) -> R<()> {
    if p.bool("DryRun")? == Some(true) {
        return err(400, code, message);
    }
    Ok(())
}

fn tags_json(tags: &[(String, String)]) -> serde_json::Value {
    json!({ "Tag": tags.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect::<Vec<_>>() })
}

fn paging(p: &P, max: i64, default: i64) -> R<(i64, i64)> {
    let page = p.int("PageNumber")?.unwrap_or(1).max(1);
    let size = p.int("PageSize")?.unwrap_or(default);
    if !(1..=max).contains(&size) {
        return err(
            400,
            "InvalidParameter",
            &format!("The specified parameter \"PageSize\" is not valid: it must be 1 to {max}."),
        );
    }
    Ok((page, size))
}

fn token_page(p: &P) -> R<(usize, usize)> {
    let max = p.int("MaxResults")?.unwrap_or(50);
    if !(1..=500).contains(&max) {
        return err(
            400,
            "InvalidParameter",
            "The specified parameter \"MaxResults\" is not valid: it must be 1 to 500.",
        );
    }
    let start = match p.some("NextToken") {
        Some(t) => t.parse::<usize>().map_err(|_| {
            ApiErr::new(
                400,
                "InvalidParameter",
                "The specified parameter \"NextToken\" is not valid.",
            )
        })?,
        None => 0,
    };
    Ok((start, max as usize))
}

/// The NextToken of a token-paged list: the offset of the next page, or
/// empty on the last one.
fn next_token(start: usize, max: usize, total: usize) -> String {
    if start + max < total {
        (start + max).to_string()
    } else {
        String::new()
    }
}

fn resource_ids(p: &P) -> R<Vec<String>> {
    let ids = p.strings("ResourceId");
    if ids.is_empty() {
        return err(400, "MissingParameter", "The input parameter \"ResourceId\" that is mandatory for processing this request is not supplied.");
    }
    if ids.len() > 50 {
        return err(
            400,
            "InvalidParameter",
            "At most 50 ResourceId values may be given.",
        );
    }
    Ok(ids)
}

/// The tags of an image or pipeline, in the order they were added.
type Tags = Vec<(String, String)>;

/// A JSON array of ids (`SnapshotIds`, `InstanceIds`: `["s-1","s-2"]`), at most 100.
fn id_array(p: &P, k: &str) -> R<Option<Vec<String>>> {
    let Some(raw) = p.some(k) else {
        return Ok(None);
    };
    let ids: Vec<String> = serde_json::from_str(raw).map_err(|_| {
        ApiErr::new(
            400,
            "InvalidParameter",
            &format!(
                "The specified parameter \"{k}\" is not valid: a JSON array of ids is expected."
            ),
        )
    })?;
    if ids.len() > 100 {
        return err(
            400,
            "InvalidParameter",
            &format!("The specified parameter \"{k}\" is not valid: at most 100 ids."),
        );
    }
    Ok(Some(ids))
}

/// Guard against accidental drift between the server's JSON and the client's types.
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_images_is_written_as_text_that_reads_as_the_api_document() {
        let mut c = Cloud::open(&crate::localcloud::Options::default()).expect("a cloud");
        let params = |kv: &[(&str, &str)]| -> BTreeMap<String, String> {
            kv.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let made = answer(
            &mut c,
            "CreateImage",
            &params(&[
                ("RegionId", "cn-hangzhou"),
                ("SnapshotId", "s-bp1system0001"),
                ("ImageName", "text-answer"),
                ("Tag.1.Key", "team"),
                ("Tag.1.Value", "platform"),
            ]),
        )
        .expect("created");
        let Doc::Json(made) = made else {
            panic!("CreateImage answers a built document")
        };
        let id = made["ImageId"].as_str().expect("an id").to_string();
        let doc = answer(
            &mut c,
            "DescribeImages",
            &params(&[
                ("RegionId", "cn-hangzhou"),
                ("ImageId", &id),
                ("Status", "Creating,Available"),
            ]),
        )
        .expect("described");
        assert!(
            matches!(doc, Doc::Text(_)),
            "DescribeImages is written as text"
        );
        let text = doc.with_request_id("R-1");
        let j: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        assert_eq!(j["RequestId"], "R-1");
        assert_eq!(j["TotalCount"], 1);
        let item = &j["Images"]["Image"][0];
        // Every field the SDKs' DescribeImages models read.
        let keys: Vec<&str> = item
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "ImageId",
                "ImageName",
                "Status",
                "Progress",
                "Usable",
                "CreationTime",
                "Description",
                "Architecture",
                "OSType",
                "Platform",
                "OSName",
                "OSNameEn",
                "BootMode",
                "Size",
                "ImageFamily",
                "ImageVersion",
                "ImageOwnerAlias",
                "ImageOwnerId",
                "IsCopied",
                "IsSelfShared",
                "IsPublic",
                "IsSubscribed",
                "IsSupportCloudinit",
                "IsSupportIoOptimized",
                "LicenseType",
                "LoginAsNonRootSupported",
                "ProductCode",
                "ResourceGroupId",
                "SupplierName",
                "Usage",
                "Features",
                "DiskDeviceMappings",
                "Tags",
            ]
        );
        let r: crate::cloud::ops::DescribeImagesResponse =
            serde_json::from_str(&text).expect("the client's typed answer");
        let img = &r.images.items[0];
        assert_eq!(
            (img.image_id.as_str(), img.image_name.as_str()),
            (id.as_str(), "text-answer")
        );
        assert_eq!(img.image_owner_alias, "self");
        assert_eq!(
            img.disk_device_mappings.items[0].snapshot_id,
            "s-bp1system0001"
        );
        assert_eq!(img.tags.items[0].tag_key, "team");
        assert_eq!(img.tags.items[0].tag_value, "platform");
        // An empty document still takes its RequestId.
        assert_eq!(
            Doc::Text("{}".into()).with_request_id("R-2"),
            r#"{"RequestId":"R-2"}"#
        );
    }

    #[test]
    fn content_rules() {
        assert!(check_content("RUN echo hi\nENV A=b", "X").is_ok());
        assert_eq!(
            check_content("RUN a\nFROM IMAGE:m-1", "X")
                .expect_err("order")
                .code,
            "InvalidCommandOrder.FROM"
        );
        assert_eq!(
            check_content("FROM IMAGE:m-1\nFROM IMAGE:m-2", "X")
                .expect_err("dup")
                .code,
            "DuplicatedCommand.FROM"
        );
        assert_eq!(
            check_content("BOGUS x", "X").expect_err("cmd").code,
            "InvalidImageTemplateCommand.NotSupported"
        );
        assert_eq!(
            check_content("RUN", "X").expect_err("empty").code,
            "EmptyCommandContent.RUN"
        );
        assert_eq!(
            check_content("RESTART now", "X").expect_err("restart").code,
            "NotEmptyCommandContent.RESTART"
        );
    }
}
