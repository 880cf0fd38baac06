//! `fmt`: canonical output, idempotence, comments kept, `--check` exit 3.

use crate::util::{dir_with, imgform, root};

#[test]
fn messy_file_becomes_canonical_and_stays_so() {
    let messy = std::fs::read_to_string(root().join("testdata/fmt/messy.hcl")).expect("read");
    let want =
        std::fs::read_to_string(root().join("testdata/fmt/messy.formatted.hcl")).expect("read");
    let d = dir_with(&[("main.hcl", &messy)]);
    let out = imgform(d.path())
        .args(["fmt", "--check"])
        .output()
        .expect("runs");
    assert_eq!(
        out.status.code(),
        Some(3),
        "--check exits 3 when a file would change"
    );
    assert_eq!(
        std::fs::read_to_string(d.path().join("main.hcl")).expect("read"),
        messy,
        "--check writes nothing"
    );
    let out = imgform(d.path()).args(["fmt"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "main.hcl\n");
    let got = std::fs::read_to_string(d.path().join("main.hcl")).expect("read");
    assert_eq!(got, want);
    let out = imgform(d.path())
        .args(["fmt", "-check"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "a second run changes nothing");
}

#[test]
fn diff_and_recursive() {
    let d = dir_with(&[("main.hcl", "variable \"a\" {\ndefault = 1\n}\n")]);
    std::fs::create_dir(d.path().join("sub")).expect("mkdir");
    std::fs::write(d.path().join("sub/x.hcl"), "locals {\n    a=1\n}\n").expect("write");
    let out = imgform(d.path())
        .args(["fmt", "--check", "--diff"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("-default = 1\n+  default = 1"), "{stdout}");
    assert!(!stdout.contains("x.hcl"), "not recursive by default");
    let out = imgform(d.path())
        .args(["fmt", "--recursive"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        std::fs::read_to_string(d.path().join("sub/x.hcl")).expect("read"),
        "locals {\n  a = 1\n}\n"
    );
}

#[test]
fn syntax_errors_are_reported_with_a_location() {
    let d = dir_with(&[("main.hcl", "locals {\n  a = \n}\n")]);
    let out = imgform(d.path()).args(["fmt"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("main.hcl:2:"), "{err}");
}

/// `terraform fmt -` on `src` (always with CHECKPOINT_DISABLE=1: it must never try the
/// network); `None` when Terraform refuses the file.
#[cfg(has_terraform)]
fn terraform_fmt(src: &str) -> Option<String> {
    use std::io::Write as _;
    let mut child = std::process::Command::new("terraform")
        .args(["fmt", "-no-color", "-"])
        .env("CHECKPOINT_DISABLE", "1")
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("terraform runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(src.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("terraform ends");
    out.status
        .success()
        .then(|| String::from_utf8(out.stdout).expect("UTF-8"))
}

/// Comment placements `terraform fmt` keeps and an earlier imgform lost or moved.
const COMMENT_CASES: &[&str] = &[
    "/* first\n   second\n   third */\nresource \"a\" \"b\" {\n  x = 1\n}\n",
    "resource \"a\" \"b\" {\n  c = /* x */ 3\n  d /* y */ = 4\n}\n",
    "resource \"a\" \"b\" {\n  t { # c\n  }\n  u {\n  # only\n  }\n  v { /* x */ }\n}\n",
    "# top\n\n\nvariable \"v\" {\n  default = 1 # one\n  // two\n  type = number /* three */\n}\n\n",
    "locals {\n  a = \"${var.x}\"\n  b = \"${var.x}-y\"\n  h = <<EOT\n# not a comment\nEOT\n  z = 1\n}\n",
    "resource a b {\n  x = 1\n}\nvariable v {}\n",
];

/// Every configuration of `testdata/` and `examples/`, and the comment cases, formatted by
/// imgform as `terraform fmt` formats them.
#[test]
#[cfg_attr(not(has_terraform), ignore = "terraform is not on PATH")]
fn fmt_agrees_with_terraform_on_every_configuration_here() {
    #[cfg(has_terraform)]
    {
        let mut files = Vec::new();
        for dir in ["testdata", "examples"] {
            collect(&root().join(dir), &mut files);
        }
        let mut cases: Vec<(String, String)> = files
            .iter()
            .map(|f| {
                (
                    f.strip_prefix(root())
                        .expect("under root")
                        .display()
                        .to_string(),
                    std::fs::read_to_string(f).expect("read"),
                )
            })
            .collect();
        cases.extend(
            COMMENT_CASES
                .iter()
                .enumerate()
                .map(|(i, c)| (format!("comment case {i}"), c.to_string())),
        );
        let (mut compared, mut refused, mut differ) = (0, 0, Vec::new());
        for (name, src) in &cases {
            let Some(want) = terraform_fmt(src) else {
                refused += 1;
                assert!(
                    imgform::config::fmt::format_source(src).is_err() || name.contains("invalid"),
                    "{name}: terraform refuses a file imgform formats"
                );
                continue;
            };
            compared += 1;
            let got = imgform::config::fmt::format_source(src)
                .unwrap_or_else(|e| panic!("{name}: imgform refuses what terraform formats: {e}"));
            if got != want {
                differ.push(format!(
                    "{name}:\n{}",
                    similar::TextDiff::from_lines(&want, &got).unified_diff()
                ));
            }
        }
        eprintln!(
            "fmt vs terraform: {compared} files compared, {} differ, {refused} refused by both",
            differ.len()
        );
        assert!(compared > 150, "the corpus is there: {compared}");
        assert!(differ.is_empty(), "{}", differ.join("\n"));
    }
}

#[cfg(has_terraform)]
fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read dir").flatten() {
        let p = e.path();
        if p.is_dir() {
            if !p.ends_with(".imgform") && !p.ends_with(".terraform") {
                collect(&p, out);
            }
        } else if p.extension().is_some_and(|x| x == "tf" || x == "hcl") {
            out.push(p);
        }
    }
    out.sort();
}

mod properties {
    use proptest::prelude::*;

    /// A value of one of the shapes public code uses; strings hold what looks like a
    /// comment, and a heredoc a `#` line.
    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("1".to_string()),
            Just("\"plain\"".to_string()),
            Just("\"# not a comment // nor this\"".to_string()),
            Just("[1, 2]".to_string()),
            Just("var.x".to_string()),
            Just("{ a = 1 }".to_string()),
            Just("<<EOT\n# inside a heredoc\nEOT".to_string()),
            Just("\"${var.x}-suffix\"".to_string()),
        ]
    }

    fn comment() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("# hash".to_string()),
            Just("// slashes".to_string()),
            Just("/* one line */".to_string()),
            Just("/* two\n   lines */".to_string()),
        ]
    }

    /// One line of a body: an attribute (with odd spacing and maybe a comment after it),
    /// a comment alone, a blank line, or a block.
    fn line(depth: u32) -> BoxedStrategy<String> {
        let attr = (
            "[a-z]{1,8}",
            0..3usize,
            value(),
            proptest::option::of(comment()),
        )
            .prop_map(|(k, sp, v, c)| {
                let pad = " ".repeat(sp);
                match c {
                    Some(c) if !v.starts_with("<<") => format!("{k}{pad}={pad}{v} {c}"),
                    _ => format!("{k}{pad}= {v}"),
                }
            });
        let alone = comment();
        let blank = Just(String::new());
        if depth == 0 {
            return prop_oneof![attr, alone, blank].boxed();
        }
        let block = (
            "[a-z]{1,6}",
            proptest::option::of("[a-z]{1,6}"),
            proptest::collection::vec(line(depth - 1), 0..5),
        )
            .prop_map(|(ident, label, body)| {
                let label = label.map(|l| format!(" \"{l}\"")).unwrap_or_default();
                format!("{ident}{label} {{\n{}\n}}", body.join("\n"))
            });
        prop_oneof![3 => attr, 1 => alone, 1 => blank, 2 => block].boxed()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256), failure_persistence: None, ..ProptestConfig::default() })]

        /// Formatting keeps every comment, changes nothing the second time, and leaves a
        /// file that parses to the same body.
        #[test]
        fn formatting_keeps_comments_and_meaning_and_is_idempotent(
            lines in proptest::collection::vec(line(2), 1..12)
        ) {
            let src = format!("{}\n", lines.join("\n"));
            prop_assume!(hcl_edit::parser::parse_body(&src).is_ok());
            let once = imgform::config::fmt::format_source(&src)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{src}")))?;
            let twice = imgform::config::fmt::format_source(&once)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{once}")))?;
            prop_assert_eq!(&once, &twice, "formatting twice changes the file");
            let kept: Vec<&str> = imgform::config::fmt::comments(&once).into_iter().map(|c| c.1).collect();
            let had: Vec<&str> = imgform::config::fmt::comments(&src).into_iter().map(|c| c.1).collect();
            prop_assert_eq!(kept, had);
            let a: hcl::Body = hcl::from_str(&src).map_err(|e| TestCaseError::fail(format!("{e}")))?;
            let b: hcl::Body = hcl::from_str(&once).map_err(|e| TestCaseError::fail(format!("{e}\n{once}")))?;
            prop_assert_eq!(a, b, "the formatted file means something else:\n{}\n---\n{}", src, once);
        }
    }
}
