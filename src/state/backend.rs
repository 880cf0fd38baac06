//! One state interface with two implementations — the local SQLite file ([`super::store`])
//! and PostgreSQL for teams ([`super::pg`]) — so the planner and the apply walk do not know
//! which one they use. Both keep the same transitions: lineage, serial bumped on every
//! change, one short transaction per resource transition, a lock naming its holder.

use super::store::{LockInfo, Result};
use super::{OutputState, ResourceState, State};
use crate::addr::ResourceAddr;
use std::collections::BTreeMap;
use std::time::Duration;

/// A place where state lives.
pub trait Backend: Send {
    /// Where it is, for messages (passwords redacted).
    fn describe(&self) -> String;
    /// The whole state.
    fn load(&self) -> Result<State>;
    /// One resource.
    fn get(&self, addr: &ResourceAddr) -> Result<Option<ResourceState>>;
    /// Writes one resource in its own transaction; returns the new serial.
    fn put(&mut self, r: &ResourceState) -> Result<u64>;
    /// Removes one resource; returns the new serial.
    fn remove(&mut self, addr: &ResourceAddr) -> Result<u64>;
    /// Removes `removes` and writes `puts` in one transaction (state mv, rm, moved
    /// blocks): all of it happens, or none. Returns the new serial.
    fn edit(&mut self, puts: &[ResourceState], removes: &[ResourceAddr]) -> Result<u64>;
    /// Replaces the outputs if they changed.
    fn set_outputs(&mut self, outputs: &BTreeMap<String, OutputState>) -> Result<()>;
    /// Records one apply in the history, keeping only the newest `keep` entries.
    fn record_history(&mut self, summary: &str, keep: usize) -> Result<()>;
    /// The history: (serial, time, summary), oldest first.
    fn history(&self) -> Result<Vec<(u64, String, String)>>;
    /// The state as it was after the apply that left serial `serial`, if still kept.
    fn history_snapshot(&self, serial: u64) -> Result<Option<serde_json::Value>>;
    /// Replaces the whole state (push, migrate), keeping the given lineage and serial.
    fn replace_all(&mut self, st: &State) -> Result<()>;
    /// Takes the lock, waiting up to `timeout` for a live holder.
    fn lock(&mut self, operation: &str, timeout: Duration) -> Result<LockInfo>;
    /// Releases a lock this process holds.
    fn unlock(&mut self, id: &str) -> Result<()>;
    /// Releases the lock with this id, whoever holds it; false when no such lock is held.
    fn force_unlock(&mut self, id: &str) -> Result<bool>;
    /// The current holder.
    fn lock_holder(&self) -> Result<Option<LockInfo>>;
    /// The next creation generation of `addr`, recorded at once.
    fn next_generation(&mut self, addr: &ResourceAddr, at_least: u64) -> Result<u64>;
}

impl Backend for super::store::Store {
    fn describe(&self) -> String {
        self.path().display().to_string()
    }
    fn load(&self) -> Result<State> {
        super::store::Store::load(self)
    }
    fn get(&self, addr: &ResourceAddr) -> Result<Option<ResourceState>> {
        super::store::Store::get(self, addr)
    }
    fn put(&mut self, r: &ResourceState) -> Result<u64> {
        super::store::Store::put(self, r)
    }
    fn remove(&mut self, addr: &ResourceAddr) -> Result<u64> {
        super::store::Store::remove(self, addr)
    }
    fn edit(&mut self, puts: &[ResourceState], removes: &[ResourceAddr]) -> Result<u64> {
        super::store::Store::edit(self, puts, removes)
    }
    fn set_outputs(&mut self, outputs: &BTreeMap<String, OutputState>) -> Result<()> {
        super::store::Store::set_outputs(self, outputs)
    }
    fn record_history(&mut self, summary: &str, keep: usize) -> Result<()> {
        super::store::Store::record_history(self, summary, keep)
    }
    fn history(&self) -> Result<Vec<(u64, String, String)>> {
        super::store::Store::history(self)
    }
    fn history_snapshot(&self, serial: u64) -> Result<Option<serde_json::Value>> {
        super::store::Store::history_snapshot(self, serial)
    }
    fn replace_all(&mut self, st: &State) -> Result<()> {
        super::store::Store::replace_all(self, st)
    }
    fn lock(&mut self, operation: &str, timeout: Duration) -> Result<LockInfo> {
        super::store::Store::lock(self, operation, timeout)
    }
    fn unlock(&mut self, id: &str) -> Result<()> {
        super::store::Store::unlock(self, id)
    }
    fn force_unlock(&mut self, id: &str) -> Result<bool> {
        super::store::Store::force_unlock(self, id)
    }
    fn lock_holder(&self) -> Result<Option<LockInfo>> {
        super::store::Store::lock_holder(self)
    }
    fn next_generation(&mut self, addr: &ResourceAddr, at_least: u64) -> Result<u64> {
        super::store::Store::next_generation(self, addr, at_least)
    }
}

/// The state lock of a shared store, held until this guard is dropped: every exit path of
/// a run (an error, a panic, an interrupt) releases it.
pub struct LockGuard {
    store: std::sync::Arc<std::sync::Mutex<Box<dyn Backend>>>,
    id: Option<String>,
}

impl LockGuard {
    /// Takes the lock of `store` for `operation`, waiting up to `timeout`.
    pub fn take(
        store: std::sync::Arc<std::sync::Mutex<Box<dyn Backend>>>,
        operation: &str,
        timeout: Duration,
    ) -> Result<LockGuard> {
        let id = store
            .lock()
            .expect("the state lock is never poisoned")
            .lock(operation, timeout)?
            .id;
        Ok(LockGuard {
            store,
            id: Some(id),
        })
    }

    /// Releases the lock now, reporting a failure to release it.
    pub fn release(mut self) -> Result<()> {
        match self.id.take() {
            Some(id) => self
                .store
                .lock()
                .expect("the state lock is never poisoned")
                .unlock(&id),
            None => Ok(()),
        }
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            if let Ok(mut s) = self.store.lock() {
                let _ = s.unlock(&id);
            }
        }
    }
}

/// The state lock of a store this code owns, held until this guard is dropped.
pub struct Locked<'a> {
    store: &'a mut Box<dyn Backend>,
    id: Option<String>,
}

impl<'a> Locked<'a> {
    /// Takes the lock of `store` for `operation`, waiting up to `timeout`.
    pub fn take(
        store: &'a mut Box<dyn Backend>,
        operation: &str,
        timeout: Duration,
    ) -> Result<Locked<'a>> {
        let id = store.lock(operation, timeout)?.id;
        Ok(Locked {
            store,
            id: Some(id),
        })
    }

    /// Releases the lock now, reporting a failure to release it.
    pub fn release(mut self) -> Result<()> {
        match self.id.take() {
            Some(id) => self.store.unlock(&id),
            None => Ok(()),
        }
    }
}

impl std::ops::Deref for Locked<'_> {
    type Target = Box<dyn Backend>;
    fn deref(&self) -> &Self::Target {
        self.store
    }
}

impl std::ops::DerefMut for Locked<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.store
    }
}

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let _ = self.store.unlock(&id);
        }
    }
}

/// How many applies the history keeps when the configuration does not say
/// (`imgform { history_retention = N }`).
pub const DEFAULT_HISTORY_RETENTION: usize = 10;

/// Hides the password of a PostgreSQL connection string (URL or key=value form).
pub fn redact_conn_str(s: &str) -> String {
    let re_url = regex::Regex::new(r"(://[^:/@]+:)[^@]*@").expect("a valid regex");
    let re_kv = regex::Regex::new(r"(password\s*=\s*)('[^']*'|\S+)").expect("a valid regex");
    let s = re_url.replace(s, "${1}***@");
    re_kv.replace_all(&s, "${1}***").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_never_printed() {
        assert_eq!(
            redact_conn_str("postgres://bob:s3cret@db:5432/state"),
            "postgres://bob:***@db:5432/state"
        );
        assert_eq!(
            redact_conn_str("host=db user=bob password=s3cret dbname=x"),
            "host=db user=bob password=*** dbname=x"
        );
        assert_eq!(
            redact_conn_str("postgres://db/state"),
            "postgres://db/state"
        );
    }
}
