//! The 18 operations of the local cloud, each validating its parameters with the error
//! codes and HTTP statuses of the ECS API pages (`shared/seeds/`), acting on the world,
//! and answering with the real response shapes (the types of `cloud::ops`).

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

fn image_names(p: &P) -> R<()> {
    check(
        rules::image_name,
        p.some("ImageName"),
        "InvalidImageName.Malformed",
        "The specified Image name is wrongly formed.",
    )?;
    check(
        rules::description,
        p.some("Description"),
        "InvalidDescription.Malformed",
        "The specified description is wrongly formed.",
    )?;
    Ok(())
}

fn create_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    image_names(p)?;
    check(
        rules::image_family,
        p.some("ImageFamily"),
        "InvalidImageFamily.Malformed",
        "The format of the specified image family is invalid.",
    )?;
    one_of(
        p.some("Architecture"),
        &["i386", "x86_64", "arm64"],
        "InvalidArchitecture.Malformed",
        "The specified Architecture is wrongly formed.",
    )?;
    check(
        rules::platform,
        p.some("Platform"),
        "InvalidPlatform.Malformed",
        "The specified Platform is wrongly formed.",
    )?;
    one_of(p.some("BootMode"), &["BIOS", "UEFI", "UEFI-Preferred"], "InvalidBootMode.Malformed", "The specified parameter BootMode is invalid. Valid options are BIOS, UEFI, and UEFI-Preferred.")?;
    one_of(p.some("DetectionStrategy"), &["Standard"], "InvalidDetectionStrategy.Malformed", "The specified value for parameter DetectionStrategy is not supported. Please refer to the documentation for accepted values.")?;
    one_of(
        p.some("Features.ImdsSupport"),
        &["v1", "v2"],
        "InvalidParameter.FeaturesImdsSupport",
        "The specified parameter Features.ImdsSupport is not supported.",
    )?;
    let tags = p.tags("Tag");
    check_tags(&tags, "Duplicate.TagKey", 400)?;
    check_resource_group(c, &region, p)?;
    let mappings = p.objects("DiskDeviceMapping");
    let (instance, snapshot) = (p.some("InstanceId"), p.some("SnapshotId"));
    if instance.is_none() && snapshot.is_none() && mappings.is_empty() {
        return err(400, "MissingParameter", "The input parameter SnapshotId or InstanceId or DiskDeviceMapping that is mandatory for processing this request is not supplied.");
    }
    let rw = &c.regions[&region];
    let now = c.now();
    let arch = p.some("Architecture").unwrap_or("x86_64").to_string();
    if arch == "i386" && p.some("BootMode") == Some("UEFI") {
        return err(
            400,
            "InvalidBootMode.NotSupport",
            "The specified parameter BootMode is not supported for current image architecture.",
        );
    }
    let snap_ok = |id: &str| -> R<&super::world::Snapshot> {
        let Some(s) = rw.snapshots.get(id) else {
            return err(
                404,
                "InvalidSnapshotId.NotFound",
                "The specified SnapshotId does not exist.",
            );
        };
        if s.status != "accomplished" {
            return err(403, "InvalidSnapshotId.NotReady", "The current status of the DiskDeviceMapping.n.SnapshotId or SnapshotId does not support this operation.");
        }
        if s.created.as_str() <= "2013-07-15" {
            return err(403, "InvalidSnapshot.TooOld", "This operation is denied because the specified snapshot by DiskDeviceMapping.n.SnapshotId or SnapshotId is created before 2013-07-15.");
        }
        Ok(s)
    };
    let mut disks = Vec::new();
    let mut secs = 120.0;
    if let Some(iid) = instance {
        let Some(inst) = rw.instances.get(iid) else {
            return err(
                404,
                "InvalidInstanceId.NotFound",
                &format!("The specified instance {iid} does not exist."),
            );
        };
        if inst.lock_reason == "security" {
            return err(400, "InstanceLockedForSecurity", "The specified operation is denied as your instance is locked for security reasons.");
        }
        if inst.status != "Running" && inst.status != "Stopped" {
            return err(
                400,
                "IncorrectInstanceStatus",
                "The current status of the instance does not support this operation.",
            );
        }
        if !inst.disks.iter().any(|d| d.disk_type == "system") {
            return err(
                400,
                "InvalidInstance.NotFoundSystemDisk",
                "The specified instance does not have system disk.",
            );
        }
        let mut data = 0;
        for d in &inst.disks {
            let dev = if d.disk_type == "system" {
                "/dev/xvda".to_string()
            } else {
                data += 1;
                format!("/dev/xvd{}", (b'a' + data) as char)
            };
            disks.push(ImageDisk {
                device: dev,
                disk_type: d.disk_type.clone(),
                snapshot_id: format!("s-{}", &d.id[2..]),
                size: d.size,
                ..Default::default()
            });
        }
        secs = 300.0;
    } else if !mappings.is_empty() {
        let mut systems = 0;
        let mut devices: Vec<String> = Vec::new();
        for (n, m) in &mappings {
            let snap = m.get("SnapshotId").filter(|v| !v.is_empty());
            let typ = match m.get("DiskType").map(String::as_str) {
                Some("system") | Some("data") => m["DiskType"].clone(),
                Some("") | None => match snap {
                    Some(sid) => snap_ok(sid)?.disk_type.clone(),
                    None => "data".into(),
                },
                Some(_) => {
                    return err(
                        400,
                        "InvalidDiskType.ValueNotSupported",
                        "The specified disk type is not supported.",
                    )
                }
            };
            if typ == "system" {
                systems += 1;
            }
            let size = match m.get("Size").filter(|v| !v.is_empty()) {
                Some(v) => v.parse::<i64>().map_err(|_| ApiErr::new(400, "InvalidSize.ValueNotSupported", "The specified parameter DiskDeviceMapping.n.Size beyond the permitted range."))?,
                None => 0,
            };
            let snap_size = match snap {
                Some(sid) => snap_ok(sid)?.size,
                None => 0,
            };
            if size != 0 && (!(5..=32768).contains(&size) || size < snap_size) {
                return err(
                    400,
                    "InvalidSize.ValueNotSupported",
                    "The specified parameter DiskDeviceMapping.n.Size beyond the permitted range.",
                );
            }
            let dev = match m.get("Device").filter(|v| !v.is_empty()) {
                Some(d) => {
                    if !rules::device(d) || (typ == "system") != (d == "/dev/xvda") {
                        return err(
                            400,
                            "InvalidDevice.Malformed",
                            "The specified parameter DiskDeviceMapping.n.Device is not valid.",
                        );
                    }
                    d.clone()
                }
                None => {
                    if typ == "system" {
                        "/dev/xvda".into()
                    } else {
                        format!("/dev/xvd{}", (b'a' + (*n as u8).min(25)) as char)
                    }
                }
            };
            if devices.contains(&dev) {
                return err(
                    400,
                    "InvalidDevice.InUse",
                    "The specified parameter DiskDeviceMapping.n.Device has been occupied.",
                );
            }
            devices.push(dev.clone());
            let size = if size == 0 { snap_size.max(20) } else { size };
            disks.push(ImageDisk {
                device: dev,
                disk_type: typ,
                snapshot_id: snap.cloned().unwrap_or_default(),
                size,
                ..Default::default()
            });
        }
        if systems == 0 {
            return err(400, "OperationDenied", "The specified parameter DiskDeviceMapping.n.SnapshotId does not contain system disk snapshot.");
        }
        if systems > 1 || disks.len() > 17 {
            return err(400, "OperationDenied", "The specified parameter DiskDeviceMapping.n.SnapshotId contains two or more system disk snapshots.");
        }
    } else if let Some(sid) = snapshot {
        let sn = snap_ok(sid)?;
        disks.push(ImageDisk {
            device: "/dev/xvda".into(),
            disk_type: "system".into(),
            snapshot_id: sid.into(),
            size: sn.size,
            ..Default::default()
        });
    }
    if let Some(n) = p.some("ImageName") {
        if c.name_taken(&region, n) {
            return err(
                400,
                "InvalidImageName.Duplicated",
                "The specified image name is already in use.",
            );
        }
    }
    if c.custom_images_in(&region) >= c.regions[&region].image_quota {
        return err(403, "QuotaExceed.Image", "The Image Quota exceeds.");
    }
    dry_run(
        p,
        "DryRunOperation",
        "Request validation has been passed with DryRun flag set.",
    )?;
    let total: i64 = disks.iter().map(|d| d.size).sum();
    secs += 3.0 * total as f64;
    let id = c.new_id("m-");
    let will_fail = roll_failure(c, "CreateImage");
    let rec = ImageRec {
        id: id.clone(),
        region: region.clone(),
        name: p
            .some("ImageName")
            .map(String::from)
            .unwrap_or_else(|| id.clone()),
        description: p.get("Description").unwrap_or_default().into(),
        family: p.get("ImageFamily").unwrap_or_default().into(),
        version: p.get("ImageVersion").unwrap_or_default().into(),
        owner_alias: "self".into(),
        os_type: "linux".into(),
        platform: p.some("Platform").unwrap_or("Others Linux").into(),
        architecture: arch,
        boot_mode: p.some("BootMode").unwrap_or("UEFI-Preferred").into(),
        license_type: String::new(),
        size: disks
            .iter()
            .find(|d| d.disk_type == "system")
            .map(|d| d.size)
            .unwrap_or(40),
        resource_group_id: p.some("ResourceGroupId").unwrap_or("rg-default").into(),
        tags,
        disks,
        nvme_support: "supported".into(),
        imds_support: p.some("Features.ImdsSupport").unwrap_or("v1").into(),
        started: now,
        wait_secs: 0.0,
        create_secs: secs,
        will_fail,
        deleted: false,
        cancelled: false,
        deprecated: false,
        task_id: String::new(),
        execution_id: String::new(),
        created_at: iso(now),
        copied_from: String::new(),
        shared_with: Vec::new(),
    };
    c.put_image(rec);
    Ok(json!({ "ImageId": id }))
}

fn import_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    check(
        rules::image_name,
        p.some("ImageName"),
        "InvalidImageName.Malformed",
        "The specified Image name is wrongly formed.",
    )?;
    check(
        rules::description,
        p.some("Description"),
        "InvalidDescription.Malformed",
        "The specified Image description is wrongly formed.",
    )?;
    one_of(
        p.some("Architecture"),
        &["i386", "x86_64", "arm64"],
        "InvalidArchitecture.Malformed",
        "The specified Architecture is wrongly formed.",
    )?;
    one_of(
        p.some("OSType"),
        &["windows", "linux"],
        "InvalidOSType.Malformed",
        "The specified OSType is wrongly formed.",
    )?;
    check(
        rules::import_platform,
        p.some("Platform"),
        "InvalidPlatform.Malformed",
        "The specified Platform is wrongly formed.",
    )?;
    one_of(
        p.some("BootMode"),
        &["BIOS", "UEFI"],
        "InvalidBootMode.Malformed",
        "The specified parameter \"BootMode\" is malformed.",
    )?;
    one_of(
        p.some("LicenseType"),
        &["Auto", "Aliyun", "BYOL"],
        "InvalidLicenseType.NotSupported",
        "The specified LicenseType is not supported.",
    )?;
    one_of(
        p.some("DetectionStrategy"),
        &["Standard"],
        "InvalidParameter.DetectionStrategy",
        "The specified parameter DetectionStrategy is invalid.",
    )?;
    one_of(
        p.some("Features.ImdsSupport"),
        &["v1", "v2"],
        "InvalidParameter.FeaturesImdsSupport",
        "The specified parameter Features.ImdsSupport is not supported.",
    )?;
    let arch = p.some("Architecture").unwrap_or("x86_64").to_string();
    if arch == "arm64" && p.some("BootMode") == Some("BIOS") {
        return err(
            400,
            "InvalidBootMode.NotSupport",
            "The specified parameter BootMode is not supported for current image architecture.",
        );
    }
    let os = p.some("OSType").unwrap_or("linux").to_string();
    if os == "windows" && p.some("DetectionStrategy").is_some() {
        return err(
            403,
            "ImageCheckUnsupported.WindowsImage",
            "Image check is unsupported for windows image.",
        );
    }
    let platform = p
        .some("Platform")
        .unwrap_or(if os == "windows" {
            "Other Windows"
        } else {
            "Others Linux"
        })
        .to_string();
    if arch == "arm64" && platform.starts_with("Windows") {
        return err(
            403,
            "InvalidArchitecture.PlatformUnsupported",
            "The OS platform you selected does not support the specified architecture.",
        );
    }
    let tags = p.tags("Tag");
    if tags.len() > 20 {
        return err(
            403,
            "QuotaExceed.Tags",
            "The number of specified tags exceeds the upper limit of 20.",
        );
    }
    check_tags(&tags, "TagKey.Duplication", 403)?;
    check_resource_group(c, &region, p)?;
    let maps: Vec<_> = p
        .objects("DiskDeviceMapping")
        .into_iter()
        .filter(|(n, _)| *n <= 17)
        .collect();
    if maps.is_empty() {
        return err(
            403,
            "MissingParameter.DiskDeviceMapping",
            "The specified parameter DiskDeviceMapping is not supplied.",
        );
    }
    let rw = &c.regions[&region];
    let mut disks = Vec::new();
    let mut total_gib = 0;
    for (i, (n, m)) in maps.iter().enumerate() {
        let bucket = m.get("OSSBucket").cloned().unwrap_or_default();
        let object = m.get("OSSObject").cloned().unwrap_or_default();
        if bucket.is_empty() || !rules::oss_bucket(&bucket) {
            return err(
                400,
                "InvalidOSSBucket.Malformed",
                "The specified OSS bucket is wrongly formed.",
            );
        }
        if object.is_empty() || !rules::oss_object(&object) {
            return err(
                400,
                "InvalidOSSObject.Malformed",
                "The specified OSS object is wrongly formed.",
            );
        }
        let fmt = m
            .get("Format")
            .filter(|v| !v.is_empty())
            .map(|v| v.to_uppercase());
        if let Some(f) = &fmt {
            if !["RAW", "VHD", "QCOW2", "VMDK"].contains(&f.as_str()) {
                return err(
                    400,
                    "InvalidImageFormat.Malformed",
                    "The specified Image Format is wrongly formed.",
                );
            }
        }
        // A key without a suffix (`image-web`, `tf-oss-bucket-object-key`) is imported as
        // the format given; a suffix must be an image file's.
        let lower = object.to_lowercase();
        let name = lower.rsplit('/').next().unwrap_or("");
        let ext = name.rsplit_once('.').map(|x| x.1);
        if ext.is_some_and(|e| !["raw", "vhd", "qcow2", "vmdk", "img", "qcow"].contains(&e)) {
            return err(
                400,
                "UnsupportedSuffix.OSSObject",
                "The specified OSS object suffix is not supported.",
            );
        }
        let size = m
            .get("DiskImageSize")
            .or_else(|| m.get("DiskImSize"))
            .filter(|v| !v.is_empty());
        let size = match size {
            Some(v) => v.parse::<i64>().map_err(|_| {
                ApiErr::new(
                    400,
                    "InvalidImageSize",
                    "The specified image size is invalid.",
                )
            })?,
            None => 0,
        };
        if size != 0 && !(1..=2048).contains(&size) {
            return if i == 0 {
                err(400, "InvalidImageSize", &format!("The specified image size {size} is invalid: the system disk must be 1 to 2048 GiB."))
            } else {
                err(400, "InvalidDataDiskSize", "The specified DiskDeviceMapping.N.DiskImSize should be in the specified range.")
            };
        }
        if !rw.has_bucket(&bucket) {
            return err(
                400,
                "InvalidOSSBucket.NotFound",
                "The specified OSS bucket does not exist in this region.",
            );
        }
        let Some(obj) = rw.object(&bucket, &object) else {
            return err(
                400,
                "InvalidOSSObject.NotFound",
                "The specified OSS object does not exist in this region.",
            );
        };
        if obj.size_gib == 0 {
            return err(
                400,
                "InvalidOSSObject.Size",
                "The specified OSS object size is zero.",
            );
        }
        if size != 0 && size < obj.size_gib {
            return err(
                400,
                "InvalidImageSize",
                &format!(
                    "The specified image size {size} GiB is smaller than the image file ({} GiB).",
                    obj.size_gib
                ),
            );
        }
        total_gib += obj.size_gib;
        disks.push(ImageDisk {
            device: format!("/dev/xvd{}", (b'a' + (*n as u8 - 1).min(25)) as char),
            disk_type: if i == 0 {
                "system".into()
            } else {
                "data".into()
            },
            snapshot_id: String::new(),
            size: if size == 0 { obj.size_gib.max(5) } else { size },
            format: fmt
                .unwrap_or_else(|| ext.unwrap_or("raw").to_uppercase().replace("IMG", "RAW")),
            bucket,
            object,
        });
    }
    if !rw.oss_role_authorized {
        return err(403, "NoSetRoletoECSServiceAcount", "ECS service account Have no right to access your OSS.please attach a role of access your oss to ECS service account.");
    }
    if let Some(n) = p.some("ImageName") {
        if c.name_taken(&region, n) {
            return err(
                400,
                "InvalidImageName.Duplicated",
                "The destination image is exist.",
            );
        }
    }
    if c.custom_images_in(&region) >= rw.image_quota {
        return err(403, "QuotaExceed.Image", "The Image Quota exceeds.");
    }
    dry_run(
        p,
        "DRYRUN.SUCCESS",
        "This request is a dryrun request with successful result.",
    )?;
    let now = c.now();
    let image_id = c.new_id("m-");
    let task_id = c.new_id("t-");
    let will_fail = roll_failure(c, "ImportImage");
    let wait = 60.0;
    let process = 300.0 + 20.0 * total_gib as f64;
    let rec = ImageRec {
        id: image_id.clone(),
        region: region.clone(),
        name: p
            .some("ImageName")
            .map(String::from)
            .unwrap_or_else(|| image_id.clone()),
        description: p.get("Description").unwrap_or_default().into(),
        family: String::new(),
        version: String::new(),
        owner_alias: "self".into(),
        os_type: os,
        platform,
        architecture: arch.clone(),
        boot_mode: p
            .some("BootMode")
            .unwrap_or(if arch == "arm64" { "UEFI" } else { "BIOS" })
            .into(),
        license_type: p.some("LicenseType").unwrap_or("Auto").into(),
        size: disks[0].size,
        resource_group_id: p.some("ResourceGroupId").unwrap_or("rg-default").into(),
        tags,
        disks,
        nvme_support: p
            .some("Features.NvmeSupport")
            .unwrap_or("unsupported")
            .into(),
        imds_support: p.some("Features.ImdsSupport").unwrap_or("v1").into(),
        started: now,
        wait_secs: wait,
        // The image becomes Available a few seconds after its task finishes, as on ECS.
        create_secs: process + 5.0,
        will_fail,
        deleted: false,
        cancelled: false,
        deprecated: false,
        task_id: task_id.clone(),
        execution_id: String::new(),
        created_at: iso(now),
        copied_from: String::new(),
        shared_with: Vec::new(),
    };
    c.put_image(rec);
    c.put_task(TaskRec {
        id: task_id.clone(),
        region: region.clone(),
        image_id: image_id.clone(),
        action: "ImportImage".into(),
        started: now,
        wait_secs: wait,
        process_secs: process,
        will_fail,
        cancelled_at: None,
        created_at: iso(now),
    });
    Ok(json!({ "ImageId": image_id, "TaskId": task_id, "RegionId": region }))
}

use super::rules::CONTENT_COMMANDS as COMMANDS;

fn check_content(content: &str, length_code: &str) -> R<()> {
    if content.len() > 16 * 1024 {
        return err(400, length_code, "The content exceeds 16 KB.");
    }
    let lines: Vec<&str> = content
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if lines.len() > 127 {
        return err(
            400,
            "InvalidImageTemplateCommandSize.ExceededMaxNumber",
            "The number of commands exceeds 127.",
        );
    }
    let mut froms = 0;
    for (i, l) in lines.iter().enumerate() {
        let (cmd, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
        let cmd = cmd.to_uppercase();
        if !COMMANDS.contains(&cmd.as_str()) {
            return err(
                400,
                "InvalidImageTemplateCommand.NotSupported",
                &format!("The command {cmd:?} is not supported."),
            );
        }
        if cmd == "FROM" {
            froms += 1;
            if froms > 1 {
                return err(
                    400,
                    "DuplicatedCommand.FROM",
                    "The FROM command appears more than once.",
                );
            }
            if i != 0 {
                return err(
                    400,
                    "InvalidCommandOrder.FROM",
                    "The FROM command must be the first command.",
                );
            }
        }
        if rest.trim().is_empty() && cmd != "RESTART" {
            return err(
                400,
                &format!("EmptyCommandContent.{cmd}"),
                &format!("The content of the {cmd} command is empty."),
            );
        }
        if cmd == "RESTART" && !rest.trim().is_empty() {
            return err(
                400,
                "NotEmptyCommandContent.RESTART",
                "The RESTART command takes no content.",
            );
        }
    }
    Ok(())
}

fn create_pipeline(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let bt = p.some("BaseImageType").unwrap_or_default();
    if !["IMAGE", "IMAGE_FAMILY", "OSS"].contains(&bt) {
        return err(
            400,
            "InvalidBaseImageType.NotSupportedValue",
            &format!("The specified BaseImageType {bt:?} is not supported."),
        );
    }
    check(
        rules::pipeline_name,
        p.some("Name"),
        "InvalidName.Malformed",
        "The specified Name is wrongly formed.",
    )?;
    check(
        rules::description,
        p.some("Description"),
        "InvalidDescription.Malformed",
        "The specified Description is wrongly formed.",
    )?;
    check(
        rules::image_name_prefix,
        p.some("ImageName"),
        "InvalidImageName.Malformed",
        "The specified ImageName is wrongly formed.",
    )?;
    check(
        rules::image_name_prefix,
        p.some("ImageOptions.ImageName"),
        "InvalidImageName.Malformed",
        "The specified ImageOptions.ImageName is wrongly formed.",
    )?;
    check(
        rules::image_family,
        p.some("ImageFamily"),
        "InvalidImageFamily.Malformed",
        "The format of the specified image family is invalid.",
    )?;
    check(
        rules::image_family,
        p.some("ImageOptions.ImageFamily"),
        "InvalidImageFamily.Malformed",
        "The format of the specified image family is invalid.",
    )?;
    one_of(
        p.some("NvmeSupport"),
        &["supported", "unsupported", "auto"],
        "InvalidParameter.NvmeSupport",
        "The specified parameter NvmeSupport is invalid.",
    )?;
    one_of(
        p.some("ImageOptions.ImageFeatures.NvmeSupport"),
        &["supported", "unsupported", "auto"],
        "InvalidParameter.NvmeSupport",
        "The specified parameter NvmeSupport is invalid.",
    )?;
    if let Some(v) = p.int("SystemDiskSize")? {
        if !(20..=500).contains(&v) {
            return err(
                400,
                "InvalidSystemDiskSize.NotSupportedValue",
                "The specified SystemDiskSize must be 20 to 500.",
            );
        }
    }
    if let Some(v) = p.int("InternetMaxBandwidthOut")? {
        if !(0..=100).contains(&v) {
            return err(
                400,
                "InvalidInternetMaxBandwidthOut.NotSupportedValue",
                "The specified InternetMaxBandwidthOut must be 0 to 100.",
            );
        }
    }
    let accounts = p.strings("AddAccount");
    if accounts.len() > 20 {
        return err(
            400,
            "InvalidAddAccountSize.ExceededMaxNumber",
            "At most 20 accounts may be specified.",
        );
    }
    let to_regions = p.strings("ToRegionId");
    if to_regions.len() > 20 {
        return err(
            400,
            "InvalidToRegionIdSize.ExceededMaxNumber",
            "At most 20 regions may be specified.",
        );
    }
    for r in &to_regions {
        if !c.regions.contains_key(r) {
            return err(
                404,
                "InvalidRegionId.NotFound",
                &format!("The specified region {r:?} does not exist."),
            );
        }
    }
    if let Some(b) = p.get("BuildContent") {
        check_content(b, "InvalidBuildContent.LengthExceeded").map_err(|mut e| {
            if e.code.starts_with("Invalid") || e.code.contains("Command") {
                e
            } else {
                e.code = "InvalidParameter.BuildContent".into();
                e
            }
        })?;
    }
    if let Some(t) = p.get("TestContent") {
        if t.len() > 16 * 1024 {
            return err(
                400,
                "InvalidParameter.TestContent",
                "The test content exceeds 16 KB.",
            );
        }
    }
    one_of(
        p.some("RepairMode"),
        &["Standard"],
        "InvalidParameter.RepairMode",
        "The specified parameter RepairMode is invalid.",
    )?;
    let tags = p.tags("Tag");
    check_tags(&tags, "Duplicate.TagKey", 400)?;
    check_resource_group(c, &region, p)?;
    let rw = &c.regions[&region];
    if let Some(v) = p.some("VSwitchId") {
        if !rw.vswitches.iter().any(|x| x == v) {
            return err(
                404,
                "InvalidVSwitchId.NotFound",
                "The specified VSwitchId does not exist.",
            );
        }
    }
    if let Some(t) = p.some("InstanceType") {
        if !rw.instance_types.iter().any(|x| x == t) {
            return err(
                404,
                "InvalidInstanceType.NotFound",
                "The specified instance type does not exist.",
            );
        }
    }
    let has_import = p.0.keys().any(|k| k.starts_with("ImportImageOptions."));
    match bt {
        "OSS" => {
            if !has_import {
                return err(
                    404,
                    "MissingParameter.ImportImageOptions",
                    "The specified parameter ImportImageOptions is missing.",
                );
            }
            one_of(p.some("ImportImageOptions.Architecture"), &["i386", "x86_64", "arm64"], "InvalidParameter.ImportImageOptionsArchitecture", "The specified parameter ImportImageOptions.Architecture is invalid. The correct value should be in [i386, x86_64, arm64].")?;
            one_of(p.some("ImportImageOptions.OSType"), &["windows", "linux"], "InvalidParameter.ImportImageOptionsOSType", "The specified parameter ImportImageOptions.OSType is invalid. The correct value should be in [windows, linux].")?;
            one_of(p.some("ImportImageOptions.BootMode"), &["BIOS", "UEFI"], "InvalidParameter.ImportImageOptionsBootMode", "The specified parameter ImportImageOptions.BootMode is invalid. The correct value should be in [BIOS, UEFI].")?;
            check(
                rules::import_platform,
                p.some("ImportImageOptions.Platform"),
                "InvalidParameter.ImportImageOptionsPlatform",
                "The specified parameter ImportImageOptions.Platform is invalid.",
            )?;
            one_of(p.some("ImportImageOptions.LicenseType"), &["Auto", "Aliyun", "BYOL"], "InvalidParameter.ImportImageOptionsLicenseType", "The specified parameter ImportImageOptions.LicenseType is invalid. The correct value should be in [Auto, Aliyun, BYOL].")?;
            one_of(p.some("ImportImageOptions.Features.NvmeSupport"), &["supported", "unsupported"], "InvalidParameter.ImportImageOptionsFeaturesNvmeSupport", "The specified parameter ImportImageOptions.Features.NvmeSupport is invalid. The correct value should be in [supported, unsupported].")?;
            let maps = p.objects("ImportImageOptions.DiskDeviceMappings");
            if maps.is_empty() {
                return err(
                    404,
                    "MissingParameter.ImageOptionsDiskDeviceMappings",
                    "The specified parameter ImportImageOptions.DiskDeviceMappings is missing.",
                );
            }
            if maps.len() > 17 {
                return err(400, "InvalidImportImageOptionsDiskDeviceMappings.LengthLimitExceeded", "The length of the specified parameter ImportImageOptions.DiskDeviceMappings exceeds the limit(17).");
            }
            for (_, m) in &maps {
                let b = m.get("OSSBucket").cloned().unwrap_or_default();
                let o = m.get("OSSObject").cloned().unwrap_or_default();
                if b.is_empty() {
                    return err(404, "MissingParameter.ImportImageOptionsDiskDeviceMappingsOSSBucket", "The specified parameter ImportImageOptions.DiskDeviceMappings.OSSBucket is missing.");
                }
                if o.is_empty() {
                    return err(404, "MissingParameter.ImportImageOptionsDiskDeviceMappingsOSSObject", "The specified parameter ImportImageOptions.DiskDeviceMappings.OSSObject is missing.");
                }
                if !rules::oss_bucket(&b) {
                    return err(400, "InvalidParameter.ImportImageOptionsDiskDeviceMappingsOSSBucket", "The specified parameter ImportImageOptions.DiskDeviceMappings.OSSBucket is invalid. OSSBucket supports up to 63 characters, only lowercase letters, numbers, and dashes are allowed, and cannot start or end with a dash.");
                }
                if !rules::oss_object(&o) {
                    return err(400, "InvalidParameter.ImportImageOptionsDiskDeviceMappingsOSSObject", "The specified parameter ImportImageOptions.DiskDeviceMappings.OSSObject is invalid. OSSObject supports up to 1023 characters, and cannot start with http:// or https://.");
                }
                if let Some(f) = m.get("Format").filter(|v| !v.is_empty()) {
                    if !["RAW", "VHD", "QCOW2", "VMDK"].contains(&f.to_uppercase().as_str()) {
                        return err(400, "InvalidParameter.ImportImageOptionsDiskDeviceMappingsFormat", "The specified parameter ImportImageOptions.DiskDeviceMappings.Format is invalid. The correct value should be in [RAW, VHD, QCOW2, VMDK].");
                    }
                }
                if let Some(sz) = m.get("DiskImageSize").filter(|v| !v.is_empty()) {
                    if !sz.parse::<i64>().is_ok_and(|n| (1..=2048).contains(&n)) {
                        return err(400, "InvalidOperation.DiskImageSizeExceeded", "The disk size exceeds the limit. Please check the specified parameter ImportImageOptions.DiskDeviceMappings.DiskImageSize and ImportImageOptions.DiskDeviceMappings.OSSObject. Ensure that each of them is between 1 and 2048 in size.");
                    }
                }
                if rw.object(&b, &o).is_none() {
                    return err(404, "InvalidImportImageOptionsDiskDeviceMappingsOSSObject.NotFound", "The specified ImportImageOptions.DiskDeviceMappings.OSSObject is not found in this region.");
                }
            }
            if !rw.oss_role_authorized {
                return err(403, "InvalidOperation.NoRightAccessOSS", "ECS service is not authorized to access your OSS. Check your RAM roles and policies, and ensure that ecs.aliyuncs.com is authorized to assume AliyunECSImageImportDefaultRole.");
            }
        }
        _ => {
            if has_import {
                return err(
                    400,
                    "InvalidParameterCombination",
                    "ImportImageOptions can be used only with BaseImageType OSS.",
                );
            }
            let Some(base) = p.some("BaseImage") else {
                return err(
                    400,
                    "InvalidParameterCombination",
                    "BaseImage is required when BaseImageType is IMAGE or IMAGE_FAMILY.",
                );
            };
            let found = if bt == "IMAGE" {
                c.image(&region, base).filter(|i| !i.deleted)
            } else {
                c.images
                    .values()
                    .find(|i| !i.deleted && i.region == region && i.family == base)
            };
            let Some(img) = found else {
                return err(
                    404,
                    "InvalidImage.NotFound",
                    &format!("The specified base image {base:?} is not found."),
                );
            };
            if img.os_type == "windows" {
                return err(
                    403,
                    "ImagePipeline.NotSupportWindowsInstance",
                    "Image pipeline does not support windows instance at this time.",
                );
            }
        }
    }
    if c.pipelines
        .values()
        .filter(|x| x.region == region && !x.deleted)
        .count()
        >= c.regions[&region].pipeline_quota
    {
        return err(
            400,
            "QuotaExceed.ImagePipeline",
            "The image template quota of your account in this region is used up.",
        );
    }
    let id = c.new_id("ip-");
    let now = c.now();
    let mut params: BTreeMap<String, String> = p.0.clone();
    params.remove("ClientToken");
    c.put_pipeline(PipelineRec {
        id: id.clone(),
        region,
        params,
        created_at: iso(now),
        deleted: false,
        tags,
    });
    Ok(json!({ "ImagePipelineId": id }))
}

fn pipeline_in<'a>(c: &'a Cloud, region: &str, id: Option<&str>) -> R<&'a PipelineRec> {
    let Some(id) = id else {
        return err(400, "MissingParameter", "The input parameter \"ImagePipelineId\" that is mandatory for processing this request is not supplied.");
    };
    match c.pipelines.get(id) {
        Some(pl) if pl.region == region && !pl.deleted => Ok(pl),
        _ => err(
            404,
            "InvalidImagePipeline.NotFound",
            &format!("The specified image pipeline {id} does not exist."),
        ),
    }
}

fn start_execution(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let pl = pipeline_in(c, &region, p.some("ImagePipelineId"))?.clone();
    let now = c.now();
    if c.executions
        .values()
        .any(|e| e.pipeline_id == pl.id && e.running(now))
    {
        return err(
            403,
            "OperationDenied.ImagePipelineExecutionRunning",
            "An execution of the image template is already running; wait for it to finish.",
        );
    }
    let tags = p.tags("Tag");
    check_tags(&tags, "Duplicate.TagKey", 400)?;
    let id = c.new_id("exec-");
    let will_fail = roll_failure(c, "StartImagePipelineExecution");
    let unit = 30.0;
    let total = super::world::PHASES.iter().map(|x| x.1).sum::<f64>() * unit;
    // A failing build fails half-way through BUILDING; its images end CreateFailed then.
    let fail_at = super::world::PHASES
        .iter()
        .take_while(|x| x.0 != "BUILDING")
        .map(|x| x.1)
        .sum::<f64>()
        * unit
        + super::world::PHASES
            .iter()
            .find(|x| x.0 == "BUILDING")
            .map_or(0.0, |x| x.1)
            * unit
            / 2.0;
    let prefix = pl
        .params
        .get("ImageOptions.ImageName")
        .or_else(|| pl.params.get("ImageName"))
        .cloned()
        .unwrap_or_else(|| {
            pl.params
                .get("Name")
                .cloned()
                .unwrap_or_else(|| pl.id.clone())
        });
    let name = format!("{prefix}_{id}");
    let base = pl.params.get("BaseImage").cloned().unwrap_or_default();
    let base_img = c.image(&pl.region, &base).cloned();
    let mk = |c: &mut Cloud, region: &str| -> String {
        let iid = c.new_id("m-");
        let mut rec = ImageRec {
            id: iid.clone(),
            region: region.into(),
            name: name.clone(),
            description: pl
                .params
                .get("ImageOptions.Description")
                .cloned()
                .unwrap_or_default(),
            family: pl
                .params
                .get("ImageOptions.ImageFamily")
                .or_else(|| pl.params.get("ImageFamily"))
                .cloned()
                .unwrap_or_default(),
            version: String::new(),
            owner_alias: "self".into(),
            os_type: base_img
                .as_ref()
                .map(|b| b.os_type.clone())
                .unwrap_or_else(|| "linux".into()),
            platform: base_img
                .as_ref()
                .map(|b| b.platform.clone())
                .unwrap_or_else(|| "Others Linux".into()),
            architecture: base_img
                .as_ref()
                .map(|b| b.architecture.clone())
                .unwrap_or_else(|| "x86_64".into()),
            boot_mode: "UEFI-Preferred".into(),
            license_type: String::new(),
            size: pl
                .params
                .get("SystemDiskSize")
                .and_then(|v| v.parse().ok())
                .unwrap_or(40),
            resource_group_id: "rg-default".into(),
            tags: vec![],
            disks: vec![ImageDisk {
                device: "/dev/xvda".into(),
                disk_type: "system".into(),
                size: 40,
                ..Default::default()
            }],
            nvme_support: "supported".into(),
            imds_support: "v2".into(),
            started: now,
            wait_secs: 0.0,
            create_secs: if will_fail { fail_at } else { total },
            will_fail,
            deleted: false,
            cancelled: false,
            deprecated: false,
            task_id: String::new(),
            execution_id: id.clone(),
            created_at: iso(now),
            copied_from: String::new(),
            shared_with: Vec::new(),
        };
        rec.tags = p.tags("ImageOptions.ImageTags");
        c.put_image(rec);
        iid
    };
    let image_id = mk(c, &region);
    let mut copies = Vec::new();
    let targets: Vec<String> = pl
        .params
        .iter()
        .filter(|(k, _)| k.starts_with("ToRegionId."))
        .map(|(_, v)| v.clone())
        .collect();
    for r in targets {
        if r != region {
            let cid = mk(c, &r);
            copies.push((r, cid));
        }
    }
    c.put_execution(ExecutionRec {
        id: id.clone(),
        region,
        pipeline_id: pl.id.clone(),
        image_id,
        copies,
        started: now,
        unit_secs: unit,
        will_fail,
        cancelled_at: None,
        created_at: iso(now),
        tags,
    });
    Ok(json!({ "ExecutionId": id }))
}

fn tags_json(tags: &[(String, String)]) -> serde_json::Value {
    json!({ "Tag": tags.iter().map(|(k, v)| json!({"TagKey": k, "TagValue": v})).collect::<Vec<_>>() })
}

/// One image as DescribeImages answers it, borrowed from its record and written straight
/// to text: a tick over 10,000 images answers 100 pages of these, and building each as a
/// JSON document first cost most of the cloud's time.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ImageOut<'a> {
    image_id: &'a str,
    image_name: &'a str,
    status: &'static str,
    progress: String,
    usable: bool,
    creation_time: &'a str,
    description: &'a str,
    architecture: &'a str,
    #[serde(rename = "OSType")]
    os_type: &'a str,
    platform: &'a str,
    #[serde(rename = "OSName")]
    os_name: String,
    #[serde(rename = "OSNameEn")]
    os_name_en: String,
    boot_mode: &'a str,
    size: i64,
    image_family: &'a str,
    image_version: &'a str,
    image_owner_alias: &'a str,
    image_owner_id: i64,
    is_copied: bool,
    is_self_shared: &'static str,
    is_public: bool,
    is_subscribed: bool,
    is_support_cloudinit: bool,
    is_support_io_optimized: bool,
    license_type: &'a str,
    login_as_non_root_supported: bool,
    product_code: &'static str,
    resource_group_id: &'a str,
    supplier_name: &'static str,
    usage: &'static str,
    features: FeaturesOut<'a>,
    disk_device_mappings: MappingsOut<'a>,
    tags: TagsOut<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FeaturesOut<'a> {
    nvme_support: &'a str,
    imds_support: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MappingsOut<'a> {
    disk_device_mapping: Vec<MappingOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct MappingOut<'a> {
    device: &'a str,
    #[serde(rename = "Type")]
    disk_type: &'a str,
    snapshot_id: &'a str,
    size: String,
    format: &'a str,
    #[serde(rename = "ImportOSSBucket")]
    import_oss_bucket: &'a str,
    #[serde(rename = "ImportOSSObject")]
    import_oss_object: &'a str,
    progress: String,
    remain_time: i64,
    encrypted: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagsOut<'a> {
    tag: Vec<TagOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TagOut<'a> {
    tag_key: &'a str,
    tag_value: &'a str,
}

impl<'a> ImageOut<'a> {
    fn of(i: &'a ImageRec, now: f64) -> Self {
        let (status, progress, usable) = i.status(now);
        ImageOut {
            image_id: &i.id,
            image_name: &i.name,
            status,
            progress: format!("{progress}%"),
            usable,
            creation_time: &i.created_at,
            description: &i.description,
            architecture: &i.architecture,
            os_type: &i.os_type,
            platform: &i.platform,
            os_name: format!("{} 64 bit", i.platform),
            os_name_en: format!("{} 64 bit", i.platform),
            boot_mode: &i.boot_mode,
            size: i.size,
            image_family: &i.family,
            image_version: &i.version,
            image_owner_alias: &i.owner_alias,
            image_owner_id: if i.owner_alias == "self" {
                1234567890
            } else {
                0
            },
            is_copied: !i.copied_from.is_empty(),
            is_self_shared: if i.shared_with.is_empty() { "" } else { "true" },
            is_public: i.owner_alias == "system",
            is_subscribed: false,
            is_support_cloudinit: true,
            is_support_io_optimized: true,
            license_type: &i.license_type,
            login_as_non_root_supported: false,
            product_code: "",
            resource_group_id: &i.resource_group_id,
            supplier_name: "",
            usage: "none",
            features: FeaturesOut {
                nvme_support: &i.nvme_support,
                imds_support: &i.imds_support,
            },
            disk_device_mappings: MappingsOut {
                disk_device_mapping: i
                    .disks
                    .iter()
                    .map(|d| MappingOut {
                        device: &d.device,
                        disk_type: &d.disk_type,
                        snapshot_id: &d.snapshot_id,
                        size: d.size.to_string(),
                        format: &d.format,
                        import_oss_bucket: &d.bucket,
                        import_oss_object: &d.object,
                        progress: format!("{progress}%"),
                        remain_time: 0,
                        encrypted: false,
                    })
                    .collect(),
            },
            tags: TagsOut {
                tag: i
                    .tags
                    .iter()
                    .map(|(k, v)| TagOut {
                        tag_key: k,
                        tag_value: v,
                    })
                    .collect(),
            },
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeImagesOut<'a> {
    region_id: &'a str,
    total_count: i64,
    page_number: i64,
    page_size: i64,
    images: ImagesOut<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ImagesOut<'a> {
    image: Vec<ImageOut<'a>>,
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

fn describe_images(c: &mut Cloud, p: &P) -> R<String> {
    let region = region_of(c, p)?;
    let now = c.now();
    let statuses: Vec<&str> = match p.some("Status") {
        Some(s) => s.split(',').map(str::trim).collect(),
        None => vec!["Available"],
    };
    let all = statuses.iter().any(|s| s.eq_ignore_ascii_case("ALL"));
    let ids: Option<Vec<&str>> = p
        .some("ImageId")
        .map(|v| v.split(',').map(str::trim).collect());
    let (page, size) = paging(p, 100, 10)?;
    let tags = p.tags("Tag");
    let owner = p.some("ImageOwnerAlias");
    let mut matched: Vec<&ImageRec> = Vec::new();
    let consider = |i: &'_ ImageRec| -> bool {
        if i.deleted || i.region != region {
            return false;
        }
        let st = i.status(now).0;
        if !all && !statuses.contains(&st) {
            return false;
        }
        if let Some(o) = owner {
            if i.owner_alias != o {
                return false;
            }
        }
        if let Some(n) = p.some("ImageName") {
            if !i.name.contains(n) {
                return false;
            }
        }
        if let Some(f) = p.some("ImageFamily") {
            if i.family != f {
                return false;
            }
        }
        if let Some(a) = p.some("Architecture") {
            if i.architecture != a {
                return false;
            }
        }
        if let Some(o) = p.some("OSType") {
            if i.os_type != o {
                return false;
            }
        }
        if let Some(s) = p.some("SnapshotId") {
            if !i.disks.iter().any(|d| d.snapshot_id == s) {
                return false;
            }
        }
        tags.iter().all(|(k, v)| {
            i.tags
                .iter()
                .any(|(tk, tv)| tk == k && (v.is_empty() || tv == v))
        })
    };
    match &ids {
        Some(list) => {
            for id in list {
                if let Some(i) = c.image(&region, id) {
                    if consider(i) && !matched.iter().any(|m| m.id == i.id) {
                        matched.push(i);
                    }
                }
            }
        }
        None => {
            for i in c.images.values() {
                if consider(i) {
                    matched.push(i);
                }
            }
            matched.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.id.cmp(&b.id)));
        }
    }
    let total = matched.len() as i64;
    let image = matched
        .iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .map(|i| ImageOut::of(i, now))
        .collect();
    let out = DescribeImagesOut {
        region_id: &region,
        total_count: total,
        page_number: page,
        page_size: size,
        images: ImagesOut { image },
    };
    Ok(serde_json::to_string(&out).expect("an answer serialises"))
}

fn task_json(t: &TaskRec, now: f64) -> serde_json::Value {
    let (st, _) = t.status(now);
    let finished = if matches!(st, "Finished" | "Failed") {
        iso(t.started + t.wait_secs + t.process_secs)
    } else {
        String::new()
    };
    json!({
        "TaskId": t.id, "TaskAction": t.action, "TaskStatus": st,
        "SupportCancel": if matches!(st, "Waiting" | "Processing") { "true" } else { "false" },
        "CreationTime": t.created_at, "FinishedTime": finished, "ResourceId": t.image_id,
    })
}

fn describe_tasks(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let now = c.now();
    let ids: Option<Vec<&str>> = p
        .some("TaskIds")
        .map(|v| v.split(',').map(str::trim).collect());
    if ids.as_ref().is_some_and(|l| l.len() > 100) {
        return err(
            400,
            "InvalidParameter",
            "The specified parameter \"TaskIds\" is not valid: at most 100 ids.",
        );
    }
    let resource_ids = p.strings("ResourceIds");
    let action = p.some("TaskAction");
    if let Some(a) = action {
        if ![
            "ImportImage",
            "ExportImage",
            "RedeployInstance",
            "ModifyDiskSpec",
            "ArchiveSnapshot",
        ]
        .contains(&a)
        {
            return err(
                400,
                "InvalidParameter",
                "The specified parameter \"TaskAction\" is not valid.",
            );
        }
    }
    let status = p
        .some("TaskStatus")
        .filter(|s| ["Finished", "Processing", "Failed"].contains(s));
    let (page, size) = paging(p, 100, 10)?;
    let matched: Vec<&TaskRec> = c
        .tasks
        .values()
        .filter(|t| t.region == region)
        .filter(|t| ids.as_ref().is_none_or(|l| l.contains(&t.id.as_str())))
        .filter(|t| resource_ids.is_empty() || resource_ids.contains(&t.image_id))
        .filter(|t| action.is_none_or(|a| a == t.action))
        .filter(|t| status.is_none_or(|s| t.status(now).0 == s))
        .collect();
    let total = matched.len() as i64;
    let items: Vec<serde_json::Value> = matched
        .iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .map(|t| task_json(t, now))
        .collect();
    Ok(
        json!({ "RegionId": region, "TotalCount": total, "PageNumber": page, "PageSize": size, "TaskSet": { "Task": items } }),
    )
}

fn describe_task_attribute(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let now = c.now();
    let Some(id) = p.some("TaskId") else {
        return err(400, "MissingParameter", "The input parameter \"TaskId\" that is mandatory for processing this request is not supplied.");
    };
    let Some(t) = c.tasks.get(id).filter(|t| t.region == region) else {
        return err(
            404,
            "InvalidTaskId.NotFound",
            "The specified TaskId does not exist.",
        );
    };
    let (st, progress) = t.status(now);
    let mut v = task_json(t, now);
    let failed = st == "Failed";
    let ops = if failed {
        let (code, msg) = if t.cancelled_at.is_some() {
            ("TaskCancelled", "The task was cancelled.")
        } else {
            (
                "ImportImageFailed",
                "Importing image is failed: the image file could not be converted.",
            )
        };
        vec![
            json!({"OperationStatus": "Failed", "ErrorCode": code, "ErrorMsg": msg, "RelatedItemSet": {"RelatedItem": [{"Name": "ImageId", "Value": t.image_id}]}}),
        ]
    } else {
        vec![
            json!({"OperationStatus": if st == "Finished" { "Success" } else { "Processing" }, "ErrorCode": "", "ErrorMsg": "", "RelatedItemSet": {"RelatedItem": [{"Name": "ImageId", "Value": t.image_id}]}}),
        ]
    };
    let o = v.as_object_mut().expect("an object");
    o.insert("RegionId".into(), region.into());
    o.insert("TaskProcess".into(), format!("{progress}%").into());
    o.insert("TotalCount".into(), 1.into());
    o.insert("SuccessCount".into(), i64::from(st == "Finished").into());
    o.insert("FailedCount".into(), i64::from(failed).into());
    o.insert(
        "OperationProgressSet".into(),
        json!({ "OperationProgress": ops }),
    );
    Ok(v)
}

fn cancel_task(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let now = c.now();
    let Some(id) = p.some("TaskId") else {
        return err(400, "MissingParameter", "The input parameter \"TaskId\" that is mandatory for processing this request is not supplied.");
    };
    let Some(mut t) = c.tasks.get(id).filter(|t| t.region == region).cloned() else {
        return err(
            404,
            "InvalidTaskId.NotFound",
            "The specified TaskId does not exist.",
        );
    };
    if !matches!(t.status(now).0, "Waiting" | "Processing") {
        return err(
            403,
            "IncorrectTaskStatus",
            "The current status of the task does not support this operation.",
        );
    }
    t.cancelled_at = Some(now);
    if t.action == "ImportImage" {
        if let Some(mut img) = c.images.get(&t.image_id).cloned() {
            img.cancelled = true;
            c.put_image(img);
        }
    }
    c.put_task(t);
    Ok(json!({}))
}

fn pipeline_json(pl: &PipelineRec) -> serde_json::Value {
    let g = |k: &str| pl.params.get(k).cloned().unwrap_or_default();
    let n = |k: &str, d: i64| {
        pl.params
            .get(k)
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(d)
    };
    let list = |pre: &str| -> Vec<String> {
        let mut v: Vec<(usize, String)> = pl
            .params
            .iter()
            .filter_map(|(k, val)| {
                k.strip_prefix(pre)
                    .and_then(|r| r.parse::<usize>().ok())
                    .map(|i| (i, val.clone()))
            })
            .collect();
        v.sort();
        v.into_iter().map(|x| x.1).collect()
    };
    let opt_tags = |pre: &str, kk: &str, vk: &str| -> Vec<serde_json::Value> {
        let p = P(&pl.params);
        p.tags(pre)
            .into_iter()
            .map(|(k, v)| json!({ kk: k, vk: v }))
            .collect()
    };
    let maps: Vec<serde_json::Value> = P(&pl.params)
        .objects("ImportImageOptions.DiskDeviceMappings")
        .into_iter()
        .map(|(_, m)| json!({"OSSBucket": m.get("OSSBucket"), "OSSObject": m.get("OSSObject"), "Format": m.get("Format").cloned().unwrap_or_default(), "DiskImageSize": m.get("DiskImageSize").and_then(|v| v.parse::<i64>().ok()).unwrap_or(0)}))
        .collect();
    json!({
        "ImagePipelineId": pl.id, "Name": if g("Name").is_empty() { pl.id.clone() } else { g("Name") }, "Description": g("Description"),
        "BaseImageType": g("BaseImageType"), "BaseImage": g("BaseImage"), "BuildContent": g("BuildContent"), "TestContent": g("TestContent"),
        "CreationTime": pl.created_at, "DeleteInstanceOnFailure": pl.params.get("DeleteInstanceOnFailure").map(|v| v.eq_ignore_ascii_case("true")).unwrap_or(true),
        "InstanceType": g("InstanceType"), "InternetMaxBandwidthOut": n("InternetMaxBandwidthOut", 0), "SystemDiskSize": n("SystemDiskSize", 40),
        "VSwitchId": g("VSwitchId"), "RepairMode": g("RepairMode"), "ResourceGroupId": if g("ResourceGroupId").is_empty() { "rg-default".into() } else { g("ResourceGroupId") },
        "ImageName": g("ImageName"), "ImageFamily": g("ImageFamily"), "NvmeSupport": g("NvmeSupport"),
        "AddAccounts": {"AddAccount": list("AddAccount.")}, "ToRegionIds": {"ToRegionId": list("ToRegionId.")},
        "Tags": tags_json(&pl.tags),
        "ImageOptions": {
            "ImageName": g("ImageOptions.ImageName"), "ImageFamily": g("ImageOptions.ImageFamily"), "Description": g("ImageOptions.Description"),
            "ImageFeatures": {"NvmeSupport": g("ImageOptions.ImageFeatures.NvmeSupport")},
            "ImageTags": {"ImageTag": opt_tags("ImageOptions.ImageTags", "TagKey", "TagValue")},
        },
        "ImportImageOptions": {
            "Architecture": g("ImportImageOptions.Architecture"), "BootMode": g("ImportImageOptions.BootMode"), "OSType": g("ImportImageOptions.OSType"),
            "Platform": g("ImportImageOptions.Platform"), "LicenseType": g("ImportImageOptions.LicenseType"),
            "DiskDeviceMappings": {"DiskDeviceMapping": maps},
            "ImportImageTags": {"ImportImageTag": opt_tags("ImportImageOptions.ImportImageTags", "Key", "Value")},
        },
        "AdvancedOptions": {"ImageNameSuffix": g("AdvancedOptions.ImageNameSuffix"), "RetainCloudAssistant": pl.params.get("AdvancedOptions.RetainCloudAssistant").map(|v| v.eq_ignore_ascii_case("true")).unwrap_or(false)},
    })
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

fn describe_pipelines(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let ids = p.strings("ImagePipelineId");
    if ids.len() > 20 {
        return err(
            400,
            "InvalidParameter",
            "The specified parameter \"ImagePipelineId\" is not valid: at most 20 ids.",
        );
    }
    let (start, max) = token_page(p)?;
    let matched: Vec<&PipelineRec> = c
        .pipelines
        .values()
        .filter(|pl| pl.region == region && !pl.deleted)
        .filter(|pl| ids.is_empty() || ids.contains(&pl.id))
        .filter(|pl| {
            p.some("Name")
                .is_none_or(|n| pl.params.get("Name").map(String::as_str) == Some(n))
        })
        .collect();
    let total = matched.len();
    let items: Vec<serde_json::Value> = matched
        .iter()
        .skip(start)
        .take(max)
        .map(|pl| pipeline_json(pl))
        .collect();
    let next = next_token(start, max, total);
    Ok(
        json!({ "TotalCount": total, "MaxResults": max, "NextToken": next, "ImagePipeline": { "ImagePipelineSet": items } }),
    )
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

fn describe_executions(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let now = c.now();
    let (pid, eid) = (p.some("ImagePipelineId"), p.some("ExecutionId"));
    if pid.is_none() && eid.is_none() {
        return err(400, "MissingParameter", "The input parameter \"ImagePipelineId\" or \"ExecutionId\" that is mandatory for processing this request is not supplied.");
    }
    let statuses: Option<Vec<&str>> = p
        .some("Status")
        .map(|s| s.split(',').map(str::trim).collect());
    let (start, max) = token_page(p)?;
    // Newest first, as ECS lists builds.
    let mut newest_first: Vec<&ExecutionRec> = c.executions.values().collect();
    newest_first.sort_by(|a, b| {
        b.started
            .total_cmp(&a.started)
            .then_with(|| b.id.cmp(&a.id))
    });
    let matched: Vec<&ExecutionRec> = newest_first
        .into_iter()
        .filter(|e| e.region == region)
        .filter(|e| {
            c.pipelines
                .get(&e.pipeline_id)
                .is_some_and(|pl| !pl.deleted)
        })
        .filter(|e| pid.is_none_or(|x| e.pipeline_id == x))
        .filter(|e| eid.is_none_or(|x| e.id == x))
        .filter(|e| statuses.as_ref().is_none_or(|l| l.contains(&e.status(now))))
        .collect();
    let total = matched.len();
    let items: Vec<serde_json::Value> = matched
        .iter()
        .skip(start)
        .take(max)
        .map(|e| {
            let st = e.status(now);
            let (msg, code) = match st {
                "FAILED" => ("The build command failed on the intermediate instance.", "BuildFailed"),
                "CANCELLED" => ("The execution was cancelled.", ""),
                _ => ("", ""),
            };
            let modified = iso(now.min(e.started + e.total_secs()));
            json!({
                "ExecutionId": e.id, "ImagePipelineId": e.pipeline_id, "Status": st,
                // The image exists from the end of the build on, and a failed build's
                // CreateFailed image is reported too, so that it can be cleaned up.
                "ImageId": if matches!(st, "SUCCESS" | "RELEASING" | "DISTRIBUTING" | "TESTING" | "TEST_FAILED" | "FAILED" | "PARTITION_SUCCESS") { e.image_id.clone() } else { String::new() },
                "Message": msg, "ErrorCode": code, "CreationTime": e.created_at, "ModifiedTime": modified,
                "ResourceGroupId": "rg-default", "Tags": tags_json(&e.tags),
            })
        })
        .collect();
    let next = next_token(start, max, total);
    Ok(
        json!({ "TotalCount": total, "MaxResults": max, "NextToken": next, "ImagePipelineExecution": { "ImagePipelineExecutionSet": items } }),
    )
}

fn cancel_execution(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let now = c.now();
    let Some(id) = p.some("ExecutionId") else {
        return err(400, "MissingParameter", "The input parameter \"ExecutionId\" that is mandatory for processing this request is not supplied.");
    };
    let Some(mut e) = c.executions.get(id).filter(|e| e.region == region).cloned() else {
        return err(
            404,
            "InvalidExecutionId.NotFound",
            "The specified ExecutionId does not exist.",
        );
    };
    if !matches!(e.status(now), "PREPARING" | "REPAIRING" | "BUILDING") {
        return err(
            403,
            "IncorrectStatus.Execution",
            "The execution can be cancelled only while it is PREPARING, REPAIRING or BUILDING.",
        );
    }
    e.cancelled_at = Some(now);
    let mut ids = vec![e.image_id.clone()];
    ids.extend(e.copies.iter().map(|x| x.1.clone()));
    for iid in ids {
        if let Some(mut img) = c.images.get(&iid).cloned() {
            img.deleted = true;
            c.put_image(img);
        }
    }
    c.put_execution(e);
    Ok(json!({}))
}

fn delete_pipeline(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let now = c.now();
    let mut pl = pipeline_in(c, &region, p.some("ImagePipelineId"))?.clone();
    if c.executions
        .values()
        .any(|e| e.pipeline_id == pl.id && e.running(now))
    {
        return err(
            403,
            "OperationDenied.ImagePipelineExecutionRunning",
            "The image template has a running execution; wait until it ends or cancel it.",
        );
    }
    pl.deleted = true;
    c.put_pipeline(pl);
    Ok(json!({}))
}

fn image_in(c: &Cloud, region: &str, id: Option<&str>) -> R<ImageRec> {
    let Some(id) = id else {
        return err(400, "MissingParameter", "The input parameter \"ImageId\" that is mandatory for processing this request is not supplied.");
    };
    match c.images.get(id) {
        Some(i) if i.region == region && !i.deleted && i.owner_alias == "self" => Ok(i.clone()),
        _ => err(
            404,
            "InvalidImageId.NotFound",
            &format!("The specified ImageId {id} does not exist."),
        ),
    }
}

fn modify_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let mut img = image_in(c, &region, p.some("ImageId"))?;
    image_names(p)?;
    check(
        rules::image_family,
        p.some("ImageFamily"),
        "InvalidImageFamily.Malformed",
        "The format of the specified image family is invalid.",
    )?;
    one_of(
        p.some("BootMode"),
        &["BIOS", "UEFI", "UEFI-Preferred"],
        "InvalidBootMode.Malformed",
        "The specified parameter BootMode is invalid.",
    )?;
    one_of(
        p.some("LicenseType"),
        &["BYOL", "Auto", "Aliyun"],
        "InvalidLicenseType.NotSupported",
        "The specified LicenseType is not supported.",
    )?;
    one_of(
        p.some("Status"),
        &["Deprecated", "Available"],
        "InvalidStatus.ValueNotSupported",
        "The specified Status is not supported.",
    )?;
    if let Some(n) = p.some("ImageName") {
        if n != img.name && c.name_taken(&region, n) {
            return err(
                400,
                "InvalidImageName.Duplicated",
                "The specified image name is already in use.",
            );
        }
        img.name = n.into();
    }
    if let Some(d) = p.get("Description") {
        img.description = d.into();
    }
    if let Some(f) = p.get("ImageFamily") {
        img.family = f.into();
    }
    if let Some(b) = p.some("BootMode") {
        img.boot_mode = b.into();
    }
    if let Some(l) = p.some("LicenseType") {
        img.license_type = l.into();
    }
    if let Some(s) = p.some("Status") {
        img.deprecated = s == "Deprecated";
    }
    if let Some(v) = p.some("Features.NvmeSupport") {
        img.nvme_support = v.into();
    }
    if let Some(v) = p.some("Features.ImdsSupport") {
        if img.imds_support == "v2" && v == "v1" {
            return err(
                400,
                "InvalidParameter.FeaturesImdsSupport",
                "The metadata access mode cannot be changed from v2 to v1.",
            );
        }
        img.imds_support = v.into();
    }
    c.put_image(img);
    Ok(json!({}))
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

/// Applies `edit` to the tags of one image or image pipeline and stores the
/// object again; the shared half of TagResources and UntagResources.
fn edit_tags(
    c: &mut Cloud,
    region: &str,
    rt: &str,
    id: &str,
    edit: &dyn Fn(&mut Tags) -> R<()>,
) -> R<()> {
    match rt {
        "image" => {
            let mut img = image_in(c, region, Some(id))?;
            edit(&mut img.tags)?;
            c.put_image(img);
        }
        "imagepipeline" => {
            let mut pl = pipeline_in(c, region, Some(id))?.clone();
            edit(&mut pl.tags)?;
            c.put_pipeline(pl);
        }
        "imagecomponent" => {
            let mut x = component_in(c, region, id)?;
            edit(&mut x.tags)?;
            c.put_component(x);
        }
        other => {
            return err(
                400,
                "InvalidResourceType.NotSupported",
                &format!("The specified ResourceType {other:?} is not supported."),
            )
        }
    }
    Ok(())
}

fn tag_resources(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let rt = p.some("ResourceType").unwrap_or_default();
    let ids = resource_ids(p)?;
    let tags = p.tags("Tag");
    if tags.is_empty() {
        return err(400, "MissingParameter", "The input parameter \"Tag\" that is mandatory for processing this request is not supplied.");
    }
    check_tags(&tags, "Duplicate.TagKey", 400)?;
    let merge = |have: &mut Tags| -> R<()> {
        for (k, v) in &tags {
            have.retain(|(tk, _)| tk != k);
            have.push((k.clone(), v.clone()));
        }
        if have.len() > 20 {
            return err(
                403,
                "QuotaExceed.Tags",
                "The number of tags on the resource would exceed 20.",
            );
        }
        Ok(())
    };
    for id in ids {
        edit_tags(c, &region, rt, &id, &merge)?;
    }
    Ok(json!({}))
}

fn untag_resources(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let rt = p.some("ResourceType").unwrap_or_default();
    let ids = resource_ids(p)?;
    let keys = p.strings("TagKey");
    let all = p.bool("All")?.unwrap_or(false);
    if keys.len() > 20 {
        return err(
            400,
            "InvalidParameter",
            "At most 20 TagKey values may be given.",
        );
    }
    let drop = |tags: &mut Tags| -> R<()> {
        if keys.is_empty() {
            if all {
                tags.clear();
            }
        } else {
            tags.retain(|(k, _)| !keys.contains(k));
        }
        Ok(())
    };
    for id in ids {
        edit_tags(c, &region, rt, &id, &drop)?;
    }
    Ok(json!({}))
}

fn join_resource_group(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let rt = p.some("ResourceType");
    if !matches!(rt, Some("image" | "imagecomponent")) {
        return err(
            400,
            "InvalidResourceType.NotSupported",
            "The specified ResourceType is not supported.",
        );
    }
    let Some(rg) = p.some("ResourceGroupId") else {
        return err(400, "MissingParameter", "The input parameter \"ResourceGroupId\" that is mandatory for processing this request is not supplied.");
    };
    check_resource_group(c, &region, p)?;
    if rt == Some("imagecomponent") {
        let mut x = component_in(c, &region, p.some("ResourceId").unwrap_or_default())?;
        x.resource_group_id = rg.into();
        c.put_component(x);
        return Ok(json!({}));
    }
    let mut img = image_in(c, &region, p.some("ResourceId"))?;
    img.resource_group_id = rg.into();
    c.put_image(img);
    Ok(json!({}))
}

fn component_in(c: &Cloud, region: &str, id: &str) -> R<super::world::ComponentRec> {
    match c.components.get(id) {
        Some(x) if x.region == region && !x.deleted => Ok(x.clone()),
        _ => err(
            404,
            "ImageComponent.NotFound",
            "The specified image component ID is not found.",
        ),
    }
}

fn delete_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let now = c.now();
    let Some(id) = p.some("ImageId") else {
        return err(400, "MissingParameter", "The input parameter \"ImageId\" that is mandatory for processing this request is not supplied.");
    };
    let _force = p.bool("Force")?;
    let Some(mut img) = c
        .images
        .get(id)
        .filter(|i| i.region == region && !i.deleted)
        .cloned()
    else {
        // ECS ignores a delete of an image that does not exist.
        return Ok(json!({}));
    };
    if img.owner_alias != "self" {
        return err(
            403,
            "InvalidImageId.NotOwned",
            "The specified image is not a custom image of this account.",
        );
    }
    if img.in_progress(now) {
        if !img.task_id.is_empty() {
            return err(403, "ImageIsImporting", "The specified Image is importing.");
        }
        if !img.copied_from.is_empty() {
            return err(
                403,
                "OperationDenied.ImageCopying",
                "The operation is denied because the image is being copied.",
            );
        }
        return err(
            403,
            "ImageIsCreating",
            "The specified image is being created.",
        );
    }
    if !img.shared_with.is_empty() {
        return err(
            403,
            "ImageUseShared",
            "The specified image is shared to other accounts; cancel the sharing first.",
        );
    }
    img.deleted = true;
    c.put_image(img);
    Ok(json!({}))
}

/// 400 `IncorrectImageStatus`: the image is not in a status the operation accepts.
fn incorrect_image_status<T>() -> R<T> {
    err(
        400,
        "IncorrectImageStatus",
        "The current status of the image does not support this operation.",
    )
}

/// CopyImage: called in the source region; the copy appears in the destination region at
/// once (`Creating`) and takes time proportional to the image's size.
fn copy_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let now = c.now();
    let src = image_in(c, &region, p.some("ImageId"))?;
    if src.status(now).0 != "Available" {
        return incorrect_image_status();
    }
    let Some(dest) = p.some("DestinationRegionId") else {
        return err(400, "MissingParameter", "The input parameter \"DestinationRegionId\" that is mandatory for processing this request is not supplied.");
    };
    if !c.regions.contains_key(dest) {
        return err(
            404,
            "InvalidRegionId.NotFound",
            "The specified DestinationRegionId does not exist.",
        );
    }
    check(
        rules::image_name,
        p.some("DestinationImageName"),
        "InvalidImageName.Malformed",
        "The specified image name is wrongly formed.",
    )?;
    check(
        rules::description,
        p.some("DestinationDescription"),
        "InvalidDescription.Malformed",
        "The specified description is wrongly formed.",
    )?;
    let encrypted = p.bool("Encrypted")?.unwrap_or(false);
    let tags = p.tags("Tag");
    check_tags(&tags, "Duplicate.TagKey", 400)?;
    if let Some(n) = p.some("DestinationImageName") {
        if c.name_taken(dest, n) {
            return err(
                400,
                "InvalidImageName.Duplicated",
                "The specified image name is already in use.",
            );
        }
    }
    if c.custom_images_in(dest) >= c.regions[dest].image_quota {
        return err(403, "QuotaExceed.Image", "The Image Quota exceeds.");
    }
    let id = c.new_id("m-");
    let mut rec = src.clone();
    rec.id = id.clone();
    rec.region = dest.to_string();
    rec.name = p
        .some("DestinationImageName")
        .map(String::from)
        .unwrap_or_else(|| id.clone());
    rec.description = p.get("DestinationDescription").unwrap_or_default().into();
    rec.tags = tags;
    rec.started = now;
    rec.wait_secs = 0.0;
    rec.create_secs = 60.0 + 6.0 * src.size as f64 + if encrypted { 60.0 } else { 0.0 };
    rec.will_fail = false;
    rec.task_id = String::new();
    rec.execution_id = String::new();
    rec.created_at = iso(now);
    rec.copied_from = src.id.clone();
    rec.shared_with = Vec::new();
    c.put_image(rec);
    Ok(json!({ "ImageId": id }))
}

/// ExportImage: an export task writes `<prefix><image id>_system.<format>` into a bucket of
/// the image's region, in time proportional to the image's size.
fn export_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let now = c.now();
    let img = image_in(c, &region, p.some("ImageId"))?;
    let Some(bucket) = p.some("OSSBucket") else {
        return err(400, "MissingParameter", "The input parameter \"OSSBucket\" that is mandatory for processing this request is not supplied.");
    };
    if !c.regions[&region].has_bucket(bucket) {
        return err(
            404,
            "InvalidOSSBucket.NotFound",
            "The specified OSS bucket does not exist in this region.",
        );
    }
    if let Some(prefix) = p.some("OSSPrefix") {
        if prefix.is_empty()
            || prefix.len() > 30
            || !prefix.chars().all(|ch| ch.is_ascii_alphanumeric())
        {
            return err(
                400,
                "InvalidOSSPrefix.Malformed",
                "The specified OSSPrefix is wrongly formed: 1 to 30 letters and digits.",
            );
        }
    }
    one_of(
        p.some("ImageFormat"),
        &["raw", "vhd", "qcow2", "vmdk", "vdi"],
        "InvalidImageFormat.NotSupported",
        "The specified ImageFormat is not supported.",
    )?;
    if img.status(now).0 != "Available" {
        return incorrect_image_status();
    }
    if !c.regions[&region].oss_role_authorized {
        return err(
            403,
            "NoSetRoletoECSServiceAcount",
            "The ECS service account has no role to write to OSS.",
        );
    }
    let task_id = c.new_id("t-");
    let format = p.some("ImageFormat").unwrap_or("raw");
    let object = format!(
        "{}{}_system.{format}",
        p.some("OSSPrefix").unwrap_or(""),
        img.id
    );
    let mut r = c.regions[&region].clone();
    r.oss.push(super::world::OssObject {
        bucket: bucket.into(),
        object,
        size_gib: img.size,
    });
    c.put_region(r);
    c.put_task(TaskRec {
        id: task_id.clone(),
        region: region.clone(),
        image_id: img.id.clone(),
        action: "ExportImage".into(),
        started: now,
        wait_secs: 5.0,
        process_secs: 30.0 + 3.0 * img.size as f64,
        will_fail: false,
        cancelled_at: None,
        created_at: iso(now),
    });
    Ok(json!({ "TaskId": task_id, "RegionId": region }))
}

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

/// DescribeSnapshots: the region's snapshots, by `SnapshotIds`, `Status`, paged.
fn describe_snapshots(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let ids = id_array(p, "SnapshotIds")?;
    let status = p.some("Status").filter(|s| *s != "all");
    let (page, size) = paging(p, 100, 10)?;
    let matched: Vec<serde_json::Value> = c.regions[&region]
        .snapshots
        .values()
        .filter(|s| ids.as_ref().is_none_or(|l| l.contains(&s.id)))
        .filter(|s| status.is_none_or(|st| st == s.status))
        .map(|s| {
            json!({
                "SnapshotId": s.id, "SnapshotName": "", "Status": s.status, "Progress": if s.status == "accomplished" { "100%" } else { "50%" },
                "SourceDiskType": s.disk_type, "SourceDiskSize": s.size.to_string(), "CreationTime": format!("{}T00:00:00Z", s.created),
                "Usage": "none", "Encrypted": false, "Tags": {"Tag": []},
            })
        })
        .collect();
    let total = matched.len();
    let items: Vec<serde_json::Value> = matched
        .into_iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .collect();
    Ok(
        json!({ "TotalCount": total, "PageNumber": page, "PageSize": size, "Snapshots": { "Snapshot": items } }),
    )
}

/// DeleteSnapshot, as the API page has it: a snapshot that does not exist is ignored; one
/// that a custom image was made from (one still being created included) is refused with
/// 403 `SnapshotCreatedImage` until those images are deleted, `Force` or not (Force only
/// lets go of disks created from it, which this world does not make); one still being
/// created is cancelled by the delete.
fn delete_snapshot(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let Some(id) = p.some("SnapshotId") else {
        return err(
            400,
            "MissingParameter",
            "The input parameter SnapshotId that is mandatory for processing this request is not supplied.",
        );
    };
    let _force = p.bool("Force")?;
    if !c.regions[&region].snapshots.contains_key(id) {
        return Ok(json!({}));
    }
    let used = c
        .images
        .values()
        .any(|i| i.region == region && !i.deleted && i.disks.iter().any(|d| d.snapshot_id == id));
    if used {
        return err(
            403,
            "SnapshotCreatedImage",
            "The snapshot has been used to create user defined image(s).",
        );
    }
    let mut r = c.regions[&region].clone();
    r.snapshots.remove(id);
    c.put_region(r);
    Ok(json!({}))
}

/// DescribeInstances: the region's instances, by `InstanceIds`, `Status`, paged.
fn describe_instances(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let ids = id_array(p, "InstanceIds")?;
    let status = p.some("Status");
    let (page, size) = paging(p, 100, 10)?;
    let matched: Vec<serde_json::Value> = c.regions[&region]
        .instances
        .values()
        .filter(|i| ids.as_ref().is_none_or(|l| l.contains(&i.id)))
        .filter(|i| status.is_none_or(|st| st == i.status))
        .map(|i| {
            json!({
                "InstanceId": i.id, "InstanceName": i.id, "Status": i.status, "RegionId": region, "ZoneId": format!("{region}-a"),
                "OSType": "linux", "OSName": format!("{} 64 bit", i.platform), "InstanceType": "ecs.g7.large",
                "OperationLocks": {"LockReason": if i.lock_reason.is_empty() { vec![] } else { vec![json!({"LockReason": i.lock_reason})] }},
            })
        })
        .collect();
    let total = matched.len();
    let items: Vec<serde_json::Value> = matched
        .into_iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .collect();
    Ok(
        json!({ "TotalCount": total, "PageNumber": page, "PageSize": size, "Instances": { "Instance": items } }),
    )
}

/// ListTagResources: the tags of images, pipelines and components, by `ResourceId.N` (at
/// most 50) or `Tag.N`, token-paged.
fn list_tag_resources(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let Some(rtype) = p.some("ResourceType") else {
        return err(400, "MissingParameter", "The input parameter \"ResourceType\" that is mandatory for processing this request is not supplied.");
    };
    let ids = p.strings("ResourceId");
    if ids.len() > 50 {
        return err(
            400,
            "InvalidParameter",
            "At most 50 ResourceId values are allowed.",
        );
    }
    let wanted = p.tags("Tag");
    let tagged: Vec<(String, Vec<(String, String)>)> = match rtype {
        "image" => c
            .images
            .values()
            .filter(|i| i.region == region && !i.deleted && i.owner_alias == "self")
            .map(|i| (i.id.clone(), i.tags.clone()))
            .collect(),
        "imagepipeline" => c
            .pipelines
            .values()
            .filter(|x| x.region == region && !x.deleted)
            .map(|x| (x.id.clone(), x.tags.clone()))
            .collect(),
        "imagecomponent" => c
            .components
            .values()
            .filter(|x| x.region == region && !x.deleted)
            .map(|x| (x.id.clone(), x.tags.clone()))
            .collect(),
        _ => {
            return err(
                400,
                "InvalidResourceType.NotFound",
                "The specified ResourceType is not supported.",
            )
        }
    };
    let mut rows = Vec::new();
    for (id, tags) in tagged {
        if !ids.is_empty() && !ids.contains(&id) {
            continue;
        }
        if !wanted.iter().all(|w| tags.contains(w)) {
            continue;
        }
        for (k, v) in tags {
            rows.push(json!({"ResourceId": id, "ResourceType": rtype, "TagKey": k, "TagValue": v}));
        }
    }
    let (start, max) = token_page(p)?;
    let total = rows.len();
    let page: Vec<serde_json::Value> = rows.into_iter().skip(start).take(max).collect();
    Ok(
        json!({ "TagResources": { "TagResource": page }, "NextToken": next_token(start, max, total) }),
    )
}

/// CancelCopyImage: called in the destination region; a copy in progress is removed.
fn cancel_copy_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let now = c.now();
    let mut img = image_in(c, &region, p.some("ImageId"))?;
    if img.copied_from.is_empty() || !img.in_progress(now) {
        return incorrect_image_status();
    }
    img.deleted = true;
    c.put_image(img);
    Ok(json!({}))
}

/// ModifyImageSharePermission: `AddAccount.N` and `RemoveAccount.N` (at most 10 each); a
/// custom image is shared with at most 50 accounts.
fn modify_share(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let now = c.now();
    let mut img = image_in(c, &region, p.some("ImageId"))?;
    let (add, remove) = (p.strings("AddAccount"), p.strings("RemoveAccount"));
    if add.len() > 10 || remove.len() > 10 {
        return err(
            400,
            "InvalidParameter",
            "At most 10 accounts can be added or removed at once.",
        );
    }
    let known = &c.regions[&region].accounts;
    for a in add.iter().chain(&remove) {
        if a.is_empty()
            || !a.chars().all(|ch| ch.is_ascii_digit())
            || (!known.is_empty() && !known.contains(a))
        {
            return err(
                400,
                "InvalidAccount.NotFound",
                "The specified account does not exist.",
            );
        }
    }
    if !add.is_empty() && img.status(now).0 != "Available" {
        return incorrect_image_status();
    }
    for a in add {
        if !img.shared_with.contains(&a) {
            img.shared_with.push(a);
        }
    }
    img.shared_with.retain(|a| !remove.contains(a));
    if img.shared_with.len() > 50 {
        return err(
            403,
            "QuotaExceed.ShareImageUser",
            "The number of accounts the image is shared with exceeds 50.",
        );
    }
    c.put_image(img);
    Ok(json!({}))
}

/// DescribeImageSharePermission: the accounts a custom image is shared with, paged.
fn describe_share(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let img = image_in(c, &region, p.some("ImageId"))?;
    let (page, size) = paging(p, 100, 10)?;
    let accounts: Vec<serde_json::Value> = img
        .shared_with
        .iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .map(|a| json!({"AliyunId": a, "SharedTime": img.created_at}))
        .collect();
    Ok(json!({
        "ImageId": img.id, "RegionId": region, "TotalCount": img.shared_with.len(),
        "PageNumber": page, "PageSize": size,
        "Accounts": {"Account": accounts}, "ShareGroups": {"ShareGroup": []},
    }))
}

fn component_json(x: &super::world::ComponentRec) -> serde_json::Value {
    json!({
        "ImageComponentId": x.id, "Name": x.name, "Content": x.content, "ComponentType": x.component_type,
        "SystemType": x.system_type, "ComponentVersion": x.version, "Description": x.description,
        "ResourceGroupId": x.resource_group_id, "CreationTime": x.created_at, "Owner": "SELF",
        "Tags": tags_json(&x.tags),
    })
}

/// CreateImageComponent: the content follows the same command rules as a pipeline's.
fn create_component(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let Some(content) = p.some("Content") else {
        return err(400, "MissingParameter", "The input parameter \"Content\" that is mandatory for processing this request is not supplied.");
    };
    check_content(content, "InvalidContent.LengthLimitExceeded")?;
    one_of(
        p.some("ComponentType"),
        &["Build", "Test"],
        "InvalidComponentType.Malformed",
        "The specified ComponentType is not valid.",
    )?;
    one_of(
        p.some("SystemType"),
        &["Linux", "Windows"],
        "InvalidSystemType.Malformed",
        "The specified SystemType is not valid.",
    )?;
    check(
        rules::component_name,
        p.some("Name"),
        "InvalidName.Malformed",
        "The specified Name is wrongly formed.",
    )?;
    check(
        rules::description,
        p.some("Description"),
        "InvalidDescription.Malformed",
        "The specified description is wrongly formed.",
    )?;
    check(
        rules::component_version,
        p.some("ComponentVersion"),
        "InvalidComponentVersion.Malformed",
        "The specified ComponentVersion is wrongly formed.",
    )?;
    let tags = p.tags("Tag");
    check_tags(&tags, "Duplicate.TagKey", 400)?;
    check_resource_group(c, &region, p)?;
    let now = c.now();
    let id = c.new_id("ic-");
    let name = p
        .some("Name")
        .map(String::from)
        .unwrap_or_else(|| id.clone());
    let version = match p.some("ComponentVersion") {
        Some(v) => v.to_string(),
        None => {
            let major = c
                .components
                .values()
                .filter(|x| x.region == region && x.name == name && !x.deleted)
                .filter_map(|x| x.version.split('.').next()?.parse::<u64>().ok())
                .max()
                .unwrap_or(0);
            format!("{}.0.0", major + 1)
        }
    };
    if c.components
        .values()
        .any(|x| x.region == region && x.name == name && x.version == version && !x.deleted)
    {
        return err(
            400,
            "InvalidComponentVersion.Duplicated",
            "The specified component name and version already exist.",
        );
    }
    let rec = super::world::ComponentRec {
        id: id.clone(),
        region,
        name,
        content: content.to_string(),
        component_type: p.some("ComponentType").unwrap_or("Build").into(),
        system_type: p.some("SystemType").unwrap_or("Linux").into(),
        version,
        description: p.get("Description").unwrap_or_default().into(),
        resource_group_id: p.some("ResourceGroupId").unwrap_or("rg-default").into(),
        tags,
        created_at: iso(now),
        deleted: false,
    };
    c.put_component(rec);
    Ok(json!({ "ImageComponentId": id }))
}

/// DescribeImageComponents: by `ImageComponentId.N` (at most 20), by `Name`, or all,
/// paged with `NextToken`/`MaxResults`.
fn describe_components(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let ids = p.strings("ImageComponentId");
    if ids.len() > 20 {
        return err(
            400,
            "InvalidParameter",
            "At most 20 ImageComponentId values are allowed.",
        );
    }
    let name = p.some("Name");
    one_of(
        p.some("Owner"),
        &["SELF", "ALIYUN"],
        "InvalidOwner.Malformed",
        "The specified Owner is not valid.",
    )?;
    let alibaba = p.some("Owner") == Some("ALIYUN");
    let all: Vec<serde_json::Value> = c
        .components
        .values()
        .filter(|x| x.region == region && !x.deleted && !alibaba)
        .filter(|x| ids.is_empty() || ids.contains(&x.id))
        .filter(|x| name.is_none_or(|n| x.name == n))
        .map(component_json)
        .collect();
    let (start, max) = token_page(p)?;
    let total = all.len();
    let page: Vec<serde_json::Value> = all.into_iter().skip(start).take(max).collect();
    Ok(json!({
        "ImageComponent": {"ImageComponentSet": page},
        "TotalCount": total, "MaxResults": max, "NextToken": next_token(start, max, total),
    }))
}

/// DeleteImageComponent.
fn delete_component(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let Some(id) = p.some("ImageComponentId") else {
        return err(400, "MissingParameter", "The input parameter \"ImageComponentId\" that is mandatory for processing this request is not supplied.");
    };
    let Some(mut x) = c
        .components
        .get(id)
        .filter(|x| x.region == region && !x.deleted)
        .cloned()
    else {
        return err(
            404,
            "ImageComponent.NotFound",
            "The specified image component ID is not found.",
        );
    };
    x.deleted = true;
    c.put_component(x);
    Ok(json!({}))
}

fn describe_regions(c: &mut Cloud) -> R<serde_json::Value> {
    let regions: Vec<serde_json::Value> = c
        .regions
        .keys()
        .map(|r| {
            let ep = if r == "cn-hangzhou" {
                "ecs.aliyuncs.com".to_string()
            } else {
                format!("ecs.{r}.aliyuncs.com")
            };
            json!({"RegionId": r, "LocalName": r, "RegionEndpoint": ep, "Status": "available"})
        })
        .collect();
    Ok(json!({ "Regions": { "Region": regions } }))
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
