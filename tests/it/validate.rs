//! `validate` over the testdata corpus: every invalid file fails with its diagnostic on the
//! line marked `# ERROR: <summary>` (columns and wording are pinned by snapshots), every
//! valid configuration passes.

use crate::util::{dir_with, imgform, root};
use imgform::config::check::{load, Options};
use imgform::config::vars::VarOptions;
use imgform::render::diag::{human_all, validate_json};
use imgform::value::Value;

fn expected(text: &str) -> (usize, String) {
    let (i, line) = text
        .lines()
        .enumerate()
        .find(|(_, l)| l.contains("# ERROR: "))
        .expect("every invalid case marks its line with # ERROR:");
    let summary = line
        .split("# ERROR: ")
        .nth(1)
        .expect("marker")
        .trim()
        .to_string();
    (i + 1, summary)
}

#[test]
fn every_invalid_file_reports_its_rule_at_its_line() {
    let dir = root().join("testdata/invalid");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "hcl"))
        .collect();
    files.sort();
    assert!(files.len() >= 90, "the corpus has one file per rule");
    for f in files {
        let name = f
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("name")
            .to_string();
        let text = std::fs::read_to_string(&f).expect("read");
        let (line, summary) = expected(&text);
        let d = dir_with(&[("main.hcl", &text)]);
        let opts = Options {
            dir: d.path().to_path_buf(),
            vars: VarOptions::default(),
            ..Default::default()
        };
        let (ev, diags) = load(&opts);
        assert!(
            ev.is_none() && diags.has_errors(),
            "{name}: expected errors"
        );
        let (cfg, _) = imgform::config::load::load_dir(d.path());
        let json = validate_json(&cfg.sources, &diags);
        let hit = json["diagnostics"]
            .as_array()
            .expect("list")
            .iter()
            .any(|x| x["summary"] == summary.as_str() && x["range"]["start"]["line"] == line);
        assert!(hit, "{name}: no {summary:?} at line {line}:\n{json:#}");
        let prefix = format!("{}/", d.path().display());
        let human = human_all(&cfg.sources, &diags, false).replace(&prefix, "");
        insta::assert_snapshot!(format!("invalid__{name}"), human);
    }
}

#[test]
fn valid_configurations_pass() {
    for dir in [
        "examples/quickstart",
        "testdata/valid/terraform_port",
        "testdata/valid/variables",
        "testdata/valid/lifecycle",
        "testdata/valid/terraform_files",
        "examples/golden-image",
        "examples/pipeline-build",
        "examples/multi-region",
    ] {
        let opts = Options {
            dir: root().join(dir),
            vars: VarOptions::default(),
            ..Default::default()
        };
        let (ev, diags) = load(&opts);
        assert!(!diags.has_errors(), "{dir}: {diags:?}");
        assert!(ev.is_some(), "{dir}");
    }
}

#[test]
fn terraform_files_and_variables_follow_terraforms_precedence() {
    // *.tf files are the configuration; TF_VAR_ < terraform.tfvars < *.auto.tfvars < --var.
    let load_with = |env: &[(&str, &str)], vars: &[&str]| {
        let (ev, diags) = load(&Options {
            dir: root().join("testdata/valid/terraform_files"),
            vars: VarOptions {
                vars: vars.iter().map(|v| v.to_string()).collect(),
                env: env
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..Default::default()
            },
            ..Default::default()
        });
        let ev = ev.unwrap_or_else(|| panic!("{diags:?}"));
        let inst = &ev.instances[&"alicloud_image.this".parse().expect("addr")];
        let tags = inst.body.get("tags").cloned().expect("tags");
        let get = |k: &str| match &tags {
            Value::Map(m) => m.get(k).and_then(|v| v.as_str()).map(String::from),
            _ => None,
        };
        (
            inst.body.str("image_name").map(String::from),
            get("team"),
            get("env"),
        )
    };
    let env = [
        ("TF_VAR_name", "from-env"),
        ("TF_VAR_team", "from-env"),
        ("TF_VAR_env", "from-env"),
    ];
    assert_eq!(
        load_with(&env, &[]),
        (
            Some("from-tfvars".into()),
            Some("from-auto-tfvars".into()),
            Some("from-env".into())
        )
    );
    assert_eq!(
        load_with(&env, &["team=from-flag"]).1,
        Some("from-flag".into())
    );
    assert_eq!(
        load_with(&[], &[]).2,
        Some("dev".into()),
        "the default without TF_VAR_env"
    );
}

#[test]
fn timeouts_take_variables_and_locals() {
    let d = dir_with(&[(
        "main.hcl",
        r#"
variable "build_timeout" {
  default = "3h"
}

locals {
  delete_after = "45m"
}

resource "alicloud_ecs_image_pipeline_execution" "b" {
  image_pipeline_id = "ip-123"
  timeouts {
    create = var.build_timeout
    delete = local.delete_after
  }
}
"#,
    )]);
    let load_with = |vars: &[&str]| {
        load(&Options {
            dir: d.path().to_path_buf(),
            vars: VarOptions {
                vars: vars.iter().map(|v| v.to_string()).collect(),
                ..Default::default()
            },
            ..Default::default()
        })
    };
    let (ev, diags) = load_with(&[]);
    let ev = ev.unwrap_or_else(|| panic!("{diags:?}"));
    let r = ev.config.resources.values().next().expect("resource");
    assert_eq!(
        (r.timeouts.create, r.timeouts.delete),
        (Some(3 * 3600), Some(45 * 60))
    );
    let (ev, diags) = load_with(&["build_timeout=soon"]);
    assert!(ev.is_none() || diags.has_errors());
    assert!(
        diags
            .0
            .iter()
            .any(|d| d.summary == "Invalid duration" && d.detail.contains("soon")),
        "{diags:?}"
    );
}

#[test]
fn output_file_is_accepted_with_a_warning_and_never_written() {
    let dir = root().join("testdata/valid/lifecycle");
    let (ev, diags) = load(&Options {
        dir: dir.clone(),
        ..Default::default()
    });
    assert!(ev.is_some(), "{diags:?}");
    let w: Vec<_> = diags
        .0
        .iter()
        .filter(|d| d.summary == "output_file is not written")
        .collect();
    assert_eq!(w.len(), 1, "{diags:?}");
    assert!(!dir.join("images.txt").exists());
}

#[test]
fn terraform_port_expands_count_and_for_each() {
    let opts = Options {
        dir: root().join("testdata/valid/terraform_port"),
        vars: VarOptions::default(),
        ..Default::default()
    };
    let (ev, _) = load(&opts);
    let ev = ev.expect("valid");
    let addrs: Vec<String> = ev.instances.keys().map(|a| a.to_string()).collect();
    assert_eq!(
        addrs,
        vec![
            "alicloud_ecs_image_pipeline.nightly",
            "alicloud_ecs_image_pipeline_execution.nightly",
            "alicloud_image.counted[0]",
            "alicloud_image.counted[1]",
            "alicloud_image.from_snapshot[\"hangzhou\"]",
            "alicloud_image.from_snapshot[\"shanghai\"]",
            "data.alicloud_images.ubuntu",
        ]
    );
    let counted = &ev.instances[&"alicloud_image.counted[1]".parse().expect("addr")];
    assert_eq!(counted.body.str("image_name"), Some("shop-v1-01"));
    assert_eq!(counted.provider, "alicloud.shanghai");
    let sh = &ev.instances[&"alicloud_image.from_snapshot[\"shanghai\"]"
        .parse()
        .expect("addr")];
    assert_eq!(sh.body.str("description"), Some("Image for cn-shanghai"));
    let p = &ev.instances[&"alicloud_ecs_image_pipeline.nightly".parse().expect("addr")];
    // Depends on a data source: known only after it is read.
    assert_eq!(p.body.get("base_image"), Some(&Value::Unknown));
    assert_eq!(
        p.body.get("to_region_id"),
        Some(&Value::List(vec![Value::String("cn-shanghai".into())]))
    );
    assert!(p
        .body
        .str("build_content")
        .expect("heredoc")
        .contains("RUN echo shop"));
}

#[test]
fn variable_sources_have_the_documented_precedence() {
    let dir = root().join("testdata/valid/variables");
    let vars = VarOptions {
        var_files: vec![dir.join("extra.varfile")],
        vars: vec!["from_cli=cli".into(), "from_env=cli".into()],
        env: vec![
            ("IMGFORM_VAR_from_env".into(), "env".into()),
            ("IMGFORM_VAR_nope".into(), "x".into()),
        ],
    };
    let (ev, diags) = load(&Options {
        dir,
        vars,
        ..Default::default()
    });
    assert!(!diags.has_errors(), "{diags:?}");
    let ev = ev.expect("valid");
    let all: Vec<String> = ev.outputs["all"]
        .as_list()
        .expect("list")
        .iter()
        .map(|v| v.as_str().expect("string").to_string())
        .collect();
    assert_eq!(
        all,
        ["default", "imgform.vars", "auto", "var-file", "cli", "env"]
    );
    // `size = "40"` was converted to the declared number type.
    let disks = ev.vars["disks"].as_list().expect("list");
    assert_eq!(
        disks[0].as_map().expect("object")["size"],
        Value::Number(40.0)
    );
}

#[test]
fn undeclared_var_on_the_command_line_is_an_error() {
    let d = dir_with(&[("main.hcl", "variable \"a\" {\n  default = 1\n}\n")]);
    let out = imgform(d.path())
        .args(["validate", "--var", "b=2"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Value for undeclared variable"), "{err}");
}

#[test]
fn validate_json_has_terraforms_shape() {
    let text = std::fs::read_to_string(root().join("testdata/invalid/image_name_too_short.hcl"))
        .expect("read");
    let d = dir_with(&[("main.hcl", &text)]);
    let out = imgform(d.path())
        .args(["validate", "-json"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("stdout is JSON only");
    let keys: Vec<&str> = v
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "format_version",
            "valid",
            "error_count",
            "warning_count",
            "diagnostics"
        ]
    );
    assert_eq!(v["valid"], false);
    let d0 = &v["diagnostics"][0];
    for k in ["severity", "summary", "detail", "range", "snippet"] {
        assert!(d0.get(k).is_some(), "missing {k}");
    }
    for k in ["filename", "start", "end"] {
        assert!(d0["range"].get(k).is_some(), "missing range.{k}");
    }
    for k in ["line", "column", "byte"] {
        assert!(d0["range"]["start"].get(k).is_some(), "missing start.{k}");
    }
    for k in [
        "context",
        "code",
        "start_line",
        "highlight_start_offset",
        "highlight_end_offset",
        "values",
    ] {
        assert!(d0["snippet"].get(k).is_some(), "missing snippet.{k}");
    }
    assert_eq!(d0["range"]["start"]["line"], 3);
    assert_eq!(d0["range"]["start"]["column"], 17);
}

#[test]
fn all_problems_are_reported_at_once() {
    let d = dir_with(&[(
        "main.hcl",
        "resource \"alicloud_image\" \"a\" {\n  image_nmae = \"x\"\n  snapshot_id = \"s-1\"\n  platform = \"centos\"\n}\nresource \"alicloud_image\" \"b\" {\n  snapshot_id = var.nope\n}\n",
    )]);
    let (_, diags) = load(&Options {
        dir: d.path().to_path_buf(),
        vars: VarOptions::default(),
        ..Default::default()
    });
    let summaries: Vec<&str> = diags.0.iter().map(|d| d.summary.as_str()).collect();
    assert_eq!(
        summaries,
        [
            "Unsupported argument",
            "Invalid value for `platform`",
            "Reference to undeclared input variable"
        ]
    );
}

#[test]
fn count_from_an_untyped_command_line_variable_converts_like_terraform() {
    let d = dir_with(&[(
        "main.hcl",
        "variable \"n\" {\n  default = 1\n}\nresource \"alicloud_image\" \"c\" {\n  count       = var.n\n  snapshot_id = \"s-bp1system0001\"\n}\n",
    )]);
    let vars = VarOptions {
        vars: vec!["n=2".into()],
        ..VarOptions::default()
    };
    let (ev, diags) = load(&Options {
        dir: d.path().to_path_buf(),
        vars,
        ..Default::default()
    });
    assert!(!diags.has_errors(), "{diags:?}");
    assert_eq!(ev.expect("valid").instances.len(), 2);
}

/// Hostile input gets diagnostics, never a panic, an abort or an exhausted machine.
#[test]
fn hostile_input_is_bounded() {
    use crate::util::{dir_with, imgform};
    // An environment variable that is not UTF-8, even one imgform never reads.
    let d = dir_with(&[(
        "main.hcl",
        "provider \"alicloud\" {\n  region = \"cn-hangzhou\"\n}\n",
    )]);
    let o = imgform(d.path())
        .arg("validate")
        .env(
            "UNRELATED_BYTES",
            <std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(b"\xff\xfe"),
        )
        .output()
        .expect("runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A count far beyond any real configuration, a format width beyond Rust's, and nested
    // for-expressions that would build a billion values: each a diagnostic at its line.
    let d = dir_with(&[(
        "main.hcl",
        r#"provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "many" {
  count       = 100000000
  image_name  = "many-${count.index}"
  snapshot_id = "s-bp1qs0000000000web"
}

output "wide" {
  value = format("%70000d", 1)
}

output "huge" {
  value = [for a in range(1024) : [for b in range(1024) : [for c in range(1024) : c]]]
}
"#,
    )]);
    let o = imgform(d.path()).arg("validate").output().expect("runs");
    // Prose is wrapped to the terminal, as Terraform wraps it: compare words.
    let err = String::from_utf8_lossy(&o.stderr)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert_eq!(o.status.code(), Some(1), "{err}");
    for (what, at) in [
        ("at most 100000 instances", "main.hcl:6:17"),
        (
            "width and precision in a format verb may be at most 10000",
            "main.hcl:12:11",
        ),
        ("Too many values", "main.hcl:16:11"),
    ] {
        assert!(
            err.contains(what) && err.contains(at),
            "{what} at {at}: {err}"
        );
    }
    assert!(!err.contains("panicked"), "{err}");
    // A 100,000-long chain of locals is walked without recursion.
    let mut chain = String::from("locals {\n  l0 = 1\n");
    for i in 1..100_000 {
        chain.push_str(&format!("  l{i} = local.l{}\n", i - 1));
    }
    chain.push_str("}\n");
    let d = dir_with(&[("main.hcl", &chain)]);
    let o = imgform(d.path()).arg("validate").output().expect("runs");
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Issue 30: `""` for an optional string is unset, as the provider reads it (public code
/// writes `description = ""` and variables defaulting to `""`); a required one is still
/// checked.
#[test]
fn an_empty_string_for_an_optional_attribute_is_unset() {
    let (ev, human) = crate::util::check_config(
        "variable \"family\" {\n  default = \"\"\n}\nresource \"alicloud_image\" \"a\" {\n  image_name   = \"abc\"\n  description  = \"\"\n  image_family = var.family\n  snapshot_id  = \"s-bp1system0001\"\n}\n",
    );
    assert!(ev.is_some(), "{human}");
    let (ev, human) = crate::util::check_config(
        "resource \"alicloud_image_copy\" \"c\" {\n  source_image_id = \"\"\n  image_name = \"abc\"\n}\n",
    );
    assert!(
        ev.is_none() && human.contains("source_image_id"),
        "a required one is checked: {human}"
    );
    // And it is not sent: the plan's object has no description.
    let schema = imgform::resource::managed("alicloud_image").expect("schema");
    let mut attrs =
        serde_json::json!({"image_name": "abc", "description": "", "snapshot_id": "s-1"})
            .as_object()
            .cloned()
            .expect("object");
    schema.normalize(&mut attrs);
    assert!(!attrs.contains_key("description"), "{attrs:?}");
}

/// Issue 31: a configuration error in Terraform's layout, as PR tools and people who know
/// Terraform read it: held against `terraform validate` on the same shape of mistake (an
/// unsupported argument of `terraform_data`, of `alicloud_image`), the summary, the place
/// (`on FILE line N, in resource "T" "a":`) and the source line agree; imgform's caret,
/// detail and hint follow.
#[test]
#[cfg_attr(not(has_terraform), ignore = "terraform is not on PATH")]
fn a_configuration_error_is_laid_out_as_terraform_lays_it_out() {
    let body = |kind: &str, first: &str, rest: &str| {
        format!("resource \"{kind}\" \"a\" {{\n  {first}\n  foo   = 2\n{rest}}}\n")
    };
    let tf = dir_with(&[("main.tf", &body("terraform_data", "input = 1", ""))]);
    let t = std::process::Command::new("terraform")
        .args(["validate", "-no-color"])
        .current_dir(tf.path())
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
        .expect("terraform runs");
    assert_eq!(t.status.code(), Some(1));
    let ours = dir_with(&[(
        "main.tf",
        &body(
            "alicloud_image",
            "image_name = \"ab\"",
            "  snapshot_id = \"s-bp1system0001\"\n",
        ),
    )]);
    let o = imgform(ours.path())
        .args(["validate", "-no-color"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    let theirs = String::from_utf8_lossy(&t.stderr).into_owned();
    let mine = String::from_utf8_lossy(&o.stderr).replace("alicloud_image", "terraform_data");
    // The code line differs only by what the first attribute is: compare up to "on".
    let head = |s: &str| s.lines().take(4).map(String::from).collect::<Vec<_>>();
    assert_eq!(
        head(&mine),
        head(&theirs),
        "imgform:\n{mine}\nterraform:\n{theirs}"
    );
    let code = |s: &str| s.lines().find(|l| l.starts_with("   3:")).map(String::from);
    assert_eq!(
        code(&mine),
        code(&theirs),
        "the source line, numbered as Terraform numbers it"
    );
}
