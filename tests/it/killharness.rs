//! The kill harness: every kind of object (images, imports, pipelines, builds, copies in
//! another region, shares, exports, components), through create, replacement
//! (destroy-then-create and create-before-destroy) and destroy, with the process killed (`abort`, as `kill -9`)
//! at a chosen state write or API request, then the same command run again until it
//! succeeds. After each round the local cloud is counted object by object: every
//! configured object exactly once (no duplicate), nothing the state does not know (no
//! orphan), and no state row whose object is gone.
//!
//! Then each round attacks the state itself, as a restore from a backup would (issue 28):
//! it pushes the state with every generation rewound to 1, destroys everything, restores
//! the state backed up right after `init` (its generations rewound too), and applies V1
//! again. A ClientToken derived from the state would repeat here, and the cloud would
//! answer with the ids of deleted objects; the apply must instead make each object anew,
//! once, and never hang (every command runs under a time limit).
//!
//! Shared by the integration tests (a few rounds) and the benchmark program (`cargo run
//! --release --example bench -- kill`, a hundred rounds and more), which includes this file.

#![allow(dead_code)]

use imgform::localcloud::{Cloud, Options};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

/// Version 1 of the configuration: an image from a snapshot, an import, an image with
/// create_before_destroy, a pipeline built on the import and a build distributed to a
/// second region; the image copied to another region, shared with an account and exported
/// to OSS; a component.
pub const V1: &str = r#"
provider "alicloud" {
  region = "cn-hangzhou"
}

provider "alicloud" {
  alias  = "sh"
  region = "cn-shanghai"
}

resource "alicloud_image_copy" "web_sh" {
  provider         = alicloud.sh
  source_image_id  = alicloud_image.web.id
  source_region_id = "cn-hangzhou"
  image_name       = "k-copy"
}

resource "alicloud_image_share_permission" "web" {
  image_id   = alicloud_image.web.id
  account_id = "1234567890123"
}

resource "alicloud_image_export" "web" {
  image_id   = alicloud_image.web.id
  oss_bucket = "imgform-quickstart"
  oss_prefix = "kexp"
}

resource "alicloud_ecs_image_component" "c" {
  image_component_name = "k-comp"
  content              = "RUN echo v1"
}

resource "alicloud_image" "web" {
  image_name  = "k-web"
  snapshot_id = "s-bp1qs0000000000web"
}

resource "alicloud_image_import" "base" {
  image_name = "k-base"
  os_type    = "linux"
  platform   = "Debian"

  disk_device_mapping {
    oss_bucket = "imgform-quickstart"
    oss_object = "images/debian-12.raw"
    format     = "RAW"
  }
}

resource "alicloud_image" "cbd" {
  image_name  = "k-cbd-1"
  snapshot_id = "s-bp1qs0000000000web"

  lifecycle {
    create_before_destroy = true
  }
}

resource "alicloud_ecs_image_pipeline" "p" {
  name            = "k-pipe"
  base_image_type = "IMAGE"
  base_image      = alicloud_image_import.base.id
  to_region_id    = ["cn-shanghai"]
  build_content   = "RUN echo v1"

  image_options {
    image_name = "k-built"
  }
}

resource "alicloud_ecs_image_pipeline_execution" "b" {
  image_pipeline_id       = alicloud_ecs_image_pipeline.p.id
  delete_image_on_destroy = true
}
"#;

/// Version 2: every kind replaced — the image (and so its copy, share and export) and the
/// pipeline (and so the build) and the component destroy-then-create, the
/// create_before_destroy image renamed.
pub fn v2() -> String {
    V1.replace("s-bp1qs0000000000web\"\n}", "s-bp1system0002\"\n}")
        .replace(
            "s-bp1qs0000000000web\"\n\n  lifecycle",
            "s-bp1system0002\"\n\n  lifecycle",
        )
        .replace("k-cbd-1", "k-cbd-2")
        .replace("RUN echo v1", "RUN echo v2")
}

/// The phases a round can kill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Apply V1 to an empty cloud.
    Create,
    /// Apply V2 over V1.
    Replace,
    /// Destroy V1.
    Destroy,
}

impl Phase {
    /// Every phase.
    pub const ALL: [Phase; 3] = [Phase::Create, Phase::Replace, Phase::Destroy];
}

/// What a run of the harness found.
#[derive(Debug, Default, Clone)]
pub struct Report {
    /// Rounds run.
    pub rounds: usize,
    /// Rounds whose process was really killed at its point (the others finished first).
    pub kills: usize,
    /// Objects made more than once.
    pub duplicates: usize,
    /// Objects in the cloud that the state does not manage and the configuration does not
    /// want.
    pub orphans: usize,
    /// State rows whose object is not in the cloud.
    pub rows_without_object: usize,
    /// Commands that did not end within their time limit.
    pub hangs: usize,
    /// Rounds that did not converge, with what was wrong.
    pub failures: Vec<String>,
}

/// How long one command may run before the harness calls it a hang.
const COMMAND_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs one round per (phase, kill point). `cmd` makes an imgform command in a directory.
pub fn run(cmd: &dyn Fn(&Path) -> Command, speed: &str, points: &[String]) -> Report {
    let mut r = Report::default();
    for phase in Phase::ALL {
        for point in points {
            round(cmd, speed, phase, point, &mut r);
        }
    }
    r
}

fn exec(
    cmd: &dyn Fn(&Path) -> Command,
    dir: &Path,
    speed: &str,
    crash: Option<&str>,
    args: &[&str],
) -> Output {
    let mut c = cmd(dir);
    c.env("IMGFORM_LOCAL_SPEED", speed)
        .args(["--cloud", "local"])
        .args(args);
    match crash {
        Some(p) => c.env("IMGFORM_CRASH_AT", p),
        None => c.env_remove("IMGFORM_CRASH_AT"),
    };
    within(&mut c, COMMAND_LIMIT).unwrap_or_else(|| Output {
        status: hung_status(),
        stdout: vec![],
        stderr: format!("HUNG: imgform {args:?} ran longer than {COMMAND_LIMIT:?}").into_bytes(),
    })
}

/// Runs `c`, killing it after `limit`: `None` when it had to be killed.
fn within(c: &mut Command, limit: std::time::Duration) -> Option<Output> {
    let child = c
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("imgform runs");
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(o) => Some(o.expect("waits")),
        Err(_) => {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
            let _ = rx.recv();
            None
        }
    }
}

/// The exit status a hung command is recorded with (it was killed, so it has no code).
fn hung_status() -> std::process::ExitStatus {
    use std::os::unix::process::ExitStatusExt;
    std::process::ExitStatus::from_raw(9)
}

fn hung(o: &Output) -> bool {
    o.stderr.starts_with(b"HUNG: ")
}

fn round(cmd: &dyn Fn(&Path) -> Command, speed: &str, phase: Phase, point: &str, r: &mut Report) {
    r.rounds += 1;
    let d = tempfile::tempdir().expect("tmp");
    let main = d.path().join("main.hcl");
    std::fs::write(&main, V1).expect("write");
    let label = format!("{phase:?} killed at {point}");
    // The backup a restore brings back: the state as `init` left it.
    let o = exec(cmd, d.path(), speed, None, &["init"]);
    if !o.status.success() {
        r.failures
            .push(format!("{label}: init failed: {}", text(&o)));
        return;
    }
    let backup = cmd(d.path())
        .args(["state", "pull"])
        .output()
        .expect("runs");
    if phase != Phase::Create {
        let o = exec(cmd, d.path(), speed, None, &["apply", "--auto-approve"]);
        if !o.status.success() {
            r.failures
                .push(format!("{label}: setup failed: {}", text(&o)));
            return;
        }
    }
    if phase == Phase::Replace {
        std::fs::write(&main, v2()).expect("write");
    }
    let args: &[&str] = if phase == Phase::Destroy {
        &["destroy", "--auto-approve"]
    } else {
        &["apply", "--auto-approve"]
    };
    let o = exec(cmd, d.path(), speed, Some(point), args);
    if o.status.code().is_none() {
        r.kills += 1;
    }
    // Recovery: the same command again, as a person would, until it succeeds and the plan
    // is empty (a resumed create finishes the request it recorded, so at most a few runs).
    let mut converged = false;
    let mut last = String::new();
    for _ in 0..3 {
        let o = exec(cmd, d.path(), speed, None, args);
        last = text(&o);
        if !o.status.success() {
            continue;
        }
        let plan_args: &[&str] = if phase == Phase::Destroy {
            &["plan", "--destroy", "--detailed-exitcode"]
        } else {
            &["plan", "--detailed-exitcode"]
        };
        let p = exec(cmd, d.path(), speed, None, plan_args);
        if p.status.code() == Some(0) {
            converged = true;
            break;
        }
        last = text(&p);
    }
    if !converged {
        r.failures
            .push(format!("{label}: did not converge: {last}"));
    }
    count(cmd, d.path(), phase, &label, r);
    // What the directory's configuration makes once applied again.
    let wants = if phase == Phase::Replace {
        Phase::Replace
    } else {
        Phase::Create
    };
    rewound(cmd, d.path(), speed, &backup.stdout, &label, wants, r);
}

/// The attack on the state: an edited push, then a restored backup (see the module doc).
fn rewound(
    cmd: &dyn Fn(&Path) -> Command,
    dir: &Path,
    speed: &str,
    backup: &[u8],
    label: &str,
    wants: Phase,
    r: &mut Report,
) {
    let label = format!("{label}, then a rewound state");
    let pull = cmd(dir).args(["state", "pull"]).output().expect("runs");
    let Ok(mut st) = serde_json::from_slice::<serde_json::Value>(&pull.stdout) else {
        r.failures
            .push(format!("{label}: state pull failed: {}", text(&pull)));
        return;
    };
    rewind(&mut st);
    let serial = st["serial"].as_u64().unwrap_or(0);
    st["serial"] = serde_json::json!(serial + 1);
    let pushed = dir.join("edited.json");
    std::fs::write(&pushed, st.to_string()).expect("write");
    let o = cmd(dir)
        .args(["state", "push", pushed.to_str().expect("utf-8")])
        .output()
        .expect("runs");
    if !o.status.success() {
        r.failures
            .push(format!("{label}: push failed: {}", text(&o)));
        return;
    }
    for (what, args) in [
        ("destroy", &["destroy", "--auto-approve"][..]),
        ("apply", &["apply", "--auto-approve"][..]),
    ] {
        if what == "apply" {
            // Restore the backup taken after init: its generations are those of an
            // empty state, below every one handed out since.
            let mut old: serde_json::Value = serde_json::from_slice(backup).unwrap_or_default();
            rewind(&mut old);
            let f = dir.join("backup.json");
            std::fs::write(&f, old.to_string()).expect("write");
            let o = cmd(dir)
                .args(["state", "push", "--force", f.to_str().expect("utf-8")])
                .output()
                .expect("runs");
            if !o.status.success() {
                r.failures
                    .push(format!("{label}: restore failed: {}", text(&o)));
                return;
            }
        }
        let o = exec(cmd, dir, speed, None, args);
        if hung(&o) {
            r.hangs += 1;
        }
        if !o.status.success() {
            r.failures
                .push(format!("{label}: {what} failed: {}", text(&o)));
            return;
        }
    }
    count(cmd, dir, wants, &label, r);
}

/// Every generation back to 1, the remembered ones forgotten: what an old backup holds.
fn rewind(st: &mut serde_json::Value) {
    if let Some(o) = st.as_object_mut() {
        o.remove("generations");
    }
    for row in st["resources"].as_array_mut().into_iter().flatten() {
        row["generation"] = serde_json::json!(1);
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Counts the cloud's objects against what the phase must leave.
fn count(cmd: &dyn Fn(&Path) -> Command, dir: &Path, phase: Phase, label: &str, r: &mut Report) {
    let cloud = Cloud::open(&Options {
        data: Some(dir.join(".imgform/local-cloud")),
        ..Options::default()
    })
    .expect("the local cloud opens");
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    for (_, n) in cloud.custom_images() {
        let key = if n.starts_with("k-built_") {
            "k-built".to_string()
        } else {
            n
        };
        *names.entry(key).or_default() += 1;
    }
    let pipelines = cloud.live_pipelines();
    let live: Vec<String> = pipelines.iter().map(|p| p.0.clone()).collect();
    let builds = cloud
        .builds()
        .into_iter()
        .filter(|(_, p)| live.contains(p))
        .count();
    let want: BTreeMap<&str, usize> = match phase {
        Phase::Create => [
            ("k-web", 1),
            ("k-base", 1),
            ("k-cbd-1", 1),
            ("k-built", 2),
            ("k-copy", 1),
        ]
        .into(),
        Phase::Replace => [
            ("k-web", 1),
            ("k-base", 1),
            ("k-cbd-2", 1),
            ("k-built", 2),
            ("k-copy", 1),
        ]
        .into(),
        Phase::Destroy => BTreeMap::new(),
    };
    let want_pipelines = usize::from(phase != Phase::Destroy);
    let mut problems = Vec::new();
    for (name, n) in &names {
        let expected = want.get(name.as_str()).copied().unwrap_or(0);
        if *n > expected && expected > 0 {
            r.duplicates += n - expected;
            problems.push(format!("{n} images named {name}"));
        } else if expected == 0 {
            r.orphans += n;
            problems.push(format!("orphan image {name} ({n})"));
        }
    }
    for (name, n) in &want {
        if names.get(*name).copied().unwrap_or(0) < *n {
            problems.push(format!("missing image {name}"));
        }
    }
    if pipelines.len() > want_pipelines {
        let extra = pipelines.len() - want_pipelines;
        if want_pipelines == 0 {
            r.orphans += extra;
        } else {
            r.duplicates += extra;
        }
        problems.push(format!("{} pipelines", pipelines.len()));
    }
    if builds > want_pipelines {
        r.duplicates += builds - want_pipelines;
        problems.push(format!("{builds} builds of live pipelines"));
    }
    lifecycle(&cloud, phase, r, &mut problems);
    // Every state row's object exists.
    let o = cmd(dir).args(["state", "pull"]).output().expect("runs");
    let st: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_default();
    let image_ids: Vec<String> = cloud.custom_images().into_iter().map(|x| x.0).collect();
    let build_ids: Vec<String> = cloud.builds().into_iter().map(|x| x.0).collect();
    for row in st["resources"].as_array().cloned().unwrap_or_default() {
        let Some(id) = row["id"].as_str() else {
            continue;
        };
        let exists = match row["type"].as_str().unwrap_or_default() {
            "alicloud_ecs_image_pipeline" => live.iter().any(|p| p == id),
            "alicloud_ecs_image_pipeline_execution" => build_ids.iter().any(|b| b == id),
            "alicloud_ecs_image_component" => cloud.live_components().iter().any(|c| c.0 == id),
            "alicloud_image_share_permission" => id.split_once(':').is_some_and(|(img, acct)| {
                cloud
                    .image_record(img)
                    .is_some_and(|i| !i.deleted && i.shared_with.iter().any(|a| a == acct))
            }),
            "alicloud_image_export" => cloud.export_tasks().iter().any(|t| t.1 == id),
            _ => image_ids.iter().any(|i| i == id),
        };
        if !exists {
            r.rows_without_object += 1;
            problems.push(format!(
                "state row {} without its object {id}",
                row["address"]
            ));
        }
    }
    if !problems.is_empty() {
        r.failures.push(format!("{label}: {}", problems.join("; ")));
    }
}

/// Components, shares and exports: each exactly once while configured, none after destroy.
fn lifecycle(cloud: &Cloud, phase: Phase, r: &mut Report, problems: &mut Vec<String>) {
    let want = usize::from(phase != Phase::Destroy);
    let comps = cloud
        .live_components()
        .into_iter()
        .filter(|c| c.1 == "k-comp")
        .count();
    if comps > want {
        if want == 0 {
            r.orphans += comps;
        } else {
            r.duplicates += comps - want;
        }
        problems.push(format!("{comps} components"));
    } else if comps < want {
        problems.push("missing component".into());
    }
    // Shares: only the live k-web image is shared, with the one account.
    for (id, name) in cloud.custom_images() {
        let shared = cloud
            .image_record(&id)
            .map(|i| i.shared_with)
            .unwrap_or_default();
        let expected = usize::from(name == "k-web" && want == 1);
        if shared.len() > expected {
            r.orphans += shared.len() - expected;
            problems.push(format!("image {name} shared with {shared:?}"));
        } else if shared.len() < expected {
            problems.push(format!("image {name} not shared"));
        }
    }
    // Exports: never two of one image.
    let mut per_image: BTreeMap<String, usize> = BTreeMap::new();
    for (_, image) in cloud.export_tasks() {
        *per_image.entry(image).or_default() += 1;
    }
    for (image, n) in per_image {
        if n > 1 {
            r.duplicates += n - 1;
            problems.push(format!("{n} exports of {image}"));
        }
    }
}
