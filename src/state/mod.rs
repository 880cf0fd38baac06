//! What imgform knows exists: the [`State`] model (resources with their cloud ids,
//! attributes, status and pending ClientToken; outputs; lineage and serial) and its SQLite
//! store ([`store`]). This is the only module with SQL, and it never calls the cloud.

pub mod attrs;
pub mod backend;
pub mod edit;
pub mod pg;
pub mod store;
pub mod workspace;

pub use attrs::Attrs;

use crate::addr::ResourceAddr;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::BTreeMap;

/// Where an object is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created and finished.
    Ready,
    /// A create was sent (or is about to be): the ClientToken is recorded; the cloud id
    /// once the API returned it.
    Creating,
    /// A create or update failed half-way: the object must be replaced.
    Tainted,
    /// A delete was sent.
    Deleting,
}

impl Status {
    /// The stored word.
    pub fn as_str(&self) -> &'static str {
        match self {
            Status::Ready => "ready",
            Status::Creating => "creating",
            Status::Tainted => "tainted",
            Status::Deleting => "deleting",
        }
    }

    /// Parses the stored word.
    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "ready" => Status::Ready,
            "creating" => Status::Creating,
            "tainted" => Status::Tainted,
            "deleting" => Status::Deleting,
            _ => return None,
        })
    }
}

/// One resource instance in state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// Its address.
    pub addr: ResourceAddr,
    /// Resource type.
    pub kind: String,
    /// Provider key (`alicloud`, `alicloud.shanghai`).
    pub provider: String,
    /// Region of the object.
    pub region: String,
    /// Cloud id (`m-...`, `ip-...`, `exec-...`), once known.
    pub id: Option<String>,
    /// Life status.
    pub status: Status,
    /// The ClientToken of the pending (or last) create.
    pub client_token: Option<String>,
    /// Creation generation: grows with each replacement, part of the ClientToken.
    pub generation: u64,
    /// Attributes: the inputs as applied plus what the cloud computed.
    pub attrs: Attrs,
    /// Addresses this one depended on when it was applied (for destroy order).
    pub deps: Vec<String>,
    /// The exact create request of a pending create, so a resume re-sends the same
    /// parameters and the cloud answers with the same object.
    pub pending: Option<Box<serde_json::Value>>,
}

impl ResourceState {
    /// The one way to write a ready row: an object that exists, with its attributes (and
    /// its id: a data source's read may have none), known to imgform without a create of
    /// its own (an import, a data source read, a row adopted from Terraform): no
    /// ClientToken, generation 1, no dependencies recorded yet.
    pub fn ready(
        addr: ResourceAddr,
        provider: String,
        region: String,
        id: Option<String>,
        attrs: impl Into<Attrs>,
    ) -> ResourceState {
        ResourceState {
            kind: addr.id.kind.clone(),
            addr,
            provider,
            region,
            id,
            status: Status::Ready,
            client_token: None,
            generation: 1,
            attrs: attrs.into(),
            deps: vec![],
            pending: None,
        }
    }
}

#[cfg(test)]
impl ResourceState {
    /// A row for unit tests: provider `alicloud`, region `cn-hangzhou`, generation 1, no
    /// attributes.
    pub(crate) fn for_test(addr: &str, id: Option<&str>, status: Status) -> ResourceState {
        let addr: ResourceAddr = addr.parse().expect("address");
        ResourceState {
            kind: addr.id.kind.clone(),
            addr,
            provider: "alicloud".into(),
            region: "cn-hangzhou".into(),
            id: id.map(String::from),
            status,
            client_token: None,
            generation: 1,
            attrs: Attrs::empty(),
            deps: vec![],
            pending: None,
        }
    }
}

/// An output value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputState {
    /// The value.
    pub value: serde_json::Value,
    /// Shown as `(sensitive value)`.
    pub sensitive: bool,
}

/// The whole state.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct State {
    /// Random id fixed when the state was created.
    pub lineage: String,
    /// Grows on every change.
    pub serial: u64,
    /// Resources by address.
    pub resources: BTreeMap<ResourceAddr, ResourceState>,
    /// Outputs by name.
    pub outputs: BTreeMap<String, OutputState>,
    /// The highest creation generation used at each address, rows gone included, so that
    /// a ClientToken is never used for two different creates, even after the state moved
    /// (`state push`, `state migrate`).
    pub generations: BTreeMap<String, u64>,
}

/// Serde through [`State::to_json`] and [`State::from_json`]: a state inside another
/// document (a plan file's prior state) in the `state pull` format.
pub mod as_json {
    use super::State;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Writes `st` as `state pull` JSON; a state without a lineage (none was read) as
    /// `null`, which reads back as it.
    pub fn serialize<S: Serializer>(st: &State, s: S) -> Result<S::Ok, S::Error> {
        if st.lineage.is_empty() {
            return serde_json::Value::Null.serialize(s);
        }
        st.to_json().serialize(s)
    }

    /// Reads `state pull` JSON; `null` (a plan file without a prior state) is empty.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<State, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        if v.is_null() {
            return Ok(State::default());
        }
        State::from_json(&v).map_err(serde::de::Error::custom)
    }
}

/// The state format this imgform writes and reads (`version` in `state pull` JSON).
pub const STATE_JSON_VERSION: u64 = 1;

/// A new ClientToken for a create (≤ 64 ASCII characters). It is random, never derived
/// from the state: a state restored from a backup or pushed with older generations would
/// otherwise hand out a token already used, and the cloud would answer with the object that
/// token once made (perhaps deleted since). It is stored in the pending row before the
/// request is sent, so a create re-sent after a crash carries the same token and gets the
/// same object instead of a duplicate. The address is mixed in only so that a token read in
/// a log names its resource's hash, never to make it repeatable.
pub fn new_client_token(addr: &ResourceAddr) -> String {
    let nonce = uuid::Uuid::new_v4();
    let h = sha2::Sha256::digest(format!("{addr}\n{nonce}").as_bytes());
    format!("imgform-{}", &hex::encode(h)[..40])
}

impl State {
    /// Terraform-like JSON (`state pull`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "version": STATE_JSON_VERSION,
            "imgform_version": env!("CARGO_PKG_VERSION"),
            "generations": self.generations,
            "serial": self.serial,
            "lineage": self.lineage,
            "outputs": self.outputs.iter().map(|(k, v)| (k.clone(), serde_json::json!({"value": v.value, "sensitive": v.sensitive}))).collect::<serde_json::Map<_, _>>(),
            "resources": self.resources.values().map(|r| serde_json::json!({
                "address": r.addr.to_string(),
                "mode": if r.addr.id.mode == crate::addr::Mode::Data { "data" } else { "managed" },
                "type": r.kind,
                "name": r.addr.id.name,
                "index_key": r.addr.key.as_ref().map(|k| match k { crate::addr::InstanceKey::Int(i) => serde_json::json!(i), crate::addr::InstanceKey::Str(s) => serde_json::json!(s) }),
                "provider": r.provider,
                "region": r.region,
                "id": r.id,
                "status": r.status.as_str(),
                "client_token": r.client_token,
                "generation": r.generation,
                "attributes": r.attrs,
                "dependencies": r.deps,
                "pending_request": r.pending,
            })).collect::<Vec<_>>(),
        })
    }

    /// Reads `state pull` JSON back.
    pub fn from_json(v: &serde_json::Value) -> Result<State, String> {
        use serde_json::Value as J;
        if let Some(n) = v["version"].as_u64().filter(|n| *n > STATE_JSON_VERSION) {
            return Err(format!(
                "the state was written by a newer imgform ({}; state format {n}, this imgform reads format {STATE_JSON_VERSION}): upgrade imgform to use it",
                v["imgform_version"].as_str().unwrap_or("unknown version")
            ));
        }
        if !v.is_object() {
            return Err("the state is not a JSON object".into());
        }
        // Every field is checked and every problem reported at once: a state that is
        // pushed is the truth afterwards, so nothing in it may be guessed or dropped.
        let mut problems: Vec<String> = Vec::new();
        if v.get("version").is_some_and(|x| x.as_u64().is_none()) {
            problems.push(format!(
                "\"version\" must be a whole number, not {}",
                v["version"]
            ));
        }
        let lineage = match v.get("lineage") {
            Some(J::String(l)) if !l.is_empty() => l.clone(),
            None | Some(J::Null) => return Err("the state has no lineage".into()),
            Some(other) => {
                problems.push(format!(
                    "\"lineage\" must be a non-empty string, not {other}"
                ));
                String::new()
            }
        };
        let serial = match v.get("serial") {
            None | Some(J::Null) => return Err("the state has no serial".into()),
            Some(n) => n.as_u64().unwrap_or_else(|| {
                problems.push(format!("\"serial\" must be a whole number, not {n}"));
                0
            }),
        };
        let mut s = State {
            lineage,
            serial,
            ..State::default()
        };
        let resources = match v.get("resources") {
            Some(J::Array(a)) => a.as_slice(),
            None | Some(J::Null) => return Err("the state has no resources list".into()),
            Some(other) => return Err(format!("\"resources\" must be a list, not {other}")),
        };
        let mut first_at: std::collections::HashMap<ResourceAddr, usize> = Default::default();
        for (i, r) in resources.iter().enumerate() {
            let Some(row) = row_from_json(i, r, &mut problems) else {
                continue;
            };
            if let Some(first) = first_at.get(&row.addr) {
                problems.push(format!("resources[{i}] ({}): the same address as resources[{first}]: two rows cannot share an address", row.addr));
                continue;
            }
            first_at.insert(row.addr.clone(), i);
            s.resources.insert(row.addr.clone(), row);
        }
        generations_from_json(v.get("generations"), &mut s, &mut problems);
        outputs_from_json(v.get("outputs"), &mut s, &mut problems);
        if problems.is_empty() {
            return Ok(s);
        }
        Err(format!(
            "the state is not valid ({} problem{}):\n  {}",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" },
            problems.join("\n  ")
        ))
    }
}

/// One row of `state pull` JSON; `None` (with the problems noted) when it is not valid.
fn row_from_json(
    i: usize,
    r: &serde_json::Value,
    problems: &mut Vec<String>,
) -> Option<ResourceState> {
    use serde_json::Value as J;
    let Some(o) = r.as_object() else {
        problems.push(format!("resources[{i}]: must be an object, not {r}"));
        return None;
    };
    let addr: ResourceAddr = match o.get("address") {
        Some(J::String(a)) => match a.parse() {
            Ok(a) => a,
            Err(e) => {
                problems.push(format!("resources[{i}]: address {a:?}: {e}"));
                return None;
            }
        },
        None => {
            problems.push(format!("resources[{i}]: has no address"));
            return None;
        }
        Some(other) => {
            problems.push(format!(
                "resources[{i}]: \"address\" must be a string, not {other}"
            ));
            return None;
        }
    };
    let before = problems.len();
    let at = |what: String| format!("resources[{i}] ({addr}): {what}");
    let string = |k: &str, problems: &mut Vec<String>| -> Option<String> {
        match o.get(k) {
            None | Some(J::Null) => None,
            Some(J::String(x)) => Some(x.clone()),
            Some(other) => {
                problems.push(at(format!("\"{k}\" must be a string, not {other}")));
                None
            }
        }
    };
    let kind = string("type", problems).unwrap_or_default();
    if kind.is_empty() {
        problems.push(at("has no \"type\"".into()));
    }
    let provider = string("provider", problems).unwrap_or_else(|| "alicloud".into());
    let region = string("region", problems).unwrap_or_default();
    let id = string("id", problems);
    let client_token = string("client_token", problems);
    let status = match string("status", problems) {
        None => Status::Ready,
        Some(x) => Status::parse(&x).unwrap_or_else(|| {
            problems.push(at(format!(
                "unknown status {x:?} (ready, creating, tainted or deleting)"
            )));
            Status::Ready
        }),
    };
    let generation = match o.get("generation") {
        None | Some(J::Null) => 1,
        Some(n) => n.as_u64().filter(|n| *n >= 1).unwrap_or_else(|| {
            problems.push(at(format!(
                "\"generation\" must be a whole number from 1, not {n}"
            )));
            1
        }),
    };
    let attrs = match o.get("attributes") {
        None | Some(J::Null) => J::Object(Default::default()),
        Some(a @ J::Object(_)) => a.clone(),
        Some(other) => {
            problems.push(at(format!("\"attributes\" must be an object, not {other}")));
            J::Null
        }
    };
    let deps = match o.get("dependencies") {
        None | Some(J::Null) => vec![],
        Some(J::Array(a)) if a.iter().all(|x| x.is_string()) => a
            .iter()
            .filter_map(|x| x.as_str().map(String::from))
            .collect(),
        Some(other) => {
            problems.push(at(format!(
                "\"dependencies\" must be a list of addresses, not {other}"
            )));
            vec![]
        }
    };
    if status == Status::Creating && id.is_none() && client_token.is_none() {
        problems.push(at(
            "a creating row without an id must hold its ClientToken".into()
        ));
    }
    if problems.len() > before {
        return None;
    }
    Some(ResourceState {
        addr,
        kind,
        provider,
        region,
        id,
        status,
        client_token,
        generation,
        attrs: Attrs::new(&attrs),
        deps,
        pending: o
            .get("pending_request")
            .filter(|p| !p.is_null())
            .cloned()
            .map(Box::new),
    })
}

/// The generations a state remembers (`"generations"`), each a whole number.
fn generations_from_json(g: Option<&serde_json::Value>, s: &mut State, problems: &mut Vec<String>) {
    use serde_json::Value as J;
    match g {
        None | Some(J::Null) => {}
        Some(J::Object(g)) => {
            for (k, n) in g {
                match n.as_u64() {
                    Some(n) => {
                        s.generations.insert(k.clone(), n);
                    }
                    None => problems.push(format!(
                        "generations[{k:?}] must be a whole number, not {n}"
                    )),
                }
            }
        }
        Some(other) => problems.push(format!("\"generations\" must be an object, not {other}")),
    }
}

/// The outputs of a state, each an object with its `value` and `sensitive` flag.
fn outputs_from_json(o: Option<&serde_json::Value>, s: &mut State, problems: &mut Vec<String>) {
    use serde_json::Value as J;
    match o {
        None | Some(J::Null) => {}
        Some(J::Object(o)) => {
            for (k, val) in o {
                if !val.is_object() {
                    problems.push(format!(
                        "outputs.{k} must be an object with a \"value\", not {val}"
                    ));
                    continue;
                }
                let sensitive = match val.get("sensitive") {
                    None | Some(J::Null) => false,
                    Some(J::Bool(b)) => *b,
                    Some(other) => {
                        problems.push(format!(
                            "outputs.{k}.sensitive must be true or false, not {other}"
                        ));
                        false
                    }
                };
                s.outputs.insert(
                    k.clone(),
                    OutputState {
                        value: val["value"].clone(),
                        sensitive,
                    },
                );
            }
        }
        Some(other) => problems.push(format!("\"outputs\" must be an object, not {other}")),
    }
}

/// The attributes of `r` that hold sensitive values, recorded by apply (`_sensitive`) so
/// that `show` and `state show` never print them.
pub fn sensitive_attrs(r: &ResourceState) -> Vec<String> {
    r.attrs
        .get("_sensitive")
        .as_ref()
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_never_repeat_and_are_short() {
        // Issue 28: a token must not be a function of the state (lineage, address,
        // generation), which a restored backup rewinds.
        let a: ResourceAddr = "alicloud_image.web".parse().expect("addr");
        let tokens: std::collections::BTreeSet<String> =
            (0..1000).map(|_| new_client_token(&a)).collect();
        assert_eq!(tokens.len(), 1000);
        assert!(tokens.iter().all(|t| t.len() <= 64 && t.is_ascii()));
    }
}
