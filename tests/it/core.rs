//! The core at the kind-trait boundary: plan, refresh, the apply walk, the batched pollers,
//! timeouts, resume and destroy, against the local cloud in the same process (the client's
//! transport, no HTTP, no binary) on tokio's paused clock. Hours of simulated waiting take
//! milliseconds; a script makes the cloud answer chosen calls (an image that never leaves
//! `Creating`, a refused create, a delete refused while the image is being made).

use imgform::apply::{self, walk, Connect, Session, SharedStore};
use imgform::cloud::waiter::Stop;
use imgform::config::check::{load, Evaluated, Options};
use imgform::events::{Event, EventSink};
use imgform::localcloud::inproc::InProcess;
use imgform::localcloud::{self, ApiErr};
use imgform::plan::build::{plan, Input, NoReader};
use imgform::plan::model::{Action, Options as PlanOptions, Plan};
use imgform::state::store::Store;
use imgform::state::{State, Status};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Collects events.
#[derive(Default)]
struct Collect(Mutex<Vec<Event>>);

impl EventSink for Collect {
    fn emit(&self, e: Event) {
        self.0.lock().expect("never poisoned").push(e);
    }
}

/// A configuration directory, its state, and an in-process cloud.
struct Core {
    dir: tempfile::TempDir,
    cloud: Arc<InProcess>,
    store: SharedStore,
}

fn state_of(store: &SharedStore) -> State {
    store.lock().expect("lock").load().expect("load")
}

impl Core {
    fn new() -> Core {
        let dir = tempfile::tempdir().expect("tmp");
        let cloud = InProcess::open(&localcloud::Options::default()).expect("cloud");
        let backend: Box<dyn imgform::state::backend::Backend> =
            Box::new(Store::open(&dir.path().join("imgform.state.db")).expect("state"));
        Core {
            dir,
            cloud,
            store: Arc::new(Mutex::new(backend)),
        }
    }

    fn load(&self, hcl: &str) -> Evaluated {
        std::fs::write(
            self.dir.path().join("main.hcl"),
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
            speed: 1.0,
            transport: Some(self.cloud.clone()),
            ..Default::default()
        };
        Arc::new(Session::connect(&ev.providers, &how, &|_| None).expect("connect"))
    }

    /// Refreshes and plans `hcl` (with `destroy`).
    async fn plan(&self, hcl: &str, destroy: bool) -> (Arc<Session>, Arc<Evaluated>, Plan) {
        let ev = self.load(hcl);
        let sess = self.session(&ev);
        let state = state_of(&self.store);
        let (refreshed, drift) = apply::refresh(&sess, state).await.expect("refresh");
        let opts = PlanOptions {
            destroy,
            ..Default::default()
        };
        let (p, diags) = plan(
            Input {
                ev: &ev,
                state: refreshed,
                drift,
                regions: &sess.regions,
                options: &opts,
            },
            &mut NoReader,
        );
        let p = p.unwrap_or_else(|| panic!("plan failed: {diags:?}"));
        (sess, Arc::new(ev), p)
    }

    /// Plans and applies `hcl`; returns the plan, the outcome and the events.
    async fn apply(&self, hcl: &str, destroy: bool) -> (Plan, walk::Outcome, Vec<Event>) {
        let (sess, ev, p) = self.plan(hcl, destroy).await;
        let sink = Arc::new(Collect::default());
        let out = walk::apply(
            sess,
            self.store.clone(),
            ev,
            &p,
            &walk::Options {
                parallelism: 10,
                max_in_progress: None,
            },
            sink.clone(),
            Stop::new(),
        )
        .await;
        let events = sink.0.lock().expect("never poisoned").clone();
        (p, out, events)
    }

    fn state(&self) -> State {
        state_of(&self.store)
    }

    fn images(&self) -> usize {
        self.cloud.with(|c| c.custom_images().len())
    }
}

fn actions(p: &Plan) -> Vec<(String, Action)> {
    p.changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.addr.to_string(), c.action))
        .collect()
}

const IMAGE: &str = r#"
resource "alicloud_image" "a" {
  image_name  = "core-a"
  snapshot_id = "s-bp1system0001"
  tags        = { team = "core" }
}
"#;

/// An image in every status the scripted cloud says, for DescribeImages by id.
fn describe_as(
    params: &BTreeMap<String, String>,
    status: &str,
) -> Option<Result<serde_json::Value, ApiErr>> {
    let ids = params.get("ImageId")?;
    let images: Vec<_> = ids
        .split(',')
        .map(|id| json!({"ImageId": id, "ImageName": "core-a", "Status": status, "Progress": "50%", "Usable": false}))
        .collect();
    Some(Ok(json!({
        "Images": {"Image": images},
        "TotalCount": images.len(),
        "PageNumber": 1,
        "PageSize": 100,
        "RegionId": params.get("RegionId"),
    })))
}

#[tokio::test(start_paused = true)]
async fn the_walk_creates_waits_and_a_second_plan_is_empty() {
    let core = Core::new();
    let hcl = format!(
        "{IMAGE}\nresource \"alicloud_image\" \"b\" {{\n  image_name  = \"core-b\"\n  snapshot_id = \"s-bp1system0001\"\n  description = alicloud_image.a.id\n}}\n"
    );
    let (p, out, events) = core.apply(&hcl, false).await;
    assert_eq!(actions(&p).len(), 2);
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(out.added, 2);
    let st = core.state();
    let a = &st.resources[&"alicloud_image.a".parse().expect("addr")];
    let b = &st.resources[&"alicloud_image.b".parse().expect("addr")];
    assert_eq!(a.status, Status::Ready);
    assert_eq!(a.attrs.value()["status"], "Available");
    assert_eq!(
        b.attrs.value()["description"],
        json!(a.id),
        "b was made after a, with its id"
    );
    // b started after a completed: the walk follows the dependency.
    let pos = |f: &dyn Fn(&Event) -> bool| events.iter().position(f).expect("event");
    let a_done = pos(
        &|e| matches!(e, Event::Complete { addr, .. } if addr.to_string() == "alicloud_image.a"),
    );
    let b_start =
        pos(&|e| matches!(e, Event::Start { addr, .. } if addr.to_string() == "alicloud_image.b"));
    assert!(a_done < b_start);
    assert_eq!(core.cloud.calls("CreateImage"), 2);
    let (_, _, again) = core.plan(&hcl, false).await;
    assert!(actions(&again).is_empty(), "{:?}", actions(&again));
}

#[tokio::test(start_paused = true)]
async fn a_wait_that_never_ends_times_out_stays_creating_and_resumes_without_a_second_create() {
    let core = Core::new();
    core.cloud.script(Box::new(|action, params| match action {
        "DescribeImages" => describe_as(params, "Creating"),
        _ => None,
    }));
    let hcl = IMAGE.replace(
        "tags        = { team = \"core\" }",
        "tags        = { team = \"core\" }\n  timeouts {\n    create = \"5m\"\n  }",
    );
    let started = tokio::time::Instant::now();
    let (_, out, _) = core.apply(&hcl, false).await;
    assert_eq!(out.failed.len(), 1);
    assert!(
        out.failed[0]
            .1
            .contains("timed out after 5m0s waiting for image"),
        "{}",
        out.failed[0].1
    );
    assert!(started.elapsed() >= Duration::from_secs(300));
    let row = core.state().resources[&"alicloud_image.a".parse().expect("addr")].clone();
    assert_eq!(row.status, Status::Creating);
    assert!(row.id.is_some(), "the id is recorded before the wait");
    // The cloud answers again: the next apply resumes the wait, it does not create again.
    core.cloud.script(Box::new(|_, _| None));
    let (p, out, _) = core.apply(&hcl, false).await;
    assert_eq!(
        actions(&p),
        [("alicloud_image.a".to_string(), Action::Resume)]
    );
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(core.cloud.calls("CreateImage"), 1);
    assert_eq!(core.images(), 1);
    let row = &core.state().resources[&"alicloud_image.a".parse().expect("addr")];
    assert_eq!(row.status, Status::Ready);
}

#[tokio::test(start_paused = true)]
async fn a_refused_create_leaves_nothing_and_skips_its_dependents() {
    let core = Core::new();
    core.cloud.script(Box::new(|action, params| {
        (action == "CreateImage" && params.get("ImageName").map(String::as_str) == Some("core-a"))
            .then(|| {
                Err(ApiErr::new(
                    403,
                    "QuotaExceed.Image",
                    "The maximum number of custom images is exceeded.",
                ))
            })
    }));
    let hcl = format!(
        "{IMAGE}\nresource \"alicloud_image\" \"b\" {{\n  image_name  = \"core-b\"\n  snapshot_id = \"s-bp1system0001\"\n  description = alicloud_image.a.id\n}}\nresource \"alicloud_image\" \"c\" {{\n  image_name  = \"core-c\"\n  snapshot_id = \"s-bp1system0001\"\n}}\n"
    );
    let (_, out, events) = core.apply(&hcl, false).await;
    assert_eq!(out.failed.len(), 1);
    assert!(
        out.failed[0].1.contains("QuotaExceed.Image"),
        "{}",
        out.failed[0].1
    );
    assert_eq!(
        out.skipped
            .iter()
            .map(|s| s.0.to_string())
            .collect::<Vec<_>>(),
        ["alicloud_image.b"]
    );
    assert!(events.iter().any(
        |e| matches!(e, Event::Skipped { addr, .. } if addr.to_string() == "alicloud_image.b")
    ));
    assert_eq!(out.added, 1, "c does not depend on a and is made");
    let st = core.state();
    assert!(!st
        .resources
        .contains_key(&"alicloud_image.a".parse().expect("addr")));
    assert_eq!(core.images(), 1);
}

#[tokio::test(start_paused = true)]
async fn destroy_waits_out_image_is_creating_then_deletes() {
    let core = Core::new();
    let (_, out, _) = core.apply(IMAGE, false).await;
    assert!(out.failed.is_empty());
    let refusals = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let r = refusals.clone();
    core.cloud.script(Box::new(move |action, _| {
        (action == "DeleteImage" && r.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 2).then(
            || {
                Err(ApiErr::new(
                    403,
                    "ImageIsCreating",
                    "The specified image is being created.",
                ))
            },
        )
    }));
    let (p, out, events) = core.apply(IMAGE, true).await;
    assert_eq!(
        actions(&p),
        [("alicloud_image.a".to_string(), Action::Delete)]
    );
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(out.destroyed, 1);
    assert_eq!(
        core.cloud.calls("DeleteImage"),
        3,
        "two refusals, then the delete"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::Progress { status, .. } if status == "ImageIsCreating")));
    assert_eq!(core.images(), 0);
    assert!(core.state().resources.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_delete_that_never_succeeds_times_out_and_keeps_the_row() {
    let core = Core::new();
    let hcl = IMAGE.replace(
        "tags        = { team = \"core\" }",
        "tags        = { team = \"core\" }\n  timeouts {\n    delete = \"2m\"\n  }",
    );
    let (_, out, _) = core.apply(&hcl, false).await;
    assert!(out.failed.is_empty());
    core.cloud.script(Box::new(|action, _| {
        (action == "DeleteImage").then(|| {
            Err(ApiErr::new(
                403,
                "ImageIsCreating",
                "The specified image is being created.",
            ))
        })
    }));
    let (_, out, _) = core.apply(&hcl, true).await;
    assert_eq!(out.failed.len(), 1);
    assert!(
        out.failed[0].1.contains("timed out deleting image"),
        "{}",
        out.failed[0].1
    );
    let row = &core.state().resources[&"alicloud_image.a".parse().expect("addr")];
    assert_eq!(
        row.status,
        Status::Deleting,
        "the row says a delete is under way"
    );
    assert_eq!(core.images(), 1);
}

#[tokio::test(start_paused = true)]
async fn refresh_reads_changes_made_outside_and_objects_gone() {
    let core = Core::new();
    let (_, out, _) = core.apply(IMAGE, false).await;
    assert!(out.failed.is_empty());
    let ev = core.load(IMAGE);
    let sess = core.session(&ev);
    let id = core.state().resources[&"alicloud_image.a".parse().expect("addr")]
        .id
        .clone()
        .expect("id");
    let client = sess.client("alicloud", "cn-hangzhou").expect("client");
    client
        .call_raw(
            "TagResources",
            vec![
                ("RegionId".into(), "cn-hangzhou".into()),
                ("ResourceType".into(), "image".into()),
                ("ResourceId.1".into(), id.clone()),
                ("Tag.1.Key".into(), "team".into()),
                ("Tag.1.Value".into(), "someone-else".into()),
            ],
            None,
        )
        .await
        .expect("tag");
    let (refreshed, drift) = apply::refresh(&sess, core.state()).await.expect("refresh");
    assert_eq!(drift.len(), 1);
    assert!(!drift[0].deleted);
    assert_eq!(
        refreshed.resources[&"alicloud_image.a".parse().expect("addr")]
            .attrs
            .value()["tags"],
        json!({"team": "someone-else"})
    );
    // The plan changes it back in place.
    let (_, _, p) = core.plan(IMAGE, false).await;
    assert_eq!(
        actions(&p),
        [("alicloud_image.a".to_string(), Action::Update)]
    );
    client
        .call_raw(
            "DeleteImage",
            vec![
                ("RegionId".into(), "cn-hangzhou".into()),
                ("ImageId".into(), id),
            ],
            None,
        )
        .await
        .expect("delete");
    let (refreshed, drift) = apply::refresh(&sess, core.state()).await.expect("refresh");
    assert!(drift.len() == 1 && drift[0].deleted);
    assert!(refreshed.resources.is_empty());
}

#[tokio::test(start_paused = true)]
async fn one_poller_per_region_watches_every_image_in_batches_of_100() {
    let core = Core::new();
    let hcl = "resource \"alicloud_image\" \"w\" {\n  count       = 150\n  image_name  = \"w-${count.index}\"\n  snapshot_id = \"s-bp1system0001\"\n}\n";
    let (sess, ev, p) = core.plan(hcl, false).await;
    let out = walk::apply(
        sess.clone(),
        core.store.clone(),
        ev,
        &p,
        &walk::Options {
            parallelism: 200,
            max_in_progress: None,
        },
        Arc::new(imgform::events::Discard),
        Stop::new(),
    )
    .await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(out.added, 150);
    let stats = sess.poll_stats();
    assert_eq!(stats.len(), 1, "one poller: {stats:?}");
    let (ticks, calls, most) = *stats.values().next().expect("poller");
    assert!(most > 100, "images were watched together: {most}");
    assert!(
        calls <= 2 * ticks,
        "at most ceil(150/100) reads per tick: {calls} in {ticks}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_build_is_waited_to_its_end_and_destroy_takes_its_image_and_copies() {
    let core = Core::new();
    let hcl = r#"
resource "alicloud_ecs_image_pipeline" "p" {
  name            = "dist"
  base_image_type = "IMAGE"
  base_image      = "ubuntu_22_04_x64_20G_alibase_20240101.vhd"
  to_region_id    = ["cn-shanghai"]
  build_content   = "RUN echo one"

  image_options {
    image_name = "dist-built"
  }
}

resource "alicloud_ecs_image_pipeline_execution" "b" {
  image_pipeline_id       = alicloud_ecs_image_pipeline.p.id
  delete_image_on_destroy = true
}
"#;
    let (_, out, _) = core.apply(hcl, false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    let st = core.state();
    let b = &st.resources[&"alicloud_ecs_image_pipeline_execution.b"
        .parse()
        .expect("addr")];
    assert_eq!(b.attrs.value()["status"], "SUCCESS");
    assert_eq!(b.attrs.value()["_copy_regions"], json!(["cn-shanghai"]));
    let built = || {
        core.cloud.with(|c| {
            c.custom_images()
                .iter()
                .filter(|(_, n)| n.starts_with("dist-built"))
                .count()
        })
    };
    assert_eq!(built(), 2, "the image and its copy");
    let (_, out, _) = core.apply(hcl, true).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(out.destroyed, 2);
    assert_eq!(built(), 0);
    assert!(core.cloud.with(|c| c.live_pipelines().is_empty()));
}

#[tokio::test(start_paused = true)]
async fn apply_output_snapshot() {
    let core = Core::new();
    let (sess, ev, p) = core.plan(IMAGE, false).await;
    let buf = Arc::new(Mutex::new(Vec::<u8>::new()));
    struct W(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for W {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("never poisoned").extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let lines = imgform::render::apply::Lines::to_writer(
        Duration::from_secs(10),
        false,
        Box::new(W(buf.clone())),
    );
    let out = walk::apply(
        sess,
        core.store.clone(),
        ev,
        &p,
        &walk::Options {
            parallelism: 10,
            max_in_progress: None,
        },
        Arc::new(lines),
        Stop::new(),
    )
    .await;
    assert!(out.failed.is_empty());
    let text = String::from_utf8(buf.lock().expect("never poisoned").clone()).expect("utf-8");
    let id = regex::Regex::new(r"m-[0-9a-z]+").expect("regex");
    insta::assert_snapshot!(id.replace_all(&text, "m-ID"));
}

#[tokio::test(start_paused = true)]
async fn import_reads_through_the_kind_and_refuses_a_second_address() {
    let core = Core::new();
    let (_, out, _) = core.apply(IMAGE, false).await;
    assert!(out.failed.is_empty());
    let id = core.state().resources[&"alicloud_image.a".parse().expect("addr")]
        .id
        .clone()
        .expect("id");
    let ev = core.load(IMAGE);
    let sess = core.session(&ev);
    let b: imgform::addr::ResourceAddr = "alicloud_image.b".parse().expect("addr");
    let e = apply::import(&sess, &core.store, &b, "alicloud", &id)
        .await
        .expect_err("already managed");
    assert!(e.contains("already managed at alicloud_image.a"), "{e}");
    let e = apply::import(&sess, &core.store, &b, "alicloud", "m-doesnotexist")
        .await
        .expect_err("absent");
    assert!(
        e.contains("Cannot import non-existent remote object"),
        "{e}"
    );
    // Forget it, then import it at b: the attributes come back from the cloud.
    imgform::state::edit::rm(
        &mut core.store.lock().expect("lock"),
        &["alicloud_image.a".parse().expect("addr")],
        false,
    )
    .expect("rm");
    apply::import(&sess, &core.store, &b, "alicloud", &id)
        .await
        .expect("import");
    let row = &core.state().resources[&b];
    assert_eq!(row.id.as_deref(), Some(id.as_str()));
    assert_eq!(row.attrs.value()["image_name"], "core-a");
    assert_eq!(row.attrs.value()["tags"], json!({"team": "core"}));
}

const LIFECYCLE: &str = r#"
provider "alicloud" {
  alias  = "sh"
  region = "cn-shanghai"
}

resource "alicloud_image" "golden" {
  image_name  = "golden"
  snapshot_id = "s-bp1system0001"
}

resource "alicloud_image_copy" "sh" {
  provider         = alicloud.sh
  source_image_id  = alicloud_image.golden.id
  source_region_id = "cn-hangzhou"
  image_name       = "golden-sh"
  description      = "a copy"
  tags             = { team = "core" }
}

resource "alicloud_image_share_permission" "ops" {
  image_id   = alicloud_image.golden.id
  account_id = "1234567890123"
}

resource "alicloud_ecs_image_component" "base" {
  image_component_name = "base-setup"
  content              = "RUN echo hello"
  system_type          = "Linux"
  tags                 = { team = "core" }
}
"#;

fn copies(core: &Core) -> Vec<(String, String)> {
    core.cloud.with(|c| {
        c.custom_images()
            .into_iter()
            .filter(|(_, n)| n == "golden-sh")
            .collect()
    })
}

fn shared_with(core: &Core, id: &str) -> Vec<String> {
    core.cloud.with(|c| {
        c.image_record(id)
            .map(|i| i.shared_with)
            .unwrap_or_default()
    })
}

#[tokio::test(start_paused = true)]
async fn copies_shares_and_components_are_made_updated_read_and_destroyed() {
    let core = Core::new();
    let (p, out, _) = core.apply(LIFECYCLE, false).await;
    assert_eq!(actions(&p).len(), 4, "{:?}", actions(&p));
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    let st = core.state();
    let row = |a: &str| st.resources[&a.parse().expect("addr")].clone();
    let golden = row("alicloud_image.golden").id.expect("id");
    let copy = row("alicloud_image_copy.sh");
    assert_eq!(
        copy.region, "cn-shanghai",
        "the copy lives in its provider's region"
    );
    assert_eq!(copy.attrs.value()["status"], "Available");
    assert_eq!(
        copy.attrs.value()["tags"],
        json!({"team": "core"}),
        "the token tag is imgform's own"
    );
    assert_eq!(copies(&core).len(), 1);
    assert_eq!(core.cloud.calls("CopyImage"), 1);
    assert_eq!(
        row("alicloud_image_share_permission.ops").id,
        Some(format!("{golden}:1234567890123"))
    );
    assert_eq!(shared_with(&core, &golden), ["1234567890123"]);
    assert!(row("alicloud_ecs_image_component.base")
        .id
        .expect("id")
        .starts_with("ic-"));
    let (_, _, again) = core.plan(LIFECYCLE, false).await;
    assert!(actions(&again).is_empty(), "{:?}", actions(&again));

    // In place: the copy's description; replaced: the component's content.
    let changed = LIFECYCLE
        .replace("\"a copy\"", "\"the copy\"")
        .replace("RUN echo hello", "RUN echo bye");
    let (p, out, _) = core.apply(&changed, false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(
        actions(&p),
        [
            (
                "alicloud_ecs_image_component.base".to_string(),
                Action::DeleteThenCreate
            ),
            ("alicloud_image_copy.sh".to_string(), Action::Update),
        ]
    );
    let copy_id = core.state().resources[&"alicloud_image_copy.sh".parse().expect("addr")]
        .id
        .clone()
        .expect("id");
    let described = core
        .cloud
        .with(|c| c.image_record(&copy_id).expect("copy").description);
    assert_eq!(described, "the copy");

    // Drift: the share removed outside imgform is shared again.
    core.cloud.with(|c| {
        let mut i = c.image_record(&golden).expect("image");
        i.shared_with.clear();
        c.replace_image(i);
    });
    let (p, out, _) = core.apply(&changed, false).await;
    assert_eq!(
        actions(&p),
        [(
            "alicloud_image_share_permission.ops".to_string(),
            Action::Create
        )]
    );
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(shared_with(&core, &golden), ["1234567890123"]);

    // Destroy: the share goes before the image (a shared image cannot be deleted).
    let (_, out, _) = core.apply(&changed, true).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(out.destroyed, 4);
    assert_eq!(core.images(), 0);
    assert!(core.cloud.with(|c| c.live_components().is_empty()));
}

#[tokio::test(start_paused = true)]
async fn a_lost_copy_answer_is_adopted_by_its_tag_never_copied_twice() {
    let core = Core::new();
    let hcl = LIFECYCLE
        .split("resource \"alicloud_image_share_permission\"")
        .next()
        .expect("head");
    let (_, out, _) = core.apply(hcl, false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    // Destroy the copy only, then make it again while CopyImage's answers are lost.
    let without_copy = hcl
        .split("resource \"alicloud_image_copy\"")
        .next()
        .expect("head");
    let (_, out, _) = core.apply(without_copy, false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert!(copies(&core).is_empty());
    core.cloud.with(|c| {
        c.set_faults(localcloud::Faults {
            lost: 1.0,
            only: vec!["CopyImage".into()],
            ..Default::default()
        })
    });
    let (_, out, _) = core.apply(hcl, false).await;
    assert_eq!(out.failed.len(), 1);
    assert!(
        out.failed[0]
            .1
            .contains("the outcome of CopyImage is unknown"),
        "{}",
        out.failed[0].1
    );
    assert_eq!(copies(&core).len(), 1, "the cloud made the copy");
    core.cloud
        .with(|c| c.set_faults(localcloud::Faults::default()));
    let calls = core.cloud.calls("CopyImage");
    let (p, out, _) = core.apply(hcl, false).await;
    assert_eq!(
        actions(&p),
        [("alicloud_image_copy.sh".to_string(), Action::Resume)]
    );
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(
        core.cloud.calls("CopyImage"),
        calls,
        "found by its tag, not sent again"
    );
    assert_eq!(copies(&core).len(), 1);
    let row = &core.state().resources[&"alicloud_image_copy.sh".parse().expect("addr")];
    assert_eq!(row.id.as_deref(), Some(copies(&core)[0].0.as_str()));
}

#[tokio::test(start_paused = true)]
async fn a_copy_in_progress_is_cancelled_on_destroy_and_shares_import_by_id() {
    let core = Core::new();
    let hcl = LIFECYCLE
        .split("resource \"alicloud_ecs_image_component\"")
        .next()
        .expect("head");
    let (_, out, _) = core.apply(hcl, false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    let st = core.state();
    let golden = st.resources[&"alicloud_image.golden".parse().expect("addr")]
        .id
        .clone()
        .expect("id");
    let copy = st.resources[&"alicloud_image_copy.sh".parse().expect("addr")]
        .id
        .clone()
        .expect("id");
    // The copy is still being made when the destroy comes.
    core.cloud.with(|c| {
        let mut i = c.image_record(&copy).expect("copy");
        i.started = c.now();
        c.replace_image(i);
    });
    let ev = core.load(hcl);
    let sess = core.session(&ev);
    let share: imgform::addr::ResourceAddr =
        "alicloud_image_share_permission.ops".parse().expect("addr");
    imgform::state::edit::rm(
        &mut core.store.lock().expect("lock"),
        std::slice::from_ref(&share),
        false,
    )
    .expect("rm");
    apply::import(
        &sess,
        &core.store,
        &share,
        "alicloud",
        &format!("{golden}:1234567890123"),
    )
    .await
    .expect("import by id");
    assert_eq!(
        core.state().resources[&share].attrs.value()["account_id"],
        "1234567890123"
    );
    let (_, out, _) = core.apply(hcl, true).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(core.cloud.calls("CancelCopyImage"), 1);
    assert_eq!(core.images(), 0);
}

const EXPORT: &str = r#"
resource "alicloud_image" "golden" {
  image_name  = "golden"
  snapshot_id = "s-bp1system0001"
}

resource "alicloud_image_export" "archive" {
  image_id     = alicloud_image.golden.id
  oss_bucket   = "imgform-quickstart"
  oss_prefix   = "archive"
  image_format = "qcow2"
}
"#;

#[tokio::test(start_paused = true)]
async fn an_export_is_waited_on_through_its_task_and_a_lost_answer_exports_once() {
    let core = Core::new();
    core.cloud.with(|c| {
        c.set_faults(localcloud::Faults {
            lost: 1.0,
            only: vec!["ExportImage".into()],
            ..Default::default()
        })
    });
    let (_, out, _) = core.apply(EXPORT, false).await;
    assert_eq!(out.failed.len(), 1, "{:?}", out.failed);
    assert!(
        out.failed[0]
            .1
            .contains("the outcome of ExportImage is unknown"),
        "{}",
        out.failed[0].1
    );
    core.cloud
        .with(|c| c.set_faults(localcloud::Faults::default()));
    let (p, out, _) = core.apply(EXPORT, false).await;
    assert_eq!(
        actions(&p),
        [("alicloud_image_export.archive".to_string(), Action::Resume)]
    );
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(
        core.cloud.calls("ExportImage"),
        1,
        "found by its task, not exported twice"
    );
    let st = core.state();
    let golden = st.resources[&"alicloud_image.golden".parse().expect("addr")]
        .id
        .clone()
        .expect("id");
    let export = &st.resources[&"alicloud_image_export.archive".parse().expect("addr")];
    assert_eq!(
        export.id.as_deref(),
        Some(golden.as_str()),
        "the export's id is its image's, as in the provider"
    );
    assert_eq!(export.attrs.value()["status"], "Finished");
    assert!(export.attrs.value()["task_id"]
        .as_str()
        .is_some_and(|t| t.starts_with("t-")));
    let object = format!("archive{golden}_system.qcow2");
    assert!(core
        .cloud
        .with(|c| c.oss_objects("cn-hangzhou"))
        .contains(&("imgform-quickstart".to_string(), object.clone())));
    let (_, _, again) = core.plan(EXPORT, false).await;
    assert!(actions(&again).is_empty(), "{:?}", actions(&again));
    let (_, out, _) = core.apply(EXPORT, true).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(core.images(), 0);
    assert!(
        core.cloud
            .with(|c| c.oss_objects("cn-hangzhou"))
            .contains(&("imgform-quickstart".to_string(), object)),
        "the exported file stays in OSS, as the provider leaves it"
    );
}

#[tokio::test(start_paused = true)]
async fn an_oss_key_without_a_suffix_imports_as_on_ecs() {
    let core = Core::new();
    let hcl = r#"
resource "alicloud_image_import" "plain" {
  image_name   = "plain-key"
  architecture = "x86_64"
  os_type      = "linux"
  platform     = "Ubuntu"
  disk_device_mapping {
    oss_bucket      = "imgform-quickstart"
    oss_object      = "tf-oss-bucket-object-key"
    format          = "qcow2"
    disk_image_size = 20
  }
}
"#;
    let (_, out, _) = core.apply(hcl, false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(core.images(), 1);
}

#[tokio::test(start_paused = true)]
async fn the_builder_data_sources_read_every_page_and_filter_by_name() {
    let core = Core::new();
    let mut hcl = String::new();
    for i in 0..3 {
        hcl.push_str(&format!(
            "resource \"alicloud_ecs_image_component\" \"c{i}\" {{\n  image_component_name = \"{}-{i}\"\n  content = \"RUN echo {i}\"\n}}\n",
            if i == 2 { "other" } else { "web" }
        ));
    }
    hcl.push_str("resource \"alicloud_ecs_image_pipeline\" \"p\" {\n  name            = \"web-pipe\"\n  base_image_type = \"IMAGE\"\n  base_image      = \"ubuntu_22_04_x64_20G_alibase_20240101.vhd\"\n  build_content   = \"COMPONENT ${alicloud_ecs_image_component.c0.id}\"\n}\n");
    let (p, out, _) = core.apply(&hcl, false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    // The pipeline refers to a component: it is made after it.
    let pipe = p
        .changes
        .iter()
        .find(|c| c.addr.to_string() == "alicloud_ecs_image_pipeline.p")
        .expect("pipeline");
    assert!(
        pipe.deps
            .iter()
            .any(|d| d == "alicloud_ecs_image_component.c0"),
        "{:?}",
        pipe.deps
    );
    let ev = core.load(&hcl);
    let sess = core.session(&ev);
    let client = sess.client("alicloud", "cn-hangzhou").expect("client");
    let comps = imgform::resource::data_kind("alicloud_ecs_image_components").expect("kind");
    let v = comps
        .read(&client, &json!({"name_regex": "^web-"}))
        .await
        .expect("read");
    let mut names: Vec<String> = v["names"]
        .as_array()
        .expect("names")
        .iter()
        .map(|n| n.as_str().expect("name").to_string())
        .collect();
    names.sort();
    assert_eq!(names, ["web-0", "web-1"]);
    let web0 = v["components"]
        .as_array()
        .expect("components")
        .iter()
        .find(|x| x["image_component_name"] == "web-0")
        .expect("web-0");
    assert_eq!(web0["content"], json!("RUN echo 0"));
    let v = comps
        .read(&client, &json!({"owner": "ALIYUN"}))
        .await
        .expect("read");
    assert_eq!(v["ids"], json!([]));
    let pipes = imgform::resource::data_kind("alicloud_ecs_image_pipelines").expect("kind");
    let v = pipes
        .read(&client, &json!({"name": "web-pipe"}))
        .await
        .expect("read");
    assert_eq!(v["names"], json!(["web-pipe"]));
    assert!(v["pipelines"][0]["build_content"]
        .as_str()
        .is_some_and(|b| b.starts_with("COMPONENT ic-")));
}

#[tokio::test(start_paused = true)]
async fn cloud_seed_adds_accounts_components_and_resource_groups() {
    let core = Core::new();
    let said = core
        .cloud
        .with(|c| {
            c.seed_from(&json!({"regions": {"cn-hangzhou": {
                "accounts": ["1234567890123"],
                "resource_groups": ["rg-seeded0001"],
                "components": [{"id": "ic-seededbase000001", "name": "seeded-base", "content": "RUN echo base"}],
            }}}))
        })
        .expect("seed");
    assert_eq!(said, "1 accounts, 1 components, 1 resource groups");
    // A seeded component can be used by id; a share with an account the world does not
    // have is refused by the cloud, with its code.
    let hcl = r#"
resource "alicloud_image" "golden" {
  image_name        = "golden"
  snapshot_id       = "s-bp1system0001"
  resource_group_id = "rg-seeded0001"
}

resource "alicloud_image_share_permission" "stranger" {
  image_id   = alicloud_image.golden.id
  account_id = "9999999999999"
}

resource "alicloud_ecs_image_pipeline" "p" {
  name            = "uses-seeded"
  base_image_type = "IMAGE"
  base_image      = "ubuntu_22_04_x64_20G_alibase_20240101.vhd"
  build_content   = "COMPONENT ic-seededbase000001"
}
"#;
    let (_, out, _) = core.apply(hcl, false).await;
    assert_eq!(out.added, 2, "{:?}", out.failed);
    assert_eq!(out.failed.len(), 1);
    assert!(
        out.failed[0].1.contains("InvalidAccount.NotFound"),
        "{}",
        out.failed[0].1
    );
    let ev = core.load(hcl);
    let sess = core.session(&ev);
    let client = sess.client("alicloud", "cn-hangzhou").expect("client");
    let comps = imgform::resource::data_kind("alicloud_ecs_image_components").expect("kind");
    let v = comps.read(&client, &json!({})).await.expect("read");
    assert_eq!(v["ids"], json!(["ic-seededbase000001"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_component_named_by_literal_id_must_exist_when_the_plan_is_made() {
    let core = Core::new();
    core.cloud
        .with(|c| {
            c.seed_from(&json!({"regions": {"cn-hangzhou": {
                "components": [{"id": "ic-seededbase000001", "name": "seeded-base"}],
            }}}))
        })
        .expect("seed");
    let plan_with = |content: &str| {
        let hcl = format!(
            "resource \"alicloud_ecs_image_pipeline\" \"p\" {{\n  name            = \"pipe\"\n  base_image_type = \"IMAGE\"\n  base_image      = \"ubuntu_22_04_x64_20G_alibase_20240101.vhd\"\n  build_content   = \"{content}\"\n}}\n"
        );
        let ev = core.load(&hcl);
        let sess = core.session(&ev);
        let state = state_of(&core.store);
        let opts = PlanOptions::default();
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
        (p.is_some(), diags)
    };
    let (ok, diags) = plan_with("COMPONENT ic-seededbase000001");
    assert!(ok && !diags.has_errors(), "{diags:?}");
    let (ok, diags) = plan_with("RUN echo a\\nCOMPONENT ic-doesnotexist00001");
    assert!(!ok || diags.has_errors());
    let d = diags
        .0
        .iter()
        .find(|d| d.summary == "Reference to an object that does not exist")
        .expect("the diagnostic");
    assert!(d.detail.contains("ic-doesnotexist00001"), "{}", d.detail);
    let span = d.span.as_ref().expect("a span");
    let text = std::fs::read_to_string(core.dir.path().join("main.hcl")).expect("read");
    assert!(
        text[span.range.clone()].contains("ic-doesnotexist00001"),
        "the span is build_content's value: {:?}",
        &text[span.range.clone()]
    );
}

#[tokio::test(start_paused = true)]
async fn copies_and_components_import_by_id_and_a_copy_drifts() {
    let core = Core::new();
    let hcl = LIFECYCLE.replace(
        "resource \"alicloud_image_share_permission\" \"ops\" {\n  image_id   = alicloud_image.golden.id\n  account_id = \"1234567890123\"\n}\n",
        "",
    );
    let (_, out, _) = core.apply(&hcl, false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    let st = core.state();
    let id_of = |a: &str| {
        st.resources[&a.parse().expect("addr")]
            .id
            .clone()
            .expect("id")
    };
    let (copy, comp) = (
        id_of("alicloud_image_copy.sh"),
        id_of("alicloud_ecs_image_component.base"),
    );
    // Tags changed outside imgform on the copy are drift, planned back in place.
    core.cloud.with(|c| {
        let mut i = c.image_record(&copy).expect("copy");
        i.tags = vec![("team".into(), "someone-else".into())];
        c.replace_image(i);
    });
    let (_, _, p) = core.plan(&hcl, false).await;
    assert_eq!(
        actions(&p),
        [("alicloud_image_copy.sh".to_string(), Action::Update)]
    );
    // Forget both, import them back by id: the next plan changes nothing.
    let ev = core.load(&hcl);
    let sess = core.session(&ev);
    let addrs: Vec<imgform::addr::ResourceAddr> = [
        "alicloud_image_copy.sh",
        "alicloud_ecs_image_component.base",
    ]
    .iter()
    .map(|a| a.parse().expect("addr"))
    .collect();
    imgform::state::edit::rm(&mut core.store.lock().expect("lock"), &addrs, false).expect("rm");
    apply::import(&sess, &core.store, &addrs[0], "alicloud.sh", &copy)
        .await
        .expect("import the copy");
    apply::import(&sess, &core.store, &addrs[1], "alicloud", &comp)
        .await
        .expect("import the component");
    let st = core.state();
    assert_eq!(st.resources[&addrs[0]].region, "cn-shanghai");
    assert_eq!(
        st.resources[&addrs[1]].attrs.value()["content"],
        "RUN echo hello"
    );
    let (_, out, _) = core.apply(&hcl, false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    let (_, _, p) = core.plan(&hcl, false).await;
    assert!(actions(&p).is_empty(), "{:?}", actions(&p));
}

#[tokio::test(start_paused = true)]
async fn a_component_updates_its_tags_in_place_and_a_vanished_export_is_made_again() {
    let core = Core::new();
    let hcl = format!("{EXPORT}\nresource \"alicloud_ecs_image_component\" \"c\" {{\n  image_component_name = \"tagged\"\n  content              = \"RUN echo hi\"\n  tags                 = {{ team = \"a\" }}\n}}\n");
    let (_, out, _) = core.apply(&hcl, false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    let retagged = hcl.replace("team = \"a\"", "team = \"b\", env = \"prod\"");
    let (p, out, _) = core.apply(&retagged, false).await;
    assert_eq!(
        actions(&p),
        [("alicloud_ecs_image_component.c".to_string(), Action::Update)]
    );
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(core.cloud.calls("TagResources"), 1);
    let (_, _, again) = core.plan(&retagged, false).await;
    assert!(
        actions(&again).is_empty(),
        "the tags were read back: {:?}",
        actions(&again)
    );
    // The export's task is gone from the cloud: drift, and the export is made again.
    let export =
        core.state().resources[&"alicloud_image_export.archive".parse().expect("addr")].clone();
    let task = export.attrs.value()["task_id"]
        .as_str()
        .expect("task")
        .to_string();
    let ev = core.load(&retagged);
    let sess = core.session(&ev);
    let (refreshed, drift) = apply::refresh(&sess, core.state()).await.expect("refresh");
    assert!(drift.is_empty(), "{drift:?}");
    assert!(refreshed.resources.contains_key(&export.addr));
    core.cloud.with(|c| c.forget_task(&task));
    let (p, out, _) = core.apply(&retagged, false).await;
    assert_eq!(
        actions(&p),
        [("alicloud_image_export.archive".to_string(), Action::Create)]
    );
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(core.cloud.calls("ExportImage"), 2);
}

#[tokio::test(start_paused = true)]
async fn issue_28_a_snapshot_deleted_under_a_running_create_fails_cleanly_and_orphans_nothing() {
    // While the first image is being made, its snapshot is deleted (refused: an image is
    // made from it) and so is the snapshot of the second image, which waits for the first.
    let core = Core::new();
    let hcl = r#"
resource "alicloud_image" "a" {
  image_name  = "first"
  snapshot_id = "s-bp1qs0000000000web"
}

resource "alicloud_image" "b" {
  image_name  = "second"
  snapshot_id = "s-bp1system0002"
  depends_on  = [alicloud_image.a]
}
"#;
    let cloud = Arc::downgrade(&core.cloud);
    let answers: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = answers.clone();
    core.cloud.script(Box::new(move |action, _| {
        if action != "DescribeImages" || !seen.lock().expect("never poisoned").is_empty() {
            return None;
        }
        let c = cloud.upgrade()?;
        let codes: Vec<String> = ["s-bp1qs0000000000web", "s-bp1system0002"]
            .iter()
            .map(|s| {
                match c.with(|c| {
                    c.act(
                        "DeleteSnapshot",
                        &[("RegionId", "cn-hangzhou"), ("SnapshotId", s)],
                    )
                }) {
                    Ok(_) => "deleted".to_string(),
                    Err(e) => e.code,
                }
            })
            .collect();
        *seen.lock().expect("never poisoned") = codes;
        None
    }));
    let (_, out, _) = core.apply(hcl, false).await;
    assert_eq!(
        *answers.lock().expect("never poisoned"),
        ["SnapshotCreatedImage", "deleted"],
        "ECS keeps a snapshot an image is made from"
    );
    assert_eq!(out.added, 1, "{out:?}");
    assert_eq!(out.failed.len(), 1, "{out:?}");
    assert_eq!(out.failed[0].0.to_string(), "alicloud_image.b");
    assert!(
        out.failed[0].1.contains("InvalidSnapshotId.NotFound"),
        "{out:?}"
    );
    // Nothing orphaned, no row without its object: the refused create left no row.
    let st = core.state();
    let rows: Vec<String> = st.resources.keys().map(|a| a.to_string()).collect();
    assert_eq!(rows, ["alicloud_image.a"]);
    assert_eq!(
        st.resources.values().next().map(|r| r.status),
        Some(Status::Ready)
    );
    assert_eq!(core.images(), 1);
    // Deleting a snapshot that no image uses any more, or one that is not there, is quiet.
    core.cloud.with(|c| {
        assert!(c
            .act(
                "DeleteSnapshot",
                &[("RegionId", "cn-hangzhou"), ("SnapshotId", "s-none")]
            )
            .is_ok());
        let e = c
            .act("DeleteSnapshot", &[("RegionId", "cn-hangzhou")])
            .expect_err("missing");
        assert_eq!(e.code, "MissingParameter");
    });
}

#[tokio::test(start_paused = true)]
async fn a_replacement_whose_new_object_vanishes_keeps_the_object_it_was_replacing() {
    // create_before_destroy: the new image is deleted out of band while it is made. The
    // row must go back to the image being replaced (tainted, so the next plan replaces it
    // again), not keep the vanished id, which the next refresh would drop with the old
    // image still in the cloud.
    let core = Core::new();
    let v1 = r#"
resource "alicloud_image" "a" {
  image_name  = "cbd"
  snapshot_id = "s-bp1qs0000000000web"

  lifecycle {
    create_before_destroy = true
  }
}
"#;
    let (_, out, _) = core.apply(v1, false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    let old = core
        .state()
        .resources
        .values()
        .next()
        .and_then(|r| r.id.clone())
        .expect("id");
    // A new name too: two images of one name cannot exist at once, as on ECS.
    let v2 = v1
        .replace("s-bp1qs0000000000web", "s-bp1system0002")
        .replace("\"cbd\"", "\"cbd-2\"");
    let cloud = Arc::downgrade(&core.cloud);
    let created = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let seen = created.clone();
    let keep = old.clone();
    core.cloud.script(Box::new(move |action, _| {
        if action == "CreateImage" {
            seen.store(true, std::sync::atomic::Ordering::SeqCst);
        } else if action == "DescribeImages" && seen.load(std::sync::atomic::Ordering::SeqCst) {
            let c = cloud.upgrade()?;
            c.with(|c| {
                for (id, _) in c.custom_images() {
                    if id != keep {
                        let mut img = c.image_record(&id).expect("listed");
                        img.deleted = true;
                        c.replace_image(img);
                    }
                }
            });
        }
        None
    }));
    let (_, out, _) = core.apply(&v2, false).await;
    assert_eq!(out.failed.len(), 1, "{out:?}");
    assert!(out.failed[0].1.contains("no longer lists"), "{out:?}");
    let row = core
        .state()
        .resources
        .values()
        .next()
        .cloned()
        .expect("the row stays");
    assert_eq!(
        row.id.as_deref(),
        Some(old.as_str()),
        "back to the image being replaced"
    );
    assert_eq!(row.status, Status::Tainted);
    assert_eq!(
        core.images(),
        1,
        "the old image is still there, and managed"
    );
    core.cloud.script(Box::new(|_, _| None));
    let (p, out, _) = core.apply(&v2, false).await;
    assert!(out.failed.is_empty(), "{:?}", out.failed);
    assert_eq!(p.changes[0].action, Action::CreateThenDelete);
    assert_eq!(
        core.images(),
        1,
        "the replacement, and the old image deleted"
    );
    let now = core
        .state()
        .resources
        .values()
        .next()
        .and_then(|r| r.id.clone())
        .expect("id");
    assert_ne!(now, old);
}
