//! The HTTP side of the local cloud: accepts requests as ECS does (parameters in the query
//! or a form body, `+` and `%20` both decoded, empty values kept), verifies either
//! signature scheme, counts calls, injects faults, dispatches to the operations and
//! answers with the real JSON shapes, error bodies, statuses and `x-acs-request-id`.

use super::api::{self, ApiErr};
use super::Cloud;
use crate::cloud::sign::{self, RawRequest, VerifyError};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::routing::{any, get, post};
use axum::Router;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Shared = Arc<Mutex<Cloud>>;

pub(super) fn router(cloud: Shared) -> Router {
    Router::new()
        .route("/_imgform/stats", get(stats))
        .route("/_imgform/advance", post(advance))
        .route("/", any(handle))
        .with_state(cloud)
}

async fn stats(State(c): State<Shared>) -> Response {
    let v = c
        .lock()
        .expect("the local cloud lock is never poisoned")
        .stats();
    json_response(StatusCode::OK, &v, "")
}

async fn advance(State(c): State<Shared>, uri: Uri) -> Response {
    let q = sign::form_decode(uri.query().unwrap_or(""));
    let secs: f64 = q
        .iter()
        .find(|(k, _)| k == "seconds")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0.0);
    let mut g = c.lock().expect("the local cloud lock is never poisoned");
    g.advance(Duration::from_secs_f64(secs.max(0.0)));
    let now = g.now();
    json_response(StatusCode::OK, &serde_json::json!({ "sim_now": now }), "")
}

fn request_id() -> String {
    uuid::Uuid::new_v4().to_string().to_uppercase()
}

fn json_response(status: StatusCode, v: &serde_json::Value, rid: &str) -> Response {
    let mut b = Response::builder()
        .status(status)
        .header("content-type", "application/json;charset=utf-8");
    if !rid.is_empty() {
        b = b.header("x-acs-request-id", rid);
    }
    b.body(Body::from(v.to_string())).expect("a valid response")
}

fn error_response(e: &ApiErr, rid: &str, region: &str) -> Response {
    let host = if region.is_empty() || region == "cn-hangzhou" {
        "ecs.aliyuncs.com".to_string()
    } else {
        format!("ecs.{region}.aliyuncs.com")
    };
    let body = serde_json::json!({
        "RequestId": rid,
        "HostId": host,
        "Code": e.code,
        "Message": e.message,
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={}&product=Ecs&requestId={rid}", e.code),
    });
    let mut r = json_response(
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        &body,
        rid,
    );
    if let Some(ms) = e.retry_after_ms {
        r.headers_mut().insert(
            "x-acs-retry-after",
            ms.to_string()
                .parse()
                .expect("digits are a valid header value"),
        );
    }
    r
}

/// A response whose body fails mid-stream: the client sees the connection drop.
fn reset() -> Response {
    let stream = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "injected reset",
        ))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header("content-length", "100")
        .body(Body::from_stream(stream))
        .expect("a valid response")
}

async fn handle(
    State(c): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let rid = request_id();
    let raw_headers: Vec<(String, String)> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let query = uri.query().unwrap_or("");
    let mut params: BTreeMap<String, String> = BTreeMap::new();
    for (k, v) in sign::form_decode(query) {
        params.insert(k, v);
    }
    let is_form = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        for (k, v) in sign::form_decode(&String::from_utf8_lossy(&body)) {
            params.insert(k, v);
        }
    }
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let acs3 = header("authorization").is_some_and(|a| a.starts_with(sign::ACS3));
    let action = if acs3 {
        header("x-acs-action")
    } else {
        params.get("Action").cloned()
    }
    .or_else(|| header("x-acs-action"))
    .unwrap_or_default();
    let region = params.get("RegionId").cloned().unwrap_or_default();

    let latency = {
        let mut g = c.lock().expect("the local cloud lock is never poisoned");
        *g.calls
            .entry(if action.is_empty() {
                "(none)".into()
            } else {
                action.clone()
            })
            .or_default() += 1;
        g.faults.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let mut g = c.lock().expect("the local cloud lock is never poisoned");
    let mutating = !(action.starts_with("Describe") || action.starts_with("List"));
    let (throttle, e500, rst, lost, e500_after) = {
        let mut f = g.faults.clone();
        if !f.only.is_empty() && !f.only.contains(&action) {
            f = super::Faults {
                seed: f.seed,
                latency: f.latency,
                fail_create: f.fail_create,
                ..Default::default()
            };
        }
        let rng = g.fault_rng.get_or_insert_with(|| super::Rng::new(f.seed));
        (
            rng.f64() < f.throttle,
            rng.f64() < f.error500,
            rng.f64() < f.reset,
            mutating && rng.f64() < f.lost,
            mutating && rng.f64() < f.error500_after,
        )
    };
    if rst {
        return reset();
    }
    if throttle {
        let e = ApiErr {
            status: 400,
            code: "Throttling.User".into(),
            message: "Request was denied due to user flow control.".into(),
            retry_after_ms: Some(200),
        };
        return error_response(&e, &rid, &region);
    }
    if e500 {
        let e = ApiErr::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        );
        return error_response(&e, &rid, &region);
    }
    let key_id = g.key_id.clone();
    let secret = g.secret.clone();
    let req = RawRequest {
        method: method.as_str(),
        path: uri.path(),
        query,
        headers: &raw_headers,
        body: &body,
    };
    if let Err(v) = sign::verify(&req, |k| (k == key_id).then(|| secret.clone())) {
        let e = match v {
            VerifyError::Missing(m) => ApiErr::new(400, "MissingParameter", &format!("The input parameter that is mandatory for processing this request is not supplied: {m}")),
            VerifyError::UnknownKey(k) => ApiErr::new(404, "InvalidAccessKeyId.NotFound", &format!("Specified access key is not found: {k}")),
            VerifyError::Mismatch(sts) => ApiErr::new(400, "SignatureDoesNotMatch", &format!("Specified signature is not matched with our calculation. server string to sign is:{sts}")),
        };
        return error_response(&e, &rid, &region);
    }
    if action.is_empty() {
        return error_response(&ApiErr::new(400, "MissingParameter", "The input parameter \"Action\" that is mandatory for processing this request is not supplied."), &rid, &region);
    }
    let version = if acs3 {
        header("x-acs-version")
    } else {
        params.get("Version").cloned()
    };
    if version.as_deref() != Some(crate::cloud::client::API_VERSION) {
        return error_response(
            &ApiErr::new(
                400,
                "InvalidParameter",
                &format!(
                    "The specified parameter \"Version\" is not valid: {:?}; ECS uses 2014-05-26.",
                    version.unwrap_or_default()
                ),
            ),
            &rid,
            &region,
        );
    }
    for k in [
        "Action",
        "Version",
        "Format",
        "Timestamp",
        "SignatureMethod",
        "SignatureVersion",
        "SignatureNonce",
        "SignatureType",
        "AccessKeyId",
        "Signature",
        "SecurityToken",
    ] {
        params.remove(k);
    }
    let result = api::dispatch(&mut g, &action, &params);
    g.flush();
    // Faults after the operation ran: it happened, but the caller does not learn it.
    if lost {
        *g.calls.entry("(lost answers)".into()).or_default() += 1;
        return reset();
    }
    if e500_after {
        *g.calls.entry("(500 after running)".into()).or_default() += 1;
        let e = ApiErr::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        );
        return error_response(&e, &rid, &region);
    }
    match result {
        Ok(mut v) => {
            if let Some(o) = v.as_object_mut() {
                o.insert("RequestId".into(), rid.clone().into());
            }
            json_response(StatusCode::OK, &v, &rid)
        }
        Err(e) => error_response(&e, &rid, &region),
    }
}
