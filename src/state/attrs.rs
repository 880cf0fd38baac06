//! A row's attributes, kept as their compact JSON text.
//!
//! A plan holds every row of the state: parsed into `serde_json` maps, the fifteen
//! attributes of an image took about 2.4 KB (a 104-byte slot per entry, a hash index and a
//! heap string per key), several times the 330 bytes of their text. The text is what the
//! stores read and write, so loading a row no longer parses it; readers parse one row when
//! they need it (the plan's diff, a reference, a poll's judgement) and drop the parse.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as J;
use std::fmt;

/// The attributes of one state row: a JSON value (an object, for every row imgform
/// writes), held as compact text.
#[derive(Clone)]
pub struct Attrs(Box<str>);

impl Attrs {
    /// Keeps `v`.
    pub fn new(v: &J) -> Attrs {
        Attrs(v.to_string().into_boxed_str())
    }

    /// No attributes: `{}`.
    pub fn empty() -> Attrs {
        Attrs("{}".into())
    }

    /// Attributes read from a store, checked to be JSON without being kept parsed.
    pub fn from_text(text: String) -> Result<Attrs, serde_json::Error> {
        serde_json::from_str::<serde::de::IgnoredAny>(&text)?;
        Ok(Attrs(text.into_boxed_str()))
    }

    /// The JSON text, as the stores write it.
    pub fn text(&self) -> &str {
        &self.0
    }

    /// The attributes, parsed.
    pub fn value(&self) -> J {
        // Every constructor checks the text.
        serde_json::from_str(&self.0).unwrap_or(J::Null)
    }

    /// One attribute, parsed (`None` when absent or when the row is not an object).
    pub fn get(&self, key: &str) -> Option<J> {
        match self.value() {
            J::Object(mut m) => m.swap_remove(key),
            _ => None,
        }
    }

    /// True when the attributes are an object.
    pub fn is_object(&self) -> bool {
        self.0.starts_with('{')
    }

    /// Adds or replaces attributes (nothing when the row is not an object).
    pub fn extend(&mut self, kv: impl IntoIterator<Item = (String, J)>) {
        let mut kv = kv.into_iter().peekable();
        if kv.peek().is_none() || !self.is_object() {
            return;
        }
        // Called on every create's transitions: one parse and one write, no comparison.
        let mut v = self.value();
        if let Some(o) = v.as_object_mut() {
            o.extend(kv);
        }
        *self = Attrs::new(&v);
    }

    /// Changes the attributes through their parsed form; the text is rewritten only when
    /// `f` changed something.
    pub fn modify<R>(&mut self, f: impl FnOnce(&mut J) -> R) -> R {
        let mut v = self.value();
        let before = v.clone();
        let r = f(&mut v);
        if v != before {
            *self = Attrs::new(&v);
        }
        r
    }
}

impl Default for Attrs {
    fn default() -> Attrs {
        Attrs::empty()
    }
}

impl From<J> for Attrs {
    fn from(v: J) -> Attrs {
        Attrs::new(&v)
    }
}

impl From<&J> for Attrs {
    fn from(v: &J) -> Attrs {
        Attrs::new(v)
    }
}

/// Equal as JSON values: the same attributes written in another key order are equal.
impl PartialEq for Attrs {
    fn eq(&self, other: &Attrs) -> bool {
        self.0 == other.0 || self.value() == other.value()
    }
}

impl PartialEq<J> for Attrs {
    fn eq(&self, other: &J) -> bool {
        self.value() == *other
    }
}

/// The JSON text.
impl fmt::Display for Attrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Attrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Attrs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Attrs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Attrs, D::Error> {
        J::deserialize(d).map(|v| Attrs::new(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_the_text_and_reads_it_back() {
        let v = json!({"image_name": "a", "size": 40, "tags": {"k": "v"}});
        let a = Attrs::new(&v);
        assert_eq!(a.text(), r#"{"image_name":"a","size":40,"tags":{"k":"v"}}"#);
        assert_eq!(a.value(), v);
        assert_eq!(a.get("size"), Some(json!(40)));
        assert_eq!(a.get("nope"), None);
        assert!(a.is_object());
        assert!(!Attrs::new(&J::Null).is_object());
        assert_eq!(Attrs::new(&J::Null).get("x"), None);
    }

    #[test]
    fn equality_is_of_values_not_key_order() {
        let a = Attrs::from_text(r#"{"a":1,"b":2}"#.into()).unwrap();
        let b = Attrs::from_text(r#"{"b":2, "a":1}"#.into()).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, Attrs::new(&json!({"a": 1})));
        assert!(a == json!({"b": 2, "a": 1}));
    }

    #[test]
    fn stored_text_must_be_json() {
        assert!(Attrs::from_text("{\"a\":".into()).is_err());
        assert!(Attrs::from_text("{} trailing".into()).is_err());
    }

    #[test]
    fn modify_rewrites_only_on_change() {
        let mut a = Attrs::from_text(r#"{"a": 1}"#.into()).unwrap();
        a.modify(|v| v["a"] = json!(1));
        assert_eq!(a.text(), r#"{"a": 1}"#, "unchanged text kept as it was");
        a.modify(|v| v["b"] = json!("x"));
        assert_eq!(a.text(), r#"{"a":1,"b":"x"}"#);
    }

    #[test]
    fn serializes_as_the_json_value() {
        let a = Attrs::new(&json!({"k": [1, 2]}));
        assert_eq!(serde_json::to_value(&a).unwrap(), json!({"k": [1, 2]}));
        let back: Attrs = serde_json::from_str(r#"{"k": [1, 2]}"#).unwrap();
        assert_eq!(back.text(), r#"{"k":[1,2]}"#);
    }
}
