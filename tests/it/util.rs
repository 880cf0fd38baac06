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
    c
}

/// A temporary directory holding `files`.
pub fn dir_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(d.path().join(name), text).expect("write");
    }
    d
}
