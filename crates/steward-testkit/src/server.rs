//! A real Steward server in this process, on a free port, with a manual clock.

use std::sync::Arc;

use steward_core::clock::ManualClock;
use steward_server::config::Config;
use steward_server::{Running, start};
use steward_store::testing;
use time::OffsetDateTime;

use crate::client::ApiClient;
use crate::smtp::SmtpSink;

/// Which database the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestBackend {
    /// A fresh SQLite file.
    Sqlite,
    /// A fresh database on `STEWARD_TEST_PG`.
    Postgres,
}

impl TestBackend {
    /// `STEWARD_TEST_BACKEND=postgres` runs the integration tests on PostgreSQL.
    pub fn from_env() -> Self {
        match std::env::var("STEWARD_TEST_BACKEND").as_deref() {
            Ok("postgres") => TestBackend::Postgres,
            _ => TestBackend::Sqlite,
        }
    }
}

/// A running server with its mail sink and clock.
#[derive(Debug)]
pub struct TestServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// The server.
    pub running: Running,
    /// Mail it sends arrives here over SMTP.
    pub smtp: SmtpSink,
    /// The clock the server reads; tests move it.
    pub clock: Arc<ManualClock>,
    /// The configuration it started with.
    pub config: Config,
    _dir: tempfile::TempDir,
}

/// A change to the configuration, applied before start.
type Tweak = Box<dyn FnOnce(&mut Config) + Send>;

/// Adjusts a test server's configuration before it starts.
pub struct TestServerBuilder {
    backend: TestBackend,
    pg_server: Option<String>,
    tweak: Vec<Tweak>,
}

impl std::fmt::Debug for TestServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServerBuilder")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl TestServerBuilder {
    /// Changes the configuration.
    pub fn config(mut self, f: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        self.tweak.push(Box::new(f));
        self
    }

    /// Chooses the backend (default: from `STEWARD_TEST_BACKEND`).
    pub fn backend(mut self, b: TestBackend) -> Self {
        self.backend = b;
        self
    }

    /// Runs on a fresh database of this PostgreSQL server instead of `STEWARD_TEST_PG`.
    pub fn postgres_server(mut self, url: impl Into<String>) -> Self {
        self.backend = TestBackend::Postgres;
        self.pg_server = Some(url.into());
        self
    }

    /// Starts the SMTP sink and the server.
    pub async fn start(self) -> anyhow::Result<TestServer> {
        steward_server::app::rustls_provider();
        let dir = tempfile::tempdir()?;
        let smtp = SmtpSink::start()?;
        let mut cfg = Config {
            listen: "127.0.0.1:0".parse()?,
            data_dir: dir.path().to_path_buf(),
            ..Config::default()
        };
        cfg.mail.smtp_url = Some(smtp.url());
        cfg.mail.poll_interval_ms = 50;
        // Each test server has its own metrics listener on a free loopback port.
        cfg.metrics.listen = "127.0.0.1:0".into();
        // Tests solve challenges in-process; keep the work small but real.
        cfg.challenge.max_number = 2_000;
        cfg.challenge.strong_max_number = 20_000;
        cfg.database_url = Some(match self.backend {
            TestBackend::Sqlite => testing::sqlite_url(dir.path()),
            TestBackend::Postgres => {
                let server = match self.pg_server {
                    Some(url) => url,
                    None => testing::test_pg_url()
                        .ok_or_else(|| anyhow::anyhow!("STEWARD_TEST_PG is not set"))?,
                };
                testing::fresh_pg_database(&server).await?
            }
        });
        for f in self.tweak {
            f(&mut cfg);
        }
        // The public URL must name the bound port, which is known only after binding:
        // bind a probe listener first, then hand the port to the server.
        if cfg.listen.port() == 0 {
            let probe = std::net::TcpListener::bind(cfg.listen)?;
            cfg.listen = probe.local_addr()?;
            drop(probe);
        }
        if cfg.public_url.is_none() {
            cfg.public_url = Some(format!("http://{}", cfg.listen));
        }
        let clock = Arc::new(ManualClock::new(OffsetDateTime::now_utc()));
        let running = start(cfg.clone(), clock.clone()).await?;
        let base = format!("http://{}", running.addr);
        Ok(TestServer {
            base,
            running,
            smtp,
            clock,
            config: cfg,
            _dir: dir,
        })
    }
}

impl TestServer {
    /// A builder for a server on the backend chosen by the environment.
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder {
            backend: TestBackend::from_env(),
            pg_server: None,
            tweak: Vec::new(),
        }
    }

    /// A server with the default test configuration.
    pub async fn start() -> anyhow::Result<Self> {
        Self::builder().start().await
    }

    /// `http://127.0.0.1:PORT` of the separate metrics listener.
    pub fn metrics_base(&self) -> anyhow::Result<String> {
        let addr = self
            .running
            .metrics_addr
            .ok_or_else(|| anyhow::anyhow!("metrics.listen is off"))?;
        Ok(format!("http://{addr}"))
    }

    /// A new client with an empty cookie jar.
    pub fn client(&self) -> anyhow::Result<ApiClient> {
        ApiClient::new(&self.base)
    }

    /// A new client with an empty cookie jar that sends `user_agent`.
    pub fn client_as(&self, user_agent: &str) -> anyhow::Result<ApiClient> {
        ApiClient::with_user_agent(&self.base, user_agent)
    }

    /// Moves the server's clock.
    pub fn advance(&self, by: time::Duration) {
        self.clock.advance(by);
    }

    /// Stops the server.
    pub async fn stop(self) {
        self.running.shutdown().await;
    }
}
