//! Crash points for the kill harness: `IMGFORM_CRASH_AT` aborts the process exactly as
//! `kill -9` would (no destructor runs, nothing is flushed) at a chosen point, so that the
//! tests can stop imgform at every state write and every HTTP request, not only at random
//! instants.
//!
//! - a name (`before_send`, `after_send`, `after_id`, `waiting`): that point of the first
//!   create that reaches it;
//! - `state_write:N`: just before the N-th state transaction of the process commits;
//! - `request:N`: just after the answer to the N-th API request arrived, before imgform
//!   reads it (the cloud acted, imgform never learns it).
//!
//! Without the variable every call is one relaxed atomic load and a comparison.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

enum Spec {
    None,
    Named(String),
    Counted(&'static str, u64),
}

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let Some(v) = std::env::var_os("IMGFORM_CRASH_AT") else {
            return Spec::None;
        };
        let v = v.to_string_lossy().into_owned();
        for kind in ["state_write", "request"] {
            if let Some(n) = v
                .strip_prefix(kind)
                .and_then(|r| r.strip_prefix(':'))
                .and_then(|n| n.parse().ok())
            {
                return Spec::Counted(kind, n);
            }
        }
        Spec::Named(v)
    })
}

/// Aborts at the named point when asked to.
pub fn at(name: &str) {
    if let Spec::Named(n) = spec() {
        if n == name {
            std::process::abort();
        }
    }
}

static STATE_WRITES: AtomicU64 = AtomicU64::new(0);
static REQUESTS: AtomicU64 = AtomicU64::new(0);

/// Called just before a state transaction commits.
pub fn state_write() {
    counted("state_write", &STATE_WRITES);
}

/// Called just after an API answer arrived.
pub fn request() {
    counted("request", &REQUESTS);
}

fn counted(kind: &str, counter: &AtomicU64) {
    if let Spec::Counted(k, n) = spec() {
        if *k == kind && counter.fetch_add(1, Ordering::Relaxed) + 1 == *n {
            std::process::abort();
        }
    }
}
