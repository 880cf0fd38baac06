//! Variable type constraints (`string`, `list(string)`, `map(number)`, `object({...})`,
//! `optional(T)`, `any`) and the conversions Terraform applies to values given for them.

use crate::value::{format_number, Value};
use hcl_edit::expr::{Expression, ObjectKey};
use std::collections::BTreeMap;

/// A type constraint.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    /// `any`.
    Any,
    /// `string`.
    String,
    /// `number`.
    Number,
    /// `bool`.
    Bool,
    /// `list(T)`.
    List(Box<Type>),
    /// `set(T)`.
    Set(Box<Type>),
    /// `map(T)`.
    Map(Box<Type>),
    /// `tuple([T, ...])`.
    Tuple(Vec<Type>),
    /// `object({k = T})`, each attribute with whether it is `optional(T)` and the
    /// default of `optional(T, default)`.
    Object(BTreeMap<String, (Type, bool, Option<Value>)>),
}

/// The default of `optional(T, default)`: a constant, converted to `T`.
fn constant_default(key: &str, t: &Type, d: &Expression) -> Result<Value, String> {
    use hcl::eval::Evaluate;
    let e: hcl::Expression = d.clone().into();
    let v = e.evaluate(&hcl::eval::Context::new()).map_err(|_| {
        format!("the default of optional attribute {key:?} must be a constant value")
    })?;
    t.convert(Value::from_hcl(&v))
        .map_err(|m| format!("the default of optional attribute {key:?} is not valid: {m}"))
}

impl Type {
    /// Parses a type expression.
    pub fn parse(e: &Expression) -> Result<Type, String> {
        match e {
            Expression::Variable(v) => match v.as_str() {
                "any" => Ok(Type::Any),
                "string" => Ok(Type::String),
                "number" => Ok(Type::Number),
                "bool" => Ok(Type::Bool),
                other => Err(format!("unknown type `{other}`; expected string, number, bool, any, list(T), set(T), map(T), tuple([...]) or object({{...}})")),
            },
            Expression::FuncCall(f) => {
                let name = f.name.name.as_str();
                let args: Vec<&Expression> = f.args.iter().collect();
                let one = || -> Result<Type, String> {
                    match args.as_slice() {
                        [a] => Type::parse(a),
                        _ => Err(format!("`{name}` takes exactly one type argument")),
                    }
                };
                match name {
                    "list" => Ok(Type::List(Box::new(one()?))),
                    "set" => Ok(Type::Set(Box::new(one()?))),
                    "map" => Ok(Type::Map(Box::new(one()?))),
                    "tuple" => match args.as_slice() {
                        [Expression::Array(a)] => Ok(Type::Tuple(
                            a.iter().map(Type::parse).collect::<Result<_, _>>()?,
                        )),
                        _ => Err("`tuple` takes a list of types".into()),
                    },
                    "object" => match args.as_slice() {
                        [Expression::Object(o)] => {
                            let mut m = BTreeMap::new();
                            for (k, v) in o.iter() {
                                let key = match k {
                                    ObjectKey::Ident(i) => i.as_str().to_string(),
                                    ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                                    _ => return Err("object attribute names must be identifiers".into()),
                                };
                                let ve = v.expr();
                                let (t, opt, default) = match ve {
                                    Expression::FuncCall(f) if f.name.name.as_str() == "optional" => {
                                        let mut args = f.args.iter();
                                        let Some(a) = args.next() else {
                                            return Err("`optional` takes a type".into());
                                        };
                                        let t = Type::parse(a)?;
                                        let default = match args.next() {
                                            Some(d) => Some(constant_default(&key, &t, d)?),
                                            None => None,
                                        };
                                        if args.next().is_some() {
                                            return Err("`optional` takes a type and a default value".into());
                                        }
                                        (t, true, default)
                                    }
                                    other => (Type::parse(other)?, false, None),
                                };
                                m.insert(key, (t, opt, default));
                            }
                            Ok(Type::Object(m))
                        }
                        _ => Err("`object` takes an object of attribute types".into()),
                    },
                    other => Err(format!("unknown type constructor `{other}`")),
                }
            }
            _ => Err("a type constraint is a type keyword such as string, or a constructor such as list(string)".into()),
        }
    }

    /// Converts `v` to this type, as Terraform does (`"5"` → 5 for number, 5 → `"5"` for
    /// string, `"true"` → true for bool).
    pub fn convert(&self, v: Value) -> Result<Value, String> {
        match (self, v) {
            (_, Value::Null) => Ok(Value::Null),
            (_, Value::Unknown) => Ok(Value::Unknown),
            (Type::Any, v) => Ok(v),
            (Type::String, Value::String(s)) => Ok(Value::String(s)),
            (Type::String, Value::Number(n)) => Ok(Value::String(format_number(n))),
            (Type::String, Value::Bool(b)) => Ok(Value::String(b.to_string())),
            (Type::Number, Value::Number(n)) => Ok(Value::Number(n)),
            (Type::Number, Value::String(s)) => s
                .trim()
                .parse::<f64>()
                .map(Value::Number)
                .map_err(|_| format!("a number is required, got the string {s:?}")),
            (Type::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
            (Type::Bool, Value::String(s)) if s == "true" => Ok(Value::Bool(true)),
            (Type::Bool, Value::String(s)) if s == "false" => Ok(Value::Bool(false)),
            (Type::List(t), Value::List(l)) | (Type::Set(t), Value::List(l)) => {
                let mut out = Vec::with_capacity(l.len());
                for (i, e) in l.into_iter().enumerate() {
                    out.push(t.convert(e).map_err(|m| format!("element {i}: {m}"))?);
                }
                if matches!(self, Type::Set(_)) {
                    let mut dedup: Vec<Value> = Vec::new();
                    for v in out {
                        if !dedup.contains(&v) {
                            dedup.push(v);
                        }
                    }
                    out = dedup;
                }
                Ok(Value::List(out))
            }
            (Type::Tuple(ts), Value::List(l)) => {
                if ts.len() != l.len() {
                    return Err(format!(
                        "a tuple of {} elements is required, got {}",
                        ts.len(),
                        l.len()
                    ));
                }
                ts.iter()
                    .zip(l)
                    .enumerate()
                    .map(|(i, (t, e))| t.convert(e).map_err(|m| format!("element {i}: {m}")))
                    .collect::<Result<_, _>>()
                    .map(Value::List)
            }
            (Type::Map(t), Value::Map(m)) => {
                let mut out = BTreeMap::new();
                for (k, e) in m {
                    let c = t.convert(e).map_err(|msg| format!("key {k:?}: {msg}"))?;
                    out.insert(k, c);
                }
                Ok(Value::Map(out))
            }
            (Type::Object(attrs), Value::Map(mut m)) => {
                let mut out = BTreeMap::new();
                for (k, (t, optional, default)) in attrs {
                    match m.remove(k) {
                        // An optional attribute given as null takes its default too.
                        Some(Value::Null) | None if default.is_some() => {
                            out.insert(k.clone(), default.clone().unwrap_or_default());
                        }
                        Some(e) => {
                            out.insert(
                                k.clone(),
                                t.convert(e)
                                    .map_err(|msg| format!("attribute {k:?}: {msg}"))?,
                            );
                        }
                        None if *optional => {
                            out.insert(k.clone(), Value::Null);
                        }
                        None => return Err(format!("attribute {k:?} is required")),
                    }
                }
                if let Some(extra) = m.keys().next() {
                    return Err(format!(
                        "attribute {extra:?} is not expected by the object type"
                    ));
                }
                Ok(Value::Map(out))
            }
            (t, v) => Err(format!("a {} is required, got {}", t.name(), v.type_name())),
        }
    }

    /// True for string, number and bool: values from `--var` and the environment are taken
    /// literally for them and parsed as HCL otherwise.
    pub fn is_primitive(&self) -> bool {
        matches!(self, Type::String | Type::Number | Type::Bool)
    }

    fn name(&self) -> String {
        match self {
            Type::Any => "any".into(),
            Type::String => "string".into(),
            Type::Number => "number".into(),
            Type::Bool => "bool".into(),
            Type::List(t) => format!("list({})", t.name()),
            Type::Set(t) => format!("set({})", t.name()),
            Type::Map(t) => format!("map({})", t.name()),
            Type::Tuple(_) => "tuple".into(),
            Type::Object(_) => "object".into(),
        }
    }
}

/// The collection types a value prints as (`toset(...)`, `tolist(...)`, `tomap(...)`);
/// tuples and objects have no name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Collection {
    /// A set.
    Set,
    /// A list.
    List,
    /// A map.
    Map,
}

/// Which collection type an expression has, where it can be told without evaluating it:
/// the conversion and set functions, a local defined by one, a variable declared with one.
pub fn collection_of(cfg: &super::Config, e: &hcl_edit::expr::Expression) -> Option<Collection> {
    collection_at(cfg, e, 0)
}

fn collection_at(
    cfg: &super::Config,
    e: &hcl_edit::expr::Expression,
    depth: usize,
) -> Option<Collection> {
    use hcl_edit::expr::{Expression as E, TraversalOperator as Op};
    if depth > 16 {
        return None;
    }
    match e {
        E::Parenthesis(p) => collection_at(cfg, p.inner(), depth + 1),
        E::FuncCall(f) if f.name.namespace.is_empty() => match f.name.name.as_str() {
            "toset" | "setunion" | "setintersection" | "setsubtract" | "setproduct" | "fileset" => {
                Some(Collection::Set)
            }
            "tolist" | "split" => Some(Collection::List),
            "tomap" => Some(Collection::Map),
            _ => None,
        },
        E::Traversal(t) if t.operators.len() == 1 => {
            let E::Variable(root) = &t.expr else {
                return None;
            };
            let Op::GetAttr(name) = t.operators[0].value() else {
                return None;
            };
            match root.as_str() {
                "local" => {
                    let l = cfg.locals.get(name.as_str())?;
                    collection_at(cfg, &l.expr.edit, depth + 1)
                }
                "var" => {
                    let ty = cfg.variables.get(name.as_str())?.ty.as_ref()?;
                    match Type::parse(&ty.edit).ok()? {
                        Type::Set(_) => Some(Collection::Set),
                        Type::List(_) => Some(Collection::List),
                        Type::Map(_) => Some(Collection::Map),
                        _ => None,
                    }
                }
                _ => None,
            }
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(s: &str) -> Type {
        Type::parse(&hcl_edit::parser::parse_expr(s).expect("parses")).expect("valid type")
    }

    #[test]
    fn converts_like_terraform() {
        assert_eq!(
            ty("number").convert(Value::String("5".into())),
            Ok(Value::Number(5.0))
        );
        assert_eq!(
            ty("string").convert(Value::Number(5.0)),
            Ok(Value::String("5".into()))
        );
        assert!(ty("number").convert(Value::String("x".into())).is_err());
        assert!(ty("list(string)")
            .convert(Value::String("x".into()))
            .is_err());
        let obj = ty("object({ a = string, b = optional(number) })");
        let mut m = BTreeMap::new();
        m.insert("a".to_string(), Value::String("x".into()));
        let got = obj.convert(Value::Map(m)).expect("converts");
        assert_eq!(got.as_map().expect("map")["b"], Value::Null);
        assert!(Type::parse(&hcl_edit::parser::parse_expr("strng").expect("parses")).is_err());
    }
}
