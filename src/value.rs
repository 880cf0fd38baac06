//! Configuration values after evaluation, with an explicit `Unknown`.
//!
//! hcl-rs has no notion of a value that is only known after apply, so the evaluator marks
//! any expression that reads an unapplied resource as [`Value::Unknown`]. Plans render it as
//! `(known after apply)` and validation skips it until it becomes known.

use std::collections::BTreeMap;
use std::fmt;

/// A value of the configuration language.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null`, or an attribute that was not set.
    #[default]
    Null,
    /// `true`/`false`.
    Bool(bool),
    /// A number (integers stay exact below 2^53).
    Number(f64),
    /// A string.
    String(String),
    /// A list, tuple or set.
    List(Vec<Value>),
    /// A map or object, in key order.
    Map(BTreeMap<String, Value>),
    /// Known only after apply.
    Unknown,
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The bool, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The elements, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// The entries, if this is a map.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// True for `Unknown`.
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when this value or anything inside it is unknown.
    pub fn has_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(l) => l.iter().any(Value::has_unknown),
            Value::Map(m) => m.values().any(Value::has_unknown),
            _ => false,
        }
    }

    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A short type name for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Map(_) => "map",
            Value::Unknown => "unknown",
        }
    }

    /// Converts to JSON; unknown becomes `null` (callers track unknowns separately).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Unknown => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => serde_json::Value::String(s.clone()),
            Value::List(l) => serde_json::Value::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// Converts from JSON.
    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Converts from an hcl-rs value.
    pub fn from_hcl(v: &hcl::Value) -> Value {
        match v {
            hcl::Value::Null => Value::Null,
            hcl::Value::Bool(b) => Value::Bool(*b),
            hcl::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
            hcl::Value::String(s) => Value::String(s.clone()),
            hcl::Value::Array(a) => Value::List(a.iter().map(Value::from_hcl).collect()),
            hcl::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_hcl(v)))
                    .collect(),
            ),
        }
    }

    /// Converts to an hcl-rs value; `Unknown` must have been ruled out by the caller and
    /// becomes `null`.
    pub fn to_hcl(&self) -> hcl::Value {
        match self {
            Value::Null | Value::Unknown => hcl::Value::Null,
            Value::Bool(b) => hcl::Value::Bool(*b),
            Value::Number(n) => number_to_hcl(*n),
            Value::String(s) => hcl::Value::String(s.clone()),
            Value::List(l) => hcl::Value::Array(l.iter().map(Value::to_hcl).collect()),
            Value::Map(m) => {
                hcl::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_hcl())).collect())
            }
        }
    }
}

fn is_integral(n: f64) -> bool {
    n.fract() == 0.0 && n.abs() < 9.0e15
}

/// A JSON number from an f64: an integer when the number is whole (`40`, never `40.0`, as
/// Terraform writes whole numbers), a float otherwise.
pub fn number_to_json(n: f64) -> serde_json::Value {
    if is_integral(n) {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null)
    }
}

/// An hcl-rs number from an f64, integral when possible.
pub fn number_to_hcl(n: f64) -> hcl::Value {
    if is_integral(n) {
        hcl::Value::from(n as i64)
    } else {
        hcl::Number::from_f64(n)
            .map(hcl::Value::Number)
            .unwrap_or(hcl::Value::Null)
    }
}

/// Formats a number the way HCL prints it: integers without a fraction.
pub fn format_number(n: f64) -> String {
    if is_integral(n) {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

impl fmt::Display for Value {
    /// HCL-like literal syntax, as used in plans and messages.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => write!(f, "null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => write!(f, "{}", format_number(*n)),
            Value::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Value::List(l) => {
                write!(f, "[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, "]")
            }
            Value::Map(m) => {
                write!(f, "{{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                write!(f, "}}")
            }
            Value::Unknown => write!(f, "(known after apply)"),
        }
    }
}
