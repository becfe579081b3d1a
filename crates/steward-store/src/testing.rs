//! Helpers for tests that need a fresh database on either backend.

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use uuid::Uuid;

/// The PostgreSQL server tests may use (`STEWARD_TEST_PG`, e.g. `postgres://postgres@127.0.0.1:5432/postgres`).
/// Without it, PostgreSQL tests are skipped locally but fail under CI, so CI can never
/// pass without running them.
pub fn test_pg_url() -> Option<String> {
    match std::env::var("STEWARD_TEST_PG") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var_os("CI").is_some() => {
            #[allow(clippy::panic)]
            {
                panic!(
                    "STEWARD_TEST_PG must be set when CI is set: the PostgreSQL tests may not be skipped"
                );
            }
        }
        _ => {
            eprintln!("STEWARD_TEST_PG is not set: skipping the PostgreSQL variant of this test");
            None
        }
    }
}

/// Creates an empty database on the test server and returns its URL.
pub async fn fresh_pg_database(server_url: &str) -> Result<String, sqlx::Error> {
    let mut conn = PgConnection::connect(server_url).await?;
    let name = format!("steward_test_{}", Uuid::now_v7().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let mut url = url_without_path(server_url);
    url.push('/');
    url.push_str(&name);
    Ok(url)
}

/// A fresh SQLite database file in `dir`.
pub fn sqlite_url(dir: &std::path::Path) -> String {
    format!("sqlite://{}", dir.join("steward.db").display())
}

fn url_without_path(url: &str) -> String {
    // postgres://user@host:port/db?params → postgres://user@host:port
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    format!("{scheme}://{authority}")
}
