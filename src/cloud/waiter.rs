//! Waiting for the cloud, after smithy-rs's waiters: a poll function, an acceptor that
//! judges each answer (done, failed, or not yet), a delay between polls, a deadline, and
//! tokio's clock (which tests pause and advance). Every wait of an apply goes through it:
//! waiting for an object to be made (the poll is the next observation of the batched
//! poller), retrying a create the cloud refused for a concurrency quota, and waiting out a
//! delete the cloud refuses while the object is still being made. Every wait also ends on
//! the run's [`Stop`] (the first Ctrl-C or SIGTERM): a pause or a status poll is cut at
//! once, a request under way is left to finish, so its outcome is recorded.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The run's stop request: set once (by the first interrupt), seen by every wait at once.
#[derive(Clone, Default)]
pub struct Stop(Arc<StopInner>);

#[derive(Default)]
struct StopInner {
    set: std::sync::atomic::AtomicBool,
    notify: tokio::sync::Notify,
}

impl std::fmt::Debug for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stop({})", self.is_set())
    }
}

impl Stop {
    /// A stop request not yet made.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Asks every wait to end.
    pub fn trigger(&self) {
        self.0.set.store(true, std::sync::atomic::Ordering::SeqCst);
        self.0.notify.notify_waiters();
    }

    /// True once a stop was asked for.
    pub fn is_set(&self) -> bool {
        self.0.set.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Returns when a stop is asked for (at once if it was).
    pub async fn stopped(&self) {
        loop {
            let notified = self.0.notify.notified();
            tokio::pin!(notified);
            // Registered before the check, so a trigger between the two is not lost.
            notified.as_mut().enable();
            if self.is_set() {
                return;
            }
            notified.await;
        }
    }
}

/// Sleeps for a duration: tokio's sleep (which tests pause), or a recorder.
pub type Sleeper = Arc<dyn Fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// What the acceptor made of one poll.
#[derive(Debug)]
pub enum Acceptance<T, E, R = E> {
    /// Done: the wait ends with this value.
    Success(T),
    /// Ended in failure: the wait ends with this error.
    Failure(E),
    /// Not yet; the reason is kept in case the wait ends here (deadline or attempts).
    Retry(R),
    /// Not yet, and the next poll waits this long (the server said when to come back).
    RetryIn(R, Duration),
}

/// Why a wait ended without success.
#[derive(Debug, PartialEq, Eq)]
pub enum WaitError<E, R = E> {
    /// The acceptor judged a poll a failure.
    Failed(E),
    /// The deadline passed; the last reason to retry, if a poll returned.
    TimedOut {
        /// How long the wait ran.
        elapsed: Duration,
        /// The last `Retry` reason.
        last: Option<R>,
    },
    /// The most attempts were made; the last reason to retry.
    Exhausted(R),
    /// The run was asked to stop; the last reason to retry, if a poll returned.
    Interrupted {
        /// The last `Retry` reason.
        last: Option<R>,
    },
}

/// The delay before the poll after `attempt` (0 after the first poll).
pub type Delays = Arc<dyn Fn(u32) -> Duration + Send + Sync>;

/// A waiter: how long to wait at most, how long between polls, how many polls at most.
#[derive(Clone)]
pub struct Waiter {
    deadline: Option<Instant>,
    started: Instant,
    delays: Option<Delays>,
    max_attempts: Option<u32>,
    sleeper: Option<Sleeper>,
    /// A poll still running at the deadline is abandoned (status polls), or left to
    /// finish (a request that may change the cloud).
    cut_polls: bool,
    /// Ends the wait when asked: a pause at once, a poll under way only when
    /// `stop_cuts_polls` (a poll that changes nothing, such as a receive from a poller).
    stop: Option<Stop>,
    stop_cuts_polls: bool,
}

impl Waiter {
    /// A waiter that gives up `timeout` from now and polls again at once (the poll itself
    /// waits, as a receive from a poller does).
    pub fn new(timeout: Duration) -> Waiter {
        let mut w = Waiter::unbounded();
        w.deadline = w.started.checked_add(timeout);
        w.cut_polls = true;
        w
    }

    /// A waiter without a deadline (bounded by attempts, or by nothing).
    pub fn unbounded() -> Waiter {
        Waiter {
            deadline: None,
            started: Instant::now(),
            delays: None,
            max_attempts: None,
            sleeper: None,
            cut_polls: false,
            stop: None,
            stop_cuts_polls: false,
        }
    }

    /// Ends the wait when `stop` is asked for: a pause at once; a poll under way is left
    /// to answer (it may be a request that changes the cloud, whose outcome must be
    /// recorded), and no poll starts after it.
    pub fn with_stop(mut self, stop: Stop) -> Waiter {
        self.stop = Some(stop);
        self
    }

    /// Like [`Waiter::with_stop`], and a poll under way is abandoned too: for polls that
    /// change nothing (a receive from the batched poller, a status read).
    pub fn with_stop_cutting_polls(mut self, stop: Stop) -> Waiter {
        self.stop = Some(stop);
        self.stop_cuts_polls = true;
        self
    }

    /// Starts no poll and no pause that would end after `deadline`, when there is one; a
    /// poll under way is left to finish.
    pub fn with_deadline(mut self, deadline: Option<Instant>) -> Waiter {
        self.deadline = deadline;
        self
    }

    /// Sleeps between polls with `s` instead of tokio's sleep.
    pub fn with_sleeper(mut self, s: Sleeper) -> Waiter {
        self.sleeper = Some(s);
        self
    }

    /// Waits `delays(attempt)` between polls.
    pub fn with_delays(mut self, delays: Delays) -> Waiter {
        self.delays = Some(delays);
        self
    }

    /// Polls start at `min` and grow by `factor` up to `max`.
    pub fn with_backoff(self, min: Duration, max: Duration, factor: f64) -> Waiter {
        self.with_delays(Arc::new(move |attempt| {
            min.mul_f64(factor.powi(attempt.min(64) as i32))
                .min(max.max(min))
        }))
    }

    /// Gives up after `n` polls.
    pub fn with_max_attempts(mut self, n: u32) -> Waiter {
        self.max_attempts = Some(n.max(1));
        self
    }

    /// The deadline.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Polls until the acceptor's verdict is success or failure, the deadline passes, or
    /// the attempts run out. A poll still running at the deadline is abandoned, and a
    /// pause that would end after it ends the wait at once (as smithy-rs's waiters do).
    pub async fn wait<T, E, R, F, Fut>(&self, mut poll: F) -> Result<T, WaitError<E, R>>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Acceptance<T, E, R>>,
    {
        let mut last = None;
        let mut attempt = 0u32;
        loop {
            // No poll starts once a stop was asked for (the first one always does: a
            // request is never refused before it was tried).
            if attempt > 0 && self.stop.as_ref().is_some_and(Stop::is_set) {
                return Err(WaitError::Interrupted { last });
            }
            let stop = self.stop.as_ref().filter(|_| self.stop_cuts_polls);
            let polled = async {
                match self.deadline.filter(|_| self.cut_polls) {
                    Some(d) => tokio::time::timeout_at(d, poll(attempt)).await.ok(),
                    None => Some(poll(attempt).await),
                }
            };
            let verdict = match stop {
                Some(stop) => tokio::select! {
                    v = polled => v,
                    _ = stop.stopped() => return Err(WaitError::Interrupted { last }),
                },
                None => polled.await,
            };
            let Some(verdict) = verdict else {
                return Err(self.timed_out(last));
            };
            let asked = match verdict {
                Acceptance::Success(t) => return Ok(t),
                Acceptance::Failure(e) => return Err(WaitError::Failed(e)),
                Acceptance::Retry(e) => {
                    last = Some(e);
                    None
                }
                Acceptance::RetryIn(e, pause) => {
                    last = Some(e);
                    Some(pause)
                }
            };
            if self.max_attempts.is_some_and(|n| attempt + 1 >= n) {
                return Err(WaitError::Exhausted(last.expect("set just above")));
            }
            let pause = asked.or_else(|| self.delays.as_ref().map(|d| d(attempt)));
            if let Some(pause) = pause.filter(|p| !p.is_zero()) {
                if self.deadline.is_some_and(|d| Instant::now() + pause > d) {
                    return Err(self.timed_out(last));
                }
                let sleep = async {
                    match &self.sleeper {
                        Some(s) => s(pause).await,
                        None => tokio::time::sleep(pause).await,
                    }
                };
                match &self.stop {
                    Some(stop) => tokio::select! {
                        _ = sleep => {}
                        _ = stop.stopped() => return Err(WaitError::Interrupted { last }),
                    },
                    None => sleep.await,
                }
            }
            attempt += 1;
        }
    }

    fn timed_out<E, R>(&self, last: Option<R>) -> WaitError<E, R> {
        WaitError::TimedOut {
            elapsed: Instant::now() - self.started,
            last,
        }
    }
}

/// `1m5s`, `42s`: how long a wait ran, for messages.
pub fn fmt_elapsed(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(start_paused = true)]
    async fn retries_with_backoff_until_success() {
        let n = AtomicU32::new(0);
        let start = Instant::now();
        let w = Waiter::new(Duration::from_secs(60)).with_backoff(
            Duration::from_secs(1),
            Duration::from_secs(4),
            2.0,
        );
        let r: Result<u32, WaitError<&str>> = w
            .wait(|_| async {
                let i = n.fetch_add(1, Ordering::SeqCst);
                if i < 4 {
                    Acceptance::Retry("not yet")
                } else {
                    Acceptance::Success(i)
                }
            })
            .await;
        assert_eq!(r, Ok(4));
        // 1 + 2 + 4 + 4 seconds of simulated time, none of it real.
        assert_eq!(start.elapsed(), Duration::from_secs(11));
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_with_the_last_reason() {
        let w = Waiter::new(Duration::from_secs(10)).with_backoff(
            Duration::from_secs(3),
            Duration::from_secs(3),
            1.0,
        );
        let r: Result<(), WaitError<u32>> = w.wait(|i| async move { Acceptance::Retry(i) }).await;
        match r {
            // Polls at 0, 3, 6 and 9 s; the next would come after the deadline.
            Err(WaitError::TimedOut { elapsed, last }) => {
                assert_eq!(elapsed, Duration::from_secs(9));
                assert_eq!(last, Some(3));
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_poll_that_never_answers_times_out() {
        let w = Waiter::new(Duration::from_secs(5));
        let r: Result<(), WaitError<(), ()>> = w.wait(|_| std::future::pending()).await;
        assert!(matches!(r, Err(WaitError::TimedOut { last: None, .. })));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_ends_a_pause_and_a_status_poll_at_once() {
        let stop = Stop::new();
        let w = Waiter::new(Duration::from_secs(3600))
            .with_backoff(Duration::from_secs(60), Duration::from_secs(60), 1.0)
            .with_stop(stop.clone());
        let s = stop.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(90)).await;
            s.trigger();
        });
        let start = Instant::now();
        let r: Result<(), WaitError<u32>> = w.wait(|i| async move { Acceptance::Retry(i) }).await;
        assert_eq!(r, Err(WaitError::Interrupted { last: Some(1) }));
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(90),
            "not the next poll at 120 s"
        );
        // A status poll that never answers is cut too, where polls may be cut.
        let w = Waiter::new(Duration::from_secs(3600)).with_stop_cutting_polls(stop);
        let r: Result<(), WaitError<(), ()>> = w.wait(|_| std::future::pending()).await;
        assert_eq!(r, Err(WaitError::Interrupted { last: None }));
    }

    #[tokio::test(start_paused = true)]
    async fn a_stop_lets_a_request_under_way_answer() {
        let stop = Stop::new();
        let w = Waiter::unbounded()
            .with_max_attempts(5)
            .with_delays(Arc::new(|_| Duration::from_secs(10)))
            .with_stop(stop.clone());
        let r: Result<u32, WaitError<u32>> = w
            .wait(|i| {
                let stop = stop.clone();
                async move {
                    stop.trigger();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    if i == 0 {
                        Acceptance::Retry(i)
                    } else {
                        Acceptance::Success(i)
                    }
                }
            })
            .await;
        // The first request answered (a retry), and no second one was sent.
        assert_eq!(r, Err(WaitError::Interrupted { last: Some(0) }));
        // With a deadline too (the create calls' waiter): the request under way answers.
        let stop = Stop::new();
        let w = Waiter::new(Duration::from_secs(3600))
            .with_max_attempts(5)
            .with_stop(stop.clone());
        let r: Result<u32, WaitError<u32>> = w
            .wait(|i| {
                let stop = stop.clone();
                async move {
                    stop.trigger();
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    Acceptance::Success(i)
                }
            })
            .await;
        assert_eq!(r, Ok(0), "the answer of the request under way is kept");
    }

    #[tokio::test(start_paused = true)]
    async fn failure_and_attempts_end_the_wait() {
        let w = Waiter::new(Duration::from_secs(60)).with_max_attempts(3);
        let r: Result<(), WaitError<u32>> = w.wait(|i| async move { Acceptance::Retry(i) }).await;
        assert_eq!(r, Err(WaitError::Exhausted(2)));
        let r: Result<(), WaitError<&str>> =
            w.wait(|_| async { Acceptance::Failure("broken") }).await;
        assert_eq!(r, Err(WaitError::Failed("broken")));
    }
}
