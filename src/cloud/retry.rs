//! When to retry a call and how long to wait: a classifier and a pure backoff function.
//!
//! Transient failures (throttling, `ServiceUnavailable`, `InternalError`, other 5xx,
//! timeouts and dropped connections) are retried; other 4xx answers fail at once because
//! they will not succeed on retry. Throttling honours the server's `x-acs-retry-after`.
//!
//! Constants: the first retry waits up to 500 ms (Alibaba recommends 1–2 s status polls and
//! backing off after a throttle; half a second keeps single blips cheap), doubling up to a
//! 20 s cap (ECS throttles per minute, so a few capped waits span a new rate window). Full
//! jitter (a uniform draw in `[0, delay]`) spreads the retries of many concurrent calls.

use super::error::Error;
use std::time::Duration;

/// The first backoff step.
pub const BASE: Duration = Duration::from_millis(500);
/// The largest single wait.
pub const CAP: Duration = Duration::from_secs(20);
/// Retries after the first attempt, unless the provider's `max_retries` says otherwise.
pub const DEFAULT_MAX_RETRIES: u32 = 8;

/// What to do after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Transient: retry with backoff.
    Retry(&'static str),
    /// Throttled: retry, waiting at least the server's delay when it gave one.
    Throttled(Option<Duration>),
    /// Will not succeed on retry.
    Fatal,
}

/// True for the throttling codes ECS uses.
pub fn is_throttling(code: &str) -> bool {
    code.starts_with("Throttling")
        || code == "Rejected.Throttling"
        || code == "ServiceUnavailable.Throttling"
}

/// Classifies an error.
pub fn classify(err: &Error) -> Decision {
    match err {
        Error::Transport { .. } => Decision::Retry("no response (connection error or timeout)"),
        Error::Api(a) if is_throttling(&a.code) => Decision::Throttled(a.retry_after),
        Error::Api(a) if a.retry_after.is_some() && a.status == 429 => {
            Decision::Throttled(a.retry_after)
        }
        Error::Api(a) if a.code == "ServiceUnavailable" => Decision::Retry("ServiceUnavailable"),
        Error::Api(a) if a.code == "InternalError" || a.code == "UnknownError" => {
            Decision::Retry("InternalError")
        }
        Error::Api(a) if a.status >= 500 => Decision::Retry("server error (5xx)"),
        Error::Decode { .. } => Decision::Fatal,
        _ => Decision::Fatal,
    }
}

/// Capped exponential backoff with full jitter: a uniform draw (`rand01` in `[0, 1)`) from
/// `[0, min(CAP, BASE * 2^attempt)]`, where `attempt` counts retries from 0.
pub fn backoff(attempt: u32, rand01: f64) -> Duration {
    let exp = BASE.as_millis() as f64 * 2f64.powi(attempt.min(30) as i32);
    let ceiling = exp.min(CAP.as_millis() as f64);
    Duration::from_millis((ceiling * rand01.clamp(0.0, 1.0)) as u64)
}

/// The wait before retry number `attempt` for decision `d`.
pub fn delay(d: &Decision, attempt: u32, rand01: f64) -> Duration {
    let jittered = backoff(attempt, rand01);
    match d {
        Decision::Throttled(Some(after)) => (*after).max(jittered),
        _ => jittered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::error::ApiError;

    fn api(status: u16, code: &str) -> Error {
        Error::Api(Box::new(ApiError {
            action: "X".into(),
            status,
            code: code.into(),
            message: String::new(),
            request_id: String::new(),
            recommend: String::new(),
            retry_after: None,
        }))
    }

    #[test]
    fn classification_table() {
        let cases = [
            (api(400, "Throttling.User"), "throttled"),
            (api(429, "Throttling"), "throttled"),
            (api(400, "Rejected.Throttling"), "throttled"),
            (api(503, "ServiceUnavailable"), "retry"),
            (api(500, "InternalError"), "retry"),
            (api(502, "BadGateway"), "retry"),
            (api(400, "InvalidImageName.Duplicated"), "fatal"),
            (api(403, "QuotaExceed.Image"), "fatal"),
            (api(404, "InvalidSnapshotId.NotFound"), "fatal"),
            (
                Error::Transport {
                    action: "X".into(),
                    endpoint: "e".into(),
                    message: "reset".into(),
                },
                "retry",
            ),
            (
                Error::Decode {
                    action: "X".into(),
                    reason: "r".into(),
                    request_id: String::new(),
                    snippet: String::new(),
                },
                "fatal",
            ),
        ];
        for (e, want) in cases {
            let got = match classify(&e) {
                Decision::Retry(_) => "retry",
                Decision::Throttled(_) => "throttled",
                Decision::Fatal => "fatal",
            };
            assert_eq!(got, want, "{e}");
        }
    }

    #[test]
    fn backoff_table() {
        // (attempt, rand, expected ms)
        let cases = [
            (0, 1.0, 500),
            (1, 1.0, 1000),
            (2, 1.0, 2000),
            (5, 1.0, 16000),
            (6, 1.0, 20000),
            (30, 1.0, 20000),
            (3, 0.5, 2000),
            (3, 0.0, 0),
            (100, 0.25, 5000),
        ];
        for (attempt, r, ms) in cases {
            assert_eq!(
                backoff(attempt, r),
                Duration::from_millis(ms),
                "attempt {attempt} rand {r}"
            );
        }
    }

    #[test]
    fn retry_after_is_a_floor() {
        let d = Decision::Throttled(Some(Duration::from_secs(3)));
        assert_eq!(delay(&d, 0, 1.0), Duration::from_secs(3));
        assert_eq!(delay(&d, 6, 1.0), Duration::from_secs(20));
    }
}
