//! `imgform fmt [--check] [--diff] [--recursive] [PATH...]`: canonical formatting of
//! `*.hcl` and `*.vars` files. `--check` exits 3 when a file would change.

use super::Cli;
use super::Ended;
use crate::config::fmt::{format_source, FmtError};
use anyhow::Context as _;
use std::path::{Path, PathBuf};

/// Flags of `fmt`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Do not write; exit 3 when any file is not formatted.
    #[arg(long)]
    pub check: bool,
    /// Print a diff of the changes.
    #[arg(long)]
    pub diff: bool,
    /// Also format files in subdirectories.
    #[arg(long)]
    pub recursive: bool,
    /// Files or directories (default: the working directory).
    pub paths: Vec<PathBuf>,
}

fn is_config(p: &Path) -> bool {
    p.extension().is_some_and(|e| e == "hcl" || e == "vars")
}

fn collect(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if p.is_dir() {
            if recursive && !hidden {
                collect(&p, recursive, out)?;
            }
        } else if is_config(&p) {
            out.push(p);
        }
    }
    Ok(())
}

/// Runs `fmt`.
pub fn exec(cli: &Cli, a: &Args) -> anyhow::Result<Ended> {
    let mut changed = 0;
    let mut failed = false;
    for f in files_of(cli, a)? {
        match format_file(cli, a, &f)? {
            Some(true) => changed += 1,
            Some(false) => {}
            None => failed = true,
        }
    }
    if failed {
        return Ok(Ended::Failed);
    }
    Ok(if a.check && changed > 0 {
        Ended::Unformatted
    } else {
        Ended::Success
    })
}

/// The files to format: the paths given (relative to `-C`), directories read for their
/// configuration files (recursively with `--recursive`), or the working directory.
fn files_of(cli: &Cli, a: &Args) -> anyhow::Result<Vec<std::path::PathBuf>> {
    let roots = if a.paths.is_empty() {
        vec![cli.chdir.clone()]
    } else {
        a.paths
            .iter()
            .map(|p| {
                if p.is_absolute() {
                    p.clone()
                } else {
                    cli.chdir.join(p)
                }
            })
            .collect()
    };
    let mut files = Vec::new();
    for r in &roots {
        if r.is_dir() {
            collect(r, a.recursive, &mut files)?;
        } else if r.is_file() {
            files.push(r.clone());
        } else {
            anyhow::bail!("{}: no such file or directory", r.display());
        }
    }
    Ok(files)
}

/// Formats one file (lists it, shows its diff with `--diff`, writes it unless `--check`):
/// whether it changed, or `None` when it does not parse (the error is shown).
fn format_file(cli: &Cli, a: &Args, f: &std::path::Path) -> anyhow::Result<Option<bool>> {
    let src = std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
    let out = match format_source(&src) {
        Ok(o) => o,
        Err(FmtError::Parse(e)) => {
            let (l, c) = (e.location().line(), e.location().column());
            eprintln!(
                "\nError: Invalid syntax\n\n  on {} line {l}:\n\n{}\n  ({}:{l}:{c})",
                f.display(),
                e.message(),
                f.display()
            );
            eprintln!("hint: fix the syntax first; fmt only formats valid files");
            return Ok(None);
        }
        Err(e @ FmtError::WouldLose { line, .. }) => {
            eprintln!(
                "\nError: Comment would be lost\n\n  on {} line {line}:\n\n{e}",
                f.display()
            );
            eprintln!("hint: this is a bug of imgform fmt; please report it with the file");
            return Ok(None);
        }
    };
    if out == src {
        return Ok(Some(false));
    }
    let shown = f
        .strip_prefix(&cli.chdir)
        .unwrap_or(f)
        .display()
        .to_string();
    println!("{shown}");
    if a.diff {
        let d = similar::TextDiff::from_lines(&src, &out);
        print!(
            "{}",
            d.unified_diff()
                .context_radius(3)
                .header(&format!("old/{shown}"), &format!("new/{shown}"))
        );
    }
    if !a.check {
        std::fs::write(f, out).with_context(|| format!("cannot write {}", f.display()))?;
    }
    Ok(Some(true))
}
