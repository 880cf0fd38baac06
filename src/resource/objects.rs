//! The objects a configuration names by id and does not manage — the snapshot or instance an
//! image is made from, the image a copy, share or export starts from, a pipeline's
//! components, the pipeline a build runs, a copy's source region — and the rules
//! of the seed pages about each, so that a plan reports a missing snapshot or a locked
//! instance before anything is created.
//!
//! A kind says which of its attributes name which [`Sort`] ([`Reference`]); a sort says how
//! its objects are read in batches (a [`Lookup`], as refresh and the poller read) and judges
//! what the cloud answered ([`Finding`]). The planner and apply only group, fetch and report.

use super::image::IMAGES;
use super::kind::Lookup;
use crate::cloud::client::Client;
use crate::cloud::error::Error;
use futures_util::future::BoxFuture;
use serde_json::{json, Value as J};
use std::collections::{HashMap, HashSet};

/// What the cloud's answer about a named object means for the create that needs it.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// It can be used.
    Usable,
    /// The cloud does not have it.
    Absent,
    /// It will be usable when an operation under way ends (an instance Starting, a snapshot
    /// still being made): a warning at plan, waited for at apply.
    Transitional(String),
    /// It cannot be used: what the cloud says about it, and the error the API would answer.
    Refused {
        /// What is wrong, in the cloud's words (status, lock, creation date).
        why: String,
        /// The API's error code for it.
        code: &'static str,
    },
}

/// A sort of object a configuration names, and what a create needs of it.
#[derive(Debug)]
pub struct Sort {
    /// For messages: `snapshot`, `instance`, `image`.
    pub what: &'static str,
    /// How the cloud is read for it, in batches.
    pub lookup: &'static Lookup,
    /// The rules of the API pages, on one item of the lookup.
    pub judge: fn(&J) -> Finding,
    /// The API's error code for an id that does not exist.
    pub absent: &'static str,
    /// What to do about a problem.
    pub hint: &'static str,
    /// Its objects are regions: read before the others, whose look-up in a region that
    /// does not exist is skipped.
    pub is_region: bool,
}

impl PartialEq for Sort {
    fn eq(&self, other: &Sort) -> bool {
        self.what == other.what && self.lookup == other.lookup
    }
}

/// The snapshot of a CreateImage (`snapshot_id`, `disk_device_mapping.snapshot_id`).
pub static IMAGE_SNAPSHOT: Sort = Sort {
    what: "snapshot",
    lookup: &SNAPSHOTS,
    judge: judge_snapshot,
    absent: "InvalidSnapshotId.NotFound",
    hint: "check the snapshot id and the provider's region (`imgform` reads the snapshots with DescribeSnapshots)",
    is_region: false,
};

/// The instance of a CreateImage (`instance_id`).
pub static IMAGE_INSTANCE: Sort = Sort {
    what: "instance",
    lookup: &INSTANCES,
    judge: judge_instance,
    absent: "InvalidInstanceId.NotFound",
    hint: "an image is made from an instance that is Running or Stopped and not locked; check the id and the provider's region",
    is_region: false,
};

/// The image a copy, share or export starts from (the account's own).
pub static SOURCE_IMAGE: Sort = Sort {
    what: "image",
    lookup: &IMAGES,
    judge: judge_source_image,
    absent: "InvalidImageId.NotFound",
    hint: "name an image that exists in that region and is Available, or refer to an `alicloud_image` resource's id",
    is_region: false,
};

/// An Image Builder component a pipeline's content names.
pub static COMPONENT: Sort = Sort {
    what: "image component",
    lookup: &super::ecs_image_component::COMPONENTS,
    judge: |_| Finding::Usable,
    absent: "ImageComponent.NotFound",
    hint: "create it with a `alicloud_ecs_image_component` resource and refer to its id, or correct the id",
    is_region: false,
};

/// The pipeline a build runs.
pub static PIPELINE: Sort = Sort {
    what: "image pipeline",
    lookup: &super::pipeline::PIPELINES,
    judge: |_| Finding::Usable,
    absent: "InvalidImagePipeline.NotFound",
    hint:
        "create it with a `alicloud_image_pipeline` resource and refer to its id, or correct the id",
    is_region: false,
};

/// A region named as a copy's source or destination.
pub static REGION: Sort = Sort {
    what: "region",
    lookup: &REGIONS,
    judge: |_| Finding::Usable,
    absent: "InvalidRegionId.NotFound",
    hint: "name a region DescribeRegions lists (`cn-hangzhou`, `cn-shanghai`, …)",
    is_region: true,
};

/// Snapshots by id: DescribeSnapshots, 100 ids a call; for those taken of a system disk,
/// DescribeDisks of their source disks (100 a call), to find a released instance's.
pub static SNAPSHOTS: Lookup = Lookup {
    name: "snapshots",
    fetch: fetch_snapshots,
    batch: 100,
};

/// Instances by id: DescribeInstances, 100 ids a call.
pub static INSTANCES: Lookup = Lookup {
    name: "instances",
    fetch: fetch_instances,
    batch: 100,
};

/// The regions DescribeRegions lists (one call, whatever the keys).
pub static REGIONS: Lookup = Lookup {
    name: "regions",
    fetch: fetch_regions,
    batch: 10_000,
};

fn fetch_snapshots(
    c: Client,
    ids: Vec<String>,
) -> BoxFuture<'static, Result<HashMap<String, J>, Error>> {
    Box::pin(async move {
        let snaps = c.describe_snapshots_by_ids(&ids).await?;
        let system_disks: Vec<String> = snaps
            .iter()
            .filter(|s| s.source_disk_type.eq_ignore_ascii_case("system"))
            .map(|s| s.source_disk_id.clone())
            .filter(|d| !d.is_empty())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let disks: HashMap<String, crate::cloud::ops::Disk> = if system_disks.is_empty() {
            HashMap::new()
        } else {
            c.describe_disks_by_ids(&system_disks)
                .await?
                .into_iter()
                .map(|d| (d.disk_id.clone(), d))
                .collect()
        };
        Ok(snaps
            .into_iter()
            .map(|s| {
                let disk = disks.get(&s.source_disk_id);
                let item = json!({
                    "Status": s.status,
                    "Progress": s.progress,
                    "CreationTime": s.creation_time,
                    "SourceDiskType": s.source_disk_type,
                    "SourceDiskId": s.source_disk_id,
                    "SourceDisk": disk.map(|d| json!({"Type": d.disk_type, "InstanceId": d.instance_id})),
                });
                (s.snapshot_id, item)
            })
            .collect())
    })
}

fn fetch_instances(
    c: Client,
    ids: Vec<String>,
) -> BoxFuture<'static, Result<HashMap<String, J>, Error>> {
    Box::pin(async move {
        Ok(c.describe_instances_by_ids(&ids)
            .await?
            .into_iter()
            .map(|i| {
                let locks: Vec<String> = i
                    .operation_locks
                    .items
                    .into_iter()
                    .map(|l| l.lock_reason)
                    .collect();
                (i.instance_id, json!({"Status": i.status, "Locks": locks}))
            })
            .collect())
    })
}

fn fetch_regions(
    c: Client,
    _: Vec<String>,
) -> BoxFuture<'static, Result<HashMap<String, J>, Error>> {
    Box::pin(async move {
        let r: crate::cloud::ops::DescribeRegionsResponse = c
            .call(
                "DescribeRegions",
                &crate::cloud::ops::DescribeRegions::default(),
            )
            .await?;
        Ok(r.regions
            .items
            .into_iter()
            .map(|r| (r.region_id, json!({"Status": r.status})))
            .collect())
    })
}

/// CreateImage's rules on a snapshot: made after 2013-07-15 (`InvalidSnapshot.TooOld`),
/// finished (`InvalidSnapshotId.NotReady`: a wait), not taken of the system disk of an
/// instance since released (that disk became a data disk; `OperationDenied`).
fn judge_snapshot(item: &J) -> Finding {
    let created = item["CreationTime"].as_str().unwrap_or_default();
    // ISO dates compare as text; the rule's day itself is too old ("on or before").
    if !created.is_empty() && created.get(..10).is_some_and(|d| d <= "2013-07-15") {
        return Finding::Refused {
            why: format!(
                "it was created on {}, and snapshots created on or before 2013-07-15 cannot be used",
                &created[..10]
            ),
            code: "InvalidSnapshot.TooOld",
        };
    }
    let disk = &item["SourceDisk"];
    if item["SourceDiskType"]
        .as_str()
        .is_some_and(|t| t.eq_ignore_ascii_case("system"))
        && disk["Type"]
            .as_str()
            .is_some_and(|t| t.eq_ignore_ascii_case("data"))
        && disk["InstanceId"].as_str().unwrap_or_default().is_empty()
    {
        return Finding::Refused {
            why: format!(
                "it was taken of the system disk {} of an instance since released (the disk is kept as a data disk, whose snapshots cannot make images)",
                item["SourceDiskId"].as_str().unwrap_or_default()
            ),
            code: "OperationDenied",
        };
    }
    match item["Status"].as_str().unwrap_or_default() {
        "accomplished" => Finding::Usable,
        "progressing" => Finding::Transitional(format!(
            "it is still being created ({})",
            item["Progress"]
                .as_str()
                .filter(|p| !p.is_empty())
                .unwrap_or("progressing")
        )),
        other => Finding::Refused {
            why: format!("its status is {other:?}"),
            code: "InvalidSnapshotId.NotReady",
        },
    }
}

/// CreateImage's rules on an instance: Running or Stopped (Pending, Starting and Stopping
/// end in one of them: a wait), and no `security` operation lock.
fn judge_instance(item: &J) -> Finding {
    if item["Locks"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|l| l.as_str() == Some("security"))
    {
        return Finding::Refused {
            why: "it is locked for security reasons (OperationLocks: security)".into(),
            code: "InstanceLockedForSecurity",
        };
    }
    match item["Status"].as_str().unwrap_or_default() {
        "Running" | "Stopped" => Finding::Usable,
        s @ ("Pending" | "Starting" | "Stopping") => Finding::Transitional(format!("it is {s}")),
        other => Finding::Refused {
            why: format!("it is {other}, and an image is made from a Running or Stopped instance"),
            code: "IncorrectInstanceStatus",
        },
    }
}

/// A source image must be Available; one being created is waited for.
fn judge_source_image(item: &J) -> Finding {
    match item["Status"].as_str().unwrap_or_default() {
        "Available" | "Deprecated" => Finding::Usable,
        s @ ("Creating" | "Waiting") => Finding::Transitional(format!("it is {s}")),
        other => Finding::Refused {
            why: format!("it is {other}, not Available"),
            code: "InvalidImageId.NotFound",
        },
    }
}

/// The verdict on an object of `sort`, from its lookup's answer (`None`: not found).
pub fn judge(sort: &Sort, item: Option<&J>) -> Finding {
    match item {
        None => Finding::Absent,
        Some(item) => (sort.judge)(item),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_of_the_rule_day_is_too_old_and_the_next_day_is_not() {
        let snap = |created: &str| json!({"Status": "accomplished", "CreationTime": created, "SourceDiskType": "System"});
        assert!(matches!(
            judge_snapshot(&snap("2013-07-15T23:59:59Z")),
            Finding::Refused {
                code: "InvalidSnapshot.TooOld",
                ..
            }
        ));
        assert_eq!(
            judge_snapshot(&snap("2013-07-16T00:00:00Z")),
            Finding::Usable
        );
    }

    #[test]
    fn a_released_instances_system_disk_snapshot_is_refused_and_an_attached_ones_is_not() {
        let snap = |disk: J| {
            json!({"Status": "accomplished", "CreationTime": "2025-01-01T00:00:00Z",
                   "SourceDiskType": "System", "SourceDiskId": "d-1", "SourceDisk": disk})
        };
        assert!(matches!(
            judge_snapshot(&snap(json!({"Type": "data", "InstanceId": ""}))),
            Finding::Refused {
                code: "OperationDenied",
                ..
            }
        ));
        assert_eq!(
            judge_snapshot(&snap(json!({"Type": "system", "InstanceId": "i-1"}))),
            Finding::Usable
        );
        // A source disk since deleted says nothing against the snapshot.
        assert_eq!(judge_snapshot(&snap(J::Null)), Finding::Usable);
    }

    #[test]
    fn an_instance_is_judged_by_its_status_and_its_lock() {
        let inst = |s: &str, locks: J| json!({"Status": s, "Locks": locks});
        assert_eq!(judge_instance(&inst("Stopped", json!([]))), Finding::Usable);
        assert!(matches!(
            judge_instance(&inst("Stopping", json!([]))),
            Finding::Transitional(_)
        ));
        assert!(matches!(
            judge_instance(&inst("Running", json!(["security"]))),
            Finding::Refused {
                code: "InstanceLockedForSecurity",
                ..
            }
        ));
        assert!(matches!(
            judge_instance(&inst("Expired", json!([]))),
            Finding::Refused {
                code: "IncorrectInstanceStatus",
                ..
            }
        ));
    }
}
