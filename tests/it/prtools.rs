//! Issue 31: the text PR tools parse. tfcmt's rules (its `pkg/terraform/parser.go`:
//! the pass, fail and resource-line patterns, the diff from the line "Terraform will
//! perform the following actions:" to the next rule of `─────`) restated here, run over
//! imgform's plans with `IMGFORM_TEXT=terraform` (the decision of examples/ci/README.md),
//! extract the same counts and resources as the plan has, and see a configuration error
//! as an error.

use crate::e2e::run;
use crate::util::dir_with;
use regex::Regex;

/// What tfcmt makes of a plan's text.
#[derive(Debug, Default)]
struct Parsed {
    pass: bool,
    error: bool,
    has_destroy: bool,
    changed: String,
    created: Vec<String>,
    updated: Vec<String>,
    deleted: Vec<String>,
    replaced: Vec<String>,
}

fn tfcmt(body: &str) -> Parsed {
    let pass = Regex::new(r"(?m)^(Plan: \d|No changes.)").expect("re");
    let fail = Regex::new(r"(?m)^([│|] )?(Error: )").expect("re");
    let destroy = Regex::new(r"(?m)([1-9][0-9]* to destroy.)").expect("re");
    let create = Regex::new(r"^ *# (.*) will be created$").expect("re");
    let update = Regex::new(r"^ *# (.*) will be updated in-place$").expect("re");
    let delete = Regex::new(r"^ *# (.*) will be destroyed$").expect("re");
    let replace = Regex::new(r"^ *# (.*?)(?: is tainted, so)? must be replaced$").expect("re");
    let grab = |re: &Regex, l: &str| re.captures(l).map(|c| c[1].to_string());
    let lines: Vec<&str> = body.split('\n').collect();
    let mut p = Parsed {
        pass: pass.is_match(body),
        error: fail.is_match(body),
        ..Parsed::default()
    };
    let (mut start, mut end) = (None, None);
    let mut first_match = None;
    for (i, l) in lines.iter().enumerate() {
        if *l == "Terraform will perform the following actions:" {
            start = Some(i + 1);
        }
        if (l.starts_with("─────") || l.starts_with("-----")) && start.is_some() && end.is_none()
        {
            end = Some(i - 1);
        }
        if first_match.is_none() && (pass.is_match(l) || fail.is_match(l)) {
            first_match = Some(*l);
        }
        if let Some(r) = grab(&create, l) {
            p.created.push(r);
        } else if let Some(r) = grab(&update, l) {
            p.updated.push(r);
        } else if let Some(r) = grab(&delete, l) {
            p.deleted.push(r);
        } else if let Some(r) = grab(&replace, l) {
            p.replaced.push(r);
        }
    }
    p.has_destroy = first_match.is_some_and(|l| destroy.is_match(l));
    if let Some(s) = start {
        p.changed = lines[s..end.unwrap_or(lines.len() - 1)].join("\n");
    }
    p
}

fn plan_text(dir: &std::path::Path) -> String {
    let o = crate::util::imgform(dir)
        .env("IMGFORM_LOCAL_SPEED", "600")
        .env("IMGFORM_TEXT", "terraform")
        .args(["--cloud", "local", "plan", "-no-color"])
        .output()
        .expect("runs");
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const PROVIDER: &str = "provider \"alicloud\" {\n  region = \"cn-hangzhou\"\n}\n";

fn image(name: &str, description: &str, snapshot: &str) -> String {
    format!("resource \"alicloud_image\" \"{name}\" {{\n  image_name  = \"{name}-img\"\n  description = \"{description}\"\n  snapshot_id = \"{snapshot}\"\n}}\n")
}

#[test]
fn tfcmt_finds_every_action_and_the_diff_in_imgforms_plan() {
    let first = format!(
        "{PROVIDER}{}{}{}",
        image("kept", "same", "s-bp1system0001"),
        image("changed", "before", "s-bp1system0001"),
        image("replaced", "same", "s-bp1system0001"),
    ) + &image("gone", "same", "s-bp1system0001");
    let d = dir_with(&[("main.tf", &first)]);
    let o = run(d.path(), &["apply", "--auto-approve"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let second = format!(
        "{PROVIDER}{}{}{}{}",
        image("kept", "same", "s-bp1system0001"),
        image("changed", "after", "s-bp1system0001"),
        image("replaced", "same", "s-bp1system0002"),
        image("added", "new", "s-bp1system0001"),
    );
    std::fs::write(d.path().join("main.tf"), second).expect("write");
    let text = plan_text(d.path());
    let p = tfcmt(&text);
    assert!(p.pass && !p.error, "{text}");
    assert!(p.has_destroy, "{text}");
    assert_eq!(p.created, ["alicloud_image.added"], "{text}");
    assert_eq!(p.updated, ["alicloud_image.changed"]);
    assert_eq!(p.deleted, ["alicloud_image.gone"]);
    assert_eq!(p.replaced, ["alicloud_image.replaced"]);
    // The diff tfcmt posts holds every resource block, and stops before the rule.
    for r in ["added", "changed", "replaced", "gone"] {
        assert!(
            p.changed.contains(&format!("# alicloud_image.{r} ")),
            "{r}: {}",
            p.changed
        );
    }
    assert!(
        p.changed
            .contains("Plan: 2 to add, 1 to change, 2 to destroy."),
        "{}",
        p.changed
    );
    assert!(!p.changed.contains("─────"));
}

#[test]
fn tfcmt_sees_a_configuration_error_and_no_changes() {
    let d = dir_with(&[(
        "main.tf",
        &format!("{PROVIDER}resource \"alicloud_image\" \"a\" {{\n  image_name = \"ab\"\n  nope = 1\n}}\n"),
    )]);
    let p = tfcmt(&plan_text(d.path()));
    assert!(p.error && !p.pass, "{p:?}");
    let d = dir_with(&[("main.tf", PROVIDER)]);
    let text = plan_text(d.path());
    let p = tfcmt(&text);
    assert!(p.pass && !p.error && !p.has_destroy, "{text}");
}
