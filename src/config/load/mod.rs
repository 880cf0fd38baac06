//! Reads `*.hcl` and `*.tf` files with hcl-edit and decodes them into a [`Config`].
//!
//! Every block, attribute and expression keeps its span. Problems are collected, not
//! returned early: a file that fails to parse is reported and the others are still decoded.
//! Nothing here evaluates an expression beyond the literal meta-arguments Terraform also
//! requires to be literal (`lifecycle`, `provider`, `depends_on`); `timeouts` may also be
//! expressions, kept for evaluation once variables and locals are known.
//!
//! Each kind of block is decoded in its file: `settings` (`imgform`, `terraform`,
//! `provider`), `resources` (`resource`, `data` and their meta-arguments), `calls`
//! (`module`), `moves` (`import`, `moved`, `removed`), `values` (`variable`, `locals`,
//! `output`); this file reads the files, dispatches the blocks and holds the helpers they
//! share.

mod calls;
mod moves;
mod resources;
mod settings;
mod values;
pub use calls::*;
use moves::*;
pub use resources::*;
use settings::*;
use values::*;

use super::*;

use crate::addr::{Mode, ResourceAddr};

use crate::diag::{did_you_mean, Diagnostic, Diagnostics};

use hcl_edit::expr::{Expression, TraversalOperator};

use hcl_edit::structure::{Body as EBody, Structure};

use std::path::{Path, PathBuf};

/// The top-level block types.
const TOP_LEVEL: &[&str] = &[
    "imgform",
    "terraform",
    "provider",
    "variable",
    "locals",
    "resource",
    "data",
    "output",
    "import",
    "moved",
    "removed",
    "module",
];

/// Meta-arguments accepted in every resource block.
pub const META_ARGS: &[&str] = &["count", "for_each", "depends_on", "provider"];

/// Meta-blocks accepted in every resource block.
pub const META_BLOCKS: &[&str] = &["lifecycle", "timeouts"];

/// Lists the `*.hcl` and `*.tf` files of `dir` in name order: Terraform's files are read
/// as they are, in one configuration with imgform's own.
pub fn config_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let p = entry?.path();
        if p.is_file() && p.extension().is_some_and(|e| e == "hcl" || e == "tf") {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

/// Parses one file into `sources`, returning its id and body, or a diagnostic.
pub fn parse_file(
    sources: &mut Sources,
    display: PathBuf,
    text: String,
    diags: &mut Diagnostics,
) -> Option<(usize, EBody)> {
    parse_file_in(sources, display, text, None, diags)
}

/// Like [`parse_file`], for a file of the child module instance `module` (its path and
/// directory), or of the root module with `None`.
pub fn parse_file_in(
    sources: &mut Sources,
    display: PathBuf,
    text: String,
    module: Option<(&str, &Path)>,
    diags: &mut Diagnostics,
) -> Option<(usize, EBody)> {
    let parsed = hcl_edit::parser::parse_body(&text);
    let id = match module {
        Some((path, dir)) => sources.add_in_module(display, text, path, dir),
        None => sources.add(display, text),
    };
    match parsed {
        Ok(body) => Some((id, body)),
        Err(e) => {
            let off = e.location().offset();
            let file = sources.get(id).expect("just added");
            let end = (off + 1).min(file.text.len()).max(off);
            diags.push(
                Diagnostic::error(
                    "Invalid HCL syntax",
                    e.message().to_string(),
                    Some(Span::new(id, off..end)),
                )
                .with_hint(
                    "fix the syntax at the marked position; `imgform fmt` only formats valid files",
                ),
            );
            None
        }
    }
}

/// Loads every `*.hcl` file of `dir`. Paths are shown relative to `display_base`.
pub fn load_dir(dir: &Path) -> (Config, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut cfg = Config::default();
    let files = match config_files(dir) {
        Ok(f) => f,
        Err(e) => {
            diags.push(Diagnostic::error(
                "Cannot read the configuration directory",
                format!("{}: {e}", dir.display()),
                None,
            ));
            return (cfg, diags);
        }
    };
    if files.is_empty() {
        diags.push(
            Diagnostic::error(
                "No configuration files",
                format!("{} contains no *.hcl or *.tf files", dir.display()),
                None,
            )
            .with_hint("run imgform in a directory with .hcl or .tf files, or pass -C DIR"),
        );
    }
    let mut bodies = Vec::new();
    for path in files {
        let display = path
            .file_name()
            .map(PathBuf::from)
            .unwrap_or_else(|| path.clone());
        let display = if dir == Path::new(".") {
            display
        } else {
            dir.join(display)
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                if let Some(b) = parse_file(&mut cfg.sources, display, text, &mut diags) {
                    bodies.push(b);
                }
            }
            Err(e) => diags.push(Diagnostic::error(
                "Cannot read a configuration file",
                format!("{}: {e}", path.display()),
                None,
            )),
        }
    }
    for (file, body) in bodies {
        decode_file(&mut cfg, file, &body, &mut diags);
    }
    (cfg, diags)
}

/// Loads configuration from in-memory files (tests, fuzzing).
pub fn load_str(files: &[(&str, &str)]) -> (Config, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut cfg = Config::default();
    let mut bodies = Vec::new();
    for (name, text) in files {
        if let Some(b) = parse_file(&mut cfg.sources, name.into(), text.to_string(), &mut diags) {
            bodies.push(b);
        }
    }
    for (file, body) in bodies {
        decode_file(&mut cfg, file, &body, &mut diags);
    }
    (cfg, diags)
}

pub(crate) fn span_of(file: usize, node: &impl hcl_edit::Span) -> Span {
    Span::new(file, node.span().unwrap_or(0..0))
}

/// Converts an hcl-edit body into the generic [`Body`].
pub fn convert_body(file: usize, body: &EBody) -> Body {
    let mut out = Body::default();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => out.attrs.push(Attr {
                name: a.key.as_str().to_string(),
                key_span: span_of(file, &a.key),
                expr: Expr {
                    edit: a.value.clone(),
                    span: span_of(file, &a.value),
                },
                span: span_of(file, a),
            }),
            Structure::Block(b) => out.blocks.push(Block {
                ident: b.ident.as_str().to_string(),
                ident_span: span_of(file, &b.ident),
                labels: b
                    .labels
                    .iter()
                    .map(|l| (l.as_str().to_string(), span_of(file, l)))
                    .collect(),
                body: convert_body(file, &b.body),
                span: span_of(file, b),
            }),
        }
    }
    out
}

pub(crate) fn decode_file(cfg: &mut Config, file: usize, body: &EBody, diags: &mut Diagnostics) {
    let body = convert_body(file, body);
    for a in &body.attrs {
        diags.push(
            Diagnostic::error(
                "Unexpected attribute",
                format!("`{}` cannot be set at the top level of a file", a.name),
                Some(a.key_span.clone()),
            )
            .with_hint("top-level items are blocks: resource, data, variable, locals, output, provider, imgform, import, moved, removed"),
        );
    }
    let child = !cfg.sources.module_of(file).is_empty();
    for b in &body.blocks {
        match b.ident.as_str() {
            "imgform" | "provider" | "import" if child => diags.push(
                Diagnostic::error(
                    format!("`{}` block in a child module", b.ident),
                    format!(
                        "a `{}` block belongs in the root module; in a module called by another it has no effect imgform could honour",
                        b.ident
                    ),
                    Some(b.ident_span.clone()),
                )
                .with_hint(match b.ident.as_str() {
                    "provider" => "configure the provider in the root module and pass it with `providers = { alicloud = alicloud.NAME }` in the module block",
                    "import" => "write the import block in the root module with the module address: to = module.NAME.TYPE.NAME",
                    _ => "move it to the root module",
                }),
            ),
            "module" => decode_module_call(cfg, b, diags),
            "imgform" => decode_settings(cfg, b, diags),
            "terraform" => decode_terraform(cfg, b, diags),
            "provider" => decode_provider(cfg, b, diags),
            "variable" => decode_variable(cfg, b, diags),
            "locals" => decode_locals(cfg, b, diags),
            "resource" | "data" => decode_resource(cfg, b, diags),
            "output" => decode_output(cfg, b, diags),
            "import" => decode_import(cfg, b, diags),
            "moved" => decode_moved(cfg, b, diags),
            "removed" => decode_removed(cfg, b, diags),
            other => {
                let mut d = Diagnostic::error(
                    "Unsupported block type",
                    format!("blocks of type `{other}` are not expected here"),
                    Some(b.ident_span.clone()),
                );
                if let Some(s) = did_you_mean(other, TOP_LEVEL.iter().copied()) {
                    d = d.with_hint(format!("did you mean `{s}`?"));
                }
                diags.push(d);
            }
        }
    }
}

fn want_labels(b: &Block, n: usize, what: &str, diags: &mut Diagnostics) -> bool {
    if b.labels.len() == n {
        return true;
    }
    diags.push(
        Diagnostic::error(
            format!("Wrong number of labels on a `{}` block", b.ident),
            format!("a `{}` block takes {n} label(s): {what}", b.ident),
            Some(b.ident_span.clone()),
        )
        .with_hint(format!("write it as `{} {what} {{ ... }}`", b.ident)),
    );
    false
}

/// An HCL identifier, by HCL's own rule (Unicode letters included: `output "café"` is
/// Terraform's as much as `output "cafe"`).
fn is_valid_name(s: &str) -> bool {
    hcl_edit::Ident::try_new(s).is_ok()
}

fn check_name(name: &str, span: &Span, what: &str, diags: &mut Diagnostics) -> bool {
    if is_valid_name(name) {
        return true;
    }
    diags.push(
        Diagnostic::error(
            format!("Invalid {what} name"),
            format!("{name:?} is not a valid name: a name starts with a letter or underscore and contains only letters, digits, underscores and hyphens"),
            Some(span.clone()),
        )
    );
    false
}

fn unexpected(
    what: &str,
    name: &str,
    span: &Span,
    allowed: &[&str],
    diags: &mut Diagnostics,
    kind: &str,
) {
    let mut d = Diagnostic::error(
        format!("Unsupported {kind}"),
        format!("an {kind} named `{name}` is not expected in {what}"),
        Some(span.clone()),
    );
    if let Some(s) = did_you_mean(name, allowed.iter().copied()) {
        d = d.with_hint(format!("did you mean `{s}`?"));
    } else if !allowed.is_empty() {
        d = d.with_hint(format!("expected one of: {}", allowed.join(", ")));
    }
    diags.push(d);
}

/// Checks that `body` only has attributes in `attrs` and blocks in `blocks`.
fn restrict(body: &Body, what: &str, attrs: &[&str], blocks: &[&str], diags: &mut Diagnostics) {
    for a in &body.attrs {
        if !attrs.contains(&a.name.as_str()) {
            unexpected(what, &a.name, &a.key_span, attrs, diags, "argument");
        }
    }
    for b in &body.blocks {
        if !blocks.contains(&b.ident.as_str()) {
            unexpected(what, &b.ident, &b.ident_span, blocks, diags, "block type");
        }
    }
}

/// A literal string (a quoted string without interpolation).
pub(crate) fn literal_str(e: &Expr) -> Option<String> {
    match &e.edit {
        Expression::String(s) => Some(s.value().clone()),
        Expression::StringTemplate(t) => {
            let mut out = String::new();
            for el in t.iter() {
                match el {
                    hcl_edit::template::Element::Literal(l) => out.push_str(l.value()),
                    _ => return None,
                }
            }
            Some(out)
        }
        _ => None,
    }
}

fn literal_bool(a: &Attr, diags: &mut Diagnostics) -> bool {
    match &a.expr.edit {
        Expression::Bool(b) => *b.value(),
        _ => {
            diags.push(Diagnostic::error(
                "Invalid value",
                format!("`{}` must be the literal `true` or `false`", a.name),
                Some(a.expr.span.clone()),
            ));
            false
        }
    }
}

fn want_literal_str(a: &Attr, diags: &mut Diagnostics) -> Option<String> {
    let s = literal_str(&a.expr);
    if s.is_none() {
        diags.push(Diagnostic::error(
            "Invalid value",
            format!("`{}` must be a literal string", a.name),
            Some(a.expr.span.clone()),
        ));
    }
    s
}

/// The source text of a traversal such as `alicloud_image.web["a"]`, whitespace removed.
fn traversal_text(cfg: &Config, e: &Expr) -> Option<String> {
    match &e.edit {
        Expression::Traversal(_) | Expression::Variable(_) => Some(
            cfg.sources
                .text(&e.span)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect(),
        ),
        _ => None,
    }
}

fn want_addr(cfg: &Config, a: &Attr, diags: &mut Diagnostics) -> Option<ResourceAddr> {
    // In a child module, addresses are relative to the module instance.
    let module = cfg.sources.module_of(a.expr.span.file);
    let parsed = traversal_text(cfg, &a.expr)
        .and_then(|t| t.parse::<ResourceAddr>().ok())
        .map(|mut addr| {
            if !module.is_empty() {
                addr.id.module = match addr.id.module.as_str() {
                    "" => module.to_string(),
                    m => format!("{module}.{m}"),
                };
            }
            addr
        });
    if parsed.is_none() {
        diags.push(
            Diagnostic::error(
                "Invalid resource address",
                format!("`{}` must be a resource address such as alicloud_image.base or alicloud_image.web[\"key\"]", a.name),
                Some(a.expr.span.clone()),
            )
            .with_hint("write the address without quotes"),
        );
    }
    parsed
}

fn missing(what: &str, name: &str, span: &Span, diags: &mut Diagnostics) {
    diags.push(
        Diagnostic::error(
            "Missing required argument",
            format!("the argument `{name}` is required in {what}"),
            Some(span.clone()),
        )
        .with_hint(format!("add `{name} = ...` to the block")),
    );
}

/// Provider arguments.
pub const PROVIDER_ATTRS: &[&str] = &[
    "region",
    "profile",
    "endpoint",
    "alias",
    "max_retries",
    "poll_interval",
    "max_poll_interval",
    "signature_version",
    "access_key",
    "secret_key",
    "security_token",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("60m"), Some(3600));
        assert_eq!(parse_duration("1h30m"), Some(5400));
        assert_eq!(parse_duration("45s"), Some(45));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("1.5h"), Some(5400));
        assert_eq!(parse_duration("250ms"), Some(1), "rounded up");
        assert_eq!(
            parse_go_duration("50ms"),
            Some(std::time::Duration::from_millis(50))
        );
        assert_eq!(
            parse_go_duration("1m30s500ms"),
            Some(std::time::Duration::from_millis(90_500))
        );
        assert_eq!(
            parse_go_duration("750us"),
            Some(std::time::Duration::from_micros(750))
        );
        assert_eq!(parse_go_duration("5x"), None);
        assert_eq!(parse_go_duration("ms"), None);
        assert_eq!(parse_duration("1d"), None);
        assert_eq!(parse_duration(""), None);
    }

    #[test]
    fn decodes_every_block_kind() {
        let (cfg, diags) = load_str(&[(
            "main.hcl",
            r#"
imgform { state_path = "x.db" }
provider "alicloud" { region = "cn-hangzhou" }
provider "alicloud" {
  alias  = "sh"
  region = "cn-shanghai"
}
variable "v" { default = "a" }
locals { l = 1 }
resource "alicloud_image" "a" {
  count = 2
  provider = alicloud.sh
  depends_on = [data.alicloud_images.u]
  lifecycle { prevent_destroy = true }
  timeouts { create = "2h" }
  image_name = "x"
}
data "alicloud_images" "u" { name_regex = "^ubuntu" }
output "o" { value = 1 }
import {
  to = alicloud_image.b
  id = "m-1"
}
moved {
  from = alicloud_image.c
  to   = alicloud_image.d
}
removed { from = alicloud_image.e }
"#,
        )]);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(cfg.providers.len(), 2);
        let r = &cfg.resources[&ResourceId::managed("alicloud_image", "a")];
        assert!(r.count.is_some());
        assert_eq!(
            r.provider.as_ref().map(|p| p.0.as_str()),
            Some("alicloud.sh")
        );
        assert!(r.lifecycle.prevent_destroy);
        assert_eq!(r.timeouts.create, Some(7200));
        assert_eq!(r.depends_on[0].target.to_string(), "data.alicloud_images.u");
        assert_eq!(r.body.attrs.len(), 1);
        assert_eq!(cfg.imports[0].to.to_string(), "alicloud_image.b");
        assert_eq!(cfg.moved[0].to.to_string(), "alicloud_image.d");
        assert!(!cfg.removed[0].destroy);
    }
}
