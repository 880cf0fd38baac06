//! What images are made from, and where: DescribeRegions, DescribeSnapshots and
//! DeleteSnapshot, DescribeInstances.

use super::*;

/// DescribeSnapshots: the region's snapshots, by `SnapshotIds`, `Status`, paged.
pub(super) fn describe_snapshots(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
pub(super) fn delete_snapshot(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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
pub(super) fn describe_instances(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
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

pub(super) fn describe_regions(c: &mut Cloud) -> R<serde_json::Value> {
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
