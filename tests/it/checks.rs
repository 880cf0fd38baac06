//! Issue 32: a plan checks in the cloud every object its creates name — snapshots,
//! instances, source images, pipelines, regions — by the rules of the API pages, in
//! batched calls, and reports every problem at the attribute that names the object; apply
//! checks again what was unknown or not yet usable, just before the create.

use imgform::apply::{self, walk, Connect, Session, SharedStore};
use imgform::cloud::waiter::Stop;
use imgform::config::check::{load, Evaluated, Options};
use imgform::diag::{Diagnostics, Severity};
use imgform::events::{Event, EventSink};
use imgform::localcloud;
use imgform::localcloud::inproc::InProcess;
use imgform::plan::build::{plan, Input};
use imgform::plan::model::{Options as PlanOptions, Plan};
use imgform::state::store::Store;
use serde_json::json;
use std::sync::{Arc, Mutex};

/// The local cloud runs this much faster than real time (these tests run on a real
/// clock: the planner reads the cloud from a blocking thread), and the session's timeouts
/// and pauses are scaled alike.
const SPEED: f64 = 1000.0;

struct Checks {
    dir: tempfile::TempDir,
    cloud: Arc<InProcess>,
    store: SharedStore,
}

struct Quiet;
impl EventSink for Quiet {
    fn emit(&self, _: Event) {}
}

/// The calls that change the cloud.
const CHANGING: &[&str] = &[
    "CreateImage",
    "ImportImage",
    "CopyImage",
    "ExportImage",
    "ModifyImageSharePermission",
    "CreateImagePipeline",
    "StartImagePipelineExecution",
    "CreateImageComponent",
    "TagResources",
];

impl Checks {
    fn new() -> Checks {
        let dir = tempfile::tempdir().expect("tmp");
        let cloud = InProcess::open(&localcloud::Options {
            speed: SPEED,
            ..Default::default()
        })
        .expect("cloud");
        let backend: Box<dyn imgform::state::backend::Backend> =
            Box::new(Store::open(&dir.path().join("imgform.state.db")).expect("state"));
        Checks {
            dir,
            cloud,
            store: Arc::new(Mutex::new(backend)),
        }
    }

    fn load(&self, hcl: &str) -> Evaluated {
        std::fs::write(
            self.dir.path().join("main.tf"),
            format!("provider \"alicloud\" {{\n  region = \"cn-hangzhou\"\n}}\n{hcl}"),
        )
        .expect("write");
        let (ev, diags) = load(&Options {
            dir: self.dir.path().to_path_buf(),
            ..Default::default()
        });
        ev.unwrap_or_else(|| panic!("invalid configuration: {diags:?}"))
    }

    fn session(&self, ev: &Evaluated) -> Arc<Session> {
        let how = Connect {
            credentials: Some(imgform::cloud::creds::Credentials {
                access_key_id: localcloud::DEFAULT_KEY_ID.into(),
                access_key_secret: localcloud::DEFAULT_SECRET.into(),
                security_token: None,
                source: "test".into(),
            }),
            speed: SPEED,
            transport: Some(self.cloud.clone()),
            ..Default::default()
        };
        Arc::new(Session::connect(&ev.providers, &how, &|_| None).expect("connect"))
    }

    /// Plans `hcl` with the cloud reader, as `imgform plan` does.
    fn plan_with(&self, hcl: &str, no_refresh: bool) -> (Option<Plan>, Diagnostics, Evaluated) {
        let ev = self.load(hcl);
        let sess = self.session(&ev);
        let state = self.store.lock().expect("lock").load().expect("load");
        let opts = PlanOptions {
            no_refresh,
            ..Default::default()
        };
        let mut reader = apply::CloudReader {
            sess: &sess,
            rt: tokio::runtime::Handle::current(),
            reads: 0,
        };
        let (p, diags) = plan(
            Input {
                ev: &ev,
                state,
                drift: vec![],
                regions: &sess.regions,
                options: &opts,
            },
            &mut reader,
        );
        (p, diags, ev)
    }

    fn plan(&self, hcl: &str) -> (Option<Plan>, Diagnostics) {
        let (p, d, _) = self.plan_with(hcl, false);
        (p, d)
    }

    async fn apply(&self, hcl: &str) -> walk::Outcome {
        let (p, diags, ev) = self.plan_with(hcl, false);
        let p = p.unwrap_or_else(|| panic!("plan failed: {diags:?}"));
        let sess = self.session(&ev);
        walk::apply(
            sess,
            self.store.clone(),
            Arc::new(ev),
            &p,
            &walk::Options {
                parallelism: 10,
                max_in_progress: None,
            },
            Arc::new(Quiet),
            Stop::new(),
        )
        .await
    }

    /// A custom image made from a snapshot in `region`, Available.
    fn custom_image(&self, region: &str, snapshot: &str) -> String {
        self.cloud.with(|c| {
            let made = c
                .act(
                    "CreateImage",
                    &[
                        ("RegionId", region),
                        ("SnapshotId", snapshot),
                        ("ImageName", "seeded-image"),
                    ],
                )
                .expect("an image");
            c.advance(std::time::Duration::from_secs(3600));
            made["ImageId"].as_str().expect("id").to_string()
        })
    }

    fn changing_calls(&self) -> u64 {
        CHANGING.iter().map(|a| self.cloud.calls(a)).sum()
    }

    fn text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("main.tf")).expect("read")
    }
}

fn errors(d: &Diagnostics) -> Vec<&imgform::diag::Diagnostic> {
    d.0.iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

fn warnings(d: &Diagnostics) -> Vec<&imgform::diag::Diagnostic> {
    d.0.iter()
        .filter(|d| d.severity == Severity::Warning)
        .collect()
}

const UBUNTU: &str = "ubuntu_22_04_x64_20G_alibase_20240101.vhd";

/// An image made from the object `id` named by `attr`.
fn image_from(attr: &str, id: &str) -> String {
    format!("resource \"alicloud_image\" \"x\" {{\n  image_name = \"from-{attr}\"\n  {attr} = \"{id}\"\n}}\n")
}

fn mapping(id: &str) -> String {
    format!("resource \"alicloud_image\" \"x\" {{\n  image_name = \"mapped\"\n  disk_device_mapping {{\n    disk_type   = \"system\"\n    snapshot_id = \"{id}\"\n  }}\n}}\n")
}

fn copy(region: &str, id: &str) -> String {
    format!("resource \"alicloud_image_copy\" \"x\" {{\n  image_name       = \"copied\"\n  source_region_id = \"{region}\"\n  source_image_id  = \"{id}\"\n}}\n")
}

fn share(id: &str) -> String {
    format!("resource \"alicloud_image_share_permission\" \"x\" {{\n  image_id   = \"{id}\"\n  account_id = \"1234567890123\"\n}}\n")
}

fn export(id: &str) -> String {
    format!("resource \"alicloud_image_export\" \"x\" {{\n  image_id   = \"{id}\"\n  oss_bucket = \"imgform-cn-hangzhou\"\n  oss_prefix = \"exports\"\n}}\n")
}

fn pipeline(base: &str) -> String {
    format!("resource \"alicloud_ecs_image_pipeline\" \"x\" {{\n  name            = \"pipe\"\n  base_image_type = \"IMAGE\"\n  base_image      = \"{base}\"\n  build_content   = \"RUN echo hi\"\n}}\n")
}

fn build(pipeline: &str) -> String {
    format!("resource \"alicloud_ecs_image_pipeline_execution\" \"x\" {{\n  image_pipeline_id = \"{pipeline}\"\n}}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_rule_of_the_api_pages_fails_at_plan_at_the_attribute_that_names_the_object() {
    let t = Checks::new();
    let made = t
        .cloud
        .with(|c| {
            c.act(
                "CreateImagePipeline",
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("Name", "seeded"),
                    ("BaseImageType", "IMAGE"),
                    ("BaseImage", UBUNTU),
                    ("BuildContent", "RUN echo"),
                ],
            )
        })
        .expect("a pipeline");
    let pipe = made["ImagePipelineId"].as_str().expect("id").to_string();
    let shanghai = t.custom_image("cn-shanghai", "s-uf6system0001");
    let beijing = t.custom_image("cn-beijing", "s-2zesystem0001");
    let own = t.custom_image("cn-hangzhou", "s-bp1system0001");
    // (what is broken, the configuration, what the cloud says, the valid configuration)
    let cases: Vec<(&str, String, &str, String)> = vec![
        (
            "absent snapshot",
            image_from("snapshot_id", "s-bp1nosuchsnap"),
            "InvalidSnapshotId.NotFound",
            image_from("snapshot_id", "s-bp1system0001"),
        ),
        (
            "snapshot of 2013",
            image_from("snapshot_id", "s-bp1old2013"),
            "created on 2013-07-01",
            image_from("snapshot_id", "s-bp1system0002"),
        ),
        (
            "released instance's disk",
            mapping("s-bp1released01"),
            "since released",
            mapping("s-bp1runningsys01"),
        ),
        (
            "absent instance",
            image_from("instance_id", "i-bp1nosuchinst"),
            "InvalidInstanceId.NotFound",
            image_from("instance_id", "i-bp1stopped"),
        ),
        (
            "locked instance",
            image_from("instance_id", "i-bp1locked"),
            "InstanceLockedForSecurity",
            image_from("instance_id", "i-bp1running"),
        ),
        (
            "expired instance",
            image_from("instance_id", "i-bp1expired"),
            "it is Expired",
            image_from("instance_id", "i-bp1running"),
        ),
        (
            "absent source image",
            copy("cn-shanghai", "m-uf6nosuchimage"),
            "InvalidImageId.NotFound",
            copy("cn-shanghai", &shanghai),
        ),
        (
            "absent source region",
            copy("cn-nowhere-1", &beijing),
            "InvalidRegionId.NotFound",
            copy("cn-beijing", &beijing),
        ),
        (
            "absent shared image",
            share("m-bp1nosuchimage"),
            "InvalidImageId.NotFound",
            share(&own),
        ),
        (
            "absent exported image",
            export("m-bp1nosuchimage"),
            "InvalidImageId.NotFound",
            export(&own),
        ),
        (
            "absent pipeline",
            build("ip-bp1nosuchpipe0001"),
            "InvalidImagePipeline.NotFound",
            build(&pipe),
        ),
    ];
    for (what, bad, says, good) in &cases {
        let before = t.changing_calls();
        let (p, diags) = t.plan(bad);
        assert!(p.is_none(), "{what}: the plan fails");
        let errs = errors(&diags);
        assert_eq!(errs.len(), 1, "{what}: one error: {diags:?}");
        let d = errs[0];
        assert!(
            d.detail.contains(says),
            "{what}: {:?} says {says:?}",
            d.detail
        );
        let span = d.span.as_ref().expect("a span");
        let text = t.text();
        let named = text[span.range.clone()].trim_matches('"');
        assert!(
            named.len() > 2 && bad.contains(&format!("\"{named}\"")),
            "{what}: the span {named:?} is the value that names the object"
        );
        assert!(d.detail.contains(named), "{what}: the detail names {named}");
        assert!(d.hint.is_some(), "{what}: a hint");
        assert_eq!(t.changing_calls(), before, "{what}: nothing is sent");
        let (p, diags) = t.plan(good);
        assert!(
            p.is_some() && diags.0.is_empty(),
            "{what}: the valid object plans cleanly: {diags:?}"
        );
    }
}

/// A pipeline's base image may be a Marketplace image, which DescribeImages lists only
/// when asked for that owner: it is not looked up, so a valid plan is never refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipelines_base_image_is_not_taken_for_absent() {
    let t = Checks::new();
    let (p, diags) = t.plan(&pipeline("m-bp1marketplace01"));
    assert!(p.is_some() && diags.0.is_empty(), "{diags:?}");
    let (p, diags) = t.plan(&pipeline(UBUNTU));
    assert!(p.is_some() && diags.0.is_empty(), "{diags:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_on_its_way_to_usable_is_a_warning_and_the_plan_goes_on() {
    let t = Checks::new();
    for (hcl, says) in [
        (
            image_from("snapshot_id", "s-bp1creating"),
            "still being created",
        ),
        (image_from("instance_id", "i-bp1stopping"), "it is Stopping"),
    ] {
        let (p, diags) = t.plan(&hcl);
        let p = p.expect("the plan is made");
        let w = warnings(&diags);
        assert_eq!(w.len(), 1, "{diags:?}");
        assert!(
            w[0].detail.contains(says) && w[0].detail.contains("apply waits"),
            "{}",
            w[0].detail
        );
        assert!(
            p.recheck.contains("alicloud_image.x"),
            "apply checks it again"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_problems_are_reported_at_once() {
    let t = Checks::new();
    let mut hcl = String::new();
    for (i, id) in [
        "s-bp1nosuch00001",
        "s-bp1nosuch00002",
        "s-bp1old2013",
        "s-bp1released01",
    ]
    .iter()
    .enumerate()
    {
        hcl += &format!("resource \"alicloud_image\" \"s{i}\" {{\n  image_name = \"s{i}-img\"\n  snapshot_id = \"{id}\"\n}}\n");
    }
    for (i, id) in ["i-bp1nosuch1", "i-bp1locked", "i-bp1expired"]
        .iter()
        .enumerate()
    {
        hcl += &format!("resource \"alicloud_image\" \"i{i}\" {{\n  image_name = \"i{i}-img\"\n  instance_id = \"{id}\"\n}}\n");
    }
    hcl += &copy("cn-nowhere-9", "m-uf6nosuchimage").replace("\"x\"", "\"c0\"");
    hcl += &share("m-bp1nosuchimage").replace("\"x\"", "\"sh\"");
    hcl += &build("ip-bp1nosuchpipe0001").replace("\"x\"", "\"b\"");
    // And one that is fine.
    hcl += &image_from("snapshot_id", "s-bp1system0001").replace("\"x\"", "\"ok\"");
    let (p, diags) = t.plan(&hcl);
    assert!(p.is_none());
    let errs = errors(&diags);
    assert_eq!(errs.len(), 10, "{errs:#?}");
    let lines: std::collections::BTreeSet<_> = errs
        .iter()
        .map(|d| d.span.as_ref().expect("span").range.start)
        .collect();
    assert_eq!(lines.len(), 10, "each at its own attribute");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_fifty_snapshots_are_checked_in_three_calls() {
    let t = Checks::new();
    let snaps: Vec<serde_json::Value> = (0..250)
        .map(|i| json!({"id": format!("s-bp1many{i:05}"), "disk_type": "data", "size": 40}))
        .collect();
    t.cloud
        .with(|c| c.seed_from(&json!({"regions": {"cn-hangzhou": {"snapshots": snaps}}})))
        .expect("seed");
    let hcl = "resource \"alicloud_image\" \"m\" {\n  count = 250\n  image_name = \"many-${count.index}\"\n  snapshot_id = format(\"s-bp1many%05d\", count.index)\n}\n";
    let before = t.cloud.calls("DescribeSnapshots");
    let (p, diags) = t.plan(hcl);
    assert!(p.is_some() && diags.0.is_empty(), "{diags:?}");
    let calls = t.cloud.calls("DescribeSnapshots") - before;
    assert!((1..=3).contains(&calls), "{calls} DescribeSnapshots calls");
    // Data-disk snapshots need no look at their disks.
    assert_eq!(t.cloud.calls("DescribeDisks"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_false_skips_the_checks_and_says_so() {
    let t = Checks::new();
    let (p, diags, _) = t.plan_with(&image_from("snapshot_id", "s-bp1nosuchsnap"), true);
    assert!(p.is_some(), "{diags:?}");
    let w = warnings(&diags);
    assert_eq!(w.len(), 1);
    assert!(w[0].summary.contains("not checked"), "{:?}", w[0]);
    assert_eq!(t.cloud.calls("DescribeSnapshots"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_waits_for_an_instance_that_is_starting() {
    let t = Checks::new();
    // Running 500 simulated seconds (half a second) from now: apply meets it Starting.
    t.cloud
        .with(|c| {
            let at = c.now() + 500.0;
            c.seed_from(&json!({"regions": {"cn-hangzhou": {"instances": [{
                "id": "i-bp1slowboot", "status": "Starting", "becomes": "Running", "settles_at": at,
                "disks": [{"id": "d-bp1slowbootsys", "type": "system", "size": 40}],
            }]}}}))
        })
        .expect("seed");
    let out = t.apply(&image_from("instance_id", "i-bp1slowboot")).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(out.added, 1);
    assert!(
        t.cloud.calls("DescribeInstances") >= 3,
        "read at plan, then polled until Running before the create"
    );
    assert_eq!(t.cloud.calls("CreateImage"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_id_known_only_at_apply_is_checked_just_before_the_create_and_nothing_is_left() {
    let t = Checks::new();
    // The second image names a snapshot id made of the first image's: unknown at plan, a
    // well-formed snapshot id at apply, and no such snapshot.
    let hcl = format!(
        "{}resource \"alicloud_image\" \"y\" {{\n  image_name = \"second\"\n  snapshot_id = replace(alicloud_image.x.id, \"m-\", \"s-\")\n}}\n",
        image_from("snapshot_id", "s-bp1system0001")
    );
    let out = t.apply(&hcl).await;
    assert_eq!(out.added, 1);
    assert_eq!(out.failed.len(), 1, "{:?}", out.failed);
    let (addr, msg) = &out.failed[0];
    assert_eq!(addr.to_string(), "alicloud_image.y");
    assert!(
        msg.contains("InvalidSnapshotId.NotFound") && msg.contains("nothing was created"),
        "{msg}"
    );
    assert_eq!(
        t.cloud.calls("CreateImage"),
        1,
        "the second create was never sent"
    );
    let st = t.store.lock().expect("lock").load().expect("load");
    assert_eq!(st.resources.len(), 1, "no row for the image never made");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_deleted_between_plan_and_apply_fails_cleanly() {
    let t = Checks::new();
    t.cloud
        .with(|c| c.seed_from(&json!({"regions": {"cn-hangzhou": {"snapshots": [{"id": "s-bp1shortlived", "disk_type": "system", "size": 40}]}}})))
        .expect("seed");
    let hcl = image_from("snapshot_id", "s-bp1shortlived");
    let (p, diags, ev) = t.plan_with(&hcl, false);
    let p = p.unwrap_or_else(|| panic!("{diags:?}"));
    t.cloud
        .with(|c| {
            c.act(
                "DeleteSnapshot",
                &[
                    ("RegionId", "cn-hangzhou"),
                    ("SnapshotId", "s-bp1shortlived"),
                ],
            )
        })
        .expect("deleted");
    let out = walk::apply(
        t.session(&ev),
        t.store.clone(),
        Arc::new(ev),
        &p,
        &walk::Options {
            parallelism: 10,
            max_in_progress: None,
        },
        Arc::new(Quiet),
        Stop::new(),
    )
    .await;
    assert_eq!(out.failed.len(), 1);
    assert!(
        out.failed[0].1.contains("InvalidSnapshotId.NotFound"),
        "{:?}",
        out.failed
    );
    let st = t.store.lock().expect("lock").load().expect("load");
    assert!(
        st.resources.is_empty(),
        "no row is left: {:?}",
        st.resources.keys()
    );
    assert_eq!(
        t.cloud.with(|c| c.custom_images().len()),
        0,
        "nothing is orphaned"
    );
}
