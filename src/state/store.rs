//! The SQLite state store: append-only migrations keyed by `PRAGMA user_version`, WAL,
//! file mode 0600, one short transaction per transition (never held across a network
//! call), serial bumped on every change, history per apply, and a lock with id, holder,
//! operation and time.
//!
//! A lock left by a process that died on this host (kill -9) is taken over, because the
//! next `apply` must be able to resume; a live holder makes a second process wait up to the
//! lock timeout and then fail naming it. `force-unlock` needs the lock id.

use super::{Attrs, OutputState, ResourceState, State, Status};
use crate::addr::ResourceAddr;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// State store errors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error("state database {path}: {source}")]
    Sqlite {
        /// The file.
        path: String,
        /// The cause.
        source: rusqlite::Error,
    },
    /// Someone else holds the lock.
    #[error("the state is locked by {who} ({operation}, since {created}, lock id {id}); wait for it to finish, or if that process is gone run `imgform force-unlock {id}`")]
    Locked {
        /// Lock id.
        id: String,
        /// Holder.
        who: String,
        /// What it does.
        operation: String,
        /// When it took the lock.
        created: String,
    },
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Migrations: never remove or edit an entry; only append.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
     CREATE TABLE resources (
        address TEXT PRIMARY KEY, type TEXT NOT NULL, provider TEXT NOT NULL, region TEXT NOT NULL,
        cloud_id TEXT, status TEXT NOT NULL, client_token TEXT, generation INTEGER NOT NULL,
        attributes TEXT NOT NULL, dependencies TEXT NOT NULL, pending_request TEXT, updated TEXT NOT NULL);
     CREATE TABLE outputs (name TEXT PRIMARY KEY, value TEXT NOT NULL, sensitive INTEGER NOT NULL);
     CREATE TABLE history (serial INTEGER NOT NULL, time TEXT NOT NULL, summary TEXT NOT NULL, snapshot TEXT NOT NULL);
     CREATE TABLE lock (one INTEGER PRIMARY KEY CHECK (one = 1), id TEXT NOT NULL, who TEXT NOT NULL,
        operation TEXT NOT NULL, created TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL);",
    // Creation generations per address, never decreasing, so that a ClientToken is never
    // reused for a different request even after the object's row is gone.
    "CREATE TABLE generations (address TEXT PRIMARY KEY, generation INTEGER NOT NULL);",
];

/// The store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

fn now_iso() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "localhost".into())
}

fn pid_alive(pid: i64) -> bool {
    if cfg!(target_os = "linux") {
        // A zombie (killed, not yet reaped) is not alive either.
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !stat
                .rsplit(')')
                .next()
                .is_some_and(|rest| rest.trim_start().starts_with('Z')),
            Err(_) => false,
        }
    } else {
        true
    }
}

impl Store {
    /// Opens or creates the state at `path` (mode 0600), migrating it.
    ///
    /// A new state is made complete (tables, lineage) under a temporary name and then
    /// linked into place, so a file at `path` is never a half-made state. A file that is
    /// there but empty, a state without a lineage, and a state written by a newer imgform
    /// are errors: imgform never starts a new state over an old one, nor drops what it does
    /// not understand.
    pub fn open(path: &Path) -> Result<Store> {
        let e = |source| Error::Sqlite {
            path: path.display().to_string(),
            source,
        };
        if !path.exists() {
            create_fresh(path)?;
        } else if std::fs::metadata(path).map(|m| m.len()).unwrap_or(1) == 0 {
            return Err(Error::Other(format!(
                "the state file {} is empty (0 bytes): it was truncated or damaged, and imgform will not start a new state over it; restore it from a backup (or `imgform state push` a copy), or delete the file if it never held a state",
                path.display()
            )));
        }
        let mut conn = Connection::open(path).map_err(e)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(e)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(e)?;
        if version > MIGRATIONS.len() as i64 {
            return Err(Error::Other(format!(
                "the state {} was written by a newer imgform (state format {version}; this imgform knows formats up to {}): upgrade imgform to use it; it was not read or changed",
                path.display(),
                MIGRATIONS.len()
            )));
        }
        conn.pragma_update(None, "journal_mode", "WAL").map_err(e)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(e)?;
        migrate(&mut conn).map_err(e)?;
        let s = Store {
            conn,
            path: path.to_path_buf(),
        };
        if s.meta("lineage")?.is_none() {
            return Err(Error::Other(format!(
                "the state {} has no lineage: it is damaged or is not an imgform state; restore it from a backup",
                path.display()
            )));
        }
        Ok(s)
    }

    /// Runs `f` in one IMMEDIATE transaction and commits it. Every state write goes through
    /// here: each is atomic, and the kill harness's `state_write:N` point sits before each
    /// commit.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let path = self.path.display().to_string();
        let e = |source| Error::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        let out = f(&tx).map_err(e)?;
        crate::crash::state_write();
        tx.commit().map_err(e)?;
        Ok(out)
    }

    fn err(&self, source: rusqlite::Error) -> Error {
        Error::Sqlite {
            path: self.path.display().to_string(),
            source,
        }
    }

    fn meta(&self, key: &str) -> Result<Option<String>> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// The path of the database.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the whole state.
    pub fn load(&self) -> Result<State> {
        self.load_where(None)
    }

    fn load_where(&self, only: Option<&ResourceAddr>) -> Result<State> {
        let lineage = self.meta("lineage")?.unwrap_or_default();
        let serial = self
            .meta("serial")?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut st = State {
            lineage,
            serial,
            ..State::default()
        };
        // Two statements rather than `?1 IS NULL OR address = ?1`, which SQLite plans as a
        // full scan: one row is read through the primary key.
        const COLS: &str = "SELECT address, type, provider, region, cloud_id, status, client_token, generation, attributes, dependencies, pending_request FROM resources";
        let (sql, arg): (String, Vec<String>) = match only {
            Some(a) => (format!("{COLS} WHERE address = ?1"), vec![a.to_string()]),
            None => (format!("{COLS} ORDER BY address"), vec![]),
        };
        let mut q = self.conn.prepare_cached(&sql).map_err(|e| self.err(e))?;
        let rows = q
            .query_map(rusqlite::params_from_iter(arg), |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, String>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, Option<String>>(10)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        // Collected, then built into the map in one pass: a B-tree filled row by row
        // leaves its nodes about half empty (47 MB of node space for 50,000 rows), one
        // built from sorted rows packs them.
        let mut loaded = Vec::new();
        for row in rows {
            let (addr, kind, provider, region, id, status, token, generation, attrs, deps, pending) =
                row.map_err(|e| self.err(e))?;
            let addr: ResourceAddr = addr
                .parse()
                .map_err(|e| Error::Other(format!("corrupt state row: {e}")))?;
            let status = Status::parse(&status).ok_or_else(|| {
                Error::Other(format!("corrupt state row {addr}: status {status:?}"))
            })?;
            loaded.push((
                addr.clone(),
                ResourceState {
                    addr,
                    kind,
                    provider,
                    region,
                    id,
                    status,
                    client_token: token,
                    generation: generation as u64,
                    attrs: Attrs::from_text(attrs)
                        .map_err(|e| Error::Other(format!("corrupt attributes: {e}")))?,
                    deps: serde_json::from_str(&deps).unwrap_or_default(),
                    pending: pending.and_then(|p| serde_json::from_str(&p).ok()),
                },
            ));
        }
        st.resources = loaded.into_iter().collect();
        if only.is_some() {
            return Ok(st);
        }
        let mut q = self
            .conn
            .prepare_cached("SELECT address, generation FROM generations")
            .map_err(|e| self.err(e))?;
        let rows = q
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (a, g) = row.map_err(|e| self.err(e))?;
            st.generations.insert(a, g.max(0) as u64);
        }
        let mut q = self
            .conn
            .prepare_cached("SELECT name, value, sensitive FROM outputs ORDER BY name")
            .map_err(|e| self.err(e))?;
        let rows = q
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        for row in rows {
            let (name, value, sensitive) = row.map_err(|e| self.err(e))?;
            st.outputs.insert(
                name,
                OutputState {
                    value: serde_json::from_str(&value).unwrap_or(serde_json::Value::Null),
                    sensitive,
                },
            );
        }
        Ok(st)
    }

    fn bump(tx: &rusqlite::Transaction) -> rusqlite::Result<u64> {
        tx.prepare_cached(
            "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'serial'",
        )?
        .execute([])?;
        tx.prepare_cached("SELECT value FROM meta WHERE key = 'serial'")?
            .query_row([], |r| r.get::<_, String>(0))
            .map(|s| s.parse().unwrap_or(0))
    }

    /// One resource, without loading the whole state.
    pub fn get(&self, addr: &ResourceAddr) -> Result<Option<ResourceState>> {
        let st = self.load_where(Some(addr))?;
        Ok(st.resources.into_values().next())
    }

    /// Writes one resource in its own transaction; returns the new serial.
    pub fn put(&mut self, r: &ResourceState) -> Result<u64> {
        self.write(|tx| {
            insert_resource(tx, r)?;
            let serial = Self::bump(tx)?;
            Ok(serial)
        })
    }

    /// Removes one resource; returns the new serial.
    pub fn remove(&mut self, addr: &ResourceAddr) -> Result<u64> {
        self.write(|tx| {
            remember_generation(tx, &addr.to_string())?;
            tx.execute(
                "DELETE FROM resources WHERE address = ?1",
                [addr.to_string()],
            )?;
            let serial = Self::bump(tx)?;
            Ok(serial)
        })
    }

    /// The next creation generation of `addr` (1 for the first create), recorded at once.
    pub fn next_generation(&mut self, addr: &ResourceAddr, at_least: u64) -> Result<u64> {
        self.write(|tx| {
            let cur: Option<i64> = tx
                .query_row(
                    "SELECT generation FROM generations WHERE address = ?1",
                    [addr.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            let row: Option<i64> = tx
                .query_row(
                    "SELECT generation FROM resources WHERE address = ?1",
                    [addr.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            let next = cur.unwrap_or(0).max(row.unwrap_or(0)).max(at_least as i64) + 1;
            tx.execute(
                "INSERT OR REPLACE INTO generations (address, generation) VALUES (?1, ?2)",
                params![addr.to_string(), next],
            )?;
            Ok(next as u64)
        })
    }

    /// Replaces the outputs if they changed.
    pub fn set_outputs(
        &mut self,
        outputs: &std::collections::BTreeMap<String, OutputState>,
    ) -> Result<()> {
        let current = self.load()?.outputs;
        if &current == outputs {
            return Ok(());
        }
        self.write(|tx| {
            tx.execute("DELETE FROM outputs", [])?;
            for (k, v) in outputs {
                tx.execute(
                    "INSERT INTO outputs (name, value, sensitive) VALUES (?1, ?2, ?3)",
                    params![k, v.value.to_string(), v.sensitive],
                )?;
            }
            Self::bump(tx)?;
            Ok(())
        })
    }

    /// Records one apply in the history and keeps only the newest `keep` entries.
    pub fn record_history(&mut self, summary: &str, keep: usize) -> Result<()> {
        let st = self.load()?;
        self.write(|tx| {
        tx.execute(
            "INSERT INTO history (serial, time, summary, snapshot) VALUES (?1, ?2, ?3, ?4)",
            params![
                st.serial as i64,
                now_iso(),
                summary,
                st.to_json().to_string()
            ],
        )
        ?;
        tx.execute(
            "DELETE FROM history WHERE rowid NOT IN (SELECT rowid FROM history ORDER BY rowid DESC LIMIT ?1)",
            [keep.max(1) as i64],
        )
        ?;
        Ok(())
        })
    }

    /// The history: (serial, time, summary), oldest first.
    pub fn history(&self) -> Result<Vec<(u64, String, String)>> {
        let mut q = self
            .conn
            .prepare("SELECT serial, time, summary FROM history ORDER BY rowid")
            .map_err(|e| self.err(e))?;
        let rows = q
            .query_map([], |r| {
                Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))
    }

    /// The state as it was after the apply that left serial `serial`, if still kept.
    pub fn history_snapshot(&self, serial: u64) -> Result<Option<serde_json::Value>> {
        let snap: Option<String> = self
            .conn
            .query_row(
                "SELECT snapshot FROM history WHERE serial = ?1 ORDER BY rowid DESC LIMIT 1",
                [serial as i64],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        snap.map(|s| {
            serde_json::from_str(&s).map_err(|e| Error::Other(format!("corrupt history: {e}")))
        })
        .transpose()
    }

    /// Replaces the whole state (state push, migrate) in one transaction, keeping the
    /// lineage and serial given: a crash leaves the old state or the new one, never a mix.
    pub fn replace_all(&mut self, st: &State) -> Result<()> {
        self.write(|tx| {
        tx.execute(
            "INSERT INTO generations (address, generation) SELECT address, generation FROM resources WHERE true
             ON CONFLICT(address) DO UPDATE SET generation = MAX(generation, excluded.generation)",
            [],
        )
        ?;
        tx.execute("DELETE FROM resources", [])?;
        tx.execute("DELETE FROM outputs", [])?;
        for r in st.resources.values() {
            insert_resource(tx, r)?;
        }
        // Generations never go back: the pushed state's, its rows', and this one's.
        let pushed = st.generations.iter().map(|(a, g)| (a.clone(), *g)).chain(
            st.resources
                .values()
                .map(|r| (r.addr.to_string(), r.generation)),
        );
        for (a, g) in pushed {
            tx.execute(
                "INSERT INTO generations (address, generation) VALUES (?1, ?2)
                 ON CONFLICT(address) DO UPDATE SET generation = MAX(generation, excluded.generation)",
                params![a, g as i64],
            )
            ?;
        }
        for (k, v) in &st.outputs {
            tx.execute(
                "INSERT INTO outputs (name, value, sensitive) VALUES (?1, ?2, ?3)",
                params![k, v.value.to_string(), v.sensitive],
            )
            ?;
        }
        tx.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'lineage'",
            [&st.lineage],
        )
        ?;
        tx.execute(
            "UPDATE meta SET value = ?1 WHERE key = 'serial'",
            [st.serial.to_string()],
        )
        ?;
        Ok(())
        })
    }

    /// Writes and removes several resources in one transaction (state mv, rm, moved
    /// blocks): all of it happens, or none. Returns the new serial.
    pub fn edit(&mut self, puts: &[ResourceState], removes: &[ResourceAddr]) -> Result<u64> {
        self.write(|tx| {
            for a in removes {
                remember_generation(tx, &a.to_string())?;
                tx.execute("DELETE FROM resources WHERE address = ?1", [a.to_string()])?;
            }
            for r in puts {
                insert_resource(tx, r)?;
            }
            let serial = Self::bump(tx)?;
            Ok(serial)
        })
    }

    /// Takes the lock for `operation`, waiting up to `timeout` for a live holder.
    pub fn lock(&mut self, operation: &str, timeout: Duration) -> Result<LockInfo> {
        let start = Instant::now();
        let me = LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            who: format!(
                "{}@{} (pid {})",
                std::env::var("USER").unwrap_or_else(|_| "imgform".into()),
                host(),
                std::process::id()
            ),
            operation: operation.into(),
            created: now_iso(),
        };
        loop {
            let path = self.path.display().to_string();
            let e = |source| Error::Sqlite {
                path: path.clone(),
                source,
            };
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(e)?;
            let holder: Option<(String, String, String, String, i64, String)> = tx
                .query_row(
                    "SELECT id, who, operation, created, pid, host FROM lock WHERE one = 1",
                    [],
                    |r| {
                        Ok((
                            r.get(0)?,
                            r.get(1)?,
                            r.get(2)?,
                            r.get(3)?,
                            r.get(4)?,
                            r.get(5)?,
                        ))
                    },
                )
                .optional()
                .map_err(e)?;
            let free = match &holder {
                None => true,
                Some((_, who, _, _, pid, h)) => {
                    let dead = *h == host() && !pid_alive(*pid);
                    if dead {
                        tracing::warn!(
                            "taking over the state lock of {who}, which is no longer running"
                        );
                    }
                    dead
                }
            };
            if free {
                tx.execute(
                    "INSERT OR REPLACE INTO lock (one, id, who, operation, created, pid, host) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
                    params![me.id, me.who, me.operation, me.created, std::process::id() as i64, host()],
                )
                .map_err(e)?;
                tx.commit().map_err(e)?;
                return Ok(me);
            }
            drop(tx);
            let (id, who, operation, created, _, _) = holder.expect("not free means held");
            if start.elapsed() >= timeout {
                return Err(Error::Locked {
                    id,
                    who,
                    operation,
                    created,
                });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Releases a lock this process holds.
    pub fn unlock(&mut self, id: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM lock WHERE id = ?1", [id])
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Releases any lock with id `id` (`force-unlock`); false when no such lock is held.
    pub fn force_unlock(&mut self, id: &str) -> Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM lock WHERE id = ?1", [id])
            .map_err(|e| self.err(e))?;
        Ok(n > 0)
    }

    /// The current lock holder, if any.
    pub fn lock_holder(&self) -> Result<Option<LockInfo>> {
        self.conn
            .query_row(
                "SELECT id, who, operation, created FROM lock WHERE one = 1",
                [],
                |r| {
                    Ok(LockInfo {
                        id: r.get(0)?,
                        who: r.get(1)?,
                        operation: r.get(2)?,
                        created: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }
}

/// Who holds the lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockInfo {
    /// Lock id (needed by `force-unlock`).
    pub id: String,
    /// Holder: user@host (pid).
    pub who: String,
    /// Operation (`plan`, `apply`, ...).
    pub operation: String,
    /// When it was taken.
    pub created: String,
}

/// Makes a complete new state at `path`: built under a temporary name, then hard-linked
/// into place (which fails if another process made one first, whose state then wins).
fn create_fresh(path: &Path) -> Result<()> {
    let other = |m: String| Error::Other(m);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|x| other(format!("cannot create {}: {x}", dir.display())))?;
    }
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".new-{}", std::process::id()));
    let tmp = path.with_file_name(name);
    let _ = std::fs::remove_file(&tmp);
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(&tmp)
        .map_err(|x| other(format!("cannot create {}: {x}", tmp.display())))?;
    let built = (|| -> rusqlite::Result<()> {
        let mut conn = Connection::open(&tmp)?;
        migrate(&mut conn)?;
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('lineage', ?1), ('serial', '0')",
            params![uuid::Uuid::new_v4().to_string()],
        )?;
        conn.close().map_err(|(_, e)| e)
    })();
    if let Err(x) = built {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::Sqlite {
            path: tmp.display().to_string(),
            source: x,
        });
    }
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(()),
        Err(x) if x.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(x) => Err(other(format!("cannot create {}: {x}", path.display()))),
    }
}

/// Keeps the generation of a row about to be deleted, so that a later create at the same
/// address takes a higher one (and a new ClientToken).
fn remember_generation(tx: &rusqlite::Transaction, addr: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO generations (address, generation) SELECT address, generation FROM resources WHERE address = ?1
         ON CONFLICT(address) DO UPDATE SET generation = MAX(generation, excluded.generation)",
        [addr],
    )
    .map(|_| ())
}

fn insert_resource(tx: &rusqlite::Transaction, r: &ResourceState) -> rusqlite::Result<()> {
    tx.prepare_cached(
        "INSERT OR REPLACE INTO resources (address, type, provider, region, cloud_id, status, client_token, generation, attributes, dependencies, pending_request, updated)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
            r.addr.to_string(),
            r.kind,
            r.provider,
            r.region,
            r.id,
            r.status.as_str(),
            r.client_token,
            r.generation as i64,
            r.attrs.to_string(),
            serde_json::to_string(&r.deps).expect("strings serialise"),
            r.pending.as_ref().map(|p| p.to_string()),
            now_iso(),
        ],
    )?;
    // Every generation a row was written with stays used, so that an in-memory allocation
    // (the apply's ledger) that starts above the remembered one never reissues a
    // ClientToken a committed pending row carried.
    tx.prepare_cached(
        "INSERT INTO generations (address, generation) VALUES (?1, ?2)
         ON CONFLICT(address) DO UPDATE SET generation = MAX(generation, excluded.generation)",
    )?
    .execute(params![r.addr.to_string(), r.generation as i64])
    .map(|_| ())
}

fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let v: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, m) in MIGRATIONS.iter().enumerate().skip(v.max(0) as usize) {
        tx.execute_batch(m)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rs(addr: &str) -> ResourceState {
        ResourceState {
            addr: addr.parse().expect("addr"),
            kind: "alicloud_image".into(),
            provider: "alicloud".into(),
            region: "cn-hangzhou".into(),
            id: None,
            status: Status::Creating,
            client_token: Some("tok".into()),
            generation: 1,
            attrs: serde_json::json!({"image_name": "x"}).into(),
            deps: vec![],
            pending: Some(Box::new(serde_json::json!([["RegionId", "cn-hangzhou"]]))),
        }
    }

    #[test]
    fn round_trips_and_bumps_serial() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("s.db");
        let mut s = Store::open(&p).expect("open");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&p).expect("meta").permissions().mode() & 0o777,
                0o600
            );
        }
        let lineage = s.load().expect("load").lineage;
        assert!(!lineage.is_empty());
        let mut r = rs("alicloud_image.a");
        assert_eq!(s.put(&r).expect("put"), 1);
        r.id = Some("m-1".into());
        r.status = Status::Ready;
        assert_eq!(s.put(&r).expect("put"), 2);
        let st = s.load().expect("load");
        assert_eq!(st.resources[&r.addr], r);
        assert_eq!(st.lineage, lineage);
        s.remove(&r.addr).expect("rm");
        assert!(s.load().expect("load").resources.is_empty());
        drop(s);
        let s = Store::open(&p).expect("reopen migrates nothing twice");
        assert_eq!(s.load().expect("load").serial, 3);
    }

    #[test]
    fn migrate_twice() {
        let mut c = Connection::open_in_memory().expect("mem");
        migrate(&mut c).expect("first");
        migrate(&mut c).expect("second");
        let v: i64 = c
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(v, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_newer_empty_or_lineageless_state_is_refused_not_replaced() {
        let d = tempfile::tempdir().expect("tmp");
        // Written by a newer imgform: refused, and left as it was.
        let p = d.path().join("newer.db");
        Store::open(&p).expect("new");
        {
            let c = Connection::open(&p).expect("open");
            c.pragma_update(None, "user_version", MIGRATIONS.len() as i64 + 1)
                .expect("bump");
        }
        let e = Store::open(&p).err().expect("refused").to_string();
        assert!(e.contains("written by a newer imgform"), "{e}");
        let v: i64 = Connection::open(&p)
            .expect("open")
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .expect("version");
        assert_eq!(
            v,
            MIGRATIONS.len() as i64 + 1,
            "not migrated down or changed"
        );
        // A truncated file is not a new state.
        let p = d.path().join("empty.db");
        std::fs::write(&p, b"").expect("write");
        let e = Store::open(&p).err().expect("refused").to_string();
        assert!(e.contains("is empty (0 bytes)"), "{e}");
        assert_eq!(std::fs::metadata(&p).expect("meta").len(), 0, "untouched");
        // A state whose lineage is gone.
        let p = d.path().join("nolineage.db");
        Store::open(&p).expect("new");
        Connection::open(&p)
            .expect("open")
            .execute("DELETE FROM meta WHERE key = 'lineage'", [])
            .expect("delete");
        let e = Store::open(&p).err().expect("refused").to_string();
        assert!(e.contains("has no lineage"), "{e}");
    }

    #[test]
    fn a_new_state_is_complete_when_it_appears_and_keeps_its_lineage() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("s.db");
        let a = Store::open(&p).expect("new").load().expect("load").lineage;
        let b = Store::open(&p)
            .expect("again")
            .load()
            .expect("load")
            .lineage;
        assert_eq!(a, b);
        let left: Vec<_> = std::fs::read_dir(d.path())
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".new-"))
            .collect();
        assert!(left.is_empty(), "no temporary file is left: {left:?}");
    }

    #[test]
    fn generations_survive_deletion_push_and_migration() {
        let d = tempfile::tempdir().expect("tmp");
        let a: ResourceAddr = "alicloud_image.a".parse().expect("addr");
        let mut s = Store::open(&d.path().join("one.db")).expect("open");
        let mut r = rs("alicloud_image.a");
        r.generation = 3;
        s.put(&r).expect("put");
        s.remove(&a).expect("remove");
        // The row is gone; its generation is not.
        let st = s.load().expect("load");
        assert_eq!(st.generations.get("alicloud_image.a"), Some(&3));
        // Pushed (or migrated) into a new state, through JSON, the next create at that
        // address still takes a new generation, so a new ClientToken.
        let json = st.to_json();
        let back = State::from_json(&json).expect("parses");
        let mut other = Store::open(&d.path().join("two.db")).expect("open");
        other.replace_all(&back).expect("push");
        assert_eq!(other.next_generation(&a, 0).expect("next"), 4);
        // A state from a newer imgform is refused, not misread.
        let mut newer = json.clone();
        newer["version"] = serde_json::json!(super::super::STATE_JSON_VERSION + 1);
        assert!(State::from_json(&newer)
            .expect_err("refused")
            .contains("newer imgform"));
    }

    #[test]
    fn edits_and_replacements_are_one_transaction() {
        let d = tempfile::tempdir().expect("tmp");
        let mut s = Store::open(&d.path().join("s.db")).expect("open");
        s.put(&rs("alicloud_image.a")).expect("put");
        let before = s.load().expect("load").serial;
        let mut b = rs("alicloud_image.b");
        b.id = Some("m-a".into());
        let serial = s
            .edit(&[b], &["alicloud_image.a".parse().expect("addr")])
            .expect("edit");
        assert_eq!(serial, before + 1, "one change, one serial");
        let st = s.load().expect("load");
        assert_eq!(
            st.resources
                .keys()
                .map(|k| k.to_string())
                .collect::<Vec<_>>(),
            ["alicloud_image.b"]
        );
        let mut other = st.clone();
        other.serial = 40;
        other.resources.clear();
        other.resources.insert(
            "alicloud_image.c".parse().expect("addr"),
            rs("alicloud_image.c"),
        );
        s.replace_all(&other).expect("replace");
        let st = s.load().expect("load");
        assert_eq!(st.serial, 40);
        assert_eq!(st.resources.len(), 1);
    }

    #[test]
    fn second_locker_waits_then_fails_naming_the_holder() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("s.db");
        let mut a = Store::open(&p).expect("a");
        let mut b = Store::open(&p).expect("b");
        let held = a.lock("apply", Duration::ZERO).expect("first lock");
        let err = b
            .lock("plan", Duration::from_millis(250))
            .expect_err("held");
        let msg = err.to_string();
        assert!(msg.contains(&held.id) && msg.contains("apply"), "{msg}");
        a.unlock(&held.id).expect("unlock");
        let got = b.lock("plan", Duration::ZERO).expect("free now");
        assert!(b.force_unlock(&got.id).expect("force"));
        assert!(!b.force_unlock("nope").expect("no such lock"));
    }

    #[test]
    fn a_dead_holders_lock_is_taken_over() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path().join("s.db");
        let mut a = Store::open(&p).expect("a");
        a.conn
            .execute("INSERT INTO lock (one, id, who, operation, created, pid, host) VALUES (1, 'old', 'ghost', 'apply', 'then', 999999999, ?1)", [host()])
            .expect("insert");
        let got = a.lock("apply", Duration::ZERO).expect("taken over");
        assert_ne!(got.id, "old");
    }
}

#[cfg(test)]
mod lock_guard_tests {
    use super::*;
    use crate::state::backend::{Backend, LockGuard, Locked};
    use std::time::Duration;

    #[test]
    fn the_lock_guards_release_the_lock_on_every_exit_path() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut store: Box<dyn Backend> =
            Box::new(Store::open(&dir.path().join("s.db")).expect("open"));
        // A panic while the lock is held still releases it.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _locked = Locked::take(&mut store, "state mv", Duration::ZERO).expect("lock");
            panic!("a bug half-way through");
        }));
        assert!(r.is_err());
        assert!(store.lock_holder().expect("holder").is_none());
        let shared = std::sync::Arc::new(std::sync::Mutex::new(store));
        {
            let _g = LockGuard::take(shared.clone(), "apply", Duration::ZERO).expect("lock");
            let held = shared.lock().expect("lock").lock_holder().expect("holder");
            assert_eq!(held.map(|h| h.operation), Some("apply".to_string()));
            // A second taker is refused while it is held.
            assert!(LockGuard::take(shared.clone(), "plan", Duration::ZERO).is_err());
        }
        assert!(shared
            .lock()
            .expect("lock")
            .lock_holder()
            .expect("holder")
            .is_none());
    }
}
