//! The walk's state: every row in memory, and every write grouped with the writes that
//! arrive with it.
//!
//! An apply of N objects makes about 2N state transitions (the pending row, then the
//! finished one). Each used to be its own transaction, taken with the store's lock on an
//! async worker, and every read of a row or of the whole state went back to the database.
//! Here the rows are loaded once into a mirror that reads cost nothing; writes go to one
//! writer task, which commits everything queued at that moment in one transaction (a
//! group commit, on tokio's blocking pool, never on an async worker) and only then
//! updates the mirror and answers each writer.
//!
//! The crash rule holds: a task continues only after its transition is committed, each
//! transition is in exactly one transaction, and a transaction holds at most one
//! transition per address (a second one for the same address waits for the next commit),
//! so whatever a kill leaves is a state some order of the transitions passed through.

use super::eval::{evaluate_instance, known_from_state_where, put_known, remove_known};
use super::SharedStore;
use crate::addr::{ResourceAddr, ResourceId};
use crate::config::check::{Evaluated, Node};
use crate::state::{ResourceState, State};
use crate::value::Value;
use serde_json::{Map, Value as J};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, oneshot};

/// One state transition: rows written and rows removed, committed together.
struct Job {
    puts: Vec<ResourceState>,
    removes: Vec<ResourceAddr>,
    done: oneshot::Sender<Result<(), String>>,
}

impl Job {
    fn addresses(&self) -> impl Iterator<Item = &ResourceAddr> {
        self.puts.iter().map(|r| &r.addr).chain(&self.removes)
    }
}

/// The rows as last committed, and (given the configuration) the values expressions see
/// of them, updated with each commit.
struct Mirror {
    state: State,
    known: Option<Known>,
}

/// The values expressions see, of the resources something refers to (an apply of 10,000
/// images nothing refers to converts none of them).
struct Known {
    ev: Arc<Evaluated>,
    read: HashSet<ResourceId>,
    values: BTreeMap<ResourceId, Value>,
}

impl Mirror {
    fn apply(&mut self, puts: Vec<ResourceState>, removes: &[ResourceAddr]) {
        for a in removes {
            self.state.resources.remove(a);
            if let Some(k) = self.known.as_mut().filter(|k| k.read.contains(&a.id)) {
                remove_known(&k.ev, &mut k.values, a);
            }
        }
        for p in puts {
            if let Some(k) = self.known.as_mut().filter(|k| k.read.contains(&p.addr.id)) {
                put_known(&k.ev, &mut k.values, &p);
            }
            self.state.resources.insert(p.addr.clone(), p);
        }
    }
}

/// The walk's state (see the module's documentation).
pub(super) struct Ledger {
    mirror: Arc<Mutex<Mirror>>,
    jobs: Mutex<Option<mpsc::UnboundedSender<Job>>>,
    /// The first write that failed, so that the run's last line can say the state does not
    /// record everything.
    failed_write: Mutex<Option<String>>,
}

impl Ledger {
    /// Loads the state once and starts the writer (on the current tokio runtime). With
    /// the configuration, it also keeps the values expressions see up to date, for
    /// [`Ledger::evaluate`].
    pub fn open(store: SharedStore, ev: Option<Arc<Evaluated>>) -> Result<Ledger, String> {
        let state = store
            .lock()
            .expect("the state lock is never poisoned")
            .load()
            .map_err(|e| e.to_string())?;
        let known = ev.map(|ev| {
            let read: HashSet<ResourceId> = ev
                .config
                .resources
                .keys()
                .filter(|id| {
                    !ev.graph
                        .dependents(&Node::Resource((*id).clone()))
                        .is_empty()
                })
                .cloned()
                .collect();
            let values = known_from_state_where(&ev, &state, |id| read.contains(id));
            Known { ev, read, values }
        });
        let mirror = Arc::new(Mutex::new(Mirror { state, known }));
        let (tx, rx) = mpsc::unbounded_channel::<Job>();
        tokio::spawn(write_loop(store, mirror.clone(), rx));
        Ok(Ledger {
            mirror,
            jobs: Mutex::new(Some(tx)),
            failed_write: Mutex::new(None),
        })
    }

    /// Commits one transition; returns once it is in the database.
    async fn commit(
        &self,
        puts: Vec<ResourceState>,
        removes: Vec<ResourceAddr>,
    ) -> Result<(), String> {
        let (done, answer) = oneshot::channel();
        let sent = self
            .jobs
            .lock()
            .expect("the ledger lock is never poisoned")
            .as_ref()
            .map(|tx| {
                tx.send(Job {
                    puts,
                    removes,
                    done,
                })
                .is_ok()
            });
        let r = if sent != Some(true) {
            Err("the state writer has stopped".into())
        } else {
            answer
                .await
                .unwrap_or_else(|_| Err("the state writer stopped before committing".into()))
        };
        if let Err(e) = &r {
            self.failed_write
                .lock()
                .expect("the ledger lock is never poisoned")
                .get_or_insert_with(|| e.clone());
        }
        r
    }

    /// The first state write of the run that failed, if one did.
    pub fn failed_write(&self) -> Option<String> {
        self.failed_write
            .lock()
            .expect("the ledger lock is never poisoned")
            .clone()
    }

    /// Writes one row (one transition).
    pub async fn put(&self, r: &ResourceState) -> Result<(), String> {
        self.commit(vec![r.clone()], vec![]).await
    }

    /// Removes one row (one transition).
    pub async fn remove(&self, a: &ResourceAddr) -> Result<(), String> {
        self.commit(vec![], vec![a.clone()]).await
    }

    /// The generation of `addr`'s next create (its ClientToken's seed): above every
    /// generation the state remembers for it, its row's, `at_least`, and any handed out in
    /// this run. It is stored with the pending row that carries it (every row written
    /// raises its address's remembered generation in the same transaction), so no commit
    /// of its own is needed: a generation whose row was never committed was never sent.
    pub fn next_generation(&self, addr: &ResourceAddr, at_least: u64) -> u64 {
        let mut m = self
            .mirror
            .lock()
            .expect("the ledger lock is never poisoned");
        let key = addr.to_string();
        let next = m
            .state
            .generations
            .get(&key)
            .copied()
            .unwrap_or(0)
            .max(m.state.resources.get(addr).map_or(0, |r| r.generation))
            .max(at_least)
            + 1;
        m.state.generations.insert(key, next);
        next
    }

    /// One row as last committed.
    pub fn row(&self, a: &ResourceAddr) -> Option<ResourceState> {
        self.mirror
            .lock()
            .expect("the ledger lock is never poisoned")
            .state
            .resources
            .get(a)
            .cloned()
    }

    /// Runs `f` over the state as last committed (without copying it). `f` must not wait.
    pub fn with_state<T>(&self, f: impl FnOnce(&State) -> T) -> T {
        f(&self
            .mirror
            .lock()
            .expect("the ledger lock is never poisoned")
            .state)
    }

    /// The values expressions see, as last committed (empty without the configuration).
    pub fn known(&self) -> BTreeMap<ResourceId, Value> {
        self.mirror
            .lock()
            .expect("the ledger lock is never poisoned")
            .known
            .as_ref()
            .map(|k| k.values.clone())
            .unwrap_or_default()
    }

    /// Re-evaluates one instance against the values known now (see
    /// [`evaluate_instance`]). It costs the instance's own dependencies (tens of
    /// microseconds), so it runs in place: handing the worker over for it
    /// (`block_in_place`) was measured to start a thread per evaluation and to add 300 MB
    /// to an apply of 6,000 referencing images.
    pub fn evaluate(&self, addr: &ResourceAddr) -> Result<Map<String, J>, String> {
        let run = || {
            let mut m = self
                .mirror
                .lock()
                .expect("the ledger lock is never poisoned");
            match &mut m.known {
                Some(k) => {
                    let ev = k.ev.clone();
                    evaluate_instance(&ev, &mut k.values, addr)
                }
                None => Err("the walk has no configuration to evaluate".into()),
            }
        };
        run()
    }

    /// Stops the writer. Every write was answered before its task went on, so nothing
    /// is left to commit.
    pub fn close(&self) {
        self.jobs
            .lock()
            .expect("the ledger lock is never poisoned")
            .take();
    }
}

/// The writer: takes every job queued, commits them in one transaction (up to the first
/// job that touches an address already in the batch), then answers them.
async fn write_loop(
    store: SharedStore,
    mirror: Arc<Mutex<Mirror>>,
    mut rx: mpsc::UnboundedReceiver<Job>,
) {
    let mut next: Option<Job> = None;
    loop {
        let first = match next.take() {
            Some(j) => j,
            None => match rx.recv().await {
                Some(j) => j,
                None => return,
            },
        };
        let mut seen: HashSet<ResourceAddr> = first.addresses().cloned().collect();
        let mut batch = vec![first];
        while let Ok(j) = rx.try_recv() {
            if j.addresses().any(|a| seen.contains(a)) {
                next = Some(j);
                break;
            }
            seen.extend(j.addresses().cloned());
            batch.push(j);
        }
        let puts: Vec<ResourceState> = batch.iter().flat_map(|j| j.puts.iter().cloned()).collect();
        let removes: Vec<ResourceAddr> = batch
            .iter()
            .flat_map(|j| j.removes.iter().cloned())
            .collect();
        let (s, m) = (store.clone(), mirror.clone());
        // The commit runs on the blocking pool: it holds the store's lock and waits for
        // the disk, which must not stall an async worker (and tokio's paused test clock
        // does not jump ahead while it runs).
        let r = tokio::task::spawn_blocking(move || {
            let r = s
                .lock()
                .expect("the state lock is never poisoned")
                .edit(&puts, &removes)
                .map(|_| ())
                .map_err(|e| e.to_string());
            if r.is_ok() {
                m.lock()
                    .expect("the ledger lock is never poisoned")
                    .apply(puts, &removes);
            }
            r
        })
        .await
        .unwrap_or_else(|e| Err(format!("the state writer failed: {e}")));
        for j in batch {
            let _ = j.done.send(r.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::store::Store;
    use crate::state::Status;

    fn row(addr: &str, status: Status) -> ResourceState {
        ResourceState::for_test(addr, None, status)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_transitions_are_grouped_and_each_is_committed_before_its_answer() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.db");
        let backend: Box<dyn crate::state::backend::Backend> =
            Box::new(Store::open(&path).expect("store"));
        let store: SharedStore = Arc::new(Mutex::new(backend));
        let serial0 = store.lock().expect("lock").load().expect("load").serial;
        let ledger = Arc::new(Ledger::open(store.clone(), None).expect("ledger"));
        let mut set = tokio::task::JoinSet::new();
        for i in 0..200 {
            let (l, path) = (ledger.clone(), path.clone());
            set.spawn(async move {
                let a = format!("alicloud_image.x[{i}]");
                l.put(&row(&a, Status::Creating)).await.expect("pending");
                if i % 50 == 0 {
                    // Committed before the answer: another connection sees it.
                    let seen = Store::open(&path)
                        .expect("open")
                        .get(&a.parse().expect("address"))
                        .expect("get");
                    assert_eq!(seen.map(|r| r.status), Some(Status::Creating));
                }
                l.put(&row(&a, Status::Ready)).await.expect("ready");
                assert_eq!(
                    l.row(&a.parse().expect("address")).map(|r| r.status),
                    Some(Status::Ready)
                );
            });
        }
        while let Some(r) = set.join_next().await {
            r.expect("task");
        }
        let st = Store::open(&path).expect("reopen").load().expect("load");
        assert_eq!(st.resources.len(), 200);
        assert!(st.resources.values().all(|r| r.status == Status::Ready));
        let commits = st.serial - serial0;
        assert!(
            (1..400).contains(&commits),
            "400 transitions in {commits} commits: concurrent ones share a transaction"
        );
        // Two transitions of one address are never in one transaction, and a removal
        // after a write wins.
        let a: ResourceAddr = "alicloud_image.x[0]".parse().expect("address");
        let tainted = row("alicloud_image.x[0]", Status::Tainted);
        let (p, r) = tokio::join!(ledger.put(&tainted), ledger.remove(&a));
        p.expect("put");
        r.expect("remove");
        assert!(ledger.row(&a).is_none());
        ledger.close();
        let st = Store::open(&path).expect("reopen").load().expect("load");
        assert!(!st.resources.contains_key(&a));
        assert_eq!(st.resources.len(), 199);
    }

    #[tokio::test]
    async fn a_generation_a_committed_row_carried_is_never_handed_out_again() {
        // A create_before_destroy whose create is refused puts the old row (generation 2)
        // back over the pending one (generation 5): the next create must still go above 5,
        // or it would reuse the refused request's ClientToken.
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("s.db");
        let backend: Box<dyn crate::state::backend::Backend> =
            Box::new(Store::open(&path).expect("store"));
        let store: SharedStore = Arc::new(Mutex::new(backend));
        let a: ResourceAddr = "alicloud_image.x".parse().expect("address");
        let ledger = Ledger::open(store.clone(), None).expect("ledger");
        let mut old = row("alicloud_image.x", Status::Ready);
        old.generation = 2;
        ledger.put(&old).await.expect("old");
        let g = ledger.next_generation(&a, 0);
        assert_eq!(g, 3);
        let mut pending = row("alicloud_image.x", Status::Creating);
        pending.generation = 5;
        ledger.put(&pending).await.expect("pending");
        ledger.put(&old).await.expect("restored");
        ledger.close();
        // A later run (a fresh ledger over the same state) starts above 5.
        let again = Ledger::open(store, None).expect("ledger");
        assert_eq!(again.next_generation(&a, 0), 6);
    }
}
