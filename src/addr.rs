//! Resource addresses: `alicloud_image.base`, `alicloud_image.web[0]`,
//! `alicloud_image.web["cn-shanghai"]`, `data.alicloud_images.ubuntu`.
//!
//! One string form is used everywhere: logs, errors, state keys and output. Addresses are
//! plain values with no I/O; they sort in a stable order so anything printed is
//! deterministic.

use std::fmt;
use std::str::FromStr;

/// Managed resource or data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// `resource "TYPE" "NAME"`.
    Managed,
    /// `data "TYPE" "NAME"`.
    Data,
}

/// The key of one instance of a resource expanded with `count` or `for_each`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceKey {
    /// `count.index`.
    Int(u64),
    /// `each.key`.
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{}]", serde_json::Value::String(s.clone())),
        }
    }
}

/// A resource block, without an instance key: `alicloud_image.base`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceId {
    /// Managed or data.
    pub mode: Mode,
    /// `alicloud_image`.
    pub kind: String,
    /// `base`.
    pub name: String,
}

impl ResourceId {
    /// A managed resource id.
    pub fn managed(kind: &str, name: &str) -> Self {
        ResourceId {
            mode: Mode::Managed,
            kind: kind.to_string(),
            name: name.to_string(),
        }
    }

    /// A data source id.
    pub fn data(kind: &str, name: &str) -> Self {
        ResourceId {
            mode: Mode::Data,
            kind: kind.to_string(),
            name: name.to_string(),
        }
    }

    /// The address of one instance.
    pub fn instance(&self, key: Option<InstanceKey>) -> ResourceAddr {
        ResourceAddr {
            id: self.clone(),
            key,
        }
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mode == Mode::Data {
            write!(f, "data.")?;
        }
        write!(f, "{}.{}", self.kind, self.name)
    }
}

/// One resource instance: the unit of state and of plans.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceAddr {
    /// The block.
    pub id: ResourceId,
    /// The instance key, if the block uses `count` or `for_each`.
    pub key: Option<InstanceKey>,
}

impl fmt::Display for ResourceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.id)?;
        if let Some(k) = &self.key {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

/// Why a string is not an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid resource address {input:?}: {reason}")]
pub struct ParseAddrError {
    input: String,
    reason: &'static str,
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl FromStr for ResourceAddr {
    type Err = ParseAddrError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseAddrError {
            input: input.to_string(),
            reason,
        };
        let (body, key) = match input.find('[') {
            Some(i) => {
                let rest = &input[i..];
                if !rest.ends_with(']') {
                    return Err(err("an instance key must end with `]`"));
                }
                let inner = &rest[1..rest.len() - 1];
                let key = if let Ok(n) = inner.parse::<u64>() {
                    InstanceKey::Int(n)
                } else if inner.len() >= 2 && inner.starts_with('"') && inner.ends_with('"') {
                    let s: String = serde_json::from_str(inner)
                        .map_err(|_| err("the instance key is not a valid string"))?;
                    InstanceKey::Str(s)
                } else {
                    return Err(err("an instance key is a number or a quoted string"));
                };
                (&input[..i], Some(key))
            }
            None => (input, None),
        };
        let parts: Vec<&str> = body.split('.').collect();
        let id = match parts.as_slice() {
            ["data", kind, name] => ResourceId::data(kind, name),
            [kind, name] => ResourceId::managed(kind, name),
            _ => return Err(err("expected TYPE.NAME or data.TYPE.NAME")),
        };
        if !is_ident(&id.kind) || !is_ident(&id.name) {
            return Err(err("type and name must be identifiers"));
        }
        Ok(ResourceAddr { id, key })
    }
}

impl serde::Serialize for ResourceAddr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> serde::Deserialize<'de> for ResourceAddr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in [
            "alicloud_image.base",
            "alicloud_image.web[0]",
            "alicloud_image.web[\"cn-shanghai\"]",
            "data.alicloud_images.ubuntu",
        ] {
            let a: ResourceAddr = s.parse().expect("valid");
            assert_eq!(a.to_string(), s);
        }
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "alicloud_image",
            "a.b.c.d",
            "alicloud_image.x[",
            "x.y[abc]",
            "1a.b",
        ] {
            assert!(s.parse::<ResourceAddr>().is_err(), "{s}");
        }
    }
}
