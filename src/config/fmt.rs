//! The canonical formatter behind `imgform fmt`: two-space indentation per nesting level,
//! `=` aligned within runs of consecutive single-line attributes, at most one blank line in
//! a row, comments kept (re-indented), one newline at the end.
//!
//! hcl-edit round-trips losslessly but does not normalise, so the formatter rebuilds the
//! layout from the parse tree's spans: structure text (keys, labels, values) is taken
//! verbatim from the source, and only the whitespace between structures is rewritten. The
//! text between two structures can only hold whitespace and comments, which keeps the
//! rewrite safe. Applying it twice gives the same result.

use hcl_edit::structure::{Body, Structure};
use hcl_edit::Span as _;
use std::ops::Range;

enum Item {
    Attr {
        key: String,
        value: String,
        comment: Option<String>,
    },
    Block {
        lines: Vec<String>,
    },
    Comment(String),
    Blank,
}

fn is_comment(s: &str) -> bool {
    let t = s.trim_start();
    t.starts_with('#') || t.starts_with("//") || t.starts_with("/*")
}

/// Formats a whole file. Fails only when the file does not parse.
pub fn format_source(src: &str) -> Result<String, hcl_edit::parser::Error> {
    let body = hcl_edit::parser::parse_body(src)?;
    let (items, _) = body_items(src, &body, 0..src.len(), false);
    let mut out = String::new();
    for line in render(&items, 0) {
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// Splits a gap between structures into the comment on the previous structure's line and
/// the following lines (comments and blanks).
fn gap_items(gap: &str, items: &mut Vec<Item>, attach_first: bool) -> Option<String> {
    let segs: Vec<&str> = gap.split('\n').collect();
    let mut trailing = None;
    for (i, seg) in segs.iter().enumerate() {
        let t = seg.trim();
        if i == 0 && attach_first && segs.len() > 1 {
            if !t.is_empty() {
                trailing = Some(t.to_string());
            }
            continue;
        }
        if i == segs.len() - 1 && segs.len() > 1 && t.is_empty() {
            continue;
        }
        if t.is_empty() {
            if segs.len() > 1 {
                items.push(Item::Blank);
            }
        } else if is_comment(t) {
            items.push(Item::Comment(t.to_string()));
        }
    }
    trailing
}

fn body_items(
    src: &str,
    body: &Body,
    region: Range<usize>,
    first_attaches: bool,
) -> (Vec<Item>, Option<String>) {
    let mut items = Vec::new();
    let mut pos = region.start;
    let mut first_comment = None;
    let mut first = true;
    for s in body.iter() {
        let span = s.span().unwrap_or(pos..pos);
        let gap = &src[pos.min(span.start)..span.start];
        let trailing = gap_items(gap, &mut items, !first || first_attaches);
        if let Some(t) = trailing {
            if first {
                first_comment = Some(t);
            } else {
                attach(&mut items, t);
            }
        }
        first = false;
        match s {
            Structure::Attribute(a) => {
                let vspan = a.value.span().unwrap_or(span.clone());
                items.push(Item::Attr {
                    key: a.key.as_str().to_string(),
                    value: src[vspan.clone()].to_string(),
                    comment: None,
                });
                pos = vspan.end.max(span.end);
            }
            Structure::Block(b) => {
                items.push(Item::Block {
                    lines: block_lines(src, b),
                });
                pos = span.end;
            }
        }
    }
    let gap = &src[pos.min(region.end)..region.end];
    if let Some(t) = gap_items(gap, &mut items, !first || first_attaches) {
        attach(&mut items, t);
    }
    (items, first_comment)
}

/// Attaches a same-line comment to the last structure item.
fn attach(items: &mut [Item], comment: String) {
    for it in items.iter_mut().rev() {
        match it {
            Item::Attr { comment: c, .. } => {
                *c = Some(comment);
                return;
            }
            Item::Block { lines } => {
                if let Some(l) = lines.last_mut() {
                    l.push(' ');
                    l.push_str(&comment);
                }
                return;
            }
            _ => {}
        }
    }
}

fn block_lines(src: &str, b: &hcl_edit::structure::Block) -> Vec<String> {
    let span = b.span().unwrap_or(0..0);
    let mut head = b.ident.as_str().to_string();
    let mut after = b.ident.span().map(|s| s.end).unwrap_or(span.start);
    for l in &b.labels {
        if let Some(ls) = l.span() {
            head.push(' ');
            head.push_str(&src[ls.clone()]);
            after = ls.end;
        }
    }
    let open = src[after..span.end]
        .find('{')
        .map(|i| after + i + 1)
        .unwrap_or(span.end);
    let close = if src[..span.end].ends_with('}') {
        span.end - 1
    } else {
        span.end
    };
    let (items, first_comment) = body_items(src, &b.body, open..close, true);
    let inner = render(&items, 1);
    let mut lines = Vec::new();
    if inner.is_empty() && first_comment.is_none() {
        lines.push(format!("{head} {{}}"));
        return lines;
    }
    match first_comment {
        Some(c) => lines.push(format!("{head} {{ {c}")),
        None => lines.push(format!("{head} {{")),
    }
    lines.extend(inner);
    lines.push("}".to_string());
    lines
}

/// Renders items at `depth`, one output line each (block lines are nested).
fn render(items: &[Item], depth: usize) -> Vec<String> {
    let indent = "  ".repeat(depth);
    let mut out: Vec<String> = Vec::new();
    // Width of the key column for each run of single-line attributes.
    let mut widths = vec![0usize; items.len()];
    let mut i = 0;
    while i < items.len() {
        // A run of single-line attributes; a multi-line value (object, heredoc) is not
        // aligned and ends the run, as terraform fmt does (`tags = {`).
        let single = |it: &Item| matches!(it, Item::Attr { value, .. } if !value.contains('\n'));
        if single(&items[i]) {
            let start = i;
            while i < items.len() && single(&items[i]) {
                i += 1;
            }
            let w = items[start..i]
                .iter()
                .map(|it| match it {
                    Item::Attr { key, .. } => key.chars().count(),
                    _ => 0,
                })
                .max()
                .unwrap_or(0);
            for slot in widths.iter_mut().take(i).skip(start) {
                *slot = w;
            }
        } else {
            i += 1;
        }
    }
    for (idx, it) in items.iter().enumerate() {
        match it {
            Item::Blank => {
                if !out.is_empty() && out.last().is_some_and(|l| !l.is_empty()) {
                    out.push(String::new());
                }
            }
            Item::Comment(c) => out.push(format!("{indent}{c}")),
            Item::Attr {
                key,
                value,
                comment,
            } => {
                let pad = widths[idx].saturating_sub(key.chars().count());
                let mut line = format!("{indent}{key}{} = {value}", " ".repeat(pad));
                if let Some(c) = comment {
                    line.push(' ');
                    line.push_str(c);
                }
                out.push(line);
            }
            Item::Block { lines } => {
                for (j, l) in lines.iter().enumerate() {
                    if j == 0 || j == lines.len() - 1 {
                        out.push(format!("{indent}{l}"));
                    } else if l.is_empty() {
                        out.push(String::new());
                    } else {
                        out.push(format!("{indent}{l}"));
                    }
                }
            }
        }
    }
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSY: &str = r#"# Leading comment
resource   "alicloud_image"    "base" {
    image_name = "base"   # trailing
  description="x"
        snapshot_id = var.snap


  # before tags
  tags = {
    env = "prod"
  }
  lifecycle { prevent_destroy = true }
  timeouts {
  }
}
variable "v" {
default = 1
}
"#;

    const WANT: &str = r#"# Leading comment
resource "alicloud_image" "base" {
  image_name  = "base" # trailing
  description = "x"
  snapshot_id = var.snap

  # before tags
  tags = {
    env = "prod"
  }
  lifecycle {
    prevent_destroy = true
  }
  timeouts {}
}
variable "v" {
  default = 1
}
"#;

    #[test]
    fn formats_messy_input() {
        let got = format_source(MESSY).expect("parses");
        assert_eq!(got, WANT);
    }

    #[test]
    fn idempotent_and_keeps_comments() {
        let once = format_source(MESSY).expect("parses");
        let twice = format_source(&once).expect("parses");
        assert_eq!(once, twice);
        for c in ["# Leading comment", "# trailing", "# before tags"] {
            assert!(once.contains(c), "{c} lost");
        }
    }

    #[test]
    fn heredocs_survive() {
        let src = "resource \"a\" \"b\" {\n  build_content = <<EOF\nRUN x\n  RUN y\nEOF\n  name = \"n\"\n}\n";
        let got = format_source(src).expect("parses");
        assert!(got.contains("<<EOF\nRUN x\n  RUN y\nEOF\n"), "{got}");
        assert_eq!(format_source(&got).expect("parses"), got);
    }
}
