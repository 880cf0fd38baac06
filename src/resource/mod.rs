//! Resource kinds: their schemas (attribute names as in terraform-provider-alicloud), which
//! attributes are computed, which update in place and which force replacement, and every
//! rule of the ECS API that can be checked before the API is called.
//!
//! This is the only module that knows resource kinds: each kind's file carries everything
//! about it (schema, rules, and its [`Kind`] implementation: create request, waits, in-place
//! updates, read-back, delete procedure), and [`KINDS`] registers it. It sees evaluated
//! bodies and attribute documents (a state row's as [`crate::state::Attrs`]); it never reads or
//! writes the state store, the graph or rendering.

pub mod api;
pub mod builder_data;
pub mod ecs_image_component;
pub mod image;
pub mod image_copy;
pub mod image_export;
pub mod image_import;
pub mod image_share_permission;
pub mod images_data;
pub mod kind;
pub mod objects;
pub mod pipeline;
pub mod pipeline_execution;
pub mod rules;

pub use kind::{DataKind, Kind, Timeouts};

use crate::diag::{did_you_mean, Diagnostic, Diagnostics, Span};
use crate::value::Value;
use std::collections::BTreeMap;

/// The type of an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    /// A string.
    String,
    /// A whole number.
    Int,
    /// true/false.
    Bool,
    /// A map of strings.
    Map,
    /// A list of strings.
    StringList,
    /// Anything (computed structured values).
    Any,
}

/// What a change of the attribute does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Update {
    /// Changed in place (ModifyImageAttribute, TagResources, JoinResourceGroup).
    InPlace,
    /// Changing it replaces the object.
    ForceNew,
    /// Set by the cloud; cannot be configured.
    Computed,
    /// Read by imgform itself (e.g. `force` on delete); never causes a diff.
    Local,
}

/// Checks one value; returns the problem and a hint.
pub type Check = fn(&Value) -> Result<(), (String, String)>;

/// One attribute.
#[derive(Debug, Clone, Copy)]
pub struct AttrSchema {
    /// Name, as in the provider.
    pub name: &'static str,
    /// Type.
    pub ty: Ty,
    /// Must be set.
    pub required: bool,
    /// What a change does.
    pub update: Update,
    /// Value rule.
    pub check: Option<Check>,
    /// Shown as `(sensitive value)`.
    pub sensitive: bool,
    /// What the attribute is set to when the configuration stops giving it (an in-place
    /// attribute the API clears with an empty value); `None`: the recorded value stays.
    pub cleared: Option<Cleared>,
}

/// The empty value an attribute is cleared to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cleared {
    /// `""` (ModifyImageAttribute clears a description or family so).
    EmptyString,
    /// `{}` (every tag removed with UntagResources).
    EmptyMap,
}

impl Cleared {
    /// The empty value as JSON.
    pub fn value(self) -> serde_json::Value {
        match self {
            Cleared::EmptyString => serde_json::json!(""),
            Cleared::EmptyMap => serde_json::json!({}),
        }
    }
}

/// Shorthand constructors for schema tables.
pub const fn attr(name: &'static str, ty: Ty, update: Update) -> AttrSchema {
    AttrSchema {
        name,
        ty,
        required: false,
        update,
        check: None,
        sensitive: false,
        cleared: None,
    }
}

impl AttrSchema {
    /// Marks the attribute required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Adds a value rule.
    pub const fn check(mut self, c: Check) -> Self {
        self.check = Some(c);
        self
    }

    /// Cleared to its type's empty value (`""`, `{}`) when the configuration stops giving
    /// it, instead of keeping what was set.
    pub const fn cleared(mut self) -> Self {
        self.cleared = Some(match self.ty {
            Ty::Map => Cleared::EmptyMap,
            _ => Cleared::EmptyString,
        });
        self
    }
}

/// A nested block type.
#[derive(Debug, Clone, Copy)]
pub struct BlockSchema {
    /// Name.
    pub name: &'static str,
    /// Fewest occurrences.
    pub min: usize,
    /// Most occurrences.
    pub max: usize,
    /// What a change does.
    pub update: Update,
    /// Its attributes.
    pub attrs: &'static [AttrSchema],
    /// Its blocks.
    pub blocks: &'static [BlockSchema],
}

/// A resource kind.
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// `alicloud_image`.
    pub kind: &'static str,
    /// Top-level attributes (`id` is implicit).
    pub attrs: &'static [AttrSchema],
    /// Nested blocks.
    pub blocks: &'static [BlockSchema],
    /// Rules across attributes.
    pub cross: fn(&EvalBody, &mut Diagnostics),
    /// Default timeouts (the one source of truth; a `timeouts` block overrides them).
    pub timeouts: Timeouts,
}

/// A value as its attribute's type reads it: Terraform converts `"40"` to 40 for a number,
/// `"true"` to true for a bool, and numbers and bools to strings for a string.
fn normalized(ty: Ty, v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    let as_string = |v: &J| match v {
        J::Number(n) => J::String(n.to_string()),
        J::Bool(b) => J::String(b.to_string()),
        other => other.clone(),
    };
    match (ty, v) {
        // Whole numbers are written as integers (`40`, as Terraform writes them).
        (Ty::Int, J::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(crate::value::number_to_json)
            .unwrap_or_else(|| v.clone()),
        (Ty::Int, J::Number(n)) => n
            .as_f64()
            .map(crate::value::number_to_json)
            .unwrap_or_else(|| v.clone()),
        (Ty::Bool, J::String(s)) if s == "true" || s == "false" => J::Bool(s == "true"),
        (Ty::String, J::Number(_) | J::Bool(_)) => as_string(v),
        (Ty::Map, J::Object(m)) => {
            J::Object(m.iter().map(|(k, x)| (k.clone(), as_string(x))).collect())
        }
        (Ty::StringList, J::Array(a)) => J::Array(a.iter().map(as_string).collect()),
        _ => v.clone(),
    }
}

/// The one equality rule of the plan: `a` (configured) and `b` (recorded) are the same
/// value of an attribute of type `ty`. An absent recorded value equals only null.
pub fn same_value(ty: Ty, a: &serde_json::Value, b: Option<&serde_json::Value>) -> bool {
    match b {
        None => a.is_null(),
        Some(b) => normalized(ty, a) == normalized(ty, b),
    }
}

/// An evaluated attribute.
#[derive(Debug, Clone)]
pub struct EvalAttr {
    /// The value (possibly unknown).
    pub value: Value,
    /// Where the value is written.
    pub span: Span,
    /// Where the name is written.
    pub key_span: Span,
}

/// The evaluated attributes of a body, by name: a sorted vector. A body has a handful of
/// attributes, and 50,000 instances each hold one; a B-tree node has room for eleven
/// entries and took about 600 bytes for the two or three attributes of an image, this
/// about 300.
#[derive(Debug, Clone, Default)]
pub struct AttrMap(Vec<(String, EvalAttr)>);

impl AttrMap {
    fn find(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }

    /// The attribute `name`.
    pub fn get(&self, name: &str) -> Option<&EvalAttr> {
        self.find(name).ok().map(|i| &self.0[i].1)
    }

    /// The attribute `name`, to change.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut EvalAttr> {
        self.find(name).ok().map(|i| &mut self.0[i].1)
    }

    /// True when `name` is set.
    pub fn contains_key(&self, name: &str) -> bool {
        self.find(name).is_ok()
    }

    /// Sets `name`, returning what it replaced.
    pub fn insert(&mut self, name: String, a: EvalAttr) -> Option<EvalAttr> {
        match self.find(&name) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, a)),
            Err(i) => {
                self.0.insert(i, (name, a));
                None
            }
        }
    }

    /// Unsets `name`.
    pub fn remove(&mut self, name: &str) -> Option<EvalAttr> {
        self.find(name).ok().map(|i| self.0.remove(i).1)
    }

    /// The attributes in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &EvalAttr)> {
        self.0.iter().map(|(k, a)| (k, a))
    }

    /// The names in order.
    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    /// How many are set.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when none is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Gives back the room left over from building.
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

/// `body.attrs["name"]`: the attribute, which must be set.
impl std::ops::Index<&str> for AttrMap {
    type Output = EvalAttr;
    fn index(&self, name: &str) -> &EvalAttr {
        self.get(name)
            .unwrap_or_else(|| panic!("no attribute {name:?}"))
    }
}

impl<'a> IntoIterator for &'a AttrMap {
    type Item = (&'a String, &'a EvalAttr);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, EvalAttr)>,
        fn(&'a (String, EvalAttr)) -> (&'a String, &'a EvalAttr),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, a)| (k, a))
    }
}

impl FromIterator<(String, EvalAttr)> for AttrMap {
    fn from_iter<I: IntoIterator<Item = (String, EvalAttr)>>(it: I) -> AttrMap {
        let mut m = AttrMap::default();
        for (k, a) in it {
            m.insert(k, a);
        }
        m.shrink_to_fit();
        m
    }
}

/// An evaluated nested block.
#[derive(Debug, Clone)]
pub struct EvalBlock {
    /// Block type.
    pub ident: String,
    /// Where it is.
    pub span: Span,
    /// Contents.
    pub body: EvalBody,
}

/// An evaluated resource body.
#[derive(Debug, Clone, Default)]
pub struct EvalBody {
    /// Attributes by name.
    pub attrs: AttrMap,
    /// Blocks in order.
    pub blocks: Vec<EvalBlock>,
    /// The enclosing block.
    pub span: Span,
}

impl EvalBody {
    /// The value of `name`, if set and not null.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.attrs
            .get(name)
            .map(|a| &a.value)
            .filter(|v| !v.is_null())
    }

    /// The known string value of `name`.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(Value::as_str)
    }

    /// The span of `name`'s value, or of the block.
    pub fn span_of(&self, name: &str) -> Span {
        self.attrs
            .get(name)
            .map(|a| a.span.clone())
            .unwrap_or_else(|| self.span.clone())
    }

    /// Blocks of type `ident`.
    pub fn blocks(&self, ident: &str) -> impl Iterator<Item = &EvalBlock> {
        let ident = ident.to_string();
        self.blocks.iter().filter(move |b| b.ident == ident)
    }

    /// Converts to a plain value (attributes and blocks as lists of objects).
    pub fn to_value(&self) -> Value {
        let mut m: BTreeMap<String, Value> = self
            .attrs
            .iter()
            .map(|(k, a)| (k.clone(), a.value.clone()))
            .collect();
        for b in &self.blocks {
            let e = m
                .entry(b.ident.clone())
                .or_insert_with(|| Value::List(vec![]));
            if let Value::List(l) = e {
                l.push(b.body.to_value());
            }
        }
        Value::Map(m)
    }
}

/// The registry: every managed resource kind.
pub const KINDS: &[&dyn Kind] = &[
    &image::Image,
    &image_import::ImageImport,
    &pipeline::Pipeline,
    &pipeline_execution::PipelineExecution,
    &ecs_image_component::ImageComponent,
    &image_copy::ImageCopy,
    &image_share_permission::ImageSharePermission,
    &image_export::ImageExport,
];

/// The registry: every data source kind.
pub const DATA_KINDS: &[&dyn DataKind] = &[
    &images_data::Images,
    &builder_data::Pipelines,
    &builder_data::Components,
];

/// A managed resource kind by name; a kind missing from the registry is an error.
pub fn kind(name: &str) -> Result<&'static dyn Kind, String> {
    KINDS
        .iter()
        .copied()
        .find(|k| k.name() == name)
        .ok_or_else(|| format!("imgform does not know the resource type {name:?}"))
}

/// A data source kind by name; a kind missing from the registry is an error.
pub fn data_kind(name: &str) -> Result<&'static dyn DataKind, String> {
    DATA_KINDS
        .iter()
        .copied()
        .find(|k| k.schema().kind == name)
        .ok_or_else(|| format!("imgform does not know the data source {name:?}"))
}

/// The schema of a managed resource kind.
pub fn managed(name: &str) -> Option<&'static Schema> {
    kind(name).ok().map(|k| k.schema())
}

/// The schema of a data source kind.
pub fn data(name: &str) -> Option<&'static Schema> {
    data_kind(name).ok().map(|k| k.schema())
}

/// The names of every managed kind.
pub fn managed_names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name()).collect()
}

/// The names of every data source kind.
pub fn data_names() -> Vec<&'static str> {
    DATA_KINDS.iter().map(|k| k.schema().kind).collect()
}

impl Schema {
    /// True when `name` is an attribute or block of this kind (for reference checks).
    pub fn has_field(&self, name: &str) -> bool {
        name == "id"
            || self.attrs.iter().any(|a| a.name == name)
            || self.blocks.iter().any(|b| b.name == name)
    }

    /// Adds every attribute and block `attrs` lacks, as Terraform's objects have them: an
    /// attribute nobody set (nor the cloud returned) is null, a block list is empty. So an
    /// expression may read any attribute the schema has.
    pub fn fill_unset(&self, attrs: &mut serde_json::Map<String, serde_json::Value>) {
        for a in self.attrs {
            attrs
                .entry(a.name.to_string())
                .or_insert(serde_json::Value::Null);
        }
        for b in self.blocks {
            attrs
                .entry(b.name.to_string())
                .or_insert(serde_json::Value::Array(vec![]));
        }
    }

    /// Converts configured values to their attributes' types, as Terraform does before it
    /// plans: `"40"` becomes 40 for a number, a number in `tags` becomes a string. The plan
    /// then shows and records what the cloud will hold.
    pub fn normalize(&self, attrs: &mut serde_json::Map<String, serde_json::Value>) {
        for a in self.attrs {
            if unset_by_empty(a, attrs.get(a.name)) {
                attrs.remove(a.name);
            } else if let Some(v) = attrs.get_mut(a.name) {
                *v = normalized(a.ty, v);
            }
        }
    }

    /// Every attribute and block name.
    pub fn field_names(&self) -> Vec<&'static str> {
        let mut v = vec!["id"];
        v.extend(self.attrs.iter().map(|a| a.name));
        v.extend(self.blocks.iter().map(|b| b.name));
        v
    }

    /// The attribute schema named `name`.
    pub fn attr(&self, name: &str) -> Option<&AttrSchema> {
        self.attrs.iter().find(|a| a.name == name)
    }

    /// Checks an evaluated body: unknown names, required attributes, types, value rules,
    /// block counts, then the kind's cross-field rules. Unknown values are skipped.
    pub fn validate(&self, body: &EvalBody, diags: &mut Diagnostics) {
        validate_body(self.kind, self.attrs, self.blocks, body, diags);
        (self.cross)(body, diags);
    }
}

fn type_ok(ty: Ty, v: &Value) -> bool {
    match (ty, v) {
        (_, Value::Unknown | Value::Null) => true,
        (Ty::Any, _) => true,
        (Ty::String, Value::String(_)) => true,
        (Ty::String, Value::Number(_) | Value::Bool(_)) => true,
        (Ty::Int, Value::Number(n)) => n.fract() == 0.0,
        (Ty::Int, Value::String(s)) => s.parse::<i64>().is_ok(),
        (Ty::Bool, Value::Bool(_)) => true,
        (Ty::Bool, Value::String(s)) => s == "true" || s == "false",
        (Ty::Map, Value::Map(m)) => m.values().all(|v| {
            matches!(
                v,
                Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Unknown
            )
        }),
        (Ty::StringList, Value::List(l)) => l
            .iter()
            .all(|v| matches!(v, Value::String(_) | Value::Number(_) | Value::Unknown)),
        _ => false,
    }
}

fn ty_name(ty: Ty) -> &'static str {
    match ty {
        Ty::String => "a string",
        Ty::Int => "a whole number",
        Ty::Bool => "true or false",
        Ty::Map => "a map of strings",
        Ty::StringList => "a list of strings",
        Ty::Any => "a value",
    }
}

/// `""` for an optional string: the provider reads it as unset (the SDK's `GetOk`), and
/// public configurations write it so (`description = ""`, `var.x` defaulting to `""`).
fn unset_by_empty(a: &AttrSchema, v: Option<&serde_json::Value>) -> bool {
    !a.required && a.ty == Ty::String && v.and_then(|v| v.as_str()) == Some("")
}

fn validate_body(
    what: &str,
    attrs: &[AttrSchema],
    blocks: &[BlockSchema],
    body: &EvalBody,
    diags: &mut Diagnostics,
) {
    let names: Vec<&str> = attrs
        .iter()
        .filter(|a| a.update != Update::Computed)
        .map(|a| a.name)
        .collect();
    for (name, a) in &body.attrs {
        let Some(s) = attrs.iter().find(|s| s.name == name) else {
            let mut d = Diagnostic::error(
                "Unsupported argument",
                format!("an argument named `{name}` is not expected in {what}"),
                Some(a.key_span.clone()),
            );
            let all: Vec<&str> = names
                .iter()
                .copied()
                .chain(blocks.iter().map(|b| b.name))
                .collect();
            if let Some(m) = did_you_mean(name, all.iter().copied()) {
                d = d.with_hint(format!("did you mean `{m}`?"));
            }
            diags.push(d);
            continue;
        };
        if s.update == Update::Computed {
            diags.push(
                Diagnostic::error(
                    "Value for a computed attribute",
                    format!("`{name}` is set by the cloud and cannot be configured in {what}"),
                    Some(a.key_span.clone()),
                )
                .with_hint(format!("remove `{name}`; read it as a reference instead")),
            );
            continue;
        }
        if !type_ok(s.ty, &a.value) {
            diags.push(Diagnostic::error(
                "Incorrect attribute value type",
                format!(
                    "`{name}` must be {}, got {}",
                    ty_name(s.ty),
                    a.value.type_name()
                ),
                Some(a.span.clone()),
            ));
            continue;
        }
        if a.value.has_unknown() || a.value.is_null() {
            continue;
        }
        if !s.required && s.ty == Ty::String && a.value.as_str() == Some("") {
            continue;
        }
        if let Some(check) = s.check {
            if let Err((detail, hint)) = check(&a.value) {
                diags.push(
                    Diagnostic::error(
                        format!("Invalid value for `{name}`"),
                        detail,
                        Some(a.span.clone()),
                    )
                    .with_hint(hint),
                );
            }
        }
    }
    for s in attrs.iter().filter(|s| s.required) {
        if body.get(s.name).is_none()
            && !body.attrs.get(s.name).is_some_and(|a| a.value.is_unknown())
        {
            diags.push(
                Diagnostic::error(
                    "Missing required argument",
                    format!("the argument `{}` is required in {what}", s.name),
                    Some(body.span.clone()),
                )
                .with_hint(format!("add `{} = ...`", s.name)),
            );
        }
    }
    for b in &body.blocks {
        let Some(s) = blocks.iter().find(|s| s.name == b.ident) else {
            let mut d = Diagnostic::error(
                "Unsupported block type",
                format!("blocks of type `{}` are not expected in {what}", b.ident),
                Some(b.span.clone()),
            );
            let all: Vec<&str> = blocks
                .iter()
                .map(|b| b.name)
                .chain(names.iter().copied())
                .collect();
            if let Some(m) = did_you_mean(&b.ident, all.iter().copied()) {
                d = d.with_hint(format!("did you mean `{m}`?"));
            }
            diags.push(d);
            continue;
        };
        validate_body(
            &format!("a `{}` block", s.name),
            s.attrs,
            s.blocks,
            &b.body,
            diags,
        );
    }
    for s in blocks {
        let n = body.blocks(s.name).count();
        if n < s.min || n > s.max {
            let detail = if n < s.min {
                format!(
                    "at least {} `{}` block(s) are required in {what}, found {n}",
                    s.min, s.name
                )
            } else {
                format!(
                    "at most {} `{}` block(s) are allowed in {what}, found {n}",
                    s.max, s.name
                )
            };
            let span = body
                .blocks(s.name)
                .nth(s.max)
                .map(|b| b.span.clone())
                .unwrap_or_else(|| body.span.clone());
            diags.push(Diagnostic::error(
                "Wrong number of blocks",
                detail,
                Some(span),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_registered_once() {
        let mut kinds: Vec<&str> = managed_names().into_iter().chain(data_names()).collect();
        let n = kinds.len();
        kinds.sort();
        kinds.dedup();
        assert_eq!(kinds.len(), n);
        assert!(managed("alicloud_image").is_some());
        assert!(data("alicloud_images").is_some());
    }

    #[test]
    fn every_schema_has_known_update_rules() {
        for k in KINDS {
            let s = k.schema();
            for a in s.attrs {
                assert!(
                    !(a.required && a.update == Update::Computed),
                    "{}.{} cannot be required and computed",
                    s.kind,
                    a.name
                );
            }
        }
    }
}
