//! The local cloud's persistence: every object as a JSON document in its own SQLite file
//! (separate from imgform's state), written through on each change so a restart keeps
//! every object and every operation in progress.

use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

/// The SQLite store.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Opens (creating) `dir/cloud.db`, or an in-memory store when `dir` is `None`.
    pub fn open(dir: Option<&Path>) -> rusqlite::Result<Store> {
        let conn = match dir {
            Some(d) => {
                let _ = std::fs::create_dir_all(d);
                Connection::open(d.join("cloud.db"))?
            }
            None => Connection::open_in_memory()?,
        };
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS objects (kind TEXT NOT NULL, id TEXT NOT NULL, json TEXT NOT NULL, PRIMARY KEY (kind, id));
             CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, response TEXT NOT NULL);",
        )?;
        Ok(Store { conn })
    }

    /// A meta value.
    pub fn meta(&self, key: &str) -> Option<String> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .ok()
            .flatten()
    }

    /// Sets a meta value.
    pub fn set_meta(&self, key: &str, value: &str) {
        let _ = self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            params![key, value],
        );
    }

    /// Removes one object.
    pub fn delete(&self, kind: &str, id: &str) {
        let _ = self.conn.execute(
            "DELETE FROM objects WHERE kind = ?1 AND id = ?2",
            params![kind, id],
        );
    }

    /// Every object of a kind, as JSON text.
    pub fn all(&self, kind: &str) -> Vec<String> {
        let Ok(mut st) = self
            .conn
            .prepare("SELECT json FROM objects WHERE kind = ?1 ORDER BY id")
        else {
            return vec![];
        };
        st.query_map([kind], |r| r.get::<_, String>(0))
            .map(|rows| rows.filter_map(Result::ok).collect())
            .unwrap_or_default()
    }

    /// Writes objects and the simulated time in one transaction.
    /// Tokens are written in the same transaction as the objects their answers name.
    pub fn put_many(
        &mut self,
        items: &[(&str, String, String)],
        tokens: &[(String, String, String)],
        sim_now: f64,
    ) {
        let Ok(tx) = self.conn.transaction() else {
            return;
        };
        // Statements are prepared once per connection: every request that changes the
        // cloud writes here, under the cloud's lock.
        let put = |sql: &str, p: &[&dyn rusqlite::ToSql]| {
            if let Ok(mut st) = tx.prepare_cached(sql) {
                let _ = st.execute(p);
            }
        };
        for (kind, id, json) in items {
            put(
                "INSERT OR REPLACE INTO objects (kind, id, json) VALUES (?1, ?2, ?3)",
                params![kind, id, json],
            );
        }
        for (key, fp, resp) in tokens {
            put(
                "INSERT OR REPLACE INTO tokens (key, fingerprint, response) VALUES (?1, ?2, ?3)",
                params![key, fp, resp],
            );
        }
        put(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('sim_now', ?1)",
            params![sim_now.to_string()],
        );
        let _ = tx.commit();
    }

    /// All idempotency tokens.
    pub fn tokens(&self) -> Vec<(String, String, String)> {
        let Ok(mut st) = self
            .conn
            .prepare("SELECT key, fingerprint, response FROM tokens")
        else {
            return vec![];
        };
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map(|rows| rows.filter_map(Result::ok).collect())
            .unwrap_or_default()
    }
}
