//! The planner: a pure function from the evaluated configuration and the refreshed state to
//! a [`Plan`]. It walks the configuration in dependency order so that resources that do
//! not change make their recorded values known to their dependents (a second plan after an
//! apply is empty), and values that depend on unapplied resources stay unknown
//! (`(known after apply)`).

use super::model::*;
use crate::addr::{ResourceAddr, ResourceId};
use crate::config::check::{Evaluated, Node};
use crate::resource::objects::{Finding, Sort};
use crate::resource::EvalBody;
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
    /// Starts reading the objects of a batch in the background (the planner goes on while
    /// the cloud answers); `None` when this reader reaches no cloud.
    fn start(&mut self, batch: &Batch) -> Option<Started>;
    /// Waits for the reads started: for each, the verdict on each id, or why it failed.
    fn wait(&mut self, started: Vec<Started>) -> Vec<Result<HashMap<String, Finding>, String>>;
    /// Whether this reader reaches a cloud: one that does not (tests that plan offline)
    /// checks no named object.
    fn online(&self) -> bool {
        true
    }
}

/// A read of a [`Batch`] under way, judged by its sort's rules as it arrives.
pub type Started =
    futures_util::future::BoxFuture<'static, Result<HashMap<String, Finding>, String>>;

/// One batched read of objects a configuration names: as many ids as one call of the
/// lookup reads, in one region.
#[derive(Debug, Clone)]
pub struct Batch {
    /// The provider whose credentials read it.
    pub provider: String,
    /// The region read.
    pub region: String,
    /// What its objects are (read by the sort's lookup, judged by its rules).
    pub sort: &'static Sort,
    /// The ids.
    pub ids: Vec<String>,
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
    fn start(&mut self, _: &Batch) -> Option<Started> {
        None
    }
    fn wait(&mut self, started: Vec<Started>) -> Vec<Result<HashMap<String, Finding>, String>> {
        started
            .iter()
            .map(|_| Err("cannot read without a cloud connection".to_string()))
            .collect()
    }
    fn online(&self) -> bool {
        false
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
            crate::resource::managed("alicloud_image").expect("schema"),
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
}
