//! A sensitive value never reaches a human or markdown view: it is fed through a local, a
//! string template, a function call, a map and another resource's attribute, and looked
//! for in the output of every command that prints values.

use crate::util::imgform;
use std::path::Path;

const SECRET: &str = "hunter2-secret";

const CONFIG: &str = r#"
variable "pw" {
  type      = string
  sensitive = true
  default   = "hunter2-secret"
}

locals {
  described = "built with ${var.pw}"
  labels    = { owner = upper(var.pw) }
}

provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "a" {
  image_name  = "sens-a"
  snapshot_id = "s-bp1qs0000000000web"
  description = local.described
  tags        = local.labels
}

resource "alicloud_image" "b" {
  image_name  = "sens-b"
  snapshot_id = "s-bp1qs0000000000web"
  description = "copy of ${alicloud_image.a.description}"
}

output "described" {
  value     = local.described
  sensitive = true
}
"#;

fn run(dir: &Path, args: &[&str]) -> (i32, String) {
    let o = imgform(dir)
        .env("IMGFORM_LOCAL_SPEED", "600")
        .args(["--cloud", "local"])
        .args(args)
        .output()
        .expect("runs");
    (
        o.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn clean(what: &str, text: &str) {
    for leak in [SECRET, &SECRET.to_uppercase()] {
        assert!(!text.contains(leak), "{what} printed the secret:\n{text}");
    }
}

#[test]
fn a_sensitive_value_is_shown_nowhere_but_the_json_and_the_state() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(d.path().join("main.hcl"), CONFIG).expect("write");
    for args in [
        &["plan"][..],
        &["plan", "--format", "markdown"],
        &["plan", "-v"],
    ] {
        let (code, out) = run(d.path(), args);
        assert_eq!(code, 0, "{out}");
        clean(&args.join(" "), &out);
        assert!(out.contains("(sensitive value)"), "{out}");
    }
    // The most verbose logs included: they show each request's ids, never its values.
    let (code, out) = run(d.path(), &["apply", "--auto-approve", "-vv"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Description=<redacted>"), "{out}");
    clean("apply -vv", &out);
    for args in [
        &["show"][..],
        &["state", "show", "alicloud_image.a"],
        &["state", "show", "alicloud_image.b"],
        &["output"],
        &["plan"],
        &["plan", "--destroy"],
        &["plan", "--destroy", "--format", "markdown"],
        &["plan", "--json"],
        &["plan", "--refresh-only"],
        &["plan", "-vv"],
        &["apply", "--auto-approve", "--json"],
        &["refresh"],
        &["refresh", "--json"],
    ] {
        let (code, out) = run(d.path(), args);
        assert_eq!(code, 0, "{}: {out}", args.join(" "));
        clean(&args.join(" "), &out);
    }
    // The JSON plan document carries it, marked sensitive, as Terraform's does; the
    // streamed UI names changes, never values.
    let (code, out) = run(d.path(), &["plan", "--destroy", "--out", "destroy.plan"]);
    assert_eq!(code, 0, "{out}");
    let (code, shown) = run(d.path(), &["show", "destroy.plan"]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("(sensitive value)"), "{shown}");
    clean("show destroy.plan", &shown);
    let (_, json) = run(d.path(), &["show", "--json", "destroy.plan"]);
    assert!(json.contains(SECRET), "{json}");
    assert!(json.contains("before_sensitive"), "{json}");
    let (code, stream) = run(d.path(), &["plan", "--destroy", "--json"]);
    assert_eq!(code, 0, "{stream}");
    assert!(stream.contains("\"type\":\"planned_change\""), "{stream}");
    clean("plan --destroy --json", &stream);
    let (code, out) = run(d.path(), &["destroy", "--auto-approve"]);
    assert_eq!(code, 0, "{out}");
    clean("destroy", &out);
}

#[test]
fn an_output_that_refers_to_a_sensitive_value_must_say_so() {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(
        d.path().join("main.hcl"),
        CONFIG.replace("  sensitive = true\n}\n", "}\n"),
    )
    .expect("write");
    let o = imgform(d.path()).arg("validate").output().expect("runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("Output refers to sensitive values"), "{err}");
    assert!(err.contains("main.hcl:31:15"), "{err}");
    clean("validate", &err);
}

#[test]
fn show_sensitive_reveals_in_the_human_plan_only() {
    let d = crate::util::dir_with(&[("main.hcl", CONFIG)]);
    let (code, hidden) = run(d.path(), &["plan"]);
    assert_eq!(code, 0, "{hidden}");
    assert!(!hidden.contains(SECRET) && hidden.contains("(sensitive value)"));
    let (code, shown) = run(d.path(), &["plan", "--show-sensitive"]);
    assert_eq!(code, 0, "{shown}");
    assert!(shown.contains("built with hunter2-secret"), "{shown}");
    // Terraform's single-dash spelling works too; markdown never reveals.
    let (code, md) = run(
        d.path(),
        &["plan", "-show-sensitive", "--format", "markdown"],
    );
    assert_eq!(code, 0, "{md}");
    assert!(!md.contains(SECRET), "{md}");
}

#[test]
fn markdown_lists_changed_outputs_and_hides_sensitive_ones() {
    let d = crate::util::dir_with(&[("main.hcl", CONFIG)]);
    let (code, md) = run(d.path(), &["plan", "--format", "markdown"]);
    assert_eq!(code, 0, "{md}");
    assert!(
        md.contains("<details><summary>Changes to Outputs</summary>")
            && md.contains("+ described = (sensitive value)"),
        "{md}"
    );
    assert!(!md.contains(SECRET), "{md}");
}
