//! Image Builder: pipelines and their executions (builds), and image components.

use super::*;

use crate::localcloud::rules::CONTENT_COMMANDS as COMMANDS;

pub(super) fn check_content(content: &str, length_code: &str) -> R<()> {
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

pub(super) fn create_pipeline(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
        "OSS" => pipeline_import_options(rw, p, has_import)?,
        _ => pipeline_base_image(c, &region, p, bt, has_import)?,
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

/// A pipeline that imports its base image from OSS (`BaseImageType` OSS): its
/// `ImportImageOptions`, each disk's OSS object, and the import role.
fn pipeline_import_options(
    rw: &crate::localcloud::world::Region,
    p: &P,
    has_import: bool,
) -> R<()> {
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
    Ok(())
}

/// A pipeline built on an image or an image family: the base image exists, is not
/// Windows, and no `ImportImageOptions` are given.
fn pipeline_base_image(c: &Cloud, region: &str, p: &P, bt: &str, has_import: bool) -> R<()> {
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
        c.image(region, base).filter(|i| !i.deleted)
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

    Ok(())
}

pub(super) fn pipeline_in<'a>(c: &'a Cloud, region: &str, id: Option<&str>) -> R<&'a PipelineRec> {
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

pub(super) fn start_execution(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
    let total = crate::localcloud::world::PHASES
        .iter()
        .map(|x| x.1)
        .sum::<f64>()
        * unit;
    // A failing build fails half-way through BUILDING; its images end CreateFailed then.
    let fail_at = crate::localcloud::world::PHASES
        .iter()
        .take_while(|x| x.0 != "BUILDING")
        .map(|x| x.1)
        .sum::<f64>()
        * unit
        + crate::localcloud::world::PHASES
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

pub(super) fn pipeline_json(pl: &PipelineRec) -> serde_json::Value {
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

pub(super) fn describe_pipelines(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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

pub(super) fn describe_executions(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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

pub(super) fn cancel_execution(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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

pub(super) fn delete_pipeline(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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

pub(super) fn component_in(
    c: &Cloud,
    region: &str,
    id: &str,
) -> R<crate::localcloud::world::ComponentRec> {
    match c.components.get(id) {
        Some(x) if x.region == region && !x.deleted => Ok(x.clone()),
        _ => err(
            404,
            "ImageComponent.NotFound",
            "The specified image component ID is not found.",
        ),
    }
}

pub(super) fn component_json(x: &crate::localcloud::world::ComponentRec) -> serde_json::Value {
    json!({
        "ImageComponentId": x.id, "Name": x.name, "Content": x.content, "ComponentType": x.component_type,
        "SystemType": x.system_type, "ComponentVersion": x.version, "Description": x.description,
        "ResourceGroupId": x.resource_group_id, "CreationTime": x.created_at, "Owner": "SELF",
        "Tags": tags_json(&x.tags),
    })
}

/// CreateImageComponent: the content follows the same command rules as a pipeline's.
pub(super) fn create_component(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
    let rec = crate::localcloud::world::ComponentRec {
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
pub(super) fn describe_components(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
pub(super) fn delete_component(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
