//! The rest of Terraform's pure function library: numbers, strings, collections and sets,
//! encodings (CSV, YAML, gzip, URL, text encodings), paths, dates, hashes, UUIDv5 and IP
//! networks, plus the eager forms of `try` and `can` (their lazy forms are resolved by the
//! evaluator before a call is made). The impure functions are refused with the reason.

use super::{format_values, list, num, number, str0, to_display, NAMES};
use base64::Engine as _;
use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};
use hcl::{Map, Value};
use sha2::Digest as _;
use std::io::Write as _;

/// The names this file adds.
pub const MORE_NAMES: &[&str] = &[
    "try",
    "can",
    "log",
    "parseint",
    "pow",
    "signum",
    "formatlist",
    "indent",
    "regexall",
    "strcontains",
    "templatestring",
    "chunklist",
    "coalescelist",
    "matchkeys",
    "setintersection",
    "setproduct",
    "setsubtract",
    "setunion",
    "sort",
    "transpose",
    "base64gzip",
    "csvdecode",
    "textencodebase64",
    "textdecodebase64",
    "urlencode",
    "yamlencode",
    "yamldecode",
    "abspath",
    "dirname",
    "basename",
    "pathexpand",
    "formatdate",
    "timeadd",
    "timecmp",
    "base64sha256",
    "base64sha512",
    "sha1",
    "sha512",
    "uuidv5",
    "rsadecrypt",
    "cidrhost",
    "cidrnetmask",
    "cidrsubnet",
    "cidrsubnets",
    "tobool",
    "sensitive",
    "nonsensitive",
    "issensitive",
    "ephemeralasnull",
];

/// Why a function of Terraform's library is refused, if it is.
pub fn refusal_reason(name: &str) -> Option<&'static str> {
    Some(match name {
        "timestamp" | "plantimestamp" => {
            "plans must be reproducible, and the time changes on every run; pass the time as a variable instead"
        }
        "uuid" => "plans must be reproducible, and uuid() changes on every run; use uuidv5() with a fixed namespace and name",
        "bcrypt" => "plans must be reproducible, and bcrypt() salts randomly on every run",
        "type" => "type() is for Terraform's console only",
        _ => return None,
    })
}

/// The definition of `name`, if this file has it.
pub fn declare(name: &str) -> Option<FuncDef> {
    use ParamType::*;
    let s = || String;
    Some(match name {
        // Reached only where the evaluator could not resolve them lazily (inside a `for`):
        // every argument evaluated, so the first is the answer.
        "try" => FuncDef::builder().variadic_param(Any).build(|a| {
            a.first()
                .cloned()
                .ok_or_else(|| "try needs at least one argument".into())
        }),
        "can" => FuncDef::new(|_| Ok(Value::Bool(true)), [Any]),
        "log" => FuncDef::new(
            |a| number(num(&a[0])?.ln() / num(&a[1])?.ln()),
            [Number, Number],
        ),
        "pow" => FuncDef::new(|a| number(num(&a[0])?.powf(num(&a[1])?)), [Number, Number]),
        "signum" => FuncDef::new(
            |a| {
                let n = num(&a[0])?;
                number(if n > 0.0 {
                    1.0
                } else if n < 0.0 {
                    -1.0
                } else {
                    0.0
                })
            },
            [Number],
        ),
        "parseint" => FuncDef::new(f_parseint, [s(), Number]),
        "formatlist" => FuncDef::builder()
            .param(s())
            .variadic_param(Any)
            .build(f_formatlist),
        "indent" => FuncDef::new(
            |a| {
                let pad = " ".repeat(num(&a[0])?.max(0.0) as usize);
                let text = a[1].as_str().unwrap_or_default();
                Ok(Value::from(text.replace('\n', &format!("\n{pad}"))))
            },
            [Number, s()],
        ),
        "regexall" => FuncDef::new(f_regexall, [s(), s()]),
        "strcontains" => FuncDef::new(
            |a| {
                Ok(Value::Bool(
                    str0(&a).contains(a[1].as_str().unwrap_or_default()),
                ))
            },
            [s(), s()],
        ),
        "templatestring" => FuncDef::new(|a| template(str0(&a), &a[1], "the template"), [s(), Any]),
        "chunklist" => FuncDef::new(f_chunklist, [Any, Number]),
        "coalescelist" => FuncDef::builder().variadic_param(Any).build(|a| {
            Ok(a.iter()
                .find(|v| v.as_array().is_some_and(|l| !l.is_empty()))
                .cloned()
                .unwrap_or(Value::Array(vec![])))
        }),
        "matchkeys" => FuncDef::new(f_matchkeys, [Any, Any, Any]),
        "setintersection" => FuncDef::builder()
            .variadic_param(Any)
            .build(|a| sets(&a, |acc, next| acc.retain(|x| next.contains(x)))),
        "setunion" => FuncDef::builder().variadic_param(Any).build(|a| {
            sets(&a, |acc, next| {
                for x in next {
                    if !acc.contains(x) {
                        acc.push(x.clone());
                    }
                }
            })
        }),
        "setsubtract" => FuncDef::new(
            |a| sets(&a, |acc, next| acc.retain(|x| !next.contains(x))),
            [Any, Any],
        ),
        "setproduct" => FuncDef::builder().variadic_param(Any).build(f_setproduct),
        "sort" => FuncDef::new(
            |a| {
                let mut v: Vec<std::string::String> = list(&a[0], "the argument")?
                    .iter()
                    .map(to_display)
                    .collect::<Result<_, _>>()?;
                v.sort();
                Ok(Value::Array(v.into_iter().map(Value::from).collect()))
            },
            [Any],
        ),
        "transpose" => FuncDef::new(f_transpose, [Any]),
        "base64gzip" => FuncDef::new(
            |a| {
                let mut gz =
                    flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
                gz.write_all(str0(&a).as_bytes())
                    .map_err(|e| e.to_string())?;
                let bytes = gz.finish().map_err(|e| e.to_string())?;
                Ok(Value::from(b64(&bytes)))
            },
            [s()],
        ),
        "csvdecode" => FuncDef::new(f_csvdecode, [s()]),
        "textencodebase64" => FuncDef::new(f_textencode, [s(), s()]),
        "textdecodebase64" => FuncDef::new(f_textdecode, [s(), s()]),
        "urlencode" => FuncDef::new(|a| Ok(Value::from(urlencode(str0(&a)))), [s()]),
        "yamlencode" => FuncDef::new(f_yamlencode, [Any]),
        "yamldecode" => FuncDef::new(f_yamldecode, [s()]),
        "abspath" => FuncDef::new(
            |a| {
                let p = std::path::absolute(str0(&a)).map_err(|e| e.to_string())?;
                Ok(Value::from(p.display().to_string()))
            },
            [s()],
        ),
        "dirname" => FuncDef::new(
            |a| {
                let p = std::path::Path::new(str0(&a));
                Ok(Value::from(match p.parent() {
                    Some(d) if !d.as_os_str().is_empty() => d.display().to_string(),
                    Some(_) => ".".to_string(),
                    None => str0(&a).to_string(),
                }))
            },
            [s()],
        ),
        "basename" => FuncDef::new(
            |a| {
                let p = std::path::Path::new(str0(&a));
                Ok(Value::from(
                    p.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| str0(&a).to_string()),
                ))
            },
            [s()],
        ),
        "pathexpand" => FuncDef::new(
            |a| {
                let p = str0(&a);
                let home = std::env::var("HOME").unwrap_or_default();
                Ok(Value::from(match p.strip_prefix('~') {
                    Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                        format!("{home}{rest}")
                    }
                    _ => p.to_string(),
                }))
            },
            [s()],
        ),
        "formatdate" => FuncDef::new(f_formatdate, [s(), s()]),
        "timeadd" => FuncDef::new(f_timeadd, [s(), s()]),
        "timecmp" => FuncDef::new(
            |a| {
                let (x, y) = (
                    rfc3339(str0(&a))?,
                    rfc3339(a[1].as_str().unwrap_or_default())?,
                );
                number(match x.cmp(&y) {
                    std::cmp::Ordering::Less => -1.0,
                    std::cmp::Ordering::Equal => 0.0,
                    std::cmp::Ordering::Greater => 1.0,
                })
            },
            [s(), s()],
        ),
        "base64sha256" => FuncDef::new(
            |a| Ok(Value::from(b64(&sha2::Sha256::digest(str0(&a))))),
            [s()],
        ),
        "base64sha512" => FuncDef::new(
            |a| Ok(Value::from(b64(&sha2::Sha512::digest(str0(&a))))),
            [s()],
        ),
        "sha1" => FuncDef::new(
            |a| Ok(Value::from(hex::encode(sha1::Sha1::digest(str0(&a))))),
            [s()],
        ),
        "sha512" => FuncDef::new(
            |a| Ok(Value::from(hex::encode(sha2::Sha512::digest(str0(&a))))),
            [s()],
        ),
        "uuidv5" => FuncDef::new(f_uuidv5, [s(), s()]),
        "rsadecrypt" => FuncDef::new(f_rsadecrypt, [s(), s()]),
        "cidrhost" => FuncDef::new(f_cidrhost, [s(), Number]),
        "cidrnetmask" => FuncDef::new(f_cidrnetmask, [s()]),
        "cidrsubnet" => FuncDef::new(f_cidrsubnet, [s(), Number, Number]),
        "cidrsubnets" => FuncDef::builder()
            .param(s())
            .variadic_param(Number)
            .build(f_cidrsubnets),
        "tobool" => FuncDef::new(
            |a| match &a[0] {
                Value::Bool(b) => Ok(Value::Bool(*b)),
                Value::String(s) if s == "true" => Ok(Value::Bool(true)),
                Value::String(s) if s == "false" => Ok(Value::Bool(false)),
                Value::Null => Ok(Value::Null),
                other => Err(format!(
                    "cannot convert {other} to bool: only true, false, \"true\" and \"false\""
                )),
            },
            [Any],
        ),
        // Sensitivity is decided from the configuration (a call to `sensitive` marks what
        // refers to it); the value itself passes through.
        "sensitive" | "nonsensitive" => FuncDef::new(|a| Ok(a[0].clone()), [Any]),
        // imgform has no ephemeral values: every value passes as it is.
        "ephemeralasnull" => FuncDef::new(|a| Ok(a[0].clone()), [Any]),
        // Reached only where sensitivity is not known (a variable's default or
        // validation, a module's count); everywhere else the evaluator answers it.
        "issensitive" => FuncDef::new(
            |_| Err("issensitive() can be used in locals, resources and outputs, not here".into()),
            [Any],
        ),
        _ => return None,
    })
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn whole(v: &Value, what: &str) -> Result<i64, String> {
    let n = num(v)?;
    if n.fract() != 0.0 {
        return Err(format!("{what} must be a whole number, got {n}"));
    }
    Ok(n as i64)
}

fn f_parseint(a: FuncArgs) -> Result<Value, String> {
    let base = whole(&a[1], "the base")?;
    if !(2..=36).contains(&base) {
        return Err(format!("the base must be between 2 and 36, got {base}"));
    }
    i64::from_str_radix(str0(&a), base as u32)
        .map(Value::from)
        .map_err(|_| format!("cannot parse {:?} as a base {base} integer", str0(&a)))
}

fn f_formatlist(a: FuncArgs) -> Result<Value, String> {
    let args: Vec<Value> = a.variadic_args().cloned().collect();
    let args = &args;
    let mut n: Option<usize> = None;
    for v in args.iter() {
        if let Some(l) = v.as_array() {
            match n {
                Some(m) if m != l.len() => {
                    return Err(format!(
                        "all list arguments must have the same length ({m} and {})",
                        l.len()
                    ))
                }
                _ => n = Some(l.len()),
            }
        }
    }
    let n = n.unwrap_or(1);
    (0..n)
        .map(|i| {
            let row: Vec<Value> = args
                .iter()
                .map(|v| match v.as_array() {
                    Some(l) => l[i].clone(),
                    None => v.clone(),
                })
                .collect();
            format_values(str0(&a), &row).map(Value::from)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Value::Array)
}

fn f_regexall(a: FuncArgs) -> Result<Value, String> {
    let re = regex::Regex::new(str0(&a)).map_err(|e| format!("invalid regular expression: {e}"))?;
    let s = a[1].as_str().unwrap_or_default();
    let names: Vec<Option<&str>> = re.capture_names().skip(1).collect();
    let out = re
        .captures_iter(s)
        .map(|caps| {
            let get = |i: usize| {
                caps.get(i)
                    .map(|x| Value::from(x.as_str()))
                    .unwrap_or(Value::Null)
            };
            if names.is_empty() {
                get(0)
            } else if names.iter().all(Option::is_some) {
                Value::Object(
                    names
                        .iter()
                        .flatten()
                        .map(|n| {
                            let v = caps
                                .name(n)
                                .map(|x| Value::from(x.as_str()))
                                .unwrap_or(Value::Null);
                            (n.to_string(), v)
                        })
                        .collect(),
                )
            } else {
                Value::Array((1..caps.len()).map(get).collect())
            }
        })
        .collect();
    Ok(Value::Array(out))
}

/// Evaluates `src` as a template with `vars` (an object), as templatefile does for a file.
pub(super) fn template(src: &str, vars: &Value, what: &str) -> Result<Value, String> {
    use hcl::eval::Evaluate;
    let tmpl: hcl::Template = src
        .parse()
        .map_err(|e| format!("cannot parse {what}: {e}"))?;
    let Value::Object(vars) = vars else {
        return Err("the template's variables must be an object".into());
    };
    let mut ctx = Context::new();
    for (k, v) in vars {
        ctx.declare_var(k.as_str(), v.clone());
    }
    for n in NAMES.iter().chain(MORE_NAMES) {
        super::declare(&mut ctx, n);
    }
    tmpl.evaluate(&ctx)
        .map(Value::from)
        .map_err(|e| format!("in {what}: {e}"))
}

fn f_chunklist(a: FuncArgs) -> Result<Value, String> {
    let l = list(&a[0], "the first argument")?;
    let size = whole(&a[1], "the chunk size")?;
    if size < 0 {
        return Err("the chunk size must not be negative".into());
    }
    if size == 0 {
        return Ok(Value::Array(vec![Value::Array(l.clone())]));
    }
    Ok(Value::Array(
        l.chunks(size as usize)
            .map(|c| Value::Array(c.to_vec()))
            .collect(),
    ))
}

fn f_matchkeys(a: FuncArgs) -> Result<Value, String> {
    let values = list(&a[0], "the values")?;
    let keys = list(&a[1], "the keys")?;
    let search = list(&a[2], "the search set")?;
    if values.len() != keys.len() {
        return Err("the values and keys must be lists of the same length".into());
    }
    Ok(Value::Array(
        values
            .iter()
            .zip(keys)
            .filter(|(_, k)| search.contains(k))
            .map(|(v, _)| v.clone())
            .collect(),
    ))
}

/// Folds set arguments (lists without duplicates) with `f`, keeping first-seen order.
fn sets(a: &FuncArgs, f: impl Fn(&mut Vec<Value>, &[Value])) -> Result<Value, String> {
    let mut it = a.iter();
    let first = it.next().ok_or("at least one set is required")?;
    let mut acc: Vec<Value> = Vec::new();
    for x in list(first, "each argument")? {
        if !acc.contains(x) {
            acc.push(x.clone());
        }
    }
    for v in it {
        f(&mut acc, list(v, "each argument")?);
    }
    Ok(Value::Array(acc))
}

fn f_setproduct(a: FuncArgs) -> Result<Value, String> {
    if a.len() < 2 {
        return Err("setproduct needs at least two sets".into());
    }
    let mut out: Vec<Vec<Value>> = vec![vec![]];
    for v in a.iter() {
        let l = list(v, "each argument")?;
        let mut next = Vec::new();
        for prefix in &out {
            for x in l {
                let mut row = prefix.clone();
                row.push(x.clone());
                next.push(row);
            }
        }
        if next.len() > 1_000_000 {
            return Err("setproduct would make more than a million elements".into());
        }
        out = next;
    }
    Ok(Value::Array(out.into_iter().map(Value::Array).collect()))
}

fn f_transpose(a: FuncArgs) -> Result<Value, String> {
    let Value::Object(m) = &a[0] else {
        return Err("transpose takes a map of lists of strings".into());
    };
    let mut out: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
    for (k, v) in m {
        for x in list(v, "each value")? {
            let x = to_display(x)?;
            out.entry(x).or_default().push(Value::from(k.as_str()));
        }
    }
    Ok(Value::Object(
        out.into_iter()
            .map(|(k, mut v)| {
                v.sort_by_key(|a| a.as_str().map(String::from));
                (k, Value::Array(v))
            })
            .collect(),
    ))
}

fn f_csvdecode(a: FuncArgs) -> Result<Value, String> {
    let mut r = csv::ReaderBuilder::new().from_reader(str0(&a).as_bytes());
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| format!("invalid CSV: {e}"))?
        .iter()
        .map(String::from)
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| format!("invalid CSV: {e}"))?;
        let mut m = Map::new();
        for (h, v) in headers.iter().zip(rec.iter()) {
            m.insert(h.clone(), Value::from(v));
        }
        rows.push(Value::Object(m));
    }
    Ok(Value::Array(rows))
}

fn encoding(name: &str) -> Result<&'static str, String> {
    match name.to_ascii_uppercase().replace('_', "-").as_str() {
        "UTF-8" | "UTF8" => Ok("utf-8"),
        "UTF-16LE" => Ok("utf-16le"),
        "UTF-16BE" => Ok("utf-16be"),
        _ => Err(format!(
            "imgform encodes text as UTF-8, UTF-16LE or UTF-16BE, not {name:?}"
        )),
    }
}

fn f_textencode(a: FuncArgs) -> Result<Value, String> {
    let text = str0(&a);
    let bytes: Vec<u8> = match encoding(a[1].as_str().unwrap_or_default())? {
        "utf-8" => text.as_bytes().to_vec(),
        "utf-16le" => text.encode_utf16().flat_map(u16::to_le_bytes).collect(),
        _ => text.encode_utf16().flat_map(u16::to_be_bytes).collect(),
    };
    Ok(Value::from(b64(&bytes)))
}

fn f_textdecode(a: FuncArgs) -> Result<Value, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(str0(&a))
        .map_err(|e| format!("invalid base64: {e}"))?;
    let enc = encoding(a[1].as_str().unwrap_or_default())?;
    let text = if enc == "utf-8" {
        String::from_utf8(bytes).map_err(|_| "the bytes are not valid UTF-8".to_string())?
    } else {
        if bytes.len() % 2 != 0 {
            return Err("UTF-16 text has an even number of bytes".into());
        }
        let units: Vec<u16> = bytes
            .chunks(2)
            .map(|c| {
                if enc == "utf-16le" {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            })
            .collect();
        String::from_utf16(&units).map_err(|_| "the bytes are not valid UTF-16".to_string())?
    };
    Ok(Value::from(text))
}

/// Go's `url.QueryEscape`, as Terraform's urlencode: unreserved characters stay, a space
/// becomes `+`, everything else is percent-encoded.
fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn f_yamlencode(a: FuncArgs) -> Result<Value, String> {
    let mut out = String::new();
    yaml(&a[0], 0, &mut out);
    Ok(Value::from(out))
}

/// YAML in the style of Terraform's yamlencode: block style, strings and keys double-quoted
/// (JSON escapes are valid YAML), `[]`/`{}` for empty collections.
fn yaml(v: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let scalar = |v: &Value| -> String {
        match v {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Number(n) => n.to_string(),
            Value::String(s) => serde_json::Value::String(s.clone()).to_string(),
            Value::Array(_) => "[]".into(),
            Value::Object(_) => "{}".into(),
        }
    };
    let nested = |v: &Value| match v {
        Value::Array(l) => !l.is_empty(),
        Value::Object(m) => !m.is_empty(),
        _ => false,
    };
    match v {
        Value::Array(l) if !l.is_empty() => {
            for x in l {
                out.push_str(&pad);
                out.push_str("- ");
                if nested(x) {
                    // The first line goes after the dash; the rest is indented under it.
                    let mut inner = String::new();
                    yaml(x, indent + 2, &mut inner);
                    out.push_str(inner.trim_start());
                } else {
                    out.push_str(&scalar(x));
                    out.push('\n');
                }
            }
        }
        Value::Object(m) if !m.is_empty() => {
            // Terraform's objects and maps are in key order.
            let mut entries: Vec<(&String, &Value)> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (k, x) in entries {
                out.push_str(&pad);
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                match x {
                    Value::Object(_) if nested(x) => {
                        out.push('\n');
                        yaml(x, indent + 2, out);
                    }
                    Value::Array(_) if nested(x) => {
                        out.push('\n');
                        yaml(x, indent, out);
                    }
                    _ => {
                        out.push(' ');
                        out.push_str(&scalar(x));
                        out.push('\n');
                    }
                }
            }
        }
        other => {
            out.push_str(&pad);
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn f_yamldecode(a: FuncArgs) -> Result<Value, String> {
    let j: serde_json::Value =
        serde_yaml_ng::from_str(str0(&a)).map_err(|e| format!("invalid YAML: {e}"))?;
    serde_json::from_value(j).map_err(|e| e.to_string())
}

fn rfc3339(s: &str) -> Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).map_err(|_| {
        format!("{s:?} is not a timestamp in RFC 3339 format, such as \"2024-01-02T15:04:05Z\"")
    })
}

fn f_timeadd(a: FuncArgs) -> Result<Value, String> {
    let t = rfc3339(str0(&a))?;
    let d = a[1].as_str().unwrap_or_default();
    let (neg, body) = match d.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, d.strip_prefix('+').unwrap_or(d)),
    };
    let dur = crate::config::load::parse_go_duration(body)
        .ok_or_else(|| format!("{d:?} is not a duration such as \"10m\" or \"-1h30m\""))?;
    let dur = time::Duration::try_from(dur).map_err(|e| e.to_string())?;
    let out = if neg { t - dur } else { t + dur };
    out.format(&time::format_description::well_known::Rfc3339)
        .map(Value::from)
        .map_err(|e| e.to_string())
}

fn f_formatdate(a: FuncArgs) -> Result<Value, String> {
    let spec = str0(&a);
    let t = rfc3339(a[1].as_str().unwrap_or_default())?;
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 7] = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let mut out = String::new();
    let chars: Vec<char> = spec.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            let mut j = i + 1;
            if chars.get(j) == Some(&'\'') {
                out.push('\'');
                i += 2;
                continue;
            }
            while j < chars.len() && chars[j] != '\'' {
                out.push(chars[j]);
                j += 1;
            }
            if j >= chars.len() {
                return Err("unterminated literal in the date format".into());
            }
            i = j + 1;
            continue;
        }
        if !c.is_ascii_alphabetic() {
            out.push(c);
            i += 1;
            continue;
        }
        let mut n = 1;
        while i + n < chars.len() && chars[i + n] == c {
            n += 1;
        }
        let hour12 = match t.hour() % 12 {
            0 => 12,
            h => h,
        };
        let off = t.offset();
        let (oh, om) = (off.whole_hours(), off.minutes_past_hour().abs());
        let piece = match (c, n) {
            ('Y', 4) => format!("{:04}", t.year()),
            ('Y', 2) => format!("{:02}", t.year() % 100),
            ('M', 4) => MONTHS[t.month() as usize - 1].to_string(),
            ('M', 3) => MONTHS[t.month() as usize - 1][..3].to_string(),
            ('M', 2) => format!("{:02}", t.month() as u8),
            ('M', 1) => (t.month() as u8).to_string(),
            ('D', 2) => format!("{:02}", t.day()),
            ('D', 1) => t.day().to_string(),
            ('E', 4) => DAYS[t.weekday().number_days_from_monday() as usize].to_string(),
            ('E', 3) => DAYS[t.weekday().number_days_from_monday() as usize][..3].to_string(),
            ('h', 2) => format!("{:02}", t.hour()),
            ('h', 1) => t.hour().to_string(),
            ('H', 2) => format!("{hour12:02}"),
            ('H', 1) => hour12.to_string(),
            ('A', 2) => (if t.hour() < 12 { "AM" } else { "PM" }).to_string(),
            ('a', 2) => (if t.hour() < 12 { "am" } else { "pm" }).to_string(),
            ('m', 2) => format!("{:02}", t.minute()),
            ('m', 1) => t.minute().to_string(),
            ('s', 2) => format!("{:02}", t.second()),
            ('s', 1) => t.second().to_string(),
            ('Z', 4) => format!(
                "{}{:02}{:02}",
                if off.is_negative() { '-' } else { '+' },
                oh.abs(),
                om
            ),
            ('Z', 5) => format!(
                "{}{:02}:{:02}",
                if off.is_negative() { '-' } else { '+' },
                oh.abs(),
                om
            ),
            ('Z', 3) | ('Z', 1) if off.is_utc() => {
                if n == 1 {
                    "Z".into()
                } else {
                    "UTC".into()
                }
            }
            ('Z', 3) => format!(
                "{}{:02}{:02}",
                if off.is_negative() { '-' } else { '+' },
                oh.abs(),
                om
            ),
            ('Z', 1) => format!(
                "{}{:02}:{:02}",
                if off.is_negative() { '-' } else { '+' },
                oh.abs(),
                om
            ),
            _ => {
                return Err(format!(
                    "invalid date format verb {:?}",
                    std::iter::repeat_n(c, n).collect::<String>()
                ))
            }
        };
        out.push_str(&piece);
        i += n;
    }
    Ok(Value::from(out))
}

fn f_uuidv5(a: FuncArgs) -> Result<Value, String> {
    let ns = match str0(&a) {
        "dns" => uuid::Uuid::NAMESPACE_DNS,
        "url" => uuid::Uuid::NAMESPACE_URL,
        "oid" => uuid::Uuid::NAMESPACE_OID,
        "x500" => uuid::Uuid::NAMESPACE_X500,
        other => uuid::Uuid::parse_str(other).map_err(|_| {
            format!("{other:?} is not a namespace: use dns, url, oid, x500 or a UUID")
        })?,
    };
    let name = a[1].as_str().unwrap_or_default();
    Ok(Value::from(
        uuid::Uuid::new_v5(&ns, name.as_bytes()).to_string(),
    ))
}

/// Terraform's rsadecrypt: base64 ciphertext, PKCS #1 v1.5 padding, a PEM private key
/// (PKCS #1 or PKCS #8).
fn f_rsadecrypt(a: FuncArgs) -> Result<Value, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey as _;
    use rsa::pkcs8::DecodePrivateKey as _;
    let ct = base64::engine::general_purpose::STANDARD
        .decode(str0(&a).trim())
        .map_err(|e| format!("the ciphertext is not valid base64: {e}"))?;
    let pem = a[1].as_str().unwrap_or_default();
    let key = rsa::RsaPrivateKey::from_pkcs1_pem(pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs8_pem(pem))
        .map_err(|_| {
            "the private key is not an RSA key in PEM format (PKCS #1 or PKCS #8)".to_string()
        })?;
    let plain = key
        .decrypt(rsa::Pkcs1v15Encrypt, &ct)
        .map_err(|_| "failed to decrypt: the key does not match the ciphertext".to_string())?;
    String::from_utf8(plain)
        .map(Value::from)
        .map_err(|_| "the decrypted text is not valid UTF-8".into())
}

fn net(s: &str) -> Result<ipnet::IpNet, String> {
    s.parse::<ipnet::IpNet>()
        .map_err(|_| format!("{s:?} is not a CIDR prefix such as \"10.0.0.0/16\""))
}

/// Address `n` of `net` (negative counts from the end).
fn host(net: &ipnet::IpNet, n: i128) -> Result<std::net::IpAddr, String> {
    let bits: u32 = if net.addr().is_ipv4() { 32 } else { 128 };
    let host_bits = bits - u32::from(net.prefix_len());
    let size: i128 = if host_bits >= 127 {
        i128::MAX
    } else {
        1i128 << host_bits
    };
    let idx = if n < 0 { size + n } else { n };
    if idx < 0 || idx >= size {
        return Err(format!("prefix {net} has no host number {n}"));
    }
    Ok(match net.network() {
        std::net::IpAddr::V4(a) => std::net::IpAddr::V4((u32::from(a) + idx as u32).into()),
        std::net::IpAddr::V6(a) => std::net::IpAddr::V6((u128::from(a) + idx as u128).into()),
    })
}

fn f_cidrhost(a: FuncArgs) -> Result<Value, String> {
    let n = net(str0(&a))?;
    Ok(Value::from(
        host(&n, whole(&a[1], "the host number")? as i128)?.to_string(),
    ))
}

fn f_cidrnetmask(a: FuncArgs) -> Result<Value, String> {
    match net(str0(&a))? {
        ipnet::IpNet::V4(n) => Ok(Value::from(n.netmask().to_string())),
        ipnet::IpNet::V6(_) => Err("cidrnetmask takes an IPv4 prefix".into()),
    }
}

fn subnet(base: &ipnet::IpNet, newbits: i64, num: i64) -> Result<ipnet::IpNet, String> {
    let bits: i64 = if base.addr().is_ipv4() { 32 } else { 128 };
    let len = i64::from(base.prefix_len()) + newbits;
    if newbits < 0 || len > bits {
        return Err(format!("cannot extend prefix {base} by {newbits} bits"));
    }
    if num < 0 || (newbits < 63 && num >= 1i64 << newbits) {
        return Err(format!(
            "prefix extension of {newbits} bits has no subnet number {num}"
        ));
    }
    let shift = (bits - len) as u32;
    let addr = match base.network() {
        std::net::IpAddr::V4(a) => {
            let v = u64::from(u32::from(a)) + ((num as u64) << shift);
            std::net::IpAddr::V4((v as u32).into())
        }
        std::net::IpAddr::V6(a) => {
            let v = u128::from(a) + ((num as u128) << shift);
            std::net::IpAddr::V6(v.into())
        }
    };
    ipnet::IpNet::new(addr, len as u8).map_err(|e| e.to_string())
}

fn f_cidrsubnet(a: FuncArgs) -> Result<Value, String> {
    let base = net(str0(&a))?;
    let s = subnet(&base, whole(&a[1], "newbits")?, whole(&a[2], "netnum")?)?;
    Ok(Value::from(s.to_string()))
}

fn f_cidrsubnets(a: FuncArgs) -> Result<Value, String> {
    let base = net(str0(&a))?;
    let bits: u32 = if base.addr().is_ipv4() { 32 } else { 128 };
    let mut next: u128 = 0;
    let mut out = Vec::new();
    for nb in a.variadic_args() {
        let newbits = whole(nb, "each newbits")?;
        let len = u32::from(base.prefix_len()) + newbits as u32;
        if newbits < 1 || len > bits {
            return Err(format!("cannot extend prefix {base} by {newbits} bits"));
        }
        let block: u128 = 1u128 << (bits - len);
        // Align to this subnet's size.
        next = next.div_ceil(block) * block;
        let num = next / block;
        let s = subnet(&base, newbits, num as i64)?;
        out.push(Value::from(s.to_string()));
        next += block;
        if next > (1u128 << (bits - u32::from(base.prefix_len()))) {
            return Err(format!(
                "not enough address space in {base} for all subnets"
            ));
        }
    }
    Ok(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use super::super::{declare as declare_any, NAMES};
    use super::MORE_NAMES;
    use hcl::eval::{Context, Evaluate};
    use hcl::Value;

    fn eval(src: &str) -> Result<Value, String> {
        let e: hcl::Expression = src.parse().map_err(|e: hcl::Error| e.to_string())?;
        let mut ctx = Context::new();
        for n in NAMES.iter().chain(MORE_NAMES) {
            assert!(declare_any(&mut ctx, n), "{n} is declared");
        }
        e.evaluate(&ctx).map_err(|e| e.to_string())
    }

    #[test]
    fn the_examples_of_terraforms_function_documentation() {
        let cases = [
            (r#"log(16, 2)"#, "4"),
            (r#"floor(log(50, 10) * 1000)"#, "1698"),
            (r#"pow(3, 2)"#, "9"),
            (r#"pow(4, 0)"#, "1"),
            (r#"signum(-13)"#, "-1"),
            (r#"signum(0)"#, "0"),
            (r#"signum(344)"#, "1"),
            (r#"parseint("100", 10)"#, "100"),
            (r#"parseint("FF", 16)"#, "255"),
            (r#"parseint("-10", 16)"#, "-16"),
            (r#"parseint("1011111011101111", 2)"#, "48879"),
            (r#"parseint("aA", 36)"#, "370"),
            (
                r#"formatlist("Hello, %s!", ["Valentina", "Ander", "Olivia", "Sam"])"#,
                r#"["Hello, Valentina!","Hello, Ander!","Hello, Olivia!","Hello, Sam!"]"#,
            ),
            (
                r#"formatlist("%s, %s%s", "Salutations", ["Valentina", "Ander"], "!")"#,
                r#"["Salutations, Valentina!","Salutations, Ander!"]"#,
            ),
            (
                r#"indent(2, "[\n  foo,\n  bar,\n]\n")"#,
                r#""[\n    foo,\n    bar,\n  ]\n  ""#,
            ),
            (
                r#"regexall("[a-z]+", "1234abcd5678efgh9")"#,
                r#"["abcd","efgh"]"#,
            ),
            (r#"length(regexall("[a-z]+", "1234abcd5678efgh9"))"#, "2"),
            (r#"length(regexall("[a-z]+", "123456789")) > 0"#, "false"),
            (r#"strcontains("hello world", "wor")"#, "true"),
            (r#"strcontains("hello world", "wod")"#, "false"),
            (
                r#"templatestring("Hello, $${name}!", { name = "Jane" })"#,
                r#""Hello, Jane!""#,
            ),
            (
                r#"chunklist(["a", "b", "c", "d", "e"], 2)"#,
                r#"[["a","b"],["c","d"],["e"]]"#,
            ),
            (
                r#"chunklist(["a", "b", "c", "d", "e"], 1)"#,
                r#"[["a"],["b"],["c"],["d"],["e"]]"#,
            ),
            (r#"coalescelist(["a", "b"], ["c", "d"])"#, r#"["a","b"]"#),
            (r#"coalescelist([], ["c", "d"])"#, r#"["c","d"]"#),
            (
                r#"matchkeys(["i-123", "i-abc", "i-def"], ["us-west", "us-east", "us-east"], ["us-east"])"#,
                r#"["i-abc","i-def"]"#,
            ),
            (
                r#"setintersection(["a", "b"], ["b", "c"], ["b", "d"])"#,
                r#"["b"]"#,
            ),
            (r#"setsubtract(["a", "b", "c"], ["a", "c"])"#, r#"["b"]"#),
            (
                r#"sort(setunion(["a", "b"], ["b", "c"], ["d"]))"#,
                r#"["a","b","c","d"]"#,
            ),
            (
                r#"setproduct(["development", "staging", "production"], ["app1", "app2"])"#,
                r#"[["development","app1"],["development","app2"],["staging","app1"],["staging","app2"],["production","app1"],["production","app2"]]"#,
            ),
            (r#"setproduct(["a"], [])"#, "[]"),
            (r#"sort(["e", "d", "a", "x"])"#, r#"["a","d","e","x"]"#),
            (
                r#"transpose({"a" = ["1", "2"], "b" = ["2", "3"]})"#,
                r#"{"1":["a"],"2":["a","b"],"3":["b"]}"#,
            ),
            (
                r#"csvdecode("a,b,c\n1,2,3\n4,5,6")"#,
                r#"[{"a":"1","b":"2","c":"3"},{"a":"4","b":"5","c":"6"}]"#,
            ),
            (
                r#"textencodebase64("Hello World", "UTF-16LE")"#,
                r#""SABlAGwAbABvACAAVwBvAHIAbABkAA==""#,
            ),
            (
                r#"textdecodebase64("SABlAGwAbABvACAAVwBvAHIAbABkAA==", "UTF-16LE")"#,
                r#""Hello World""#,
            ),
            (r#"urlencode("Hello World!")"#, r#""Hello+World%21""#),
            (r#"urlencode("☃")"#, r#""%E2%98%83""#),
            (
                r#""http://example.com/search?${urlencode("terraform urlencode")}""#,
                r#""http://example.com/search?terraform+urlencode""#,
            ),
            (r#"yamldecode("hello: world")"#, r#"{"hello":"world"}"#),
            (r#"yamldecode("true")"#, "true"),
            (
                r#"yamldecode("{a: &foo [1, 2, 3], b: *foo}")"#,
                r#"{"a":[1,2,3],"b":[1,2,3]}"#,
            ),
            (
                r#"yamlencode({"a":"b", "c":"d"})"#,
                r#""\"a\": \"b\"\n\"c\": \"d\"\n""#,
            ),
            (
                r#"yamlencode({"foo":[1, 2, 3], "bar": "baz"})"#,
                r#""\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n""#,
            ),
            (
                r#"yamlencode({"foo":[1, {"a":"b","c":"d"}, 3], "bar": "baz"})"#,
                r#""\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n""#,
            ),
            (r#"dirname("foo/bar/baz.txt")"#, r#""foo/bar""#),
            (r#"basename("foo/bar/baz.txt")"#, r#""baz.txt""#),
            (
                r#"formatdate("DD MMM YYYY hh:mm ZZZ", "2018-01-02T23:12:01Z")"#,
                r#""02 Jan 2018 23:12 UTC""#,
            ),
            (
                r#"formatdate("EEEE, DD-MMM-YY hh:mm:ss ZZZ", "2018-01-02T23:12:01Z")"#,
                r#""Tuesday, 02-Jan-18 23:12:01 UTC""#,
            ),
            (
                r#"formatdate("EEE, DD MMM YYYY hh:mm:ss ZZZ", "2018-01-02T23:12:01-08:00")"#,
                r#""Tue, 02 Jan 2018 23:12:01 -0800""#,
            ),
            (
                r#"formatdate("MMM DD, YYYY", "2018-01-02T23:12:01Z")"#,
                r#""Jan 02, 2018""#,
            ),
            (
                r#"formatdate("HH:mmaa", "2018-01-02T23:12:01Z")"#,
                r#""11:12pm""#,
            ),
            (
                r#"formatdate("h'h'mm", "2018-01-02T23:12:01-08:00")"#,
                r#""23h12""#,
            ),
            (
                r#"timeadd("2017-11-22T00:00:00Z", "10m")"#,
                r#""2017-11-22T00:10:00Z""#,
            ),
            (
                r#"timecmp("2017-11-22T00:00:00Z", "2017-11-22T00:00:00Z")"#,
                "0",
            ),
            (
                r#"timecmp("2017-11-22T00:00:00Z", "2017-11-22T01:00:00Z")"#,
                "-1",
            ),
            (
                r#"timecmp("2017-11-22T01:00:00Z", "2017-11-22T00:00:00Z")"#,
                "1",
            ),
            (
                r#"timecmp("2017-11-22T01:00:00+01:00", "2017-11-22T00:00:00Z")"#,
                "0",
            ),
            (
                r#"base64sha256("hello world")"#,
                r#""uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=""#,
            ),
            (
                r#"sha1("hello world")"#,
                r#""2aae6c35c94fcfb415dbe95f408b9ce91ee846ed""#,
            ),
            (
                r#"sha512("hello world")"#,
                r#""309ecc489c12d6eb4cc40f50c902f2b4d0ed77ee511a7c7a9bcd3ca86d4cd86f989dd35bc5ff499670da34255b45b0cfd830e81f605dcf7dc5542e93ae9cd76f""#,
            ),
            (
                r#"uuidv5("dns", "www.terraform.io")"#,
                r#""a5008fae-b28c-5ba5-96cd-82b4c53552d6""#,
            ),
            (
                r#"uuidv5("url", "https://www.terraform.io/")"#,
                r#""9db6f67c-dd95-5ea0-aa5b-e70e5c5f7cf5""#,
            ),
            (r#"cidrhost("10.12.112.0/20", 16)"#, r#""10.12.112.16""#),
            (r#"cidrhost("10.12.112.0/20", 268)"#, r#""10.12.113.12""#),
            (
                r#"cidrhost("fd00:fd12:3456:7890:00a2::/72", 34)"#,
                r#""fd00:fd12:3456:7890::22""#,
            ),
            (r#"cidrnetmask("172.16.0.0/12")"#, r#""255.240.0.0""#),
            (r#"cidrsubnet("172.16.0.0/12", 4, 2)"#, r#""172.18.0.0/16""#),
            (r#"cidrsubnet("10.1.2.0/24", 4, 15)"#, r#""10.1.2.240/28""#),
            (
                r#"cidrsubnet("fd00:fd12:3456:7890::/56", 16, 162)"#,
                r#""fd00:fd12:3456:7800:a200::/72""#,
            ),
            (
                r#"cidrsubnets("10.1.0.0/16", 4, 4, 8, 4)"#,
                r#"["10.1.0.0/20","10.1.16.0/20","10.1.32.0/24","10.1.48.0/20"]"#,
            ),
            (
                r#"cidrsubnets("fd00:fd12:3456:7890::/56", 16, 16, 16, 32)"#,
                r#"["fd00:fd12:3456:7800::/72","fd00:fd12:3456:7800:100::/72","fd00:fd12:3456:7800:200::/72","fd00:fd12:3456:7800:300::/88"]"#,
            ),
            (r#"tobool(true)"#, "true"),
            (r#"tobool("true")"#, "true"),
            (r#"tobool(null)"#, "null"),
            (r#"nonsensitive(sensitive("x"))"#, r#""x""#),
            (r#"ephemeralasnull({ a = 1 })"#, r#"{"a":1}"#),
        ];
        for (src, want) in cases {
            let got = eval(src).unwrap_or_else(|e| panic!("{src}: {e}"));
            let got = serde_json::to_string(&got).expect("json");
            assert_eq!(got, want, "{src}");
        }
    }

    /// A throwaway 1024-bit key and a message encrypted with it by
    /// `openssl pkeyutl -encrypt -pkeyopt rsa_padding_mode:pkcs1`.
    const TEST_KEY: &str = "-----BEGIN RSA PRIVATE KEY-----\nMIICXQIBAAKBgQCxiBnlwBt9cpN35RkAnmnt/RVJd5bUoPm370Bo1e8lH9pzUecq\nsKhbrjJgI81giFoJ2daUw60srnzW3E30r8FJnOPUclKZyo4xjecmuD0/gTUy9ZRx\njzxM+SkwHZ0O5yf2D6ymIvlBYwH8Zcxadicf86/7BU2baXJiLYdjx0h0CwIDAQAB\nAoGANKTxWQnwnPCe/ky3b1GKhAIqj9Cgr4jUxFB0PyJBejbJ5qyA6k3cfuNXGN9F\nBb0pRgaM9SxZbAiKCITnsQl1PUpJO0G5tAUkNRnbwGpZOIm09QmMHe8bUoIXkprD\nG1Ih/J2FugUVCSvsgZ/NqeMxb3yGawbAGhoOT9v+MV4GbUECQQDkGnU2jG0DpwoD\ntB+FqV9icgh5dhuCF9phs1Og9nfxvzNCkdUtS8ibae4Cw768fAnn5Kr9cnLii2vb\nCnnV5gxRAkEAxz5TeIOumMuRQ4d9Cj9SIbGBLnZ+yrVn9KuEnrgpPUNC5l2bux+z\n8G8RhJS32d8cFGkTa6NmW6MmWKAy8ZJPmwJAcOwYMtT58uDyuDqnkEf1DItfXqH1\npEWiutNIB1t8rZT2D3Kakj3+JdIfHgdBmZXeYYp2i9novfY/gsSA5D9qwQJBAMWV\nYjNt6tQtc7XTA8YIu0scey33Zo9hTGEPQmof2Q2eyRYoGEp+CvRRQL8IuDXAElmP\nRioFFXmkll9nJn33iScCQQDWM7HNF3i3L+2nc6q8Hzvkrucm30JJx1nqhUBca//4\naC+qwqPsOFvMirkuWAArnYymBp1PSo6EoRMso69a7psj\n-----END RSA PRIVATE KEY-----\n";
    const TEST_CIPHERTEXT: &str = "NGcITF/EPVmKvzRs0VydzyK+Yrgmp0a5KtnAnRwlU3MG89rS3Yh7A8UjYeDh2yhYxmxt1xf8L2y17uBQozG3G3zjjbf+7asUJKEu63F+vyzzoNG+tZ4DWy6ceLgvcbHlh3fPBedv5MLY1lWN2UIqmTaldtBtSXQ9E68WR/D/fbU=";

    #[test]
    fn rsadecrypt_reads_what_openssl_encrypted() {
        let mut ctx = Context::new();
        declare_any(&mut ctx, "rsadecrypt");
        ctx.declare_var("key", TEST_KEY);
        ctx.declare_var("ct", TEST_CIPHERTEXT);
        let e: hcl::Expression = "rsadecrypt(ct, key)".parse().expect("parses");
        assert_eq!(
            e.evaluate(&ctx).expect("decrypts"),
            Value::from("Hello, imgform!")
        );
        let wrong: hcl::Expression = r#"rsadecrypt("aGVsbG8=", key)"#.parse().expect("parses");
        assert!(wrong.evaluate(&ctx).is_err());
    }

    #[test]
    fn gzip_round_trips() {
        use base64::Engine as _;
        use std::io::Read as _;
        let got = eval(r#"base64gzip("hello world")"#).expect("gzip");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(got.as_str().expect("string"))
            .expect("base64");
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .expect("gunzip");
        assert_eq!(s, "hello world");
    }

    #[test]
    fn mistakes_are_messages() {
        for src in [
            r#"tobool("no")"#,
            r#"parseint("12", 99)"#,
            r#"cidrsubnet("10.0.0.0/30", 4, 0)"#,
            r#"cidrhost("10.0.0.0/30", 9)"#,
            r#"formatdate("YYY", "2018-01-02T23:12:01Z")"#,
            r#"timeadd("yesterday", "1h")"#,
            r#"textencodebase64("x", "EBCDIC")"#,
            r#"yamldecode("a: [")"#,
            r#"formatlist("%s", ["a"], ["b", "c"])"#,
        ] {
            assert!(eval(src).is_err(), "{src}");
        }
    }
}
