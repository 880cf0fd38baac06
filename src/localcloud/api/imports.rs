//! ImportImage and the tasks it runs: DescribeTasks, DescribeTaskAttribute, CancelTask.

use super::*;

pub(super) fn import_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    import_enums(p)?;
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
        let (disk, gib) = import_disk(rw, i, *n, m)?;
        total_gib += gib;
        disks.push(disk);
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

/// ImportImage's enumerations and formats, each with its error code.
fn import_enums(p: &P) -> R<()> {
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
    Ok(())
}

/// One `DiskDeviceMapping.n` of ImportImage (the `i`-th, the first being the system disk):
/// the OSS object it names, its format and size, checked as ECS checks them. Returns the
/// disk and the object's size in GiB.
fn import_disk(
    rw: &crate::localcloud::world::Region,
    i: usize,
    n: usize,
    m: &BTreeMap<String, String>,
) -> R<(ImageDisk, i64)> {
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
            err(
                400,
                "InvalidDataDiskSize",
                "The specified DiskDeviceMapping.N.DiskImSize should be in the specified range.",
            )
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
    Ok((
        ImageDisk {
            device: format!("/dev/xvd{}", (b'a' + (n as u8 - 1).min(25)) as char),
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
        },
        obj.size_gib,
    ))
}

pub(super) fn task_json(t: &TaskRec, now: f64) -> serde_json::Value {
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

pub(super) fn describe_tasks(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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

pub(super) fn describe_task_attribute(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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

pub(super) fn cancel_task(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
