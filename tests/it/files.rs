//! File functions are confined to the configuration's repository: a plan of an untrusted
//! pull request cannot publish the runner's environment or files.

use crate::util::imgform;
use std::path::{Path, PathBuf};

/// A repository (`.git`) with the configuration in `images/`, a script elsewhere in the
/// repository, and a directory outside holding a secret.
struct Repo {
    _t: tempfile::TempDir,
    top: PathBuf,
}

impl Repo {
    fn new(main_hcl: &str) -> Repo {
        let t = tempfile::tempdir().expect("tempdir");
        let top = std::fs::canonicalize(t.path()).expect("canon");
        for d in [
            "repo/.git",
            "repo/images",
            "repo/scripts",
            "outside",
            "other",
        ] {
            std::fs::create_dir_all(top.join(d)).expect("mkdir");
        }
        std::fs::write(top.join("repo/scripts/setup.sh"), "echo from-the-repo").expect("write");
        std::fs::write(top.join("outside/secret"), "top-secret-outside").expect("write");
        std::fs::write(top.join("other/secret"), "top-secret-other").expect("write");
        let main = main_hcl.replace("@TOP@", &top.display().to_string());
        std::fs::write(top.join("repo/images/main.hcl"), main).expect("write");
        Repo { _t: t, top }
    }

    fn cfg(&self) -> PathBuf {
        self.top.join("repo/images")
    }

    fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = imgform(&self.cfg())
            .args(args)
            .env("IMGFORM_TEST_CANARY", "canary-value-1234")
            .output()
            .expect("runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }
}

fn output_of(expr: &str) -> String {
    format!("output \"x\" {{\n  value = {expr}\n}}\n")
}

fn refused(r: &Repo, summary: &str, line_col: &str) -> String {
    let (code, out, err) = r.run(&["validate"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains(summary), "{err}");
    assert!(err.contains(&format!("main.hcl:{line_col}")), "{err}");
    for secret in ["canary-value-1234", "top-secret"] {
        assert!(!out.contains(secret) && !err.contains(secret), "{out}{err}");
    }
    err
}

#[test]
fn proc_self_environ_is_refused() {
    let r = Repo::new(&output_of(r#"file("/proc/self/environ")"#));
    let err = refused(&r, "System file refused", "2:11");
    assert!(err.contains("never read /proc, /dev or /sys"), "{err}");
}

#[test]
fn an_absolute_path_outside_is_refused_naming_the_path_and_the_root() {
    let r = Repo::new(&output_of(r#"templatefile("@TOP@/outside/secret", {})"#));
    let err = refused(&r, "File outside the configuration root", "2:11");
    let want = format!(
        "{} is outside the configuration root {}",
        r.top.join("outside/secret").display(),
        r.top.join("repo").display()
    );
    // Prose is wrapped to the terminal, as Terraform wraps it: compare words.
    let words = err.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains(&want), "{err}");
    assert!(err.contains("--allow-files-outside DIR"), "{err}");
}

#[test]
fn dot_dot_escaping_the_root_is_refused() {
    let r = Repo::new(&output_of(r#"filebase64("../../outside/secret")"#));
    refused(&r, "File outside the configuration root", "2:11");
    // Asking whether a file exists outside is refused too: existence is not revealed.
    let r = Repo::new(&output_of(r#"fileexists("../../outside/nothing-here")"#));
    refused(&r, "File outside the configuration root", "2:11");
}

#[test]
fn a_symlink_pointing_outside_is_refused() {
    let r = Repo::new(&output_of(r#"filesha256("link")"#));
    std::os::unix::fs::symlink(r.top.join("outside/secret"), r.cfg().join("link"))
        .expect("symlink");
    refused(&r, "File outside the configuration root", "2:11");
}

#[test]
fn a_fifo_is_refused_without_hanging() {
    let r = Repo::new(&output_of(r#"file("pipe")"#));
    let ok = std::process::Command::new("mkfifo")
        .arg(r.cfg().join("pipe"))
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "mkfifo");
    let err = refused(&r, "Not a regular file", "2:11");
    assert!(err.contains("is a FIFO"), "{err}");
}

/// The plan document (`show -json` of the saved plan), or how planning failed.
fn plan_output(r: &Repo, extra: &[&str]) -> (i32, String, String) {
    let file = r.top.join("plan.bin");
    let file = file.to_str().expect("utf-8 path");
    let mut args = vec!["--cloud", "local"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["plan", "--out", file]);
    let planned = r.run(&args);
    if planned.0 != 0 {
        return planned;
    }
    let (code, out, err) = r.run(&["show", "--json", file]);
    (code, out, format!("{}{err}", planned.2))
}

#[test]
fn files_inside_the_repository_are_read() {
    // `path.module` and a file elsewhere in the same repository.
    let r = Repo::new(
        r#"
output "script" {
  value = file("${path.module}/../scripts/setup.sh")
}
output "scripts" {
  value = fileset("${path.module}/..", "scripts/*.sh")
}
"#,
    );
    let (code, out, err) = plan_output(&r, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).expect("json");
    let after = &plan["output_changes"]["script"]["after"];
    assert_eq!(after, "echo from-the-repo", "{out}");
    assert_eq!(
        plan["output_changes"]["scripts"]["after"],
        serde_json::json!(["scripts/setup.sh"]),
        "{out}"
    );
}

fn two_secrets() -> String {
    r#"
output "outside" {
  value = file("@TOP@/outside/secret")
}
"#
    .to_string()
}

#[test]
fn allow_files_outside_admits_exactly_the_named_directory() {
    let r = Repo::new(&two_secrets());
    let outside = r.top.join("outside");
    let (code, out, err) = plan_output(&r, &["--allow-files-outside", path(&outside)]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("top-secret-outside"), "{out}");
    // The sibling directory stays closed.
    let r2 = Repo::new(&two_secrets().replace("outside/secret", "other/secret"));
    let (code, out, err) = r2.run(&[
        "--allow-files-outside",
        path(&r2.top.join("outside")),
        "validate",
    ]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("File outside the configuration root"), "{err}");
    // A directory that does not exist is an error, not a silent no-op.
    let (code, _, err) = r.run(&["--allow-files-outside", "/no/such/dir", "validate"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("/no/such/dir is not an existing directory"),
        "{err}"
    );
}

#[test]
fn the_configuration_setting_warns_and_untrusted_config_ignores_it() {
    let r = Repo::new(&format!(
        "imgform {{\n  allow_files_outside = [\"../../outside\"]\n}}\n{}",
        two_secrets()
    ));
    let (code, out, err) = r.run(&["validate"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(err.contains("Configuration widens file access"), "{err}");
    assert!(err.contains("main.hcl:2:26"), "{err}");
    // A pull request cannot open the door for itself.
    let (code, out, err) = r.run(&["--untrusted-config", "validate"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("Ignored allow_files_outside"), "{err}");
    assert!(err.contains("File outside the configuration root"), "{err}");
    assert!(!err.contains("top-secret"), "{err}");
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn a_module_reads_its_own_files_and_nothing_outside_the_repository() {
    // The module lives elsewhere in the repository (`repo/modules/m`); `path.module`
    // names its directory, and its files are inside the root.
    let r = Repo::new(
        r#"
module "m" {
  source = "../modules/m"
}

output "motd" {
  value = module.m.motd
}
"#,
    );
    let m = r.top.join("repo/modules/m");
    std::fs::create_dir_all(&m).expect("mkdir");
    std::fs::write(m.join("motd.txt"), "hello from the module").expect("write");
    std::fs::write(
        m.join("main.tf"),
        "output \"motd\" {\n  value = file(\"${path.module}/motd.txt\")\n}\n",
    )
    .expect("write");
    let (code, out, err) = plan_output(&r, &[]);
    assert_eq!(code, 0, "{out}{err}");
    let plan: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        plan["output_changes"]["motd"]["after"], "hello from the module",
        "{out}"
    );
    // A module climbing out of the repository is refused at its own line.
    std::fs::write(
        m.join("main.tf"),
        "output \"motd\" {\n  value = file(\"${path.module}/../../../outside/secret\")\n}\n",
    )
    .expect("write");
    let (code, out, err) = r.run(&["validate"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("File outside the configuration root") && err.contains("main.tf:2:11"),
        "{err}"
    );
    assert!(
        !out.contains("top-secret") && !err.contains("top-secret"),
        "{err}"
    );
}
