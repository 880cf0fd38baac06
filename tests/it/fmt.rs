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
