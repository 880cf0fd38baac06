//! Evaluates expressions against an explicit [`Scope`], as hcl-rs's `Context` does, plus
//! the one thing hcl-rs lacks: unknown values. An expression that reads a resource whose
//! values are not known yet (not applied, or computed by the cloud) evaluates to
//! [`Value::Unknown`] as a whole, which plans show as `(known after apply)`.

use super::files::{FileAccess, Refusal};
use super::refs::{self, Target};
use super::{funcs, scoped, Expr};
use crate::addr::{Mode, ResourceId};
use crate::diag::{did_you_mean, Diagnostic, Sources, Span};
use crate::value::Value;
use hcl::eval::{Context, Evaluate};
use std::collections::BTreeMap;
use std::path::Path;

/// Everything an expression can see.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// The configuration directory, for `file()` and `path.module`.
    pub dir: &'a Path,
    /// What the file functions may read.
    pub files: &'a FileAccess,
    /// `var.*`.
    pub vars: &'a BTreeMap<String, Value>,
    /// `local.*` (values may be unknown).
    pub locals: &'a BTreeMap<String, Value>,
    /// Known resource values: an object per resource, a list (count) or map (for_each) of
    /// objects. A resource missing here is unknown.
    pub resources: &'a BTreeMap<ResourceId, Value>,
    /// `count.index` in a resource with `count`.
    pub count_index: Option<u64>,
    /// `each.key`/`each.value` in a resource with `for_each`.
    pub each: Option<(&'a str, &'a Value)>,
    /// Which values are sensitive, for `issensitive()`; `None` where it cannot be known
    /// (variable defaults and validations, module expansion).
    pub sensitivity: Option<(&'a super::Config, &'a super::check::Sensitivity)>,
}

/// Evaluates `expr`. Errors are diagnostics at the expression.
pub fn eval(sources: &Sources, expr: &Expr, scope: &Scope) -> Result<Value, Diagnostic> {
    let module = sources.module_of(expr.span.file);
    if let Some(v) = super::quick::eval(&expr.edit, module, scope) {
        return Ok(v);
    }
    eval_long(sources, expr, scope)
}

/// [`eval`] through hcl-rs, for every form of expression.
pub(crate) fn eval_long(
    sources: &Sources,
    expr: &Expr,
    scope: &Scope,
) -> Result<Value, Diagnostic> {
    // A failure is reported from the expression as written, not as rewritten by picking.
    eval_picking(sources, expr, scope, true).or_else(|_| eval_picking(sources, expr, scope, false))
}

fn eval_picking(
    sources: &Sources,
    expr: &Expr,
    scope: &Scope,
    picking: bool,
) -> Result<Value, Diagnostic> {
    // References resolve within the module instance the expression is written in.
    let module = sources.module_of(expr.span.file);
    // `x[count.index]` reads one instance of x, not all of them.
    let mut edit = expr.edit.clone();
    let picked = if picking {
        super::pick::pick(&mut edit, module, scope)
    } else {
        super::pick::Picked::default()
    };
    if picked.unknown {
        return Ok(Value::Unknown);
    }
    let found = refs::find(expr.span.file, &edit);
    let module_dir = sources
        .get(expr.span.file)
        .and_then(|f| f.module_dir.as_deref());
    let mut modules = hcl::Map::new();
    let mut ctx = Context::new();
    for (name, v) in picked.vars {
        ctx.declare_var(name, v);
    }
    let mut vars = hcl::Map::new();
    let mut locals = hcl::Map::new();
    let mut managed: BTreeMap<&str, hcl::Map<String, hcl::Value>> = BTreeMap::new();
    let mut data: BTreeMap<&str, hcl::Map<String, hcl::Value>> = BTreeMap::new();
    for r in &found.refs {
        match &r.target {
            Target::Var(n) if !module.is_empty() => {
                match scope.locals.get(&scoped(module, "var", n)) {
                    Some(v) if v.has_unknown() => return Ok(Value::Unknown),
                    Some(v) => {
                        vars.insert(n.clone(), v.to_hcl());
                    }
                    None => {
                        return Err(Diagnostic::error(
                            "Reference to undeclared input variable",
                            format!("no variable named {n:?} is declared in this module"),
                            Some(r.span.clone()),
                        ))
                    }
                }
            }
            Target::Module(n) => match scope.locals.get(&scoped(module, "module", n)) {
                Some(v) if v.has_unknown() => return Ok(Value::Unknown),
                Some(v) => {
                    modules.insert(n.clone(), v.to_hcl());
                }
                None => return Ok(Value::Unknown),
            },
            Target::Var(n) => match scope.vars.get(n) {
                Some(v) => {
                    vars.insert(n.clone(), v.to_hcl());
                }
                None => {
                    return Err(Diagnostic::error(
                        "Reference to undeclared input variable",
                        format!("no variable named {n:?} is declared"),
                        Some(r.span.clone()),
                    ))
                }
            },
            Target::Local(n) => match scope.locals.get(&scoped(module, "local", n)) {
                Some(v) if v.has_unknown() => return Ok(Value::Unknown),
                Some(v) => {
                    locals.insert(n.clone(), v.to_hcl());
                }
                None => {
                    return Err(Diagnostic::error(
                        "Reference to undeclared local value",
                        format!("no local value named {n:?} is defined"),
                        Some(r.span.clone()),
                    ))
                }
            },
            Target::Resource(id) => match scope.resources.get(&id.clone().in_module(module)) {
                Some(v) if !v.has_unknown() => {
                    let ns = if id.mode == Mode::Data {
                        &mut data
                    } else {
                        &mut managed
                    };
                    ns.entry(id.kind.as_str())
                        .or_default()
                        .insert(id.name.clone(), v.to_hcl());
                }
                _ => return Ok(Value::Unknown),
            },
            Target::CountIndex => match scope.count_index {
                Some(i) => ctx.declare_var("count", hcl::value!({ index = (i) })),
                None => {
                    return Err(Diagnostic::error(
                        "Reference to \"count\" in a non-counted context",
                        "`count.index` is only available in a resource that sets `count`",
                        Some(r.span.clone()),
                    ))
                }
            },
            Target::EachKey | Target::EachValue => match scope.each {
                Some((k, v)) => {
                    let mut m = hcl::Map::new();
                    m.insert("key".to_string(), hcl::Value::from(k));
                    m.insert("value".to_string(), v.to_hcl());
                    ctx.declare_var("each", hcl::Value::Object(m));
                }
                None => {
                    return Err(Diagnostic::error(
                        "Reference to \"each\" in a context without for_each",
                        "`each.key` and `each.value` are only available in a resource that sets `for_each`",
                        Some(r.span.clone()),
                    ))
                }
            },
            Target::Path(p) => {
                // As in Terraform: `path.root` is `.`, `path.module` the module's directory
                // relative to it, both read against the configuration directory as file()
                // reads them; `path.cwd` is absolute.
                let root = ".".to_string();
                let dir = module_dir
                    .map(|d| relative_to(d, scope.dir).display().to_string())
                    .unwrap_or(root.clone());
                let cwd = std::path::absolute(scope.dir)
                    .unwrap_or(scope.dir.to_path_buf())
                    .display()
                    .to_string();
                if !matches!(p.as_str(), "module" | "root" | "cwd") {
                    return Err(Diagnostic::error(
                        "Invalid path reference",
                        format!("path.{p} does not exist; use path.module, path.root or path.cwd"),
                        Some(r.span.clone()),
                    ));
                }
                ctx.declare_var(
                    "path",
                    hcl::value!({ module = (dir), root = (root), cwd = (cwd) }),
                );
            }
            Target::Invalid(what) => {
                return Err(Diagnostic::error(
                    "Invalid reference",
                    format!("`{what}` is not a valid reference here"),
                    Some(r.span.clone()),
                )
                .with_hint("references look like var.NAME, local.NAME, TYPE.NAME.ATTR or data.TYPE.NAME.ATTR"))
            }
        }
    }
    if !vars.is_empty() {
        ctx.declare_var("var", hcl::Value::Object(vars));
    }
    if !locals.is_empty() {
        ctx.declare_var("local", hcl::Value::Object(locals));
    }
    if !modules.is_empty() {
        ctx.declare_var("module", hcl::Value::Object(modules));
    }
    for (kind, m) in managed {
        ctx.declare_var(kind, hcl::Value::Object(m));
    }
    if !data.is_empty() {
        let d: hcl::Map<String, hcl::Value> = data
            .into_iter()
            .map(|(k, m)| (k.to_string(), hcl::Value::Object(m)))
            .collect();
        ctx.declare_var("data", hcl::Value::Object(d));
    }
    for (name, span) in &found.funcs {
        declare_function(&mut ctx, name, span)?;
    }
    if let Some(d) = chained_legacy_index(expr) {
        return Err(d);
    }
    if let Some(d) = for_budget(expr, &ctx, scope) {
        return Err(d);
    }
    let out = funcs::with_files(scope.dir, scope.files, || {
        if found
            .funcs
            .iter()
            .any(|(n, _)| matches!(n.as_str(), "try" | "can" | "issensitive"))
        {
            let marked = |e: &hcl_edit::expr::Expression| {
                scope.sensitivity.map(|(cfg, s)| {
                    s.refers_to_sensitive(
                        cfg,
                        &Expr {
                            edit: e.clone(),
                            span: expr.span.clone(),
                        },
                    )
                })
            };
            super::lazy::resolve(&mut edit, &ctx, &marked);
        }
        if funcs::guard_division(&mut edit) {
            funcs::declare(&mut ctx, funcs::DIVIDE);
            funcs::declare(&mut ctx, funcs::MODULO);
        }
        let e: hcl::Expression = edit.into();
        e.evaluate(&ctx)
    });
    let _ = sources;
    evaluated(out, expr)
}

/// Declares the function `name` called at `span`: refused by design (with the reason), or
/// unknown (with the nearest name).
fn declare_function(ctx: &mut Context, name: &str, span: &Span) -> Result<(), Diagnostic> {
    if let Some(why) = funcs::refusal_reason(name) {
        let (detail, hint) = why.split_once("; ").unwrap_or((why, "remove the call"));
        return Err(Diagnostic::error(
            "Function not available",
            format!("`{name}()` is not available in imgform: {detail}"),
            Some(span.clone()),
        )
        .with_hint(hint));
    }
    if !funcs::declare(ctx, name) {
        let mut d = Diagnostic::error(
            "Call to unknown function",
            format!("there is no function named `{name}`"),
            Some(span.clone()),
        );
        let all = funcs::NAMES.iter().chain(funcs::MORE_NAMES).copied();
        if let Some(s) = did_you_mean(name, all) {
            d = d.with_hint(format!("did you mean `{s}`?"));
        }
        return Err(d);
    }
    Ok(())
}

/// What hcl-rs's evaluation came to, as a value or the diagnostic Terraform gives: a file
/// refused by the confinement, a failed `/` or `%`, else the evaluator's message.
fn evaluated(out: Result<hcl::Value, hcl::eval::Error>, expr: &Expr) -> Result<Value, Diagnostic> {
    let err = match out {
        Ok(v) => return Ok(Value::from_hcl(&v)),
        Err(err) => err,
    };
    let msg = err.to_string();
    if let Some(r) = funcs::take_refusal() {
        return Err(file_refusal(&r, expr));
    }
    if let Some(d) = operation_failed(&msg, expr) {
        return Err(d);
    }
    Err(Diagnostic::error(
        "Invalid expression",
        msg,
        Some(expr.span.clone()),
    ))
}

/// Terraform refuses two legacy indexes in a row (`x.0.1`, `[[1, 2]].0.1`); one (`x.0`) is
/// fine.
fn chained_legacy_index(expr: &Expr) -> Option<Diagnostic> {
    use hcl_edit::expr::TraversalOperator as Op;
    use hcl_edit::visit::{visit_traversal, Visit};
    struct Find(bool);
    impl Visit for Find {
        fn visit_traversal(&mut self, t: &hcl_edit::expr::Traversal) {
            let legacy = |o: &hcl_edit::Decorated<Op>| matches!(o.value(), Op::LegacyIndex(_));
            self.0 |= t
                .operators
                .windows(2)
                .any(|w| legacy(&w[0]) && legacy(&w[1]));
            visit_traversal(self, t);
        }
    }
    let mut f = Find(false);
    f.visit_expr(&expr.edit);
    f.0.then(|| {
        Diagnostic::error(
            "Invalid legacy index syntax",
            "When using the legacy index syntax, chaining two indexes together is not permitted. Use the proper index syntax instead, like [0][1].",
            Some(expr.span.clone()),
        )
    })
}

/// The error of a `/` or `%` (evaluated as [`funcs::DIVIDE`] and [`funcs::MODULO`]) in
/// Terraform's words, without the functions' names.
fn operation_failed(msg: &str, expr: &Expr) -> Option<Diagnostic> {
    let call = [funcs::DIVIDE, funcs::MODULO]
        .iter()
        .find(|f| msg.contains(&format!("`{f}`")))?;
    let inner = msg.split_once(&format!("`{call}`: ")).map(|(_, r)| r)?;
    let inner = inner.split(" in expression `").next().unwrap_or(inner);
    let (summary, detail) = match inner.strip_prefix("expected argument at position ") {
        Some(rest) => (
            "Invalid operand",
            format!(
                "Unsuitable value for {} operand: a number is required.",
                if rest.starts_with('0') {
                    "left"
                } else {
                    "right"
                }
            ),
        ),
        None => (
            "Operation failed",
            format!("Error during operation: {inner}."),
        ),
    };
    Some(Diagnostic::error(summary, detail, Some(expr.span.clone())))
}

/// `dir` relative to `base` when it is below it (module directories usually are), else
/// absolute.
fn relative_to(dir: &Path, base: &Path) -> std::path::PathBuf {
    let abs = |p: &Path| std::path::absolute(p).unwrap_or(p.to_path_buf());
    let (d, b) = (abs(dir), abs(base));
    match d.strip_prefix(&b) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".into(),
        Ok(rel) => rel.to_path_buf(),
        Err(_) => d,
    }
}

/// The most elements nested for-expressions may produce together (bounded input).
pub const MAX_FOR_ELEMENTS: f64 = 1_000_000.0;

/// Refuses nested for-expressions whose collections multiply to more than
/// [`MAX_FOR_ELEMENTS`], before evaluating them: `[for a in range(1024): [for b in
/// range(1024): [for c in range(1024): c]]]` would otherwise build a billion values. A
/// collection that depends on an enclosing for's variables cannot be sized in advance and
/// counts as one.
fn for_budget(expr: &Expr, ctx: &Context, scope: &Scope) -> Option<Diagnostic> {
    use hcl_edit::expr::{Expression as E, ForExpr};
    use hcl_edit::visit::{visit_expr, Visit};

    struct Names(Vec<String>);
    impl Visit for Names {
        fn visit_expr(&mut self, e: &E) {
            if let E::Variable(v) = e {
                self.0.push(v.as_str().to_string());
            } else {
                visit_expr(self, e);
            }
        }
    }
    struct Budget<'c> {
        ctx: &'c Context<'c>,
        scope: Scope<'c>,
        inner_vars: Vec<String>,
        product: f64,
        over: Option<f64>,
    }
    impl Visit for Budget<'_> {
        fn visit_for_expr(&mut self, f: &ForExpr) {
            if self.over.is_some() {
                return;
            }
            self.visit_expr(&f.intro.collection_expr);
            let mut names = Names(Vec::new());
            names.visit_expr(&f.intro.collection_expr);
            let sized = !names.0.iter().any(|n| self.inner_vars.contains(n));
            let len = if sized {
                let c: hcl::Expression = f.intro.collection_expr.clone().into();
                match funcs::with_files(self.scope.dir, self.scope.files, || c.evaluate(self.ctx)) {
                    Ok(hcl::Value::Array(a)) => a.len() as f64,
                    Ok(hcl::Value::Object(o)) => o.len() as f64,
                    _ => 1.0,
                }
            } else {
                1.0
            };
            let saved = (self.product, self.inner_vars.len());
            self.product *= len.max(1.0);
            if self.product > MAX_FOR_ELEMENTS {
                self.over = Some(self.product);
                return;
            }
            if let Some(k) = &f.intro.key_var {
                self.inner_vars.push(k.as_str().to_string());
            }
            self.inner_vars.push(f.intro.value_var.as_str().to_string());
            if let Some(k) = &f.key_expr {
                self.visit_expr(k);
            }
            self.visit_expr(&f.value_expr);
            if let Some(c) = &f.cond {
                self.visit_expr(&c.expr);
            }
            self.product = saved.0;
            self.inner_vars.truncate(saved.1);
        }
    }
    if !expr_has_for(&expr.edit) {
        return None;
    }
    let mut b = Budget {
        ctx,
        scope: *scope,
        inner_vars: Vec::new(),
        product: 1.0,
        over: None,
    };
    b.visit_expr(&expr.edit);
    b.over.map(|n| {
        Diagnostic::error(
            "Too many values",
            format!(
                "these nested for-expressions would produce {n:.0} values; at most {MAX_FOR_ELEMENTS:.0} are allowed"
            ),
            Some(expr.span.clone()),
        )
        .with_hint("iterate over smaller collections, or split the work over several values")
    })
}

fn expr_has_for(e: &hcl_edit::expr::Expression) -> bool {
    use hcl_edit::visit::{visit_expr, Visit};
    struct Found(bool);
    impl Visit for Found {
        fn visit_expr(&mut self, e: &hcl_edit::expr::Expression) {
            if matches!(e, hcl_edit::expr::Expression::ForExpr(_)) {
                self.0 = true;
            } else if !self.0 {
                visit_expr(self, e);
            }
        }
    }
    let mut f = Found(false);
    f.visit_expr(e);
    f.0
}

/// The diagnostic for a file function refused by the confinement policy.
fn file_refusal(r: &Refusal, expr: &Expr) -> Diagnostic {
    let (summary, hint) = match r {
        Refusal::Outside { .. } => (
            "File outside the configuration root",
            "move the file into the repository, or for a trusted run pass --allow-files-outside DIR (or set imgform { allow_files_outside = [\"DIR\"] })",
        ),
        Refusal::Special(_) => (
            "System file refused",
            "file functions never read /proc, /dev or /sys; pass the value as a variable instead",
        ),
        Refusal::NotRegular(..) => (
            "Not a regular file",
            "file functions read regular files only; point the path at a file",
        ),
        _ => (
            "File functions not available here",
            "a variable's default or a variable file must be a constant; read the file in a local value instead",
        ),
    };
    Diagnostic::error(summary, r.to_string(), Some(expr.span.clone())).with_hint(hint)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Span;

    fn ex(src: &str) -> Expr {
        Expr {
            edit: hcl_edit::parser::parse_expr(src).expect("parses"),
            span: Span::new(0, 0..src.len()),
        }
    }

    #[test]
    fn evaluates_with_scope_and_unknowns() {
        let mut vars = BTreeMap::new();
        vars.insert("env".to_string(), Value::String("prod".into()));
        let locals = BTreeMap::new();
        let resources = BTreeMap::new();
        let each_v = Value::String("cn-shanghai".into());
        let none = FileAccess::none();
        let scope = Scope {
            dir: Path::new("."),
            files: &none,
            vars: &vars,
            locals: &locals,
            resources: &resources,
            count_index: None,
            each: Some(("sh", &each_v)),
            sensitivity: None,
        };
        let s = Sources::default();
        assert_eq!(
            eval(
                &s,
                &ex(r#""${var.env}-${each.key}-${upper(each.value)}""#),
                &scope
            ),
            Ok(Value::String("prod-sh-CN-SHANGHAI".into()))
        );
        assert_eq!(
            eval(&s, &ex("alicloud_image.a.id"), &scope),
            Ok(Value::Unknown)
        );
        assert!(eval(&s, &ex("count.index"), &scope).is_err());
        assert!(eval(&s, &ex("var.nope"), &scope).is_err());
        let e = eval(&s, &ex("uper(var.env)"), &scope).expect_err("unknown function");
        assert_eq!(e.hint.as_deref(), Some("did you mean `upper`?"));
        assert!(eval(&s, &ex("timestamp()"), &scope).is_err());
        // Nested for-expressions are sized before they are evaluated.
        let e = eval(
            &s,
            &ex("[for a in range(1024): [for b in range(1024): [for c in range(1024): c]]]"),
            &scope,
        )
        .expect_err("a billion values");
        assert_eq!(e.summary, "Too many values");
        assert_eq!(
            eval(
                &s,
                &ex("length(flatten([for a in range(3): [for b in range(a): b]]))"),
                &scope
            ),
            Ok(Value::Number(3.0))
        );
    }

    #[test]
    fn an_indexed_reference_reads_one_instance() {
        let vars = BTreeMap::new();
        let locals = BTreeMap::new();
        let obj = |id: &str| {
            let mut m = BTreeMap::new();
            m.insert("id".to_string(), Value::String(id.into()));
            Value::Map(m)
        };
        let mut resources = BTreeMap::new();
        resources.insert(
            ResourceId::managed("alicloud_image", "a"),
            Value::List(vec![obj("m-0"), Value::Unknown, obj("m-2")]),
        );
        let mut by_key = BTreeMap::new();
        by_key.insert("sh".to_string(), obj("m-sh"));
        resources.insert(
            ResourceId::managed("alicloud_image", "m"),
            Value::Map(by_key),
        );
        let none = FileAccess::none();
        let each_v = Value::Null;
        let at = |i: u64| Scope {
            dir: Path::new("."),
            files: &none,
            vars: &vars,
            locals: &locals,
            resources: &resources,
            count_index: Some(i),
            each: Some(("sh", &each_v)),
            sensitivity: None,
        };
        let s = Sources::default();
        let e = ex("alicloud_image.a[count.index].id");
        // The instance read is known even where another one is not.
        assert_eq!(eval(&s, &e, &at(0)), Ok(Value::String("m-0".into())));
        assert_eq!(eval(&s, &e, &at(2)), Ok(Value::String("m-2".into())));
        assert_eq!(eval(&s, &e, &at(1)), Ok(Value::Unknown));
        assert_eq!(
            eval(&s, &ex("alicloud_image.a.2.id"), &at(0)),
            Ok(Value::String("m-2".into()))
        );
        assert_eq!(
            eval(&s, &ex("alicloud_image.m[each.key].id"), &at(0)),
            Ok(Value::String("m-sh".into()))
        );
        assert_eq!(
            eval(&s, &ex(r#"upper(alicloud_image.m["sh"].id)"#), &at(0)),
            Ok(Value::String("M-SH".into()))
        );
        // A mistake is reported as written, not as rewritten.
        let err = eval(&s, &ex(r#"alicloud_image.m["sh"].nope"#), &at(0)).expect_err("no such key");
        assert!(!err.detail.contains(crate::config::pick::PREFIX), "{err:?}");
    }

    #[test]
    fn legacy_index_and_splat() {
        let vars = BTreeMap::new();
        let locals = BTreeMap::new();
        let mut resources = BTreeMap::new();
        resources.insert(
            ResourceId::data("alicloud_images", "u"),
            Value::from_json(&serde_json::json!({"ids": ["m-1", "m-2"], "images": [{"id": "m-1"}, {"id": "m-2"}]})),
        );
        let none = FileAccess::none();
        let scope = Scope {
            dir: Path::new("."),
            files: &none,
            vars: &vars,
            locals: &locals,
            resources: &resources,
            count_index: None,
            each: None,
            sensitivity: None,
        };
        let s = Sources::default();
        assert_eq!(
            eval(&s, &ex("data.alicloud_images.u.ids.0"), &scope),
            Ok(Value::String("m-1".into()))
        );
        assert_eq!(
            eval(&s, &ex("data.alicloud_images.u.images[*].id"), &scope),
            Ok(Value::List(vec![
                Value::String("m-1".into()),
                Value::String("m-2".into())
            ]))
        );
    }
}
