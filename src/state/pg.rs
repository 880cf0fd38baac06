//! Team state on PostgreSQL: the same tables and transitions as the local file, per
//! workspace, in a schema of its own. The lock is a PostgreSQL session advisory lock, so a
//! holder that dies (SIGKILL, lost machine) releases it with its connection; the holder's
//! name is kept in `lock_info` for the message a waiting process prints.
//!
//! The synchronous `postgres` client runs on a thread of its own (it drives its own small
//! runtime), and every call is sent to it, so the store can be used from async code.

use super::backend::{redact_conn_str, Backend};
use super::store::{Error, LockInfo, Result};
use super::{Attrs, OutputState, ResourceState, State, Status};
use crate::addr::ResourceAddr;
use std::collections::BTreeMap;
use std::sync::mpsc;
use std::time::{Duration, Instant};

type Job = Box<dyn FnOnce(&mut postgres::Client) + Send>;

/// The PostgreSQL store of one workspace.
pub struct PgStore {
    jobs: mpsc::Sender<Job>,
    schema: String,
    workspace: String,
    shown: String,
}

/// Migrations, per schema: never remove or edit an entry; only append. `{s}` is the schema.
const MIGRATIONS: &[&str] = &[
    "CREATE TABLE {s}.meta (workspace TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (workspace, key));
     CREATE TABLE {s}.resources (workspace TEXT NOT NULL, address TEXT NOT NULL, type TEXT NOT NULL, provider TEXT NOT NULL,
        region TEXT NOT NULL, cloud_id TEXT, status TEXT NOT NULL, client_token TEXT, generation BIGINT NOT NULL,
        attributes TEXT NOT NULL, dependencies TEXT NOT NULL, pending_request TEXT, updated TIMESTAMPTZ NOT NULL DEFAULT now(),
        PRIMARY KEY (workspace, address));
     CREATE TABLE {s}.outputs (workspace TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL, sensitive BOOLEAN NOT NULL, PRIMARY KEY (workspace, name));
     CREATE TABLE {s}.history (workspace TEXT NOT NULL, serial BIGINT NOT NULL, time TIMESTAMPTZ NOT NULL DEFAULT now(), summary TEXT NOT NULL, snapshot TEXT NOT NULL);
     CREATE TABLE {s}.generations (workspace TEXT NOT NULL, address TEXT NOT NULL, generation BIGINT NOT NULL, PRIMARY KEY (workspace, address));
     CREATE TABLE {s}.lock_info (workspace TEXT PRIMARY KEY, id TEXT NOT NULL, who TEXT NOT NULL, operation TEXT NOT NULL, created TEXT NOT NULL);",
];

/// The first key of imgform's advisory locks (the second is the workspace's hash).
const LOCK_CLASS: i32 = 0x0069_6d67; // "img"

fn err(e: impl std::fmt::Display) -> Error {
    Error::Other(format!("PostgreSQL state: {e}"))
}

/// What PostgreSQL said, in full: for an error from the server its severity, SQLSTATE
/// code, message, detail and hint (the driver's own text is only "db error"); for a
/// connection that ended, that it ended and why.
fn describe(e: &postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = format!("{} {}: {}", db.severity(), db.code().code(), db.message());
        if let Some(d) = db.detail() {
            s.push_str(&format!("; detail: {d}"));
        }
        if let Some(h) = db.hint() {
            s.push_str(&format!("; hint: {h}"));
        }
        if let (Some(t), Some(c)) = (db.table(), db.column()) {
            s.push_str(&format!("; table {t}, column {c}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    if e.is_closed() {
        s.push_str(" (the connection to the server was closed: the server stopped, or the connection was ended)");
    }
    s
}

fn pg_err(e: postgres::Error) -> Error {
    err(describe(&e))
}

fn ident_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl PgStore {
    /// Connects, creates the schema and tables if needed, and the workspace's lineage.
    pub fn open(conn_str: &str, schema: &str, workspace: &str) -> Result<PgStore> {
        if !ident_ok(schema) {
            return Err(Error::Other(format!(
                "schema_name {schema:?} must be a lower-case identifier"
            )));
        }
        if workspace.is_empty()
            || workspace.len() > 90
            || !workspace
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return Err(Error::Other(format!(
                "workspace {workspace:?} must be letters, digits, '-', '_' or '.'"
            )));
        }
        let shown = format!(
            "{} (schema {schema}, workspace {workspace})",
            redact_conn_str(conn_str)
        );
        let (tx, rx) = mpsc::channel::<Job>();
        let (ready_tx, ready_rx) = mpsc::channel::<std::result::Result<(), String>>();
        let cs = conn_str.to_string();
        std::thread::Builder::new()
            .name("imgform-pg".into())
            .spawn(move || {
                let mut client = match postgres::Client::connect(&cs, postgres::NoTls) {
                    Ok(c) => {
                        let _ = ready_tx.send(Ok(()));
                        c
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(describe(&e)));
                        return;
                    }
                };
                while let Ok(job) = rx.recv() {
                    job(&mut client);
                }
            })
            .map_err(err)?;
        ready_rx
            .recv()
            .map_err(err)?
            .map_err(|e| Error::Other(format!("cannot connect to {shown}: {e}")))?;
        let s = PgStore {
            jobs: tx,
            schema: schema.into(),
            workspace: workspace.into(),
            shown,
        };
        s.migrate()?;
        Ok(s)
    }

    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> std::result::Result<T, postgres::Error>
            + Send
            + 'static,
    ) -> Result<T> {
        let (tx, rx) = mpsc::channel();
        self.jobs
            .send(Box::new(move |c| {
                let _ = tx.send(f(c));
            }))
            .map_err(|_| err("the connection thread stopped"))?;
        rx.recv()
            .map_err(|_| err("the connection thread stopped"))?
            .map_err(pg_err)
    }

    fn migrate(&self) -> Result<()> {
        let (s, ws) = (self.schema.clone(), self.workspace.clone());
        self.run(move |c| {
            let mut tx = c.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1, 0)", &[&LOCK_CLASS])?;
            tx.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}; CREATE TABLE IF NOT EXISTS {s}.migrations (version INT NOT NULL)"))?;
            let v: i64 = tx.query_one(&format!("SELECT count(*) FROM {s}.migrations"), &[])?.get(0);
            if v > MIGRATIONS.len() as i64 {
                return Ok(Err(format!("the state schema {s} was written by a newer imgform (state format {v}; this imgform knows formats up to {}): upgrade imgform to use it; it was not read or changed", MIGRATIONS.len())));
            }
            for (i, m) in MIGRATIONS.iter().enumerate().skip(v as usize) {
                tx.batch_execute(&m.replace("{s}", &s))?;
                tx.execute(&format!("INSERT INTO {s}.migrations (version) VALUES ($1)"), &[&((i + 1) as i32)])?;
            }
            let has_rows: bool = tx.query_one(&format!("SELECT EXISTS (SELECT 1 FROM {s}.resources WHERE workspace = $1)"), &[&ws])?.get(0);
            let has_lineage: bool = tx.query_one(&format!("SELECT EXISTS (SELECT 1 FROM {s}.meta WHERE workspace = $1 AND key = 'lineage')"), &[&ws])?.get(0);
            if has_rows && !has_lineage {
                return Ok(Err(format!("the workspace {ws} in schema {s} has resources but no lineage: it is damaged; restore it from a backup")));
            }
            tx.execute(&format!("INSERT INTO {s}.meta (workspace, key, value) VALUES ($1, 'lineage', $2), ($1, 'serial', '0') ON CONFLICT DO NOTHING"), &[&ws, &uuid::Uuid::new_v4().to_string()])?;
            tx.commit()?;
            Ok(Ok(()))
        })?
        .map_err(Error::Other)
    }

    /// The workspaces of the schema: those with a lineage, in name order.
    pub fn workspaces(&self) -> Result<Vec<String>> {
        let s = self.schema.clone();
        self.run(move |c| {
            let rows = c.query(
                &format!("SELECT DISTINCT workspace FROM {s}.meta WHERE key = 'lineage' ORDER BY workspace"),
                &[],
            )?;
            Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
        })
    }

    /// Removes this store's workspace: its rows, outputs, history, generations and lineage,
    /// in one transaction.
    pub fn delete_workspace(&self) -> Result<()> {
        let (s, ws) = (self.schema.clone(), self.workspace.clone());
        self.run(move |c| {
            let mut tx = c.transaction()?;
            for t in [
                "resources",
                "outputs",
                "history",
                "generations",
                "lock_info",
                "meta",
            ] {
                tx.execute(&format!("DELETE FROM {s}.{t} WHERE workspace = $1"), &[&ws])?;
            }
            tx.commit()
        })
    }

    fn bump(
        tx: &mut postgres::Transaction,
        s: &str,
        ws: &str,
    ) -> std::result::Result<u64, postgres::Error> {
        let row = tx.query_one(&format!("UPDATE {s}.meta SET value = (value::bigint + 1)::text WHERE workspace = $1 AND key = 'serial' RETURNING value"), &[&ws])?;
        Ok(row.get::<_, String>(0).parse().unwrap_or(0))
    }

    fn lock_key(&self) -> (i32, String) {
        (LOCK_CLASS, format!("{}/{}", self.schema, self.workspace))
    }
}

fn row_to_state(r: &postgres::Row) -> std::result::Result<ResourceState, String> {
    let addr: ResourceAddr = r
        .get::<_, String>(0)
        .parse()
        .map_err(|e| format!("corrupt row: {e}"))?;
    Ok(ResourceState {
        addr,
        kind: r.get(1),
        provider: r.get(2),
        region: r.get(3),
        id: r.get(4),
        status: Status::parse(&r.get::<_, String>(5)).ok_or("corrupt status")?,
        client_token: r.get(6),
        generation: r.get::<_, i64>(7) as u64,
        attrs: Attrs::from_text(r.get::<_, String>(8)).map_err(|e| e.to_string())?,
        deps: serde_json::from_str(&r.get::<_, String>(9)).unwrap_or_default(),
        pending: r
            .get::<_, Option<String>>(10)
            .and_then(|p| serde_json::from_str(&p).ok()),
    })
}

const COLUMNS: &str = "address, type, provider, region, cloud_id, status, client_token, generation, attributes, dependencies, pending_request";

/// Keeps the generation of a row about to be deleted (see the SQLite store).
fn remember_generation(
    tx: &mut postgres::Transaction,
    s: &str,
    ws: &str,
    addr: &str,
) -> std::result::Result<(), postgres::Error> {
    tx.execute(
        &format!("INSERT INTO {s}.generations (workspace, address, generation) SELECT workspace, address, generation FROM {s}.resources WHERE workspace = $1 AND address = $2 ON CONFLICT (workspace, address) DO UPDATE SET generation = GREATEST({s}.generations.generation, EXCLUDED.generation)"),
        &[&ws, &addr],
    )
    .map(|_| ())
}

fn upsert(
    tx: &mut postgres::Transaction,
    s: &str,
    ws: &str,
    r: &ResourceState,
) -> std::result::Result<(), postgres::Error> {
    tx.execute(
        &format!(
            "INSERT INTO {s}.resources (workspace, {COLUMNS}, updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, now())
             ON CONFLICT (workspace, address) DO UPDATE SET type = EXCLUDED.type, provider = EXCLUDED.provider, region = EXCLUDED.region,
             cloud_id = EXCLUDED.cloud_id, status = EXCLUDED.status, client_token = EXCLUDED.client_token, generation = EXCLUDED.generation,
             attributes = EXCLUDED.attributes, dependencies = EXCLUDED.dependencies, pending_request = EXCLUDED.pending_request, updated = now()"
        ),
        &[&ws, &r.addr.to_string(), &r.kind, &r.provider, &r.region, &r.id, &r.status.as_str(), &r.client_token, &(r.generation as i64), &r.attrs.to_string(), &serde_json::to_string(&r.deps).unwrap_or_default(), &r.pending.as_ref().map(|p| p.to_string())],
    )?;
    // Every generation a row was written with stays used (see the SQLite store).
    tx.execute(
        &format!("INSERT INTO {s}.generations (workspace, address, generation) VALUES ($1, $2, $3) ON CONFLICT (workspace, address) DO UPDATE SET generation = GREATEST({s}.generations.generation, EXCLUDED.generation)"),
        &[&ws, &r.addr.to_string(), &(r.generation as i64)],
    )
    .map(|_| ())
}

fn who() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "localhost".into());
    format!(
        "{}@{host} (pid {})",
        std::env::var("USER").unwrap_or_else(|_| "imgform".into()),
        std::process::id()
    )
}

impl Backend for PgStore {
    fn describe(&self) -> String {
        self.shown.clone()
    }

    fn load(&self) -> Result<State> {
        let (s, ws) = (self.schema.clone(), self.workspace.clone());
        let (meta, rows, outs) = self.run(move |c| {
            let meta = c.query(&format!("SELECT key, value FROM {s}.meta WHERE workspace = $1"), &[&ws])?;
            let rows = c.query(&format!("SELECT {COLUMNS} FROM {s}.resources WHERE workspace = $1 ORDER BY address"), &[&ws])?;
            let outs = c.query(&format!("SELECT name, value, sensitive FROM {s}.outputs WHERE workspace = $1 ORDER BY name"), &[&ws])?;
            let gens = c.query(&format!("SELECT address, generation FROM {s}.generations WHERE workspace = $1"), &[&ws])?;
            Ok((meta, rows, (outs, gens)))
        })?;
        let (outs, gens) = outs;
        let mut st = State::default();
        for m in meta {
            match m.get::<_, String>(0).as_str() {
                "lineage" => st.lineage = m.get(1),
                "serial" => st.serial = m.get::<_, String>(1).parse().unwrap_or(0),
                _ => {}
            }
        }
        for r in rows {
            let rs = row_to_state(&r).map_err(Error::Other)?;
            st.resources.insert(rs.addr.clone(), rs);
        }
        for g in gens {
            st.generations
                .insert(g.get(0), g.get::<_, i64>(1).max(0) as u64);
        }
        for o in outs {
            st.outputs.insert(
                o.get(0),
                OutputState {
                    value: serde_json::from_str(&o.get::<_, String>(1))
                        .unwrap_or(serde_json::Value::Null),
                    sensitive: o.get(2),
                },
            );
        }
        Ok(st)
    }

    fn get(&self, addr: &ResourceAddr) -> Result<Option<ResourceState>> {
        let (s, ws, a) = (
            self.schema.clone(),
            self.workspace.clone(),
            addr.to_string(),
        );
        let row = self.run(move |c| {
            c.query_opt(
                &format!(
                    "SELECT {COLUMNS} FROM {s}.resources WHERE workspace = $1 AND address = $2"
                ),
                &[&ws, &a],
            )
        })?;
        row.map(|r| row_to_state(&r).map_err(Error::Other))
            .transpose()
    }

    fn put(&mut self, r: &ResourceState) -> Result<u64> {
        let (s, ws, r) = (self.schema.clone(), self.workspace.clone(), r.clone());
        self.run(move |c| {
            let mut tx = c.transaction()?;
            upsert(&mut tx, &s, &ws, &r)?;
            let serial = Self::bump(&mut tx, &s, &ws)?;
            crate::crash::state_write();
            tx.commit()?;
            Ok(serial)
        })
    }

    fn remove(&mut self, addr: &ResourceAddr) -> Result<u64> {
        let (s, ws, a) = (
            self.schema.clone(),
            self.workspace.clone(),
            addr.to_string(),
        );
        self.run(move |c| {
            let mut tx = c.transaction()?;
            remember_generation(&mut tx, &s, &ws, &a)?;
            tx.execute(
                &format!("DELETE FROM {s}.resources WHERE workspace = $1 AND address = $2"),
                &[&ws, &a],
            )?;
            let serial = Self::bump(&mut tx, &s, &ws)?;
            crate::crash::state_write();
            tx.commit()?;
            Ok(serial)
        })
    }

    fn edit(&mut self, puts: &[ResourceState], removes: &[ResourceAddr]) -> Result<u64> {
        let (s, ws) = (self.schema.clone(), self.workspace.clone());
        let (puts, removes) = (puts.to_vec(), removes.to_vec());
        self.run(move |c| {
            let mut tx = c.transaction()?;
            for a in &removes {
                remember_generation(&mut tx, &s, &ws, &a.to_string())?;
                tx.execute(
                    &format!("DELETE FROM {s}.resources WHERE workspace = $1 AND address = $2"),
                    &[&ws, &a.to_string()],
                )?;
            }
            for r in &puts {
                upsert(&mut tx, &s, &ws, r)?;
            }
            let serial = Self::bump(&mut tx, &s, &ws)?;
            crate::crash::state_write();
            tx.commit()?;
            Ok(serial)
        })
    }

    fn set_outputs(&mut self, outputs: &BTreeMap<String, OutputState>) -> Result<()> {
        if &self.load()?.outputs == outputs {
            return Ok(());
        }
        let (s, ws, outputs) = (self.schema.clone(), self.workspace.clone(), outputs.clone());
        self.run(move |c| {
            let mut tx = c.transaction()?;
            tx.execute(&format!("DELETE FROM {s}.outputs WHERE workspace = $1"), &[&ws])?;
            for (k, v) in &outputs {
                tx.execute(&format!("INSERT INTO {s}.outputs (workspace, name, value, sensitive) VALUES ($1, $2, $3, $4)"), &[&ws, k, &v.value.to_string(), &v.sensitive])?;
            }
            Self::bump(&mut tx, &s, &ws)?;
            crate::crash::state_write();
            tx.commit()
        })
    }

    fn record_history(&mut self, summary: &str, keep: usize) -> Result<()> {
        let st = self.load()?;
        let (s, ws, summary, snap) = (
            self.schema.clone(),
            self.workspace.clone(),
            summary.to_string(),
            st.to_json().to_string(),
        );
        let serial = st.serial as i64;
        let keep = keep.max(1) as i64;
        self.run(move |c| {
            let mut tx = c.transaction()?;
            tx.execute(&format!("INSERT INTO {s}.history (workspace, serial, summary, snapshot) VALUES ($1, $2, $3, $4)"), &[&ws, &serial, &summary, &snap])?;
            tx.execute(&format!("DELETE FROM {s}.history WHERE workspace = $1 AND ctid NOT IN (SELECT ctid FROM {s}.history WHERE workspace = $1 ORDER BY time DESC, serial DESC LIMIT $2)"), &[&ws, &keep])?;
            crate::crash::state_write();
            tx.commit()
        })
    }

    fn history(&self) -> Result<Vec<(u64, String, String)>> {
        let (s, ws) = (self.schema.clone(), self.workspace.clone());
        self.run(move |c| {
            let rows = c.query(&format!("SELECT serial, time::text, summary FROM {s}.history WHERE workspace = $1 ORDER BY time, serial"), &[&ws])?;
            Ok(rows
                .iter()
                .map(|r| (r.get::<_, i64>(0) as u64, r.get::<_, String>(1), r.get::<_, String>(2)))
                .collect())
        })
    }

    fn history_snapshot(&self, serial: u64) -> Result<Option<serde_json::Value>> {
        let (s, ws) = (self.schema.clone(), self.workspace.clone());
        let snap: Option<String> = self.run(move |c| {
            let row = c.query_opt(&format!("SELECT snapshot FROM {s}.history WHERE workspace = $1 AND serial = $2 ORDER BY time DESC LIMIT 1"), &[&ws, &(serial as i64)])?;
            Ok(row.map(|r| r.get::<_, String>(0)))
        })?;
        snap.map(|s| {
            serde_json::from_str(&s).map_err(|e| Error::Other(format!("corrupt history: {e}")))
        })
        .transpose()
    }

    fn replace_all(&mut self, st: &State) -> Result<()> {
        let (s, ws, st) = (self.schema.clone(), self.workspace.clone(), st.clone());
        self.run(move |c| {
            let mut tx = c.transaction()?;
            tx.execute(&format!("INSERT INTO {s}.generations (workspace, address, generation) SELECT workspace, address, generation FROM {s}.resources WHERE workspace = $1 ON CONFLICT (workspace, address) DO UPDATE SET generation = GREATEST({s}.generations.generation, EXCLUDED.generation)"), &[&ws])?;
            tx.execute(&format!("DELETE FROM {s}.resources WHERE workspace = $1"), &[&ws])?;
            tx.execute(&format!("DELETE FROM {s}.outputs WHERE workspace = $1"), &[&ws])?;
            let pushed: Vec<(String, i64)> = st
                .generations
                .iter()
                .map(|(a, g)| (a.clone(), *g as i64))
                .chain(st.resources.values().map(|r| (r.addr.to_string(), r.generation as i64)))
                .collect();
            for (a, g) in &pushed {
                tx.execute(&format!("INSERT INTO {s}.generations (workspace, address, generation) VALUES ($1, $2, $3) ON CONFLICT (workspace, address) DO UPDATE SET generation = GREATEST({s}.generations.generation, EXCLUDED.generation)"), &[&ws, a, g])?;
            }
            for r in st.resources.values() {
                tx.execute(
                    &format!("INSERT INTO {s}.resources (workspace, {COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"),
                    &[&ws, &r.addr.to_string(), &r.kind, &r.provider, &r.region, &r.id, &r.status.as_str(), &r.client_token, &(r.generation as i64), &r.attrs.to_string(), &serde_json::to_string(&r.deps).unwrap_or_default(), &r.pending.as_ref().map(|p| p.to_string())],
                )?;
            }
            for (k, v) in &st.outputs {
                tx.execute(&format!("INSERT INTO {s}.outputs (workspace, name, value, sensitive) VALUES ($1, $2, $3, $4)"), &[&ws, k, &v.value.to_string(), &v.sensitive])?;
            }
            tx.execute(&format!("UPDATE {s}.meta SET value = $2 WHERE workspace = $1 AND key = 'lineage'"), &[&ws, &st.lineage])?;
            tx.execute(&format!("UPDATE {s}.meta SET value = $2 WHERE workspace = $1 AND key = 'serial'"), &[&ws, &st.serial.to_string()])?;
            crate::crash::state_write();
            tx.commit()
        })
    }

    fn lock(&mut self, operation: &str, timeout: Duration) -> Result<LockInfo> {
        let start = Instant::now();
        let me = LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            who: who(),
            operation: operation.into(),
            created: time::OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        };
        loop {
            let (s, ws, (k1, k2), me2) = (
                self.schema.clone(),
                self.workspace.clone(),
                self.lock_key(),
                me.clone(),
            );
            let got: bool = self.run(move |c| {
                let got: bool = c.query_one("SELECT pg_try_advisory_lock($1, hashtext($2))", &[&k1, &k2])?.get(0);
                if got {
                    c.execute(
                        &format!("INSERT INTO {s}.lock_info (workspace, id, who, operation, created) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (workspace) DO UPDATE SET id = EXCLUDED.id, who = EXCLUDED.who, operation = EXCLUDED.operation, created = EXCLUDED.created"),
                        &[&ws, &me2.id, &me2.who, &me2.operation, &me2.created],
                    )?;
                }
                Ok(got)
            })?;
            if got {
                return Ok(me);
            }
            if start.elapsed() >= timeout {
                let h = self.lock_holder()?.unwrap_or(LockInfo {
                    id: "unknown".into(),
                    who: "another process".into(),
                    operation: "unknown".into(),
                    created: "unknown".into(),
                });
                return Err(Error::Locked {
                    id: h.id,
                    who: h.who,
                    operation: h.operation,
                    created: h.created,
                });
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn unlock(&mut self, id: &str) -> Result<()> {
        let (s, ws, (k1, k2), id) = (
            self.schema.clone(),
            self.workspace.clone(),
            self.lock_key(),
            id.to_string(),
        );
        self.run(move |c| {
            c.execute(
                &format!("DELETE FROM {s}.lock_info WHERE workspace = $1 AND id = $2"),
                &[&ws, &id],
            )?;
            c.query_one("SELECT pg_advisory_unlock($1, hashtext($2))", &[&k1, &k2])
                .map(|_| ())
        })
    }

    fn force_unlock(&mut self, id: &str) -> Result<bool> {
        let Some(h) = self.lock_holder()? else {
            return Ok(false);
        };
        if h.id != id {
            return Ok(false);
        }
        let (s, ws, (k1, k2)) = (self.schema.clone(), self.workspace.clone(), self.lock_key());
        self.run(move |c| {
            c.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND classid::int = $1 AND objid::int = hashtext($2) AND objsubid = 2 AND pid <> pg_backend_pid()",
                &[&(k1 as i64 as i32), &k2],
            )?;
            c.execute(&format!("DELETE FROM {s}.lock_info WHERE workspace = $1"), &[&ws]).map(|_| ())
        })?;
        Ok(true)
    }

    fn lock_holder(&self) -> Result<Option<LockInfo>> {
        let (s, ws, (k1, k2)) = (self.schema.clone(), self.workspace.clone(), self.lock_key());
        let row = self.run(move |c| {
            c.query_opt(
                &format!(
                    "SELECT id, who, operation, created FROM {s}.lock_info WHERE workspace = $1 AND EXISTS (
                       SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid::int = $2 AND objid::int = hashtext($3) AND objsubid = 2)"
                ),
                &[&ws, &k1, &k2],
            )
        })?;
        Ok(row.map(|r| LockInfo {
            id: r.get(0),
            who: r.get(1),
            operation: r.get(2),
            created: r.get(3),
        }))
    }

    fn next_generation(&mut self, addr: &ResourceAddr, at_least: u64) -> Result<u64> {
        let (s, ws, a) = (
            self.schema.clone(),
            self.workspace.clone(),
            addr.to_string(),
        );
        self.run(move |c| {
            let mut tx = c.transaction()?;
            let cur: Option<i64> = tx.query_opt(&format!("SELECT generation FROM {s}.generations WHERE workspace = $1 AND address = $2 FOR UPDATE"), &[&ws, &a])?.map(|r| r.get(0));
            let row: Option<i64> = tx.query_opt(&format!("SELECT generation FROM {s}.resources WHERE workspace = $1 AND address = $2"), &[&ws, &a])?.map(|r| r.get(0));
            let next = cur.unwrap_or(0).max(row.unwrap_or(0)).max(at_least as i64) + 1;
            tx.execute(&format!("INSERT INTO {s}.generations (workspace, address, generation) VALUES ($1, $2, $3) ON CONFLICT (workspace, address) DO UPDATE SET generation = EXCLUDED.generation"), &[&ws, &a, &next])?;
            crate::crash::state_write();
            tx.commit()?;
            Ok(next as u64)
        })
    }
}
