//! Machine-readable output: the plan in Terraform's `show -json` format (so existing
//! policy and summary tools read it), and Terraform's machine-readable UI for `plan -json`
//! and `apply -json` (`version`, `refresh_start`, `planned_change`, `change_summary`,
//! `apply_start`, `apply_progress`, `apply_complete`, `apply_errored`, `outputs`,
//! `diagnostic`), with Terraform's message texts.

use crate::addr::{InstanceKey, Mode};
use crate::events::{Event, EventSink};
use crate::plan::model::Plan;
use serde_json::{json, Map, Value as J};
use std::io::Write;
use std::sync::Mutex;

const PROVIDER: &str = "registry.terraform.io/aliyun/alicloud";

/// The Terraform release whose `show -json` format imgform's plan JSON follows.
pub const TERRAFORM_FORMAT_VERSION: &str = "1.9.8";

fn addr_parts(a: &crate::addr::ResourceAddr) -> Map<String, J> {
    let mut m = Map::new();
    m.insert("address".into(), json!(a.to_string()));
    if !a.id.module.is_empty() {
        m.insert("module_address".into(), json!(a.id.module));
    }
    m.insert(
        "mode".into(),
        json!(if a.id.mode == Mode::Data {
            "data"
        } else {
            "managed"
        }),
    );
    m.insert("type".into(), json!(a.id.kind));
    m.insert("name".into(), json!(a.id.name));
    if let Some(k) = &a.key {
        m.insert(
            "index".into(),
            match k {
                InstanceKey::Int(i) => json!(i),
                InstanceKey::Str(s) => json!(s),
            },
        );
    }
    m
}

fn sensitive_map(v: Option<&J>, names: &[String]) -> J {
    let mut m = Map::new();
    if let Some(J::Object(o)) = v {
        for n in names {
            if o.contains_key(n) {
                m.insert(n.clone(), J::Bool(true));
            }
        }
    }
    J::Object(m)
}

fn strip_private(v: Option<&J>) -> J {
    match v {
        Some(J::Object(o)) => J::Object(
            o.iter()
                .filter(|(k, _)| !k.starts_with('_'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        Some(other) => other.clone(),
        None => J::Null,
    }
}

/// A state in Terraform's `values` shape (`show -json` of state, a plan's `prior_state`):
/// `outputs` and `root_module.resources[]`, each resource with its address parts,
/// `provider_name`, `values` (the attributes and `id`) and `sensitive_values`.
pub fn state_values(st: &crate::state::State) -> J {
    let resources: Vec<J> = st.resources.values().map(state_resource_json).collect();
    let outputs: Map<String, J> = st
        .outputs
        .iter()
        .map(|(k, o)| {
            (
                k.clone(),
                json!({"sensitive": o.sensitive, "value": o.value, "type": type_of(&o.value)}),
            )
        })
        .collect();
    // Terraform's `StateValues` omits `outputs` when there are none (`omitempty`).
    let mut v = Map::new();
    if !outputs.is_empty() {
        v.insert("outputs".into(), J::Object(outputs));
    }
    v.insert("root_module".into(), module_tree(resources));
    J::Object(v)
}

/// One resource of a state's module tree: its address parts, `values` (with `id`) and
/// `sensitive_values`.
fn state_resource_json(r: &crate::state::ResourceState) -> J {
    let mut m = addr_parts(&r.addr);
    m.insert("provider_name".into(), json!(PROVIDER));
    m.insert("schema_version".into(), json!(0));
    let mut values = strip_private(Some(&r.attrs.value()));
    if let (Some(o), Some(id)) = (values.as_object_mut(), &r.id) {
        o.insert("id".into(), json!(id));
    }
    let secret = crate::state::sensitive_attrs(r);
    m.insert(
        "sensitive_values".into(),
        sensitive_map(Some(&values), &secret),
    );
    m.insert("values".into(), values);
    J::Object(m)
}

/// The caller of module instance `path` (`module.a[0]` for `module.a[0].module.b`).
fn parent_module(path: &str) -> &str {
    path.rfind(".module.").map(|i| &path[..i]).unwrap_or("")
}

/// Terraform's module tree: `{"resources": [...], "child_modules": [{"address":
/// "module.x", "resources": [...], "child_modules": [...]}]}`, from resources that carry
/// their `module_address`.
pub fn module_tree(resources: Vec<J>) -> J {
    let mut by_module: std::collections::BTreeMap<String, Vec<J>> = Default::default();
    for mut r in resources {
        // `module_address` belongs to resource_changes; values resources have none.
        let m = match r.as_object_mut().and_then(|o| o.remove("module_address")) {
            Some(J::String(m)) => m,
            _ => String::new(),
        };
        // Intermediate modules without resources of their own are still in the tree.
        let mut at = m.as_str();
        while !at.is_empty() {
            by_module.entry(at.to_string()).or_default();
            at = parent_module(at);
        }
        by_module.entry(m).or_default().push(r);
    }
    fn node(path: &str, by: &std::collections::BTreeMap<String, Vec<J>>) -> J {
        let mut m = Map::new();
        if !path.is_empty() {
            m.insert("address".into(), json!(path));
        }
        // Terraform omits an empty list (`"root_module": {}` for a state with nothing).
        if let Some(rs) = by.get(path).filter(|rs| !rs.is_empty()) {
            m.insert("resources".into(), J::Array(rs.clone()));
        }
        let children: Vec<J> = by
            .keys()
            .filter(|k| !k.is_empty() && parent_module(k) == path)
            .map(|k| node(k, by))
            .collect();
        if !children.is_empty() {
            m.insert("child_modules".into(), J::Array(children));
        }
        J::Object(m)
    }
    node("", &by_module)
}

/// A value's type in Terraform's JSON type notation.
fn type_of(v: &J) -> J {
    match v {
        J::String(_) => json!("string"),
        J::Number(_) => json!("number"),
        J::Bool(_) => json!("bool"),
        J::Array(a) => json!(["tuple", a.iter().map(type_of).collect::<Vec<_>>()]),
        J::Object(o) => json!([
            "object",
            o.iter()
                .map(|(k, v)| (k.clone(), type_of(v)))
                .collect::<Map<_, _>>()
        ]),
        J::Null => json!("dynamic"),
    }
}

/// `show -json` of a state, as Terraform prints it.
pub fn state(st: &crate::state::State) -> J {
    json!({
        "format_version": "1.0",
        "terraform_version": TERRAFORM_FORMAT_VERSION,
        "values": state_values(st),
    })
}

/// An object's values as Terraform writes a planned object: every attribute of its schema,
/// the unset ones `null` (unset blocks `[]`), except those known only after apply.
fn with_unset(kind: &str, v: J, unknown: &J) -> J {
    let (J::Object(mut o), Some(schema)) = (v.clone(), crate::resource::managed(kind)) else {
        return v;
    };
    let pending = |k: &str| unknown.get(k).is_some_and(|u| u == &J::Bool(true));
    for a in schema.attrs {
        if !o.contains_key(a.name) && !pending(a.name) {
            o.insert(a.name.into(), J::Null);
        }
    }
    for b in schema.blocks {
        if !o.contains_key(b.name) && !pending(b.name) {
            o.insert(b.name.into(), json!([]));
        }
    }
    sorted(J::Object(o))
}

/// Object keys in order at every depth, as Terraform writes values (cty's JSON sorts them).
fn sorted(v: J) -> J {
    match v {
        J::Object(o) => {
            let mut entries: Vec<(String, J)> = o.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            J::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        J::Array(a) => J::Array(a.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// The plan as Terraform's `show -json` document.
/// One `resource_changes` entry.
fn change_json(p: &Plan, c: &crate::plan::model::Change) -> J {
    let mut m = addr_parts(&c.addr);
    if let Some(prev) = &c.prev_addr {
        m.insert("previous_address".into(), json!(prev.to_string()));
    }
    m.insert("provider_name".into(), json!(PROVIDER));
    let (before, after) = p.before_after(c);
    let mut ch = Map::new();
    ch.insert("actions".into(), json!(c.action.terraform_actions()));
    ch.insert(
        "before".into(),
        match before.as_deref() {
            None | Some(J::Null) => J::Null,
            b => with_unset(&c.kind, strip_private(b), &J::Null),
        },
    );
    ch.insert(
        "after".into(),
        if matches!(
            c.action,
            crate::plan::model::Action::Delete | crate::plan::model::Action::Forget
        ) {
            J::Null
        } else {
            with_unset(&c.kind, strip_private(after.as_deref()), &c.after_unknown)
        },
    );
    ch.insert("after_unknown".into(), c.after_unknown.clone());
    // Terraform's `false` where there is no object (before a create, after a
    // delete), the map of sensitive paths where there is one.
    let gone = matches!(
        c.action,
        crate::plan::model::Action::Delete | crate::plan::model::Action::Forget
    );
    ch.insert(
        "before_sensitive".into(),
        match before.as_deref() {
            None | Some(J::Null) => json!(false),
            b => sensitive_map(b, &c.sensitive),
        },
    );
    ch.insert(
        "after_sensitive".into(),
        if gone {
            json!(false)
        } else {
            sensitive_map(after.as_deref(), &c.sensitive)
        },
    );
    if !c.replace_paths.is_empty() {
        ch.insert(
            "replace_paths".into(),
            json!(c.replace_paths.iter().map(|p| vec![p]).collect::<Vec<_>>()),
        );
    }
    if let Some(id) = &c.importing {
        ch.insert("importing".into(), json!({ "id": id }));
    }
    m.insert("change".into(), J::Object(ch));
    if let Some(r) = &c.reason {
        m.insert("action_reason".into(), json!(r));
    }
    J::Object(m)
}

/// The plan as Terraform's `show -json` document (read back from [`write_plan`]: one
/// way to write it).
pub fn plan(p: &Plan) -> J {
    let mut text = Vec::new();
    write_plan(p, &mut text).expect("writing to memory");
    serde_json::from_slice(&text).expect("the document is JSON")
}

/// Terraform's `output_changes`: an unknown value is not written (it omits `after`).
fn output_changes(p: &Plan) -> Map<String, J> {
    p.outputs
        .iter()
        .map(|(k, o)| {
            let actions = match o.action.as_str() {
                "create" => vec!["create"],
                "delete" => vec!["delete"],
                "update" => vec!["update"],
                _ => vec!["no-op"],
            };
            let mut v = json!({"actions": actions, "before": o.before, "after": o.after, "after_unknown": o.after_unknown, "before_sensitive": o.sensitive, "after_sensitive": o.sensitive});
            if o.after_unknown {
                v.as_object_mut().expect("an object").shift_remove("after");
            }
            (k.clone(), v)
        })
        .collect()
}

/// The plan's document without its three large parts, which [`write_plan`] streams in
/// the place of their placeholders.
fn skeleton(p: &Plan) -> J {
    let drift: Vec<J> = p
        .drift
        .iter()
        .map(|d| {
            let mut m = addr_parts(&d.addr);
            m.insert("provider_name".into(), json!(PROVIDER));
            m.insert("change".into(), json!({"actions": [if d.deleted { "delete" } else { "update" }], "before": d.before, "after": if d.deleted { J::Null } else { d.after.clone() }, "after_unknown": {}, "before_sensitive": {}, "after_sensitive": {}}));
            J::Object(m)
        })
        .collect();
    let output_changes = output_changes(p);
    // Terraform's planned outputs: each known value with its type, an unknown one only
    // with its sensitivity; and its refreshed state holds the outputs known at plan time.
    let planned_outputs: Map<String, J> = p
        .outputs
        .iter()
        .filter(|(_, o)| o.action != "delete")
        .map(|(k, o)| {
            let v = if o.after_unknown {
                json!({"sensitive": o.sensitive})
            } else {
                json!({"sensitive": o.sensitive, "type": type_of(&o.after), "value": o.after})
            };
            (k.clone(), v)
        })
        .collect();
    let known: Map<String, J> = p
        .outputs
        .iter()
        .filter(|(_, o)| o.action != "delete" && !o.after_unknown)
        .map(|(k, o)| {
            (
                k.clone(),
                json!({"sensitive": o.sensitive, "value": o.after, "type": type_of(&o.after)}),
            )
        })
        .collect();
    // Terraform's StateValues: outputs (when there are any), then the module tree.
    let prior = if known.is_empty() {
        json!({"format_version": "1.0", "terraform_version": TERRAFORM_FORMAT_VERSION, "values": {"root_module": PRIOR}})
    } else {
        json!({"format_version": "1.0", "terraform_version": TERRAFORM_FORMAT_VERSION, "values": {"outputs": known, "root_module": PRIOR}})
    };
    let mut doc = json!({
        "format_version": "1.2",
        // A Terraform version string (tools parse it as one): the Terraform release whose
        // JSON format this document follows. imgform's own version has its own key.
        "terraform_version": TERRAFORM_FORMAT_VERSION,
        "imgform_version": env!("CARGO_PKG_VERSION"),
        "variables": p.vars.iter().map(|(k, v)| (k.clone(), json!({"value": v}))).collect::<Map<_, _>>(),
        "planned_values": if planned_outputs.is_empty() {
            json!({"root_module": PLANNED})
        } else {
            json!({"outputs": planned_outputs, "root_module": PLANNED})
        },
        "resource_drift": drift,
        "resource_changes": if p.changes.is_empty() { json!([]) } else { json!(CHANGES) },
        "output_changes": output_changes,
        "prior_state": prior,
        "configuration": if p.configuration.is_null() {
            json!({"provider_config": {"alicloud": {"name": "alicloud", "full_name": PROVIDER}}, "root_module": {}})
        } else {
            p.configuration.clone()
        },
        "relevant_attributes": if p.relevant_attributes.is_null() { json!([]) } else { p.relevant_attributes.clone() },
        "timestamp": time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "applyable": p.has_changes(),
        "complete": p.options.targets.is_empty(),
        "errored": false,
    });
    // Keys Terraform omits when empty (`omitempty`): tools test for their presence.
    if let Some(o) = doc.as_object_mut() {
        for k in [
            "resource_drift",
            "resource_changes",
            "output_changes",
            "variables",
            "relevant_attributes",
        ] {
            if o.get(k).is_some_and(|v| {
                v.as_array().is_some_and(|a| a.is_empty())
                    || v.as_object().is_some_and(|m| m.is_empty())
            }) {
                o.shift_remove(k);
            }
        }
    }
    doc
}

/// Writes the plan as Terraform's `show -json` document to `w`, one resource at a time:
/// the resource changes, planned values and prior state are never held whole (a plan of
/// 50,000 images held them three times over).
pub fn write_plan(p: &Plan, w: &mut dyn Write) -> std::io::Result<()> {
    let doc = skeleton(p);
    let planned: Vec<&crate::plan::model::Change> = p
        .changes
        .iter()
        .filter(|c| {
            !matches!(
                c.action,
                crate::plan::model::Action::Delete | crate::plan::model::Action::Forget
            )
        })
        .collect();
    // The small skeleton is written as it is; its three placeholders become the streams.
    let skeleton = serde_json::to_string(&doc)?;
    let rows: Vec<&crate::state::ResourceState> = p.prior_state.resources.values().collect();
    let mut rest = skeleton.as_str();
    let quoted = |m: &str| serde_json::to_string(m).expect("a string serialises");
    while let Some((at, which)) = [PLANNED, CHANGES, PRIOR]
        .iter()
        .filter_map(|m| rest.find(&quoted(m)).map(|i| (i, *m)))
        .min()
    {
        w.write_all(&rest.as_bytes()[..at])?;
        rest = &rest[at + quoted(which).len()..];
        match which {
            PLANNED => write_tree(
                w,
                planned.iter().map(|c| c.addr.id.module.as_str()).collect(),
                &|i| planned_json(p, planned[i]),
            )?,
            CHANGES => {
                w.write_all(b"[")?;
                for (i, c) in p.changes.iter().enumerate() {
                    if i > 0 {
                        w.write_all(b",")?;
                    }
                    serde_json::to_writer(&mut *w, &change_json(p, c))?;
                }
                w.write_all(b"]")?;
            }
            _ => write_tree(
                w,
                rows.iter().map(|r| r.addr.id.module.as_str()).collect(),
                &|i| state_resource_json(rows[i]),
            )?,
        }
    }
    w.write_all(rest.as_bytes())
}

/// Where the streams go in the skeleton of [`write_plan`].
const PLANNED: &str = "\u{0}planned\u{0}";
const CHANGES: &str = "\u{0}changes\u{0}";
const PRIOR: &str = "\u{0}prior\u{0}";

/// One `planned_values` resource.
fn planned_json(p: &Plan, c: &crate::plan::model::Change) -> J {
    let mut m = addr_parts(&c.addr);
    m.insert("provider_name".into(), json!(PROVIDER));
    m.insert("schema_version".into(), json!(0));
    let (_, after) = p.before_after(c);
    m.insert(
        "values".into(),
        with_unset(&c.kind, strip_private(after.as_deref()), &c.after_unknown),
    );
    m.insert(
        "sensitive_values".into(),
        sensitive_map(after.as_deref(), &c.sensitive),
    );
    J::Object(m)
}

/// Writes Terraform's module tree of resources in modules `modules` (the module of each
/// resource, by index), making each resource's JSON with `make` as it is written.
fn write_tree(
    w: &mut dyn Write,
    modules: Vec<&str>,
    make: &dyn Fn(usize) -> J,
) -> std::io::Result<()> {
    let mut by: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    by.entry("").or_default();
    for (i, m) in modules.iter().enumerate() {
        let mut at = *m;
        while !at.is_empty() {
            by.entry(at).or_default();
            at = parent_module(at);
        }
        by.entry(m).or_default().push(i);
    }
    fn node(
        w: &mut dyn Write,
        path: &str,
        by: &std::collections::BTreeMap<&str, Vec<usize>>,
        make: &dyn Fn(usize) -> J,
    ) -> std::io::Result<()> {
        let mut first = true;
        let mut sep = |w: &mut dyn Write| -> std::io::Result<()> {
            if !std::mem::take(&mut first) {
                w.write_all(b",")?;
            }
            Ok(())
        };
        w.write_all(b"{")?;
        if !path.is_empty() {
            sep(w)?;
            write!(w, "\"address\":{}", J::String(path.to_string()))?;
        }
        // Terraform omits an empty list (`"root_module": {}` for a state with nothing).
        if let Some(rs) = by.get(path).filter(|rs| !rs.is_empty()) {
            sep(w)?;
            w.write_all(b"\"resources\":[")?;
            for (n, i) in rs.iter().enumerate() {
                if n > 0 {
                    w.write_all(b",")?;
                }
                let mut r = make(*i);
                // `module_address` belongs to resource_changes; a tree's resources have none.
                if let Some(o) = r.as_object_mut() {
                    o.shift_remove("module_address");
                }
                serde_json::to_writer(&mut *w, &r)?;
            }
            w.write_all(b"]")?;
        }
        let children: Vec<&str> = by
            .keys()
            .filter(|k| !k.is_empty() && parent_module(k) == path)
            .copied()
            .collect();
        if !children.is_empty() {
            sep(w)?;
            w.write_all(b"\"child_modules\":[")?;
            for (n, c) in children.iter().enumerate() {
                if n > 0 {
                    w.write_all(b",")?;
                }
                node(w, c, by, make)?;
            }
            w.write_all(b"]")?;
        }
        w.write_all(b"}")
    }
    node(w, "", &by, make)
}

fn ts() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The version of Terraform's machine-readable UI these lines follow.
pub const UI_VERSION: &str = "1.2";

/// Terraform's machine-readable UI (`plan -json`, `apply -json`): one JSON object per line
/// on stdout, with Terraform's types, shapes and message texts. `apply_progress` comes
/// every `every` per object (Terraform's 10 s), not on every poll.
pub struct JsonLines {
    out: Mutex<Box<dyn Write + Send>>,
    every: std::time::Duration,
    last: Mutex<std::collections::HashMap<crate::addr::ResourceAddr, tokio::time::Instant>>,
}

impl Default for JsonLines {
    fn default() -> Self {
        JsonLines::new(
            std::time::Duration::from_secs(10),
            Box::new(std::io::stdout()),
        )
    }
}

impl JsonLines {
    /// Lines written to `out`, progress at most every `every` per object.
    pub fn new(every: std::time::Duration, out: Box<dyn Write + Send>) -> JsonLines {
        JsonLines {
            out: Mutex::new(out),
            every,
            last: Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Writes one message.
    pub fn write(&self, v: J) {
        if let Ok(mut o) = self.out.lock() {
            let _ = writeln!(o, "{v}");
            let _ = o.flush();
        }
    }

    /// A message with Terraform's common fields.
    pub fn message(&self, level: &str, typ: &str, msg: &str, extra: J) {
        let mut v = json!({"@level": level, "@message": msg, "@module": "terraform.ui", "@timestamp": ts(), "type": typ});
        if let (Some(o), J::Object(e)) = (v.as_object_mut(), extra) {
            o.extend(e);
        }
        self.write(v);
    }

    /// The first line: which Terraform format and UI version the stream follows, and
    /// imgform's own version beside them.
    pub fn version(&self) {
        self.message(
            "info",
            "version",
            &format!("Terraform {TERRAFORM_FORMAT_VERSION}"),
            json!({"terraform": TERRAFORM_FORMAT_VERSION, "ui": UI_VERSION, "imgform": env!("CARGO_PKG_VERSION")}),
        );
    }

    /// One diagnostic (`Error: ...` / `Warning: ...`).
    pub fn diagnostic(&self, sources: &crate::diag::Sources, d: &crate::diag::Diagnostic) {
        let (level, word) = match d.severity {
            crate::diag::Severity::Error => ("error", "Error"),
            crate::diag::Severity::Warning => ("warn", "Warning"),
        };
        self.message(
            level,
            "diagnostic",
            &format!("{word}: {}", d.summary),
            json!({"diagnostic": crate::render::diag::json_diag(sources, d)}),
        );
    }

    /// Every diagnostic of `diags`.
    pub fn diagnostics(&self, sources: &crate::diag::Sources, diags: &crate::diag::Diagnostics) {
        for d in &diags.0 {
            self.diagnostic(sources, d);
        }
    }

    /// An error that has no place in the configuration.
    pub fn error(&self, summary: &str, detail: &str) {
        self.message(
            "error",
            "diagnostic",
            &format!("Error: {summary}"),
            json!({"diagnostic": {"severity": "error", "summary": summary, "detail": detail}}),
        );
    }

    /// A plan as Terraform streams it: drift, each planned change, the summary and the
    /// root module's output changes.
    pub fn plan(&self, p: &Plan) {
        use crate::plan::model::Action;
        for d in &p.drift {
            let action = if d.deleted { "delete" } else { "update" };
            self.message(
                "info",
                "resource_drift",
                &format!("{}: Drift detected ({action})", d.addr),
                json!({"change": {"resource": resource(&d.addr), "action": action}}),
            );
        }
        for c in &p.changes {
            let mut action = match c.action {
                Action::NoOp => "noop",
                Action::Create | Action::Resume => "create",
                Action::Update => "update",
                Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
                Action::Delete => "delete",
                Action::Read => "read",
                Action::Forget => "remove",
            };
            if action == "noop" && c.prev_addr.is_some() {
                action = "move";
            }
            if action == "noop" && c.importing.is_some() {
                action = "import";
            }
            if action == "noop" {
                continue;
            }
            let mut change = json!({"resource": resource(&c.addr), "action": action});
            if let Some(prev) = &c.prev_addr {
                change["previous_resource"] = resource(prev);
            }
            if let Some(r) = c.reason.as_deref().and_then(stream_reason) {
                change["reason"] = json!(r);
            }
            if let Some(i) = &c.importing {
                change["importing"] = json!({"id": i});
            }
            self.message(
                "info",
                "planned_change",
                &format!("{}: Plan to {action}", c.addr),
                json!({ "change": change }),
            );
        }
        // Terraform's streamed summary counts no forgets (its human plan line does).
        let n = crate::plan::model::Counts {
            forget: 0,
            ..p.counts()
        };
        let cs = json!({"add": n.add, "change": n.change, "import": n.import, "remove": n.destroy, "operation": if p.options.destroy { "destroy" } else { "plan" }});
        self.message(
            "info",
            "change_summary",
            &crate::render::plan::summary_line(&n),
            json!({ "changes": cs }),
        );
        if !p.outputs.is_empty() {
            let outs: Map<String, J> = p
                .outputs
                .iter()
                .map(|(k, o)| {
                    let action = match o.action.as_str() {
                        "no-op" => "noop",
                        a => a,
                    };
                    (
                        k.clone(),
                        json!({"sensitive": o.sensitive, "action": action}),
                    )
                })
                .collect();
            self.outputs_message(outs);
        }
        if let Some((summary, detail)) = crate::render::plan::forget_warning(p) {
            self.message(
                "warn",
                "diagnostic",
                &format!("Warning: {summary}"),
                json!({"diagnostic": {"severity": "warning", "summary": summary, "detail": detail}}),
            );
        }
    }

    /// Terraform's `outputs` message (`Outputs: N`).
    fn outputs_message(&self, outs: Map<String, J>) {
        self.message(
            "info",
            "outputs",
            &format!("Outputs: {}", outs.len()),
            json!({ "outputs": outs }),
        );
    }

    /// What an apply did (`Apply complete! ...`), then the outputs, values of sensitive
    /// ones left out, as Terraform streams them.
    pub fn applied(&self, destroy: bool, out: &crate::apply::walk::Outcome) {
        let text = crate::render::plan::apply_summary(destroy, out);
        self.message(
            "info",
            "change_summary",
            &text,
            json!({"changes": {"add": out.added, "change": out.changed, "import": out.imported, "remove": out.destroyed, "operation": if destroy { "destroy" } else { "apply" }}}),
        );
        self.outputs(&out.outputs);
    }

    /// The root module's outputs with their values (sensitive values left out).
    pub fn outputs(&self, outputs: &std::collections::BTreeMap<String, crate::state::OutputState>) {
        if outputs.is_empty() {
            return;
        }
        let outs: Map<String, J> = outputs
            .iter()
            .map(|(k, v)| {
                let mut o = json!({"sensitive": v.sensitive, "type": type_of(&v.value)});
                if !v.sensitive {
                    o["value"] = v.value.clone();
                }
                (k.clone(), o)
            })
            .collect();
        self.outputs_message(outs);
    }
}

/// Terraform's short reason names in the streamed `planned_change` (the `show -json`
/// document keeps the long ones); imgform's own reasons have none.
fn stream_reason(r: &str) -> Option<&'static str> {
    Some(match r {
        "replace_because_tainted" => "tainted",
        "replace_by_request" => "requested",
        "replace_because_cannot_update" => "cannot_update",
        "replace_by_triggers" => "replace_triggered_by",
        "delete_because_no_resource_config" => "delete_because_no_resource_config",
        "delete_because_wrong_repetition" => "delete_because_wrong_repetition",
        "delete_because_count_index" => "delete_because_count_index",
        "delete_because_each_key" => "delete_because_each_key",
        "delete_because_no_module" => "delete_because_no_module",
        "delete_because_no_move_target" => "delete_because_no_move_target",
        "read_because_config_unknown" => "read_because_config_unknown",
        "read_because_dependency_pending" => "read_because_dependency_pending",
        _ => return None,
    })
}

/// Terraform's resource address object: the module path and the address within it apart.
fn resource(a: &crate::addr::ResourceAddr) -> J {
    let mut within = a.clone();
    within.id.module = String::new();
    json!({
        "addr": a.to_string(), "module": a.id.module, "resource": within.to_string(), "implied_provider": "alicloud",
        "resource_type": a.id.kind, "resource_name": a.id.name,
        "resource_key": a.key.as_ref().map(|k| match k { InstanceKey::Int(i) => json!(i), InstanceKey::Str(s) => json!(s) }),
    })
}

/// Terraform's verbs: `Creating...`, `Still creating...`, `Creation complete`.
fn verbs(v: crate::events::Verb) -> (&'static str, &'static str, &'static str) {
    use crate::events::Verb;
    match v {
        Verb::Create => ("Creating", "creating", "Creation"),
        Verb::Update => ("Modifying", "modifying", "Modifications"),
        Verb::Delete => ("Destroying", "destroying", "Destruction"),
        Verb::Read => ("Refreshing", "refreshing", "Refresh"),
    }
}

fn id_suffix(id: Option<&str>) -> String {
    id.filter(|i| !i.is_empty())
        .map(|i| format!(" [id={i}]"))
        .unwrap_or_default()
}

impl EventSink for JsonLines {
    fn emit(&self, e: Event) {
        use crate::render::apply::elapsed as go_duration;
        match e {
            Event::Start { addr, verb, id } => {
                self.last
                    .lock()
                    .expect("never poisoned")
                    .insert(addr.clone(), tokio::time::Instant::now());
                let mut hook = json!({"resource": resource(&addr), "action": verb.as_str()});
                if let Some(id) = id.as_deref().filter(|i| !i.is_empty()) {
                    hook["id_key"] = json!("id");
                    hook["id_value"] = json!(id);
                }
                let msg = format!("{addr}: {}...{}", verbs(verb).0, id_suffix(id.as_deref()));
                self.message("info", "apply_start", &msg, json!({ "hook": hook }));
            }
            Event::Progress {
                addr,
                verb,
                elapsed,
                percent,
                status,
            } => {
                let mut g = self.last.lock().expect("never poisoned");
                if g.get(&addr).is_some_and(|t| t.elapsed() < self.every) {
                    return;
                }
                g.insert(addr.clone(), tokio::time::Instant::now());
                drop(g);
                let mut hook = json!({"resource": resource(&addr), "action": verb.as_str(), "elapsed_seconds": elapsed.as_secs()});
                // The cloud's own progress, which Terraform's providers cannot report.
                if let Some(p) = percent {
                    hook["progress_percent"] = json!(p);
                }
                if !status.is_empty() {
                    hook["status"] = json!(status);
                }
                let msg = format!(
                    "{addr}: Still {}... [{} elapsed]",
                    verbs(verb).1,
                    go_duration(elapsed)
                );
                self.message("info", "apply_progress", &msg, json!({ "hook": hook }));
            }
            Event::Complete {
                addr,
                verb,
                elapsed,
                id,
            } => {
                self.last.lock().expect("never poisoned").remove(&addr);
                let mut hook = json!({"resource": resource(&addr), "action": verb.as_str(), "elapsed_seconds": elapsed.as_secs()});
                if let Some(id) = id.as_deref().filter(|i| !i.is_empty()) {
                    hook["id_key"] = json!("id");
                    hook["id_value"] = json!(id);
                }
                let msg = format!(
                    "{addr}: {} complete after {}{}",
                    verbs(verb).2,
                    go_duration(elapsed),
                    id_suffix(id.as_deref())
                );
                self.message("info", "apply_complete", &msg, json!({ "hook": hook }));
            }
            Event::Errored {
                addr,
                verb,
                elapsed,
                error,
            } => {
                self.last.lock().expect("never poisoned").remove(&addr);
                let msg = format!(
                    "{addr}: {} errored after {}",
                    verbs(verb).2,
                    go_duration(elapsed)
                );
                self.message(
                    "error",
                    "apply_errored",
                    &msg,
                    json!({"hook": {"resource": resource(&addr), "action": verb.as_str(), "elapsed_seconds": elapsed.as_secs()}}),
                );
                // As in Terraform, the error itself follows as a diagnostic.
                self.error(
                    &format!("{addr}: {} failed", verbs(verb).2.to_lowercase()),
                    &error,
                );
            }
            Event::Skipped { addr, reason } => self.message(
                "warn",
                "log",
                &format!("{addr}: Skipped ({reason})"),
                json!({}),
            ),
            Event::Warning(w) => self.message("warn", "log", &format!("Warning: {w}"), json!({})),
            Event::RefreshStart { addr, id } => self.message(
                "info",
                "refresh_start",
                &format!("{addr}: Refreshing state...{}", id_suffix(Some(&id))),
                json!({"hook": {"resource": resource(&addr), "id_key": "id", "id_value": id}}),
            ),
            Event::RefreshComplete { addr, id } => self.message(
                "info",
                "refresh_complete",
                &format!("{addr}: Refresh complete{}", id_suffix(Some(&id))),
                json!({"hook": {"resource": resource(&addr), "id_key": "id", "id_value": id}}),
            ),
        }
    }
}
