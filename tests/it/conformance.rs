//! Issue 31: imgform's `show -json` held against Terraform 1.11's on paired configurations
//! (`terraform_data` there, `alicloud_image` here; the same outputs and variables). Runs
//! where `terraform` is on PATH, with CHECKPOINT_DISABLE=1 and no CLI configuration; the
//! builtin `terraform_data` needs no registry.

#[cfg(has_terraform)]
use serde_json::{json, Value};

const OUTPUTS: &str = r#"
variable "secret" {
  default   = "s3cr3t"
  sensitive = true
}
output "known" {
  value = "k"
}
output "list" {
  value = [1, "a"]
}
output "unknown" {
  value = RES.a.id
}
output "sens" {
  value     = var.secret
  sensitive = true
}
"#;

#[cfg(has_terraform)]
fn terraform_plan_json(dir: &std::path::Path) -> Value {
    let tf = |args: &[&str]| {
        let o = std::process::Command::new("terraform")
            .args(args)
            .current_dir(dir)
            .env("CHECKPOINT_DISABLE", "1")
            .env("TF_CLI_CONFIG_FILE", "/dev/null")
            .env("TF_IN_AUTOMATION", "1")
            .output()
            .expect("terraform runs");
        assert!(
            o.status.success(),
            "terraform {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        o.stdout
    };
    tf(&["init", "-no-color", "-input=false"]);
    tf(&["plan", "-no-color", "-input=false", "-out", "p.bin"]);
    serde_json::from_slice(&tf(&["show", "-json", "p.bin"])).expect("JSON")
}

#[cfg(has_terraform)]
fn imgform_plan_json(dir: &std::path::Path) -> Value {
    let o = crate::e2e::run(dir, &["plan", "-no-color", "-out", "p.bin"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = crate::e2e::run(dir, &["show", "-json", "p.bin"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("JSON")
}

#[test]
#[cfg_attr(not(has_terraform), ignore = "terraform is not on PATH")]
fn a_create_and_its_outputs_in_show_json_are_terraforms() {
    #[cfg(has_terraform)]
    {
        let theirs_dir = tempfile::tempdir().expect("tmp");
        std::fs::write(
            theirs_dir.path().join("main.tf"),
            format!(
                "resource \"terraform_data\" \"a\" {{\n  input = \"x\"\n}}\n{}",
                OUTPUTS.replace("RES", "terraform_data")
            ),
        )
        .expect("write");
        let ours_dir = crate::util::dir_with(&[(
            "main.tf",
            &format!(
                "provider \"alicloud\" {{\n  region = \"cn-hangzhou\"\n}}\nresource \"alicloud_image\" \"a\" {{\n  image_name  = \"aa\"\n  snapshot_id = \"s-bp1system0001\"\n}}\n{}",
                OUTPUTS.replace("RES", "alicloud_image")
            ),
        )]);
        let t = terraform_plan_json(theirs_dir.path());
        let i = imgform_plan_json(ours_dir.path());
        // The document's keys, in Terraform's order (imgform adds its own version).
        let keys = |v: &Value| -> Vec<String> {
            v.as_object()
                .expect("object")
                .keys()
                .filter(|k| *k != "imgform_version")
                .cloned()
                .collect()
        };
        let mut tk = keys(&t);
        let mut ik = keys(&i);
        tk.sort();
        ik.sort();
        assert_eq!(ik, tk, "the same top-level keys");
        // Outputs: planned, changed and in the refreshed state, exactly.
        assert_eq!(
            i["planned_values"]["outputs"],
            t["planned_values"]["outputs"]
        );
        assert_eq!(i["output_changes"], t["output_changes"]);
        assert_eq!(i["prior_state"]["values"], t["prior_state"]["values"]);
        assert_eq!(i["variables"], t["variables"]);
        // The create: its change's keys and the unknown and sensitive rules.
        let (ic, tc) = (
            &i["resource_changes"][0]["change"],
            &t["resource_changes"][0]["change"],
        );
        let ckeys = |c: &Value| {
            let mut k: Vec<String> = c.as_object().expect("object").keys().cloned().collect();
            k.sort();
            k
        };
        assert_eq!(ckeys(ic), ckeys(tc));
        for k in ["actions", "before", "before_sensitive", "after_sensitive"] {
            assert_eq!(ic[k], tc[k], "{k}");
        }
        assert_eq!(ic["after_unknown"]["id"], json!(true));
        assert_eq!(tc["after_unknown"]["id"], json!(true));
        // Unset attributes are written null, as Terraform writes them.
        assert!(tc["after"]
            .as_object()
            .expect("after")
            .values()
            .any(Value::is_null));
        assert_eq!(ic["after"]["description"], Value::Null);
        assert!(ic["after"]
            .as_object()
            .expect("after")
            .contains_key("description"));
    }
}
