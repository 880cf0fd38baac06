//! What the walk's tasks share: the run context, the limiter that bounds requests in
//! flight, calls that change the cloud (with their outcome), state row helpers, and the
//! context a kind's procedures see ([`RunCx`]).

use super::{Session, SharedStore};
use crate::addr::ResourceAddr;
use crate::cloud::client::Client;
use crate::cloud::error::Error;
use crate::cloud::waiter::{Acceptance, WaitError, Waiter};
use crate::config::check::Evaluated;
use crate::events::{Event, EventSink, Verb};
use crate::resource::kind::Cx;
use crate::state::ResourceState;
use futures_util::future::BoxFuture;
use serde_json::Value as J;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// The run context every walk task shares.
pub(super) struct Ctx {
    pub sess: Arc<Session>,
    pub store: SharedStore,
    /// The state as the walk sees it: rows in memory, writes grouped (see `ledger`).
    pub ledger: super::ledger::Ledger,
    pub ev: Arc<Evaluated>,
    pub api: Limiter,
    pub in_progress: Option<Semaphore>,
    pub sink: Arc<dyn EventSink>,
    /// The first interrupt: waits end at once, requests under way answer first.
    pub stop: crate::cloud::waiter::Stop,
    /// The creates whose named objects are checked just before they are sent (the plan's
    /// `recheck`).
    pub recheck: std::collections::BTreeSet<String>,
}

/// Bounds the API requests in flight. The limit starts at `--parallelism`, halves when the
/// cloud throttles or refuses for a concurrency quota, and grows back by one per success,
/// so a throttled account is probed gently instead of hammered.
pub struct Limiter {
    max: usize,
    state: std::sync::Mutex<(usize, usize)>,
    notify: tokio::sync::Notify,
}

/// A slot of the limiter, released on drop.
pub struct Slot<'a>(&'a Limiter);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0
            .state
            .lock()
            .expect("the limiter lock is never poisoned")
            .1 -= 1;
        // One slot freed, one waiter woken (a permit is kept if none is waiting yet, and
        // a woken waiter that is dropped passes it on): waking all of them would cost every
        // waiting request a lock round per release, O(N^2) for N queued requests.
        self.0.notify.notify_one();
    }
}

impl Limiter {
    /// A limiter allowing `max` requests at once.
    pub fn new(max: usize) -> Limiter {
        Limiter {
            max: max.max(1),
            state: std::sync::Mutex::new((max.max(1), 0)),
            notify: tokio::sync::Notify::new(),
        }
    }

    /// Waits for a slot.
    pub async fn acquire(&self) -> Slot<'_> {
        loop {
            let notified = self.notify.notified();
            {
                let mut g = self
                    .state
                    .lock()
                    .expect("the limiter lock is never poisoned");
                if g.1 < g.0 {
                    g.1 += 1;
                    return Slot(self);
                }
            }
            notified.await;
        }
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.state
            .lock()
            .expect("the limiter lock is never poisoned")
            .0
    }

    /// A request succeeded without throttling: grow by one.
    pub fn success(&self) {
        let mut g = self
            .state
            .lock()
            .expect("the limiter lock is never poisoned");
        if g.0 < self.max {
            g.0 += 1;
            drop(g);
            self.notify.notify_one();
        }
    }

    /// The cloud pushed back: halve.
    pub fn throttled(&self) {
        let mut g = self
            .state
            .lock()
            .expect("the limiter lock is never poisoned");
        let before = g.0;
        g.0 = (g.0 / 2).max(1);
        tracing::warn!(
            from = before,
            to = g.0,
            "the cloud is throttling: fewer requests in flight"
        );
    }
}

/// Concurrency-quota answers: not failures, a signal to slow down and try again.
fn is_concurrency_quota(code: &str) -> bool {
    matches!(
        code,
        "QuotaExceed.ConcurrentSnapshotQuota"
            | "TooManySnapshot.Unfinished"
            | "IncorrectDiskStatus.CreatingSnapshot"
    )
}

/// A failed call that changes the cloud, with its outcome: refused (the cloud said no, so
/// nothing changed) or unknown (no usable answer, so the cloud may have acted).
#[derive(Debug)]
pub(super) struct CallError {
    pub message: String,
    pub may_have_acted: bool,
}

impl From<CallError> for String {
    fn from(e: CallError) -> String {
        e.message
    }
}

impl From<Error> for CallError {
    fn from(e: Error) -> CallError {
        CallError {
            message: e.to_string(),
            may_have_acted: e.may_have_acted(),
        }
    }
}

/// One call through the limiter; throttling narrows it, success widens it.
async fn limited(
    ctx: &Ctx,
    client: &Client,
    action: &str,
    params: Vec<(String, String)>,
    replay: bool,
) -> Result<J, Error> {
    // A request still queued for a slot when the run is interrupted is not sent: nothing
    // new starts after the first Ctrl-C, and what was not sent changed nothing.
    let slot = tokio::select! {
        s = ctx.api.acquire() => s,
        _ = ctx.stop.stopped() => return Err(Error::Interrupted { action: action.into() }),
    };
    let throttles = client.throttled_attempts();
    let r = client
        .call_raw_replaying(action, params, None, replay)
        .await;
    drop(slot);
    if client.throttled_attempts() > throttles {
        ctx.api.throttled();
    }
    if r.is_ok() {
        ctx.api.success();
    }
    r
}

/// Calls an action that changes the cloud. A concurrency-quota refusal is waited out (at
/// most 10 tries, backing off with jitter); any other failure says whether the cloud may
/// have acted.
pub(super) async fn api_call(
    ctx: &Ctx,
    client: &Client,
    action: &str,
    params: Vec<(String, String)>,
) -> Result<J, CallError> {
    api_call_replaying(ctx, client, action, params, true).await
}

/// [`api_call`]; with `replay` false a request whose outcome is unknown is never sent
/// again within the call (a create without ClientToken).
pub(super) async fn api_call_replaying(
    ctx: &Ctx,
    client: &Client,
    action: &str,
    params: Vec<(String, String)>,
    replay: bool,
) -> Result<J, CallError> {
    let poll_min = ctx.sess.poll_min;
    let waiter = Waiter::new(Duration::from_secs(10 * 365 * 86_400))
        .with_max_attempts(11)
        .with_delays(Arc::new(move |attempt| {
            crate::cloud::retry::backoff(attempt + 2, 0.5 + attempt as f64 / 40.0).max(poll_min)
        }))
        .with_stop(ctx.stop.clone());
    let r = waiter
        .wait(|attempt| {
            let params = params.clone();
            async move {
                match limited(ctx, client, action, params, replay).await {
                    Ok(j) => Acceptance::Success(j),
                    Err(e) if e.code().is_some_and(is_concurrency_quota) => {
                        ctx.api.throttled();
                        tracing::warn!(
                            attempt = attempt + 1,
                            code = e.code().unwrap_or(""),
                            "concurrency quota reached; retrying {action}"
                        );
                        Acceptance::Retry(e)
                    }
                    Err(e) => Acceptance::Failure(e),
                }
            }
        })
        .await;
    match r {
        Ok(j) => Ok(j),
        Err(WaitError::Failed(e))
        | Err(WaitError::Exhausted(e))
        | Err(WaitError::Interrupted { last: Some(e) }) => Err(e.into()),
        Err(WaitError::Interrupted { last: None }) => Err(CallError {
            message: format!("{action} was not sent: the apply was interrupted"),
            may_have_acted: false,
        }),
        Err(WaitError::TimedOut { last, .. }) => Err(CallError {
            message: last
                .map(|e| e.to_string())
                .unwrap_or_else(|| format!("{action} timed out")),
            may_have_acted: true,
        }),
    }
}

/// One row as last committed (from the walk's mirror, no database read).
pub(super) fn row(ctx: &Ctx, a: &ResourceAddr) -> Result<Option<ResourceState>, String> {
    Ok(ctx.ledger.row(a))
}

/// Commits one row; returns once it is in the state.
pub(super) async fn put(ctx: &Ctx, r: &ResourceState) -> Result<(), String> {
    ctx.ledger.put(r).await
}

/// Removes one row; returns once that is committed.
pub(super) async fn remove(ctx: &Ctx, a: &ResourceAddr) -> Result<(), String> {
    ctx.ledger.remove(a).await
}

/// What a kind's procedures see of the run: calls through the limiter in any region of
/// the object's account, a waiter bounded by the operation's deadline, progress events,
/// and other objects' recorded attributes.
pub(super) struct RunCx<'a> {
    pub ctx: &'a Ctx,
    pub client: Client,
    pub addr: &'a ResourceAddr,
    pub verb: Verb,
    pub start: Instant,
    pub deadline: tokio::time::Instant,
}

impl Cx for RunCx<'_> {
    fn call<'b>(
        &'b self,
        region: &'b str,
        action: &'b str,
        params: Vec<(String, String)>,
    ) -> BoxFuture<'b, Result<J, Error>> {
        Box::pin(async move {
            let client = if region == self.client.region() {
                self.client.clone()
            } else {
                self.client.with_region(region)?
            };
            limited(self.ctx, &client, action, params, true).await
        })
    }

    fn waiter(&self) -> Waiter {
        let pause = self.ctx.sess.poll_min;
        Waiter::new(
            self.deadline
                .saturating_duration_since(tokio::time::Instant::now()),
        )
        .with_delays(Arc::new(move |_| pause))
        .with_stop(self.ctx.stop.clone())
    }

    fn progress(&self, status: &str) {
        self.ctx.sink.emit(Event::Progress {
            addr: self.addr.clone(),
            verb: self.verb,
            elapsed: self.start.elapsed(),
            percent: None,
            status: status.into(),
        })
    }

    fn attr_of(&self, id: &str, attr: &str) -> Option<J> {
        self.ctx.ledger.with_state(|st| {
            st.resources
                .values()
                .find(|r| r.id.as_deref() == Some(id))
                .and_then(|r| r.attrs.get(attr))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    #[tokio::test]
    async fn a_released_slot_wakes_a_waiter_and_no_wakeup_is_lost() {
        // 500 requests through 3 slots: each release wakes one waiter, and every request
        // gets its turn (a lost wakeup would hang here).
        let l = Arc::new(Limiter::new(3));
        let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..500 {
            let (l, done) = (l.clone(), done.clone());
            set.spawn(async move {
                let _slot = l.acquire().await;
                tokio::task::yield_now().await;
                done.fetch_add(1, Ordering::SeqCst);
            });
        }
        let all = tokio::time::timeout(Duration::from_secs(10), async {
            while set.join_next().await.is_some() {}
        })
        .await;
        assert!(all.is_ok(), "every waiter got a slot");
        assert_eq!(done.load(Ordering::SeqCst), 500);
    }

    #[tokio::test]
    async fn limiter_halves_on_throttling_and_grows_back_by_one() {
        let l = Limiter::new(10);
        assert_eq!(l.limit(), 10);
        l.throttled();
        assert_eq!(l.limit(), 5);
        l.throttled();
        l.throttled();
        l.throttled();
        assert_eq!(l.limit(), 1, "never below one");
        l.success();
        assert_eq!(l.limit(), 2);
        for _ in 0..20 {
            l.success();
        }
        assert_eq!(l.limit(), 10, "never above the maximum");
        // Slots are bounded by the current limit.
        l.throttled();
        l.throttled();
        let a = l.acquire().await;
        let b = l.acquire().await;
        let blocked = tokio::time::timeout(Duration::from_millis(20), l.acquire()).await;
        assert!(blocked.is_err(), "a third slot waits while the limit is 2");
        drop(a);
        let c = tokio::time::timeout(Duration::from_millis(200), l.acquire()).await;
        assert!(c.is_ok(), "a released slot is reused");
        drop(b);
        assert!(
            is_concurrency_quota("QuotaExceed.ConcurrentSnapshotQuota")
                && is_concurrency_quota("TooManySnapshot.Unfinished")
        );
    }
}
