//! The configuration as written: `*.hcl` files decoded into a typed, spanned [`Config`].
//!
//! `load` reads and decodes files (keeping every block, attribute and reference with its
//! source span), `refs` extracts references, `eval` evaluates expressions with the function
//! library of `funcs`, `vars` gathers variable values, `types` checks type constraints,
//! `check` ties them together into an [`check::Evaluated`] configuration and `fmt` is the
//! canonical formatter. This module never reads state or calls the cloud.

pub mod check;
pub mod dynamic;
pub mod eval;
pub mod files;
pub mod fmt;
pub mod funcs;
pub mod lazy;
pub mod load;
pub mod modules;
pub mod pick;
pub mod quick;
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

/// What a `depends_on` entry names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DepTarget {
    /// A resource or data source block.
    Resource(ResourceId),
    /// A module call, by its key (`module.net`, `module.a.module.b`): every resource in
    /// every instance of it.
    Module(String),
}

impl std::fmt::Display for DepTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DepTarget::Resource(id) => write!(f, "{id}"),
            DepTarget::Module(k) => write!(f, "{k}"),
        }
    }
}

/// A `depends_on` entry.
#[derive(Debug, Clone)]
pub struct DependsOn {
    /// The resource, data source or module depended on.
    pub target: DepTarget,
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
    /// `dynamic "timeouts" { ... }`, as generated wrapper modules write it: evaluated with
    /// the variables and locals, into `timeouts`.
    pub dynamic_timeouts: Option<Block>,
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

/// `moved { from = module.a, to = module.b }`: every resource of a module instance (or of
/// all instances of a call, when `from` has no key) moves with it.
#[derive(Debug, Clone)]
pub struct MovedModule {
    /// Old module path (`module.a`, `module.a[0]`).
    pub from: String,
    /// New module path.
    pub to: String,
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

/// `module "NAME" { source = ..., ... }` as written in its calling module.
#[derive(Debug, Clone)]
pub struct ModuleCall {
    /// The call's name.
    pub name: String,
    /// The module instance that calls it (empty: the root module).
    pub parent: String,
    /// `source`, with its span.
    pub source: (String, Span),
    /// `count`.
    pub count: Option<Expr>,
    /// `for_each`.
    pub for_each: Option<Expr>,
    /// `depends_on`: every resource of the module waits for these.
    pub depends_on: Vec<DependsOn>,
    /// `providers = { alicloud = alicloud.sh }`: the child's provider names and the
    /// caller's provider keys they stand for.
    pub providers: Vec<(String, String, Span)>,
    /// Input variables.
    pub inputs: Vec<Attr>,
    /// The label.
    pub name_span: Span,
    /// The block.
    pub span: Span,
}

impl ModuleCall {
    /// The call's key: `module.NAME` below its parent instance.
    pub fn key(&self) -> String {
        scoped(&self.parent, "module", &self.name)
    }
}

/// An input variable of a child module instance.
#[derive(Debug, Clone)]
pub struct ModuleVar {
    /// The declaration in the child module.
    pub var: Variable,
    /// The value given by the module call (evaluated in the caller's scope), if any.
    pub input: Option<Expr>,
    /// The module instance path.
    pub instance: String,
}

/// One instance of a module call.
#[derive(Debug, Clone)]
pub struct ModuleInstance {
    /// The call's key.
    pub call: String,
    /// `count.index` of this instance in the call's inputs.
    pub count_index: Option<u64>,
    /// `each.key`/`each.value` of this instance in the call's inputs.
    pub each: Option<(String, crate::value::Value)>,
    /// The call's `depends_on`.
    pub depends_on: Vec<DependsOn>,
    /// The module's directory (`path.module`).
    pub dir: std::path::PathBuf,
}

/// A module call once expanded: the value of `module.NAME`.
#[derive(Debug, Clone)]
pub struct ModuleNode {
    /// Instance keys and instance paths, in key order.
    pub instances: Vec<(Option<crate::addr::InstanceKey>, String)>,
    /// `count` (a list of objects), `for_each` (a map) or neither (one object).
    pub repetition: Repetition,
    /// `source`, as written.
    pub source: String,
    /// `count`, as written.
    pub count: Option<Expr>,
    /// `for_each`, as written.
    pub for_each: Option<Expr>,
    /// The block.
    pub span: Span,
}

/// How a block repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repetition {
    /// Once.
    Single,
    /// `count`.
    Count,
    /// `for_each`.
    ForEach,
}

/// The key of a name declared in module instance `module`: `local.x` values keep their bare
/// name in the root module (`x`), and everything in a child module is prefixed with the
/// instance path (`module.net.local.x`, `module.net.var.cidr`, `module.net.output.id`);
/// a call below the root is `module.NAME`.
pub fn scoped(module: &str, ns: &str, name: &str) -> String {
    match (module.is_empty(), ns) {
        (true, "local") => name.to_string(),
        (true, _) => format!("{ns}.{name}"),
        (false, _) => format!("{module}.{ns}.{name}"),
    }
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
    /// `moved` blocks between modules.
    pub moved_modules: Vec<MovedModule>,
    /// `removed` blocks.
    pub removed: Vec<Removed>,
    /// Module calls not yet expanded (loading reads only the root module; checking
    /// expands the calls once variables are known).
    pub module_calls: Vec<ModuleCall>,
    /// Input variables of child module instances, by key (`module.net.var.cidr`).
    pub module_vars: BTreeMap<String, ModuleVar>,
    /// Outputs of child module instances, by key (`module.net.output.id`).
    pub module_outputs: BTreeMap<String, Output>,
    /// Expanded module instances, by path (`module.net`, `module.img[0]`).
    pub module_instances: BTreeMap<String, ModuleInstance>,
    /// Every module call declared, by key, whether or not it could be expanded.
    pub module_declared: std::collections::BTreeSet<String>,
    /// Expanded module calls, by key (`module.net`).
    pub modules: BTreeMap<String, ModuleNode>,
    /// Per child module instance: its provider names and the root module's provider keys
    /// they stand for.
    pub provider_maps: BTreeMap<String, BTreeMap<String, String>>,
}
