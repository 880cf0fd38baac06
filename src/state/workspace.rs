//! Workspaces: several states of one configuration, side by side. The local files keep
//! workspace W in `imgform.state.d/W/` beside the default state file (Terraform's
//! `terraform.tfstate.d/W/`); PostgreSQL keys its rows by workspace. Which workspace is
//! selected is the command line's business (`cli::workspace`).

use super::backend::Backend;
use super::pg::PgStore;
use super::store::Store;
use anyhow::Context as _;
use std::path::{Path, PathBuf};

/// The workspace every configuration has.
pub const DEFAULT: &str = "default";

/// Where the local states of workspaces other than `default` live, beside `base`.
pub fn workspaces_dir(base: &Path) -> PathBuf {
    base.parent()
        .unwrap_or(Path::new("."))
        .join("imgform.state.d")
}

/// The local state file of workspace `ws`, given the `default` one.
pub fn state_path(base: &Path, ws: &str) -> PathBuf {
    if ws == DEFAULT {
        return base.to_path_buf();
    }
    let name = base
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "imgform.state.db".into());
    workspaces_dir(base).join(ws).join(name)
}

/// A workspace name is letters, digits, `-`, `_` and `.`, and not only dots: it names a
/// directory of the local state and a key of the team backend.
pub fn check_name(name: &str) -> anyhow::Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 90
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && !name.chars().all(|c| c == '.');
    if !ok {
        anyhow::bail!("The workspace name {name:?} is not allowed. The name must contain only letters, digits, '-', '_' and '.', and no path separators.");
    }
    Ok(())
}

/// Where the workspaces live.
pub enum Home {
    /// Local files: the default workspace's state file.
    Local(PathBuf),
    /// PostgreSQL: connection string and schema.
    Pg(String, String),
}

impl Home {
    /// Every workspace: `default` first, then the others by name.
    pub fn list(&self) -> anyhow::Result<Vec<String>> {
        let mut others: Vec<String> = match self {
            Home::Local(base) => {
                let dir = workspaces_dir(base);
                match std::fs::read_dir(&dir) {
                    Ok(entries) => entries
                        .filter_map(|e| e.ok())
                        .filter_map(|e| e.file_name().into_string().ok())
                        .filter(|n| check_name(n).is_ok() && state_path(base, n).exists())
                        .collect(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => vec![],
                    Err(e) => {
                        return Err(e).with_context(|| format!("cannot list {}", dir.display()))
                    }
                }
            }
            Home::Pg(conn, schema) => PgStore::open(conn, schema, DEFAULT)?.workspaces()?,
        };
        others.retain(|w| w != DEFAULT);
        others.sort();
        let mut all = vec![DEFAULT.to_string()];
        all.extend(others);
        Ok(all)
    }

    /// Opens the state of workspace `ws`, creating it when it does not exist.
    pub fn open(&self, ws: &str) -> anyhow::Result<Box<dyn Backend>> {
        Ok(match self {
            Home::Local(base) => {
                let path = state_path(base, ws);
                if let Some(dir) = path.parent() {
                    std::fs::create_dir_all(dir)
                        .with_context(|| format!("cannot create {}", dir.display()))?;
                }
                Box::new(
                    Store::open(&path)
                        .with_context(|| format!("cannot open the state at {}", path.display()))?,
                )
            }
            Home::Pg(conn, schema) => Box::new(PgStore::open(conn, schema, ws)?),
        })
    }

    /// Removes workspace `ws` (never `default`).
    pub fn delete(&self, ws: &str) -> anyhow::Result<()> {
        match self {
            Home::Local(base) => {
                let dir = workspaces_dir(base).join(ws);
                std::fs::remove_dir_all(&dir)
                    .with_context(|| format!("cannot delete {}", dir.display()))
            }
            Home::Pg(conn, schema) => Ok(PgStore::open(conn, schema, ws)?.delete_workspace()?),
        }
    }
}
