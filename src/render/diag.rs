//! Diagnostics as text, in Terraform's layout (what PR tools and people who know Terraform
//! read: `Error: summary`, `on FILE line N, in BLOCK:`, the source line, the detail), with
//! imgform's caret under the offending text and its hint inside; and as Terraform's
//! `validate -json` document.
//!
//! Terraform draws its `╷ │ ╵` frame only in colour; without colour the same lines stand
//! alone after a blank line. Both are here, the frame with colour.

use crate::diag::{Diagnostic, Diagnostics, Severity, SourceFile, Sources};
use serde_json::json;

/// How wide prose is wrapped when the terminal's width is not known (Terraform's).
const WIDTH: usize = 78;

/// The width to wrap prose at: the terminal's (`COLUMNS`), else Terraform's 78.
fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|w| *w >= 40)
        .unwrap_or(WIDTH)
}

/// The top-level block a byte of `f` is in, as Terraform names it: `resource "a" "b"`.
fn context(f: &SourceFile, line: usize) -> Option<String> {
    (1..=line).rev().find_map(|n| {
        let text = f.line_text(n);
        let head = text.split('{').next()?.trim_end();
        let starts_block = !text.starts_with([' ', '\t', '#', '/', '}'])
            && text.contains('{')
            && !head.contains('=')
            && !head.is_empty();
        starts_block.then(|| head.to_string())
    })
}

/// Where a byte of `f` is, as Terraform says it: `main.tf line 3, in resource "a" "b"`.
fn place(f: &SourceFile, byte: usize) -> String {
    let (line, _) = f.line_col(byte);
    let ctx = context(f, line)
        .map(|c| format!(", in {c}"))
        .unwrap_or_default();
    format!("{} line {line}{ctx}", f.path.display())
}

/// Wraps prose at `width`; lines that start with a space (code, lists as written) stay.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.starts_with(' ') || line.chars().count() <= width {
            out.push(line.to_string());
        } else {
            // Words are not split (a flag such as --allow-files-outside stays whole).
            let opts = textwrap::Options::new(width)
                .break_words(false)
                .word_splitter(textwrap::WordSplitter::NoHyphenation);
            out.extend(
                textwrap::wrap(line, opts)
                    .into_iter()
                    .map(|l| l.into_owned()),
            );
        }
    }
    out
}

/// The lines of one diagnostic, without frame: summary, place, source line and caret,
/// detail, hint.
fn lines(sources: &Sources, d: &Diagnostic, color: bool, width: usize) -> Vec<String> {
    let (word, tint) = match d.severity {
        Severity::Error => ("Error: ", "\x1b[31m"),
        Severity::Warning => ("Warning: ", "\x1b[33m"),
    };
    let mut out = vec![if color {
        format!("\x1b[1m{tint}{word}\x1b[0m\x1b[1m{}\x1b[0m", d.summary)
    } else {
        format!("{word}{}", d.summary)
    }];
    let at = d
        .span
        .as_ref()
        .and_then(|s| sources.get(s.file).map(|f| (s, f)));
    if let Some((span, f)) = at {
        let start = span.range.start.min(f.text.len());
        let (line, col) = f.line_col(start);
        let code = f.line_text(line);
        out.push(String::new());
        out.push(format!("  on {}:", place(f, start)));
        // The highlighted text: the span on its first line (at least one character).
        let end = span.range.end.min(f.text.len()).max(start);
        let on_line = f.text[start..end].split('\n').next().unwrap_or("");
        let marked = on_line.chars().count().max(1);
        let before: String = code.chars().take(col - 1).collect();
        if color {
            let (head, rest) = code.split_at(before.len().min(code.len()));
            let cut = rest
                .char_indices()
                .nth(marked)
                .map(|(i, _)| i)
                .unwrap_or(rest.len());
            out.push(format!(
                "{line:>4}: {head}\x1b[4m{}\x1b[0m{}",
                &rest[..cut],
                &rest[cut..]
            ));
        } else {
            out.push(format!("{line:>4}: {code}"));
        }
        // imgform's addition, where Terraform has nothing to say: the caret under the
        // text, and file:line:col for editors to jump to.
        out.push(format!(
            "{}{} {}:{line}:{col}",
            " ".repeat(6 + before.chars().count()),
            "^".repeat(marked),
            f.path.display()
        ));
    }
    if !d.detail.is_empty() {
        out.push(String::new());
        out.extend(wrap(&d.detail, width));
    }
    if let Some(h) = &d.hint {
        out.push(String::new());
        out.extend(wrap(&format!("Hint: {h}"), width));
    }
    out
}

/// Renders one diagnostic as Terraform does: framed (`╷ │ ╵`) with `color`, else after a
/// blank line.
pub fn human(sources: &Sources, d: &Diagnostic, color: bool) -> String {
    if !color {
        let mut text = String::from("\n");
        for l in lines(sources, d, false, width()) {
            text.push_str(&l);
            text.push('\n');
        }
        return text;
    }
    let tint = match d.severity {
        Severity::Error => "\x1b[31m",
        Severity::Warning => "\x1b[33m",
    };
    let mut text = format!("{tint}╷\x1b[0m\n");
    for l in lines(sources, d, true, width().saturating_sub(2)) {
        text.push_str(&format!("{tint}│\x1b[0m {l}\n"));
    }
    text.push_str(&format!("{tint}╵\x1b[0m\n"));
    text
}

/// Renders every diagnostic, one after another, as Terraform lists them.
pub fn human_all(sources: &Sources, diags: &Diagnostics, color: bool) -> String {
    let mut out = String::new();
    for d in &diags.0 {
        out.push_str(&human(sources, d, color));
    }
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// Like [`human_all`], with warnings in Terraform's `-compact-warnings` form: errors in
/// full, then one line per warning (summary and place) and how to see them in full.
pub fn human_compact(sources: &Sources, diags: &Diagnostics, color: bool) -> String {
    let mut out = String::new();
    let mut warnings = Vec::new();
    for d in &diags.0 {
        if d.severity == Severity::Warning {
            let at = d
                .span
                .as_ref()
                .and_then(|s| sources.get(s.file).map(|f| (s, f)))
                .map(|(s, f)| format!("\n  on {}", place(f, s.range.start)))
                .unwrap_or_default();
            warnings.push(format!("- {}{at}", d.summary));
        } else {
            out.push_str(&human(sources, d, color));
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    if !warnings.is_empty() {
        out.push_str(&format!(
            "Warnings:\n\n{}\n\nTo see the full warning notes, run imgform without -compact-warnings.\n\n",
            warnings.join("\n")
        ));
    }
    out
}

fn pos(sources: &Sources, file: usize, byte: usize) -> serde_json::Value {
    let (line, column) = sources
        .get(file)
        .map(|f| f.line_col(byte))
        .unwrap_or((1, 1));
    json!({ "line": line, "column": column, "byte": byte })
}

/// One diagnostic in Terraform's JSON shape.
pub fn json_diag(sources: &Sources, d: &Diagnostic) -> serde_json::Value {
    let mut detail = d.detail.clone();
    if let Some(h) = &d.hint {
        if !detail.is_empty() {
            detail.push_str("\n\n");
        }
        detail.push_str("Hint: ");
        detail.push_str(h);
    }
    let mut v = json!({
        "severity": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
        "summary": d.summary,
        "detail": detail,
    });
    if let Some(span) = &d.span {
        if let Some(f) = sources.get(span.file) {
            let (sl, _) = f.line_col(span.range.start);
            let line_start = f.text[..span.range.start.min(f.text.len())]
                .rfind('\n')
                .map(|i| i + 1)
                .unwrap_or(0);
            let code = f.line_text(sl).to_string();
            v["range"] = json!({
                "filename": f.path.display().to_string(),
                "start": pos(sources, span.file, span.range.start),
                "end": pos(sources, span.file, span.range.end),
            });
            let hs = span.range.start - line_start;
            let he = (span.range.end - line_start).min(code.len()).max(hs);
            v["snippet"] = json!({
                "context": null,
                "code": code,
                "start_line": sl,
                "highlight_start_offset": hs,
                "highlight_end_offset": he,
                "values": [],
            });
        }
    }
    v
}

/// The whole `validate -json` document.
pub fn validate_json(sources: &Sources, diags: &Diagnostics) -> serde_json::Value {
    json!({
        "format_version": "1.0",
        "valid": !diags.has_errors(),
        "error_count": diags.error_count(),
        "warning_count": diags.warning_count(),
        "diagnostics": diags.0.iter().map(|d| json_diag(sources, d)).collect::<Vec<_>>(),
    })
}
