//! The command line: exit codes, Terraform-style flags, graph output.

use crate::util::{dir_with, imgform, root};

#[test]
fn quickstart_validates() {
    let out = imgform(&root())
        .args(["-C", "examples/quickstart", "validate"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Success! The configuration is valid.\n"
    );
}

#[test]
fn single_dash_flags_work() {
    let out = imgform(&root())
        .args(["-chdir=examples/quickstart", "validate", "-json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["valid"], true);
}

#[test]
fn usage_errors_exit_1() {
    let out = imgform(&root())
        .args(["validate", "--bogus"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let out = imgform(&root()).args(["--version"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn graph_prints_dot_and_mermaid() {
    let out = imgform(&root())
        .args(["-C", "examples/quickstart", "graph"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.starts_with("digraph imgform {"), "{dot}");
    assert!(
        dot.contains(
            "\"alicloud_image_import.ubuntu\" -> \"alicloud_ecs_image_pipeline.hardened\""
        ),
        "{dot}"
    );
    let out = imgform(&root())
        .args(["-C", "examples/quickstart", "graph", "--format", "mermaid"])
        .output()
        .expect("runs");
    let m = String::from_utf8_lossy(&out.stdout);
    assert!(m.starts_with("flowchart LR\n"), "{m}");
}

#[test]
fn cycles_name_every_member_and_edge() {
    let d = dir_with(&[(
        "main.hcl",
        "locals {\n  a = local.c\n  b = local.a\n  c = local.b\n}\n",
    )]);
    let out = imgform(d.path()).args(["validate"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Cycle: local.a, local.b, local.c"), "{err}");
    for edge in [
        "local.a refers to local.c at main.hcl:2:7",
        "local.b refers to local.a at main.hcl:3:7",
        "local.c refers to local.b at main.hcl:4:7",
    ] {
        assert!(err.contains(edge), "missing {edge}: {err}");
    }
}

#[test]
fn missing_directory_is_a_clear_error() {
    let out = imgform(&root())
        .args(["-C", "no/such/dir", "validate"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Cannot read the configuration directory")
    );
}

#[test]
fn cloud_seed_adds_objects_and_rejects_bad_files_and_a_cloud_in_use() {
    let d = dir_with(&[
        (
            "seed.json",
            r#"{"regions": {"cn-hangzhou": {"snapshots": [{"id": "s-mine", "disk_type": "system", "size": 40}], "oss": [{"bucket": "my-bucket", "object": "disk.qcow2", "size_gib": 2}]}}}"#,
        ),
        ("bad.json", r#"{"regions": {"Hangzhou": {}}}"#),
    ]);
    let out = imgform(d.path())
        .args(["cloud", "seed", "--file", "seed.json"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 oss objects, 1 snapshots"));
    assert!(d.path().join(".imgform/local-cloud/cloud.db").exists());
    let opts = imgform::localcloud::Options {
        data: Some(d.path().join(".imgform/local-cloud")),
        ..Default::default()
    };
    let cloud = imgform::localcloud::Cloud::open(&opts).expect("opens");
    assert_eq!(cloud.stats()["objects"]["images"], 0);
    drop(cloud);
    // A running cloud keeps its objects in memory and writes them through: a seed (or a
    // second server) on the same data would be overwritten, so it is refused while one
    // holds the data, as `cloud serve` and `--cloud local` do.
    let held = imgform::localcloud::DataLock::acquire(&d.path().join(".imgform/local-cloud"))
        .expect("free");
    let out = imgform(d.path())
        .args(["cloud", "seed", "--file", "seed.json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is in use by another process") && err.contains("stop it first"),
        "{err}"
    );
    drop(held);
    let out = imgform(d.path())
        .args(["cloud", "seed", "--file", "bad.json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a region id"));
}

/// `init`, as CI scripts written for Terraform run it first: it checks the configuration,
/// creates the state and is idempotent; without credentials for the real cloud it says
/// where it looked.
#[test]
fn init_prepares_the_directory_and_is_idempotent() {
    let d = dir_with(&[(
        "main.hcl",
        &std::fs::read_to_string(root().join("examples/quickstart/main.hcl")).expect("read"),
    )]);
    let lineage = |out: &str| {
        out.split("lineage ")
            .nth(1)
            .and_then(|s| s.split(',').next())
            .map(String::from)
    };
    let first = imgform(d.path())
        .args(["--cloud", "local", "init", "-input=false"])
        .output()
        .expect("runs");
    let out1 = String::from_utf8_lossy(&first.stdout).into_owned();
    assert_eq!(first.status.code(), Some(0), "{out1}");
    assert!(
        out1.contains("imgform has been successfully initialized!"),
        "{out1}"
    );
    let second = imgform(d.path())
        .args(["--cloud", "local", "init", "-upgrade"])
        .output()
        .expect("runs");
    let out2 = String::from_utf8_lossy(&second.stdout).into_owned();
    assert_eq!(second.status.code(), Some(0), "{out2}");
    assert!(lineage(&out1).is_some());
    assert_eq!(lineage(&out1), lineage(&out2), "the same state both times");
    // The real cloud without credentials: an error naming where imgform looked.
    let o = imgform(d.path())
        .args(["init"])
        .env_remove("ALIBABA_CLOUD_ACCESS_KEY_ID")
        .env_remove("ALICLOUD_ACCESS_KEY")
        .env("HOME", d.path())
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no Alibaba Cloud credentials found"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // `version -json` in Terraform's shape.
    let o = imgform(d.path())
        .args(["version", "-json"])
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(
        v["terraform_version"]
            .as_str()
            .map(|s| s.split('.').count()),
        Some(3)
    );
    assert_eq!(v["imgform_version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn workspaces_keep_separate_states_in_terraform_words() {
    let d = dir_with(&[(
        "main.tf",
        "provider \"alicloud\" {\n  region = \"cn-hangzhou\"\n}\n\nresource \"alicloud_image\" \"web\" {\n  image_name  = \"web-1\"\n  snapshot_id = \"s-bp1system0001\"\n}\n",
    )]);
    let run = |args: &[&str]| {
        let o = imgform(d.path())
            .args(["--cloud", "local"])
            .args(args)
            .env("IMGFORM_LOCAL_SPEED", "600")
            .output()
            .expect("runs");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stdout).into_owned(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    assert_eq!(run(&["workspace", "show"]).1, "default\n");
    assert_eq!(run(&["workspace", "list"]).1, "* default\n\n");
    let (code, out, err) = run(&["workspace", "new", "dev"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with(
            "Created and switched to workspace \"dev\"!\n\nYou're now on a new, empty workspace."
        ),
        "{out}"
    );
    assert!(d
        .path()
        .join("imgform.state.d/dev/imgform.state.db")
        .exists());
    assert_eq!(run(&["workspace", "list"]).1, "  default\n* dev\n\n");
    let (code, _, err) = run(&["workspace", "new", "dev"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Workspace \"dev\" already exists"), "{err}");
    // The apply writes the selected workspace's state, and only it.
    let (code, out, err) = run(&["apply", "--auto-approve"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(
        !d.path().join("imgform.state.db").exists(),
        "default untouched"
    );
    assert_eq!(run(&["state", "list"]).1, "alicloud_image.web\n");
    // The same configuration in another workspace plans the image afresh.
    let (code, out, _) = run(&["--workspace", "default", "plan", "-detailed-exitcode"]);
    assert_eq!(code, Some(2), "{out}");
    assert!(
        out.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
        "{out}"
    );
    // Names that are not names, and workspaces that do not exist.
    let (code, _, err) = run(&["--workspace", "..", "plan"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("The workspace name \"..\" is not allowed"),
        "{err}"
    );
    let (code, _, err) = run(&["--workspace", "nope", "plan"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Workspace \"nope\" doesn't exist."), "{err}");
    let (code, _, err) = run(&["workspace", "select", "nope"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("include the \"-or-create\" flag"), "{err}");
    // The active workspace and a non-empty one are not deleted.
    let (code, _, err) = run(&["workspace", "delete", "dev"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("Workspace \"dev\" is your active workspace."),
        "{err}"
    );
    let (code, out, _) = run(&["workspace", "select", "default"]);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "Switched to workspace \"default\".\n")
    );
    let (code, _, err) = run(&["workspace", "delete", "dev"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("Error: Workspace is not empty"), "{err}");
    assert!(err.contains("\n  - alicloud_image.web\n"), "{err}");
    // The override is honoured and reported; selecting is refused while it is set.
    let o = imgform(d.path())
        .args(["workspace", "select", "default"])
        .env("IMGFORM_WORKSPACE", "dev")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("currently overridden"));
    let (code, out, _) = run(&["workspace", "select", "-or-create", "stage"]);
    assert_eq!(
        (code, out.as_str()),
        (Some(0), "Switched to workspace \"stage\".\n")
    );
    assert_eq!(
        run(&["workspace", "list"]).1,
        "  default\n  dev\n* stage\n\n"
    );
    let (code, out, err) = run(&["workspace", "delete", "-force", "dev"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("Deleted workspace \"dev\"!\nWARNING: \"dev\" was non-empty."),
        "{out}"
    );
    assert!(!d.path().join("imgform.state.d/dev").exists());
    assert_eq!(run(&["workspace", "list"]).1, "  default\n* stage\n\n");
}

#[test]
fn each_commands_help_lists_only_the_flags_it_uses() {
    let help = |args: &[&str]| {
        let o = imgform(&root()).args(args).output().expect("runs");
        assert_eq!(o.status.code(), Some(0), "{args:?}");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let flags = |text: &str| -> Vec<String> {
        text.lines()
            .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("--")))
            .map(|w| w.trim_end_matches(',').to_string())
            .collect()
    };
    let fmt = flags(&help(&["fmt", "--help"]));
    for f in [
        "--cloud",
        "--state",
        "--workspace",
        "--allow-files-outside",
        "--untrusted-config",
    ] {
        assert!(!fmt.iter().any(|x| x == f), "fmt --help lists {f}: {fmt:?}");
    }
    assert!(fmt.iter().any(|x| x == "--check") && fmt.iter().any(|x| x == "--chdir"));
    let plan = flags(&help(&["plan", "-h"]));
    for f in [
        "--cloud",
        "--state",
        "--workspace",
        "--allow-files-outside",
        "--out",
    ] {
        assert!(plan.iter().any(|x| x == f), "plan -h lacks {f}: {plan:?}");
    }
    let list = flags(&help(&["state", "list", "--help"]));
    assert!(
        list.iter().any(|x| x == "--state") && !list.iter().any(|x| x == "--cloud"),
        "{list:?}"
    );
    let tf = flags(&help(&["state", "import-terraform", "--help"]));
    assert!(tf.iter().any(|x| x == "--cloud"), "{tf:?}");
    let ws = flags(&help(&["workspace", "delete", "-h"]));
    assert!(
        ws.iter().any(|x| x == "--force") && !ws.iter().any(|x| x == "--cloud"),
        "{ws:?}"
    );
    // Hidden, not refused: a wrapper that passes --cloud to every command keeps working.
    let o = imgform(&root())
        .args(["--cloud", "local", "fmt", "-check", "examples/quickstart"])
        .output()
        .expect("runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The banner `cloud serve` prints before it serves: its first four lines.
fn serve_banner(secret: Option<&str>, args: &[&str]) -> String {
    use std::io::BufRead as _;
    let d = tempfile::tempdir().expect("tmp");
    let mut c = imgform(d.path());
    c.args(["cloud", "serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    match secret {
        Some(s) => c.env("IMGFORM_LOCAL_SECRET", s),
        None => c.env_remove("IMGFORM_LOCAL_SECRET"),
    };
    let mut child = c.spawn().expect("spawns");
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut banner = String::new();
    for _ in 0..4 {
        out.read_line(&mut banner).expect("reads");
    }
    let _ = child.kill();
    let _ = child.wait();
    banner
}

#[test]
fn issue_28_cloud_serve_never_prints_its_secret() {
    let b = serve_banner(None, &[]);
    assert!(b.contains("AccessKeyId=imgform-local"), "{b}");
    assert!(b.contains("the built-in default"), "{b}");
    assert!(!b.contains("imgform-local-secret"), "{b}");
    assert!(b.contains("curl -u imgform-local:SECRET"), "{b}");
    let b = serve_banner(Some("s3cr3t-from-env"), &[]);
    assert!(
        b.contains("from IMGFORM_LOCAL_SECRET") && !b.contains("s3cr3t"),
        "{b}"
    );
    let b = serve_banner(None, &["--access-key-secret", "s3cr3t-flag"]);
    assert!(
        b.contains("from --access-key-secret") && !b.contains("s3cr3t"),
        "{b}"
    );
}

#[test]
fn help_command_is_the_commands_help_and_single_dash_typos_get_a_suggestion() {
    // Issue 31: `imgform help apply` printed no options; `-detailed-exitcod` was read as a
    // row of short flags, with no suggestion.
    let d = tempfile::tempdir().expect("tmp");
    let help = imgform(d.path())
        .args(["help", "apply"])
        .output()
        .expect("runs");
    let dashed = imgform(d.path())
        .args(["apply", "--help"])
        .output()
        .expect("runs");
    assert!(help.status.success());
    assert_eq!(help.stdout, dashed.stdout);
    assert!(String::from_utf8_lossy(&help.stdout).contains("--auto-approve"));
    let typo = imgform(d.path())
        .args(["plan", "-detailed-exitcod"])
        .output()
        .expect("runs");
    assert_eq!(typo.status.code(), Some(1));
    let err = String::from_utf8_lossy(&typo.stderr);
    assert!(
        err.contains("a similar argument exists: '--detailed-exitcode'"),
        "{err}"
    );
    // Short flags stay short.
    let v = imgform(d.path())
        .args(["-vv", "version"])
        .output()
        .expect("runs");
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
}
