//! Modules end to end: local and installed sources, count and for_each, nesting, inputs,
//! outputs, `path.module`, `providers` and `depends_on`, module addresses in plan, state,
//! `state mv` and the JSON plan, and the diagnostics for their mistakes.

use crate::e2e::{ok, run};
use crate::util::{copy_tree, dir_with, root};
use imgform::config::check::{load, Options};
use imgform::render::diag::human_all;
use serde_json::Value as J;
use std::path::Path;

fn state(dir: &Path) -> J {
    serde_json::from_slice(&run(dir, &["state", "pull"]).stdout).expect("state json")
}

fn addresses(dir: &Path) -> Vec<String> {
    ok(&run(dir, &["state", "list"]))
        .lines()
        .map(String::from)
        .collect()
}

#[test]
fn a_module_called_once_and_with_for_each_applies_and_plans_empty() {
    let d = copy_tree(&root().join("testdata/modules/basic"));
    let plan: J = crate::e2e::plan_document(d.path(), &[]);
    // Terraform's shapes: module_address on each change, child_modules in planned_values.
    let changes = plan["resource_changes"].as_array().expect("changes");
    let env_dev = changes
        .iter()
        .find(|c| c["address"] == "module.env[\"dev\"].alicloud_image.this")
        .expect("module.env[\"dev\"] is planned");
    assert_eq!(env_dev["module_address"], "module.env[\"dev\"]");
    assert_eq!(env_dev["name"], "this");
    let children: Vec<&str> = plan["planned_values"]["root_module"]["child_modules"]
        .as_array()
        .expect("child modules")
        .iter()
        .map(|m| m["address"].as_str().expect("address"))
        .collect();
    assert_eq!(
        children,
        ["module.base", "module.env[\"dev\"]", "module.env[\"prod\"]"]
    );
    // Terraform's `configuration`: constants, references, module calls with their modules.
    let conf = &plan["configuration"]["root_module"];
    let share = &conf["resources"][0];
    assert_eq!(share["address"], "alicloud_image_share_permission.share");
    assert_eq!(
        share["expressions"]["account_id"]["constant_value"],
        "1234567890123456"
    );
    assert_eq!(
        share["expressions"]["image_id"]["references"],
        serde_json::json!([
            "module.env[\"prod\"].image_id",
            "module.env[\"prod\"]",
            "module.env"
        ])
    );
    let env = &conf["module_calls"]["env"];
    assert_eq!(env["source"], "./modules/golden");
    assert_eq!(
        env["for_each_expression"]["references"],
        serde_json::json!(["var.envs"])
    );
    assert_eq!(
        env["module"]["resources"][0]["expressions"]["image_name"]["references"],
        serde_json::json!(["var.name"])
    );
    // Terraform's opaque provider keys: the module's call path before the local name.
    assert_eq!(share["provider_config_key"], "alicloud");
    assert_eq!(
        env["module"]["resources"][0]["provider_config_key"],
        "module.env:alicloud"
    );
    assert!(plan["relevant_attributes"]
        .as_array()
        .expect("list")
        .contains(
            &serde_json::json!({"resource": "module.base.alicloud_image.this", "attribute": ["id"]})
        ));
    // file("${path.module}/...") reads the module's own file.
    let base = changes
        .iter()
        .find(|c| c["address"] == "module.base.alicloud_image.this")
        .expect("module.base");
    assert_eq!(
        base["change"]["after"]["description"],
        "Golden image made by the golden module"
    );

    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(out.contains("Apply complete! Resources: 4 added"), "{out}");
    assert_eq!(
        addresses(d.path()),
        [
            "alicloud_image_share_permission.share",
            "module.base.alicloud_image.this",
            "module.env[\"dev\"].alicloud_image.this",
            "module.env[\"prod\"].alicloud_image.this",
        ]
    );
    let st = state(d.path());
    let rows = st["resources"].as_array().expect("rows");
    let id_of = |addr: &str| {
        rows.iter()
            .find(|r| r["address"] == addr)
            .and_then(|r| r["id"].as_str())
            .unwrap_or_else(|| panic!("{addr} in {st:#}"))
            .to_string()
    };
    let base_id = id_of("module.base.alicloud_image.this");
    let prod_id = id_of("module.env[\"prod\"].alicloud_image.this");
    // Outputs read through module calls; the share uses module.env["prod"]'s output.
    let outs: J = serde_json::from_str(&ok(&run(d.path(), &["output", "-json"]))).expect("outputs");
    assert_eq!(outs["base_image"]["value"], base_id.as_str());
    assert_eq!(outs["env_images"]["value"]["prod"], prod_id.as_str());
    assert_eq!(
        id_of("alicloud_image_share_permission.share"),
        format!("{prod_id}:1234567890123456")
    );
    // A module's input flows into its resource: the base id is a tag of every env image.
    let dev = rows
        .iter()
        .find(|r| r["address"] == "module.env[\"dev\"].alicloud_image.this")
        .expect("dev");
    assert_eq!(dev["attributes"]["tags"]["base"], base_id.as_str());
    assert_eq!(dev["attributes"]["tags"]["env"], "dev");

    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0),
        "a second plan is empty"
    );
    // `state show` as Terraform prints it: the module address, values as HCL.
    let shown = ok(&run(
        d.path(),
        &["state", "show", "module.env[\"dev\"].alicloud_image.this"],
    ));
    assert!(
        shown.starts_with(
            "# module.env[\"dev\"].alicloud_image.this:\nresource \"alicloud_image\" \"this\" {\n"
        ) && shown.contains("    tags              = {\n        \"base\"   = ")
            && shown.contains("        \"env\"    = \"dev\"\n")
            && !shown.contains("{\"base\""),
        "{shown}"
    );
    // state mv takes module addresses both ways.
    ok(&run(
        d.path(),
        &[
            "state",
            "mv",
            "module.base.alicloud_image.this",
            "alicloud_image.base",
        ],
    ));
    assert!(addresses(d.path()).contains(&"alicloud_image.base".to_string()));
    ok(&run(
        d.path(),
        &[
            "state",
            "mv",
            "alicloud_image.base",
            "module.base.alicloud_image.this",
        ],
    ));
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0),
        "moved back, nothing to do"
    );
    let out = ok(&run(d.path(), &["destroy", "--auto-approve"]));
    assert!(out.contains("4 destroyed"), "{out}");
    assert!(crate::e2e::cloud_images(d.path()).is_empty());
}

#[test]
fn counted_nested_modules_use_the_provider_passed_and_wait_for_depends_on() {
    let d = copy_tree(&root().join("testdata/modules/nested"));
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    // depends_on on the module call: the seed image is complete before any replica starts.
    let seed_done = out
        .find("alicloud_image.seed: Creation complete")
        .expect("seed");
    let first_replica = out
        .find("module.img[0].alicloud_image.this: Creating...")
        .expect("replica");
    assert!(seed_done < first_replica, "{out}");
    let st = state(d.path());
    for i in 0..2 {
        let addr = format!("module.img[{i}].alicloud_image.this");
        let r = st["resources"]
            .as_array()
            .expect("rows")
            .iter()
            .find(|r| r["address"] == addr.as_str())
            .unwrap_or_else(|| panic!("{addr}"));
        // providers = { alicloud = alicloud.sh }.
        assert_eq!(r["region"], "cn-shanghai", "{r:#}");
        assert_eq!(r["provider"], "alicloud.sh");
        assert_eq!(r["attributes"]["image_name"], format!("replica-{i}"));
        // The nested module (no resources of its own) gives the tags.
        assert_eq!(
            r["attributes"]["tags"],
            serde_json::json!({"team": "platform", "managed_by": "imgform"})
        );
    }
    let outs: J = serde_json::from_str(&ok(&run(d.path(), &["output", "-json"]))).expect("outputs");
    assert_eq!(
        outs["names"]["value"],
        serde_json::json!(["replica-0", "replica-1"])
    );
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
    // Fewer replicas: the last module instance's image is destroyed, the first is kept.
    let out = ok(&run(d.path(), &["plan", "--var", "replicas=1"]));
    assert!(
        out.contains("module.img[1].alicloud_image.this will be destroyed")
            && out.contains("Plan: 0 to add, 0 to change, 1 to destroy."),
        "{out}"
    );
}

#[test]
fn a_module_terraform_init_installed_is_used() {
    let d = dir_with(&[
        (
            "main.tf",
            r#"
provider "alicloud" {
  region = "cn-hangzhou"
}

module "golden" {
  source  = "acme/golden-image/alicloud"
  version = "~> 1.2"
  name    = "from-registry"
}
"#,
        ),
        (
            ".terraform/modules/modules.json",
            r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"golden","Source":"registry.terraform.io/acme/golden-image/alicloud","Version":"1.2.3","Dir":".terraform/modules/golden"}]}"#,
        ),
        (
            ".terraform/modules/golden/main.tf",
            r#"
variable "name" {
  type = string
}

resource "alicloud_image" "this" {
  image_name  = var.name
  snapshot_id = "s-bp1qs0000000000web"
}
"#,
        ),
    ]);
    let out = ok(&run(d.path(), &["plan"]));
    assert!(
        out.contains("module.golden.alicloud_image.this will be created")
            && out.contains("\"from-registry\""),
        "{out}"
    );
}

/// The human diagnostics of a configuration made of `files`, with the temporary
/// directory's path removed.
fn diagnostics(files: &[(&str, &str)]) -> String {
    let d = dir_with(files);
    let opts = Options {
        dir: d.path().to_path_buf(),
        ..Default::default()
    };
    let (ev, diags, sources) = imgform::config::check::load_with_sources(&opts);
    assert!(ev.is_none() && diags.has_errors(), "expected errors");
    let _ = load;
    human_all(&sources, &diags, false).replace(&format!("{}/", d.path().display()), "")
}

#[test]
fn a_remote_module_that_is_not_installed_is_explained() {
    let human = diagnostics(&[(
        "main.tf",
        r#"module "vpc" {
  source = "git::https://example.com/modules/golden.git?ref=v1"
}
"#,
    )]);
    insta::assert_snapshot!("remote_source", human);
}

#[test]
fn a_cycle_through_a_module_is_reported() {
    let human = diagnostics(&[
        (
            "main.tf",
            r#"module "m" {
  source = "./m"
  name   = alicloud_image.a.image_name
}

resource "alicloud_image" "a" {
  image_name  = "a"
  snapshot_id = "s-bp1qs0000000000web"
  description = module.m.name
}
"#,
        ),
        (
            "m/main.tf",
            r#"variable "name" {
  type = string
}

output "name" {
  value = var.name
}
"#,
        ),
    ]);
    insta::assert_snapshot!("cycle", human);
}

#[test]
fn module_mistakes_point_at_their_lines() {
    let human = diagnostics(&[
        (
            "main.tf",
            r#"module "m" {
  source = "./m"
  nmae   = "x"
}

output "o" {
  value = module.m.missing
}

output "p" {
  value = module.n.name
}
"#,
        ),
        (
            "m/main.tf",
            r#"variable "name" {
  type = string
}

output "name" {
  value = var.name
}

resource "alicloud_image" "this" {
  image_name  = var.nope
  snapshot_id = "s-bp1qs0000000000web"
}
"#,
        ),
    ]);
    insta::assert_snapshot!("mistakes", human);
}

#[test]
fn a_module_that_calls_itself_is_refused() {
    let human = diagnostics(&[
        ("main.tf", "module \"a\" {\n  source = \"./a\"\n}\n"),
        ("a/main.tf", "module \"again\" {\n  source = \"../a\"\n}\n"),
    ]);
    assert!(
        human.contains("Module calls itself") && human.contains("a/main.tf:2:12"),
        "{human}"
    );
}

#[test]
fn moved_blocks_carry_resources_into_modules_and_between_them() {
    let module = r#"
variable "name" {
  type = string
}

resource "alicloud_image" "this" {
  image_name  = var.name
  snapshot_id = "s-bp1qs0000000000web"
}
"#;
    let d = dir_with(&[
        (
            "main.tf",
            r#"
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "web" {
  image_name  = "web"
  snapshot_id = "s-bp1qs0000000000web"
}
"#,
        ),
        ("modules/img/main.tf", module),
    ]);
    ok(&run(d.path(), &["apply", "--auto-approve"]));
    let before = crate::e2e::cloud_images(d.path());
    // The resource moves into a module: a move, not a replacement.
    std::fs::write(
        d.path().join("main.tf"),
        r#"
provider "alicloud" {
  region = "cn-hangzhou"
}

module "web" {
  source = "./modules/img"
  name   = "web"
}

moved {
  from = alicloud_image.web
  to   = module.web.alicloud_image.this
}
"#,
    )
    .expect("write");
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(
        out.contains("alicloud_image.web") && out.contains("0 added, 0 changed, 0 destroyed"),
        "{out}"
    );
    assert_eq!(addresses(d.path()), ["module.web.alicloud_image.this"]);
    // The module call is renamed: the whole module instance moves.
    std::fs::write(
        d.path().join("main.tf"),
        r#"
provider "alicloud" {
  region = "cn-hangzhou"
}

module "frontend" {
  source = "./modules/img"
  name   = "web"
}

moved {
  from = module.web
  to   = module.frontend
}
"#,
    )
    .expect("write");
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    assert!(out.contains("0 added, 0 changed, 0 destroyed"), "{out}");
    assert_eq!(addresses(d.path()), ["module.frontend.alicloud_image.this"]);
    assert_eq!(crate::e2e::cloud_images(d.path()), before, "the same image");
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn import_takes_module_addresses_on_the_command_line_and_in_import_blocks() {
    let d = dir_with(&[
        (
            "main.tf",
            "provider \"alicloud\" {\n  region = \"cn-hangzhou\"\n}\n\nmodule \"m\" {\n  source = \"./m\"\n}\n",
        ),
        (
            "m/main.tf",
            "resource \"alicloud_image\" \"this\" {\n  snapshot_id = \"s-bp1system0001\"\n  image_name  = \"imp\"\n}\n",
        ),
    ]);
    ok(&run(d.path(), &["apply", "--auto-approve"]));
    let addr = "module.m.alicloud_image.this";
    let id = state(d.path())["resources"][0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    ok(&run(d.path(), &["state", "rm", addr]));
    ok(&run(d.path(), &["import", addr, &id]));
    assert_eq!(addresses(d.path()), [addr]);
    assert_eq!(
        run(d.path(), &["plan", "--detailed-exitcode"])
            .status
            .code(),
        Some(0)
    );
    ok(&run(d.path(), &["state", "rm", addr]));
    let main = std::fs::read_to_string(d.path().join("main.tf")).expect("read");
    std::fs::write(
        d.path().join("main.tf"),
        format!("{main}\nimport {{\n  to = {addr}\n  id = \"{id}\"\n}}\n"),
    )
    .expect("write");
    let plan = ok(&run(d.path(), &["plan"]));
    assert!(
        plan.contains(&format!("# {addr} will be imported")),
        "{plan}"
    );
    let out = ok(&run(d.path(), &["apply", "--auto-approve"]));
    // Terraform's words for an apply that imported.
    assert!(
        out.contains("Apply complete! Resources: 1 imported, 0 added, 0 changed, 0 destroyed."),
        "{out}"
    );
    assert_eq!(state(d.path())["resources"][0]["id"], id.as_str());
    assert_eq!(
        crate::e2e::cloud_images(d.path()).len(),
        1,
        "nothing created"
    );
}

#[test]
fn issue_28_a_chain_deeper_than_the_limit_is_reported_as_too_deep_not_as_recursion() {
    // 18 distinct modules, each calling the next: no module calls itself.
    let mut files: Vec<(String, String)> = vec![(
        "main.tf".into(),
        "module \"m0\" {\n  source = \"./m0\"\n}\n".into(),
    )];
    for i in 0..18 {
        files.push((
            format!("m{i}/main.tf"),
            format!(
                "module \"m{}\" {{\n  source = \"../m{}\"\n}}\n",
                i + 1,
                i + 1
            ),
        ));
    }
    files.push(("m18/main.tf".into(), "locals {\n  x = 1\n}\n".into()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    // Prose is wrapped to the terminal, as Terraform wraps it: compare words.
    let human = diagnostics(&refs)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(human.contains("Modules nested too deeply"), "{human}");
    assert!(human.contains("at most 16 levels deep"), "{human}");
    assert!(!human.contains("Module calls itself"), "{human}");
}
