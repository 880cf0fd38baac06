//! Reads `*.hcl` and `*.tf` files with hcl-edit and decodes them into a [`Config`].
//!
//! Every block, attribute and expression keeps its span. Problems are collected, not
//! returned early: a file that fails to parse is reported and the others are still decoded.
//! Nothing here evaluates an expression beyond the literal meta-arguments Terraform also
//! requires to be literal (`lifecycle`, `provider`, `depends_on`); `timeouts` may also be
//! expressions, kept for evaluation once variables and locals are known.

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

fn is_valid_name(s: &str) -> bool {
    let mut c = s.chars();
    matches!(c.next(), Some(f) if f.is_ascii_alphabetic() || f == '_')
        && c.all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-')
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

fn decode_settings(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    want_labels(b, 0, "", diags);
    restrict(
        &b.body,
        "the imgform block",
        &["state_path", "allow_files_outside", "history_retention"],
        &["backend"],
        diags,
    );
    if let Some(a) = b.body.attr("history_retention") {
        let n = match &a.expr.edit {
            Expression::Number(n) => n.as_u64().filter(|n| (1..=100_000).contains(n)),
            _ => None,
        };
        match n {
            Some(n) => cfg.settings.history_retention = Some(n as usize),
            None => diags.push(
                Diagnostic::error(
                    "Invalid value",
                    "`history_retention` must be a whole number from 1 to 100000",
                    Some(a.expr.span.clone()),
                )
                .with_hint("the number of applies whose state the history keeps, for `imgform state pull --serial N`"),
            ),
        }
    }
    if let Some(a) = b.body.attr("allow_files_outside") {
        let items: Option<Vec<(String, Span)>> = match &a.expr.edit {
            Expression::Array(arr) => arr
                .iter()
                .map(|e| {
                    let ex = Expr {
                        span: Span::new(a.expr.span.file, hcl_edit::Span::span(e).unwrap_or(0..0)),
                        edit: e.clone(),
                    };
                    literal_str(&ex).map(|s| (s, ex.span))
                })
                .collect(),
            _ => None,
        };
        match items {
            Some(v) => cfg.settings.allow_files_outside = v,
            None => diags.push(Diagnostic::error(
                "Invalid value",
                "`allow_files_outside` must be a list of literal directory paths",
                Some(a.expr.span.clone()),
            )),
        }
    }
    if let Some(a) = b.body.attr("state_path") {
        if want_literal_str(a, diags).is_some() {
            cfg.settings.state_path = Some(a.clone());
        }
    }
    for bb in b.body.blocks.iter().filter(|x| x.ident == "backend") {
        if bb.labels.first().map(|l| l.0.as_str()) != Some("pg") || bb.labels.len() != 1 {
            diags.push(
                Diagnostic::error("Unsupported backend", "imgform keeps state in a local SQLite file, or in PostgreSQL with backend \"pg\"", Some(bb.span.clone()))
                    .with_hint("write backend \"pg\" { conn_str = \"postgres://...\" }"),
            );
            continue;
        }
        decode_pg_backend(cfg, bb, diags);
    }
}

fn decode_pg_backend(cfg: &mut Config, bb: &Block, diags: &mut Diagnostics) {
    restrict(
        &bb.body,
        "the pg backend",
        &["conn_str", "schema_name"],
        &[],
        diags,
    );
    let conn_str = bb
        .body
        .attr("conn_str")
        .and_then(|a| want_literal_str(a, diags));
    let schema_name = bb
        .body
        .attr("schema_name")
        .and_then(|a| want_literal_str(a, diags))
        .unwrap_or_else(|| "imgform".into());
    cfg.settings.backend = Some(PgBackend {
        conn_str,
        schema_name,
    });
}

/// Terraform's `terraform {}` block: `required_version` is accepted (imgform is not
/// Terraform: the constraint is not checked), `required_providers` may name the alicloud
/// provider under any source and version, `backend "pg"` is imgform's PostgreSQL backend.
fn decode_terraform(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    want_labels(b, 0, "", diags);
    restrict(
        &b.body,
        "the terraform block",
        &["required_version", "experiments"],
        &["required_providers", "backend", "cloud"],
        diags,
    );
    for rp in b
        .body
        .blocks
        .iter()
        .filter(|x| x.ident == "required_providers")
    {
        for a in &rp.body.attrs {
            let source = match &a.expr.edit {
                Expression::Object(o) => o.iter().find_map(|(k, v)| {
                    let key = match k {
                        hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                        hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) => {
                            s.value().clone()
                        }
                        _ => return None,
                    };
                    match (key.as_str(), v.expr()) {
                        ("source", Expression::String(s)) => Some(s.value().clone()),
                        _ => None,
                    }
                }),
                _ => None,
            };
            let alicloud = a.name == "alicloud"
                && source
                    .as_deref()
                    .is_none_or(|s| s.to_ascii_lowercase().rsplit('/').next() == Some("alicloud"));
            if !alicloud {
                diags.push(
                    Diagnostic::error(
                        "Unsupported provider",
                        format!(
                            "imgform manages Alibaba Cloud images with its built-in alicloud provider; `{}`{} is not one it has",
                            a.name,
                            source.map(|s| format!(" ({s})")).unwrap_or_default()
                        ),
                        Some(a.key_span.clone()),
                    )
                    .with_hint("keep the images in their own configuration, and the rest with Terraform"),
                );
            }
        }
    }
    let child = !cfg.sources.module_of(b.span.file).is_empty();
    for bb in b.body.blocks.iter().filter(|x| x.ident == "backend") {
        if child {
            diags.push(
                Diagnostic::warning(
                    "Backend configuration ignored",
                    "a backend block in a child module has no effect: the state's backend is the root module's",
                    Some(bb.span.clone()),
                )
                .with_hint("remove the backend block from the module"),
            );
            continue;
        }
        match bb.labels.first().map(|l| l.0.as_str()) {
            Some("pg") if bb.labels.len() == 1 => decode_pg_backend(cfg, bb, diags),
            other => diags.push(
                Diagnostic::error(
                    "Unsupported backend",
                    format!(
                        "imgform keeps its state in a local SQLite file, or in PostgreSQL with backend \"pg\"; backend {} is not supported",
                        other.map(|o| format!("{o:?}")).unwrap_or_default()
                    ),
                    Some(bb.span.clone()),
                )
                .with_hint("remove the backend block to keep the state in a local file, or use backend \"pg\" { conn_str = \"postgres://...\" } for a team; then adopt the images Terraform manages with `imgform import`"),
            ),
        }
    }
    for c in b.body.blocks.iter().filter(|x| x.ident == "cloud") {
        diags.push(
            Diagnostic::error(
                "Unsupported backend",
                "imgform does not keep state in HCP Terraform (a `cloud` block)",
                Some(c.span.clone()),
            )
            .with_hint("remove the cloud block to keep the state in a local file, or use backend \"pg\" for a team"),
        );
    }
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

fn decode_provider(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    if !want_labels(b, 1, "\"alicloud\"", diags) {
        return;
    }
    let (name, lspan) = &b.labels[0];
    if name != "alicloud" {
        let mut d = Diagnostic::error(
            "Unsupported provider",
            format!("imgform manages Alibaba Cloud only; provider {name:?} is not supported"),
            Some(lspan.clone()),
        );
        if did_you_mean(name, ["alicloud"]).is_some() {
            d = d.with_hint("did you mean \"alicloud\"?");
        }
        diags.push(d);
        return;
    }
    restrict(&b.body, "a provider block", PROVIDER_ATTRS, &[], diags);
    let alias = b
        .body
        .attr("alias")
        .and_then(|a| want_literal_str(a, diags));
    for secret in ["access_key", "secret_key", "security_token"] {
        if let Some(a) = b.body.attr(secret) {
            diags.push(
                Diagnostic::warning(
                    "Credentials in configuration",
                    format!("`{secret}` is set in the provider block; credentials in files end up in version control"),
                    Some(a.key_span.clone()),
                )
                .with_hint("use ALIBABA_CLOUD_ACCESS_KEY_ID / ALIBABA_CLOUD_ACCESS_KEY_SECRET or an aliyun CLI profile instead"),
            );
        }
    }
    let p = Provider {
        alias,
        body: Body {
            attrs: b
                .body
                .attrs
                .iter()
                .filter(|a| a.name != "alias")
                .cloned()
                .collect(),
            blocks: vec![],
        },
        span: b.span.clone(),
    };
    let key = p.key();
    if let Some(prev) = cfg.providers.get(&key) {
        diags.push(
            Diagnostic::error(
                "Duplicate provider configuration",
                format!(
                    "provider {key} is already configured at {}",
                    cfg.sources.location(&prev.span)
                ),
                Some(b.span.clone()),
            )
            .with_hint("give each extra provider block a distinct `alias`"),
        );
        return;
    }
    cfg.providers.insert(key, p);
}

fn decode_variable(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    if !want_labels(b, 1, "\"NAME\"", diags) {
        return;
    }
    let (name, lspan) = &b.labels[0];
    if !check_name(name, lspan, "variable", diags) {
        return;
    }
    restrict(
        &b.body,
        "a variable block",
        &["type", "default", "description", "sensitive", "nullable"],
        &["validation"],
        diags,
    );
    let mut v = Variable {
        name: name.clone(),
        ty: b.body.attr("type").map(|a| a.expr.clone()),
        default: b.body.attr("default").map(|a| a.expr.clone()),
        description: b
            .body
            .attr("description")
            .and_then(|a| want_literal_str(a, diags)),
        sensitive: b
            .body
            .attr("sensitive")
            .map(|a| literal_bool(a, diags))
            .unwrap_or(false),
        nullable: b
            .body
            .attr("nullable")
            .map(|a| literal_bool(a, diags))
            .unwrap_or(true),
        validations: vec![],
        span: b.span.clone(),
    };
    for vb in b.body.blocks.iter().filter(|x| x.ident == "validation") {
        restrict(
            &vb.body,
            "a validation block",
            &["condition", "error_message"],
            &[],
            diags,
        );
        match (vb.body.attr("condition"), vb.body.attr("error_message")) {
            (Some(c), Some(m)) => v.validations.push(Validation {
                condition: c.expr.clone(),
                error_message: m.expr.clone(),
            }),
            (None, _) => missing("a validation block", "condition", &vb.span, diags),
            (_, None) => missing("a validation block", "error_message", &vb.span, diags),
        }
    }
    let module = cfg.sources.module_of(b.span.file).to_string();
    let prev = if module.is_empty() {
        cfg.variables.get(name).map(|p| p.span.clone())
    } else {
        cfg.module_vars
            .get(&scoped(&module, "var", name))
            .map(|p| p.var.span.clone())
    };
    if let Some(prev) = prev {
        diags.push(Diagnostic::error(
            "Duplicate variable declaration",
            format!(
                "variable {name:?} is already declared at {}",
                cfg.sources.location(&prev)
            ),
            Some(lspan.clone()),
        ));
        return;
    }
    if module.is_empty() {
        cfg.variables.insert(name.clone(), v);
    } else {
        cfg.module_vars.insert(
            scoped(&module, "var", name),
            ModuleVar {
                var: v,
                input: None,
                instance: module,
            },
        );
    }
}

fn decode_locals(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    want_labels(b, 0, "", diags);
    for bb in &b.body.blocks {
        unexpected(
            "a locals block",
            &bb.ident,
            &bb.ident_span,
            &[],
            diags,
            "block type",
        );
    }
    let module = cfg.sources.module_of(b.span.file).to_string();
    for a in &b.body.attrs {
        let key = scoped(&module, "local", &a.name);
        if let Some(prev) = cfg.locals.get(&key) {
            diags.push(Diagnostic::error(
                "Duplicate local value definition",
                format!(
                    "local.{} is already defined at {}",
                    a.name,
                    cfg.sources.location(&prev.span)
                ),
                Some(a.key_span.clone()),
            ));
            continue;
        }
        cfg.locals.insert(key, a.clone());
    }
}

/// Parses a duration as Terraform writes them (Go's `time.ParseDuration`): a sequence of
/// decimal numbers, each with a unit — `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h` — such as
/// `"60m"`, `"1h30m"`, `"1.5h"` or `"250ms"`. `None` for anything else, including a bare
/// number: a duration with no unit is ambiguous.
pub fn parse_go_duration(s: &str) -> Option<std::time::Duration> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut nanos: f64 = 0.0;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let num: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let (unit, len) = [
            ("ns", 1.0),
            ("us", 1e3),
            ("\u{b5}s", 1e3),
            ("\u{3bc}s", 1e3),
            ("ms", 1e6),
            ("s", 1e9),
            ("m", 60e9),
            ("h", 3600e9),
        ]
        .iter()
        .find(|(u, _)| rest.starts_with(u))
        .map(|(u, f)| (*f, u.len()))?;
        nanos += num * unit;
        rest = &rest[len..];
    }
    if !nanos.is_finite() || nanos > 1e18 {
        return None;
    }
    Some(std::time::Duration::from_nanos(nanos.round() as u64))
}

/// A duration in whole seconds, rounded up (timeouts, lock waits).
pub fn parse_duration(s: &str) -> Option<u64> {
    parse_go_duration(s).map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

fn decode_depends_on(cfg: &Config, a: &Attr, diags: &mut Diagnostics) -> Vec<DependsOn> {
    let mut out = Vec::new();
    let Expression::Array(arr) = &a.expr.edit else {
        diags.push(Diagnostic::error(
            "Invalid depends_on",
            "`depends_on` must be a list of resource or data source references",
            Some(a.expr.span.clone()),
        ));
        return out;
    };
    for el in arr.iter() {
        let e = Expr {
            edit: el.clone(),
            span: span_of(a.expr.span.file, el),
        };
        let module = cfg.sources.module_of(a.expr.span.file);
        let parsed = traversal_text(cfg, &e).and_then(|t| {
            // `alicloud_image.x.id` is accepted as in Terraform: only TYPE.NAME matters.
            let parts: Vec<&str> = t.split('.').collect();
            let addr = match parts.as_slice() {
                ["module", name] if is_valid_name(name) => {
                    return Some(DepTarget::Module(scoped(module, "module", name)))
                }
                ["module", ..] => return None,
                ["data", kind, name, ..] => format!("data.{kind}.{name}"),
                [kind, name, ..] => format!("{kind}.{name}"),
                _ => return None,
            };
            let addr = addr.parse::<ResourceAddr>().ok()?;
            Some(DepTarget::Resource(addr.id.in_module(module)))
        });
        match parsed {
            Some(target) => out.push(DependsOn {
                target,
                span: e.span.clone(),
            }),
            None => diags.push(
                Diagnostic::error(
                    "Invalid depends_on reference",
                    "each element of `depends_on` must name a resource, data source or module, such as alicloud_image.base or module.network",
                    Some(e.span.clone()),
                )
                .with_hint("write the reference without quotes"),
            ),
        }
    }
    out
}

fn decode_resource(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    if !want_labels(b, 2, "\"TYPE\" \"NAME\"", diags) {
        return;
    }
    let mode = if b.ident == "data" {
        Mode::Data
    } else {
        Mode::Managed
    };
    let (kind, tspan) = &b.labels[0];
    let (name, nspan) = &b.labels[1];
    if !check_name(name, nspan, "resource", diags) {
        return;
    }
    let id = match mode {
        Mode::Managed => ResourceId::managed(kind, name),
        Mode::Data => ResourceId::data(kind, name),
    }
    .in_module(cfg.sources.module_of(b.span.file));
    let mut r = Resource {
        id: id.clone(),
        span: b.span.clone(),
        type_span: tspan.clone(),
        count: None,
        for_each: None,
        depends_on: vec![],
        provider: None,
        lifecycle: Lifecycle::default(),
        timeouts: Timeouts::default(),
        timeout_exprs: Vec::new(),
        dynamic_timeouts: None,
        body: Body::default(),
    };
    for a in &b.body.attrs {
        match a.name.as_str() {
            "count" => r.count = Some(a.expr.clone()),
            "for_each" => r.for_each = Some(a.expr.clone()),
            "depends_on" => r.depends_on = decode_depends_on(cfg, a, diags),
            "provider" => match traversal_text(cfg, &a.expr) {
                Some(t) => r.provider = Some((t, a.expr.span.clone())),
                None => diags.push(
                    Diagnostic::error(
                        "Invalid provider reference",
                        "`provider` must be a reference such as alicloud.shanghai",
                        Some(a.expr.span.clone()),
                    )
                    .with_hint("write it without quotes: provider = alicloud.shanghai"),
                ),
            },
            _ => r.body.attrs.push(a.clone()),
        }
    }
    if r.count.is_some() && r.for_each.is_some() {
        diags.push(
            Diagnostic::error(
                "Invalid combination of count and for_each",
                "`count` and `for_each` cannot both be set on one resource",
                r.for_each.as_ref().map(|e| e.span.clone()),
            )
            .with_hint("keep one of them"),
        );
    }
    for bb in &b.body.blocks {
        match bb.ident.as_str() {
            "lifecycle" if mode == Mode::Managed => decode_lifecycle(&mut r.lifecycle, bb, diags),
            "timeouts" if mode == Mode::Managed => {
                decode_timeouts(&mut r.timeouts, &mut r.timeout_exprs, bb, diags)
            }
            "dynamic"
                if mode == Mode::Managed
                    && bb.labels.first().is_some_and(|l| l.0 == "timeouts") =>
            {
                r.dynamic_timeouts = Some(bb.clone())
            }
            _ => r.body.blocks.push(bb.clone()),
        }
    }
    if let Some(prev) = cfg.resources.get(&id) {
        diags.push(Diagnostic::error(
            "Duplicate resource configuration",
            format!(
                "{id} is already declared at {}",
                cfg.sources.location(&prev.span)
            ),
            Some(nspan.clone()),
        ));
        return;
    }
    cfg.resources.insert(id, r);
}

fn decode_lifecycle(l: &mut Lifecycle, b: &Block, diags: &mut Diagnostics) {
    restrict(
        &b.body,
        "a lifecycle block",
        &["prevent_destroy", "create_before_destroy", "ignore_changes"],
        &[],
        diags,
    );
    for a in &b.body.attrs {
        match a.name.as_str() {
            "prevent_destroy" => l.prevent_destroy = literal_bool(a, diags),
            "create_before_destroy" => l.create_before_destroy = literal_bool(a, diags),
            "ignore_changes" => match &a.expr.edit {
                Expression::Variable(v) if v.as_str() == "all" => {
                    l.ignore_changes = vec![("*".to_string(), a.expr.span.clone())]
                }
                Expression::Array(arr) => {
                    for el in arr.iter() {
                        let sp = span_of(a.expr.span.file, el);
                        let name = match el {
                            Expression::Variable(v) => Some(v.as_str().to_string()),
                            Expression::String(s) => Some(s.value().clone()),
                            Expression::Traversal(t) => match (&t.expr, t.operators.first()) {
                                (Expression::Variable(v), _) => Some(v.as_str().to_string()),
                                _ => None,
                            },
                            _ => None,
                        };
                        match name {
                            Some(n) => l.ignore_changes.push((n, sp)),
                            None => diags.push(Diagnostic::error(
                                "Invalid ignore_changes entry",
                                "each entry of `ignore_changes` must be an attribute name",
                                Some(sp),
                            )),
                        }
                    }
                }
                _ => diags.push(
                    Diagnostic::error(
                        "Invalid ignore_changes",
                        "`ignore_changes` must be a list of attribute names or the keyword `all`",
                        Some(a.expr.span.clone()),
                    )
                    .with_hint("for example: ignore_changes = [tags, description]"),
                ),
            },
            _ => {}
        }
    }
}

fn decode_timeouts(
    t: &mut Timeouts,
    exprs: &mut Vec<(String, Expr)>,
    b: &Block,
    diags: &mut Diagnostics,
) {
    restrict(
        &b.body,
        "a timeouts block",
        &["create", "update", "delete"],
        &[],
        diags,
    );
    for a in &b.body.attrs {
        let Some(s) = literal_str(&a.expr) else {
            // `create = var.build_timeout`: evaluated once variables and locals are known.
            exprs.push((a.name.clone(), a.expr.clone()));
            continue;
        };
        set_timeout(t, &a.name, &s, &a.expr.span, diags);
    }
}

/// Sets one timeout from its text, or reports an invalid duration at `span`.
pub(crate) fn set_timeout(
    t: &mut Timeouts,
    name: &str,
    s: &str,
    span: &Span,
    diags: &mut Diagnostics,
) {
    let Some(secs) = parse_duration(s) else {
        diags.push(
            Diagnostic::error(
                "Invalid duration",
                format!("{s:?} is not a duration"),
                Some(span.clone()),
            )
            .with_hint("write a duration such as \"60m\", \"2h\" or \"1h30m\""),
        );
        return;
    };
    match name {
        "create" => t.create = Some(secs),
        "update" => t.update = Some(secs),
        "delete" => t.delete = Some(secs),
        _ => {}
    }
}

fn decode_output(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    if !want_labels(b, 1, "\"NAME\"", diags) {
        return;
    }
    let (name, lspan) = &b.labels[0];
    if !check_name(name, lspan, "output", diags) {
        return;
    }
    restrict(
        &b.body,
        "an output block",
        &["value", "description", "sensitive", "depends_on"],
        &[],
        diags,
    );
    let Some(value) = b.body.attr("value") else {
        missing("an output block", "value", &b.span, diags);
        return;
    };
    let o = Output {
        name: name.clone(),
        value: value.expr.clone(),
        description: b
            .body
            .attr("description")
            .and_then(|a| want_literal_str(a, diags)),
        sensitive: b
            .body
            .attr("sensitive")
            .map(|a| literal_bool(a, diags))
            .unwrap_or(false),
        depends_on: b
            .body
            .attr("depends_on")
            .map(|a| decode_depends_on(cfg, a, diags))
            .unwrap_or_default(),
        span: b.span.clone(),
    };
    let module = cfg.sources.module_of(b.span.file).to_string();
    let map = if module.is_empty() {
        &mut cfg.outputs
    } else {
        &mut cfg.module_outputs
    };
    let key = if module.is_empty() {
        name.clone()
    } else {
        scoped(&module, "output", name)
    };
    if let Some(prev) = map.get(&key) {
        let at = cfg.sources.location(&prev.span);
        diags.push(Diagnostic::error(
            "Duplicate output definition",
            format!("output {name:?} is already defined at {at}"),
            Some(lspan.clone()),
        ));
        return;
    }
    map.insert(key, o);
}

fn decode_import(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    want_labels(b, 0, "", diags);
    restrict(
        &b.body,
        "an import block",
        &["to", "id", "provider"],
        &[],
        diags,
    );
    let to = b.body.attr("to");
    let id = b.body.attr("id");
    if to.is_none() {
        missing("an import block", "to", &b.span, diags);
    }
    if id.is_none() {
        missing("an import block", "id", &b.span, diags);
    }
    let (Some(to), Some(id)) = (to, id) else {
        return;
    };
    if let Some(addr) = want_addr(cfg, to, diags) {
        if addr.id.mode == Mode::Data {
            diags.push(Diagnostic::error(
                "Invalid import address",
                "only managed resources can be imported, not data sources",
                Some(to.expr.span.clone()),
            ));
            return;
        }
        cfg.imports.push(Import {
            to: addr,
            to_span: to.expr.span.clone(),
            id: id.expr.clone(),
            span: b.span.clone(),
        });
    }
}

fn decode_moved(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    want_labels(b, 0, "", diags);
    restrict(&b.body, "a moved block", &["from", "to"], &[], diags);
    let from = b.body.attr("from");
    let to = b.body.attr("to");
    if from.is_none() {
        missing("a moved block", "from", &b.span, diags);
    }
    if to.is_none() {
        missing("a moved block", "to", &b.span, diags);
    }
    let (Some(from), Some(to)) = (from, to) else {
        return;
    };
    // `from = module.old`, `to = module.new[0]`: a whole module instance moves.
    let module_path = |a: &Attr| {
        let text = traversal_text(cfg, &a.expr)?;
        let path = crate::addr::parse_module_path(&text).ok()?;
        let here = cfg.sources.module_of(a.expr.span.file);
        Some(if here.is_empty() {
            path
        } else {
            format!("{here}.{path}")
        })
    };
    if let (Some(f), Some(t)) = (module_path(from), module_path(to)) {
        cfg.moved_modules.push(MovedModule {
            from: f,
            to: t,
            span: b.span.clone(),
        });
        return;
    }
    if let (Some(f), Some(t)) = (want_addr(cfg, from, diags), want_addr(cfg, to, diags)) {
        if f.id.kind != t.id.kind {
            diags.push(Diagnostic::error(
                "Resource type mismatch",
                format!(
                    "a moved block cannot change the resource type ({} to {})",
                    f.id.kind, t.id.kind
                ),
                Some(b.span.clone()),
            ));
            return;
        }
        cfg.moved.push(Moved {
            from: f,
            to: t,
            span: b.span.clone(),
        });
    }
}

fn decode_removed(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    want_labels(b, 0, "", diags);
    restrict(&b.body, "a removed block", &["from"], &["lifecycle"], diags);
    let Some(from) = b.body.attr("from") else {
        missing("a removed block", "from", &b.span, diags);
        return;
    };
    let mut destroy = false;
    for lb in b.body.blocks.iter().filter(|x| x.ident == "lifecycle") {
        restrict(
            &lb.body,
            "the lifecycle block of removed",
            &["destroy"],
            &[],
            diags,
        );
        if let Some(a) = lb.body.attr("destroy") {
            destroy = literal_bool(a, diags);
        }
    }
    if let Some(addr) = want_addr(cfg, from, diags) {
        cfg.removed.push(Removed {
            from: addr,
            destroy,
            span: b.span.clone(),
        });
    }
}

/// True when an expression is a traversal rooted at `root` (used for `provider = alicloud.x`).
pub fn is_rooted_at(e: &Expression, root: &str) -> bool {
    match e {
        Expression::Traversal(t) => {
            matches!(&t.expr, Expression::Variable(v) if v.as_str() == root)
                && t.operators
                    .iter()
                    .all(|o| matches!(o.value(), TraversalOperator::GetAttr(_)))
        }
        Expression::Variable(v) => v.as_str() == root,
        _ => false,
    }
}

/// `module "NAME" { source = "./path" ... }`: recorded as written; the call is expanded
/// once variables are known (see `config::modules`).
fn decode_module_call(cfg: &mut Config, b: &Block, diags: &mut Diagnostics) {
    if !want_labels(b, 1, "\"NAME\"", diags) {
        return;
    }
    let (name, lspan) = &b.labels[0];
    if !check_name(name, lspan, "module", diags) {
        return;
    }
    for bb in &b.body.blocks {
        diags.push(
            Diagnostic::error(
                "Unsupported block type",
                format!(
                    "a module block takes arguments only; `{}` blocks are not expected here",
                    bb.ident
                ),
                Some(bb.ident_span.clone()),
            )
            .with_hint("pass values to the module as arguments: NAME = value"),
        );
    }
    let parent = cfg.sources.module_of(b.span.file).to_string();
    let mut call = ModuleCall {
        name: name.clone(),
        parent,
        source: (String::new(), b.span.clone()),
        count: None,
        for_each: None,
        depends_on: vec![],
        providers: vec![],
        inputs: vec![],
        name_span: lspan.clone(),
        span: b.span.clone(),
    };
    let mut has_source = false;
    for a in &b.body.attrs {
        match a.name.as_str() {
            "source" => {
                if let Some(s) = want_literal_str(a, diags) {
                    call.source = (s, a.expr.span.clone());
                    has_source = true;
                }
            }
            // A version constraint matters to `terraform init` only.
            "version" => {}
            "count" => call.count = Some(a.expr.clone()),
            "for_each" => call.for_each = Some(a.expr.clone()),
            "depends_on" => call.depends_on = decode_depends_on(cfg, a, diags),
            "providers" => call.providers = decode_module_providers(cfg, a, diags),
            _ => call.inputs.push(a.clone()),
        }
    }
    if !has_source {
        missing("a module block", "source", &b.span, diags);
        return;
    }
    if call.count.is_some() && call.for_each.is_some() {
        diags.push(
            Diagnostic::error(
                "Invalid combination of count and for_each",
                "`count` and `for_each` cannot both be set on one module call",
                call.for_each.as_ref().map(|e| e.span.clone()),
            )
            .with_hint("keep one of them"),
        );
    }
    let key = call.key();
    if let Some(prev) = cfg.module_calls.iter().find(|c| c.key() == key) {
        diags.push(Diagnostic::error(
            "Duplicate module call",
            format!(
                "module {name:?} is already called at {}",
                cfg.sources.location(&prev.span)
            ),
            Some(lspan.clone()),
        ));
        return;
    }
    cfg.module_calls.push(call);
}

/// `providers = { alicloud = alicloud.sh, alicloud.peer = alicloud }`.
fn decode_module_providers(
    cfg: &Config,
    a: &Attr,
    diags: &mut Diagnostics,
) -> Vec<(String, String, Span)> {
    let mut out = Vec::new();
    let bad = |span: Span, diags: &mut Diagnostics| {
        diags.push(
            Diagnostic::error(
                "Invalid providers argument",
                "`providers` maps the module's provider names to this module's providers, such as { alicloud = alicloud.shanghai }",
                Some(span),
            )
            .with_hint("write keys and values as references, without quotes"),
        )
    };
    let Expression::Object(o) = &a.expr.edit else {
        bad(a.expr.span.clone(), diags);
        return out;
    };
    let file = a.expr.span.file;
    let text = |n: &dyn hcl_edit::Span| -> String {
        cfg.sources
            .text(&Span::new(file, n.span().unwrap_or(0..0)))
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    for (k, v) in o.iter() {
        let key = match k {
            hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
            hcl_edit::expr::ObjectKey::Expression(e) => text(e),
        };
        let value = text(v.expr());
        let ok =
            |s: &str| s == "alicloud" || s.strip_prefix("alicloud.").is_some_and(is_valid_name);
        let span = span_of(file, v.expr());
        if !ok(&key) || !ok(&value) {
            bad(span, diags);
            continue;
        }
        out.push((key, value, span));
    }
    out
}

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
