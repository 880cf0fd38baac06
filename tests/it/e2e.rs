//! End to end against the local cloud, through the real binary: apply the examples, a
//! second plan is empty, an in-place update, a replacement, destroy leaves the cloud empty;
//! a state left by a killed process resumes instead of duplicating; faults and SIGKILL at
//! many points converge with every configured image exactly once.

use crate::util::{imgform, root};
use imgform::localcloud::{Cloud, Options};
use std::path::Path;
use std::process::Output;

/// Simulated time runs this much faster in tests: a 4-minute image takes 0.4 s.
const SPEED: &str = "600";

pub fn run(dir: &Path, args: &[&str]) -> Output {
    imgform(dir)
        .env("IMGFORM_LOCAL_SPEED", SPEED)
        .args(["--cloud", "local"])
        .args(args)
        .output()
        .expect("runs")
}

pub fn ok(o: &Output) -> String {
    let s = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{s}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    s
}

/// Terraform's plan document (`show -json` of a plan saved with `--out`), for `args`.
pub fn plan_document(dir: &Path, args: &[&str]) -> serde_json::Value {
    let file = dir.join(".imgform-test-plan.bin");
    let file = file.to_str().expect("utf-8 path");
    let mut plan = vec!["plan", "--out", file];
    plan.extend_from_slice(args);
    ok(&run(dir, &plan));
    let doc = ok(&run(dir, &["show", "--json", file]));
    serde_json::from_str(doc.trim()).expect("stdout is one JSON document")
}

fn copy_example(name: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tmp");
    for f in std::fs::read_dir(root().join("examples").join(name)).expect("example") {
        let p = f.expect("entry").path();
        if p.extension()
            .is_some_and(|e| e == "hcl" || e == "vars" || e == "json")
        {
            std::fs::copy(&p, d.path().join(p.file_name().expect("name"))).expect("copy");
        }
    }
    d
}

/// Custom images in the local cloud of `dir`, by name (deleted ones excluded).
pub fn cloud_images(dir: &Path) -> Vec<(String, String)> {
    let opts = Options {
        data: Some(dir.join(".imgform/local-cloud")),
        ..Options::default()
    };
    let c = Cloud::open(&opts).expect("opens");
    let mut v: Vec<(String, String)> = c.custom_images().into_iter().collect();
    v.sort();
    v
}

fn edit(dir: &Path, from: &str, to: &str) {
    let p = dir.join("main.hcl");
    let s = std::fs::read_to_string(&p).expect("read");
    assert!(s.contains(from), "{from} not in the file");
    std::fs::write(&p, s.replace(from, to)).expect("write");
}

/// The state, read with `imgform state pull` so the tests run unchanged on either backend.
pub fn load_state(dir: &Path) -> Option<imgform::state::State> {
    let o = imgform(dir).args(["state", "pull"]).output().ok()?;
    if !o.status.success() {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).ok()?;
    imgform::state::State::from_json(&v).ok()
}

/// Writes a state with `imgform state push` (its serial bumped).
fn save_state(dir: &Path, st: &imgform::state::State) {
    let mut st = st.clone();
    st.serial += 1;
    let f = dir.join("edited-state.json");
    std::fs::write(&f, st.to_json().to_string()).expect("write");
    ok(&imgform(dir)
        .args(["state", "push", f.to_str().expect("utf-8")])
        .output()
        .expect("runs"));
}

fn pending_creates(dir: &Path) -> usize {
    load_state(dir)
        .map(|s| {
            s.resources
                .values()
                .filter(|r| r.status == imgform::state::Status::Creating && r.id.is_some())
                .count()
        })
        .unwrap_or(0)
}

#[test]
fn quickstart_lifecycle() {
    let d = copy_example("quickstart");
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(
        out.contains("Apply complete! Resources: 3 added, 0 changed, 0 destroyed."),
        "{out}"
    );
    assert!(out.contains("web_image_id = \"m-"), "{out}");
    let plan = run(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
    assert!(String::from_utf8_lossy(&plan.stdout)
        .contains("No changes. Your infrastructure matches the configuration."));
    let mut names: Vec<String> = cloud_images(d.path()).into_iter().map(|x| x.1).collect();
    names.sort();
    assert_eq!(names, ["ubuntu-22-04-dev", "web-dev"]);
    // An in-place update keeps the image.
    let before = cloud_images(d.path());
    edit(
        d.path(),
        "image_name   = \"web-${var.env}\"",
        "image_name   = \"web-renamed-${var.env}\"",
    );
    let plan = run(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&plan.stdout)
            .contains("~ image_name = \"web-dev\" -> \"web-renamed-dev\""),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(out.contains("0 added, 1 changed, 0 destroyed"), "{out}");
    let after = cloud_images(d.path());
    assert_eq!(
        before.iter().map(|x| &x.0).collect::<Vec<_>>(),
        after.iter().map(|x| &x.0).collect::<Vec<_>>(),
        "same image ids"
    );
    // A new snapshot replaces the image.
    edit(d.path(), "s-bp1qs0000000000web", "s-bp1system0002");
    let plan = ok(&run(d.path(), &["plan"]));
    assert!(
        plan.contains("# alicloud_image.web must be replaced")
            && plan.contains("# forces replacement"),
        "{plan}"
    );
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(out.contains("1 added, 0 changed, 1 destroyed"), "{out}");
    assert_eq!(
        cloud_images(d.path()).len(),
        2,
        "the old image is gone, the new one exists"
    );
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
    // Destroy leaves the cloud empty.
    let out = ok(&run(d.path(), &["destroy", "--auto-approve"]));
    assert!(
        out.contains("Destroy complete! Resources: 3 destroyed."),
        "{out}"
    );
    assert!(cloud_images(d.path()).is_empty());
    let st = ok(&imgform(d.path())
        .args(["state", "list"])
        .output()
        .expect("runs"));
    assert_eq!(st, "");
}

#[test]
fn json_plan_and_saved_plans() {
    let d = copy_example("quickstart");
    let v = plan_document(d.path(), &[]);
    assert_eq!(v["format_version"], "1.2");
    let acts: Vec<String> = v["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .map(|c| c["change"]["actions"].to_string())
        .collect();
    assert_eq!(acts, ["[\"create\"]", "[\"create\"]", "[\"create\"]"]);
    // A saved plan applies once; the second time it is stale.
    ok(&run(d.path(), &["plan", "--out", "tfplan"]));
    let out = ok(&run(d.path(), &["apply", "tfplan"]));
    assert!(out.contains("3 added"), "{out}");
    let again = run(d.path(), &["apply", "tfplan"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("Saved plan is stale"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // show reads a saved plan; output prints the outputs.
    ok(&run(d.path(), &["plan", "--out", "noop"]));
    let shown = ok(&imgform(d.path())
        .args(["show", "noop"])
        .output()
        .expect("runs"));
    assert!(shown.contains("No changes."), "{shown}");
    // A no-op is stored once (its row in the prior state), and shown in full: before and
    // after equal, with the id, in the change and in planned_values.
    let shown = ok(&imgform(d.path())
        .args(["show", "--json", "noop"])
        .output()
        .expect("runs"));
    let v: serde_json::Value = serde_json::from_str(shown.trim()).expect("json");
    let rc = &v["resource_changes"][0];
    assert_eq!(
        rc["change"]["actions"],
        serde_json::json!(["no-op"]),
        "{rc}"
    );
    assert!(rc["change"]["before"]["id"].is_string(), "{rc}");
    assert_eq!(rc["change"]["before"], rc["change"]["after"], "{rc}");
    let planned = &v["planned_values"]["root_module"]["resources"][0]["values"];
    assert_eq!(planned, &rc["change"]["after"]);
    let raw = ok(&imgform(d.path())
        .args(["output", "--raw", "web_image_id"])
        .output()
        .expect("runs"));
    assert!(raw.starts_with("m-") && !raw.contains('"'), "{raw}");
    let pulled = ok(&imgform(d.path())
        .args(["state", "pull"])
        .output()
        .expect("runs"));
    let st: serde_json::Value = serde_json::from_str(&pulled).expect("json");
    assert_eq!(st["resources"].as_array().map(|a| a.len()), Some(3));
    // A changed configuration makes the saved plan stale too.
    ok(&run(d.path(), &["plan", "--out", "p2"]));
    edit(d.path(), "Hardened Ubuntu", "Hardened Ubuntu LTS");
    let stale = run(d.path(), &["apply", "p2"]);
    assert!(String::from_utf8_lossy(&stale.stderr)
        .contains("configuration or the variable values changed"));
    ok(&run(d.path(), &["destroy", "--auto-approve"]));
}

#[test]
fn markdown_plan_and_state_commands() {
    let d = copy_example("quickstart");
    let md = ok(&run(d.path(), &["plan", "--format", "markdown"]));
    assert!(
        md.starts_with("## imgform plan: 3 to add, 0 to change, 0 to destroy."),
        "{md}"
    );
    assert!(md.contains("<details><summary><code>+ alicloud_image.web</code></summary>") && md.contains("```diff\n   # alicloud_image.web will be created\n+   resource \"alicloud_image\" \"web\" {"), "{md}");
    ok(&run(d.path(), &["apply", "--auto-approve"]));
    let list = ok(&imgform(d.path())
        .args(["state", "list"])
        .output()
        .expect("runs"));
    assert_eq!(
        list,
        "alicloud_ecs_image_pipeline.hardened\nalicloud_image.web\nalicloud_image_import.ubuntu\n"
    );
    let show = ok(&imgform(d.path())
        .args(["state", "show", "alicloud_image.web"])
        .output()
        .expect("runs"));
    assert!(
        show.contains("image_name") && show.contains("\"web-dev\""),
        "{show}"
    );
    // state rm forgets without destroying; import adopts it back.
    let id = show
        .lines()
        .find(|l| l.trim_start().starts_with("id "))
        .and_then(|l| l.split('"').nth(1))
        .expect("id")
        .to_string();
    ok(&imgform(d.path())
        .args(["state", "rm", "alicloud_image.web"])
        .output()
        .expect("runs"));
    assert_eq!(cloud_images(d.path()).len(), 2, "state rm never destroys");
    let out = ok(&run(d.path(), &["import", "alicloud_image.web", &id]));
    assert!(out.contains("Import successful!"), "{out}");
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0),
        "the imported image matches the configuration"
    );
    let dup = run(d.path(), &["import", "alicloud_image.web", &id]);
    assert_eq!(dup.status.code(), Some(1));
    // state mv, then a moved block would be the declarative way; mv back.
    ok(&imgform(d.path())
        .args(["state", "mv", "alicloud_image.web", "alicloud_image.site"])
        .output()
        .expect("runs"));
    std::fs::write(
        d.path().join("moved.hcl"),
        "moved {\n  from = alicloud_image.site\n  to   = alicloud_image.web\n}\n",
    )
    .expect("write");
    let plan = run(d.path(), &["plan", "--detailed-exitcode"]);
    let text = String::from_utf8_lossy(&plan.stdout);
    assert_eq!(
        plan.status.code(),
        Some(2),
        "a move-only plan returns 2: {text}"
    );
    assert!(
        text.contains("# alicloud_image.site has moved to alicloud_image.web")
            && text.contains("Plan: 0 to add, 0 to change, 0 to destroy.\n"),
        "{text}"
    );
    ok(&run(d.path(), &["apply", "--auto-approve"]));
    std::fs::remove_file(d.path().join("moved.hcl")).expect("rm");
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
    ok(&run(d.path(), &["destroy", "--auto-approve"]));
    assert!(cloud_images(d.path()).is_empty());
}

#[test]
fn a_killed_apply_resumes_instead_of_duplicating() {
    // A state as a killed process leaves it: `creating` rows with and without a cloud id.
    let d = copy_example("quickstart");
    ok(&run(d.path(), &["plan"]));
    // Start an apply and kill it right after it sent the creates.
    let mut child = imgform(d.path())
        .env("IMGFORM_LOCAL_SPEED", "20")
        .args(["--cloud", "local", "apply", "--auto-approve"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    let start = std::time::Instant::now();
    loop {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let rows = pending_creates(d.path());
        if rows >= 2 || start.elapsed() > std::time::Duration::from_secs(20) {
            break;
        }
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let st = load_state(d.path()).expect("state");
    let creating: Vec<_> = st
        .resources
        .values()
        .filter(|r| r.status == imgform::state::Status::Creating)
        .collect();
    assert!(!creating.is_empty(), "the kill left pending creates");
    // Drop one id to simulate a kill between sending the create and recording its id.
    let mut r = creating[0].clone();
    let known_id = r.id.take();
    let mut edited = st.clone();
    edited.resources.insert(r.addr.clone(), r.clone());
    save_state(d.path(), &edited);
    let plan = ok(&run(d.path(), &["plan"]));
    assert!(plan.contains("resuming an interrupted create"), "{plan}");
    for r in &creating {
        assert!(
            plan.contains(&format!(
                "# {} will be created (resuming an interrupted create",
                r.addr
            )),
            "{} is resumed, never created twice: {plan}",
            r.addr
        );
    }
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(out.contains("Apply complete!"), "{out}");
    let imgs = cloud_images(d.path());
    assert_eq!(
        imgs.len(),
        2,
        "each configured image exactly once: {imgs:?}"
    );
    let st = load_state(d.path()).expect("state");
    assert_eq!(
        st.resources[&r.addr].id, known_id,
        "the re-sent create returned the same object"
    );
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn faults_converge_without_duplicates() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(
        d.path().join("main.hcl"),
        "provider \"alicloud\" {\n  region = \"cn-hangzhou\"\n}\nresource \"alicloud_image\" \"many\" {\n  count       = 50\n  image_name  = \"many-${count.index}\"\n  snapshot_id = \"s-bp1system0001\"\n}\n",
    )
    .expect("write");
    let faulty = |args: &[&str]| {
        imgform(d.path())
            .env("IMGFORM_LOCAL_SPEED", SPEED)
            .env(
                "IMGFORM_LOCAL_FAULTS",
                "throttle=0.2,error500=0.05,reset=0.02,seed=11",
            )
            .args(["--cloud", "local"])
            .args(args)
            .output()
            .expect("runs")
    };
    let mut converged = false;
    for _ in 0..5 {
        let o = faulty(&["apply", "--auto-approve"]);
        if o.status.code() == Some(0) {
            converged = true;
            break;
        }
    }
    assert!(
        converged,
        "apply converges under throttling, 5xx and resets"
    );
    let imgs = cloud_images(d.path());
    let mut names: Vec<String> = imgs.iter().map(|x| x.1.clone()).collect();
    names.sort();
    names.dedup();
    assert_eq!((imgs.len(), names.len()), (50, 50), "50 images, each once");
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn sigkill_at_every_point_of_a_create_converges() {
    // Each round aborts the process (as kill -9 does) at one point of a create, then a
    // second apply must converge with every configured image exactly once.
    for point in ["before_send", "after_send", "after_id", "waiting"] {
        let d = copy_example("quickstart");
        let o = imgform(d.path())
            .env("IMGFORM_LOCAL_SPEED", SPEED)
            .env("IMGFORM_CRASH_AT", point)
            .args(["--cloud", "local", "apply", "--auto-approve"])
            .output()
            .expect("runs");
        assert_ne!(o.status.code(), Some(0), "{point}: the process was aborted");
        let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
        assert!(out.contains("Apply complete!"), "{point}: {out}");
        let mut names: Vec<String> = cloud_images(d.path()).into_iter().map(|x| x.1).collect();
        names.sort();
        assert_eq!(
            names,
            ["ubuntu-22-04-dev", "web-dev"],
            "{point}: each image exactly once"
        );
        assert_eq!(
            run(d.path(), &["plan", "--detailed-exitcode"])
                .status
                .code(),
            Some(0),
            "{point}"
        );
    }
    // And at random instants, several rounds in one directory.
    let d = copy_example("quickstart");
    for (round, ms) in [30u64, 90, 150, 250, 400, 700].iter().enumerate() {
        let mut child = imgform(d.path())
            .env("IMGFORM_LOCAL_SPEED", "120")
            .args(["--cloud", "local", "apply", "--auto-approve"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawns");
        std::thread::sleep(std::time::Duration::from_millis(*ms));
        let _ = child.kill();
        let _ = child.wait();
        if round % 2 == 1 {
            // Every other round also changes the configuration, so kills hit deletes too.
            let p = d.path().join("main.hcl");
            let s = std::fs::read_to_string(&p).expect("read");
            let s = if s.contains("s-bp1qs0000000000web") {
                s.replace("s-bp1qs0000000000web", "s-bp1system0002")
            } else {
                s.replace("s-bp1system0002", "s-bp1qs0000000000web")
            };
            std::fs::write(&p, s).expect("write");
        }
    }
    // A resumed create finishes as it was sent; when the configuration changed meanwhile,
    // the following apply replaces it. At most two applies converge.
    for _ in 0..2 {
        let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
        assert!(
            out.contains("Apply complete!") || out.contains("No changes."),
            "{out}"
        );
    }
    let mut names: Vec<String> = cloud_images(d.path()).into_iter().map(|x| x.1).collect();
    names.sort();
    assert_eq!(
        names,
        ["ubuntu-22-04-dev", "web-dev"],
        "no duplicate and no orphan after six kills"
    );
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn pipeline_build_example() {
    let d = copy_example("pipeline-build");
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(out.contains("Apply complete! Resources: 3 added"), "{out}");
    assert!(
        out.contains("built_image = \"m-"),
        "the build waited for SUCCESS and exposes its image: {out}"
    );
    let names: Vec<String> = cloud_images(d.path()).into_iter().map(|x| x.1).collect();
    assert_eq!(
        names
            .iter()
            .filter(|n| n.starts_with("hardened-debian_exec-"))
            .count(),
        3,
        "built in cn-hangzhou and copied to two regions: {names:?}"
    );
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
    // Changing the build content replaces the pipeline and rebuilds.
    edit(
        d.path(),
        "apt-get upgrade -y",
        "apt-get upgrade -y && apt-get autoremove -y",
    );
    let plan = ok(&run(d.path(), &["plan"]));
    assert!(
        plan.contains("# alicloud_ecs_image_pipeline.hardened must be replaced")
            && plan.contains("# alicloud_ecs_image_pipeline_execution.build must be replaced"),
        "{plan}"
    );
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(out.contains("2 added, 0 changed, 2 destroyed"), "{out}");
    let out = ok(&run(d.path(), &["destroy", "--auto-approve"]));
    assert!(out.contains("3 destroyed"), "{out}");
    // delete_image_on_destroy: every build's image and its copies went with it, the
    // replaced build's too (it was destroyed before its pipeline), and the import.
    let left: Vec<String> = cloud_images(d.path()).into_iter().map(|x| x.1).collect();
    assert_eq!(left, Vec::<String>::new(), "nothing remains");
}

#[test]
fn golden_image_example_lives_and_dies_completely() {
    let d = copy_example("golden-image");
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(out.contains("Apply complete! Resources: 8 added"), "{out}");
    assert!(
        out.contains("copies = {\n  \"beijing\" = \"m-") && out.contains("golden_image = \"m-"),
        "outputs are printed in Terraform's value syntax: {out}"
    );
    let cloud = || {
        Cloud::open(&Options {
            data: Some(d.path().join(".imgform/local-cloud")),
            ..Options::default()
        })
        .expect("opens")
    };
    let st = load_state(d.path()).expect("state");
    let golden = st
        .resources
        .values()
        .find(|r| r.kind == "alicloud_ecs_image_pipeline_execution")
        .and_then(|r| r.attrs.value()["image_id"].as_str().map(String::from))
        .expect("the build's image");
    let copies: Vec<(String, String)> = st
        .resources
        .values()
        .filter(|r| r.kind == "alicloud_image_copy")
        .map(|r| (r.region.clone(), r.id.clone().expect("id")))
        .collect();
    assert_eq!(copies.len(), 2);
    let c = cloud();
    for (region, id) in &copies {
        let rec = c.image_record(id).expect("the copy exists");
        assert_eq!(
            &rec.region, region,
            "each copy lives in its provider's region"
        );
        assert_eq!(rec.copied_from, golden);
    }
    let mut shared = c.image_record(&golden).expect("golden").shared_with;
    shared.sort();
    assert_eq!(shared, ["1234567890123", "2345678901234"]);
    assert_eq!(c.live_components().len(), 1);
    assert!(c
        .oss_objects("cn-hangzhou")
        .iter()
        .any(|(b, o)| b == "imgform-quickstart"
            && o.starts_with("golden")
            && o.ends_with(".qcow2")));
    drop(c);
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0),
        "a second plan is empty"
    );
    let out = ok(&run(d.path(), &["destroy", "--auto-approve"]));
    assert!(
        out.contains("Destroy complete! Resources: 8 destroyed."),
        "{out}"
    );
    let c = cloud();
    assert!(c.custom_images().is_empty(), "{:?}", c.custom_images());
    assert!(c.live_pipelines().is_empty());
    assert!(c.live_components().is_empty());
}

#[test]
fn terraform_files_apply_as_they_are() {
    // versions.tf with a terraform block, variables.tf, main.tf, terraform.tfvars and an
    // automatic tfvars file, with a TF_VAR_ variable: applied, then a second plan is empty.
    let d = tempfile::tempdir().expect("tmp");
    for f in std::fs::read_dir(root().join("testdata/valid/terraform_files")).expect("dir") {
        let p = f.expect("entry").path();
        std::fs::copy(&p, d.path().join(p.file_name().expect("name"))).expect("copy");
    }
    let with_env = |args: &[&str]| {
        imgform(d.path())
            .env("IMGFORM_LOCAL_SPEED", SPEED)
            .env("TF_VAR_env", "prod")
            .args(["--cloud", "local"])
            .args(args)
            .output()
            .expect("runs")
    };
    let out = ok(&with_env(&["apply", "--auto-approve"]));
    assert!(out.contains("Apply complete! Resources: 1 added"), "{out}");
    let st = load_state(d.path()).expect("state");
    let r = st.resources.values().next().expect("the image");
    assert_eq!(r.attrs.value()["image_name"], "from-tfvars");
    assert_eq!(
        r.attrs.value()["tags"],
        serde_json::json!({"team": "from-auto-tfvars", "env": "prod"})
    );
    assert_eq!(
        with_env(&["plan", "--detailed-exitcode"]).status.code(),
        Some(0)
    );
}

#[test]
fn images_terraform_manages_are_adopted_without_being_recreated() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(
        d.path().join("main.tf"),
        r#"
terraform {
  required_providers {
    alicloud = {
      source = "aliyun/alicloud"
    }
  }
}

provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "web" {
  image_name  = "tf-web"
  snapshot_id = "s-bp1system0001"
  description = "made by terraform"
}

module "golden" {
  source = "./modules/golden"
  name   = "tf-mod"
}
"#,
    )
    .expect("write");
    std::fs::create_dir_all(d.path().join("modules/golden")).expect("mkdir");
    std::fs::write(
        d.path().join("modules/golden/main.tf"),
        r#"
variable "name" {
  type = string
}

resource "alicloud_image" "this" {
  image_name  = var.name
  snapshot_id = "s-bp1system0001"
}
"#,
    )
    .expect("write");
    // The image Terraform made, and the state it keeps.
    let mut cloud = Cloud::open(&Options {
        data: Some(d.path().join(".imgform/local-cloud")),
        ..Options::default()
    })
    .expect("opens");
    cloud
        .seed_from(&serde_json::json!({"regions": {"cn-hangzhou": {"images": [
            {"id": "m-tfmanaged000000001", "name": "tf-web"},
            {"id": "m-tfmanaged000000002", "name": "tf-mod"}
        ]}}}))
        .expect("seed");
    let mut img = cloud.image_record("m-tfmanaged000000001").expect("image");
    img.description = "made by terraform".into();
    cloud.replace_image(img);
    drop(cloud);
    let tfstate = serde_json::json!({
        "version": 4, "terraform_version": "1.9.8", "serial": 3, "lineage": "3f1c0c8e-terraform",
        "outputs": {},
        "resources": [
            {"mode": "managed", "type": "alicloud_image", "name": "web",
             "provider": "provider[\"registry.terraform.io/aliyun/alicloud\"]",
             "instances": [{"schema_version": 0, "attributes": {
                "id": "m-tfmanaged000000001", "image_name": "tf-web", "name": "tf-web",
                "snapshot_id": "s-bp1system0001", "description": "made by terraform",
                "architecture": "x86_64", "platform": "Ubuntu", "disk_device_mapping": [],
                "force": false, "tags": null, "timeouts": null, "resource_group_id": ""},
                "sensitive_attributes": [], "private": "eyJlMmJm"}]},
            {"module": "module.golden", "mode": "managed", "type": "alicloud_image", "name": "this",
             "provider": "provider[\"registry.terraform.io/aliyun/alicloud\"]",
             "instances": [{"schema_version": 0, "attributes": {
                "id": "m-tfmanaged000000002", "image_name": "tf-mod", "snapshot_id": "s-bp1system0001",
                "description": "", "tags": null, "timeouts": null}}]},
            {"mode": "managed", "type": "alicloud_vpc", "name": "net",
             "provider": "provider[\"registry.terraform.io/aliyun/alicloud\"]",
             "instances": [{"attributes": {"id": "vpc-1"}}]}
        ]
    });
    std::fs::write(d.path().join("terraform.tfstate"), tfstate.to_string()).expect("write");
    let out = ok(&run(
        d.path(),
        &[
            "state",
            "import-terraform",
            "terraform.tfstate",
            "--dry-run",
        ],
    ));
    assert!(
        out.contains("Would adopt alicloud_image.web [id=m-tfmanaged000000001]"),
        "{out}"
    );
    assert!(
        load_state(d.path()).is_none_or(|s| s.resources.is_empty()),
        "a dry run writes nothing"
    );
    let out = ok(&run(
        d.path(),
        &["state", "import-terraform", "terraform.tfstate"],
    ));
    assert!(
        out.contains("Adopted alicloud_image.web")
            && out.contains("Adopted module.golden.alicloud_image.this")
            && out.contains("Skipped alicloud_vpc.net"),
        "{out}"
    );
    // The same configuration plans no change: nothing is created or replaced.
    let plan = run(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&plan.stdout)
    );
    // Nothing was created or deleted: the cloud holds the two images Terraform made, and
    // no other image ever existed (a deleted one would still be on record).
    let c = Cloud::open(&Options {
        data: Some(d.path().join(".imgform/local-cloud")),
        ..Options::default()
    })
    .expect("opens");
    let mut ever = c.custom_images_ever();
    ever.sort();
    assert_eq!(
        ever,
        [
            ("m-tfmanaged000000001".to_string(), false),
            ("m-tfmanaged000000002".to_string(), false)
        ]
    );
    drop(c);
    let mut images = cloud_images(d.path());
    images.sort();
    assert_eq!(
        images,
        [
            ("m-tfmanaged000000001".to_string(), "tf-web".to_string()),
            ("m-tfmanaged000000002".to_string(), "tf-mod".to_string())
        ]
    );
    // Adopting twice is refused.
    let again = run(
        d.path(),
        &["state", "import-terraform", "terraform.tfstate"],
    );
    assert_eq!(again.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already in imgform's state"));
}

#[test]
fn multi_region_example() {
    let d = copy_example("multi-region");
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(out.contains("Apply complete! Resources: 4 added"), "{out}");
    let mut names: Vec<String> = cloud_images(d.path()).into_iter().map(|x| x.1).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "golden-beijing",
            "golden-shanghai",
            "variant-beijing",
            "variant-shanghai"
        ]
    );
    let st = load_state(d.path()).expect("state");
    let regions: Vec<&str> = st.resources.values().map(|r| r.region.as_str()).collect();
    assert_eq!(
        regions,
        ["cn-beijing", "cn-shanghai", "cn-hangzhou", "cn-hangzhou"]
    );
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
    ok(&run(d.path(), &["destroy", "--auto-approve"]));
    assert!(cloud_images(d.path()).is_empty());
}

#[test]
fn a_second_apply_waits_for_the_lock_then_fails_naming_the_holder() {
    let d = copy_example("quickstart");
    let mut first = imgform(d.path())
        .env("IMGFORM_LOCAL_SPEED", "30")
        .args(["--cloud", "local", "apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawns");
    let t = std::time::Instant::now();
    while load_state(d.path()).is_none_or(|s| s.resources.is_empty())
        && t.elapsed() < std::time::Duration::from_secs(10)
    {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let second = imgform(d.path())
        .args([
            "--cloud",
            "local",
            "apply",
            "--auto-approve",
            "--lock-timeout",
            "1s",
        ])
        .output()
        .expect("runs");
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("the state is locked by")
            && err.contains("(apply, since")
            && err.contains("force-unlock"),
        "{err}"
    );
    assert!(first.wait().expect("waits").success());
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0),
        "the state was not corrupted"
    );
}

fn wait_for_pending_creates(state: &Path, n: usize) {
    // `state` is the configuration directory.
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_secs(20) {
        let rows = pending_creates(state);
        if rows >= n {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("no pending creates appeared");
}

fn interrupt(pid: u32) {
    send_signal(pid, "-INT");
}

fn send_signal(pid: u32, signal: &str) {
    let ok = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok);
}

#[test]
fn ctrl_c_stops_new_work_records_in_flight_work_and_a_second_exits_at_once() {
    // Issue 28: the first interrupt ends every wait at once (at speed 6 these creates take
    // minutes of real time); what was sent is recorded with its id, and the next apply
    // resumes the waits without a second object.
    let d = copy_example("quickstart");
    let child = imgform(d.path())
        .env("IMGFORM_LOCAL_SPEED", "6")
        .args(["--cloud", "local", "apply", "--auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    wait_for_pending_creates(d.path(), 2);
    interrupt(child.id());
    let t = std::time::Instant::now();
    let out = child.wait_with_output().expect("waits");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(5),
        "the first interrupt ends the waits within seconds: {:?}",
        t.elapsed()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("Interrupt received.") && stderr.contains("Apply interrupted"),
        "{stderr}"
    );
    assert!(
        stderr.contains("skipped alicloud_ecs_image_pipeline.hardened"),
        "the pipeline was not started: {stderr}"
    );
    assert!(
        !stderr.contains("fix the errors") && stderr.contains("run `imgform apply` again"),
        "nothing failed, so there is nothing to fix: {stderr}"
    );
    let st = load_state(d.path()).expect("state");
    let recorded: Vec<String> = st
        .resources
        .values()
        .filter(|r| r.status == imgform::state::Status::Creating && r.id.is_some())
        .map(|r| r.addr.to_string())
        .collect();
    assert_eq!(
        recorded,
        ["alicloud_image.web", "alicloud_image_import.ubuntu"],
        "in-flight creates were recorded with their ids"
    );
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(
        out.contains("resuming an interrupted create") && out.contains("3 added"),
        "{out}"
    );
    let mut names: Vec<String> = cloud_images(d.path()).into_iter().map(|x| x.1).collect();
    names.sort();
    assert_eq!(names, ["ubuntu-22-04-dev", "web-dev"], "no second object");
    // Two interrupts: out at once, and the next apply resumes.
    let d = copy_example("quickstart");
    let child = imgform(d.path())
        .env("IMGFORM_LOCAL_SPEED", "60")
        .args(["--cloud", "local", "apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    wait_for_pending_creates(d.path(), 2);
    interrupt(child.id());
    interrupt(child.id());
    let t = std::time::Instant::now();
    let out = child.wait_with_output().expect("waits");
    assert!(
        t.elapsed() < std::time::Duration::from_secs(2),
        "the second interrupt exits at once"
    );
    // 130 when the second interrupt ended it; 1 when the first had already ended every wait
    // and the run exited on its own before the second arrived.
    assert!(
        matches!(out.status.code(), Some(130) | Some(1)),
        "{:?} {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(
        out.contains("resuming an interrupted create") && out.contains("Apply complete!"),
        "{out}"
    );
    let mut names: Vec<String> = cloud_images(d.path()).into_iter().map(|x| x.1).collect();
    names.sort();
    assert_eq!(names, ["ubuntu-22-04-dev", "web-dev"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_made_outside_imgform_are_drift_and_planned_back() {
    let d = copy_example("quickstart");
    let dir = d.path().to_path_buf();
    let out = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || ok(&run(&dir, &["apply", "--auto-approve"]))
    })
    .await
    .expect("joins");
    assert!(out.contains("Apply complete!"), "{out}");
    let st = load_state(&dir).expect("state");
    let web = st.resources[&"alicloud_image.web".parse().expect("addr")]
        .id
        .clone()
        .expect("id");
    let import = st.resources[&"alicloud_image_import.ubuntu".parse().expect("addr")]
        .id
        .clone()
        .expect("id");
    // Someone deletes one image in the console and renames the other.
    let h = imgform::localcloud::start(imgform::localcloud::Options {
        data: Some(dir.join(".imgform/local-cloud")),
        ..Default::default()
    })
    .await
    .expect("cloud");
    let c = crate::localcloud::client(&h.endpoint(), 0);
    let _: imgform::cloud::ops::Empty = c
        .call(
            "DeleteImage",
            &imgform::cloud::ops::DeleteImage {
                region_id: "cn-hangzhou".into(),
                image_id: web.clone(),
                force: Some(true),
            },
        )
        .await
        .expect("delete");
    let _: imgform::cloud::ops::Empty = c
        .call(
            "ModifyImageAttribute",
            &imgform::cloud::ops::ModifyImageAttribute {
                region_id: "cn-hangzhou".into(),
                image_id: import,
                image_name: Some("renamed-in-console".into()),
                ..Default::default()
            },
        )
        .await
        .expect("rename");
    h.stop().await;
    let plan = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || ok(&run(&dir, &["plan"]))
    })
    .await
    .expect("joins");
    assert!(
        plan.contains("Note: Objects have changed outside of imgform"),
        "{plan}"
    );
    assert!(
        plan.contains("# alicloud_image.web has been deleted")
            && plan.contains("# alicloud_image_import.ubuntu has changed"),
        "{plan}"
    );
    assert!(
        plan.contains("# alicloud_image.web will be created"),
        "{plan}"
    );
    assert!(
        plan.contains("~ image_name = \"renamed-in-console\" -> \"ubuntu-22-04-dev\""),
        "{plan}"
    );
    let out = tokio::task::spawn_blocking({
        let dir = dir.clone();
        move || ok(&run(&dir, &["apply", "--auto-approve"]))
    })
    .await
    .expect("joins");
    assert!(out.contains("1 added, 1 changed, 0 destroyed"), "{out}");
    assert_eq!(
        run(&dir, &["plan", "--detailed-exitcode"]).status.code(),
        Some(0)
    );
}

#[test]
fn the_state_history_keeps_the_newest_applies_and_serves_them() {
    let d = tempfile::tempdir().expect("tmp");
    let cfg = |name: &str| {
        format!("imgform {{\n  history_retention = 2\n}}\n\nprovider \"alicloud\" {{\n  region = \"cn-hangzhou\"\n}}\n\nresource \"alicloud_image\" \"h\" {{\n  image_name  = \"{name}\"\n  snapshot_id = \"s-bp1qs0000000000web\"\n}}\n")
    };
    let mut serials = Vec::new();
    for name in ["hist-1", "hist-2", "hist-3", "hist-4"] {
        std::fs::write(d.path().join("main.hcl"), cfg(name)).expect("write");
        ok(&run(d.path(), &["apply", "--auto-approve"]));
        serials.push(load_state(d.path()).expect("state").serial);
    }
    let list = ok(&imgform(d.path())
        .args(["state", "list", "--history"])
        .output()
        .expect("runs"));
    let kept: Vec<u64> = list
        .lines()
        .filter_map(|l| l.split('\t').next()?.parse().ok())
        .collect();
    assert_eq!(kept, serials[2..], "the newest two: {list}");
    // Terraform's single-dash spelling works too.
    let old = ok(&imgform(d.path())
        .args(["state", "pull", &format!("-serial={}", serials[2])])
        .output()
        .expect("runs"));
    let v: serde_json::Value = serde_json::from_str(&old).expect("json");
    assert_eq!(v["serial"], serials[2]);
    assert!(old.contains("hist-3"), "{old}");
    let gone = imgform(d.path())
        .args(["state", "pull", "--serial", &serials[0].to_string()])
        .output()
        .expect("runs");
    assert_eq!(gone.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&gone.stderr).contains("the history keeps no state with serial"),
        "{}",
        String::from_utf8_lossy(&gone.stderr)
    );
}

#[test]
fn sigterm_is_an_interrupt_that_finishes_in_flight_work_and_releases_the_lock() {
    let d = copy_example("quickstart");
    let child = imgform(d.path())
        .env("IMGFORM_LOCAL_SPEED", "6")
        .args(["--cloud", "local", "apply", "--auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    wait_for_pending_creates(d.path(), 2);
    send_signal(child.id(), "-TERM");
    let t = std::time::Instant::now();
    let out = child.wait_with_output().expect("waits");
    // Issue 28: one SIGTERM ends the waits within seconds.
    assert!(
        t.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        t.elapsed()
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "exited, not killed: {stderr}");
    assert!(stderr.contains("Interrupt received."), "{stderr}");
    // The lock was released: the next apply takes it at once and finishes the work.
    let out = ok(&run(
        d.path(),
        &["apply", "--auto-approve", "--lock-timeout", "0s"],
    ));
    assert!(out.contains("3 added"), "{out}");
}

#[test]
fn input_false_never_prompts_and_lock_false_skips_the_lock() {
    let d = copy_example("quickstart");
    // Another process holds the lock (this test, through the SQLite store; against the
    // PostgreSQL backend this part is covered by the pg tests' lock checks).
    if std::env::var("IMGFORM_TEST_PG").is_err() {
        let mut holder =
            imgform::state::store::Store::open(&d.path().join("imgform.state.db")).expect("state");
        let held = holder
            .lock("test", std::time::Duration::from_secs(0))
            .expect("locks");
        let o = run(d.path(), &["plan", "-lock=false", "-input=false"]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        let o = run(d.path(), &["plan"]);
        assert_eq!(o.status.code(), Some(1), "the lock is respected by default");
        // force-unlock asks, as Terraform does; anything but `yes` cancels.
        let mut ask = imgform(d.path())
            .args(["force-unlock", &held.id])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawns");
        std::io::Write::write_all(&mut ask.stdin.take().expect("stdin"), b"no\n").expect("answers");
        let o = ask.wait_with_output().expect("waits");
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(1), "{out}");
        assert!(
            out.contains("Do you really want to force-unlock?")
                && out.contains("force-unlock cancelled."),
            "{out}"
        );
        assert_eq!(
            run(d.path(), &["plan"]).status.code(),
            Some(1),
            "still locked"
        );
        // `-force` (what CI scripts pass) does not ask.
        let o = imgform(d.path())
            .args(["force-unlock", "-force", &held.id])
            .stdin(std::process::Stdio::null())
            .output()
            .expect("runs");
        let out = String::from_utf8_lossy(&o.stdout);
        assert_eq!(o.status.code(), Some(0), "{out}");
        assert!(
            out.contains("successfully unlocked") && !out.contains("Do you really"),
            "{out}"
        );
        assert_eq!(run(d.path(), &["plan"]).status.code(), Some(0), "unlocked");
        drop(holder);
    }
    // Without a terminal to answer, -input=false fails at once instead of waiting.
    let o = imgform(d.path())
        .env("IMGFORM_LOCAL_SPEED", SPEED)
        .args(["--cloud", "local", "apply", "-input=false"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no interactive input (--input=false)"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(cloud_images(d.path()).is_empty(), "nothing was applied");
}

#[test]
fn unset_computed_attributes_and_empty_counts_can_be_referenced() {
    // An attribute the configuration did not set is null to expressions (not an error that
    // breaks every later plan), and a resource with count = 0 is an empty list: both
    // outputs are stored, and the next plan is empty.
    let d = crate::util::dir_with(&[(
        "main.tf",
        r#"
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_ecs_image_pipeline" "p" {
  name            = "computed"
  base_image_type = "IMAGE"
  base_image      = "ubuntu_22_04_x64_20G_alibase_20240101.vhd"
  instance_type   = "ecs.g7.large"
  build_content   = "RUN echo hi"
}

resource "alicloud_image" "zero" {
  count       = 0
  image_name  = "zero"
  snapshot_id = "s-bp1qs0000000000web"
}

output "disk" {
  value = alicloud_ecs_image_pipeline.p.system_disk_size
}

output "zero_ids" {
  value = alicloud_image.zero[*].id
}
"#,
    )]);
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(out.contains("zero_ids = []"), "{out}");
    let outs: serde_json::Value =
        serde_json::from_str(&ok(&run(d.path(), &["output", "-json"]))).expect("json");
    assert_eq!(outs["zero_ids"]["value"], serde_json::json!([]));
    assert!(outs["disk"]["value"].is_null(), "{outs}");
    let plan = run(d.path(), &["plan", "--detailed-exitcode"]);
    assert_eq!(
        plan.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&plan.stdout),
        String::from_utf8_lossy(&plan.stderr)
    );
    // An apply with nothing to do still ends as Terraform's does: the count, the outputs.
    let again = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(
        again.contains("Apply complete! Resources: 0 added, 0 changed, 0 destroyed.\n\nOutputs:\n")
            && again.contains("zero_ids = []"),
        "{again}"
    );
    ok(&run(d.path(), &["destroy", "--auto-approve"]));
}

#[test]
fn a_data_source_that_depends_on_a_pending_change_is_read_during_apply() {
    let d = crate::util::dir_with(&[(
        "main.tf",
        r#"
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "web" {
  image_name  = "web-dd"
  snapshot_id = "s-bp1qs0000000000web"
}

data "alicloud_images" "mine" {
  name_regex = "^web-dd"
  owners     = "self"
  depends_on = [alicloud_image.web]
}

output "found" {
  value = data.alicloud_images.mine.ids
}
"#,
    )]);
    let plan = ok(&run(d.path(), &["plan"]));
    assert!(
        plan.contains("# data.alicloud_images.mine will be read during apply\n  # (depends on a resource or a module with changes pending)"),
        "{plan}"
    );
    let json = plan_document(d.path(), &[]);
    let read = json["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["address"] == "data.alicloud_images.mine")
        .expect("the read");
    assert_eq!(read["action_reason"], "read_because_dependency_pending");
    ok(&run(d.path(), &["apply", "--auto-approve"]));
    // Read after the image exists: it finds it.
    let st = load_state(d.path()).expect("state");
    let id = st
        .resources
        .values()
        .find(|r| r.addr.to_string() == "alicloud_image.web")
        .and_then(|r| r.id.clone())
        .expect("image id");
    let outs: serde_json::Value =
        serde_json::from_str(&ok(&run(d.path(), &["output", "-json"]))).expect("json");
    assert_eq!(outs["found"]["value"], serde_json::json!([id]));
    // Nothing pending any more: read at plan time, no changes.
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn a_removed_block_forgets_in_terraforms_words_and_leaves_the_image() {
    let d = crate::util::dir_with(&[(
        "main.tf",
        "provider \"alicloud\" {\n  region = \"cn-hangzhou\"\n}\n\nresource \"alicloud_image\" \"old\" {\n  snapshot_id = \"s-bp1system0001\"\n  image_name  = \"handed-over\"\n}\n",
    )]);
    ok(&run(d.path(), &["apply", "--auto-approve"]));
    std::fs::write(
        d.path().join("main.tf"),
        "provider \"alicloud\" {\n  region = \"cn-hangzhou\"\n}\n\nremoved {\n  from = alicloud_image.old\n\n  lifecycle {\n    destroy = false\n  }\n}\n",
    )
    .expect("write");
    let plan = ok(&run(d.path(), &["plan"]));
    for want in [
        // One space before `#` and `.`, as Terraform's jsonformat/plan.go writes a forget.
        "\n # alicloud_image.old will no longer be managed by imgform, but will not be destroyed\n # (destroy = false is set in the configuration)\n",
        "\n . resource \"alicloud_image\" \"old\" {\n",
        "Plan: 0 to add, 0 to change, 0 to destroy, 1 to forget.\n",
        "Warning: Some objects will no longer be managed by imgform",
        " - alicloud_image.old\n",
    ] {
        assert!(plan.contains(want), "{want:?} in\n{plan}");
    }
    assert!(
        !plan.contains("-> null"),
        "a forget is not a destroy:\n{plan}"
    );
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(
        out.contains("Apply complete! Resources: 0 added, 0 changed, 0 destroyed, 1 forgotten."),
        "{out}"
    );
    assert_eq!(
        cloud_images(d.path()).len(),
        1,
        "the image stays in the cloud"
    );
    assert!(load_state(d.path()).is_some_and(|s| s.resources.is_empty()));
}

/// Runs imgform on the local cloud in `dir` with `input` on stdin: exit code and stdout.
fn with_stdin(dir: &Path, args: &[&str], input: &str) -> (Option<i32>, String) {
    use std::io::Write as _;
    let mut child = imgform(dir)
        .env("IMGFORM_LOCAL_SPEED", SPEED)
        .args(["--cloud", "local"])
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("writes");
    let o = child.wait_with_output().expect("ends");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
    )
}

#[test]
fn prompts_use_terraforms_words() {
    let d = copy_example("quickstart");
    let answer = |args: &[&str], reply: &str| with_stdin(d.path(), args, reply);
    let (code, out) = answer(&["apply"], "no\n");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("Do you want to perform these actions?\n  imgform will perform the actions described above.\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
            && out.contains("Apply cancelled."),
        "{out}"
    );
    let (code, out) = answer(&["apply"], "yes\n");
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = answer(&["destroy"], "no\n");
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("Do you really want to destroy all resources?\n  imgform will destroy all your managed infrastructure, as shown above.\n  There is no undo. Only 'yes' will be accepted to confirm.")
            && out.contains("Destroy cancelled."),
        "{out}"
    );
    assert!(!cloud_images(d.path()).is_empty(), "nothing was destroyed");
}

#[test]
fn tag_values_are_strings_and_unchanged_elements_are_counted() {
    let main = |a: &str| {
        format!("provider \"alicloud\" {{\n  region = \"cn-hangzhou\"\n}}\n\nresource \"alicloud_image\" \"t\" {{\n  snapshot_id = \"s-bp1system0001\"\n  image_name  = \"tags\"\n  tags = {{\n    version = 2\n    public  = true\n    owner   = \"{a}\"\n  }}\n}}\n")
    };
    let d = crate::util::dir_with(&[("main.tf", &main("a"))]);
    let plan = ok(&run(d.path(), &["plan"]));
    // A number or bool in a map of strings is planned as the string the cloud keeps.
    assert!(
        plan.contains("+ \"version\" = \"2\"") && plan.contains("+ \"public\"  = \"true\""),
        "{plan}"
    );
    ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0),
        "no perpetual diff for 2 against \"2\""
    );
    std::fs::write(d.path().join("main.tf"), main("b")).expect("write");
    let plan = ok(&run(d.path(), &["plan"]));
    assert!(
        plan.contains("~ \"owner\" = \"a\" -> \"b\"")
            && plan.contains("# (2 unchanged elements hidden)")
            && !plan.contains("\"version\""),
        "{plan}"
    );
}

#[test]
fn a_targeted_apply_warns_that_it_may_be_incomplete() {
    let d = crate::util::copy_tree(&root().join("testdata/modules/basic"));
    let out = ok(&run(
        d.path(),
        &[
            "apply",
            "--auto-approve",
            "--target",
            "module.base.alicloud_image.this",
        ],
    ));
    assert!(
        out.contains("Apply complete! Resources: 1 added, 0 changed, 0 destroyed.")
            && out.contains("Warning: Applied changes may be incomplete")
            && out.contains("Run the following command to verify that no other changes are pending:\n    imgform plan"),
        "{out}"
    );
    let st = load_state(d.path()).expect("state");
    let addrs: Vec<String> = st.resources.keys().map(|a| a.to_string()).collect();
    assert_eq!(addrs, ["module.base.alicloud_image.this"]);
}

#[test]
fn compact_warnings_list_one_line_each() {
    let d = crate::util::dir_with(&[(
        "main.tf",
        "provider \"alicloud\" {\n  region     = \"cn-hangzhou\"\n  access_key = \"AKIDEXAMPLE\"\n}\n",
    )]);
    let full = run(d.path(), &["plan"]);
    let err = String::from_utf8_lossy(&full.stderr).into_owned();
    assert!(
        err.contains("Credentials in configuration") && err.contains("version control"),
        "{err}"
    );
    let compact = run(d.path(), &["plan", "-compact-warnings"]);
    assert_eq!(compact.status.code(), Some(0));
    let err = String::from_utf8_lossy(&compact.stderr).into_owned();
    assert!(
        err.contains(
            "Warnings:\n\n- Credentials in configuration\n  on main.tf line 3, in provider \"alicloud\""
        )
            && err
                .contains("To see the full warning notes, run imgform without -compact-warnings.")
            && !err.contains("version control"),
        "{err}"
    );
}

#[test]
fn refresh_takes_what_the_cloud_reports_and_changes_nothing_there() {
    let d = crate::util::dir_with(&[(
        "main.tf",
        "provider \"alicloud\" {\n  region = \"cn-hangzhou\"\n}\n\nresource \"alicloud_image\" \"r\" {\n  snapshot_id = \"s-bp1system0001\"\n  image_name  = \"refreshed\"\n  description = \"as configured\"\n}\n",
    )]);
    ok(&run(d.path(), &["apply", "--auto-approve"]));
    let st = load_state(d.path()).expect("state");
    let id = st
        .resources
        .values()
        .next()
        .and_then(|r| r.id.clone())
        .expect("id");
    // Someone edits the image in the console.
    let mut cloud = Cloud::open(&Options {
        data: Some(d.path().join(".imgform/local-cloud")),
        ..Options::default()
    })
    .expect("opens");
    let mut img = cloud.image_record(&id).expect("image");
    img.description = "changed in the console".into();
    cloud.replace_image(img);
    drop(cloud);
    let out = ok(&run(d.path(), &["refresh"]));
    assert!(
        out.contains("Apply complete! Resources: 0 added, 0 changed, 0 destroyed."),
        "{out}"
    );
    let st = load_state(d.path()).expect("state");
    assert_eq!(
        st.resources.values().next().expect("row").attrs.value()["description"],
        "changed in the console",
        "the state took the cloud's value"
    );
    // Nothing changed in the cloud: a normal plan now proposes to put the description back.
    let plan = ok(&run(d.path(), &["plan"]));
    assert!(
        plan.contains("~ description = \"changed in the console\" -> \"as configured\""),
        "{plan}"
    );
}

#[test]
fn console_evaluates_against_the_configuration_and_the_state() {
    let d = crate::util::copy_tree(&root().join("testdata/modules/basic"));
    ok(&run(d.path(), &["apply", "--auto-approve"]));
    let st = load_state(d.path()).expect("state");
    let base = st
        .resources
        .values()
        .find(|r| r.addr.to_string() == "module.base.alicloud_image.this")
        .and_then(|r| r.id.clone())
        .expect("base id");
    let (code, out) = with_stdin(
        d.path(),
        &["console"],
        "module.base.image_id\nupper(local.owner)\ncidrsubnet(\"10.0.0.0/16\", 8, 2)\nnope(\n",
    );
    // As Terraform's console: an error read from a pipe ends the run with exit code 1,
    // the error on stderr.
    assert_eq!(code, Some(1));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("\"{base}\""), "{out}");
    assert_eq!(lines[1], "\"PLATFORM\"");
    assert_eq!(lines[2], "\"10.0.2.0/24\"");
    assert_eq!(lines.len(), 3, "{out}");
}

#[test]
fn console_evaluates_in_a_directory_without_configuration_and_fails_as_terraform_does() {
    let d = tempfile::tempdir().expect("tmp");
    let (code, out) = with_stdin(d.path(), &["console"], "1 + 1\nupper(\"a\")\n");
    assert_eq!((code, out.as_str()), (Some(0), "2\n\"A\"\n"));
    let o = imgform(d.path())
        .arg("console")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write as _;
            c.stdin
                .take()
                .expect("stdin")
                .write_all(b"nosuch(1)\n2\n")?;
            c.wait_with_output()
        })
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty(), "nothing after the error is evaluated");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("Error: Call to unknown function")
            && err.contains("on <console-input> line 1:"),
        "{err}"
    );
}

#[test]
fn console_names_sets_lists_and_maps_as_terraforms_console_does() {
    let d = crate::util::dir_with(&[(
        "main.tf",
        "variable \"zones\" {\n  type    = set(string)\n  default = [\"b\", \"a\"]\n}\n\nlocals {\n  regions = toset([\"cn-shanghai\", \"cn-beijing\", \"cn-shanghai\"])\n}\n",
    )]);
    let (code, out) = with_stdin(
        d.path(),
        &["console"],
        "local.regions\nvar.zones\ntolist([\"x\"])\ntomap({a = 1})\n[\"t\", 1]\ntoset([])\n",
    );
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(
        out,
        "toset([\n  \"cn-beijing\",\n  \"cn-shanghai\",\n])\ntoset([\n  \"a\",\n  \"b\",\n])\ntolist([\n  \"x\",\n])\ntomap({\n  \"a\" = 1\n})\n[\n  \"t\",\n  1,\n]\ntoset([])\n"
    );
}

#[test]
fn console_never_prints_a_sensitive_value() {
    let d = crate::util::dir_with(&[(
        "main.tf",
        "variable \"pw\" {\n  default   = \"hunter2\"\n  sensitive = true\n}\n\nlocals {\n  wrapped = \"x-${var.pw}\"\n}\n",
    )]);
    let (_, out) = with_stdin(
        d.path(),
        &["console"],
        "var.pw\nlocal.wrapped\nlength(var.pw)\n",
    );
    assert!(!out.contains("hunter2"), "{out}");
    assert_eq!(
        out.lines().filter(|l| *l == "(sensitive value)").count(),
        3,
        "{out}"
    );
}

/// The JSON lines of a `-json` run, each checked to be one object.
fn stream(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn messages(lines: &[serde_json::Value], typ: &str) -> Vec<String> {
    lines
        .iter()
        .filter(|l| l["type"] == typ)
        .map(|l| l["@message"].as_str().expect("@message").to_string())
        .collect()
}

#[test]
fn plan_and_apply_stream_terraforms_machine_readable_ui() {
    let d = copy_example("quickstart");
    let plan = run(d.path(), &["plan", "-json"]);
    let lines = stream(&plan);
    assert_eq!(plan.status.code(), Some(0));
    // Terraform's envelope on every line, the version first.
    assert_eq!(lines[0]["type"], "version");
    assert_eq!(lines[0]["ui"], "1.2");
    assert!(lines[0]["@message"]
        .as_str()
        .is_some_and(|m| m.starts_with("Terraform 1.")));
    for l in &lines {
        assert_eq!(l["@module"], "terraform.ui", "{l}");
        assert!(
            l["@timestamp"].is_string() && l["@level"].is_string(),
            "{l}"
        );
    }
    let planned = messages(&lines, "planned_change");
    assert_eq!(planned.len(), 3, "{planned:?}");
    assert!(
        planned.contains(&"alicloud_image.web: Plan to create".to_string()),
        "{planned:?}"
    );
    let web = lines
        .iter()
        .find(|l| {
            l["type"] == "planned_change" && l["change"]["resource"]["addr"] == "alicloud_image.web"
        })
        .expect("web");
    assert_eq!(
        web["change"]["resource"],
        serde_json::json!({"addr": "alicloud_image.web", "module": "", "resource": "alicloud_image.web", "implied_provider": "alicloud", "resource_type": "alicloud_image", "resource_name": "web", "resource_key": null})
    );
    assert_eq!(web["change"]["action"], "create");
    assert_eq!(
        messages(&lines, "change_summary"),
        ["Plan: 3 to add, 0 to change, 0 to destroy."]
    );
    assert_eq!(lines.last().expect("lines")["type"], "outputs");

    // apply -json: the plan, then each operation, then the summary and the outputs.
    let apply = run(d.path(), &["apply", "-auto-approve", "-json"]);
    assert_eq!(apply.status.code(), Some(0));
    let lines = stream(&apply);
    assert_eq!(lines[0]["type"], "version");
    let starts = messages(&lines, "apply_start");
    assert!(
        starts.contains(&"alicloud_image.web: Creating...".to_string()),
        "{starts:?}"
    );
    let done = messages(&lines, "apply_complete");
    assert_eq!(done.len(), 3, "{done:?}");
    assert!(
        done.iter().any(
            |m| m.starts_with("alicloud_image.web: Creation complete after ")
                && m.contains(" [id=m-")
        ),
        "{done:?}"
    );
    let complete = lines
        .iter()
        .find(|l| l["type"] == "apply_complete")
        .expect("complete");
    assert_eq!(complete["hook"]["id_key"], "id");
    assert!(complete["hook"]["elapsed_seconds"].is_number());
    assert_eq!(
        messages(&lines, "change_summary"),
        [
            "Plan: 3 to add, 0 to change, 0 to destroy.",
            "Apply complete! Resources: 3 added, 0 changed, 0 destroyed."
        ]
    );
    let outputs = lines.last().expect("lines");
    assert_eq!(outputs["type"], "outputs");
    assert!(outputs["outputs"]
        .as_object()
        .expect("outputs")
        .values()
        .all(|o| o["type"].is_string() || o["type"].is_array()));

    // A plan of the applied state refreshes each object, in Terraform's words.
    let lines = stream(&run(d.path(), &["plan", "-json"]));
    let refreshing = messages(&lines, "refresh_start");
    let refreshed = messages(&lines, "refresh_complete");
    assert_eq!((refreshing.len(), refreshed.len()), (3, 3));
    assert!(refreshing
        .iter()
        .any(|m| m.starts_with("alicloud_image.web: Refreshing state... [id=m-")));
    assert!(refreshed
        .iter()
        .any(|m| m.starts_with("alicloud_image.web: Refresh complete [id=m-")));
    assert_eq!(
        messages(&lines, "change_summary"),
        ["Plan: 0 to add, 0 to change, 0 to destroy."]
    );

    // A failed apply: apply_errored and the error as a diagnostic, never "Apply complete!".
    let p = d.path().join("main.hcl");
    std::fs::write(
        &p,
        std::fs::read_to_string(&p)
            .expect("read")
            .replace("resource \"alicloud_image\" \"web\" {", "resource \"alicloud_image\" \"web2\" {\n  image_name  = \"web-two\"\n  snapshot_id = \"s-bp1system0001\"\n}\n\nresource \"alicloud_image\" \"web\" {"),
    )
    .expect("write");
    let failed = imgform(d.path())
        .env("IMGFORM_LOCAL_SPEED", SPEED)
        .env("IMGFORM_LOCAL_FAULTS", "fail_create=1")
        .args(["--cloud", "local", "apply", "-auto-approve", "-json"])
        .output()
        .expect("runs");
    assert_eq!(failed.status.code(), Some(1));
    let lines = stream(&failed);
    let errored = messages(&lines, "apply_errored");
    assert!(
        errored
            .iter()
            .any(|m| m.starts_with("alicloud_image.web2: Creation errored after ")),
        "{errored:?}"
    );
    let diags: Vec<&serde_json::Value> =
        lines.iter().filter(|l| l["type"] == "diagnostic").collect();
    assert!(diags
        .iter()
        .all(|l| l["@level"] == "error" && l["diagnostic"]["severity"] == "error"));
    assert!(diags.len() >= 2, "{diags:?}");
    assert!(!String::from_utf8_lossy(&failed.stdout).contains("Apply complete!"));
}

#[test]
fn a_whole_number_is_written_as_terraform_writes_it() {
    // Issue 31: `system_disk_size = 40.0` in the plan text, 40.0 in its JSON.
    let d = copy_example("quickstart");
    let out = ok(&run(d.path(), &["plan", "--out", "p.plan"]));
    assert!(out.contains("+ system_disk_size = 40\n"), "{out}");
    let doc: serde_json::Value =
        serde_json::from_str(&ok(&run(d.path(), &["show", "--json", "p.plan"]))).expect("json");
    let pipeline = doc["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["type"] == "alicloud_ecs_image_pipeline")
        .expect("the pipeline");
    assert_eq!(
        pipeline["change"]["after"]["system_disk_size"].to_string(),
        "40"
    );
}

#[test]
fn plan_and_destroy_print_terraforms_progress_lines() {
    // Issue 31: `Refreshing state... [id=…]` for each object a plan reads, the rule and the
    // quoted path of a saved plan, `Destroying... [id=…]`, and a delete's id in the JSON.
    let d = copy_example("quickstart");
    ok(&run(d.path(), &["apply", "--auto-approve"]));
    let out = ok(&run(d.path(), &["plan", "--destroy", "--out", "d.plan"]));
    let web = load_state(d.path())
        .expect("state")
        .resources
        .values()
        .find(|r| r.addr.to_string() == "alicloud_image.web")
        .and_then(|r| r.id.clone())
        .expect("web's id");
    assert!(
        out.starts_with("alicloud_ecs_image_pipeline.hardened: Refreshing state... [id=ip-"),
        "{out}"
    );
    assert!(out.contains(&format!(
        "alicloud_image.web: Refreshing state... [id={web}]\n"
    )));
    assert!(
        out.contains(&format!("- id                = \"{web}\" -> null")),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "\n{}\n\nSaved the plan to: d.plan\n\nTo perform exactly these actions, run the following command to apply:\n    imgform apply \"d.plan\"\n",
            "─".repeat(77)
        )),
        "{out}"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&ok(&run(d.path(), &["show", "--json", "d.plan"]))).expect("json");
    let del = doc["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["address"] == "alicloud_image.web")
        .expect("web");
    assert_eq!(del["change"]["before"]["id"], web.as_str());
    let out = ok(&run(d.path(), &["apply", "d.plan"]));
    assert!(
        out.contains(&format!("alicloud_image.web: Destroying... [id={web}]\n")),
        "{out}"
    );
    // A markdown comment holds no refresh lines.
    let md = ok(&run(d.path(), &["plan", "--format", "markdown"]));
    assert!(!md.contains("Refreshing state"), "{md}");
}

#[test]
fn a_removed_block_is_streamed_and_reasoned_as_terraform_does() {
    // Issue 31: the forget's planned_change had no reason, the plan JSON said
    // `forget_because_removed`, and the stream had no warning diagnostic.
    let d = tempfile::tempdir().expect("tmp");
    let two = "resource \"alicloud_image\" \"a\" {\n  image_name  = \"a-img\"\n  snapshot_id = \"s-bp1qs0000000000web\"\n}\n\nresource \"alicloud_image\" \"b\" {\n  image_name  = \"b-img\"\n  snapshot_id = \"s-bp1qs0000000000web\"\n}\n";
    std::fs::write(d.path().join("main.hcl"), two).expect("write");
    ok(&run(d.path(), &["apply", "--auto-approve"]));
    let removed = two.replace(
        "resource \"alicloud_image\" \"b\" {\n  image_name  = \"b-img\"\n  snapshot_id = \"s-bp1qs0000000000web\"\n}\n",
        "removed {\n  from = alicloud_image.b\n\n  lifecycle {\n    destroy = false\n  }\n}\n",
    );
    std::fs::write(d.path().join("main.hcl"), removed).expect("write");
    let stream = ok(&run(d.path(), &["plan", "--json"]));
    let lines: Vec<serde_json::Value> = stream
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let change = lines
        .iter()
        .find(|l| l["type"] == "planned_change")
        .expect("the forget");
    assert_eq!(change["change"]["action"], "remove");
    assert_eq!(
        change["change"]["reason"],
        "delete_because_no_resource_config"
    );
    let warning = lines.last().expect("lines");
    assert_eq!(warning["type"], "diagnostic");
    assert_eq!(warning["diagnostic"]["severity"], "warning");
    assert!(warning["diagnostic"]["detail"]
        .as_str()
        .is_some_and(|t| t.contains(" - alicloud_image.b\n")));
    let doc = plan_document(d.path(), &[]);
    let forget = doc["resource_changes"]
        .as_array()
        .expect("changes")
        .iter()
        .find(|c| c["address"] == "alicloud_image.b")
        .expect("b");
    assert_eq!(forget["action_reason"], "delete_because_no_resource_config");
}

/// Issue 30: `-C DIR plan -out p` wrote `p` in the current directory; Terraform's `-chdir`
/// moves first, so `p` is DIR's, and `apply p` with the same `-C` finds it.
#[test]
fn chdir_resolves_a_plan_file_inside_the_directory_as_terraform_does() {
    let outer = tempfile::tempdir().expect("tmp");
    let inner = outer.path().join("cfg");
    std::fs::create_dir(&inner).expect("mkdir");
    std::fs::write(
        inner.join("main.tf"),
        "provider \"alicloud\" {\n  region = \"cn-hangzhou\"\n}\nresource \"alicloud_image\" \"a\" {\n  image_name  = \"chdir-a\"\n  snapshot_id = \"s-bp1system0001\"\n}\n",
    )
    .expect("write");
    ok(&run(
        outer.path(),
        &["-C", "cfg", "plan", "-out", "saved.plan"],
    ));
    assert!(inner.join("saved.plan").is_file(), "the plan is in DIR");
    assert!(
        !outer.path().join("saved.plan").exists(),
        "not where imgform was started"
    );
    ok(&run(outer.path(), &["-C", "cfg", "apply", "saved.plan"]));
}
