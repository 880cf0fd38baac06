//! What images are made from, and where: DescribeRegions, DescribeSnapshots and
//! DeleteSnapshot, DescribeInstances, DescribeDisks.

use super::*;
use std::collections::BTreeMap;

/// The records of `map` a Describe call asks for: by its id array (each id looked up, so a
/// call of 100 ids costs 100 look-ups however many the region holds), else all.
fn by_ids<'a, T>(map: &'a BTreeMap<String, T>, ids: &Option<Vec<String>>) -> Vec<&'a T> {
    match ids {
        Some(ids) => {
            let mut seen = std::collections::HashSet::new();
            ids.iter()
                .filter(|id| seen.insert(id.as_str()))
                .filter_map(|id| map.get(id))
                .collect()
        }
        None => map.values().collect(),
    }
}

/// One page of `matched`, with the paging fields under `key.item`.
fn page_of(
    matched: Vec<serde_json::Value>,
    page: i64,
    size: i64,
    key: &str,
    item: &str,
) -> serde_json::Value {
    let total = matched.len();
    let items: Vec<serde_json::Value> = matched
        .into_iter()
        .skip(((page - 1) * size) as usize)
        .take(size as usize)
        .collect();
    json!({ "TotalCount": total, "PageNumber": page, "PageSize": size, key: { item: items } })
}

/// DescribeSnapshots: the region's snapshots, by `SnapshotIds`, `Status`, paged.
pub(super) fn describe_snapshots(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let ids = id_array(p, "SnapshotIds")?;
    let status = p.some("Status").filter(|s| *s != "all");
    let (page, size) = paging(p, 100, 10)?;
    let matched: Vec<serde_json::Value> = by_ids(&c.regions[&region].snapshots, &ids)
        .into_iter()
        .filter(|s| status.is_none_or(|st| st == s.status))
        .map(|s| {
            json!({
                "SnapshotId": s.id, "SnapshotName": "", "Status": s.status, "Progress": if s.status == "accomplished" { "100%" } else { "50%" },
                "SourceDiskId": s.source_disk_id, "SourceDiskType": s.disk_type, "SourceDiskSize": s.size.to_string(),
                "CreationTime": format!("{}T00:00:00Z", s.created), "Usage": "none", "Encrypted": false, "Tags": {"Tag": []},
            })
        })
        .collect();
    Ok(page_of(matched, page, size, "Snapshots", "Snapshot"))
}

/// DescribeDisks: the region's disks (those of its instances, and those attached to
/// none, as a released instance's system disk), by `DiskIds`, paged.
pub(super) fn describe_disks(c: &mut Cloud, p: &P) -> R<serde_json::Value> {
    let region = region_of(c, p)?;
    let ids = id_array(p, "DiskIds")?;
    let (page, size) = paging(p, 100, 10)?;
    let r = &c.regions[&region];
    let mut all: BTreeMap<String, (&crate::localcloud::world::Disk, &str)> =
        r.disks.values().map(|d| (d.id.clone(), (d, ""))).collect();
    for i in r.instances.values() {
        for d in &i.disks {
            all.insert(d.id.clone(), (d, i.id.as_str()));
        }
    }
    let matched: Vec<serde_json::Value> = by_ids(&all, &ids)
        .into_iter()
        .map(|(d, inst)| {
            json!({
                "DiskId": d.id, "Type": d.disk_type, "Size": d.size, "Category": "cloud_essd", "RegionId": region,
                "InstanceId": inst, "Status": if inst.is_empty() { "Available" } else { "In_use" },
                "Portable": d.disk_type == "data", "Tags": {"Tag": []},
            })
        })
        .collect();
    Ok(page_of(matched, page, size, "Disks", "Disk"))
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
    let now = c.now();
    let matched: Vec<serde_json::Value> = by_ids(&c.regions[&region].instances, &ids)
        .into_iter()
        .filter(|i| status.is_none_or(|st| st == i.status_at(now)))
        .map(|i| {
            json!({
                "InstanceId": i.id, "InstanceName": i.id, "Status": i.status_at(now), "RegionId": region, "ZoneId": format!("{region}-a"),
                "OSType": "linux", "OSName": format!("{} 64 bit", i.platform), "InstanceType": "ecs.g7.large",
                "OperationLocks": {"LockReason": if i.lock_reason.is_empty() { vec![] } else { vec![json!({"LockReason": i.lock_reason})] }},
            })
        })
        .collect();
    Ok(page_of(matched, page, size, "Instances", "Instance"))
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
