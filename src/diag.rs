//! User-facing problems with source locations, collected rather than stopped at.
//!
//! A [`Diagnostic`] says what is wrong (`summary`), why (`detail`), where ([`Span`]) and how
//! to fix it (`hint`). Every stage appends to one [`Diagnostics`] list so that a user sees
//! every problem at once, as Terraform's `tfdiags` does. This module knows nothing about
//! terminals: rendering lives in `render::diag`.

use std::ops::Range;
use std::path::{Path, PathBuf};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Something the user should know, but the run goes on.
    Warning,
    /// The configuration cannot be used.
    Error,
}

/// One loaded source file.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// The path as it should be shown to the user (relative to the working directory).
    pub path: PathBuf,
    /// The whole text.
    pub text: String,
    /// The module instance whose file this is: empty for the root module,
    /// `module.net` or `module.img[0].module.copy` for a child.
    pub module: String,
    /// A child module's directory (`path.module`); `None` in the root module.
    pub module_dir: Option<PathBuf>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Indexes `text` for line/column lookups.
    pub fn new(path: PathBuf, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        SourceFile {
            path,
            text,
            module: String::new(),
            module_dir: None,
            line_starts,
        }
    }

    /// 1-based line and 1-based column (in Unicode scalar values) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line];
        let col = self
            .text
            .get(start..offset)
            .map(|s| s.chars().count())
            .unwrap_or(offset - start);
        (line + 1, col + 1)
    }

    /// The text of the 1-based line `line`, without its newline.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts.get(line - 1).copied().unwrap_or(0);
        let end = self
            .line_starts
            .get(line)
            .map(|e| e - 1)
            .unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches('\r')
    }
}

/// The set of files a configuration was read from; spans index into it.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    /// Adds a file and returns its id.
    pub fn add(&mut self, path: PathBuf, text: String) -> usize {
        self.files.push(SourceFile::new(path, text));
        self.files.len() - 1
    }

    /// Adds a file of the child module instance `module`, read from `dir`.
    pub fn add_in_module(
        &mut self,
        path: PathBuf,
        text: String,
        module: &str,
        dir: &Path,
    ) -> usize {
        let mut f = SourceFile::new(path, text);
        f.module = module.to_string();
        f.module_dir = Some(dir.to_path_buf());
        self.files.push(f);
        self.files.len() - 1
    }

    /// The module instance file `id` belongs to (empty: the root module).
    pub fn module_of(&self, id: usize) -> &str {
        self.get(id).map(|f| f.module.as_str()).unwrap_or("")
    }

    /// The file with id `id`.
    pub fn get(&self, id: usize) -> Option<&SourceFile> {
        self.files.get(id)
    }

    /// All files in load order.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }

    /// `file:line:col` of a span's start, for one-line messages.
    pub fn location(&self, span: &Span) -> String {
        match self.get(span.file) {
            Some(f) => {
                let (l, c) = f.line_col(span.range.start);
                format!("{}:{}:{}", f.path.display(), l, c)
            }
            None => "<unknown>".to_string(),
        }
    }

    /// The source text a span covers.
    pub fn text(&self, span: &Span) -> &str {
        self.get(span.file)
            .and_then(|f| f.text.get(span.range.clone()))
            .unwrap_or("")
    }
}

/// A byte range in one source file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// Index into [`Sources`].
    pub file: usize,
    /// Byte offsets, end exclusive.
    pub range: Range<usize>,
}

impl Span {
    /// A span in file `file`.
    pub fn new(file: usize, range: Range<usize>) -> Self {
        Span { file, range }
    }
}

/// One problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One line: what is wrong.
    pub summary: String,
    /// Why, with the offending value.
    pub detail: String,
    /// Where, when the problem has a place in the configuration.
    pub span: Option<Span>,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(
        summary: impl Into<String>,
        detail: impl Into<String>,
        span: Option<Span>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Error,
            summary: summary.into(),
            detail: detail.into(),
            span,
            hint: None,
        }
    }

    /// A warning at `span`.
    pub fn warning(
        summary: impl Into<String>,
        detail: impl Into<String>,
        span: Option<Span>,
    ) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(summary, detail, span)
        }
    }

    /// Adds a hint telling the user how to fix the problem.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// An ordered list of diagnostics.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Adds one.
    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    /// Adds `d` unless the same problem at the same place is already there (a module's
    /// files are read once per instance; a problem in them is reported once).
    pub fn push_once(&mut self, d: Diagnostic) {
        if !self
            .0
            .iter()
            .any(|x| x.span == d.span && x.summary == d.summary && x.detail == d.detail)
        {
            self.0.push(d);
        }
    }

    /// Adds many.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    /// True when any is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    /// Number of errors.
    pub fn error_count(&self) -> usize {
        self.0
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Number of warnings.
    pub fn warning_count(&self) -> usize {
        self.0.len() - self.error_count()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Sorts by file and position (stable), so output does not depend on check order.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            let ka = a.span.as_ref().map(|s| (s.file, s.range.start));
            let kb = b.span.as_ref().map(|s| (s.file, s.range.start));
            ka.cmp(&kb)
        });
        self.0.dedup();
    }

    /// Drops a diagnostic that repeats an earlier one at the same file, line and column:
    /// a module's files are read once per instance, and a mistake in them is one mistake.
    pub fn dedup_locations(&mut self, sources: &Sources) {
        let mut seen = std::collections::HashSet::new();
        self.0.retain(|d| {
            let at = d.span.as_ref().map(|s| sources.location(s));
            seen.insert((at, d.summary.clone(), d.detail.clone()))
        });
    }
}

/// Suggests the closest of `candidates` to `name`, for "did you mean" hints.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::normalized_damerau_levenshtein(name, c), c))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one_and_in_chars() {
        let f = SourceFile::new("a.hcl".into(), "ab\nc中d\n".into());
        assert_eq!(f.line_col(0), (1, 1));
        assert_eq!(f.line_col(3), (2, 1));
        assert_eq!(f.line_col(7), (2, 3));
        assert_eq!(f.line_text(2), "c中d");
    }

    #[test]
    fn suggestion_finds_near_names() {
        let got = did_you_mean("image_nmae", ["image_name", "description"]);
        assert_eq!(got.as_deref(), Some("image_name"));
        assert_eq!(did_you_mean("zzz", ["image_name"]), None);
    }
}
