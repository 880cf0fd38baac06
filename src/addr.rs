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
    /// The module instance it is declared in: empty in the root module, else
    /// `module.NAME` with an instance key if the call is counted, repeated for nesting
    /// (`module.img[0].module.copy`).
    pub module: String,
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
            module: String::new(),
            mode: Mode::Managed,
            kind: kind.to_string(),
            name: name.to_string(),
        }
    }

    /// A data source id.
    pub fn data(kind: &str, name: &str) -> Self {
        ResourceId {
            module: String::new(),
            mode: Mode::Data,
            kind: kind.to_string(),
            name: name.to_string(),
        }
    }

    /// The same block declared in module instance `module` (empty: the root module).
    pub fn in_module(mut self, module: &str) -> Self {
        self.module = module.to_string();
        self
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
        if !self.module.is_empty() {
            write!(f, "{}.", self.module)?;
        }
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

/// An HCL identifier, by HCL's own rule (Unicode letters included).
fn is_ident(s: &str) -> bool {
    hcl_edit::Ident::try_new(s).is_ok()
}

/// Splits `input` at the dots that are outside instance keys (`["a.b"]`).
fn split_dots(input: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut start, mut in_str, mut escaped, mut depth) = (0, false, false, 0usize);
    for (i, c) in input.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' => depth += 1,
            ']' => depth = depth.checked_sub(1)?,
            '.' if depth == 0 => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if in_str || depth != 0 {
        return None;
    }
    parts.push(&input[start..]);
    Some(parts)
}

/// Splits `name[key]` into the name and its parsed key.
fn name_and_key(part: &str) -> Result<(&str, Option<InstanceKey>), &'static str> {
    let Some(i) = part.find('[') else {
        return Ok((part, None));
    };
    let rest = &part[i..];
    if !rest.ends_with(']') {
        return Err("an instance key must end with `]`");
    }
    let inner = &rest[1..rest.len() - 1];
    let key = if let Ok(n) = inner.parse::<u64>() {
        InstanceKey::Int(n)
    } else if inner.len() >= 2 && inner.starts_with('"') && inner.ends_with('"') {
        let s: String =
            serde_json::from_str(inner).map_err(|_| "the instance key is not a valid string")?;
        InstanceKey::Str(s)
    } else {
        return Err("an instance key is a number or a quoted string");
    };
    Ok((&part[..i], Some(key)))
}

/// Parses a module instance path (`module.a`, `module.a[0].module.b`); the empty string is
/// the root module.
pub fn parse_module_path(input: &str) -> Result<String, ParseAddrError> {
    let err = |reason| ParseAddrError {
        input: input.to_string(),
        reason,
    };
    if input.is_empty() {
        return Ok(String::new());
    }
    let parts = split_dots(input).ok_or_else(|| err("unbalanced brackets or quotes"))?;
    let mut out = Vec::new();
    for pair in parts.chunks(2) {
        let [m, call] = pair else {
            return Err(err("expected module.NAME"));
        };
        let (name, key) = name_and_key(call).map_err(err)?;
        if *m != "module" || !is_ident(name) {
            return Err(err("expected module.NAME"));
        }
        out.push(format!(
            "module.{name}{}",
            key.map(|k| k.to_string()).unwrap_or_default()
        ));
    }
    Ok(out.join("."))
}

impl FromStr for ResourceAddr {
    type Err = ParseAddrError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| ParseAddrError {
            input: input.to_string(),
            reason,
        };
        let mut parts = split_dots(input).ok_or_else(|| err("unbalanced brackets or quotes"))?;
        // Leading `module.NAME[KEY]` pairs are the module instance path.
        let mut modules = Vec::new();
        while parts.len() > 2 && parts[0] == "module" {
            modules.push(format!("module.{}", parts[1]));
            parts.drain(..2);
        }
        let module = parse_module_path(&modules.join("."))?;
        let Some(last) = parts.pop() else {
            return Err(err("expected TYPE.NAME or data.TYPE.NAME"));
        };
        let (last, key) = name_and_key(last).map_err(err)?;
        parts.push(last);
        if parts.iter().take(parts.len() - 1).any(|p| p.contains('[')) {
            return Err(err("only the last part of an address has an instance key"));
        }
        let id = match parts.as_slice() {
            ["data", kind, name] => ResourceId::data(kind, name),
            [kind, name] => ResourceId::managed(kind, name),
            _ => return Err(err("expected TYPE.NAME or data.TYPE.NAME")),
        };
        if !is_ident(&id.kind) || !is_ident(&id.name) {
            return Err(err("type and name must be identifiers"));
        }
        if id.kind == "module" {
            return Err(err(
                "this is a module, not a resource: add TYPE.NAME after it",
            ));
        }
        Ok(ResourceAddr {
            id: id.in_module(&module),
            key,
        })
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
            "module.base.alicloud_image.web",
            "module.img[0].module.copy[\"cn-beijing\"].alicloud_image_copy.c[2]",
            "module.img[\"a.b\"].data.alicloud_images.u",
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
            "module.x",
            "modules.x.alicloud_image.y",
            "alicloud_image[0].y",
        ] {
            assert!(s.parse::<ResourceAddr>().is_err(), "{s}");
        }
    }
}
