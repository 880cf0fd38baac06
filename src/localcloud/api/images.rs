//! Custom images: CreateImage, DescribeImages, ModifyImageAttribute, DeleteImage, CopyImage
//! and CancelCopyImage, ModifyImageSharePermission and DescribeImageSharePermission, and
//! ExportImage.

use super::*;

pub(super) fn image_names(p: &P) -> R<()> {
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

pub(super) fn create_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
    let (mut disks, mut secs) = (Vec::new(), 120.0);
    if let Some(iid) = instance {
        disks = instance_disks(rw, iid, now)?;
        secs = 300.0;
    } else if !mappings.is_empty() {
        disks = mapping_disks(rw, &mappings)?;
    } else if let Some(sid) = snapshot {
        let sn = usable_snapshot(rw, sid)?;
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

/// A snapshot CreateImage may use: it exists, is finished, was made after 2013-07-15, and
/// was not taken of the system disk of an instance since released.
fn usable_snapshot<'a>(
    rw: &'a crate::localcloud::world::Region,
    id: &str,
) -> R<&'a crate::localcloud::world::Snapshot> {
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
    if s.disk_type == "system" && rw.disks.contains_key(&s.source_disk_id) {
        return err(
            403,
            "OperationDenied",
            "The specified snapshot is not allowed to create image.",
        );
    }
    Ok(s)
}

/// The disks of an image taken from instance `iid`: the instance must exist, be Running or
/// Stopped, not be locked for security, and have its system disk.
fn instance_disks(
    rw: &crate::localcloud::world::Region,
    iid: &str,
    now: crate::localcloud::world::SimTime,
) -> R<Vec<ImageDisk>> {
    let mut disks = Vec::new();
    let Some(inst) = rw.instances.get(iid) else {
        return err(
            404,
            "InvalidInstanceId.NotFound",
            &format!("The specified instance {iid} does not exist."),
        );
    };
    if inst.lock_reason == "security" {
        return err(
            400,
            "InstanceLockedForSecurity",
            "The specified operation is denied as your instance is locked for security reasons.",
        );
    }
    if !matches!(inst.status_at(now), "Running" | "Stopped") {
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
    Ok(disks)
}

/// The disks of `DiskDeviceMapping.n`: one system disk, at most 17 in all, each device
/// once, sizes no smaller than their snapshots.
fn mapping_disks(
    rw: &crate::localcloud::world::Region,
    mappings: &[(usize, BTreeMap<String, String>)],
) -> R<Vec<ImageDisk>> {
    let mut disks = Vec::new();
    let mut systems = 0;
    let mut devices: Vec<String> = Vec::new();
    for (n, m) in mappings {
        let snap = m.get("SnapshotId").filter(|v| !v.is_empty());
        let typ = match m.get("DiskType").map(String::as_str) {
            Some("system") | Some("data") => m["DiskType"].clone(),
            Some("") | None => match snap {
                Some(sid) => usable_snapshot(rw, sid)?.disk_type.clone(),
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
            Some(v) => v.parse::<i64>().map_err(|_| {
                ApiErr::new(
                    400,
                    "InvalidSize.ValueNotSupported",
                    "The specified parameter DiskDeviceMapping.n.Size beyond the permitted range.",
                )
            })?,
            None => 0,
        };
        let snap_size = match snap {
            Some(sid) => usable_snapshot(rw, sid)?.size,
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
    Ok(disks)
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ImageOut<'a> {
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
pub(super) struct FeaturesOut<'a> {
    nvme_support: &'a str,
    imds_support: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MappingsOut<'a> {
    disk_device_mapping: Vec<MappingOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct MappingOut<'a> {
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
pub(super) struct TagsOut<'a> {
    tag: Vec<TagOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct TagOut<'a> {
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
pub(super) struct DescribeImagesOut<'a> {
    region_id: &'a str,
    total_count: i64,
    page_number: i64,
    page_size: i64,
    images: ImagesOut<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub(super) struct ImagesOut<'a> {
    image: Vec<ImageOut<'a>>,
}

pub(super) fn describe_images(c: &mut Cloud, p: &P) -> R<String> {
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

pub(super) fn image_in(c: &Cloud, region: &str, id: Option<&str>) -> R<ImageRec> {
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

pub(super) fn modify_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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

pub(super) fn delete_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
pub(super) fn incorrect_image_status<T>() -> R<T> {
    err(
        400,
        "IncorrectImageStatus",
        "The current status of the image does not support this operation.",
    )
}

/// CopyImage: called in the source region; the copy appears in the destination region at
/// once (`Creating`) and takes time proportional to the image's size.
pub(super) fn copy_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
pub(super) fn export_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
    r.oss.push(crate::localcloud::world::OssObject {
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

/// CancelCopyImage: called in the destination region; a copy in progress is removed.
pub(super) fn cancel_copy_image(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
pub(super) fn modify_share(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
pub(super) fn describe_share(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
