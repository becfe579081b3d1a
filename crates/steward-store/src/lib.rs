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

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
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

/// The database file a SQLite URL names; `None` for PostgreSQL and in-memory SQLite.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    if Backend::of(url) != Backend::Sqlite || in_memory(url) {
        return None;
    }
    let opts = SqliteConnectOptions::from_str(url).ok()?;
    Some(opts.get_filename().to_path_buf())
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

/// Whether a SQLite URL names a database that never touches the disk.
fn in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Creates a SQLite database file readable by its owner only (0600), and its missing
/// folders (0700): it holds password hashes and keys. SQLite creates `-wal` and
/// `-shm` with the database file's mode, so they are private too. An existing file
/// keeps its mode (the server warns when it is loose).
fn create_private(file: &Path) -> Result<(), StoreError> {
    let cannot = |what: &Path, e: std::io::Error| {
        StoreError::Backend(format!("cannot create {}: {e}", what.display()))
    };
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| cannot(dir, e))?;
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(cannot(file, e)),
    }
}

impl SqlStore {
    /// Connects and brings the schema up to date. SQLite files (0600) and their folder
    /// (0700) are created.
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
                if !in_memory(url) {
                    create_private(opts.get_filename())?;
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

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn only_a_sqlite_file_url_names_a_file() {
        assert_eq!(
            sqlite_file("sqlite:///var/lib/steward/steward.db"),
            Some(PathBuf::from("/var/lib/steward/steward.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://db?mode=memory"), None);
        assert_eq!(sqlite_file("postgres://postgres@127.0.0.1/steward"), None);
    }

    #[tokio::test]
    async fn a_new_sqlite_database_and_its_folder_are_the_owners_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("new/steward.db");
        let store = SqlStore::connect(
            &format!("sqlite://{}", db.display()),
            &PoolConfig::default(),
        )
        .await
        .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.path().join("new")), 0o700);
        for file in ["steward.db", "steward.db-wal", "steward.db-shm"] {
            assert_eq!(mode(&dir.path().join("new").join(file)), 0o600, "{file}");
        }
        store.close().await;
    }
}
