//! Fuzzing the readers of what a user or an attacker can hand imgform besides a
//! configuration: saved plan files (`apply FILE`, `show FILE`), state JSON (`state push`,
//! a plan's prior state) and Terraform states (`state import-terraform`). Valid documents
//! are made once by the real commands, then mutated by their structure (any value replaced
//! by a value of another type, keys and list entries removed or repeated) and by their
//! bytes. No reader may panic; whatever a reader accepts must read back the same once
//! written again. `PROPTEST_CASES` raises the bounded number of cases CI runs (issue 28).

use crate::util::imgform;
use imgform::state::State;
use proptest::prelude::*;
use serde_json::{json, Value as J};
use std::sync::OnceLock;

/// A saved plan with changes, the state after applying it, and a Terraform state.
struct Samples {
    plan_file: String,
    state: J,
    terraform: J,
}

fn samples() -> &'static Samples {
    static S: OnceLock<Samples> = OnceLock::new();
    S.get_or_init(|| {
        let d = tempfile::tempdir().expect("tmp");
        std::fs::write(
            d.path().join("main.hcl"),
            r#"
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "secret" {
  type      = string
  default   = "hidden"
  sensitive = true
}

resource "alicloud_image" "a" {
  count       = 2
  image_name  = "fuzz-${count.index}"
  snapshot_id = "s-bp1qs0000000000web"
  tags        = { team = "a" }
}

output "ids" {
  value = alicloud_image.a[*].id
}
"#,
        )
        .expect("write");
        let run = |args: &[&str]| {
            let o = imgform(d.path())
                .env("IMGFORM_LOCAL_SPEED", "600")
                .args(["--cloud", "local"])
                .args(args)
                .output()
                .expect("runs");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            o.stdout
        };
        run(&["plan", "--out", "p.plan"]);
        let plan_file = std::fs::read_to_string(d.path().join("p.plan")).expect("plan");
        run(&["apply", "--auto-approve"]);
        let state: J = serde_json::from_slice(&run(&["state", "pull"])).expect("state json");
        let p = "provider[\"registry.terraform.io/aliyun/alicloud\"]";
        let terraform = json!({"version": 4, "terraform_version": "1.11.0", "serial": 3, "lineage": "l",
            "outputs": {"id": {"value": "m-1", "type": "string"}},
            "resources": [
                {"mode": "managed", "type": "alicloud_image", "name": "a", "provider": p,
                 "instances": [{"index_key": 0, "schema_version": 0, "attributes": {"id": "m-1", "image_name": "x", "tags": {"a": "b"}, "disk_device_mapping": [{"size": 40}]}},
                               {"index_key": 1, "attributes": {"id": "m-2"}}]},
                {"module": "module.m", "mode": "managed", "type": "alicloud_image_copy", "name": "c", "provider": p,
                 "instances": [{"index_key": "k", "attributes": {"id": "m-3", "source_image_id": "m-1"}}]},
                {"mode": "data", "type": "alicloud_images", "name": "d", "provider": p, "instances": []}]});
        Samples {
            plan_file,
            state,
            terraform,
        }
    })
}

/// Every node of `v`, as JSON pointers.
fn pointers(v: &J, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        J::Object(o) => {
            for (k, x) in o {
                pointers(
                    x,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        J::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn odd_value(n: usize) -> J {
    [
        J::Null,
        json!(true),
        json!(-1),
        json!(1.5),
        json!(18446744073709551615u64),
        json!(1e300),
        json!(""),
        json!("x"),
        json!("m-1"),
        json!("alicloud_image.a[7]"),
        json!([]),
        json!({}),
        json!([1, "a", null]),
        json!({"value": 1}),
    ][n % 14]
        .clone()
}

/// Applies structural mutations: (which node, what to do, with what).
fn mutate(mut v: J, ops: &[(usize, u8, usize)]) -> J {
    for &(node, op, with) in ops {
        let mut all = Vec::new();
        pointers(&v, String::new(), &mut all);
        let at = &all[node % all.len()];
        if at.is_empty() {
            if op % 4 == 0 {
                v = odd_value(with);
            }
            continue;
        }
        let (parent, last) = at.rsplit_once('/').expect("a pointer below the root");
        let last = last.replace("~1", "/").replace("~0", "~");
        let Some(p) = v.pointer_mut(parent) else {
            continue;
        };
        match (op % 4, p) {
            (0, p) => {
                if let Some(x) =
                    p.pointer_mut(&format!("/{}", last.replace('~', "~0").replace('/', "~1")))
                {
                    *x = odd_value(with);
                }
            }
            (1, J::Object(o)) => {
                o.remove(&last);
            }
            (1, J::Array(a)) => {
                if let Ok(i) = last.parse::<usize>() {
                    if i < a.len() {
                        a.remove(i);
                    }
                }
            }
            (2, J::Array(a)) => {
                if let Some(x) = last.parse::<usize>().ok().and_then(|i| a.get(i)).cloned() {
                    a.push(x);
                }
            }
            (3, J::Object(o)) => {
                o.insert(format!("k{with}"), odd_value(with));
            }
            _ => {}
        }
    }
    v
}

/// A plan file around `plan`, with its digest made right (so the decoder is reached) or not.
fn plan_file(plan: &J, digest_right: bool) -> String {
    use sha2::Digest as _;
    let body = plan.to_string();
    let digest = if digest_right {
        hex::encode(sha2::Sha256::digest(body.as_bytes()))
    } else {
        "0".repeat(64)
    };
    format!("{{\"imgform_plan\":2,\"digest\":\"{digest}\",\"plan\":{body}}}")
}

fn read_plan(text: &str) {
    if let Ok(plan) = imgform::plan::file::parse_plan_file(text) {
        // Accepted: written again, it reads back the same.
        let again = imgform::plan::file::plan_file_text(&plan).expect("writes");
        let back = imgform::plan::file::parse_plan_file(&again).expect("reads back");
        assert_eq!(back, plan);
        let _ = imgform::plan::file::check_remade(&plan, &back);
    }
}

fn read_state(v: &J) {
    if let Ok(st) = State::from_json(v) {
        let again = st.to_json();
        let back = State::from_json(&again).expect("a state written reads back");
        assert_eq!(back.to_json(), again);
    }
}

fn read_terraform(v: &J) {
    let regions: std::collections::BTreeMap<String, String> =
        [("alicloud".to_string(), "cn-hangzhou".to_string())].into();
    if let Ok(a) = imgform::ops::adopt::adopt(v, &regions) {
        // Never two rows at one address.
        let mut addrs: Vec<String> = a.take.iter().map(|r| r.addr.to_string()).collect();
        let n = addrs.len();
        addrs.sort();
        addrs.dedup();
        assert_eq!(addrs.len(), n);
    }
}

#[test]
fn the_samples_are_read_as_written() {
    let s = samples();
    let plan = imgform::plan::file::parse_plan_file(&s.plan_file).expect("the plan file reads");
    assert_eq!(plan.changes.len(), 2);
    assert!(State::from_json(&s.state).is_ok());
    let regions = [("alicloud".to_string(), "cn-hangzhou".to_string())].into();
    assert_eq!(
        imgform::ops::adopt::adopt(&s.terraform, &regions)
            .expect("adopts")
            .take
            .len(),
        3
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(256), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_plan_files_never_panic(ops in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<usize>()), 1..5), right in any::<bool>()) {
        let s = samples();
        let v: J = serde_json::from_str(&s.plan_file).expect("json");
        read_plan(&plan_file(&mutate(v["plan"].clone(), &ops), right));
    }

    #[test]
    fn plan_file_bytes_never_panic(cut in any::<usize>(), at in any::<usize>(), byte in any::<u8>()) {
        let mut b = samples().plan_file.clone().into_bytes();
        let i = at % b.len();
        b[i] = byte;
        b.truncate(cut % (b.len() + 1));
        read_plan(&String::from_utf8_lossy(&b));
    }

    #[test]
    fn mutated_states_never_panic(ops in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<usize>()), 1..5)) {
        read_state(&mutate(samples().state.clone(), &ops));
    }

    #[test]
    fn mutated_terraform_states_never_panic(ops in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<usize>()), 1..5)) {
        read_terraform(&mutate(samples().terraform.clone(), &ops));
    }
}
