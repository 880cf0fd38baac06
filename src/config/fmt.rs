//! The canonical formatter behind `imgform fmt`, after `terraform fmt`: two-space
//! indentation per nesting level, `=` aligned within runs of consecutive attributes (a value
//! opening a bracket, a comment line or a blank line ends a run), blank lines as written,
//! one-line blocks kept on one line, `"${x}"` unwrapped to `x`, comments kept.
//!
//! hcl-edit round-trips losslessly but does not normalise, so the formatter rebuilds the
//! layout from the parse tree's spans: structure text (keys, labels, values) is taken
//! verbatim from the source, and only the whitespace between structures is rewritten. The
//! text between two structures can only hold whitespace and comments, which keeps the
//! rewrite safe. Applying it twice gives the same result.
//!
//! A formatter that drops a comment destroys what a user wrote, so the result is checked:
//! the comments of the output ([`comments`], outside strings and heredocs) must be those of
//! the input, in order, or the file is refused ([`FmtError::WouldLose`]) and left as it is.

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

/// Why a file was not formatted.
#[derive(Debug)]
pub enum FmtError {
    /// It does not parse.
    Parse(hcl_edit::parser::Error),
    /// Formatting would drop or change this comment (1-based line of the input): the file
    /// is left as it is.
    WouldLose {
        /// Where the comment is.
        line: usize,
        /// The comment.
        comment: String,
    },
}

impl std::fmt::Display for FmtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FmtError::Parse(e) => write!(f, "{}", e.message()),
            FmtError::WouldLose { line, comment } => write!(
                f,
                "formatting would lose the comment on line {line} ({comment:?}); the file is left as it is"
            ),
        }
    }
}

/// Formats a whole file. Fails when it does not parse, and rather than lose a comment.
pub fn format_source(src: &str) -> Result<String, FmtError> {
    let body = hcl_edit::parser::parse_body(src).map_err(FmtError::Parse)?;
    let (items, _) = body_items(src, &body, 0..src.len(), false);
    let mut out = String::new();
    for line in render(&items, 0) {
        out.push_str(&line);
        out.push('\n');
    }
    match lost_comment(src, &out) {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// The first comment of `src` that `out` does not have in the same place of the order.
fn lost_comment(src: &str, out: &str) -> Option<FmtError> {
    let (before, after) = (comments(src), comments(out));
    let i = (0..before.len().max(after.len()))
        .find(|&i| before.get(i).map(|c| c.1) != after.get(i).map(|c| c.1))?;
    let (at, text) = before.get(i).or(before.last()).copied().unwrap_or((0, ""));
    Some(FmtError::WouldLose {
        line: src[..at].matches('\n').count() + 1,
        comment: text.to_string(),
    })
}

/// The comments of HCL source in order, with their byte offsets: `#` and `//` to the end
/// of the line, `/* */` whole; nothing inside a quoted string or a heredoc (a template's
/// `${ }` is code, and its comments count).
pub fn comments(src: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    scan_code(src, 0, false, &mut out);
    out
}

/// Scans code from `at`; inside a template (`nested`) it ends after the `}` that closes
/// it. Returns where it stopped.
fn scan_code<'a>(
    src: &'a str,
    mut at: usize,
    nested: bool,
    out: &mut Vec<(usize, &'a str)>,
) -> usize {
    let b = src.as_bytes();
    let mut depth = 0usize;
    while at < b.len() {
        match b[at] {
            b'#' => at = line_comment(src, at, out),
            b'/' if b.get(at + 1) == Some(&b'/') => at = line_comment(src, at, out),
            b'/' if b.get(at + 1) == Some(&b'*') => {
                let end = src[at + 2..]
                    .find("*/")
                    .map(|i| at + 2 + i + 2)
                    .unwrap_or(b.len());
                out.push((at, &src[at..end]));
                at = end;
            }
            b'"' => at = scan_string(src, at + 1, out),
            b'<' if b.get(at + 1) == Some(&b'<') => at = skip_heredoc(src, at),
            b'{' => {
                depth += 1;
                at += 1;
            }
            b'}' if nested && depth == 0 => return at + 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                at += 1;
            }
            _ => at += 1,
        }
    }
    at
}

fn line_comment<'a>(src: &'a str, at: usize, out: &mut Vec<(usize, &'a str)>) -> usize {
    let end = src[at..].find('\n').map(|i| at + i).unwrap_or(src.len());
    out.push((at, src[at..end].trim_end()));
    end
}

/// Skips a quoted string from after its `"`; its templates (`${ }`, `%{ }`, not the
/// escaped `$${`) are scanned as code.
fn scan_string<'a>(src: &'a str, mut at: usize, out: &mut Vec<(usize, &'a str)>) -> usize {
    let b = src.as_bytes();
    while at < b.len() {
        match b[at] {
            b'\\' => at += 2,
            b'"' | b'\n' => return at + 1,
            c @ (b'$' | b'%') if b.get(at + 1) == Some(&c) => at += 2,
            b'$' | b'%' if b.get(at + 1) == Some(&b'{') => {
                at = scan_code(src, at + 2, true, out);
            }
            _ => at += 1,
        }
    }
    at
}

/// Skips a heredoc (`<<EOF` or `<<-EOF` to the line that is the marker alone); a `<<`
/// that starts none is passed over.
fn skip_heredoc(src: &str, at: usize) -> usize {
    let rest = &src[at + 2..];
    let rest = rest.strip_prefix('-').unwrap_or(rest);
    let marker = &rest[..rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len())];
    let start = src[at..].find('\n').map(|i| at + i + 1);
    let (false, Some(mut line)) = (marker.is_empty(), start) else {
        return at + 2;
    };
    while line < src.len() {
        let end = src[line..]
            .find('\n')
            .map(|i| line + i)
            .unwrap_or(src.len());
        if src[line..end].trim() == marker {
            return end;
        }
        line = end + 1;
    }
    src.len()
}

/// Splits a gap between structures (whitespace and comments only) into the comment on
/// the previous structure's line and the following lines (comments and blanks). A `/* */`
/// comment is kept whole, its inner lines as written.
fn gap_items(gap: &str, items: &mut Vec<Item>, attach_first: bool) -> Option<String> {
    // The gap's lines, each with the comments that start on it (a newline inside a block
    // comment is the comment's own).
    let mut lines: Vec<Vec<&str>> = vec![vec![]];
    let found = comments(gap);
    let mut next = found.iter().peekable();
    let mut inside_until = 0;
    for (i, c) in gap.char_indices() {
        if let Some(&&(at, text)) = next.peek().filter(|(at, _)| *at == i) {
            lines.last_mut().expect("one line").push(text);
            inside_until = at + text.len();
            next.next();
        }
        if c == '\n' && i >= inside_until {
            lines.push(vec![]);
        }
    }
    let n = lines.len();
    let mut trailing = None;
    for (i, line) in lines.iter().enumerate() {
        let text = line.join(" ");
        if i == 0 && attach_first && n > 1 {
            if !text.is_empty() {
                trailing = Some(text);
            }
            continue;
        }
        if i == n - 1 && n > 1 && text.is_empty() {
            continue;
        }
        if text.is_empty() {
            if n > 1 {
                items.push(Item::Blank);
            }
        } else {
            items.push(Item::Comment(text));
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
                let (key, value) = attr_text(src, a, &vspan);
                items.push(Item::Attr {
                    key,
                    value,
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
        if first {
            // A block with nothing but a comment on its opening line: `t { # note`.
            first_comment = Some(t);
        } else {
            attach(&mut items, t);
        }
    }
    (items, first_comment)
}

/// An attribute's key and value as written, with the comments between them: `d /* y */`
/// and `/* x */ 3` (the `=` is the first outside a comment).
fn attr_text(
    src: &str,
    a: &hcl_edit::structure::Attribute,
    vspan: &Range<usize>,
) -> (String, String) {
    let key = a.key.as_str().to_string();
    let value = unwrapped(src, &a.value).unwrap_or_else(|| src[vspan.clone()].to_string());
    let Some(kspan) = a.key.span() else {
        return (key, value);
    };
    let between = &src[kspan.end.min(vspan.start)..vspan.start];
    let found = comments(between);
    let eq = between
        .char_indices()
        .find(|&(i, c)| c == '=' && !found.iter().any(|(at, t)| *at <= i && i < at + t.len()));
    let Some((eq, _)) = eq else {
        return (key, value);
    };
    let (before, after) = (between[..eq].trim(), between[eq + 1..].trim());
    (
        if before.is_empty() {
            key
        } else {
            format!("{key} {before}")
        },
        if after.is_empty() {
            value
        } else {
            format!("{after} {value}")
        },
    )
}

/// The expression of a string that is one interpolation and nothing else, as terraform fmt
/// writes it: `"${var.x}"` is `var.x` (strip markers go with the quotes).
fn unwrapped(src: &str, v: &hcl_edit::expr::Expression) -> Option<String> {
    let t = v.as_string_template()?;
    let mut parts = t.iter();
    let (Some(hcl_edit::template::Element::Interpolation(i)), None) = (parts.next(), parts.next())
    else {
        return None;
    };
    let inner = src.get(i.expr.span()?)?.trim();
    (!comments(inner).iter().any(|_| true) && !inner.contains('\n')).then(|| inner.to_string())
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
            // An identifier label is quoted, as terraform fmt writes it (`variable v` is
            // `variable "v"`).
            let text = &src[ls.clone()];
            if text.starts_with('"') {
                head.push_str(text);
            } else {
                head.push('"');
                head.push_str(text);
                head.push('"');
            }
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
    let one_line = !src[span.clone()].contains('\n');
    // As terraform fmt: a block written on one line stays on one line (`w { a = 1 }`), an
    // empty one keeps its line break (`v {` / `}`) or has none (`t {}`).
    match (items.as_slice(), one_line, &first_comment) {
        (
            [Item::Attr {
                key,
                value,
                comment: None,
            }],
            true,
            None,
        ) => {
            return vec![format!("{head} {{ {key} = {value} }}")];
        }
        ([Item::Comment(c)], true, None) => return vec![format!("{head} {{ {c} }}")],
        _ => {}
    }
    let inner = render(&items, 1);
    let mut lines = Vec::new();
    if inner.is_empty() && first_comment.is_none() {
        if one_line {
            lines.push(format!("{head} {{}}"));
        } else {
            lines.push(format!("{head} {{"));
            lines.push("}".to_string());
        }
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
        // A run of single-line attributes, as terraform fmt aligns them: a value that opens
        // a bracket on its line (`tags = {`) is not aligned and ends the run; a heredoc's
        // lines are the value's own and do not.
        let single = |it: &Item| matches!(it, Item::Attr { value, .. } if !value.contains('\n') || value.starts_with("<<"));
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
            // Blank lines stay as written, as terraform fmt leaves them.
            Item::Blank => out.push(String::new()),
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

    /// What `terraform fmt` 1.11 makes of `MESSY`.
    const WANT: &str = r#"# Leading comment
resource "alicloud_image" "base" {
  image_name  = "base" # trailing
  description = "x"
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
    fn a_multi_line_block_comment_is_kept_whole() {
        let src = "/* first\n   second\n   third */\nresource \"a\" \"b\" {\n  /* inner\n     lines */\n  x = 1\n}\n";
        let got = format_source(src).expect("formats");
        assert_eq!(
            got, src,
            "nothing after the comment's first line is lost or moved"
        );
    }

    #[test]
    fn a_comment_between_key_and_value_stays_there() {
        let src = "resource \"a\" \"b\" {\n  c = /* x */ 3\n  d /* y */ = 4\n}\n";
        let got = format_source(src).expect("formats");
        // terraform fmt's output: the key column holds the key's own comment.
        assert_eq!(
            got,
            "resource \"a\" \"b\" {\n  c         = /* x */ 3\n  d /* y */ = 4\n}\n"
        );
    }

    #[test]
    fn a_comment_inside_an_empty_block_stays() {
        for src in [
            "t { # c\n}\n",
            "t {\n  # only\n}\n",
            "t {\n  /* only */\n}\n",
        ] {
            assert_eq!(format_source(src).expect("formats"), src);
        }
    }

    #[test]
    fn comments_are_found_outside_strings_and_heredocs_only() {
        let src = "a = \"# not // one ${x /* one */}\" # two\nb = <<EOT\n# not\nEOT\n// three\nc = \"$${x} // not\"\n";
        let found: Vec<&str> = comments(src).into_iter().map(|c| c.1).collect();
        assert_eq!(found, ["/* one */", "# two", "// three"]);
    }

    #[test]
    fn a_result_missing_a_comment_is_refused() {
        assert!(lost_comment("a = 1 # keep\n", "a = 1\n")
            .is_some_and(|e| matches!(e, FmtError::WouldLose { line: 1, .. })));
        assert!(lost_comment("a = 1 # keep\n", "a = 1 # keep\n").is_none());
    }

    #[test]
    fn heredocs_survive() {
        let src = "resource \"a\" \"b\" {\n  build_content = <<EOF\nRUN x\n  RUN y\nEOF\n  name = \"n\"\n}\n";
        let got = format_source(src).expect("parses");
        assert!(got.contains("<<EOF\nRUN x\n  RUN y\nEOF\n"), "{got}");
        assert_eq!(format_source(&got).expect("parses"), got);
    }
}
