//! House rules that review alone lets slip: which modules may know what (STYLE.md's
//! module boundaries), checked on the source itself.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).expect("readable source directory") {
            let p = e.expect("directory entry").path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A file's shipped code: what comes before its `#[cfg(test)]` module, without comments.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("readable source file");
    let shipped = text.split("#[cfg(test)]").next().unwrap_or_default();
    shipped
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Adding a resource kind is its file in `src/resource` and its registry entry
/// (`resource::KINDS` or `DATA_KINDS`), nothing else: the engine (apply, plan, render,
/// state), the CLI and the configuration work through the `Kind` trait and name no kind and
/// no kind's module. (The local cloud is the simulated ECS: it knows API actions, not kinds.)
#[test]
fn only_the_resource_module_knows_resource_kinds() {
    let mut names: Vec<String> = imgform::resource::KINDS
        .iter()
        .map(|k| k.name().to_string())
        .collect();
    names.extend(
        imgform::resource::DATA_KINDS
            .iter()
            .map(|k| k.schema().kind.to_string()),
    );
    assert!(
        names.len() >= 11,
        "the registry lists every kind: {names:?}"
    );
    let shared = ["mod", "kind", "api", "rules", "objects"];
    let modules: Vec<String> = rust_files(&root().join("src/resource"))
        .iter()
        .filter_map(|p| p.file_stem()?.to_str().map(String::from))
        .filter(|m| !shared.contains(&m.as_str()))
        .collect();
    // Each kind's file does name its kind: the search below can find what it looks for.
    let copy = code_of(&root().join("src/resource/image_copy.rs"));
    assert!(copy.contains("\"alicloud_image_copy\""));

    let mut found = vec![];
    for file in rust_files(&root().join("src")) {
        let rel = file
            .strip_prefix(root())
            .expect("under the crate")
            .to_path_buf();
        if rel.starts_with("src/resource") || rel.starts_with("src/localcloud") {
            continue;
        }
        let code = code_of(&file);
        for n in &names {
            if code.contains(&format!("\"{n}\"")) {
                found.push(format!("{} names {n:?}", rel.display()));
            }
        }
        for m in &modules {
            if code.contains(&format!("resource::{m}::")) {
                found.push(format!("{} uses resource::{m}", rel.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "kind-specific code outside src/resource:\n{}",
        found.join("\n")
    );
}

/// The imports a module's shipped code makes of `crate::<other>` (any path through it).
fn imports_of(dir: &str, other: &str) -> Vec<String> {
    let mut found = vec![];
    for file in rust_files(&root().join(dir)) {
        let code = code_of(&file);
        if code.contains(&format!("crate::{other}::")) || code.contains(&format!("crate::{other};"))
        {
            let rel = file
                .strip_prefix(root())
                .expect("under the crate")
                .display()
                .to_string();
            found.push(rel);
        }
    }
    found
}

/// STYLE.md's layers, as issue 29 counts them: the cloud client knows nothing of the
/// configuration, the state knows rows and never kinds, and the simulated cloud validates
/// with rules of its own (a wrong rule of the client's must not pass both sides).
#[test]
fn layers_import_only_what_they_may() {
    for (dir, forbidden) in [
        ("src/cloud", "config"),
        ("src/state", "resource"),
        ("src/localcloud", "resource"),
        ("src/localcloud", "config"),
        ("src/localcloud", "apply"),
        ("src/graph.rs", "resource"),
    ] {
        let found = if dir.ends_with(".rs") {
            let code = code_of(&root().join(dir));
            if code.contains(&format!("crate::{forbidden}::")) {
                vec![dir.to_string()]
            } else {
                vec![]
            }
        } else {
            imports_of(dir, forbidden)
        };
        assert!(found.is_empty(), "{dir} imports {forbidden}: {found:?}");
    }
    // The operations print nothing: only cli and render write to the terminal.
    for file in rust_files(&root().join("src/ops")) {
        let code = code_of(&file);
        for p in ["println!", "eprintln!", "print!(", "eprint!("] {
            assert!(!code.contains(p), "{} prints ({p})", file.display());
        }
    }
}
