//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A command running the built `imgform` binary in `dir`.
pub fn imgform(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_imgform"));
    c.current_dir(dir)
        .env_remove("IMGFORM_CLOUD")
        .env("NO_COLOR", "1");
    // With IMGFORM_TEST_PG set, the same tests run against the PostgreSQL team backend,
    // one workspace per test directory.
    match std::env::var("IMGFORM_TEST_PG") {
        Ok(conn) if !conn.is_empty() => {
            let ws: String = dir
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect();
            let ws = if ws.is_empty() {
                "default".to_string()
            } else {
                ws
            };
            c.env("IMGFORM_PG_CONN_STR", conn)
                .env("IMGFORM_WORKSPACE", ws);
        }
        _ => {
            c.env_remove("IMGFORM_PG_CONN_STR")
                .env_remove("IMGFORM_WORKSPACE");
        }
    }
    c
}

/// A temporary directory holding `files`.
pub fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        let p = d.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(p, text).expect("write");
    }
    d
}

/// Copies the directory tree `from` into a new temporary directory.
pub fn copy_tree(from: &Path) -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        for e in std::fs::read_dir(from).expect("dir") {
            let p = e.expect("entry").path();
            let dest = to.join(p.file_name().expect("name"));
            if p.is_dir() {
                std::fs::create_dir_all(&dest).expect("mkdir");
                copy(&p, &dest);
            } else {
                std::fs::copy(&p, &dest).expect("copy");
            }
        }
    }
    let d = tempfile::tempdir().expect("tempdir");
    copy(from, d.path());
    d
}

/// Loads a one-file configuration (`main.tf`): the evaluated configuration, or none, and
/// the rendered diagnostics with the temporary directory's path removed.
pub fn check_config(text: &str) -> (Option<imgform::config::check::Evaluated>, String) {
    let d = dir_with(&[("main.tf", text)]);
    let opts = imgform::config::check::Options {
        dir: d.path().to_path_buf(),
        ..Default::default()
    };
    let (ev, diags, sources) = imgform::config::check::load_with_sources(&opts);
    let human = imgform::render::diag::human_all(&sources, &diags, false)
        .replace(&format!("{}/", d.path().display()), "");
    (ev, human)
}
