//! Module calls: `module "NAME" { source = "./path" ... }`.
//!
//! Loading reads the root module only. Once the root's variables are known, [`expand`]
//! resolves every call's source (a local path, or a module `terraform init` left in
//! `.terraform/modules/`), decides its instances from `count` or `for_each` (which, as in
//! Terraform, must be known before the plan), and reads the module's files once per
//! instance into the same [`Config`]: the files remember which instance they belong to, so
//! every reference written in them resolves within that instance
//! (`module.img[0].alicloud_image.this`), and the rest of imgform sees ordinary resources
//! with module addresses.

use super::check::{node_of, Node};
use super::eval::{eval, Scope};
use super::files::FileAccess;
use super::load;
use super::refs;
use super::types::Type;
use super::{scoped, Config, Expr, ModuleCall, ModuleInstance, ModuleNode, Repetition};
use crate::addr::InstanceKey;
use crate::diag::{did_you_mean, Diagnostic, Diagnostics};
use crate::value::Value;
use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};

/// How deep modules may nest (a chain of distinct modules; a module that calls itself is
/// found by its directory, at any depth).
pub const MAX_DEPTH: usize = 16;

/// What evaluating a call's `count`/`for_each` may see.
struct Statics<'a> {
    root: &'a Path,
    files: &'a FileAccess,
    vars: &'a BTreeMap<String, Value>,
    memo: BTreeMap<String, Value>,
}

/// Expands every module call of `cfg`, depth first through nested calls.
pub fn expand(
    cfg: &mut Config,
    root: &Path,
    files: &FileAccess,
    vars: &BTreeMap<String, Value>,
    diags: &mut Diagnostics,
) {
    let mut pending: VecDeque<ModuleCall> = std::mem::take(&mut cfg.module_calls).into();
    let mut st = Statics {
        root,
        files,
        vars,
        memo: BTreeMap::new(),
    };
    while let Some(call) = pending.pop_front() {
        expand_call(cfg, &mut st, &call, diags);
        pending.extend(std::mem::take(&mut cfg.module_calls));
    }
}

fn expand_call(cfg: &mut Config, st: &mut Statics, call: &ModuleCall, diags: &mut Diagnostics) {
    cfg.module_declared.insert(call.key());
    let depth = call.key().matches("module.").count();
    let Some(dir) = source_dir(cfg, st.root, call, diags) else {
        return;
    };
    if depth > MAX_DEPTH {
        diags.push(
            Diagnostic::error(
                "Modules nested too deeply",
                format!(
                    "module {:?} ({}) would be nested {depth} levels deep; imgform reads modules nested at most {MAX_DEPTH} levels deep",
                    call.name,
                    call.key()
                ),
                Some(call.source.1.clone()),
            )
            .with_hint("flatten the chain: call the innermost modules from a module higher up"),
        );
        return;
    }
    if ancestors_use(cfg, &call.parent, &dir) {
        diags.push(
            Diagnostic::error(
                "Module calls itself",
                format!(
                    "module {:?} reads {}, which one of its callers already reads: the modules would nest without end",
                    call.name,
                    dir.display()
                ),
                Some(call.source.1.clone()),
            )
            .with_hint("a module cannot call itself, directly or through another module"),
        );
        return;
    }
    let Some((repetition, keys)) = instance_keys(cfg, st, call, diags) else {
        return;
    };
    let key = call.key();
    let mut node = ModuleNode {
        instances: Vec::new(),
        repetition,
        source: call.source.0.clone(),
        count: call.count.clone(),
        for_each: call.for_each.clone(),
        span: call.span.clone(),
    };
    for (ikey, count_index, each) in keys {
        let path = format!(
            "{key}{}",
            ikey.as_ref().map(|k| k.to_string()).unwrap_or_default()
        );
        cfg.module_instances.insert(
            path.clone(),
            ModuleInstance {
                call: key.clone(),
                count_index,
                each,
                depends_on: call.depends_on.clone(),
                dir: dir.clone(),
            },
        );
        read_instance(cfg, &path, &dir, &call.source.1, diags);
        bind_inputs(cfg, call, &path, diags);
        map_providers(cfg, call, &path, diags);
        node.instances.push((ikey, path));
    }
    cfg.modules.insert(key, node);
}

/// Whether `dir` is the directory of `parent` or of one of its callers.
fn ancestors_use(cfg: &Config, parent: &str, dir: &Path) -> bool {
    let mut at = parent.to_string();
    while let Some(i) = cfg.module_instances.get(&at) {
        if same_dir(&i.dir, dir) {
            return true;
        }
        // The caller of `module.a[0].module.b` is `module.a[0]`.
        at = match at.rfind(".module.") {
            Some(p) => at[..p].to_string(),
            None => String::new(),
        };
    }
    false
}

/// `a/./b/../c` as `a/c`, without touching the filesystem (paths are shown to people).
fn lexical(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir
                if out
                    .components()
                    .next_back()
                    .is_some_and(|l| matches!(l, std::path::Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

/// The directory a call's source names: a local path from the calling module's directory,
/// or the directory `terraform init` installed a remote module into.
fn source_dir(
    cfg: &Config,
    root: &Path,
    call: &ModuleCall,
    diags: &mut Diagnostics,
) -> Option<PathBuf> {
    let (source, span) = &call.source;
    let caller_dir = match cfg.module_instances.get(&call.parent) {
        Some(i) => i.dir.clone(),
        None => root.to_path_buf(),
    };
    if source.starts_with("./") || source.starts_with("../") {
        let dir = caller_dir.join(source);
        let dir = lexical(&dir);
        if !dir.is_dir() {
            diags.push(
                Diagnostic::error(
                    "Unreadable module directory",
                    format!(
                        "the module source {source:?} is {}, which is not a directory",
                        dir.display()
                    ),
                    Some(span.clone()),
                )
                .with_hint("a local source is a path relative to the calling module's directory"),
            );
            return None;
        }
        return Some(dir);
    }
    if let Some(dir) = installed(root, call) {
        return Some(dir);
    }
    let kind = if source.starts_with('/') {
        "an absolute path"
    } else if source.contains("::") || source.starts_with("git@") || source.starts_with("http") {
        "a remote source"
    } else {
        "a registry module"
    };
    diags.push(
        Diagnostic::error(
            "Module not installed",
            format!(
                "the source {source:?} is {kind}; imgform reads local modules and the modules `terraform init` installed in .terraform/modules, and this one is in neither"
            ),
            Some(span.clone()),
        )
        .with_hint(if kind == "an absolute path" {
            "write the path relative to the calling module, starting with ./ or ../"
        } else {
            "run `terraform init` once to download it into .terraform/modules, or vendor the module into the repository and use a ./ path"
        }),
    );
    None
}

/// `.terraform/modules/modules.json` as `terraform init` writes it: `{"Modules": [{"Key":
/// "img.copy", "Source": ..., "Dir": ".terraform/modules/img.copy"}]}`, keys being the
/// call names from the root joined with dots.
fn installed(root: &Path, call: &ModuleCall) -> Option<PathBuf> {
    let manifest = root.join(".terraform/modules/modules.json");
    let text = std::fs::read_to_string(manifest).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    let mut names: Vec<String> = call
        .parent
        .split('.')
        .collect::<Vec<_>>()
        .chunks(2)
        .filter_map(|p| {
            p.get(1)
                .map(|n| n.split('[').next().unwrap_or(n).to_string())
        })
        .collect();
    names.push(call.name.clone());
    let key = names.join(".");
    let entry = doc
        .get("Modules")?
        .as_array()?
        .iter()
        .find(|m| m.get("Key").and_then(|k| k.as_str()) == Some(key.as_str()))?;
    let dir = root.join(entry.get("Dir")?.as_str()?);
    dir.is_dir().then_some(dir)
}

type Keys = Vec<super::check::Expansion>;

/// The call's instances, from `count` or `for_each` evaluated with variables and locals.
fn instance_keys(
    cfg: &Config,
    st: &mut Statics,
    call: &ModuleCall,
    diags: &mut Diagnostics,
) -> Option<(Repetition, Keys)> {
    let unknown = |what: &str, e: &Expr, diags: &mut Diagnostics| {
        diags.push(
            Diagnostic::error(
                format!("Invalid {what} argument"),
                format!("the {what} of a module must be known before the plan, and this one depends on values known only after apply"),
                Some(e.span.clone()),
            )
            .with_hint(format!("derive {what} from variables and locals only")),
        );
    };
    if let Some(c) = &call.count {
        let n = match static_eval(cfg, st, c, None, None, 0) {
            Ok(Value::Number(n)) if n >= 0.0 && n.fract() == 0.0 => n as u64,
            Ok(v) if v.has_unknown() => {
                unknown("count", c, diags);
                return None;
            }
            Ok(other) => {
                diags.push(Diagnostic::error(
                    "Invalid count argument",
                    format!("count must be a non-negative whole number, got {other}"),
                    Some(c.span.clone()),
                ));
                return None;
            }
            Err(d) => {
                diags.push(d);
                return None;
            }
        };
        let keys = (0..n)
            .map(|i| (Some(InstanceKey::Int(i)), Some(i), None))
            .collect();
        return Some((Repetition::Count, keys));
    }
    let Some(fe) = &call.for_each else {
        return Some((Repetition::Single, vec![(None, None, None)]));
    };
    let mut keys: Keys = match static_eval(cfg, st, fe, None, None, 0) {
        Ok(v) if v.has_unknown() => {
            unknown("for_each", fe, diags);
            return None;
        }
        Ok(v) => match super::check::for_each_keys(v, &fe.span) {
            Ok(k) => k,
            Err(d) => {
                diags.push(d);
                return None;
            }
        },
        Err(d) => {
            diags.push(d);
            return None;
        }
    };
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    keys.dedup_by(|a, b| a.0 == b.0);
    Some((Repetition::ForEach, keys))
}

/// Evaluates `e` with variables and locals only; anything that needs a resource or a
/// module output is unknown.
fn static_eval(
    cfg: &Config,
    st: &mut Statics,
    e: &Expr,
    count_index: Option<u64>,
    each: Option<(&str, &Value)>,
    depth: usize,
) -> Result<Value, Diagnostic> {
    let module = cfg.sources.module_of(e.span.file).to_string();
    for r in refs::find(e.span.file, &e.edit).refs {
        let key = match node_of(&module, &r.target) {
            Some(Node::Local(k) | Node::ModVar(k) | Node::Module(k)) => k,
            _ => continue,
        };
        if st.memo.contains_key(&key) {
            continue;
        }
        let v = if depth > 64 {
            Value::Unknown
        } else if let Some(a) = cfg.locals.get(&key) {
            static_eval(cfg, st, &a.expr, None, None, depth + 1).unwrap_or(Value::Unknown)
        } else if let Some(mv) = cfg.module_vars.get(&key) {
            let inst = cfg.module_instances.get(&mv.instance);
            let raw = match (&mv.input, &mv.var.default) {
                (Some(input), _) => {
                    let ci = inst.and_then(|i| i.count_index);
                    let each = inst.and_then(|i| i.each.as_ref());
                    let each = each.map(|(k, v)| (k.as_str(), v));
                    static_eval(cfg, st, input, ci, each, depth + 1)
                }
                (None, Some(d)) => super::vars::constant(cfg, d),
                (None, None) => Ok(Value::Unknown),
            };
            let ty = mv.var.ty.as_ref().and_then(|t| Type::parse(&t.edit).ok());
            match (raw, ty) {
                (Ok(v), Some(t)) if !v.has_unknown() => t.convert(v).unwrap_or(Value::Unknown),
                (Ok(v), _) => v,
                (Err(_), _) => Value::Unknown,
            }
        } else {
            Value::Unknown
        };
        st.memo.insert(key, v);
    }
    let none = BTreeMap::new();
    let sc = Scope {
        dir: st.root,
        files: st.files,
        vars: st.vars,
        locals: &st.memo,
        resources: &none,
        count_index,
        each,
        sensitivity: None,
    };
    eval(&cfg.sources, e, &sc)
}

/// Reads the module's files into `cfg` as instance `path`.
fn read_instance(
    cfg: &mut Config,
    path: &str,
    dir: &Path,
    span: &crate::diag::Span,
    diags: &mut Diagnostics,
) {
    let files = match load::config_files(dir) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            diags.push(Diagnostic::error(
                "Empty module",
                format!(
                    "the module directory {} has no *.tf or *.hcl files",
                    dir.display()
                ),
                Some(span.clone()),
            ));
            return;
        }
        Err(e) => {
            diags.push(Diagnostic::error(
                "Cannot read a module directory",
                format!("{}: {e}", dir.display()),
                Some(span.clone()),
            ));
            return;
        }
    };
    let mut bodies = Vec::new();
    for f in files {
        match std::fs::read_to_string(&f) {
            Ok(text) => {
                let module = Some((path, dir));
                if let Some(b) = load::parse_file_in(&mut cfg.sources, f, text, module, diags) {
                    bodies.push(b);
                }
            }
            Err(e) => diags.push(Diagnostic::error(
                "Cannot read a configuration file",
                format!("{}: {e}", f.display()),
                None,
            )),
        }
    }
    for (id, body) in bodies {
        load::decode_file(cfg, id, &body, diags);
    }
}

/// Gives each input of the call to the instance's variable of that name, and reports
/// unknown arguments and missing required variables.
fn bind_inputs(cfg: &mut Config, call: &ModuleCall, path: &str, diags: &mut Diagnostics) {
    for a in &call.inputs {
        let key = scoped(path, "var", &a.name);
        match cfg.module_vars.get_mut(&key) {
            Some(mv) => mv.input = Some(a.expr.clone()),
            None => {
                let prefix = format!("{path}.var.");
                let names: Vec<String> = cfg
                    .module_vars
                    .keys()
                    .filter_map(|k| k.strip_prefix(&prefix).map(String::from))
                    .collect();
                let mut d = Diagnostic::error(
                    "Unsupported argument",
                    format!(
                        "an argument named {:?} is not expected here: the module {:?} declares no such variable",
                        a.name, call.name
                    ),
                    Some(a.key_span.clone()),
                );
                d = match did_you_mean(&a.name, names.iter().map(String::as_str)) {
                    Some(s) => d.with_hint(format!("did you mean `{s}`?")),
                    None => d.with_hint("declare it in the module with variable \"NAME\" {}, or remove the argument"),
                };
                // One report per call, not one per instance.
                diags.push_once(d);
            }
        }
    }
    let prefix = format!("{path}.var.");
    for (k, mv) in cfg.module_vars.range(prefix.clone()..) {
        let Some(name) = k.strip_prefix(&prefix) else {
            break;
        };
        if mv.input.is_none() && mv.var.default.is_none() && !name.contains('.') {
            let d = Diagnostic::error(
                "Missing required argument",
                format!(
                    "the module {:?} requires the argument {name:?} (its variable has no default)",
                    call.name
                ),
                Some(call.name_span.clone()),
            )
            .with_hint(format!("add `{name} = ...` to the module block"));
            diags.push_once(d);
        }
    }
}

/// Resolves the provider of each resource in the instance to one of the root module's
/// provider configurations, through the call's `providers` (the default `alicloud`
/// provider passes down implicitly, as in Terraform).
fn map_providers(cfg: &mut Config, call: &ModuleCall, path: &str, diags: &mut Diagnostics) {
    // Names the caller resolves: the root module's are its own configurations.
    let parent_map = cfg.provider_maps.get(&call.parent).cloned();
    let through = |name: &str| -> String {
        parent_map
            .as_ref()
            .and_then(|m| m.get(name).cloned())
            .unwrap_or_else(|| name.to_string())
    };
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    map.insert("alicloud".into(), through("alicloud"));
    for (child, parent, _) in &call.providers {
        map.insert(child.clone(), through(parent));
    }
    for r in cfg.resources.values_mut().filter(|r| r.id.module == path) {
        let written = r.provider.as_ref().map(|p| p.0.clone());
        let name = written.clone().unwrap_or_else(|| "alicloud".into());
        match map.get(&name) {
            // The default provider stays implicit, as in the root module.
            Some(root) if root == "alicloud" && written.is_none() => {}
            Some(root) => {
                let span = r
                    .provider
                    .as_ref()
                    .map(|p| p.1.clone())
                    .unwrap_or(r.type_span.clone());
                r.provider = Some((root.clone(), span));
            }
            None => {
                let d = Diagnostic::error(
                    "Provider configuration not passed",
                    format!(
                        "{} uses provider {name}, which the module call {:?} does not pass in `providers`",
                        r.id, call.name
                    ),
                    r.provider.as_ref().map(|p| p.1.clone()),
                )
                .with_hint(format!(
                    "add `providers = {{ {name} = alicloud.ALIAS }}` to the module block"
                ));
                diags.push_once(d);
            }
        }
    }
    cfg.provider_maps.insert(path.to_string(), map);
}
