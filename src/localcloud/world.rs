//! The simulated world of the local cloud: regions with instances, disks, snapshots, OSS
//! objects, public images and quotas, plus the objects users create (images, import tasks,
//! pipelines, executions).
//!
//! Asynchronous life cycles are computed from simulated time, not advanced by a background
//! task: an object records when it started and how long each phase lasts, and its status
//! at any instant is a pure function of the clock. A restart therefore resumes every
//! operation exactly where it was.

// Records of the simulated world; their fields mirror the API's fields of the same names.
#![allow(missing_docs)]

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Simulated seconds since the Unix epoch.
pub type SimTime = f64;

/// An instance of the world.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    /// `Running`, `Stopped`, `Starting`, ...
    pub status: String,
    /// `security` when locked.
    #[serde(default)]
    pub lock_reason: String,
    pub disks: Vec<Disk>,
    #[serde(default = "default_platform")]
    pub platform: String,
    /// The status a transitional `status` (Starting, Stopping) ends in, at `settles_at`;
    /// empty: `status` stays.
    #[serde(default)]
    pub becomes: String,
    #[serde(default)]
    pub settles_at: SimTime,
}

impl Instance {
    /// Its status at `now`.
    pub fn status_at(&self, now: SimTime) -> &str {
        if !self.becomes.is_empty() && now >= self.settles_at {
            &self.becomes
        } else {
            &self.status
        }
    }
}

fn default_platform() -> String {
    "Ubuntu".into()
}

/// A disk of an instance.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Disk {
    pub id: String,
    /// `system` or `data`.
    #[serde(rename = "type")]
    pub disk_type: String,
    pub size: i64,
}

/// A snapshot.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub id: String,
    /// `system` or `data`.
    pub disk_type: String,
    pub size: i64,
    /// ISO date of creation (`2013-07-15` and before is too old).
    pub created: String,
    /// `accomplished` or `progressing`.
    pub status: String,
    /// The disk it was taken of (an instance's, or one of the region's free disks).
    #[serde(default)]
    pub source_disk_id: String,
}

/// An OSS object.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OssObject {
    pub bucket: String,
    pub object: String,
    pub size_gib: i64,
}

/// A custom or public image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ImageRec {
    pub id: String,
    pub region: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub family: String,
    #[serde(default)]
    pub version: String,
    pub owner_alias: String,
    pub os_type: String,
    pub platform: String,
    pub architecture: String,
    pub boot_mode: String,
    #[serde(default)]
    pub license_type: String,
    pub size: i64,
    #[serde(default)]
    pub resource_group_id: String,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// (device, type, snapshot, size, format, bucket, object)
    #[serde(default)]
    pub disks: Vec<ImageDisk>,
    #[serde(default)]
    pub nvme_support: String,
    #[serde(default)]
    pub imds_support: String,
    /// When creation started.
    pub started: SimTime,
    /// Seconds spent `Waiting` before `Creating` (imports).
    #[serde(default)]
    pub wait_secs: f64,
    /// Seconds of `Creating`.
    pub create_secs: f64,
    /// Ends in `CreateFailed` instead of `Available`.
    #[serde(default)]
    pub will_fail: bool,
    /// Set when deleted.
    #[serde(default)]
    pub deleted: bool,
    /// Set when its import was cancelled.
    #[serde(default)]
    pub cancelled: bool,
    /// `Deprecated` by ModifyImageAttribute.
    #[serde(default)]
    pub deprecated: bool,
    /// The import task, if imported.
    #[serde(default)]
    pub task_id: String,
    /// The execution that builds it, if any.
    #[serde(default)]
    pub execution_id: String,
    #[serde(default)]
    pub created_at: String,
    /// The image it was copied from (CopyImage), if a copy.
    #[serde(default)]
    pub copied_from: String,
    /// Accounts it is shared with (ModifyImageSharePermission).
    #[serde(default)]
    pub shared_with: Vec<String>,
}

/// An Image Builder component.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ComponentRec {
    pub id: String,
    pub region: String,
    pub name: String,
    pub content: String,
    pub component_type: String,
    pub system_type: String,
    pub version: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub resource_group_id: String,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    pub created_at: String,
    #[serde(default)]
    pub deleted: bool,
}

/// A disk of an image.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ImageDisk {
    pub device: String,
    pub disk_type: String,
    pub snapshot_id: String,
    pub size: i64,
    #[serde(default)]
    pub format: String,
    #[serde(default)]
    pub bucket: String,
    #[serde(default)]
    pub object: String,
}

impl ImageRec {
    /// `(Status, Progress %, Usable)` at `now`.
    pub fn status(&self, now: SimTime) -> (&'static str, u8, bool) {
        if self.owner_alias == "system" {
            return ("Available", 100, true);
        }
        if self.cancelled {
            return ("CreateFailed", 0, false);
        }
        let t = now - self.started;
        if t < self.wait_secs {
            return ("Waiting", 0, false);
        }
        let c = t - self.wait_secs;
        if c < self.create_secs {
            let p = ((c / self.create_secs) * 100.0).floor().clamp(0.0, 99.0) as u8;
            return ("Creating", p, false);
        }
        if self.will_fail {
            return ("CreateFailed", 0, false);
        }
        if self.deprecated {
            return ("Deprecated", 100, true);
        }
        ("Available", 100, true)
    }

    /// True while the image is still being made.
    pub fn in_progress(&self, now: SimTime) -> bool {
        matches!(self.status(now).0, "Waiting" | "Creating")
    }
}

fn import_action() -> String {
    "ImportImage".into()
}

/// An import or export task.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRec {
    pub id: String,
    pub region: String,
    pub image_id: String,
    /// `ImportImage` or `ExportImage`.
    #[serde(default = "import_action")]
    pub action: String,
    pub started: SimTime,
    pub wait_secs: f64,
    pub process_secs: f64,
    #[serde(default)]
    pub will_fail: bool,
    #[serde(default)]
    pub cancelled_at: Option<SimTime>,
    pub created_at: String,
}

impl TaskRec {
    /// `(TaskStatus, progress %)` at `now`.
    pub fn status(&self, now: SimTime) -> (&'static str, u8) {
        if self.cancelled_at.is_some() {
            return ("Failed", 0);
        }
        let t = now - self.started;
        if t < self.wait_secs {
            return ("Waiting", 0);
        }
        let p = t - self.wait_secs;
        if p < self.process_secs {
            return (
                "Processing",
                ((p / self.process_secs) * 100.0).floor().clamp(0.0, 99.0) as u8,
            );
        }
        if self.will_fail {
            ("Failed", 100)
        } else {
            ("Finished", 100)
        }
    }
}

/// A pipeline (image template), stored as its creation parameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PipelineRec {
    pub id: String,
    pub region: String,
    pub params: BTreeMap<String, String>,
    pub created_at: String,
    #[serde(default)]
    pub deleted: bool,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

/// The phases of a build, in order, with their share of a build's duration.
pub const PHASES: &[(&str, f64)] = &[
    ("PREPARING", 2.0),
    ("BUILDING", 10.0),
    ("TESTING", 3.0),
    ("DISTRIBUTING", 4.0),
    ("RELEASING", 1.0),
];

/// A pipeline execution (a build).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecutionRec {
    pub id: String,
    pub region: String,
    pub pipeline_id: String,
    pub image_id: String,
    /// Copies in `ToRegionId` regions: (region, image id).
    #[serde(default)]
    pub copies: Vec<(String, String)>,
    pub started: SimTime,
    /// Seconds per phase unit (the build takes `unit * 20` seconds).
    pub unit_secs: f64,
    #[serde(default)]
    pub will_fail: bool,
    #[serde(default)]
    pub cancelled_at: Option<SimTime>,
    pub created_at: String,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

impl ExecutionRec {
    /// Total build time in seconds.
    pub fn total_secs(&self) -> f64 {
        PHASES.iter().map(|p| p.1).sum::<f64>() * self.unit_secs
    }

    /// Status at `now`.
    pub fn status(&self, now: SimTime) -> &'static str {
        if let Some(c) = self.cancelled_at {
            return if now - c < self.unit_secs {
                "CANCELLING"
            } else {
                "CANCELLED"
            };
        }
        let mut t = now - self.started;
        for (name, share) in PHASES {
            let d = share * self.unit_secs;
            // A failing build fails half-way through BUILDING and stays FAILED.
            if self.will_fail && *name == "BUILDING" && t > d / 2.0 {
                return "FAILED";
            }
            if t < d {
                return name;
            }
            t -= d;
        }
        if self.will_fail {
            "FAILED"
        } else {
            "SUCCESS"
        }
    }

    /// True while running.
    pub fn running(&self, now: SimTime) -> bool {
        !matches!(
            self.status(now),
            "SUCCESS" | "FAILED" | "CANCELLED" | "TEST_FAILED" | "PARTITION_SUCCESS"
        )
    }
}

/// One region.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Region {
    pub id: String,
    pub instances: BTreeMap<String, Instance>,
    pub snapshots: BTreeMap<String, Snapshot>,
    /// Disks attached to no instance: a released instance's system disk is kept as one
    /// of type `data`, and its snapshots cannot make images.
    #[serde(default)]
    pub disks: BTreeMap<String, Disk>,
    pub oss: Vec<OssObject>,
    pub image_quota: usize,
    pub pipeline_quota: usize,
    pub resource_groups: Vec<String>,
    pub vswitches: Vec<String>,
    pub instance_types: Vec<String>,
    /// Whether ECS may read OSS (the RAM role of ImportImage).
    pub oss_role_authorized: bool,
    /// Accounts images may be shared with (seeded); empty: any numeric account.
    #[serde(default)]
    pub accounts: Vec<String>,
}

impl Region {
    /// True when the bucket exists in this region.
    pub fn has_bucket(&self, b: &str) -> bool {
        self.oss.iter().any(|o| o.bucket == b)
    }

    /// The object, if it exists.
    pub fn object(&self, b: &str, o: &str) -> Option<&OssObject> {
        self.oss.iter().find(|x| x.bucket == b && x.object == o)
    }
}

fn public_image(
    region: &str,
    id: &str,
    name: &str,
    platform: &str,
    os: &str,
    arch: &str,
    family: &str,
) -> ImageRec {
    ImageRec {
        id: id.into(),
        region: region.into(),
        name: name.into(),
        description: format!("{platform} public image"),
        family: family.into(),
        version: String::new(),
        owner_alias: "system".into(),
        os_type: os.into(),
        platform: platform.into(),
        architecture: arch.into(),
        boot_mode: "UEFI-Preferred".into(),
        license_type: String::new(),
        size: 20,
        resource_group_id: String::new(),
        tags: vec![],
        disks: vec![ImageDisk {
            device: "/dev/xvda".into(),
            disk_type: "system".into(),
            size: 20,
            ..Default::default()
        }],
        nvme_support: "supported".into(),
        imds_support: "v2".into(),
        started: 0.0,
        wait_secs: 0.0,
        create_secs: 0.0,
        will_fail: false,
        deleted: false,
        cancelled: false,
        deprecated: false,
        task_id: String::new(),
        execution_id: String::new(),
        created_at: "2024-01-01T00:00:00Z".into(),
        copied_from: String::new(),
        shared_with: Vec::new(),
    }
}

/// The regions and objects a new local cloud starts with, at simulated time `now`.
pub fn seed(now: SimTime) -> (Vec<Region>, Vec<ImageRec>) {
    let mut regions = Vec::new();
    let mut images = Vec::new();
    for (rid, short) in [
        ("cn-hangzhou", "bp1"),
        ("cn-shanghai", "uf6"),
        ("cn-beijing", "2ze"),
    ] {
        let mut r = Region {
            id: rid.into(),
            image_quota: 1000,
            pipeline_quota: 100,
            resource_groups: vec!["rg-default".into(), format!("rg-{short}team0001")],
            vswitches: vec![format!("vsw-{short}default001")],
            instance_types: vec![
                "ecs.g6.large".into(),
                "ecs.g7.large".into(),
                "ecs.c6.large".into(),
                "ecs.t6-c1m1.large".into(),
            ],
            oss_role_authorized: true,
            ..Default::default()
        };
        for (suffix, status, lock, becomes) in [
            ("running", "Running", "", ""),
            ("stopped", "Stopped", "", ""),
            ("locked", "Running", "security", ""),
            ("starting", "Starting", "", ""),
            ("stopping", "Stopping", "", ""),
            ("expired", "Expired", "", ""),
            // Started with the cloud: Running a minute (simulated) later.
            ("booting", "Starting", "", "Running"),
        ] {
            let id = format!("i-{short}{suffix}");
            r.instances.insert(
                id.clone(),
                Instance {
                    id: id.clone(),
                    status: status.into(),
                    lock_reason: lock.into(),
                    disks: vec![
                        Disk {
                            id: format!("d-{short}{suffix}sys"),
                            disk_type: "system".into(),
                            size: 40,
                        },
                        Disk {
                            id: format!("d-{short}{suffix}data"),
                            disk_type: "data".into(),
                            size: 100,
                        },
                    ],
                    platform: "Ubuntu".into(),
                    becomes: becomes.into(),
                    settles_at: now + 60.0,
                },
            );
        }
        let snaps = [
            (
                format!("s-{short}qs0000000000web"),
                "system",
                40,
                "2025-06-01",
                "accomplished",
            ),
            (
                format!("s-{short}system0001"),
                "system",
                40,
                "2025-06-01",
                "accomplished",
            ),
            (
                format!("s-{short}system0002"),
                "system",
                40,
                "2025-06-02",
                "accomplished",
            ),
            (
                format!("s-{short}data0001"),
                "data",
                100,
                "2025-06-01",
                "accomplished",
            ),
            (
                format!("s-{short}data0002"),
                "data",
                200,
                "2025-06-02",
                "accomplished",
            ),
            (
                format!("s-{short}old2013"),
                "system",
                40,
                "2013-07-01",
                "accomplished",
            ),
            (
                format!("s-{short}creating"),
                "system",
                40,
                "2025-06-03",
                "progressing",
            ),
        ];
        for (id, t, size, created, status) in snaps {
            r.snapshots.insert(
                id.clone(),
                Snapshot {
                    id,
                    disk_type: t.into(),
                    size,
                    created: created.into(),
                    status: status.into(),
                    source_disk_id: String::new(),
                },
            );
        }
        // An instance since released: its system disk stays as a data disk, and the
        // snapshot taken of it while it was the system disk cannot make an image.
        let released = format!("d-{short}releasedsys");
        r.disks.insert(
            released.clone(),
            Disk {
                id: released.clone(),
                disk_type: "data".into(),
                size: 40,
            },
        );
        let id = format!("s-{short}released01");
        r.snapshots.insert(
            id.clone(),
            Snapshot {
                id,
                disk_type: "system".into(),
                size: 40,
                created: "2025-05-01".into(),
                status: "accomplished".into(),
                source_disk_id: released,
            },
        );
        for (inst, disk) in [("running", "sys"), ("stopped", "sys")] {
            let id = format!("s-{short}{inst}{disk}01");
            r.snapshots.insert(
                id.clone(),
                Snapshot {
                    id,
                    disk_type: "system".into(),
                    size: 40,
                    created: "2025-05-02".into(),
                    status: "accomplished".into(),
                    source_disk_id: format!("d-{short}{inst}{disk}"),
                },
            );
        }
        for (b, o, s) in [
            ("imgform-quickstart", "images/ubuntu-22.04.qcow2", 3),
            ("imgform-quickstart", "images/debian-12.raw", 4),
            ("imgform-quickstart", "images/empty.raw", 0),
            // Keys without a suffix, as public Terraform code uploads them.
            ("imgform-quickstart", "tf-oss-bucket-object-key", 3),
            (&*format!("imgform-{rid}"), "images/ubuntu-22.04.qcow2", 3),
            (&*format!("imgform-{rid}"), "images/alinux-3.vhd", 5),
            (&*format!("imgform-{rid}"), "images/data-disk.raw", 10),
        ] {
            r.oss.push(OssObject {
                bucket: b.into(),
                object: o.into(),
                size_gib: s,
            });
        }
        images.push(public_image(
            rid,
            "ubuntu_22_04_x64_20G_alibase_20240101.vhd",
            "Ubuntu 22.04 64 bit",
            "Ubuntu",
            "linux",
            "x86_64",
            "acs:ubuntu_22_04_x64",
        ));
        images.push(public_image(
            rid,
            "aliyun_3_x64_20G_alibase_20240101.vhd",
            "Alibaba Cloud Linux 3",
            "Aliyun",
            "linux",
            "x86_64",
            "acs:alibaba_cloud_linux_3_2104_lts_x64",
        ));
        images.push(public_image(
            rid,
            "aliyun_3_arm64_20G_alibase_20240101.vhd",
            "Alibaba Cloud Linux 3 arm64",
            "Aliyun",
            "linux",
            "arm64",
            "acs:alibaba_cloud_linux_3_2104_lts_arm64",
        ));
        images.push(public_image(
            rid,
            "win2022_21H2_x64_dtc_en-us_40G_alibase_20240101.vhd",
            "Windows Server 2022",
            "Windows Server 2022",
            "windows",
            "x86_64",
            "acs:windows_server_2022",
        ));
        regions.push(r);
    }
    (regions, images)
}
