//! The planner: a pure function from the evaluated configuration and the refreshed state to
//! a [`Plan`]. It walks the configuration in dependency order so that resources that do
//! not change make their recorded values known to their dependents (a second plan after an
//! apply is empty), and values that depend on unapplied resources stay unknown
//! (`(known after apply)`).

use super::model::*;
use crate::addr::{ResourceAddr, ResourceId};
use crate::config::check::{Evaluated, Instance, Node};
use crate::diag::{Diagnostic, Diagnostics};
use crate::resource::{same_value, BlockSchema, EvalBody, Schema, Ty, Update};
use crate::state::State;
use crate::value::Value;
use serde_json::{Map, Value as J};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Reads from the cloud what planning needs: data sources and objects to import.
pub trait Reader {
    /// Reads a data source with fully known arguments.
    fn read_data(&mut self, provider: &str, kind: &str, args: &J) -> Result<J, String>;
    /// Reads an object to import; `None` when it does not exist.
    fn import(&mut self, provider: &str, kind: &str, id: &str) -> Result<Option<J>, String>;
}

/// A reader for plans that must not touch the cloud (tests, `--refresh=false` without
/// data sources).
pub struct NoReader;

impl Reader for NoReader {
    fn read_data(&mut self, _: &str, kind: &str, _: &J) -> Result<J, String> {
        Err(format!(
            "cannot read data source {kind} without a cloud connection"
        ))
    }
    fn import(&mut self, _: &str, kind: &str, id: &str) -> Result<Option<J>, String> {
        Err(format!(
            "cannot import {kind} {id} without a cloud connection"
        ))
    }
}

/// What the planner needs.
pub struct Input<'a> {
    /// The configuration.
    pub ev: &'a Evaluated,
    /// The state after refresh (the plan keeps it as its prior state).
    pub state: State,
    /// Drift found by refresh.
    pub drift: Vec<Drift>,
    /// Region of each provider key.
    pub regions: &'a BTreeMap<String, String>,
    /// Options.
    pub options: &'a Options,
}

/// Converts an evaluated value to JSON, recording unknown paths.
pub(super) fn to_json(v: &Value) -> (J, bool) {
    match v {
        Value::Unknown => (J::Null, true),
        Value::List(l) => {
            let mut unk = false;
            let a = l
                .iter()
                .map(|x| {
                    let (j, u) = to_json(x);
                    unk |= u;
                    j
                })
                .collect();
            (J::Array(a), unk)
        }
        Value::Map(m) => {
            let mut unk = false;
            let o = m
                .iter()
                .map(|(k, x)| {
                    let (j, u) = to_json(x);
                    unk |= u;
                    (k.clone(), j)
                })
                .collect();
            (J::Object(o), unk)
        }
        other => (other.to_json(), false),
    }
}

/// The configured attributes of a body as JSON, with the set of unknown ones.
pub fn config_json(body: &EvalBody) -> (Map<String, J>, BTreeSet<String>) {
    let mut out = Map::new();
    let mut unknown = BTreeSet::new();
    for (k, a) in &body.attrs {
        if a.value.is_null() {
            continue;
        }
        let (j, u) = to_json(&a.value);
        if u {
            unknown.insert(k.clone());
        }
        out.insert(k.clone(), j);
    }
    let mut names: Vec<&str> = body.blocks.iter().map(|b| b.ident.as_str()).collect();
    names.dedup();
    for name in names {
        let mut list = Vec::new();
        for b in body.blocks(name) {
            let (inner, u) = config_json(&b.body);
            if !u.is_empty() {
                unknown.insert(name.to_string());
            }
            list.push(J::Object(inner));
        }
        out.insert(name.to_string(), J::Array(list));
    }
    (out, unknown)
}

/// Blocks differ when any configured sub-attribute differs, by the attribute's type
/// (sub-attributes the cloud computed are not compared).
fn blocks_differ(schema: &BlockSchema, cfg: &J, prior: Option<&J>) -> bool {
    let (Some(c), Some(p)) = (cfg.as_array(), prior.and_then(|p| p.as_array())) else {
        return cfg.as_array().is_some_and(|c| !c.is_empty());
    };
    if c.len() != p.len() {
        return true;
    }
    c.iter().zip(p).any(|(cb, pb)| match cb.as_object() {
        Some(o) => o.iter().any(|(k, v)| {
            if let Some(inner) = schema.blocks.iter().find(|b| b.name == k) {
                return blocks_differ(inner, v, pb.get(k));
            }
            let ty = schema
                .attrs
                .iter()
                .find(|a| a.name == k)
                .map(|a| a.ty)
                .unwrap_or(Ty::Any);
            !same_value(ty, v, pb.get(k))
        }),
        None => true,
    })
}

/// One instance's diff: its action, its values after, which are unknown, what forces a
/// replacement and what changes.
pub(super) struct Diffed {
    pub(super) action: Action,
    pub(super) after: J,
    pub(super) after_unknown: J,
    pub(super) replace_paths: Vec<String>,
    pub(super) changed: Vec<String>,
}

pub(super) fn diff(
    schema: &Schema,
    cfg: &Map<String, J>,
    unknown: &BTreeSet<String>,
    prior: Option<&J>,
    ignore: &[String],
) -> Diffed {
    let mut after_unknown = Map::new();
    for u in unknown {
        after_unknown.insert(u.clone(), J::Bool(true));
    }
    let Some(prior) = prior else {
        let mut after = cfg.clone();
        for u in unknown {
            after.insert(u.clone(), J::Null);
        }
        for a in schema.attrs.iter().filter(|a| a.update == Update::Computed) {
            after_unknown.insert(a.name.into(), J::Bool(true));
        }
        after_unknown.insert("id".into(), J::Bool(true));
        return Diffed {
            action: Action::Create,
            after: J::Object(after),
            after_unknown: J::Object(after_unknown),
            replace_paths: vec![],
            changed: vec![],
        };
    };
    let ignored = |n: &str| ignore.iter().any(|i| i == n || i == "*");
    let mut after = prior.as_object().cloned().unwrap_or_default();
    let mut update = false;
    let mut replace = Vec::new();
    let mut changed_names = Vec::new();
    for a in schema.attrs {
        if a.update == Update::Computed || ignored(a.name) {
            continue;
        }
        let prior_v = prior.get(a.name);
        let changed = match cfg.get(a.name) {
            Some(v) if unknown.contains(a.name) => {
                after.insert(a.name.into(), J::Null);
                let _ = v;
                true
            }
            // The value the configuration gives replaces the recorded one only when it
            // differs by the attribute's type: `"40"` stays 40 for a number.
            Some(v) if same_value(a.ty, v, prior_v) => false,
            Some(v) => {
                after.insert(a.name.into(), v.clone());
                true
            }
            None if a.cleared.is_some() && a.update == Update::InPlace => {
                let empty = a.cleared.map(|c| c.value()).unwrap_or_default();
                let had = prior_v.is_some_and(|p| {
                    !(p.is_null()
                        || p == &empty
                        || p.as_object().is_some_and(|o| o.is_empty())
                        || p.as_str() == Some(""))
                });
                if had {
                    after.insert(a.name.into(), empty);
                }
                had
            }
            None => false,
        };
        if changed {
            changed_names.push(a.name.to_string());
            match a.update {
                Update::ForceNew => replace.push(a.name.to_string()),
                _ => update = true,
            }
        }
    }
    for b in schema.blocks {
        if ignored(b.name) {
            continue;
        }
        if let Some(v) = cfg.get(b.name) {
            let changed = unknown.contains(b.name) || blocks_differ(b, v, prior.get(b.name));
            if changed {
                changed_names.push(b.name.to_string());
                after.insert(b.name.into(), v.clone());
                match b.update {
                    Update::ForceNew => replace.push(b.name.to_string()),
                    _ => update = true,
                }
            }
        }
    }
    let action = if !replace.is_empty() {
        Action::DeleteThenCreate
    } else if update {
        Action::Update
    } else {
        Action::NoOp
    };
    if action.is_replace() {
        for a in schema.attrs.iter().filter(|a| a.update == Update::Computed) {
            after_unknown.insert(a.name.into(), J::Bool(true));
        }
        after_unknown.insert("id".into(), J::Bool(true));
    }
    Diffed {
        action,
        after: J::Object(after),
        after_unknown: J::Object(after_unknown),
        replace_paths: replace,
        changed: changed_names,
    }
}

/// Objects the instance names by literal id (a pipeline's `COMPONENT ic-…`) must exist:
/// one that does not is an error at the attribute, before any call. Without a cloud
/// connection (the reader cannot look) nothing is checked.
pub(super) fn check_references(
    reader: &mut dyn Reader,
    inst: &Instance,
    kind: &str,
    cfg: &Map<String, J>,
    unknown: &BTreeSet<String>,
    diags: &mut Diagnostics,
) {
    let Ok(k) = crate::resource::kind(kind) else {
        return;
    };
    for r in k.references(&J::Object(cfg.clone())) {
        if unknown.contains(r.attr) {
            continue;
        }
        if let Ok(None) = reader.import(&inst.provider, r.kind, &r.id) {
            diags.push(
                Diagnostic::error(
                    "Reference to an object that does not exist",
                    format!(
                        "`{}` names {} {}, which does not exist in this region",
                        r.attr, r.kind, r.id
                    ),
                    Some(inst.body.span_of(r.attr)),
                )
                .with_hint(format!(
                    "create it with a `{}` resource and refer to its id, or correct the id",
                    r.kind
                )),
            );
        }
    }
}

/// The resource blocks `id` depends on, through locals and variables.
pub(super) fn resource_deps(ev: &Evaluated, id: &ResourceId) -> Vec<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![Node::Resource(id.clone())];
    let mut seen = BTreeSet::new();
    while let Some(n) = stack.pop() {
        for d in ev.graph.dependencies(&n) {
            if !seen.insert(d.clone()) {
                continue;
            }
            match d {
                Node::Resource(r) => {
                    out.insert(r.to_string());
                }
                other => stack.push(other.clone()),
            }
        }
    }
    out.into_iter().collect()
}

/// Renames state rows (`moved`): each `from` row becomes `to`, unless `to` is taken.
pub(super) fn rename_rows(
    state: &mut crate::state::State,
    pairs: Vec<(ResourceAddr, ResourceAddr)>,
    moved_from: &mut BTreeMap<ResourceAddr, ResourceAddr>,
) {
    for (from, to) in pairs {
        if state.resources.contains_key(&to) {
            continue;
        }
        if let Some(mut r) = state.resources.remove(&from) {
            r.addr = to.clone();
            state.resources.insert(to.clone(), r);
            moved_from.insert(to, from);
        }
    }
}

/// What a data source waits for: its own `depends_on`, and that of each module call it
/// is inside.
pub(super) fn data_deps<'a>(
    cfg: &'a crate::config::Config,
    r: &'a crate::config::Resource,
) -> Vec<&'a crate::config::DepTarget> {
    let mut out: Vec<&crate::config::DepTarget> = r.depends_on.iter().map(|d| &d.target).collect();
    let mut at = r.id.module.as_str();
    while !at.is_empty() {
        if let Some(i) = cfg.module_instances.get(at) {
            out.extend(i.depends_on.iter().map(|d| &d.target));
        }
        at = at.rfind(".module.").map(|p| &at[..p]).unwrap_or("");
    }
    out
}

/// Whether `t` names the resource `id` (itself, or a module it is in).
pub(super) fn dep_names(t: &crate::config::DepTarget, id: &ResourceId) -> bool {
    match t {
        crate::config::DepTarget::Resource(r) => r == id,
        crate::config::DepTarget::Module(k) => id
            .module
            .strip_prefix(k.as_str())
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')),
    }
}

/// The attributes of each resource that some expression reads, from every expression of
/// every configuration file: `None` for a resource read whole (`alicloud_image.a[0]`,
/// `[for i in alicloud_image.a : i]`, `a[0]["id"]`). `None` overall when a file cannot be
/// read as HCL here, so that nothing is left out.
pub(super) fn read_attributes(
    cfg: &crate::config::Config,
) -> Option<HashMap<ResourceId, Option<BTreeSet<String>>>> {
    use hcl_edit::visit::Visit;
    struct Refs<'a> {
        file: usize,
        module: &'a str,
        out: HashMap<ResourceId, Option<BTreeSet<String>>>,
    }
    impl Visit for Refs<'_> {
        fn visit_attr(&mut self, a: &hcl_edit::structure::Attribute) {
            for r in crate::config::refs::find(self.file, &a.value).refs {
                if let crate::config::refs::Target::Resource(id) = r.target {
                    let e = self
                        .out
                        .entry(id.in_module(self.module))
                        .or_insert_with(|| Some(BTreeSet::new()));
                    match (e.as_mut(), r.attr) {
                        (Some(set), Some(attr)) => {
                            set.insert(attr);
                        }
                        _ => *e = None,
                    }
                }
            }
        }
    }
    let mut refs = Refs {
        file: 0,
        module: "",
        out: HashMap::new(),
    };
    for (i, f) in cfg.sources.files().iter().enumerate() {
        let body = hcl_edit::parser::parse_body(&f.text).ok()?;
        refs.file = i;
        refs.module = &f.module;
        refs.visit_body(&body);
    }
    Some(refs.out)
}

/// An instance's value for the expressions that read it: only the attributes they read
/// (`read`, `None` for all), with the schema's unset ones (null, or no blocks) filled in.
pub(super) fn instance_value(
    schema: &crate::resource::Schema,
    after: &J,
    unknown: bool,
    read: Option<&BTreeSet<String>>,
) -> Value {
    if unknown {
        return Value::Unknown;
    }
    let wanted = |k: &str| read.is_none_or(|r| r.contains(k));
    let mut v = match (after, read) {
        (J::Object(o), Some(_)) => Value::Map(
            o.iter()
                .filter(|(k, _)| wanted(k))
                .map(|(k, v)| (k.clone(), Value::from_json(v)))
                .collect(),
        ),
        _ => Value::from_json(after),
    };
    if let Value::Map(m) = &mut v {
        for a in schema.attrs.iter().filter(|a| wanted(a.name)) {
            m.entry(a.name.to_string()).or_insert(Value::Null);
        }
        for b in schema.blocks.iter().filter(|b| wanted(b.name)) {
            m.entry(b.name.to_string())
                .or_insert_with(|| Value::List(vec![]));
        }
    }
    v
}

pub(super) fn aggregate(
    r: &crate::config::Resource,
    values: Vec<(Option<crate::addr::InstanceKey>, Value)>,
) -> Value {
    if r.count.is_some() {
        Value::List(values.into_iter().map(|v| v.1).collect())
    } else if r.for_each.is_some() {
        Value::Map(
            values
                .into_iter()
                .filter_map(|(k, v)| match k {
                    Some(crate::addr::InstanceKey::Str(s)) => Some((s, v)),
                    _ => None,
                })
                .collect(),
        )
    } else {
        values
            .into_iter()
            .next()
            .map(|v| v.1)
            .unwrap_or(Value::Unknown)
    }
}

pub use super::phases::plan;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_attributes_expressions_read_are_kept_and_a_whole_read_keeps_all() {
        let (cfg, diags) = crate::config::load::load_str(&[(
            "main.tf",
            r#"
resource "alicloud_image" "a" {
  count       = 2
  image_name  = "a-${count.index}"
  snapshot_id = "s-1"
}
resource "alicloud_image" "b" {
  count       = 2
  image_name  = "b-${count.index}"
  description = alicloud_image.a[count.index].id
  snapshot_id = alicloud_image.a[0].snapshot_id
}
resource "alicloud_image" "c" {
  image_name = "c"
  snapshot_id = "s-1"
}
output "all" {
  value = [for x in alicloud_image.b : x.id]
}
output "splat" {
  value = alicloud_image.c[*].image_name
}
"#,
        )]);
        assert!(!diags.has_errors());
        let read = read_attributes(&cfg).expect("every file reads as HCL");
        let a = read[&ResourceId::managed("alicloud_image", "a")].clone();
        assert_eq!(
            a,
            Some(
                ["id", "snapshot_id"]
                    .map(String::from)
                    .into_iter()
                    .collect()
            )
        );
        assert_eq!(read[&ResourceId::managed("alicloud_image", "b")], None);
        assert_eq!(
            read[&ResourceId::managed("alicloud_image", "c")],
            Some(["image_name".to_string()].into_iter().collect())
        );
        // The value handed to the evaluator holds what is read, unset ones as null.
        let v = instance_value(
            schema(),
            &json!({"id": "m-1", "image_name": "a-0", "size": 40}),
            false,
            a.as_ref(),
        );
        assert_eq!(
            v,
            Value::Map(BTreeMap::from([
                ("id".to_string(), Value::String("m-1".into())),
                ("snapshot_id".to_string(), Value::Null),
            ]))
        );
    }

    fn schema() -> &'static Schema {
        crate::resource::managed("alicloud_image").expect("schema")
    }

    fn m(v: J) -> Map<String, J> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn diff_table() {
        let prior = json!({"id": "m-1", "image_name": "a", "description": "d", "snapshot_id": "s-1", "tags": {"k": "v"}, "status": "Available"});
        let none = BTreeSet::new();
        // (config, unknown, expected action, replace paths)
        let cases: Vec<(J, Vec<&str>, Action, Vec<&str>)> = vec![
            (
                json!({"image_name": "a", "description": "d", "snapshot_id": "s-1", "tags": {"k": "v"}}),
                vec![],
                Action::NoOp,
                vec![],
            ),
            (
                json!({"image_name": "b", "description": "d", "snapshot_id": "s-1", "tags": {"k": "v"}}),
                vec![],
                Action::Update,
                vec![],
            ),
            (
                json!({"image_name": "a", "description": "d", "snapshot_id": "s-2", "tags": {"k": "v"}}),
                vec![],
                Action::DeleteThenCreate,
                vec!["snapshot_id"],
            ),
            (
                json!({"image_name": "a", "snapshot_id": "s-1", "tags": {"k": "v"}}),
                vec![],
                Action::Update,
                vec![],
            ),
            (
                json!({"image_name": "a", "description": "d", "snapshot_id": "s-1"}),
                vec![],
                Action::Update,
                vec![],
            ),
            (
                json!({"image_name": "a", "description": "d", "snapshot_id": null, "tags": {"k": "v"}}),
                vec!["snapshot_id"],
                Action::DeleteThenCreate,
                vec!["snapshot_id"],
            ),
            (
                json!({"image_name": null, "description": "d", "snapshot_id": "s-1", "tags": {"k": "v"}}),
                vec!["image_name"],
                Action::Update,
                vec![],
            ),
        ];
        for (cfg, unk, want, paths) in cases {
            let unknown: BTreeSet<String> = unk.iter().map(|s| s.to_string()).collect();
            let c = m(cfg.clone());
            let d = diff(
                schema(),
                &c,
                if unknown.is_empty() { &none } else { &unknown },
                Some(&prior),
                &[],
            );
            assert_eq!(d.action, want, "{cfg}");
            assert_eq!(d.replace_paths, paths, "{cfg}");
        }
        let d = diff(schema(), &m(json!({"image_name": "x"})), &none, None, &[]);
        assert_eq!(d.action, Action::Create);
        assert_eq!(d.after_unknown["id"], true);
        let d = diff(
            schema(),
            &m(
                json!({"image_name": "b", "description": "d", "snapshot_id": "s-1", "tags": {"k": "v"}}),
            ),
            &none,
            Some(&prior),
            &["image_name".into()],
        );
        assert_eq!(d.action, Action::NoOp, "ignore_changes");
    }

    #[test]
    fn block_comparison_ignores_computed_sub_attributes() {
        let mapping = &schema().blocks[0];
        let cfg = json!([{"snapshot_id": "s-1", "disk_type": "system"}]);
        let prior = json!([{"snapshot_id": "s-1", "disk_type": "system", "progress": "100%"}]);
        assert!(!blocks_differ(mapping, &cfg, Some(&prior)));
        assert!(blocks_differ(
            mapping,
            &json!([{"snapshot_id": "s-2"}]),
            Some(&prior)
        ));
        assert!(blocks_differ(
            mapping,
            &json!([{"snapshot_id": "s-1"}, {"snapshot_id": "s-3"}]),
            Some(&prior)
        ));
        // A number written as a string is the same number.
        let sized = json!([{"snapshot_id": "s-1", "size": 40}]);
        assert!(!blocks_differ(
            mapping,
            &json!([{"snapshot_id": "s-1", "size": "40"}]),
            Some(&sized)
        ));
        assert!(blocks_differ(
            mapping,
            &json!([{"snapshot_id": "s-1", "size": "50"}]),
            Some(&sized)
        ));
    }

    #[test]
    fn one_equality_rule_by_the_schema_type() {
        // `"40"` and 40 are the same number, `"true"` and true the same bool: no change,
        // and the plan keeps the recorded value, so nothing downstream sees a difference.
        let schema = crate::resource::managed("alicloud_ecs_image_pipeline").expect("schema");
        let prior = json!({"id": "p-1", "name": "n", "base_image_type": "IMAGE", "system_disk_size": 40, "delete_instance_on_failure": true, "tags": {"n": "1"}});
        let none = BTreeSet::new();
        let cfg = m(
            json!({"name": "n", "base_image_type": "IMAGE", "system_disk_size": "40", "delete_instance_on_failure": "true", "tags": {"n": 1}}),
        );
        let d = diff(schema, &cfg, &none, Some(&prior), &[]);
        assert_eq!(d.action, Action::NoOp);
        assert!(d.changed.is_empty(), "{:?}", d.changed);
        assert_eq!(d.after["system_disk_size"], 40);
        let cfg = m(
            json!({"name": "n", "base_image_type": "IMAGE", "system_disk_size": "50", "delete_instance_on_failure": "true", "tags": {"n": "2"}}),
        );
        let d = diff(schema, &cfg, &none, Some(&prior), &[]);
        assert_eq!(d.action, Action::DeleteThenCreate);
        assert_eq!(d.changed, ["system_disk_size", "tags"]);
        assert_eq!(d.replace_paths, ["system_disk_size"]);
    }
}
