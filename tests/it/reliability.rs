//! Nothing lost, nothing doubled, under the faults a real cloud produces: answers lost after
//! the cloud acted, server errors after the cloud acted, creates refused in the middle of a
//! replacement. Duplicates are counted among the cloud's own objects (ids of images,
//! pipelines and builds), not by names the cloud already refuses to repeat.

use crate::util::imgform;
use imgform::localcloud::{Cloud, Options};
use std::path::Path;
use std::process::Output;

const SPEED: &str = "600";

fn run_with(dir: &Path, faults: &str, args: &[&str]) -> Output {
    imgform(dir)
        .env("IMGFORM_LOCAL_SPEED", SPEED)
        .env("IMGFORM_LOCAL_FAULTS", faults)
        .args(["--cloud", "local"])
        .args(args)
        .output()
        .expect("runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn cloud(dir: &Path) -> Cloud {
    Cloud::open(&Options {
        data: Some(dir.join(".imgform/local-cloud")),
        ..Options::default()
    })
    .expect("opens")
}

/// Live custom images by name, with how many objects carry each name.
fn image_counts(dir: &Path) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for (_, name) in cloud(dir).custom_images() {
        *m.entry(name).or_default() += 1;
    }
    m
}

fn plan_is_empty(dir: &Path) {
    let o = run_with(dir, "", &["plan", "--detailed-exitcode"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

const EVERY_KIND: &str = r#"
provider "alicloud" {
  region      = "cn-hangzhou"
  max_retries = 0
}

resource "alicloud_image" "web" {
  image_name  = "web-lost"
  snapshot_id = "s-bp1qs0000000000web"
}

resource "alicloud_image_import" "base" {
  image_name = "base-lost"
  os_type    = "linux"
  platform   = "Debian"

  disk_device_mapping {
    oss_bucket = "imgform-quickstart"
    oss_object = "images/debian-12.raw"
    format     = "RAW"
  }
}

resource "alicloud_ecs_image_pipeline" "p" {
  name            = "lost-pipeline"
  base_image_type = "IMAGE"
  base_image      = alicloud_image_import.base.id
  build_content   = "RUN echo hi"

  image_options {
    image_name = "built-lost"
  }
}

resource "alicloud_ecs_image_pipeline_execution" "b" {
  image_pipeline_id       = alicloud_ecs_image_pipeline.p.id
  delete_image_on_destroy = true
}
"#;

#[test]
fn lost_create_answers_are_sent_again_never_duplicated_for_every_kind() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(d.path().join("main.hcl"), EVERY_KIND).expect("write");
    // Each round, the answers of some creates are lost (the connection is reset after the
    // operation ran) or turn into a 500 after it ran; what they wait for resumes with its
    // ClientToken. No retries are configured, so each fault reaches the walk.
    let rounds = [
        (
            "lost=1,only=CreateImage+ImportImage",
            &["CreateImage", "ImportImage"][..],
        ),
        (
            "lost=1,only=CreateImagePipeline",
            &["CreateImagePipeline"][..],
        ),
        (
            "error500_after=1,only=StartImagePipelineExecution",
            &["StartImagePipelineExecution"][..],
        ),
    ];
    for (faults, actions) in rounds {
        let o = run_with(d.path(), faults, &["apply", "--auto-approve"]);
        assert_eq!(o.status.code(), Some(1), "{faults}: {}", text(&o));
        for action in actions {
            assert!(
                text(&o).contains(&format!("the outcome of {action} is unknown")),
                "{action}: {}",
                text(&o)
            );
        }
    }
    let c = cloud(d.path());
    assert_eq!(c.live_pipelines().len(), 1, "the cloud made the pipeline");
    assert_eq!(c.builds().len(), 1, "the cloud started the build");
    drop(c);
    // Round 3: the network heals.
    let o = run_with(d.path(), "", &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let c = cloud(d.path());
    assert_eq!(c.live_pipelines().len(), 1, "one pipeline");
    assert_eq!(c.builds().len(), 1, "one build");
    let counts = image_counts(d.path());
    assert_eq!(counts.get("web-lost"), Some(&1), "{counts:?}");
    assert_eq!(counts.get("base-lost"), Some(&1), "{counts:?}");
    let built: usize = counts
        .iter()
        .filter(|(n, _)| n.starts_with("built-lost"))
        .map(|x| *x.1)
        .sum();
    assert_eq!(built, 1, "{counts:?}");
    plan_is_empty(d.path());
    // And everything goes on destroy.
    let o = run_with(d.path(), "", &["destroy", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(image_counts(d.path()).len(), 0);
    assert_eq!(cloud(d.path()).live_pipelines().len(), 0);
}

const CBD: &str = r#"
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "web" {
  image_name  = "web-cbd"
  snapshot_id = "s-bp1qs0000000000web"
  platform    = "Ubuntu"

  lifecycle {
    create_before_destroy = true
  }
}
"#;

fn state_row(dir: &Path) -> serde_json::Value {
    let o = imgform(dir).args(["state", "pull"]).output().expect("runs");
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    v["resources"]
        .as_array()
        .and_then(|a| a.first().cloned())
        .unwrap_or(serde_json::Value::Null)
}

#[test]
fn a_refused_create_during_create_before_destroy_keeps_the_old_object_managed() {
    let d = tempfile::tempdir().expect("tmp");
    let main = d.path().join("main.hcl");
    std::fs::write(&main, CBD).expect("write");
    let o = run_with(d.path(), "", &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let old: Vec<String> = cloud(d.path())
        .custom_images()
        .into_iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(old.len(), 1);
    // The replacement's create is refused by the cloud (the snapshot does not exist).
    std::fs::write(
        &main,
        CBD.replace("s-bp1qs0000000000web", "s-bp1doesnotexist01"),
    )
    .expect("write");
    let o = run_with(d.path(), "", &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("InvalidSnapshotId.NotFound"),
        "{}",
        text(&o)
    );
    let row = state_row(d.path());
    assert_eq!(
        row["id"],
        old[0].as_str(),
        "the old object stays managed: {row}"
    );
    assert_eq!(row["status"], "ready", "{row}");
    // The same after an interrupted destroy: the row is `deleting` when the refusal comes.
    let mut st = imgform::state::State::from_json(&{
        let o = imgform(d.path())
            .args(["state", "pull"])
            .output()
            .expect("runs");
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("json")
    })
    .expect("state");
    for r in st.resources.values_mut() {
        r.status = imgform::state::Status::Deleting;
    }
    st.serial += 1;
    let f = d.path().join("pushed.json");
    std::fs::write(&f, st.to_json().to_string()).expect("write");
    let o = imgform(d.path())
        .args(["state", "push", f.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", text(&o));
    let o = run_with(d.path(), "", &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let row = state_row(d.path());
    assert_eq!(row["id"], old[0].as_str(), "still managed: {row}");
    // A good configuration converges: the new image made, the old one deleted, one left.
    // (Image names are unique in a region, so a create_before_destroy renames.)
    std::fs::write(
        &main,
        CBD.replace("s-bp1qs0000000000web", "s-bp1system0002")
            .replace("web-cbd", "web-cbd-2"),
    )
    .expect("write");
    let o = run_with(d.path(), "", &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let now: Vec<String> = cloud(d.path())
        .custom_images()
        .into_iter()
        .map(|x| x.0)
        .collect();
    assert_eq!(now.len(), 1, "{now:?}");
    assert_ne!(now[0], old[0], "replaced");
    plan_is_empty(d.path());
}

fn addresses(dir: &Path) -> Vec<String> {
    let o = imgform(dir).args(["state", "pull"]).output().expect("runs");
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let mut a: Vec<String> = v["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .map(|r| r["address"].as_str().expect("address").to_string())
        .collect();
    a.sort();
    a
}

fn crashed(dir: &Path, at: &str, args: &[&str]) -> Output {
    imgform(dir)
        .env("IMGFORM_LOCAL_SPEED", SPEED)
        .env("IMGFORM_CRASH_AT", at)
        .args(args)
        .output()
        .expect("runs")
}

const TWO: &str = r#"
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "a" {
  count       = 2
  image_name  = "two-${count.index}"
  snapshot_id = "s-bp1qs0000000000web"
}
"#;

#[test]
fn state_edits_are_atomic_when_killed_at_any_state_write() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(d.path().join("main.hcl"), TWO).expect("write");
    let o = run_with(d.path(), "", &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let both = ["alicloud_image.a[0]", "alicloud_image.a[1]"];
    assert_eq!(addresses(d.path()), both);
    let pulled = imgform(d.path())
        .args(["state", "pull"])
        .output()
        .expect("runs")
        .stdout;
    for n in 1..=3 {
        let at = format!("state_write:{n}");
        // state mv: one object at one address, before and after, never two or none.
        let o = crashed(
            d.path(),
            &at,
            &["state", "mv", "alicloud_image.a[0]", "alicloud_image.moved"],
        );
        let now = addresses(d.path());
        let moved = ["alicloud_image.a[1]", "alicloud_image.moved"];
        assert!(
            now == both || now == moved,
            "{at}: state mv left {now:?} ({})",
            text(&o)
        );
        if now == moved {
            let o = imgform(d.path())
                .args(["state", "mv", "alicloud_image.moved", "alicloud_image.a[0]"])
                .output()
                .expect("runs");
            assert!(o.status.success(), "{}", text(&o));
        }
        // state rm of two addresses: both go, or neither.
        let o = crashed(d.path(), &at, &["state", "rm", both[0], both[1]]);
        let now = addresses(d.path());
        assert!(
            now == both || now.is_empty(),
            "{at}: state rm left {now:?} ({})",
            text(&o)
        );
        // state push: the old state or the new one, never a mix.
        let mut v: serde_json::Value = serde_json::from_slice(&pulled).expect("json");
        v["serial"] = serde_json::json!(1000 + n);
        let f = d.path().join("push.json");
        std::fs::write(&f, v.to_string()).expect("write");
        let before = addresses(d.path());
        let o = crashed(
            d.path(),
            &at,
            &["state", "push", "--force", f.to_str().expect("utf-8")],
        );
        let now = addresses(d.path());
        assert!(
            now == before || now == both,
            "{at}: state push left {now:?} ({})",
            text(&o)
        );
        if now != both {
            let o = imgform(d.path())
                .args(["state", "push", "--force", f.to_str().expect("utf-8")])
                .output()
                .expect("runs");
            assert!(o.status.success(), "{}", text(&o));
        }
        assert_eq!(addresses(d.path()), both);
    }
    // A moved block, killed at each of the apply's first state writes, then applied again:
    // the object ends at the new address, once, and the cloud keeps both images.
    let moved = format!(
        "{}\nmoved {{\n  from = alicloud_image.a[1]\n  to   = alicloud_image.b\n}}\n\nresource \"alicloud_image\" \"b\" {{\n  image_name  = \"two-1\"\n  snapshot_id = \"s-bp1qs0000000000web\"\n}}\n",
        TWO.replace("count       = 2", "count       = 1")
    );
    std::fs::write(d.path().join("main.hcl"), moved).expect("write");
    for n in 1..=2 {
        let at = format!("state_write:{n}");
        crashed(
            d.path(),
            &at,
            &["--cloud", "local", "apply", "--auto-approve"],
        );
        let now = addresses(d.path());
        assert!(
            now == both || now == ["alicloud_image.a[0]", "alicloud_image.b"],
            "{at}: moved left {now:?}"
        );
    }
    let o = run_with(d.path(), "", &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        addresses(d.path()),
        ["alicloud_image.a[0]", "alicloud_image.b"]
    );
    assert_eq!(image_counts(d.path()).len(), 2, "nothing deleted or made");
    plan_is_empty(d.path());
}

const BUILD: &str = r#"
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_ecs_image_pipeline" "p" {
  name            = "dist"
  base_image_type = "IMAGE"
  base_image      = "ubuntu_22_04_x64_20G_alibase_20240101.vhd"
  to_region_id    = ["cn-shanghai", "cn-beijing"]
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

fn built(dir: &Path) -> usize {
    cloud(dir)
        .custom_images()
        .iter()
        .filter(|(_, n)| n.starts_with("dist-built"))
        .count()
}

#[test]
fn builds_leave_no_images_behind_when_they_fail_or_their_pipeline_is_replaced() {
    let d = tempfile::tempdir().expect("tmp");
    let main = d.path().join("main.hcl");
    let keep = BUILD.replace(
        "delete_image_on_destroy = true",
        "delete_image_on_destroy = false",
    );
    std::fs::write(&main, &keep).expect("write");
    // A build that fails: its CreateFailed images (here and in both target regions) are
    // recorded, and go when the tainted build is replaced, even though a successful
    // build's image would be kept (delete_image_on_destroy = false).
    let o = run_with(
        d.path(),
        "fail_create=1,only=StartImagePipelineExecution",
        &["apply", "--auto-approve"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("ended FAILED"), "{}", text(&o));
    let o = imgform(d.path())
        .args(["state", "pull"])
        .output()
        .expect("runs");
    let st: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let build = st["resources"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["type"] == "alicloud_ecs_image_pipeline_execution")
        .cloned()
        .expect("the build's row");
    assert_eq!(build["status"], "tainted", "{build}");
    assert!(
        build["attributes"]["image_id"]
            .as_str()
            .is_some_and(|i| i.starts_with("m-")),
        "the failed build's image is recorded: {build}"
    );
    let o = run_with(d.path(), "", &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(built(d.path()), 3, "one build, copied to two regions");
    std::fs::write(&main, BUILD).expect("write");
    let o = run_with(d.path(), "", &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Replacing the pipeline replaces the build: the old build is destroyed first, while
    // its pipeline still exists, and its copies go with it.
    std::fs::write(&main, BUILD.replace("RUN echo one", "RUN echo two")).expect("write");
    let o = run_with(d.path(), "", &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let t = text(&o);
    let destroy_build = t
        .find("alicloud_ecs_image_pipeline_execution.b: Destroying...")
        .expect("the build's destroy is shown");
    let destroy_pipeline = t
        .find("alicloud_ecs_image_pipeline.p: Destroying...")
        .expect("the pipeline's destroy is shown");
    assert!(destroy_build < destroy_pipeline, "{t}");
    assert_eq!(built(d.path()), 3, "only the new build's images");
    assert_eq!(cloud(d.path()).live_pipelines().len(), 1);
    plan_is_empty(d.path());
    let o = run_with(d.path(), "", &["destroy", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(built(d.path()), 0);
    assert!(cloud(d.path()).live_pipelines().is_empty());
}

#[test]
fn killed_at_state_writes_and_requests_every_kind_converges_exactly_once() {
    // A few of the harness's rounds; the benchmark runs a hundred and more.
    let points: Vec<String> = ["state_write:2", "state_write:5", "request:3", "request:9"]
        .map(String::from)
        .to_vec();
    let r = crate::killharness::run(&|d| imgform(d), "1200", &points);
    assert!(r.failures.is_empty(), "{:#?}", r.failures);
    assert_eq!(
        (r.duplicates, r.orphans, r.rows_without_object, r.hangs),
        (0, 0, 0, 0),
        "{r:?}"
    );
    assert!(r.kills * 2 >= r.rounds, "most rounds really killed: {r:?}");
}

#[test]
fn an_apply_that_waited_for_the_lock_sees_the_world_the_first_one_left() {
    // The second apply starts while the first holds the lock. Its local cloud must be
    // loaded after the lock is taken: loaded before, it would not know the images the
    // first apply made, take them for deleted and make them again.
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(d.path().join("main.hcl"), TWO).expect("write");
    // The first apply's requests are slowed, so that it holds the lock a while before its
    // creates reach the cloud.
    let first = imgform(d.path())
        .env("IMGFORM_LOCAL_SPEED", "120")
        .env("IMGFORM_LOCAL_FAULTS", "latency=300ms")
        .args(["--cloud", "local", "apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawns");
    // Start the second as soon as the first holds the lock (on the SQLite state; against
    // PostgreSQL, after a moment).
    let t = std::time::Instant::now();
    let db = d.path().join("imgform.state.db");
    while t.elapsed() < std::time::Duration::from_secs(5) {
        let held = imgform::state::store::Store::open(&db)
            .ok()
            .and_then(|s| s.lock_holder().ok().flatten())
            .is_some();
        if held {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let second = imgform(d.path())
        .env("IMGFORM_LOCAL_SPEED", "120")
        .args([
            "--cloud",
            "local",
            "apply",
            "--auto-approve",
            "--lock-timeout",
            "60s",
        ])
        .output()
        .expect("runs");
    let mut first = first;
    assert!(first.wait().expect("waits").success());
    assert_eq!(second.status.code(), Some(0), "{}", text(&second));
    assert!(text(&second).contains("No changes."), "{}", text(&second));
    let counts = image_counts(d.path());
    assert_eq!(
        (counts.get("two-0"), counts.get("two-1"), counts.len()),
        (Some(&1), Some(&1), 2),
        "{counts:?}"
    );
}

#[test]
fn a_cloud_that_stops_answering_reads_ends_the_wait_and_the_next_apply_resumes_it() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(
        d.path().join("main.hcl"),
        r#"
provider "alicloud" {
  region            = "cn-hangzhou"
  max_retries       = 0
  poll_interval     = "20ms"
  max_poll_interval = "40ms"
}

resource "alicloud_image" "web" {
  image_name  = "web-unreadable"
  snapshot_id = "s-bp1qs0000000000web"
}
"#,
    )
    .expect("write");
    // The create is answered, then every read of the image fails: the run ends (it used
    // to wait out the whole create timeout) and says the wait resumes.
    let o = run_with(
        d.path(),
        "error500=1,only=DescribeImages",
        &["apply", "--auto-approve", "--no-color"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("3 reads failed in a row") && t.contains("InternalError"),
        "{t}"
    );
    assert!(
        t.contains("the next `imgform apply` resumes the wait"),
        "{t}"
    );
    assert!(!t.contains("Apply complete!"), "{t}");
    let o = imgform(d.path())
        .args(["--cloud", "local", "state", "pull"])
        .output()
        .expect("runs");
    let st: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(st["resources"][0]["status"], "creating", "{st}");
    assert!(st["resources"][0]["id"].is_string(), "{st}");
    // The cloud answers again: the wait resumes, and there is one image.
    let o = run_with(d.path(), "", &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(image_counts(d.path()).get("web-unreadable"), Some(&1));
    plan_is_empty(d.path());
}

/// Runs imgform, killing it if it has not ended within `secs` (a hang is a failure, not a
/// test that never ends).
fn run_within(dir: &Path, secs: u64, args: &[&str]) -> Output {
    let child = imgform(dir)
        .env("IMGFORM_LOCAL_SPEED", SPEED)
        .args(["--cloud", "local"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(o) => o.expect("waits"),
        Err(_) => {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            panic!("imgform {args:?} hung for more than {secs} s");
        }
    }
}

/// The state database and its WAL files, copied aside or back.
fn copy_state(from: &Path, to: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let f = from.join(format!("imgform.state.db{suffix}"));
        let t = to.join(format!("imgform.state.db{suffix}"));
        let _ = std::fs::remove_file(&t);
        if f.exists() {
            std::fs::copy(&f, &t).expect("copies");
        }
    }
}

#[test]
fn issue_28_a_state_restored_from_a_backup_never_reuses_a_client_token() {
    // Init, back the state up, apply two images, destroy them, restore the backup, apply:
    // the restored state once handed out the same generations again, so the same
    // ClientTokens, and the cloud answered with the deleted images' ids, waited for until
    // the create timeout.
    if std::env::var("IMGFORM_TEST_PG").is_ok() {
        return; // the backup is of the SQLite file
    }
    let d = tempfile::tempdir().expect("tmp");
    let backup = tempfile::tempdir().expect("tmp");
    std::fs::write(d.path().join("main.hcl"), TWO).expect("write");
    let o = run_within(d.path(), 60, &["init"]);
    assert!(o.status.success(), "{}", text(&o));
    copy_state(d.path(), backup.path());
    let o = run_within(d.path(), 60, &["apply", "--auto-approve"]);
    assert!(o.status.success(), "{}", text(&o));
    let first: Vec<String> = cloud(d.path())
        .custom_images()
        .into_iter()
        .map(|i| i.0)
        .collect();
    let o = run_within(d.path(), 60, &["destroy", "--auto-approve"]);
    assert!(o.status.success(), "{}", text(&o));
    copy_state(backup.path(), d.path());
    let o = run_within(d.path(), 60, &["apply", "--auto-approve"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("2 added"), "{}", text(&o));
    let now: Vec<String> = cloud(d.path())
        .custom_images()
        .into_iter()
        .map(|i| i.0)
        .collect();
    assert_eq!(now.len(), 2, "two new images: {now:?}");
    assert!(
        now.iter().all(|i| !first.contains(i)),
        "new objects, not the deleted ones"
    );
    plan_is_empty(d.path());
}

#[test]
fn issue_28_an_object_deleted_under_its_create_is_not_waited_for() {
    // The create's id is recorded, then the image is deleted out of band before it is
    // Available: the next apply reads it absent, gives it up after a grace period with an
    // error naming the id, and resolves the row; the apply after that makes it again.
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(
        d.path().join("main.hcl"),
        TWO.replace("count       = 2", "count       = 1"),
    )
    .expect("write");
    let o = crashed(
        d.path(),
        "after_id",
        &["--cloud", "local", "apply", "--auto-approve"],
    );
    assert_eq!(
        o.status.code(),
        None,
        "killed after the id was recorded: {}",
        text(&o)
    );
    let st = crate::e2e::load_state(d.path()).expect("state");
    let row = st.resources.values().next().expect("a row");
    assert_eq!(row.status, imgform::state::Status::Creating);
    let id = row.id.clone().expect("the id was recorded");
    let mut c = cloud(d.path());
    let mut img = c.image_record(&id).expect("the image exists");
    img.deleted = true;
    c.replace_image(img);
    drop(c);
    let o = run_within(d.path(), 60, &["apply", "--auto-approve"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("no longer lists image {id}")),
        "{}",
        text(&o)
    );
    assert!(
        crate::e2e::load_state(d.path())
            .expect("state")
            .resources
            .is_empty(),
        "resolved"
    );
    let o = run_within(d.path(), 60, &["apply", "--auto-approve"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(cloud(d.path()).custom_images().len(), 1);
    plan_is_empty(d.path());
}

/// Rewrites a saved plan as a forger would: the plan edited by `edit`, the digest
/// recomputed, so that only the re-check against the configuration can tell.
fn forge(file: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    use sha2::Digest as _;
    let text = std::fs::read_to_string(file).expect("reads");
    let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
    edit(&mut v["plan"]);
    let body = serde_json::to_string(&v["plan"]).expect("serializes");
    let digest = hex::encode(sha2::Sha256::digest(body.as_bytes()));
    std::fs::write(
        file,
        format!("{{\"imgform_plan\":2,\"digest\":\"{digest}\",\"plan\":{body}}}"),
    )
    .expect("writes");
}

#[test]
fn issue_28_a_saved_plan_edited_or_forged_is_refused_before_anything_runs() {
    type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit, &str)> = vec![
        (
            "an address the configuration lacks",
            Box::new(|p| {
                p["changes"][1]["addr"] = serde_json::json!("alicloud_image.a[7]");
            }),
            "alicloud_image.a[7]: the plan file has a change (Create) the configuration and state do not produce",
        ),
        (
            "an after value the configuration does not produce",
            Box::new(|p| {
                p["changes"][0]["after"]["image_name"] = serde_json::json!("forged");
            }),
            "alicloud_image.a[0]: the plan file's after differ",
        ),
        (
            "a dropped change",
            Box::new(|p| {
                p["changes"].as_array_mut().expect("changes").pop();
            }),
            "alicloud_image.a[1]: the configuration and state produce a change (Create) the plan file lacks",
        ),
        (
            "a changed action",
            Box::new(|p| {
                p["changes"][0]["action"] = serde_json::json!("NoOp");
            }),
            "alicloud_image.a[0]: the plan file's action differ",
        ),
    ];
    for (what, edit, expected) in cases {
        let d = tempfile::tempdir().expect("tmp");
        std::fs::write(d.path().join("main.hcl"), TWO).expect("write");
        let o = run_with(d.path(), "", &["plan", "--out", "p.plan"]);
        assert!(o.status.success(), "{}", text(&o));
        let file = d.path().join("p.plan");
        forge(&file, edit);
        let o = run_with(d.path(), "", &["apply", "p.plan"]);
        assert_eq!(o.status.code(), Some(1), "{what}: {}", text(&o));
        assert!(text(&o).contains(expected), "{what}: {}", text(&o));
        assert!(
            text(&o).contains("nothing was applied"),
            "{what}: {}",
            text(&o)
        );
        assert!(
            cloud(d.path()).custom_images_ever().is_empty(),
            "{what}: nothing was created"
        );
    }
    // Edited without recomputing the digest (or damaged on the way): refused unread.
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(d.path().join("main.hcl"), TWO).expect("write");
    assert!(run_with(d.path(), "", &["plan", "--out", "p.plan"])
        .status
        .success());
    let file = d.path().join("p.plan");
    let text0 = std::fs::read_to_string(&file).expect("reads");
    std::fs::write(&file, text0.replace("two-0", "two-9")).expect("writes");
    let o = run_with(d.path(), "", &["apply", "p.plan"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("was changed after imgform wrote it"),
        "{}",
        text(&o)
    );
    std::fs::write(&file, &text0[..text0.len() / 2]).expect("writes");
    let o = run_with(d.path(), "", &["apply", "p.plan"]);
    assert!(
        text(&o).contains("not an imgform plan file"),
        "{}",
        text(&o)
    );
    assert!(cloud(d.path()).custom_images_ever().is_empty());
    // The file as written applies.
    std::fs::write(&file, &text0).expect("writes");
    let o = run_with(d.path(), "", &["apply", "p.plan"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(cloud(d.path()).custom_images().len(), 2);
}

#[test]
fn issue_28_state_push_and_import_terraform_refuse_wrong_types_and_duplicates() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(d.path().join("main.hcl"), TWO).expect("write");
    let o = run_with(d.path(), "", &["apply", "--auto-approve"]);
    assert!(o.status.success(), "{}", text(&o));
    let pulled = imgform(d.path())
        .args(["state", "pull"])
        .output()
        .expect("runs");
    let good: serde_json::Value = serde_json::from_slice(&pulled.stdout).expect("json");
    let push = |v: &serde_json::Value| {
        let f = d.path().join("pushed.json");
        std::fs::write(&f, v.to_string()).expect("write");
        imgform(d.path())
            .args(["state", "push", f.to_str().expect("utf-8")])
            .output()
            .expect("runs")
    };
    let mut bad = good.clone();
    bad["serial"] = serde_json::json!(good["serial"].as_u64().expect("serial") + 1);
    bad["resources"][0]["generation"] = serde_json::json!("x");
    bad["resources"][1]["attributes"] = serde_json::json!([1]);
    let o = push(&bad);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(t.contains("2 problems"), "{t}");
    assert!(
        t.contains("\"generation\" must be a whole number from 1, not \"x\""),
        "{t}"
    );
    assert!(
        t.contains("\"attributes\" must be an object, not [1]"),
        "{t}"
    );
    let mut dup = good.clone();
    dup["serial"] = bad["serial"].clone();
    let first = dup["resources"][0].clone();
    dup["resources"].as_array_mut().expect("list").push(first);
    let o = push(&dup);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("the same address as resources[0]: two rows cannot share an address"),
        "{}",
        text(&o)
    );
    assert_eq!(
        addresses(d.path()),
        ["alicloud_image.a[0]", "alicloud_image.a[1]"],
        "unchanged"
    );
    // A Terraform state with two instances at one address: an error, nothing adopted.
    let e = tempfile::tempdir().expect("tmp");
    std::fs::write(e.path().join("main.hcl"), TWO).expect("write");
    let tf = serde_json::json!({"version": 4, "serial": 1, "lineage": "l", "resources": [
        {"mode": "managed", "type": "alicloud_image", "name": "a",
         "provider": "provider[\"registry.terraform.io/aliyun/alicloud\"]",
         "instances": [{"index_key": 0, "attributes": {"id": "m-1"}}, {"index_key": 0, "attributes": {"id": "m-2"}}]}]});
    std::fs::write(e.path().join("terraform.tfstate"), tf.to_string()).expect("write");
    let o = run_with(
        e.path(),
        "",
        &["state", "import-terraform", "terraform.tfstate"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("alicloud_image.a[0] appears twice"),
        "{}",
        text(&o)
    );
    assert!(!text(&o).contains("Adopted"), "{}", text(&o));
    let pulled = imgform(e.path())
        .args(["state", "pull"])
        .output()
        .expect("runs");
    assert!(
        !String::from_utf8_lossy(&pulled.stdout).contains("alicloud_image.a"),
        "nothing adopted"
    );
}

#[test]
fn a_saved_plan_that_resumes_a_create_applies_after_the_cloud_moved_on() {
    // The object a saved plan resumes keeps being made between plan and apply (its
    // progress, its status change): the plan made again at apply differs there, and must
    // still be taken as the file's.
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(d.path().join("main.hcl"), TWO).expect("write");
    let o = crashed(
        d.path(),
        "after_id",
        &["--cloud", "local", "apply", "--auto-approve"],
    );
    assert_eq!(o.status.code(), None, "{}", text(&o));
    let o = run_with(d.path(), "", &["plan", "--out", "p.plan"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("resuming an interrupted create"),
        "{}",
        text(&o)
    );
    let o = run_with(d.path(), "", &["apply", "p.plan"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(cloud(d.path()).custom_images().len(), 2);
    plan_is_empty(d.path());
}
