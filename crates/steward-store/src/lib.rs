//! The storage ports of `steward-core`, implemented once for SQLite and PostgreSQL.
//!
//! Every query is one SQL text that both backends accept (`$1` placeholders,
//! `RETURNING`, `ON CONFLICT`); the Rust around it is written once and expanded
//! for each pool by [`on_db!`]. Backend-specific SQL appears only where a feature
//! needs it (`FOR UPDATE SKIP LOCKED` when claiming outbox mail, `NOTIFY`/`LISTEN`
//! between nodes).

/// Runs the same code on whichever pool is configured. `read` uses SQLite's
/// reader pool, `write` its single writer.
macro_rules! on_db {
    ($store:expr, read, |$pool:ident| $body:expr) => {
        match &$store.db {
            crate::Db::Sqlite { read: $pool, .. } => $body,
            crate::Db::Postgres($pool) => $body,
        }
    };
    ($store:expr, write, |$pool:ident| $body:expr) => {
        match &$store.db {
            crate::Db::Sqlite { write: $pool, .. } => $body,
            crate::Db::Postgres($pool) => $body,
        }
    };
}

mod accounts;
mod activity;
mod changes;
mod notifications;
mod oauth;
mod outbox;
mod profiles;
mod security;
mod sessions;
pub mod testing;
mod tokens;
mod ts;

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use steward_core::error::StoreError;

pub use ts::Ts;

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend for a database URL.
    pub fn of(url: &str) -> Self {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Connection pools. SQLite gets one writer connection beside the readers:
/// SQLite allows one writer at a time, and queueing writes in the pool is
/// cheaper and more predictable than retrying `SQLITE_BUSY`.
#[derive(Debug, Clone)]
pub(crate) enum Db {
    Sqlite { read: SqlitePool, write: SqlitePool },
    Postgres(PgPool),
}

/// The store on either backend.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) db: Db,
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct PoolConfig {
    /// Most connections (PostgreSQL) or reader connections (SQLite).
    pub max_connections: u32,
    /// How long to wait for a connection before failing the request.
    pub acquire_timeout: Duration,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

impl SqlStore {
    /// Connects and brings the schema up to date. SQLite files and their folder are created.
    pub async fn connect(url: &str, pool: &PoolConfig) -> Result<Self, StoreError> {
        let store = match Backend::of(url) {
            Backend::Postgres => {
                let opts = PgConnectOptions::from_str(url)
                    .map_err(backend)?
                    .application_name("steward");
                let pg = PgPoolOptions::new()
                    .max_connections(pool.max_connections)
                    .acquire_timeout(pool.acquire_timeout)
                    .connect_with(opts)
                    .await
                    .map_err(backend)?;
                Self {
                    db: Db::Postgres(pg),
                }
            }
            Backend::Sqlite => {
                let opts = SqliteConnectOptions::from_str(url)
                    .map_err(backend)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5));
                if let Some(dir) = opts
                    .get_filename()
                    .parent()
                    .filter(|d| !d.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        StoreError::Backend(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                let write = SqlitePoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(pool.acquire_timeout)
                    .connect_with(opts.clone())
                    .await
                    .map_err(backend)?;
                let read = SqlitePoolOptions::new()
                    .max_connections(pool.max_connections.max(1))
                    .acquire_timeout(pool.acquire_timeout)
                    .connect_with(opts.read_only(true))
                    .await
                    .map_err(backend)?;
                Self {
                    db: Db::Sqlite { read, write },
                }
            }
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies embedded migrations. Refuses a database that a newer Steward migrated.
    async fn migrate(&self) -> Result<(), StoreError> {
        let result = match &self.db {
            Db::Sqlite { write, .. } => sqlx::migrate!("migrations/sqlite").run(write).await,
            Db::Postgres(pg) => sqlx::migrate!("migrations/postgres").run(pg).await,
        };
        result.map_err(|e| StoreError::Backend(format!("migrations: {e}")))
    }

    /// Which backend this store uses.
    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite { .. } => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Closes every connection.
    pub async fn close(&self) {
        match &self.db {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pg) => pg.close().await,
        }
    }
}

/// Maps a driver error, recognising unique violations on the columns the domain cares about.
pub(crate) fn backend(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e
        && db.is_unique_violation()
    {
        let what = format!("{} {}", db.message(), db.constraint().unwrap_or_default());
        if what.contains("email_key") {
            return StoreError::EmailTaken;
        }
        if what.contains("username") {
            return StoreError::UsernameTaken;
        }
    }
    StoreError::Backend(e.to_string())
}
