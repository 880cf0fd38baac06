//! The configuration as written: `*.hcl` files decoded into a typed, spanned [`Config`].
//!
//! `load` reads and decodes files (keeping every block, attribute and reference with its
//! source span), `refs` extracts references, `eval` evaluates expressions with the function
//! library of `funcs`, `vars` gathers variable values, `types` checks type constraints,
//! `check` ties them together into an [`check::Evaluated`] configuration and `fmt` is the
//! canonical formatter. This module never reads state or calls the cloud.

pub mod check;
pub mod eval;
pub mod files;
pub mod fmt;
pub mod funcs;
pub mod load;
pub mod refs;
pub mod types;
pub mod vars;

use crate::addr::{ResourceAddr, ResourceId};
use crate::diag::{Sources, Span};
use std::collections::BTreeMap;

/// An expression as written, with its place.
#[derive(Debug, Clone)]
pub struct Expr {
    /// The parsed expression (hcl-edit keeps spans on every node).
    pub edit: hcl_edit::expr::Expression,
    /// Where it is.
    pub span: Span,
}

/// `name = expr`.
#[derive(Debug, Clone)]
pub struct Attr {
    /// The attribute name.
    pub name: String,
    /// The span of the name.
    pub key_span: Span,
    /// The value.
    pub expr: Expr,
    /// The whole attribute.
    pub span: Span,
}

/// A nested block, generic.
#[derive(Debug, Clone)]
pub struct Block {
    /// `disk_device_mapping`.
    pub ident: String,
    /// Span of the identifier.
    pub ident_span: Span,
    /// Labels with their spans.
    pub labels: Vec<(String, Span)>,
    /// Contents.
    pub body: Body,
    /// The whole block.
    pub span: Span,
}

/// The contents of a block, generic.
#[derive(Debug, Clone, Default)]
pub struct Body {
    /// Attributes in source order.
    pub attrs: Vec<Attr>,
    /// Nested blocks in source order.
    pub blocks: Vec<Block>,
}

impl Body {
    /// The attribute named `name`.
    pub fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

/// `imgform { ... }`.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `state_path`.
    pub state_path: Option<Attr>,
    /// `backend "pg" { conn_str, schema_name }`.
    pub backend: Option<PgBackend>,
    /// `allow_files_outside = ["DIR", ...]`: directories outside the configuration's root
    /// that file functions may read (relative paths against the configuration directory),
    /// each with the span of its string.
    pub allow_files_outside: Vec<(String, Span)>,
    /// `history_retention = N`: how many applies the state's history keeps.
    pub history_retention: Option<usize>,
}

/// The PostgreSQL team backend.
#[derive(Debug, Clone, Default)]
pub struct PgBackend {
    /// `conn_str` (IMGFORM_PG_CONN_STR also sets it, and wins).
    pub conn_str: Option<String>,
    /// `schema_name`, default `imgform`.
    pub schema_name: String,
}

/// `provider "alicloud" { ... }`.
#[derive(Debug, Clone)]
pub struct Provider {
    /// `alias`, if any; `alicloud.<alias>` selects it.
    pub alias: Option<String>,
    /// All other attributes.
    pub body: Body,
    /// The block.
    pub span: Span,
}

impl Provider {
    /// `alicloud` or `alicloud.<alias>`.
    pub fn key(&self) -> String {
        match &self.alias {
            Some(a) => format!("alicloud.{a}"),
            None => "alicloud".to_string(),
        }
    }
}

/// `validation { condition, error_message }`.
#[derive(Debug, Clone)]
pub struct Validation {
    /// Must be true.
    pub condition: Expr,
    /// Shown when it is not.
    pub error_message: Expr,
}

/// `variable "NAME" { ... }`.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Name.
    pub name: String,
    /// `type` constraint.
    pub ty: Option<Expr>,
    /// `default`.
    pub default: Option<Expr>,
    /// `description`.
    pub description: Option<String>,
    /// `sensitive`.
    pub sensitive: bool,
    /// `nullable` (default true).
    pub nullable: bool,
    /// `validation` blocks.
    pub validations: Vec<Validation>,
    /// The block.
    pub span: Span,
}

/// `lifecycle { ... }`.
#[derive(Debug, Clone, Default)]
pub struct Lifecycle {
    /// `prevent_destroy`.
    pub prevent_destroy: bool,
    /// `create_before_destroy`.
    pub create_before_destroy: bool,
    /// `ignore_changes`: attribute names, or `["*"]` for `all`.
    pub ignore_changes: Vec<(String, Span)>,
}

/// `timeouts { create, update, delete }` in seconds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeouts {
    /// Create timeout.
    pub create: Option<u64>,
    /// Update timeout.
    pub update: Option<u64>,
    /// Delete timeout.
    pub delete: Option<u64>,
}

/// A `depends_on` entry.
#[derive(Debug, Clone)]
pub struct DependsOn {
    /// The resource or data source depended on.
    pub target: ResourceId,
    /// Where it is written.
    pub span: Span,
}

/// `resource "TYPE" "NAME"` or `data "TYPE" "NAME"`.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Mode, type and name.
    pub id: ResourceId,
    /// The whole block.
    pub span: Span,
    /// The type label.
    pub type_span: Span,
    /// `count`.
    pub count: Option<Expr>,
    /// `for_each`.
    pub for_each: Option<Expr>,
    /// `depends_on`.
    pub depends_on: Vec<DependsOn>,
    /// `provider = alicloud.<alias>`, as written.
    pub provider: Option<(String, Span)>,
    /// `lifecycle`.
    pub lifecycle: Lifecycle,
    /// `timeouts`.
    pub timeouts: Timeouts,
    /// `timeouts` written as expressions (variables, locals): evaluated once those are
    /// known, into `timeouts`.
    pub timeout_exprs: Vec<(String, Expr)>,
    /// The resource's own arguments (meta-arguments removed).
    pub body: Body,
}

/// `output "NAME" { ... }`.
#[derive(Debug, Clone)]
pub struct Output {
    /// Name.
    pub name: String,
    /// `value`.
    pub value: Expr,
    /// `description`.
    pub description: Option<String>,
    /// `sensitive`.
    pub sensitive: bool,
    /// `depends_on`.
    pub depends_on: Vec<DependsOn>,
    /// The block.
    pub span: Span,
}

/// `import { to = ADDR, id = "m-..." }`.
#[derive(Debug, Clone)]
pub struct Import {
    /// The address to adopt into.
    pub to: ResourceAddr,
    /// Where `to` is written.
    pub to_span: Span,
    /// The cloud id.
    pub id: Expr,
    /// The block.
    pub span: Span,
}

/// `moved { from = A, to = B }`.
#[derive(Debug, Clone)]
pub struct Moved {
    /// Old address.
    pub from: ResourceAddr,
    /// New address.
    pub to: ResourceAddr,
    /// The block.
    pub span: Span,
}

/// `removed { from = A }`.
#[derive(Debug, Clone)]
pub struct Removed {
    /// The address to forget.
    pub from: ResourceAddr,
    /// `lifecycle { destroy = true }` destroys instead of forgetting.
    pub destroy: bool,
    /// The block.
    pub span: Span,
}

/// A whole configuration directory as written.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The files it came from.
    pub sources: Sources,
    /// `imgform {}`.
    pub settings: Settings,
    /// Providers by key (`alicloud`, `alicloud.shanghai`).
    pub providers: BTreeMap<String, Provider>,
    /// Variables by name.
    pub variables: BTreeMap<String, Variable>,
    /// Locals by name.
    pub locals: BTreeMap<String, Attr>,
    /// Resources and data sources.
    pub resources: BTreeMap<ResourceId, Resource>,
    /// Outputs by name.
    pub outputs: BTreeMap<String, Output>,
    /// `import` blocks.
    pub imports: Vec<Import>,
    /// `moved` blocks.
    pub moved: Vec<Moved>,
    /// `removed` blocks.
    pub removed: Vec<Removed>,
}
