//! Wiring: configuration → store → domain → router → listener and background tasks.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::{self, Next};
use axum::response::Response;
use steward_core::clock::Clock;
use steward_core::{CoreConfig, Steward};
use steward_store::{PoolConfig, SqlStore};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::config::Config;
use crate::http::client::DeviceKeys;
use crate::http::cookies::CookieSettings;
use crate::http::limits::Limits;
use crate::mail::{MailSender, TemplateMailer, Transport};
use crate::state::{AppState, Inner};
use crate::{api, http, telemetry, web};

/// A started server.
#[derive(Debug)]
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where the separate metrics listener listens, if there is one.
    pub metrics_addr: Option<SocketAddr>,
    /// The domain it serves (tests read it for the clock and store).
    pub steward: Steward,
    /// State shared by the handlers.
    pub state: AppState,
    stop: watch::Sender<bool>,
    handle: axum_server::Handle<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting, finishes in-flight requests (up to 5 s) and stops background tasks.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.handle.graceful_shutdown(Some(Duration::from_secs(5)));
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

fn core_config(cfg: &Config) -> CoreConfig {
    let mut core = CoreConfig {
        public_url: cfg.public_url(),
        argon2_memory_kib: cfg.argon2.memory_kib,
        argon2_iterations: cfg.argon2.iterations,
        argon2_parallelism: cfg.argon2.parallelism,
        challenge_max_number: cfg.challenge.max_number,
        challenge_strong_max_number: cfg.challenge.strong_max_number,
        challenge_ttl: Duration::from_secs(cfg.challenge.ttl_secs),
        terms_version: cfg.legal.terms_version.clone(),
        privacy_version: cfg.legal.privacy_version.clone(),
        signin_failures_per_account: cfg.limits.signin_failures_per_account,
        signin_failures_vouched: cfg.limits.signin_failures_vouched,
        reauth_failures_per_session: cfg.limits.reauth_failures_per_session,
        hash_priority_backlog: cfg.limits.hash_priority_backlog,
        priority_hashes_per_account: cfg.limits.priority_hashes_per_account,
        emails_per_address_per_hour: cfg.limits.emails_per_address_per_hour,
        emails_per_account_per_hour: cfg.limits.emails_per_account_per_hour,
        emails_per_address_strong_per_hour: cfg.limits.emails_per_address_strong_per_hour,
        photo_uploads_per_account_per_hour: cfg.limits.photo_uploads_per_account_per_hour,
        session_short: time::Duration::minutes(cfg.sessions.idle_minutes.into()),
        session_short_absolute: time::Duration::hours(cfg.sessions.absolute_hours.into()),
        session_remember: time::Duration::days(cfg.sessions.remember_days.into()),
        session_cache_ttl: Duration::from_secs(cfg.sessions.cache_ttl_secs),
        activity_retention: time::Duration::days(cfg.activity.retention_days.into()),
        activity_ip_retention: time::Duration::days(cfg.activity.ip_retention_days.into()),
        oauth_access_ttl: time::Duration::minutes(cfg.oauth.access_token_minutes.into()),
        oauth_refresh_ttl: time::Duration::days(cfg.oauth.refresh_days.into()),
        username_hold: time::Duration::days(cfg.accounts.username_hold_days.into()),
        ..CoreConfig::default()
    };
    if let Some(backlog) = cfg.limits.hash_backlog {
        core.hash_open_backlog = backlog;
    }
    core
}

/// Builds everything and starts listening. `clock` is the system clock outside tests.
pub async fn start(cfg: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Running> {
    let started = Instant::now();
    rustls_provider();
    let metrics = telemetry::metrics_handle();
    let pool = PoolConfig {
        max_connections: cfg.database_max_connections,
        ..PoolConfig::default()
    };
    let store = SqlStore::connect(&cfg.database_url(), &pool)
        .await
        .with_context(|| {
            format!(
                "opening database {}",
                crate::config::redact_url(&cfg.database_url())
            )
        })?;
    let backend = store.backend();
    let steward = Steward::new(
        core_config(&cfg),
        Arc::new(store),
        clock,
        Arc::new(TemplateMailer::new("Steward")),
    )
    .await
    .context("starting the domain")?;
    steward
        .upgrade_data()
        .await
        .context("upgrading stored data")?;
    let steward = match &cfg.geoip.database {
        Some(path) => steward.with_locator(Arc::new(
            crate::geo::GeoIp::open(path).map_err(anyhow::Error::msg)?,
        )),
        None => steward,
    };
    let master_key = crate::oauth::keyring::MasterKey::load_or_create(
        &cfg.secrets
            .master_key_path
            .clone()
            .unwrap_or_else(|| cfg.data_dir.join("master.key")),
    )?;
    let keys = crate::oauth::keyring::KeyRing::load(
        steward.store().clone(),
        master_key,
        time::Duration::days(cfg.oauth.key_rotation_days.into()),
        time::Duration::minutes(cfg.oauth.access_token_minutes.into()),
        steward.now(),
    )
    .await
    .context("loading the token signing keys")?;
    let steward = steward.with_signer(keys.clone());
    let device_key = steward
        .store()
        .server_secret("device_cookie_key", random_key())
        .await
        .context("loading the device cookie key")?;

    let mailbox = cfg.mail.smtp_url.is_none().then(|| cfg.mailbox_dir());
    let transport = Transport::new(cfg.mail.smtp_url.as_deref(), cfg.mailbox_dir())?;
    crate::files::warn_if_loose(&crate::files::kept(&cfg));
    let sender = MailSender::new(
        steward.clone(),
        transport,
        &cfg.mail.from,
        &cfg.public_url(),
        Duration::from_millis(cfg.mail.poll_interval_ms),
    )?;

    let origin = origin_of(&cfg.public_url());
    let (stop, stop_rx) = watch::channel(false);
    let cookies = CookieSettings::new(cfg.secure_cookies());
    let state = AppState(Arc::new(Inner {
        stopping: stop_rx.clone(),
        steward: steward.clone(),
        devices: DeviceKeys::new(device_key, &cookies),
        cookies,
        limits: Limits::new(&cfg.limits),
        metrics,
        origin,
        mailbox,
        keys,
        cfg: cfg.clone(),
    }));
    let app = router(state.clone(), cfg.limits.max_body_bytes);

    let listener = std::net::TcpListener::bind(cfg.listen)
        .with_context(|| format!("listening on {}", cfg.listen))?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let handle = axum_server::Handle::new();
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let mut tasks = Vec::new();
    let server_task = match (&cfg.tls.cert, &cfg.tls.key) {
        (Some(cert), Some(key)) => {
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .context("loading the TLS certificate and key")?;
            let server = axum_server::from_tcp_rustls(listener, tls)?.handle(handle.clone());
            tokio::spawn(async move {
                if let Err(e) = server.serve(service).await {
                    tracing::error!(error = %e, "server stopped");
                }
            })
        }
        _ => {
            let server = axum_server::from_tcp(listener)?.handle(handle.clone());
            tokio::spawn(async move {
                if let Err(e) = server.serve(service).await {
                    tracing::error!(error = %e, "server stopped");
                }
            })
        }
    };
    tasks.push(server_task);
    let metrics_addr = match cfg.metrics.listen_addr() {
        Some(at) => {
            let listener = tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("listening for metrics on {at} (metrics.listen)"))?;
            let bound = listener.local_addr()?;
            let app = api::health::metrics_router().with_state(state.clone());
            let mut stop = stop_rx.clone();
            tasks.push(tokio::spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(async move {
                        let _ = stop.changed().await;
                    })
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "metrics listener stopped");
                }
            }));
            Some(bound)
        }
        None => None,
    };
    tasks.push(tokio::spawn(sender.run(stop_rx.clone())));
    tasks.push(tokio::spawn(housekeeping(state.clone(), stop_rx.clone())));
    tasks.push(tokio::spawn(follow_changes(steward.clone(), stop_rx)));

    tracing::info!(
        %addr, metrics = ?metrics_addr, public_url = %cfg.public_url(), database = ?backend,
        mail = if cfg.mail.smtp_url.is_some() { "smtp" } else { "local mailbox" },
        startup_ms = started.elapsed().as_millis() as u64, "Steward is ready"
    );
    Ok(Running {
        addr,
        metrics_addr,
        steward,
        state,
        stop,
        handle,
        tasks,
    })
}

/// The full router with its middleware.
pub fn router(state: AppState, max_body: usize) -> Router {
    Router::new()
        .merge(api::health::router())
        .merge(web::router())
        .merge(crate::oauth::endpoints::router())
        .merge(api::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::security::csrf,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            http::security::headers,
        ))
        .layer(middleware::from_fn(record_metrics))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    tracing::info_span!("request", method = %req.method(), route = %route_of(req))
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .with_state(state)
}

/// What logs and metrics call a request: its route template (`/unsubscribe/{token}`),
/// never the path itself, which may carry a secret (an unsubscribe token, an
/// authorization request's handle) or personal data (`/@{username}`); `unmatched`
/// when no route took it. Query strings never reach the logs either.
fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned())
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = route_of(&req);
    let method = req.method().to_string();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    metrics::counter!("steward_http_requests_total", "method" => method, "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("steward_http_request_duration_seconds", "route" => route)
        .record(started.elapsed().as_secs_f64());
    res
}

/// Keeps the session cache in step with other nodes until shutdown.
async fn follow_changes(steward: Steward, mut stop: watch::Receiver<bool>) {
    tokio::select! {
        _ = steward.follow_changes() => {
            // Single node: the cache is on and nothing more is needed.
            let _ = stop.changed().await;
        }
        _ = stop.changed() => {}
    }
}

/// Periodic chores: expired sessions, activity retention, rate-limiter memory.
async fn housekeeping(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(300)) => {}
            _ = stop.changed() => return,
        }
        state.limits.sweep();
        match state
            .steward
            .store()
            .purge_expired_sessions(state.steward.now())
            .await
        {
            Ok(n) if n > 0 => tracing::info!(sessions = n, "expired sessions purged"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "session purge failed"),
        }
        if let Err(e) = state.steward.expire_activity().await {
            tracing::warn!(error = %e, "security activity retention failed");
        }
        match state.steward.store().purge_oauth(state.steward.now()).await {
            Ok(n) if n > 0 => tracing::info!(
                rows = n,
                "expired OAuth requests, codes and device grants purged"
            ),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "OAuth purge failed"),
        }
        if let Err(e) = state.keys.refresh(state.steward.now()).await {
            tracing::warn!(error = %e, "signing key rotation failed");
        }
    }
}

fn origin_of(public_url: &str) -> String {
    match url::Url::parse(public_url) {
        Ok(u) => u.origin().ascii_serialization(),
        Err(_) => public_url.to_owned(),
    }
}

fn random_key() -> Vec<u8> {
    let mut k = vec![0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut k);
    k
}

/// Installs aws-lc-rs as the process's rustls provider (once).
pub fn rustls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
}
