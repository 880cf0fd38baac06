//! Which files the configuration's file functions may read.
//!
//! A plan of an untrusted pull request must not be able to publish the runner's secrets, so
//! `file`, `templatefile`, `filebase64`, `fileexists`, `fileset` and the `file*sha*`/`filemd5`
//! family read only **regular files inside the configuration's root**: the top of the
//! version-control repository that holds the configuration (the nearest ancestor with a
//! `.git`), or the configuration directory itself when there is none. Paths are resolved
//! (symlinks included) before the check, so neither `../` nor a link can climb out. `/proc`,
//! `/dev` and `/sys` are never read, whatever is allowed, and neither is anything that is not
//! a regular file (a FIFO would block the plan forever).
//!
//! A trusted run widens the root with `--allow-files-outside DIR` or the configuration's
//! `imgform { allow_files_outside = [...] }`; `--untrusted-config` ignores the latter, since
//! an untrusted configuration could otherwise widen its own access.

use std::fmt;
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// The largest file a file function reads (bounded input: a plan never loads a disk image).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Directories never read, even when an allowed directory contains them.
const NEVER: &[&str] = &["/proc", "/dev", "/sys"];

/// The set of directories file functions may read from. Cheap to clone.
#[derive(Clone, PartialEq, Eq)]
pub struct FileAccess(Arc<Inner>);

#[derive(PartialEq, Eq)]
struct Inner {
    /// The configuration's root (canonical); `None` when nothing may be read.
    root: Option<PathBuf>,
    /// Directories admitted on top of the root (canonical).
    allowed: Vec<PathBuf>,
}

impl fmt::Debug for FileAccess {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileAccess")
            .field("root", &self.0.root)
            .field("allowed", &self.0.allowed)
            .finish()
    }
}

impl Default for FileAccess {
    fn default() -> Self {
        FileAccess::none()
    }
}

/// Why a file function may not read a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The resolved path lies outside the root and every allowed directory.
    Outside {
        /// The path as resolved (symlinks followed).
        resolved: PathBuf,
        /// The configuration's root.
        root: PathBuf,
    },
    /// `/proc`, `/dev` or `/sys`.
    Special(PathBuf),
    /// A directory, FIFO, socket or device.
    NotRegular(PathBuf, &'static str),
    /// No file functions here (variable defaults and variable files are constants).
    NotHere,
    /// Larger than [`MAX_FILE_BYTES`].
    TooLarge(PathBuf, u64),
    /// Any other I/O problem (missing file, permissions).
    Io(PathBuf, String),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Outside { resolved, root } => write!(
                f,
                "{} is outside the configuration root {}: file functions read only files inside it",
                resolved.display(),
                root.display()
            ),
            Refusal::Special(p) => write!(
                f,
                "{} is a system file (/proc, /dev, /sys): file functions never read those",
                p.display()
            ),
            Refusal::NotRegular(p, what) => write!(
                f,
                "{} is a {what}, not a regular file: file functions read regular files only",
                p.display()
            ),
            Refusal::NotHere => write!(
                f,
                "file functions cannot be used here: a variable's value must be a constant"
            ),
            Refusal::TooLarge(p, n) => write!(
                f,
                "{} has {n} bytes; file functions read at most {MAX_FILE_BYTES} bytes",
                p.display()
            ),
            Refusal::Io(p, e) => write!(f, "cannot read {}: {e}", p.display()),
        }
    }
}

impl Refusal {
    /// Whether this refusal is the confinement (as opposed to an ordinary I/O error).
    pub fn is_confinement(&self) -> bool {
        matches!(
            self,
            Refusal::Outside { .. } | Refusal::Special(_) | Refusal::NotRegular(..)
        )
    }
}

/// The version-control root above `dir` (nearest ancestor holding `.git`), else `dir`.
/// Both canonical.
pub fn root_of(dir: &Path) -> std::io::Result<PathBuf> {
    let dir = std::fs::canonicalize(dir)?;
    let mut at = Some(dir.as_path());
    while let Some(d) = at {
        if d.join(".git").exists() {
            return Ok(d.to_path_buf());
        }
        at = d.parent();
    }
    Ok(dir)
}

impl FileAccess {
    /// Nothing is readable.
    pub fn none() -> Self {
        FileAccess(Arc::new(Inner {
            root: None,
            allowed: Vec::new(),
        }))
    }

    /// The root of `dir` plus `allowed` directories. Each allowed directory must exist.
    pub fn for_dir(dir: &Path, allowed: &[PathBuf]) -> Result<Self, String> {
        let root = root_of(dir).map_err(|e| {
            format!(
                "cannot resolve the configuration directory {}: {e}",
                dir.display()
            )
        })?;
        let mut canon = Vec::new();
        for a in allowed {
            let c = std::fs::canonicalize(a).map_err(|e| {
                format!("the allowed directory {} cannot be used: {e}", a.display())
            })?;
            if !c.is_dir() {
                return Err(format!("{} is not a directory", a.display()));
            }
            canon.push(c);
        }
        Ok(FileAccess(Arc::new(Inner {
            root: Some(root),
            allowed: canon,
        })))
    }

    /// The configuration's root, if any file is readable.
    pub fn root(&self) -> Option<&Path> {
        self.0.root.as_deref()
    }

    /// The directories admitted beyond the root.
    pub fn allowed(&self) -> &[PathBuf] {
        &self.0.allowed
    }

    /// Resolves `path` (relative to `base`) and checks that it may be read. Returns the
    /// canonical path; a missing file is an [`Refusal::Io`] error whose path is the
    /// lexical one (its parent is still checked, so existence outside the root is not
    /// revealed).
    pub fn resolve(&self, base: &Path, path: &str) -> Result<PathBuf, Refusal> {
        let Some(root) = &self.0.root else {
            return Err(Refusal::NotHere);
        };
        let joined = base.join(path);
        let resolved = match std::fs::canonicalize(&joined) {
            Ok(p) => p,
            Err(e) => {
                // Check the nearest existing ancestor so that probing outside the root is
                // refused as outside, not answered with "no such file".
                let lexical = normalize(&absolute(&joined));
                let mut anc = lexical.parent();
                while let Some(a) = anc {
                    if let Ok(c) = std::fs::canonicalize(a) {
                        self.admit(root, &c, &lexical)?;
                        break;
                    }
                    anc = a.parent();
                }
                return Err(Refusal::Io(joined, e.to_string()));
            }
        };
        self.admit(root, &resolved, &resolved)?;
        Ok(resolved)
    }

    fn admit(&self, root: &Path, canon: &Path, shown: &Path) -> Result<(), Refusal> {
        if NEVER.iter().any(|n| canon.starts_with(n)) {
            return Err(Refusal::Special(shown.to_path_buf()));
        }
        if canon.starts_with(root) || self.0.allowed.iter().any(|a| canon.starts_with(a)) {
            return Ok(());
        }
        Err(Refusal::Outside {
            resolved: shown.to_path_buf(),
            root: root.to_path_buf(),
        })
    }

    /// Reads a regular file that may be read.
    pub fn read(&self, base: &Path, path: &str) -> Result<Vec<u8>, Refusal> {
        let p = self.resolve(base, path)?;
        let meta = std::fs::metadata(&p).map_err(|e| Refusal::Io(p.clone(), e.to_string()))?;
        if !meta.is_file() {
            return Err(Refusal::NotRegular(p, kind_of(&meta)));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(Refusal::TooLarge(p, meta.len()));
        }
        let f = std::fs::File::open(&p).map_err(|e| Refusal::Io(p.clone(), e.to_string()))?;
        let mut out = Vec::with_capacity(meta.len() as usize);
        f.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|e| Refusal::Io(p.clone(), e.to_string()))?;
        if out.len() as u64 > MAX_FILE_BYTES {
            return Err(Refusal::TooLarge(p, out.len() as u64));
        }
        Ok(out)
    }

    /// Whether a regular file exists at `path` (Terraform's `fileexists`): false when
    /// nothing is there, an error when something that is not a regular file is.
    pub fn exists(&self, base: &Path, path: &str) -> Result<bool, Refusal> {
        match self.resolve(base, path) {
            Ok(p) => {
                let meta =
                    std::fs::metadata(&p).map_err(|e| Refusal::Io(p.clone(), e.to_string()))?;
                if meta.is_file() {
                    Ok(true)
                } else {
                    Err(Refusal::NotRegular(p, kind_of(&meta)))
                }
            }
            Err(Refusal::Io(..)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Terraform's `fileset(path, pattern)`: the regular files under `dir` whose path
    /// relative to it matches the glob `pattern` (`*`, `**`, `?`, `[..]`, `{a,b}`), sorted,
    /// with `/` separators. Files that resolve outside the root are left out.
    pub fn fileset(&self, base: &Path, dir: &str, pattern: &str) -> Result<Vec<String>, Refusal> {
        let top = self.resolve(base, dir)?;
        if !top.is_dir() {
            return Err(Refusal::Io(top, "not a directory".into()));
        }
        let glob = globset::GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| Refusal::Io(PathBuf::from(pattern), format!("invalid pattern: {e}")))?
            .compile_matcher();
        let mut out = Vec::new();
        let mut stack = vec![(top.clone(), 0usize)];
        let mut seen = 0usize;
        while let Some((d, depth)) = stack.pop() {
            let rd = std::fs::read_dir(&d).map_err(|e| Refusal::Io(d.clone(), e.to_string()))?;
            for ent in rd {
                let ent = ent.map_err(|e| Refusal::Io(d.clone(), e.to_string()))?;
                seen += 1;
                if seen > 100_000 {
                    return Err(Refusal::Io(top, "more than 100000 entries".into()));
                }
                let p = ent.path();
                let Ok(canon) = std::fs::canonicalize(&p) else {
                    continue;
                };
                let Some(root) = &self.0.root else {
                    return Err(Refusal::NotHere);
                };
                if self.admit(root, &canon, &canon).is_err() {
                    continue;
                }
                let Ok(meta) = std::fs::metadata(&canon) else {
                    continue;
                };
                // Directories are walked by their own path (not through links), bounded.
                if meta.is_dir() && !ent.file_type().map(|t| t.is_symlink()).unwrap_or(true) {
                    if depth < 64 {
                        stack.push((p, depth + 1));
                    }
                    continue;
                }
                if !meta.is_file() {
                    continue;
                }
                let Ok(rel) = p.strip_prefix(&top) else {
                    continue;
                };
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                if glob.is_match(&rel) {
                    out.push(rel);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt as _;
    let t = meta.file_type();
    if t.is_dir() {
        "directory"
    } else if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_block_device() || t.is_char_device() {
        "device"
    } else {
        "special file"
    }
}

fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    }
}

/// Removes `.` and folds `..` lexically (for showing and checking a path that does not exist).
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> (tempfile::TempDir, PathBuf) {
        let t = tempfile::tempdir().expect("tempdir");
        let root = std::fs::canonicalize(t.path()).expect("canon");
        std::fs::create_dir_all(root.join(".git")).expect("git");
        std::fs::create_dir_all(root.join("images/scripts")).expect("dirs");
        std::fs::write(root.join("images/scripts/a.sh"), "echo a").expect("write");
        std::fs::write(root.join("images/b.txt"), "b").expect("write");
        std::fs::write(root.join("shared.txt"), "shared").expect("write");
        (t, root)
    }

    #[test]
    fn reads_inside_the_repository_and_refuses_outside() {
        let (_t, root) = repo();
        let cfg = root.join("images");
        let fa = FileAccess::for_dir(&cfg, &[]).expect("access");
        assert_eq!(fa.root(), Some(root.as_path()));
        assert_eq!(fa.read(&cfg, "b.txt").expect("inside"), b"b");
        // Elsewhere in the same repository.
        assert_eq!(fa.read(&cfg, "../shared.txt").expect("repo"), b"shared");
        // Climbing out of the repository.
        let e = fa
            .read(&cfg, "../../../../../../etc/passwd")
            .expect_err("outside");
        assert!(matches!(e, Refusal::Outside { .. }), "{e}");
        assert!(matches!(
            fa.read(&cfg, "/etc/hostname"),
            Err(Refusal::Outside { .. })
        ));
        // A missing file outside is refused as outside, not answered "not found".
        assert!(matches!(
            fa.exists(&cfg, "/etc/nope-xyz"),
            Err(Refusal::Outside { .. })
        ));
        assert_eq!(fa.exists(&cfg, "nope.txt"), Ok(false));
        assert_eq!(fa.exists(&cfg, "b.txt"), Ok(true));
    }

    #[test]
    fn system_files_are_never_read() {
        let (_t, root) = repo();
        let fa = FileAccess::for_dir(&root, &[PathBuf::from("/")]).expect("access");
        assert!(matches!(
            fa.read(&root, "/proc/self/environ"),
            Err(Refusal::Special(_))
        ));
        assert!(matches!(
            fa.read(&root, "/dev/zero"),
            Err(Refusal::Special(_))
        ));
    }

    #[test]
    fn symlinks_are_resolved_before_the_check() {
        let (_t, root) = repo();
        let outside = tempfile::tempdir().expect("tempdir");
        std::fs::write(outside.path().join("secret"), "s3cret").expect("write");
        std::os::unix::fs::symlink(outside.path().join("secret"), root.join("link"))
            .expect("symlink");
        let fa = FileAccess::for_dir(&root, &[]).expect("access");
        assert!(matches!(
            fa.read(&root, "link"),
            Err(Refusal::Outside { .. })
        ));
        // fileset leaves the link out.
        assert_eq!(
            fa.fileset(&root, ".", "*").expect("fileset"),
            vec!["shared.txt".to_string()]
        );
        // The opt-out admits exactly the named directory.
        let fa = FileAccess::for_dir(&root, &[outside.path().to_path_buf()]).expect("access");
        assert_eq!(fa.read(&root, "link").expect("allowed"), b"s3cret");
        assert!(matches!(
            fa.read(&root, "/etc/hostname"),
            Err(Refusal::Outside { .. })
        ));
    }

    #[test]
    fn fifos_are_refused_without_blocking() {
        let (_t, root) = repo();
        let fifo = root.join("pipe");
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "mkfifo");
        let fa = FileAccess::for_dir(&root, &[]).expect("access");
        assert!(matches!(
            fa.read(&root, "pipe"),
            Err(Refusal::NotRegular(_, "FIFO"))
        ));
    }

    #[test]
    fn fileset_matches_globs_relative_to_the_directory() {
        let (_t, root) = repo();
        let fa = FileAccess::for_dir(&root, &[]).expect("access");
        assert_eq!(
            fa.fileset(&root, "images", "**/*.sh").expect("fileset"),
            vec!["scripts/a.sh".to_string()]
        );
        assert_eq!(
            fa.fileset(&root, "images", "*").expect("fileset"),
            vec!["b.txt".to_string()]
        );
        assert_eq!(
            fa.fileset(&root, "images", "{b.txt,scripts/a.sh}")
                .expect("fileset"),
            vec!["b.txt".to_string(), "scripts/a.sh".to_string()]
        );
    }

    #[test]
    fn without_a_repository_the_directory_is_the_root() {
        let t = tempfile::tempdir().expect("tempdir");
        let d = std::fs::canonicalize(t.path()).expect("canon").join("cfg");
        std::fs::create_dir_all(&d).expect("dir");
        std::fs::write(t.path().join("beside.txt"), "x").expect("write");
        // A temp dir is normally not inside a git checkout; skip if it is.
        if root_of(&d).expect("root") != d {
            return;
        }
        let fa = FileAccess::for_dir(&d, &[]).expect("access");
        assert!(matches!(
            fa.read(&d, "../beside.txt"),
            Err(Refusal::Outside { .. })
        ));
        assert!(matches!(
            FileAccess::none().read(&d, "x"),
            Err(Refusal::NotHere)
        ));
    }
}
