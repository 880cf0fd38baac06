//! The function library of the configuration language: the Terraform functions people use
//! in image configurations (DESIGN §2). `timestamp` is deliberately missing, because plans
//! must be reproducible.
//!
//! hcl-rs functions are plain `fn` pointers, so the file functions read the module's
//! directory and the [`FileAccess`] policy from a thread-local set by the evaluator
//! ([`with_files`]). A refusal by the policy is remembered ([`take_refusal`]) so that the
//! evaluator can turn it into a diagnostic with a hint.

use super::files::{FileAccess, Refusal};
use base64::Engine as _;
use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Value};
use sha2::Digest as _;
use std::cell::RefCell;
use std::path::{Path, PathBuf};

thread_local! {
    static FILES: RefCell<(PathBuf, FileAccess)> = RefCell::new((PathBuf::from("."), FileAccess::none()));
    static REFUSED: RefCell<Option<Refusal>> = const { RefCell::new(None) };
}

/// Runs `f` with the file functions resolving paths against `dir` under `access`.
pub fn with_files<T>(dir: &Path, access: &FileAccess, f: impl FnOnce() -> T) -> T {
    let prev = FILES.with(|b| b.replace((dir.to_path_buf(), access.clone())));
    REFUSED.with(|r| r.borrow_mut().take());
    let out = f();
    FILES.with(|b| b.replace(prev));
    out
}

/// The confinement refusal of the last evaluation run by [`with_files`], if any.
pub fn take_refusal() -> Option<Refusal> {
    REFUSED.with(|r| r.borrow_mut().take())
}

fn refused(e: Refusal) -> String {
    let msg = e.to_string();
    if e.is_confinement() || matches!(e, Refusal::NotHere) {
        REFUSED.with(|r| *r.borrow_mut() = Some(e));
    }
    msg
}

fn read_bytes(rel: &str) -> Result<Vec<u8>, String> {
    FILES.with(|b| {
        let (dir, fa) = &*b.borrow();
        fa.read(dir, rel).map_err(refused)
    })
}

fn read_file(rel: &str) -> Result<String, String> {
    String::from_utf8(read_bytes(rel)?).map_err(|_| {
        format!("the contents of {rel} are not valid UTF-8; use filebase64 to read binary files")
    })
}

mod more;
pub use more::{refusal_reason, MORE_NAMES};

/// The names of every function, for "did you mean" hints.
pub const NAMES: &[&str] = &[
    "file",
    "templatefile",
    "filebase64",
    "fileexists",
    "fileset",
    "filemd5",
    "filesha1",
    "filesha256",
    "filesha512",
    "filebase64sha256",
    "filebase64sha512",
    "format",
    "join",
    "split",
    "lower",
    "upper",
    "replace",
    "length",
    "lookup",
    "merge",
    "concat",
    "coalesce",
    "keys",
    "values",
    "range",
    "contains",
    "element",
    "flatten",
    "distinct",
    "toset",
    "tolist",
    "tomap",
    "tostring",
    "tonumber",
    "trimspace",
    "substr",
    "regex",
    "jsonencode",
    "jsondecode",
    "sha256",
    "md5",
    "base64encode",
    "base64decode",
    "alltrue",
    "anytrue",
    "strrev",
    "startswith",
    "endswith",
    "one",
    "sum",
    "zipmap",
    "chomp",
    "title",
    "trimprefix",
    "trimsuffix",
    "trim",
    "abs",
    "ceil",
    "floor",
    "max",
    "min",
    "reverse",
    "compact",
    "slice",
    "index",
];

/// Declares function `name` in `ctx`; false when there is no such function.
pub fn declare(ctx: &mut Context, name: &str) -> bool {
    use ParamType::*;
    let s = || String;
    let def = match name {
        "file" => FuncDef::new(f_file, [s()]),
        "templatefile" => FuncDef::new(f_templatefile, [s(), Any]),
        "filebase64" => FuncDef::new(|a| Ok(Value::from(b64(&read_bytes(str0(&a))?))), [s()]),
        "fileexists" => FuncDef::new(f_fileexists, [s()]),
        "fileset" => FuncDef::new(f_fileset, [s(), s()]),
        "filemd5" => FuncDef::new(
            |a| {
                Ok(Value::from(hex::encode(md5::Md5::digest(read_bytes(
                    str0(&a),
                )?))))
            },
            [s()],
        ),
        "filesha1" => FuncDef::new(
            |a| {
                Ok(Value::from(hex::encode(sha1::Sha1::digest(read_bytes(
                    str0(&a),
                )?))))
            },
            [s()],
        ),
        "filesha256" => FuncDef::new(
            |a| {
                Ok(Value::from(hex::encode(sha2::Sha256::digest(read_bytes(
                    str0(&a),
                )?))))
            },
            [s()],
        ),
        "filesha512" => FuncDef::new(
            |a| {
                Ok(Value::from(hex::encode(sha2::Sha512::digest(read_bytes(
                    str0(&a),
                )?))))
            },
            [s()],
        ),
        "filebase64sha256" => FuncDef::new(
            |a| {
                Ok(Value::from(b64(&sha2::Sha256::digest(read_bytes(str0(
                    &a,
                ))?))))
            },
            [s()],
        ),
        "filebase64sha512" => FuncDef::new(
            |a| {
                Ok(Value::from(b64(&sha2::Sha512::digest(read_bytes(str0(
                    &a,
                ))?))))
            },
            [s()],
        ),
        "format" => FuncDef::builder()
            .param(s())
            .variadic_param(Any)
            .build(f_format),
        "join" => FuncDef::new(f_join, [s(), Any]),
        "split" => FuncDef::new(f_split, [s(), s()]),
        "lower" => FuncDef::new(|a| Ok(Value::from(str0(&a).to_lowercase())), [s()]),
        "upper" => FuncDef::new(|a| Ok(Value::from(str0(&a).to_uppercase())), [s()]),
        "replace" => FuncDef::new(f_replace, [s(), s(), s()]),
        "length" => FuncDef::new(f_length, [Any]),
        "lookup" => FuncDef::builder()
            .params([Any, s()])
            .variadic_param(Any)
            .build(f_lookup),
        "merge" => FuncDef::builder().variadic_param(Any).build(f_merge),
        "concat" => FuncDef::builder().variadic_param(Any).build(f_concat),
        "coalesce" => FuncDef::builder().variadic_param(Any).build(f_coalesce),
        "keys" => FuncDef::new(f_keys, [Any]),
        "alltrue" => FuncDef::new(
            |a| bools(&a[0]).map(|b| Value::Bool(b.iter().all(|x| *x))),
            [Any],
        ),
        "anytrue" => FuncDef::new(
            |a| bools(&a[0]).map(|b| Value::Bool(b.iter().any(|x| *x))),
            [Any],
        ),
        "strrev" => FuncDef::new(
            |a| {
                Ok(Value::from(
                    str0(&a).chars().rev().collect::<std::string::String>(),
                ))
            },
            [s()],
        ),
        "startswith" => FuncDef::new(
            |a| {
                Ok(Value::Bool(
                    str0(&a).starts_with(a[1].as_str().unwrap_or_default()),
                ))
            },
            [s(), s()],
        ),
        "endswith" => FuncDef::new(
            |a| {
                Ok(Value::Bool(
                    str0(&a).ends_with(a[1].as_str().unwrap_or_default()),
                ))
            },
            [s(), s()],
        ),
        "one" => FuncDef::new(f_one, [Any]),
        "sum" => FuncDef::new(f_sum, [Any]),
        "zipmap" => FuncDef::new(f_zipmap, [Any, Any]),
        "chomp" => FuncDef::new(
            |a| Ok(Value::from(str0(&a).trim_end_matches(['\n', '\r']))),
            [s()],
        ),
        "title" => FuncDef::new(f_title, [s()]),
        "trimprefix" => FuncDef::new(
            |a| {
                Ok(Value::from(
                    str0(&a)
                        .strip_prefix(a[1].as_str().unwrap_or_default())
                        .unwrap_or(str0(&a)),
                ))
            },
            [s(), s()],
        ),
        "trimsuffix" => FuncDef::new(
            |a| {
                Ok(Value::from(
                    str0(&a)
                        .strip_suffix(a[1].as_str().unwrap_or_default())
                        .unwrap_or(str0(&a)),
                ))
            },
            [s(), s()],
        ),
        "trim" => FuncDef::new(
            |a| {
                let cut: Vec<char> = a[1].as_str().unwrap_or_default().chars().collect();
                Ok(Value::from(str0(&a).trim_matches(|c| cut.contains(&c))))
            },
            [s(), s()],
        ),
        "abs" => FuncDef::new(|a| number(num(&a[0])?.abs()), [Number]),
        "ceil" => FuncDef::new(|a| number(num(&a[0])?.ceil()), [Number]),
        "floor" => FuncDef::new(|a| number(num(&a[0])?.floor()), [Number]),
        "max" => FuncDef::builder()
            .variadic_param(Number)
            .build(|a| fold_numbers(&a, f64::max)),
        "min" => FuncDef::builder()
            .variadic_param(Number)
            .build(|a| fold_numbers(&a, f64::min)),
        "reverse" => FuncDef::new(
            |a| {
                Ok(Value::Array(
                    list(&a[0], "the argument")?.iter().rev().cloned().collect(),
                ))
            },
            [Any],
        ),
        "compact" => FuncDef::new(
            |a| {
                Ok(Value::Array(
                    list(&a[0], "the argument")?
                        .iter()
                        .filter(|v| !matches!(v, Value::Null) && v.as_str() != Some(""))
                        .cloned()
                        .collect(),
                ))
            },
            [Any],
        ),
        "slice" => FuncDef::new(f_slice, [Any, Number, Number]),
        "index" => FuncDef::new(f_index, [Any, Any]),
        "values" => FuncDef::new(f_values, [Any]),
        "range" => FuncDef::builder().variadic_param(Number).build(f_range),
        "contains" => FuncDef::new(f_contains, [Any, Any]),
        "element" => FuncDef::new(f_element, [Any, Number]),
        "flatten" => FuncDef::new(f_flatten, [Any]),
        "distinct" => FuncDef::new(f_distinct, [Any]),
        "toset" => FuncDef::new(f_distinct, [Any]),
        "tolist" => FuncDef::new(f_tolist, [Any]),
        "tomap" => FuncDef::new(f_tomap, [Any]),
        "tostring" => FuncDef::new(f_tostring, [Any]),
        "tonumber" => FuncDef::new(f_tonumber, [Any]),
        "trimspace" => FuncDef::new(|a| Ok(Value::from(str0(&a).trim())), [s()]),
        "substr" => FuncDef::new(f_substr, [s(), Number, Number]),
        "regex" => FuncDef::new(f_regex, [s(), s()]),
        "jsonencode" => FuncDef::new(f_jsonencode, [Any]),
        "jsondecode" => FuncDef::new(f_jsondecode, [s()]),
        "sha256" => FuncDef::new(f_sha256, [s()]),
        "md5" => FuncDef::new(f_md5, [s()]),
        "base64encode" => FuncDef::new(
            |a| {
                Ok(Value::from(
                    base64::engine::general_purpose::STANDARD.encode(str0(&a)),
                ))
            },
            [s()],
        ),
        "base64decode" => FuncDef::new(f_base64decode, [s()]),
        DIVIDE => FuncDef::new(f_divide, [Number, Number]),
        MODULO => FuncDef::new(f_modulo, [Number, Number]),
        other => match more::declare(other) {
            Some(d) => d,
            None => return false,
        },
    };
    ctx.declare_func(name, def);
    true
}

/// The largest width or precision `format` accepts (bounded input).
const MAX_FORMAT_WIDTH: usize = 10_000;

/// `a / b`, evaluated here rather than by hcl-rs, which panics on a zero divisor (the
/// evaluator turns the operator into a call of this function): Terraform's `0 / 0` error;
/// another number divided by zero is infinite in Terraform, which imgform cannot hold.
pub const DIVIDE: &str = "__imgform_divide";
/// `a % b`, likewise: Terraform's `a % 0` is `a`.
pub const MODULO: &str = "__imgform_modulo";

fn is_zero(v: &Value) -> bool {
    v.as_number().and_then(hcl::Number::as_f64) == Some(0.0)
}

fn f_divide(a: FuncArgs) -> Result<Value, String> {
    let (x, y) = (&a[0], &a[1]);
    if is_zero(y) {
        return Err(if is_zero(x) {
            "can't divide zero by zero or infinity by infinity".into()
        } else {
            "division by zero: Terraform's result is infinite, which imgform does not hold".into()
        });
    }
    match (x.as_number(), y.as_number()) {
        (Some(x), Some(y)) => Ok(Value::Number(*x / *y)),
        _ => Err("a number is required".into()),
    }
}

fn f_modulo(a: FuncArgs) -> Result<Value, String> {
    let (x, y) = (&a[0], &a[1]);
    if is_zero(y) {
        return Ok(x.clone());
    }
    match (x.as_number(), y.as_number()) {
        (Some(x), Some(y)) => Ok(Value::Number(*x % *y)),
        _ => Err("a number is required".into()),
    }
}

/// Turns every `a / b` and `a % b` of `e` into a call of [`DIVIDE`] or [`MODULO`]; true
/// when there was one.
pub fn guard_division(e: &mut hcl_edit::expr::Expression) -> bool {
    use hcl_edit::expr::{BinaryOperator, Expression, FuncArgs as Args, FuncCall};
    use hcl_edit::visit_mut::{visit_expr_mut, VisitMut};
    struct Guard(bool);
    impl VisitMut for Guard {
        fn visit_expr_mut(&mut self, e: &mut Expression) {
            visit_expr_mut(self, e);
            let Expression::BinaryOp(op) = e else { return };
            let name = match op.operator.value() {
                BinaryOperator::Div => DIVIDE,
                BinaryOperator::Mod => MODULO,
                _ => return,
            };
            self.0 = true;
            let lhs = std::mem::replace(
                &mut op.lhs_expr,
                Expression::Null(hcl_edit::expr::Null.into()),
            );
            let rhs = std::mem::replace(
                &mut op.rhs_expr,
                Expression::Null(hcl_edit::expr::Null.into()),
            );
            *e = Expression::FuncCall(Box::new(FuncCall::new(
                hcl_edit::Ident::new(name),
                Args::from(vec![lhs, rhs]),
            )));
        }
    }
    let mut g = Guard(false);
    g.visit_expr_mut(e);
    g.0
}

fn str0(a: &FuncArgs) -> &str {
    a[0].as_str().unwrap_or_default()
}

fn num(v: &Value) -> Result<f64, String> {
    v.as_f64()
        .ok_or_else(|| format!("a number is required, got {v}"))
}

fn list<'a>(v: &'a Value, what: &str) -> Result<&'a Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("{what} must be a list, got {v}"))
}

fn to_display(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Err("cannot use null here".into()),
        other => Err(format!("a string is required, got {other}")),
    }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn f_fileexists(a: FuncArgs) -> Result<Value, String> {
    FILES.with(|b| {
        let (dir, fa) = &*b.borrow();
        fa.exists(dir, str0(&a)).map(Value::from).map_err(refused)
    })
}

fn f_fileset(a: FuncArgs) -> Result<Value, String> {
    let pattern = a[1].as_str().unwrap_or_default();
    FILES.with(|b| {
        let (dir, fa) = &*b.borrow();
        fa.fileset(dir, str0(&a), pattern)
            .map(|v| Value::Array(v.into_iter().map(Value::from).collect()))
            .map_err(refused)
    })
}

fn f_file(a: FuncArgs) -> Result<Value, String> {
    read_file(str0(&a)).map(Value::from)
}

fn f_templatefile(a: FuncArgs) -> Result<Value, String> {
    let src = read_file(str0(&a))?;
    more::template(&src, &a[1], &format!("the template {}", str0(&a)))
}

fn f_format(a: FuncArgs) -> Result<Value, String> {
    let args: Vec<Value> = a.variadic_args().cloned().collect();
    format_values(str0(&a), &args).map(Value::from)
}

/// `format`'s work: `spec` applied to `args`.
fn format_values(spec: &str, args: &[Value]) -> Result<String, String> {
    let mut args = args.iter();
    let mut out = String::new();
    let mut chars = spec.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let mut flags = String::new();
        while let Some(&d) = chars.peek() {
            if d.is_ascii_digit() || d == '.' || d == '-' || d == '+' || d == '#' {
                flags.push(d);
                chars.next();
            } else {
                break;
            }
        }
        let verb = chars.next().ok_or("format string ends with %")?;
        if verb == '%' {
            out.push('%');
            continue;
        }
        let v = args
            .next()
            .ok_or("not enough arguments for the format string")?;
        let width: usize = flags
            .trim_start_matches(['-', '+', '#'])
            .split('.')
            .next()
            .and_then(|w| w.parse().ok())
            .unwrap_or(0);
        let prec: Option<usize> = flags.split_once('.').and_then(|(_, p)| p.parse().ok());
        if width > MAX_FORMAT_WIDTH || prec.is_some_and(|p| p > MAX_FORMAT_WIDTH) {
            return Err(format!(
                "the width and precision in a format verb may be at most {MAX_FORMAT_WIDTH}, got %{flags}{verb}"
            ));
        }
        let s = match verb {
            's' | 'v' => match v {
                Value::String(s) => s.clone(),
                other => to_display(other).or_else(|_| Ok::<_, String>(other.to_string()))?,
            },
            'q' => serde_json::Value::String(to_display(v)?).to_string(),
            'd' => format!("{}", num(v)?.trunc() as i64),
            'f' => format!("{:.*}", prec.unwrap_or(6), num(v)?),
            'x' => format!("{:x}", num(v)? as i64),
            'X' => format!("{:X}", num(v)? as i64),
            't' => v
                .as_bool()
                .ok_or_else(|| format!("%t needs a bool, got {v}"))?
                .to_string(),
            other => return Err(format!("unsupported format verb %{other}")),
        };
        if flags.starts_with('-') {
            out.push_str(&format!("{s:<width$}"));
        } else if flags.starts_with('0') && matches!(verb, 'd' | 'f') {
            out.push_str(&format!("{s:0>width$}"));
        } else {
            out.push_str(&format!("{s:>width$}"));
        }
    }
    if args.next().is_some() {
        return Err("too many arguments for the format string".into());
    }
    Ok(out)
}

fn f_join(a: FuncArgs) -> Result<Value, String> {
    let parts: Result<Vec<String>, String> = list(&a[1], "the second argument")?
        .iter()
        .map(to_display)
        .collect();
    Ok(Value::from(parts?.join(str0(&a))))
}

fn f_split(a: FuncArgs) -> Result<Value, String> {
    let sep = str0(&a);
    let s = a[1].as_str().unwrap_or_default();
    if s.is_empty() {
        return Ok(Value::Array(vec![Value::from("")]));
    }
    Ok(Value::Array(s.split(sep).map(Value::from).collect()))
}

fn f_replace(a: FuncArgs) -> Result<Value, String> {
    let s = str0(&a);
    let from = a[1].as_str().unwrap_or_default();
    let to = a[2].as_str().unwrap_or_default();
    if from.len() > 2 && from.starts_with('/') && from.ends_with('/') {
        let re = regex::Regex::new(&from[1..from.len() - 1]).map_err(|e| e.to_string())?;
        let to = to.replace('$', "$$").replace("$${", "${");
        return Ok(Value::from(re.replace_all(s, to.as_str()).into_owned()));
    }
    Ok(Value::from(s.replace(from, to)))
}

fn f_length(a: FuncArgs) -> Result<Value, String> {
    let n = match &a[0] {
        Value::String(s) => s.chars().count(),
        Value::Array(l) => l.len(),
        Value::Object(m) => m.len(),
        other => return Err(format!("length needs a string, list or map, got {other}")),
    };
    Ok(Value::from(n as u64))
}

fn f_lookup(a: FuncArgs) -> Result<Value, String> {
    let Value::Object(m) = &a[0] else {
        return Err("lookup needs a map".into());
    };
    let key = a[1].as_str().unwrap_or_default();
    match (m.get(key), a.get(2)) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(d)) => Ok(d.clone()),
        (None, None) => Err(format!(
            "the map has no key {key:?} and no default was given"
        )),
    }
}

fn f_merge(a: FuncArgs) -> Result<Value, String> {
    let mut out = Map::new();
    for v in a.iter() {
        match v {
            Value::Object(m) => out.extend(m.clone()),
            Value::Null => {}
            other => return Err(format!("merge needs maps, got {other}")),
        }
    }
    Ok(Value::Object(out))
}

fn f_concat(a: FuncArgs) -> Result<Value, String> {
    let mut out = Vec::new();
    for v in a.iter() {
        out.extend(list(v, "every argument of concat")?.iter().cloned());
    }
    Ok(Value::Array(out))
}

fn f_coalesce(a: FuncArgs) -> Result<Value, String> {
    a.iter()
        .find(|v| !v.is_null() && v.as_str() != Some(""))
        .cloned()
        .ok_or_else(|| "no non-null, non-empty argument".to_string())
}

fn bools(v: &Value) -> Result<Vec<bool>, String> {
    list(v, "the argument")?
        .iter()
        .map(|x| match x {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            other => Err(format!("a list of booleans is required, got {other}")),
        })
        .collect()
}

fn number(f: f64) -> Result<Value, String> {
    if f.fract() == 0.0 && f.abs() < 9e15 {
        Ok(Value::from(f as i64))
    } else {
        hcl::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| format!("{f} is not a number HCL can hold"))
    }
}

fn fold_numbers(a: &FuncArgs, f: fn(f64, f64) -> f64) -> Result<Value, String> {
    let mut it = a.iter();
    let first = num(it.next().ok_or("at least one number is required")?)?;
    let mut acc = first;
    for v in it {
        acc = f(acc, num(v)?);
    }
    number(acc)
}

fn f_one(a: FuncArgs) -> Result<Value, String> {
    let l = list(&a[0], "the argument")?;
    match l.len() {
        0 => Ok(Value::Null),
        1 => Ok(l[0].clone()),
        n => Err(format!("must be a list with one element at most, got {n}")),
    }
}

fn f_sum(a: FuncArgs) -> Result<Value, String> {
    let l = list(&a[0], "the argument")?;
    if l.is_empty() {
        return Err("cannot sum an empty list".into());
    }
    let mut t = 0.0;
    for v in l {
        t += num(v)?;
    }
    number(t)
}

fn f_zipmap(a: FuncArgs) -> Result<Value, String> {
    let (k, v) = (list(&a[0], "the keys")?, list(&a[1], "the values")?);
    if k.len() != v.len() {
        return Err(format!(
            "the keys ({}) and values ({}) must be lists of the same length",
            k.len(),
            v.len()
        ));
    }
    let mut m = hcl::Map::new();
    for (key, val) in k.iter().zip(v) {
        m.insert(to_display(key)?, val.clone());
    }
    Ok(Value::Object(m))
}

fn f_title(a: FuncArgs) -> Result<Value, String> {
    let mut out = std::string::String::new();
    let mut start = true;
    for c in str0(&a).chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    Ok(Value::from(out))
}

fn f_slice(a: FuncArgs) -> Result<Value, String> {
    let l = list(&a[0], "the first argument")?;
    let (from, to) = (num(&a[1])?, num(&a[2])?);
    if from < 0.0 || to < from || to as usize > l.len() {
        return Err(format!(
            "the indexes must satisfy 0 <= start ({from}) <= end ({to}) <= length ({})",
            l.len()
        ));
    }
    Ok(Value::Array(l[from as usize..to as usize].to_vec()))
}

fn f_index(a: FuncArgs) -> Result<Value, String> {
    let l = list(&a[0], "the first argument")?;
    l.iter()
        .position(|x| *x == a[1])
        .map(|i| Value::from(i as i64))
        .ok_or_else(|| format!("{} is not in the list", a[1]))
}

fn f_keys(a: FuncArgs) -> Result<Value, String> {
    match &a[0] {
        Value::Object(m) => {
            let mut k: Vec<&String> = m.keys().collect();
            k.sort();
            Ok(Value::Array(
                k.into_iter().map(|s| Value::from(s.as_str())).collect(),
            ))
        }
        other => Err(format!("keys needs a map, got {other}")),
    }
}

fn f_values(a: FuncArgs) -> Result<Value, String> {
    match &a[0] {
        Value::Object(m) => {
            let mut k: Vec<(&String, &Value)> = m.iter().collect();
            k.sort_by(|x, y| x.0.cmp(y.0));
            Ok(Value::Array(
                k.into_iter().map(|(_, v)| v.clone()).collect(),
            ))
        }
        other => Err(format!("values needs a map, got {other}")),
    }
}

fn f_range(a: FuncArgs) -> Result<Value, String> {
    let n: Vec<f64> = a.iter().map(num).collect::<Result<_, _>>()?;
    let (start, end, step) = match n.as_slice() {
        [e] => (0.0, *e, 1.0),
        [s, e] => (*s, *e, if e >= s { 1.0 } else { -1.0 }),
        [s, e, st] => (*s, *e, *st),
        _ => return Err("range takes one to three numbers".into()),
    };
    if step == 0.0 {
        return Err("the step of range must not be zero".into());
    }
    let mut out = Vec::new();
    let mut x = start;
    while (step > 0.0 && x < end) || (step < 0.0 && x > end) {
        out.push(crate::value::number_to_hcl(x));
        x += step;
        if out.len() > 1024 {
            return Err("range would produce more than 1024 elements".into());
        }
    }
    Ok(Value::Array(out))
}

fn f_contains(a: FuncArgs) -> Result<Value, String> {
    Ok(Value::Bool(
        list(&a[0], "the first argument")?.contains(&a[1]),
    ))
}

fn f_element(a: FuncArgs) -> Result<Value, String> {
    let l = list(&a[0], "the first argument")?;
    if l.is_empty() {
        return Err("cannot use element on an empty list".into());
    }
    let i = num(&a[1])?;
    if i < 0.0 {
        return Err("the index must not be negative".into());
    }
    Ok(l[(i as usize) % l.len()].clone())
}

fn flatten_into(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(l) => l.iter().for_each(|x| flatten_into(x, out)),
        other => out.push(other.clone()),
    }
}

fn f_flatten(a: FuncArgs) -> Result<Value, String> {
    let mut out = Vec::new();
    for v in list(&a[0], "the argument")? {
        flatten_into(v, &mut out);
    }
    Ok(Value::Array(out))
}

fn f_distinct(a: FuncArgs) -> Result<Value, String> {
    let mut out: Vec<Value> = Vec::new();
    for v in list(&a[0], "the argument")? {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    Ok(Value::Array(out))
}

fn f_tolist(a: FuncArgs) -> Result<Value, String> {
    list(&a[0], "the argument").map(|l| Value::Array(l.clone()))
}

fn f_tomap(a: FuncArgs) -> Result<Value, String> {
    match &a[0] {
        Value::Object(m) => Ok(Value::Object(m.clone())),
        other => Err(format!("tomap needs a map or object, got {other}")),
    }
}

fn f_tostring(a: FuncArgs) -> Result<Value, String> {
    if a[0].is_null() {
        return Ok(Value::Null);
    }
    to_display(&a[0]).map(Value::from)
}

fn f_tonumber(a: FuncArgs) -> Result<Value, String> {
    match &a[0] {
        Value::Number(_) | Value::Null => Ok(a[0].clone()),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .map(crate::value::number_to_hcl)
            .map_err(|_| format!("cannot convert {s:?} to a number")),
        other => Err(format!("cannot convert {other} to a number")),
    }
}

fn f_substr(a: FuncArgs) -> Result<Value, String> {
    let chars: Vec<char> = str0(&a).chars().collect();
    let off = num(&a[1])? as i64;
    let len = num(&a[2])? as i64;
    let n = chars.len() as i64;
    let start = if off < 0 {
        (n + off).max(0)
    } else {
        off.min(n)
    } as usize;
    let end = if len < 0 {
        chars.len()
    } else {
        (start + len as usize).min(chars.len())
    };
    Ok(Value::from(chars[start..end].iter().collect::<String>()))
}

fn f_regex(a: FuncArgs) -> Result<Value, String> {
    let re = regex::Regex::new(str0(&a)).map_err(|e| format!("invalid regular expression: {e}"))?;
    let s = a[1].as_str().unwrap_or_default();
    let caps = re
        .captures(s)
        .ok_or_else(|| "the regular expression does not match the string".to_string())?;
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    if names.is_empty() {
        return Ok(Value::from(caps.get(0).map(|m| m.as_str()).unwrap_or("")));
    }
    if names.iter().all(Option::is_some) {
        let mut m = Map::new();
        for n in names.into_iter().flatten() {
            m.insert(
                n.to_string(),
                caps.name(n)
                    .map(|x| Value::from(x.as_str()))
                    .unwrap_or(Value::Null),
            );
        }
        return Ok(Value::Object(m));
    }
    Ok(Value::Array(
        (1..caps.len())
            .map(|i| {
                caps.get(i)
                    .map(|x| Value::from(x.as_str()))
                    .unwrap_or(Value::Null)
            })
            .collect(),
    ))
}

fn f_jsonencode(a: FuncArgs) -> Result<Value, String> {
    let v = crate::value::Value::from_hcl(&a[0]).to_json();
    Ok(Value::from(v.to_string()))
}

fn f_jsondecode(a: FuncArgs) -> Result<Value, String> {
    let v: serde_json::Value =
        serde_json::from_str(str0(&a)).map_err(|e| format!("invalid JSON: {e}"))?;
    Ok(crate::value::Value::from_json(&v).to_hcl())
}

fn f_sha256(a: FuncArgs) -> Result<Value, String> {
    use sha2::Digest;
    Ok(Value::from(hex::encode(sha2::Sha256::digest(
        str0(&a).as_bytes(),
    ))))
}

fn f_md5(a: FuncArgs) -> Result<Value, String> {
    use md5::Digest;
    Ok(Value::from(hex::encode(md5::Md5::digest(
        str0(&a).as_bytes(),
    ))))
}

fn f_base64decode(a: FuncArgs) -> Result<Value, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(str0(&a))
        .map_err(|e| format!("invalid base64: {e}"))?;
    String::from_utf8(bytes)
        .map(Value::from)
        .map_err(|_| "the decoded bytes are not UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::eval::Evaluate;

    fn eval(src: &str) -> Result<Value, String> {
        let e: hcl::Expression = src.parse().map_err(|e: hcl::Error| e.to_string())?;
        let mut ctx = Context::new();
        for n in NAMES {
            declare(&mut ctx, n);
        }
        e.evaluate(&ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn library_table() {
        let cases = [
            (r#"format("%s-%03d", "img", 7)"#, r#""img-007""#),
            (r#"join(",", ["a", "b"])"#, r#""a,b""#),
            (r#"split(",", "a,b")"#, r#"["a","b"]"#),
            (r#"lower("AB")"#, r#""ab""#),
            (r#"upper("ab")"#, r#""AB""#),
            (r#"replace("a-b", "-", "_")"#, r#""a_b""#),
            (r#"replace("a1b2", "/[0-9]/", "")"#, r#""ab""#),
            (r#"length([1, 2, 3])"#, "3"),
            (r#"lookup({a = 1}, "b", 2)"#, "2"),
            (r#"merge({a = 1}, {b = 2})"#, r#"{"a":1,"b":2}"#),
            (r#"concat([1], [2])"#, "[1,2]"),
            (r#"coalesce("", "x")"#, r#""x""#),
            (r#"keys({b = 1, a = 2})"#, r#"["a","b"]"#),
            // The examples of Terraform's function documentation.
            (r#"alltrue(["true", true])"#, "true"),
            (r#"alltrue([true, false])"#, "false"),
            (r#"alltrue([])"#, "true"),
            (r#"anytrue(["true"])"#, "true"),
            (r#"anytrue([])"#, "false"),
            (r#"strrev("hello")"#, r#""olleh""#),
            (r#"startswith("hello world", "hello")"#, "true"),
            (r#"endswith("hello world", "world")"#, "true"),
            (r#"one([])"#, "null"),
            (r#"one(["hello"])"#, r#""hello""#),
            (r#"sum([10, 13, 6, 4.5])"#, "33.5"),
            (r#"zipmap(["a", "b"], [1, 2])"#, r#"{"a":1,"b":2}"#),
            (r#"chomp("hello\n")"#, r#""hello""#),
            (r#"title("hello world")"#, r#""Hello World""#),
            (r#"trimprefix("helloworld", "hello")"#, r#""world""#),
            (r#"trimsuffix("helloworld", "world")"#, r#""hello""#),
            (r#"trim("?!hello?!", "!?")"#, r#""hello""#),
            (r#"abs(-12.4)"#, "12.4"),
            (r#"ceil(5.1)"#, "6"),
            (r#"floor(4.9)"#, "4"),
            (r#"max(12, 54, 3)"#, "54"),
            (r#"min(12, 54, 3)"#, "3"),
            (r#"reverse([1, 2, 3])"#, "[3,2,1]"),
            (r#"compact(["a", "", "b", null])"#, r#"["a","b"]"#),
            (r#"slice(["a", "b", "c", "d"], 1, 3)"#, r#"["b","c"]"#),
            (r#"index(["a", "b", "c"], "b")"#, "1"),
            (r#"values({b = 1, a = 2})"#, "[2,1]"),
            (r#"range(3)"#, "[0,1,2]"),
            (r#"contains(["a"], "a")"#, "true"),
            (r#"element(["a", "b"], 3)"#, r#""b""#),
            (r#"flatten([[1], [2, [3]]])"#, "[1,2,3]"),
            (r#"distinct([1, 1, 2])"#, "[1,2]"),
            (r#"toset(["a", "a"])"#, r#"["a"]"#),
            (r#"tostring(5)"#, r#""5""#),
            (r#"tonumber("5")"#, "5"),
            (r#"trimspace("  x ")"#, r#""x""#),
            (r#"substr("hello", 1, 3)"#, r#""ell""#),
            (r#"regex("v([0-9]+)", "v12")"#, r#"["12"]"#),
            (r#"jsonencode({a = [1]})"#, r#""{\"a\":[1]}""#),
            (r#"jsondecode("{\"a\":1}").a"#, "1"),
            (r#"md5("a")"#, r#""0cc175b9c0f1b6a831c399e269772661""#),
            (
                r#"sha256("")"#,
                r#""e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855""#,
            ),
            (r#"base64decode(base64encode("hi"))"#, r#""hi""#),
        ];
        for (src, want) in cases {
            let got = eval(src).unwrap_or_else(|e| panic!("{src}: {e}"));
            let got = serde_json::to_string(&got).expect("json");
            assert_eq!(got, want, "{src}");
        }
    }

    #[test]
    fn errors_are_messages_not_panics() {
        for src in [
            r#"element([], 0)"#,
            r#"format("%d")"#,
            r#"regex("(", "x")"#,
            r#"lookup({}, "a")"#,
            r#"jsondecode("{")"#,
            r#"range(0, 10, 0)"#,
            r#"base64decode("!!")"#,
            r#"format("%70000d", 1)"#,
            r#"format("%.70000f", 1)"#,
        ] {
            assert!(eval(src).is_err(), "{src}");
        }
    }

    #[test]
    fn no_timestamp() {
        assert!(!declare(&mut Context::new(), "timestamp"));
    }
}
