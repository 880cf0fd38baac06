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

/// The control endpoints (`/_imgform/*`) answer only to the cloud's own credentials, as
/// HTTP Basic authentication (`curl -u ID:SECRET`): they can move time and read everything.
/// `None` when the credentials are right; otherwise the 401 to answer.
fn unauthorized(c: &Shared, headers: &HeaderMap) -> Option<Response> {
    use base64::Engine as _;
    let (id, secret) = {
        let g = c.lock().expect("the local cloud lock is never poisoned");
        (g.key_id.clone(), g.secret.clone())
    };
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| {
            base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .ok()
        })
        .and_then(|b| String::from_utf8(b).ok());
    if given.as_deref() == Some(format!("{id}:{secret}").as_str()) {
        return None;
    }
    let body = serde_json::json!({
        "Code": "Unauthorized",
        "Message": "the control endpoints need the local cloud's AccessKeyId and AccessKeySecret as HTTP Basic credentials (curl -u ID:SECRET)",
    });
    let mut r = json_response(StatusCode::UNAUTHORIZED, &body, "");
    r.headers_mut().insert(
        "www-authenticate",
        "Basic realm=\"imgform local cloud\""
            .parse()
            .expect("a valid header value"),
    );
    Some(r)
}

async fn stats(State(c): State<Shared>, headers: HeaderMap) -> Response {
    if let Some(r) = unauthorized(&c, &headers) {
        return r;
    }
    let v = c
        .lock()
        .expect("the local cloud lock is never poisoned")
        .stats();
    json_response(StatusCode::OK, &v, "")
}

/// The most simulated time one call may add: about 31 years.
const MAX_ADVANCE_SECS: f64 = 1e9;

async fn advance(State(c): State<Shared>, headers: HeaderMap, uri: Uri) -> Response {
    if let Some(r) = unauthorized(&c, &headers) {
        return r;
    }
    let q = sign::form_decode(uri.query().unwrap_or(""));
    let raw = q
        .iter()
        .find(|(k, _)| k == "seconds")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    // Checked before the lock is taken: nothing a caller sends can poison it.
    let secs = match raw.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=MAX_ADVANCE_SECS).contains(&v) => v,
        _ => {
            let body = serde_json::json!({
                "Code": "InvalidParameter",
                "Message": format!("seconds must be a number from 0 to {MAX_ADVANCE_SECS}, got {raw:?}"),
            });
            return json_response(StatusCode::BAD_REQUEST, &body, "");
        }
    };
    let mut g = c.lock().expect("the local cloud lock is never poisoned");
    g.advance(Duration::from_secs_f64(secs));
    let now = g.now();
    json_response(StatusCode::OK, &serde_json::json!({ "sim_now": now }), "")
}

/// How far a request's timestamp may be from the server's clock, as ECS allows.
const TIMESTAMP_WINDOW_SECS: i64 = 15 * 60;

/// ECS's checks of the signed timestamp and nonce: a request more than 15 minutes from
/// the server's clock is expired, and a nonce seen within that window is a replay.
fn check_freshness(
    g: &mut Cloud,
    timestamp: Option<&str>,
    nonce: Option<&str>,
) -> Result<(), ApiErr> {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    let ts = timestamp.unwrap_or_default();
    let when = time::PrimitiveDateTime::parse(ts, &f)
        .map(|t| t.assume_utc())
        .map_err(|_| {
            ApiErr::new(
                400,
                "InvalidTimeStamp.Format",
                "Specified time stamp or date value is not well formatted.",
            )
        })?;
    let skew = (time::OffsetDateTime::now_utc() - when)
        .whole_seconds()
        .abs();
    if skew > TIMESTAMP_WINDOW_SECS {
        return Err(ApiErr::new(
            400,
            "InvalidTimeStamp.Expired",
            "Specified time stamp or date value is expired.",
        ));
    }
    let Some(nonce) = nonce.filter(|n| !n.is_empty()) else {
        return Err(ApiErr::new(
            400,
            "MissingSignatureNonce",
            "SignatureNonce is mandatory for this action.",
        ));
    };
    // A nonce is remembered for twice the timestamp window, so that any request that could
    // still pass the timestamp check is checked for a replay. Forgetting walks only the
    // expired ones, oldest first (the cost of a request does not grow with the traffic).
    let window = Duration::from_secs(TIMESTAMP_WINDOW_SECS as u64 * 2);
    while let Some((seen, _)) = g.nonce_order.front() {
        if seen.elapsed() < window {
            break;
        }
        if let Some((_, old)) = g.nonce_order.pop_front() {
            g.nonces.remove(&old);
        }
    }
    if !g.nonces.insert(nonce.to_string()) {
        return Err(ApiErr::new(
            400,
            "SignatureNonceUsed",
            "Specified signature nonce was used already.",
        ));
    }
    g.nonce_order
        .push_back((std::time::Instant::now(), nonce.to_string()));
    Ok(())
}

pub(super) fn request_id() -> String {
    uuid::Uuid::new_v4().to_string().to_uppercase()
}

fn json_response(status: StatusCode, v: &serde_json::Value, rid: &str) -> Response {
    text_response(status, v.to_string(), rid)
}

fn text_response(status: StatusCode, body: String, rid: &str) -> Response {
    let mut b = Response::builder()
        .status(status)
        .header("content-type", "application/json;charset=utf-8");
    if !rid.is_empty() {
        b = b.header("x-acs-request-id", rid);
    }
    b.body(Body::from(body)).expect("a valid response")
}

/// The error document ECS answers with.
pub(super) fn error_body(e: &ApiErr, rid: &str, region: &str) -> serde_json::Value {
    let host = if region.is_empty() || region == "cn-hangzhou" {
        "ecs.aliyuncs.com".to_string()
    } else {
        format!("ecs.{region}.aliyuncs.com")
    };
    serde_json::json!({
        "RequestId": rid,
        "HostId": host,
        "Code": e.code,
        "Message": e.message,
        "Recommend": format!("https://api.aliyun.com/troubleshoot?q={}&product=Ecs&requestId={rid}", e.code),
    })
}

fn error_response(e: &ApiErr, rid: &str, region: &str) -> Response {
    let body = error_body(e, rid, region);
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

/// Counts a request in flight while it is served, including one whose client went away.
struct InFlight(Shared);

impl InFlight {
    fn enter(c: &Shared) -> InFlight {
        let mut g = c.lock().expect("the local cloud lock is never poisoned");
        g.in_flight.0 += 1;
        g.in_flight.1 = g.in_flight.1.max(g.in_flight.0);
        InFlight(c.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut g) = self.0.lock() {
            g.in_flight.0 -= 1;
        }
    }
}

async fn handle(
    State(c): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let _counted = InFlight::enter(&c);
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

    let (latency, key_id, secret) = {
        let mut g = c.lock().expect("the local cloud lock is never poisoned");
        *g.calls
            .entry(if action.is_empty() {
                "(none)".into()
            } else {
                action.clone()
            })
            .or_default() += 1;
        (g.faults.latency, g.key_id.clone(), g.secret.clone())
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    // The signature is checked without the lock (it reads only the request and the key);
    // its verdict counts after the faults are drawn, as before.
    let req = RawRequest {
        method: method.as_str(),
        path: uri.path(),
        query,
        headers: &raw_headers,
        body: &body,
    };
    let verified = sign::verify(&req, |k| (k == key_id).then(|| secret.clone()));
    let mut g = c.lock().expect("the local cloud lock is never poisoned");
    let faults = roll_faults(&mut g, &action);
    if let Some(r) = faults.before() {
        return served_response(r, &rid, &region);
    }
    if let Err(v) = verified {
        let e = match v {
            VerifyError::Missing(m) => ApiErr::new(400, "MissingParameter", &format!("The input parameter that is mandatory for processing this request is not supplied: {m}")),
            VerifyError::UnknownKey(k) => ApiErr::new(404, "InvalidAccessKeyId.NotFound", &format!("Specified access key is not found: {k}")),
            VerifyError::Mismatch(sts) => ApiErr::new(400, "SignatureDoesNotMatch", &format!("Specified signature is not matched with our calculation. server string to sign is:{sts}")),
        };
        return error_response(&e, &rid, &region);
    }
    let (timestamp, nonce) = if acs3 {
        (header("x-acs-date"), header("x-acs-signature-nonce"))
    } else {
        (
            params.get("Timestamp").cloned(),
            params.get("SignatureNonce").cloned(),
        )
    };
    if let Err(e) = check_freshness(&mut g, timestamp.as_deref(), nonce.as_deref()) {
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
    let served = run(&mut g, &action, &params, &faults);
    // The answer is written out without the lock: other requests go on meanwhile.
    drop(g);
    served_response(served, &rid, &region)
}

/// The faults one request draws (before and after the operation runs).
pub(super) struct Drawn {
    throttle: bool,
    e500: bool,
    reset: bool,
    lost: bool,
    e500_after: bool,
}

/// What the cloud does with one request.
pub(super) enum Served {
    /// The connection drops (before or after the operation ran).
    Reset,
    /// An answer.
    Answer(Result<api::Doc, ApiErr>),
}

impl Drawn {
    /// The fault that strikes before the operation runs, if any.
    pub(super) fn before(&self) -> Option<Served> {
        if self.reset {
            return Some(Served::Reset);
        }
        if self.throttle {
            return Some(Served::Answer(Err(ApiErr {
                status: 400,
                code: "Throttling.User".into(),
                message: "Request was denied due to user flow control.".into(),
                retry_after_ms: Some(200),
            })));
        }
        if self.e500 {
            return Some(Served::Answer(Err(ApiErr::new(
                500,
                "InternalError",
                "The request processing has failed due to some unknown error, exception or failure.",
            ))));
        }
        None
    }
}

/// Draws the faults of one request of `action`.
pub(super) fn roll_faults(g: &mut Cloud, action: &str) -> Drawn {
    let mutating = !(action.starts_with("Describe") || action.starts_with("List"));
    let mut f = g.faults.clone();
    if !f.only.is_empty() && !f.only.iter().any(|a| a == action) {
        f = super::Faults {
            seed: f.seed,
            latency: f.latency,
            fail_create: f.fail_create,
            ..Default::default()
        };
    }
    let rng = g.fault_rng.get_or_insert_with(|| super::Rng::new(f.seed));
    Drawn {
        throttle: rng.f64() < f.throttle,
        e500: rng.f64() < f.error500,
        reset: rng.f64() < f.reset,
        lost: mutating && rng.f64() < f.lost,
        e500_after: mutating && rng.f64() < f.error500_after,
    }
}

/// Runs the operation and the faults that strike after it: it happened, but the caller
/// does not learn it.
pub(super) fn run(
    g: &mut Cloud,
    action: &str,
    params: &BTreeMap<String, String>,
    faults: &Drawn,
) -> Served {
    let result = api::answer(g, action, params);
    g.flush();
    if faults.lost {
        *g.calls.entry("(lost answers)".into()).or_default() += 1;
        return Served::Reset;
    }
    if faults.e500_after {
        *g.calls.entry("(500 after running)".into()).or_default() += 1;
        return Served::Answer(Err(ApiErr::new(
            500,
            "InternalError",
            "The request processing has failed due to some unknown error, exception or failure.",
        )));
    }
    Served::Answer(result)
}

fn served_response(s: Served, rid: &str, region: &str) -> Response {
    match s {
        Served::Reset => reset(),
        Served::Answer(Ok(d)) => text_response(StatusCode::OK, d.with_request_id(rid), rid),
        Served::Answer(Err(e)) => error_response(&e, rid, region),
    }
}
