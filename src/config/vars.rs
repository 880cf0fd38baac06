//! Variable values from every source, later sources winning (DESIGN §2): `default`,
//! `imgform.vars`, `*.auto.vars` (name order), `--var-file` files, `--var NAME=VALUE`, and
//! `IMGFORM_VAR_<name>` environment variables, and Terraform's `TF_VAR_<name>`,
//! `terraform.tfvars` and `*.auto.tfvars` in Terraform's order.

use super::load::{parse_file, span_of};
use super::types::Type;
use super::{Config, Expr};
use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::value::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Variable options from the command line.
#[derive(Debug, Clone, Default)]
pub struct VarOptions {
    /// `--var-file` paths, in order.
    pub var_files: Vec<PathBuf>,
    /// `--var NAME=VALUE`, in order.
    pub vars: Vec<String>,
    /// Environment variables to read `IMGFORM_VAR_*` from (injected for tests).
    pub env: Vec<(String, String)>,
}

impl VarOptions {
    /// Options with the process environment.
    pub fn from_env(var_files: Vec<PathBuf>, vars: Vec<String>) -> Self {
        VarOptions {
            var_files,
            vars,
            // vars() panics on a variable that is not UTF-8, even an unrelated one; such a
            // variable cannot hold a value imgform reads, so it is skipped.
            env: std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect(),
        }
    }
}

/// A value before type conversion.
#[derive(Debug, Clone)]
pub enum Raw {
    /// From an HCL file or the default: already a value.
    Value(Value, Span),
    /// From `--var` or the environment: a string to be parsed according to the type.
    Text(String, &'static str),
}

/// Reads every source into raw values, adding var files to `cfg.sources`.
pub fn gather(
    cfg: &mut Config,
    dir: &Path,
    opts: &VarOptions,
    diags: &mut Diagnostics,
) -> BTreeMap<String, Raw> {
    let mut out = BTreeMap::new();
    // Terraform's order, lowest first: TF_VAR_ variables, terraform.tfvars, then the
    // automatic files; imgform's own sources keep their places among them (imgform.vars
    // beside terraform.tfvars, *.auto.vars sorted with *.auto.tfvars, IMGFORM_VAR_ last).
    let mut tf_env: Vec<&(String, String)> = opts
        .env
        .iter()
        .filter(|(k, _)| k.starts_with("TF_VAR_"))
        .collect();
    tf_env.sort();
    for (k, v) in tf_env {
        let name = &k["TF_VAR_".len()..];
        if cfg.variables.contains_key(name) {
            out.insert(
                name.to_string(),
                Raw::Text(v.clone(), "a TF_VAR_ environment variable"),
            );
        }
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for name in ["terraform.tfvars", "imgform.vars"] {
        let main = dir.join(name);
        if main.is_file() {
            files.push(main);
        }
    }
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut autos: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.ends_with(".auto.vars") || n.ends_with(".auto.tfvars"))
            })
            .collect();
        autos.sort();
        files.extend(autos);
    }
    let explicit_start = files.len();
    files.extend(opts.var_files.iter().cloned());
    for (i, path) in files.iter().enumerate() {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                diags.push(
                    Diagnostic::error(
                        "Cannot read a variables file",
                        format!("{}: {e}", path.display()),
                        None,
                    )
                    .with_hint(if i >= explicit_start {
                        "check the path given to --var-file"
                    } else {
                        "check the file's permissions"
                    }),
                );
                continue;
            }
        };
        let display = if i >= explicit_start {
            path.clone()
        } else {
            dir.join(path.file_name().unwrap_or_default())
        };
        let Some((file, body)) = parse_file(&mut cfg.sources, display, text, diags) else {
            continue;
        };
        for s in body.iter() {
            match s {
                hcl_edit::structure::Structure::Attribute(a) => {
                    let name = a.key.as_str().to_string();
                    let expr = Expr {
                        edit: a.value.clone(),
                        span: span_of(file, &a.value),
                    };
                    let key_span = span_of(file, &a.key);
                    if !cfg.variables.contains_key(&name) {
                        diags.push(Diagnostic::warning(
                            "Value for undeclared variable",
                            format!("a value is assigned to {name:?}, but no variable of that name is declared"),
                            Some(key_span),
                        ).with_hint("declare it with a variable block, or remove the assignment"));
                        continue;
                    }
                    match constant(cfg, &expr) {
                        Ok(v) => {
                            out.insert(name, Raw::Value(v, expr.span.clone()));
                        }
                        Err(d) => diags.push(d),
                    }
                }
                hcl_edit::structure::Structure::Block(b) => diags.push(Diagnostic::error(
                    "Unexpected block in a variables file",
                    "a variables file holds only `name = value` assignments",
                    Some(span_of(file, b)),
                )),
            }
        }
    }
    for kv in &opts.vars {
        let Some((name, value)) = kv.split_once('=') else {
            diags.push(
                Diagnostic::error(
                    "Invalid --var option",
                    format!("{kv:?} is not of the form NAME=VALUE"),
                    None,
                )
                .with_hint("write --var 'name=value'"),
            );
            continue;
        };
        let name = name.trim();
        if !cfg.variables.contains_key(name) {
            diags.push(
                Diagnostic::error(
                    "Value for undeclared variable",
                    format!("--var sets {name:?}, but no variable of that name is declared"),
                    None,
                )
                .with_hint("declare it with a variable block in the configuration"),
            );
            continue;
        }
        out.insert(name.to_string(), Raw::Text(value.to_string(), "--var"));
    }
    let mut env: Vec<&(String, String)> = opts
        .env
        .iter()
        .filter(|(k, _)| k.starts_with("IMGFORM_VAR_"))
        .collect();
    env.sort();
    for (k, v) in env {
        let name = &k["IMGFORM_VAR_".len()..];
        if cfg.variables.contains_key(name) {
            out.insert(
                name.to_string(),
                Raw::Text(v.clone(), "an IMGFORM_VAR_ environment variable"),
            );
        }
    }
    out
}

/// Evaluates an expression that may not reference anything (defaults, var files).
pub fn constant(cfg: &Config, e: &Expr) -> Result<Value, Diagnostic> {
    let found = super::refs::find(e.span.file, &e.edit);
    if let Some(r) = found.refs.first() {
        return Err(Diagnostic::error(
            "Variables not allowed",
            "a variable value or default must be a constant; it cannot refer to other objects",
            Some(r.span.clone()),
        ));
    }
    let empty = BTreeMap::new();
    let res = BTreeMap::new();
    let none = super::files::FileAccess::none();
    let scope = super::eval::Scope {
        dir: Path::new("."),
        files: &none,
        vars: &empty,
        locals: &empty,
        resources: &res,
        count_index: None,
        each: None,
        sensitivity: None,
    };
    super::eval::eval(&cfg.sources, e, &scope)
}

/// Turns a raw value into a typed one.
pub fn convert(ty: &Type, raw: &Raw) -> Result<Value, String> {
    match raw {
        Raw::Value(v, _) => ty.convert(v.clone()),
        Raw::Text(s, _) => {
            // As in Terraform: primitive and unconstrained variables take the text as a
            // string; collection types parse it as an HCL value.
            if ty.is_primitive() || *ty == Type::Any {
                return ty.convert(Value::String(s.clone()));
            }
            let e = hcl_edit::parser::parse_expr(s.trim())
                .map_err(|e| format!("cannot parse {s:?} as an HCL value: {}", e.message()))?;
            let he: hcl::Expression = e.into();
            let v = hcl::eval::Evaluate::evaluate(&he, &hcl::eval::Context::new())
                .map_err(|e| e.to_string())?;
            ty.convert(Value::from_hcl(&v))
        }
    }
}
