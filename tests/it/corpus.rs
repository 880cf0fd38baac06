//! The Terraform port corpus (`testdata/terraform/`): configurations written in the shapes
//! public Terraform code for alicloud images has (each names its pattern and source), each
//! validated, planned, applied on the local cloud and planned again with no changes.

use crate::util::{copy_tree, imgform, root};
use std::path::{Path, PathBuf};

fn run(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = imgform(dir)
        .env("IMGFORM_LOCAL_SPEED", "600")
        .args(["--cloud", "local"])
        .args(args)
        .output()
        .expect("runs");
    (
        o.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

/// Validate, plan, apply, plan again: the problem, if any.
fn port(case: &Path) -> Result<(), String> {
    let d = copy_tree(case);
    let name = case.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    for (args, want) in [
        (&["validate"][..], Some(0)),
        (&["plan"][..], Some(0)),
        (&["apply", "--auto-approve"][..], Some(0)),
        (&["plan", "--detailed-exitcode"][..], Some(0)),
    ] {
        let (code, out) = run(d.path(), args);
        if code != want {
            return Err(format!(
                "{name}: `{}` exited {code:?}:\n{out}",
                args.join(" ")
            ));
        }
    }
    Ok(())
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(root().join("testdata/terraform"))
        .expect("corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

#[test]
fn every_configuration_names_its_pattern_and_source() {
    let cases = cases();
    assert!(
        cases.len() >= 30,
        "the corpus has {} configurations",
        cases.len()
    );
    for c in &cases {
        let mut tf: Vec<PathBuf> = std::fs::read_dir(c)
            .expect("dir")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "tf"))
            .collect();
        tf.sort();
        let text: String = tf
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("read"))
            .collect();
        assert!(
            text.contains("# Pattern:") && text.contains("Source:"),
            "{} names no pattern and source",
            c.display()
        );
    }
}

#[test]
fn the_corpus_ports_validate_plan_apply_and_an_empty_plan() {
    let cases = cases();
    let threads = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .min(4);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Some(c) = cases.get(i) else { break };
                if let Err(e) = port(c) {
                    failures.lock().expect("lock").push(e);
                }
            });
        }
    });
    let failures = failures.into_inner().expect("lock");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
