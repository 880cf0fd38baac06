//! The PostgreSQL team backend. The tests that need a server are `#[ignore]`d, so a plain
//! `cargo test` reports them as ignored, never as passed. CI starts a server, sets
//! `IMGFORM_TEST_PG` (a connection string) and runs them with `--include-ignored`; run that
//! way without the variable they fail and say why. The end-to-end tests also run unchanged
//! against PostgreSQL when it is set. The password-redaction test needs no server.

use crate::util::{imgform, root};
use std::path::Path;
use std::process::Output;

const NEEDS_PG: &str = "needs a PostgreSQL server: set IMGFORM_TEST_PG and pass --include-ignored";

fn conn() -> String {
    match std::env::var("IMGFORM_TEST_PG") {
        Ok(c) if !c.is_empty() => c,
        _ => panic!("{NEEDS_PG}"),
    }
}

fn example(dir: &Path) {
    std::fs::copy(
        root().join("examples/quickstart/main.hcl"),
        dir.join("main.hcl"),
    )
    .expect("copy");
}

fn local(dir: &Path, args: &[&str]) -> Output {
    imgform(dir)
        .env_remove("IMGFORM_PG_CONN_STR")
        .env_remove("IMGFORM_WORKSPACE")
        .env("IMGFORM_LOCAL_SPEED", "600")
        .args(args)
        .output()
        .expect("runs")
}

fn pg(dir: &Path, conn: &str, ws: &str, args: &[&str]) -> Output {
    imgform(dir)
        .env("IMGFORM_PG_CONN_STR", conn)
        .env("IMGFORM_WORKSPACE", ws)
        .env("IMGFORM_LOCAL_SPEED", "600")
        .args(args)
        .output()
        .expect("runs")
}

fn ok(o: &Output) -> String {
    assert_eq!(
        o.status.code(),
        Some(0),
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
#[ignore = "needs a PostgreSQL server (IMGFORM_TEST_PG)"]
fn migrate_to_pg_and_back_keeps_the_lineage_and_refuses_to_overwrite_newer_state() {
    let conn = conn();
    let d = tempfile::tempdir().expect("tmp");
    example(d.path());
    let ws = format!("migrate{}", std::process::id());
    // Migration moves workspace ws of the local files to workspace ws of PostgreSQL.
    ok(&local(d.path(), &["workspace", "new", &ws]));
    ok(&local(
        d.path(),
        &["--cloud", "local", "apply", "--auto-approve"],
    ));
    let lineage = |o: &Output| -> String {
        serde_json::from_slice::<serde_json::Value>(&o.stdout).expect("json")["lineage"]
            .as_str()
            .expect("lineage")
            .to_string()
    };
    let local_lineage = lineage(&local(d.path(), &["state", "pull"]));
    let out = ok(&pg(
        d.path(),
        &conn,
        &ws,
        &["state", "migrate", "--to", "pg"],
    ));
    assert!(
        out.contains("Migrated 3 object(s)") && !out.contains("password"),
        "{out}"
    );
    assert_eq!(
        lineage(&pg(d.path(), &conn, &ws, &["state", "pull"])),
        local_lineage,
        "the lineage is kept"
    );
    assert_eq!(
        pg(
            d.path(),
            &conn,
            &ws,
            &["--cloud", "local", "plan", "--detailed-exitcode"]
        )
        .status
        .code(),
        Some(0),
        "the migrated state matches the cloud"
    );
    // A change applied through PostgreSQL, then back to the file.
    let p = d.path().join("main.hcl");
    std::fs::write(
        &p,
        std::fs::read_to_string(&p)
            .expect("read")
            .replace("Hardened Ubuntu", "Hardened Ubuntu LTS"),
    )
    .expect("write");
    ok(&pg(
        d.path(),
        &conn,
        &ws,
        &["--cloud", "local", "apply", "--auto-approve"],
    ));
    ok(&pg(
        d.path(),
        &conn,
        &ws,
        &["state", "migrate", "--to", "local"],
    ));
    assert_eq!(
        local(
            d.path(),
            &["--cloud", "local", "plan", "--detailed-exitcode"]
        )
        .status
        .code(),
        Some(0)
    );
    // The file moves ahead; migrating the older PostgreSQL state onto it is refused.
    std::fs::write(
        &p,
        std::fs::read_to_string(&p)
            .expect("read")
            .replace("Hardened Ubuntu LTS", "Hardened Ubuntu"),
    )
    .expect("write");
    ok(&local(
        d.path(),
        &["--cloud", "local", "apply", "--auto-approve"],
    ));
    let refused = pg(d.path(), &conn, &ws, &["state", "migrate", "--to", "local"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("is newer"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    ok(&local(
        d.path(),
        &["--cloud", "local", "destroy", "--auto-approve"],
    ));
}

#[test]
#[ignore = "needs a PostgreSQL server (IMGFORM_TEST_PG)"]
fn a_killed_holder_releases_its_lock_and_workspaces_are_separate() {
    let conn = conn();
    let d = tempfile::tempdir().expect("tmp");
    example(d.path());
    let ws = format!("kill{}", std::process::id());
    let mut child = imgform(d.path())
        .env("IMGFORM_PG_CONN_STR", &conn)
        .env("IMGFORM_WORKSPACE", &ws)
        .env("IMGFORM_LOCAL_SPEED", "20")
        .args(["--cloud", "local", "apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawns");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    // The database released the advisory lock with the dead connection: no force-unlock.
    let out = ok(&pg(
        d.path(),
        &conn,
        &ws,
        &[
            "--cloud",
            "local",
            "apply",
            "--auto-approve",
            "--lock-timeout",
            "10s",
        ],
    ));
    assert!(out.contains("Apply complete!"), "{out}");
    let other = ok(&pg(
        d.path(),
        &conn,
        &format!("{ws}-other"),
        &["state", "list"],
    ));
    assert_eq!(other, "", "another workspace is another state");
    ok(&pg(
        d.path(),
        &conn,
        &ws,
        &["--cloud", "local", "destroy", "--auto-approve"],
    ));
}

#[test]
fn connection_errors_never_print_the_password() {
    let d = tempfile::tempdir().expect("tmp");
    example(d.path());
    let bad = "postgres://imgform:hunter2-secret@127.0.0.1:1/nowhere";
    let o = imgform(d.path())
        .env("IMGFORM_PG_CONN_STR", bad)
        .args(["state", "list"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("cannot connect") && err.contains("imgform:***@127.0.0.1:1"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
}

#[test]
#[ignore = "needs a PostgreSQL server (IMGFORM_TEST_PG)"]
fn workspaces_on_postgres_are_created_listed_selected_and_deleted() {
    let conn = conn();
    let d = tempfile::tempdir().expect("tmp");
    example(d.path());
    let name = format!("wsp{}", std::process::id());
    // The selection is remembered in the directory, not given by IMGFORM_WORKSPACE.
    let run = |args: &[&str]| {
        imgform(d.path())
            .env("IMGFORM_PG_CONN_STR", &conn)
            .env_remove("IMGFORM_WORKSPACE")
            .env("IMGFORM_LOCAL_SPEED", "600")
            .args(args)
            .output()
            .expect("runs")
    };
    let out = ok(&run(&["workspace", "new", &name]));
    assert!(
        out.starts_with(&format!("Created and switched to workspace \"{name}\"!")),
        "{out}"
    );
    let list = ok(&run(&["workspace", "list"]));
    assert!(list.starts_with("  default\n"), "{list}");
    assert!(list.lines().any(|l| l == format!("* {name}")), "{list}");
    assert_eq!(ok(&run(&["workspace", "show"])), format!("{name}\n"));
    ok(&run(&["--cloud", "local", "apply", "--auto-approve"]));
    assert!(!ok(&run(&["state", "list"])).is_empty());
    ok(&run(&["workspace", "select", "default"]));
    let o = run(&["workspace", "delete", &name]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Workspace is not empty"));
    let out = ok(&run(&["workspace", "delete", "-force", &name]));
    assert!(
        out.starts_with(&format!("Deleted workspace \"{name}\"!")),
        "{out}"
    );
    let list = ok(&run(&["workspace", "list"]));
    assert!(!list.contains(&name), "{list}");
    let o = run(&["workspace", "select", &name]);
    assert_eq!(o.status.code(), Some(1), "a deleted workspace is gone");
}

#[test]
#[ignore = "needs a PostgreSQL server (IMGFORM_TEST_PG)"]
fn issue_28_a_postgres_failure_says_what_postgres_said() {
    // The driver's own text for any server error is "db error": the message, SQLSTATE
    // code and detail must reach the user.
    let conn = conn();
    let d = tempfile::tempdir().expect("tmp");
    let schema = format!("broken{}", std::process::id());
    std::fs::write(
        d.path().join("main.hcl"),
        format!(
            "imgform {{\n  backend \"pg\" {{\n    schema_name = \"{schema}\"\n  }}\n}}\n\nprovider \"alicloud\" {{\n  region = \"cn-hangzhou\"\n}}\n"
        ),
    )
    .expect("write");
    ok(&pg(
        d.path(),
        &conn,
        "default",
        &["--cloud", "local", "init"],
    ));
    let mut c = postgres::Client::connect(&conn, postgres::NoTls).expect("connects");
    c.batch_execute(&format!(
        "ALTER TABLE {schema}.resources DROP COLUMN attributes"
    ))
    .expect("drops");
    let o = pg(d.path(), &conn, "default", &["state", "list"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("42703") && err.contains("does not exist"),
        "{err}"
    );
    assert!(!err.trim_end().ends_with("db error"), "{err}");
    c.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .expect("cleans up");
}

#[test]
#[ignore = "needs a PostgreSQL server (IMGFORM_TEST_PG)"]
fn issue_28_an_apply_whose_state_connection_is_killed_says_so_and_the_next_one_converges() {
    // The server ends imgform's connection in the middle of an apply (as a failover or an
    // administrator would): the run must not end with "The state records what was done",
    // and the next apply must finish the work without a second object.
    let base = conn();
    let app = format!("imgformkill{}", std::process::id());
    let conn = if base.starts_with("postgres") {
        format!(
            "{base}{}application_name={app}",
            if base.contains('?') { "&" } else { "?" }
        )
    } else {
        format!("{base} application_name={app}")
    };
    let d = tempfile::tempdir().expect("tmp");
    example(d.path());
    let ws = format!("conn{}", std::process::id());
    let child = imgform(d.path())
        .env("IMGFORM_PG_CONN_STR", &conn)
        .env("IMGFORM_WORKSPACE", &ws)
        .env("IMGFORM_LOCAL_SPEED", "60")
        .args(["--cloud", "local", "apply", "--auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawns");
    // Wait for the creates to be recorded with their ids.
    let start = std::time::Instant::now();
    loop {
        let pulled = pg(d.path(), &base, &ws, &["state", "pull"]);
        let v: serde_json::Value = serde_json::from_slice(&pulled.stdout).unwrap_or_default();
        let with_ids = v["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["status"] == "creating" && r["id"].is_string())
            .count();
        if with_ids >= 2 {
            break;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "no creates recorded"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let mut admin = postgres::Client::connect(&base, postgres::NoTls).expect("connects");
    let killed = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&app],
        )
        .expect("terminates");
    assert!(!killed.is_empty(), "imgform's connection was found");
    let out = child.wait_with_output().expect("waits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("The state could NOT be written"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("The state records what was done"),
        "{stderr}"
    );
    let out = ok(&pg(
        d.path(),
        &base,
        &ws,
        &["--cloud", "local", "apply", "--auto-approve"],
    ));
    assert!(out.contains("Apply complete!"), "{out}");
    let mut names: Vec<String> = crate::e2e::cloud_images(d.path())
        .into_iter()
        .map(|x| x.1)
        .collect();
    names.sort();
    assert_eq!(names, ["ubuntu-22-04-dev", "web-dev"], "each object once");
    ok(&pg(
        d.path(),
        &base,
        &ws,
        &["--cloud", "local", "destroy", "--auto-approve"],
    ));
}
