//! Terraform's language as real configurations use it: `try` and `can`, `optional(T,
//! default)`, `sensitive()`, the impure functions refused with their reason.

use imgform::config::check::Evaluated;
use imgform::value::Value;

fn check(text: &str) -> (Option<Evaluated>, String) {
    crate::util::check_config(text)
}

fn json(v: &Value) -> String {
    serde_json::to_string(&v.to_json()).expect("json")
}

#[test]
fn try_and_can_catch_what_fails() {
    let (ev, human) = check(
        r#"
locals {
  settings = { name = "web" }
  disks    = [{ size = 40 }, {}]

  name      = try(local.settings.name, "default")
  family    = try(local.settings.family, "ubuntu")
  nested    = try(local.settings.a.b.c, local.settings.name, "never")
  has_name  = can(local.settings.name)
  has_fam   = can(local.settings.family)
  valid_id  = can(regex("^m-[a-z0-9]+$", "m-abc123"))
  bad_id    = can(regex("^m-[a-z0-9]+$", "ami-123"))
  in_string = "${try(local.settings.family, "none")}-image"
  # Inside for expressions, with the loop's names.
  sizes  = [for d in local.disks : try(d.size, 20)]
  sized  = [for i, d in local.disks : i if can(d.size)]
  by_key = { for i, d in local.disks : "disk${i}" => try(d.size, "none") }
}
"#,
    );
    let ev = ev.unwrap_or_else(|| panic!("{human}"));
    let l = |n: &str| json(&ev.locals[n]);
    assert_eq!(l("name"), r#""web""#);
    assert_eq!(l("family"), r#""ubuntu""#);
    assert_eq!(l("nested"), r#""web""#);
    assert_eq!(l("has_name"), "true");
    assert_eq!(l("has_fam"), "false");
    assert_eq!(l("valid_id"), "true");
    assert_eq!(l("bad_id"), "false");
    assert_eq!(l("in_string"), r#""none-image""#);
    assert_eq!(l("sizes"), "[40,20]");
    assert_eq!(l("sized"), "[0]");
    assert_eq!(l("by_key"), r#"{"disk0":40,"disk1":"none"}"#);
}

#[test]
fn optional_attributes_take_their_defaults() {
    let (ev, human) = check(
        r#"
variable "images" {
  type = list(object({
    name      = string
    size      = optional(number, 40)
    tags      = optional(map(string), {})
    encrypted = optional(bool)
  }))
  default = [
    { name = "a" },
    { name = "b", size = 80, tags = { team = "x" }, encrypted = true },
    { name = "c", size = null },
  ]
}

locals {
  images = var.images
}
"#,
    );
    let ev = ev.unwrap_or_else(|| panic!("{human}"));
    assert_eq!(
        json(&ev.locals["images"]),
        r#"[{"encrypted":null,"name":"a","size":40,"tags":{}},{"encrypted":true,"name":"b","size":80,"tags":{"team":"x"}},{"encrypted":null,"name":"c","size":40,"tags":{}}]"#
    );
    let (ev, human) = check(
        r#"
variable "x" {
  type    = object({ size = optional(number, "big") })
  default = {}
}
"#,
    );
    assert!(ev.is_none());
    assert!(
        human.contains("the default of optional attribute \"size\" is not valid"),
        "{human}"
    );
}

#[test]
fn sensitive_marks_and_impure_functions_say_why() {
    let (ev, human) = check(
        r#"
locals {
  token = sensitive("s3cr3t")
}

output "token" {
  value = local.token
}
"#,
    );
    assert!(ev.is_none());
    assert!(
        human.contains("Output refers to sensitive values"),
        "{human}"
    );
    let (ev, human) = check(
        r#"
locals {
  id = uuid()
}
"#,
    );
    assert!(ev.is_none());
    assert!(
        human.contains("`uuid()` is not available in imgform")
            && human.contains("use uuidv5() with a fixed namespace and name"),
        "{human}"
    );
}

#[test]
fn network_and_encoding_functions_work_in_configurations() {
    let (ev, human) = check(
        r#"
locals {
  subnets = cidrsubnets("10.1.0.0/16", 4, 4)
  meta    = yamldecode(yamlencode({ team = "platform", ports = [22, 443] }))
  stamp   = formatdate("YYYY-MM-DD", "2026-11-29T12:00:00Z")
}
"#,
    );
    let ev = ev.unwrap_or_else(|| panic!("{human}"));
    assert_eq!(
        json(&ev.locals["subnets"]),
        r#"["10.1.0.0/20","10.1.16.0/20"]"#
    );
    assert_eq!(
        json(&ev.locals["meta"]),
        r#"{"ports":[22,443],"team":"platform"}"#
    );
    assert_eq!(json(&ev.locals["stamp"]), r#""2026-11-29""#);
}

#[test]
fn issensitive_answers_from_where_a_value_comes_from() {
    let (ev, human) = check(
        r#"
variable "password" {
  default   = "hunter2"
  sensitive = true
}

locals {
  derived = "x-${var.password}"
  plain   = "hello"
}

output "checks" {
  value = [issensitive(var.password), issensitive(local.derived), issensitive(local.plain), issensitive(sensitive("a"))]
}

output "revealed_length" {
  value = length(nonsensitive(var.password))
}
"#,
    );
    let ev = ev.unwrap_or_else(|| panic!("{human}"));
    assert_eq!(json(&ev.outputs["checks"]), "[true,true,false,true]");
    assert_eq!(json(&ev.outputs["revealed_length"]), "7");
}

/// Issue 30: `1 % 0` and `1 / 0` crashed imgform (hcl-rs panics on a zero divisor). They
/// are Terraform's: `a % 0` is `a`, `0 / 0` is its "Operation failed" error; another number
/// divided by zero (Terraform's infinity) is an error at the expression, never a panic.
#[test]
fn division_and_remainder_by_zero_never_panic() {
    let (ev, human) = check(
        r#"
locals {
  mod_zero  = 5 % 0
  neg_mod   = -5 % 3
  frac_mod  = 5.5 % 2
  quotient  = 10 / 4
  nested    = [for n in [1, 2] : n % 0]
}
"#,
    );
    let ev = ev.unwrap_or_else(|| panic!("{human}"));
    let l = |n: &str| json(&ev.locals[n]);
    assert_eq!(l("mod_zero"), "5");
    assert_eq!(l("neg_mod"), "-2");
    assert_eq!(l("frac_mod"), "1.5");
    assert_eq!(l("quotient"), "2.5");
    assert_eq!(l("nested"), "[1,2]");
    for (expr, says) in [
        ("0 / 0", "can't divide zero by zero"),
        ("1 / 0", "division by zero"),
        ("\"a\" / 2", "Unsuitable value for left operand"),
    ] {
        let (ev, human) = check(&format!("locals {{\n  x = {expr}\n}}\n"));
        assert!(ev.is_none(), "{expr} is an error");
        assert!(human.contains(says), "{expr}: {human}");
        assert!(
            !human.contains("__imgform"),
            "{expr}: no internal name: {human}"
        );
        assert!(
            human.contains("main.tf:2:7"),
            "{expr}: at the expression: {human}"
        );
    }
}

/// Issue 30, parsing as Terraform parses: a Unicode name is an identifier (`output
/// "café"`), a name starting with a digit is not; one legacy index (`x.0`) is fine, two in
/// a row (`x.0.1`) are Terraform's "Invalid legacy index syntax".
#[test]
fn unicode_names_and_chained_legacy_indexes_as_terraform_parses_them() {
    let (ev, human) = check("output \"café\" {\n  value = [[1, 2]].0\n}\n");
    let ev = ev.unwrap_or_else(|| panic!("{human}"));
    assert_eq!(json(&ev.outputs["café"]), "[1,2]");
    let (ev, human) = check("output \"1bad\" {\n  value = 1\n}\n");
    assert!(
        ev.is_none() && human.contains("Invalid output name"),
        "{human}"
    );
    let (ev, human) = check("locals {\n  x = [[1, 2]].0.1\n}\n");
    assert!(ev.is_none(), "{human}");
    assert!(
        human.contains("Invalid legacy index syntax") && human.contains("main.tf:2:7"),
        "{human}"
    );
}
