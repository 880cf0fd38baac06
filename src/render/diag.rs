//! Diagnostics as text (file:line:col, the source line with a caret underline, the summary
//! and a hint, via annotate-snippets, the renderer rustc and cargo use) and as Terraform's
//! `validate -json` document.

use crate::diag::{Diagnostic, Diagnostics, Severity, Sources};
use annotate_snippets::{Level, Renderer, Snippet};
use serde_json::json;

/// Renders one diagnostic as text. `color` adds ANSI styles.
pub fn human(sources: &Sources, d: &Diagnostic, color: bool) -> String {
    let level = match d.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    };
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let hint = d.hint.clone();
    let mut footers = Vec::new();
    if !d.detail.is_empty() {
        footers.push(Level::Note.title(&d.detail));
    }
    if let Some(h) = &hint {
        footers.push(Level::Help.title(h));
    }
    let file = d
        .span
        .as_ref()
        .and_then(|s| sources.get(s.file).map(|f| (s, f)));
    let origin = file.map(|(_, f)| f.path.display().to_string());
    let mut msg = level.title(&d.summary);
    if let (Some((span, f)), Some(origin)) = (file, origin.as_deref()) {
        let mut range = span.range.clone();
        range.end = range.end.min(f.text.len());
        range.start = range.start.min(range.end);
        if range.is_empty() && range.end < f.text.len() {
            range.end += f.text[range.end..]
                .chars()
                .next()
                .map(char::len_utf8)
                .unwrap_or(1);
        }
        msg = msg.snippet(
            Snippet::source(&f.text)
                .line_start(1)
                .origin(origin)
                .fold(true)
                .annotation(level.span(range)),
        );
    }
    let out = renderer.render(msg.footers(footers)).to_string();
    let _ = hint;
    out
}

/// Renders every diagnostic, separated by blank lines.
pub fn human_all(sources: &Sources, diags: &Diagnostics, color: bool) -> String {
    let mut out = String::new();
    for d in &diags.0 {
        out.push_str(&human(sources, d, color));
        out.push_str("\n\n");
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
                .map(|s| format!("\n  on {}", sources.location(s)))
                .unwrap_or_default();
            warnings.push(format!("- {}{at}", d.summary));
        } else {
            out.push_str(&human(sources, d, color));
            out.push_str("\n\n");
        }
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
