//! Replays every signature vector captured from the official SDKs: canonical request,
//! string to sign and signature must all match byte for byte, and the verifier the local
//! cloud uses must accept each request and reject it once tampered with.

use crate::util::root;
use imgform::cloud::sign::{acs3, form_decode, rpc, verify, RawRequest, VerifyError};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let mut out = Vec::new();
    for f in [
        "acs3_hmac_sha256_tea.json",
        "rpc_hmac_sha1_tea_v2.json",
        "rpc_hmac_sha1_core.json",
        "extras_mixed.json",
    ] {
        let text = std::fs::read_to_string(root().join("testdata/signature-vectors").join(f))
            .expect("vector file");
        let doc: Value = serde_json::from_str(&text).expect("json");
        out.extend(doc["vectors"].as_array().expect("vectors").iter().cloned());
    }
    out
}

fn s(v: &Value) -> &str {
    v.as_str().expect("string")
}

fn headers(v: &Value) -> Vec<(String, String)> {
    v.as_object()
        .expect("headers")
        .iter()
        .map(|(k, v)| (k.clone(), s(v).to_string()))
        .collect()
}

fn map(pairs: &[(String, String)]) -> serde_json::Map<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

#[test]
fn all_31_vectors_replay_exactly() {
    let all = vectors();
    assert_eq!(all.len(), 31);
    for v in &all {
        let name = s(&v["name"]);
        let exp = &v["expected"];
        let body = s(&v["body"]).as_bytes().to_vec();
        let query = form_decode(s(&v["raw_query"]));
        let secret = s(&v["access_key_secret"]).to_string();
        if s(&v["scheme"]) == "ACS3-HMAC-SHA256" {
            assert_eq!(
                map(&query),
                *v["query_params"].as_object().expect("params"),
                "{name}: query decoding"
            );
            let hdrs = headers(&v["headers"]);
            let signed: Vec<String> = v["signed_headers"]
                .as_array()
                .expect("list")
                .iter()
                .map(|x| s(x).to_string())
                .collect();
            let payload = acs3::hashed_payload(&body);
            assert_eq!(payload, s(&exp["hashed_payload"]), "{name}: payload hash");
            let cr = acs3::canonical_request(
                s(&v["method"]),
                s(&v["path"]),
                &query,
                &hdrs,
                &signed,
                &payload,
            )
            .expect("signed headers present");
            assert_eq!(
                cr,
                s(&exp["canonical_request"]),
                "{name}: canonical request"
            );
            let sts = acs3::string_to_sign(&cr);
            assert_eq!(sts, s(&exp["string_to_sign"]), "{name}: string to sign");
            let sig = acs3::signature(&sts, &secret);
            assert_eq!(sig, s(&exp["signature"]), "{name}: signature");
            let (_, sh) = acs3::canonical_headers(&hdrs, &signed).expect("headers");
            assert_eq!(
                acs3::authorization(s(&v["access_key_id"]), &sh, &sig),
                s(&exp["authorization"]),
                "{name}: authorization"
            );
            let req = RawRequest {
                method: s(&v["method"]),
                path: s(&v["path"]),
                query: s(&v["raw_query"]),
                headers: &hdrs,
                body: &body,
            };
            let ok = verify(&req, |k| {
                (k == s(&v["access_key_id"])).then(|| secret.clone())
            })
            .expect("verifies");
            assert!(ok.acs3, "{name}");
        } else {
            let mut params: Vec<(String, String)> = query.clone();
            params.extend(form_decode(s(&v["body"])));
            let without: Vec<(String, String)> = params
                .iter()
                .filter(|(k, _)| k != "Signature")
                .cloned()
                .collect();
            assert_eq!(
                map(&without),
                *v["params"].as_object().expect("params"),
                "{name}: decoding"
            );
            assert_eq!(
                rpc::canonicalized_query(&params),
                s(&exp["canonicalized_query"]),
                "{name}: canonical query"
            );
            assert_eq!(
                rpc::string_to_sign(s(&v["method"]), &params),
                s(&exp["string_to_sign"]),
                "{name}: string to sign"
            );
            assert_eq!(format!("{secret}&"), s(&exp["hmac_key"]));
            assert_eq!(
                rpc::signature(s(&v["method"]), &params, &secret),
                s(&exp["signature"]),
                "{name}: signature"
            );
            let hdrs = headers(&v["wire_headers"]);
            let req = RawRequest {
                method: s(&v["method"]),
                path: s(&v["path"]),
                query: s(&v["raw_query"]),
                headers: &hdrs,
                body: &body,
            };
            let ok = verify(&req, |k| {
                (k == s(&v["access_key_id"])).then(|| secret.clone())
            })
            .expect("verifies");
            assert!(!ok.acs3, "{name}");
        }
    }
}

#[test]
fn tampered_vectors_fail() {
    for v in vectors() {
        let name = s(&v["name"]);
        let secret = s(&v["access_key_secret"]).to_string();
        let hdrs = if v.get("headers").is_some() {
            headers(&v["headers"])
        } else {
            headers(&v["wire_headers"])
        };
        let raw = s(&v["raw_query"]);
        // Change one byte of a parameter value: RegionId is in most vectors, else flip the
        // first value's first character.
        let tampered = if raw.contains("cn-hangzhou") {
            raw.replacen("cn-hangzhou", "cn-hangzhoU", 1)
        } else {
            raw.replacen("=m-", "=x-", 1)
        };
        assert_ne!(tampered, raw, "{name}: nothing to tamper with");
        let body = s(&v["body"]).as_bytes().to_vec();
        let req = RawRequest {
            method: s(&v["method"]),
            path: s(&v["path"]),
            query: &tampered,
            headers: &hdrs,
            body: &body,
        };
        let got = verify(&req, |_| Some(secret.clone()));
        assert!(
            matches!(got, Err(VerifyError::Mismatch(_))),
            "{name}: {got:?}"
        );
        let req = RawRequest {
            method: s(&v["method"]),
            path: s(&v["path"]),
            query: raw,
            headers: &hdrs,
            body: &body,
        };
        let wrong = verify(&req, |_| Some("not-the-secret".to_string()));
        assert!(
            matches!(wrong, Err(VerifyError::Mismatch(_))),
            "{name}: wrong secret accepted"
        );
    }
}
