//! `steward-bench`: the benchmarks of PERFORMANCE.md. Each figure is printed
//! beside a baseline measured in the same run, as a ratio:
//!
//! `bench <name>: <figure> = <value> (<baseline name> = <value>) ratio = <x.xx>`
//!
//! Run on purpose, never as part of the tests:
//! `cargo build --release -p steward-server -p steward-bench && target/release/steward-bench [--pg URL]`.

mod flood;
mod photo;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use clap::Parser;
use serde_json::json;
use steward_testkit::{ApiClient, TestServer};

/// Steward benchmarks.
#[derive(Debug, Parser)]
struct Args {
    /// Run on a fresh database of this PostgreSQL server instead of SQLite.
    #[arg(long)]
    pg: Option<String>,
    /// Seconds each measurement runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Only these benchmarks (signin, me, token, flood, start, photo). Default: all.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Concurrent attackers in the `flood` benchmark, one measurement per number.
    #[arg(long, value_delimiter = ',', default_values_t = [64, 256])]
    flood: Vec<usize>,
    /// The `steward-server` binary the `photo` benchmark runs (default: the one beside
    /// this binary), e.g. an older build to compare with.
    #[arg(long)]
    server: Option<std::path::PathBuf>,
}

fn line(name: &str, figure: &str, value: f64, baseline: &str, base: f64) {
    let ratio = if base > 0.0 { value / base } else { 0.0 };
    println!("bench {name}: {figure} = {value:.2} ({baseline} = {base:.2}) ratio = {ratio:.2}");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    steward_server::app::rustls_provider();
    let want = |n: &str| args.only.is_empty() || args.only.iter().any(|o| o == n);
    let secs = Duration::from_secs(args.seconds.max(1));
    println!(
        "# backend: {}",
        if args.pg.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    );
    if want("signin") || want("me") || want("token") {
        let mut builder = TestServer::builder().config(|c| {
            // Benchmarks may raise limits through ordinary configuration.
            c.limits.credential_per_ip_per_minute = 10_000_000;
            c.limits.emails_per_address_per_hour = 10_000_000;
            c.log.filter = "warn".into();
            c.oauth.access_token_minutes = 60;
        });
        if let Some(pg) = &args.pg {
            builder = builder.postgres_server(pg.clone());
        }
        let server = builder.start().await?;
        if want("signin") {
            signin(&server, secs).await?;
        }
        if want("me") {
            me(&server, secs).await?;
        }
        if want("token") {
            token(&server, secs).await?;
        }
        server.stop().await;
    }
    if want("flood") {
        flood::flood(args.pg.as_deref(), secs, &args.flood).await?;
    }
    if want("start") {
        start().await?;
    }
    if want("photo") {
        let sibling = std::env::current_exe()?.with_file_name("steward-server");
        photo::photo(args.server.as_deref().unwrap_or(&sibling)).await?;
    }
    Ok(())
}

const PASSWORD: &str = "correct horse battery staple";

async fn account(server: &TestServer, i: usize) -> anyhow::Result<()> {
    let c = server.client()?;
    let body = json!({"email": format!("bench{i}@example.com"), "username": format!("bench{i}"), "password": PASSWORD,
        "accept_terms": true, "confirm_age": true, "altcha": c.altcha().await?});
    let r = c.post("/api/v1/accounts", body).await?;
    anyhow::ensure!(r.status == 201, "sign-up failed: {}", r.text);
    Ok(())
}

/// Rounds each measurement is split into, alternating with its baseline, so that
/// noise from a shared machine falls on both alike.
const ROUNDS: u32 = 4;

/// Password sign-ins/s over HTTP with 2× cores clients, against raw Argon2id verifications/s.
async fn signin(server: &TestServer, secs: Duration) -> anyhow::Result<()> {
    let clients = 2 * std::thread::available_parallelism().map_or(2, |n| n.get());
    for i in 0..clients {
        account(server, i).await?;
    }
    let round = secs / ROUNDS;
    let (mut base_n, mut base_t, mut n, mut t) = (0u64, 0f64, 0u64, 0f64);
    for _ in 0..ROUNDS {
        let (bn, bt) = raw_argon2(clients, round, &server.config.argon2).await?;
        let (sn, st) = http_signins(server, clients, round).await?;
        (base_n, base_t, n, t) = (base_n + bn, base_t + bt, n + sn, t + st);
    }
    #[allow(clippy::cast_precision_loss)]
    let (rate, base) = (n as f64 / t, base_n as f64 / base_t);
    line(
        "signin",
        "signins_per_s",
        rate,
        "argon2id_verifications_per_s",
        base,
    );
    Ok(())
}

async fn http_signins(
    server: &TestServer,
    clients: usize,
    secs: Duration,
) -> anyhow::Result<(u64, f64)> {
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let c = ApiClient::new(&server.base)?;
        let (done, stop) = (done.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let body =
                json!({"identifier": format!("bench{i}"), "password": PASSWORD, "remember": true});
            while !stop.load(Ordering::Relaxed) {
                let r = c
                    .http
                    .post(format!("{}/api/v1/session", c.base))
                    .json(&body)
                    .send()
                    .await?;
                anyhow::ensure!(r.status() == 200, "sign-in answered {}", r.status());
                done.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(secs).await;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        t.await??;
    }
    // Sign-ins still in flight when the time is up are counted, over the time they took.
    Ok((
        done.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    ))
}

async fn raw_argon2(
    threads: usize,
    secs: Duration,
    cfg: &steward_server::config::Argon2Config,
) -> anyhow::Result<(u64, f64)> {
    let params = Params::new(cfg.memory_kib, cfg.iterations, cfg.parallelism, None)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let phc = argon
        .hash_password(PASSWORD.as_bytes())
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .to_string();
    let done = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for _ in 0..threads {
        let (argon, phc, done, stop) = (argon.clone(), phc.clone(), done.clone(), stop.clone());
        handles.push(std::thread::spawn(move || {
            let Ok(parsed) = PasswordHash::new(&phc) else {
                return;
            };
            while !stop.load(Ordering::Relaxed) {
                if argon.verify_password(PASSWORD.as_bytes(), &parsed).is_ok() {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(secs).await;
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        let _ = h.join();
    }
    Ok((
        done.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
    ))
}

/// Authenticated `GET /api/v1/me`/s with 64 connections and p99, against `/healthz` on the same stack.
async fn me(server: &TestServer, secs: Duration) -> anyhow::Result<()> {
    account(server, 1000).await?;
    let c = server.client()?;
    let r = c
        .post(
            "/api/v1/session",
            json!({"identifier": "bench1000", "password": PASSWORD, "remember": true}),
        )
        .await?;
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("steward_session="))
        .and_then(|c| c.split(';').next().map(str::to_owned))
        .context("no session cookie")?;
    let round = secs / ROUNDS;
    let (mut base, mut me) = ((Vec::new(), 0f64), (Vec::new(), 0f64));
    for _ in 0..ROUNDS {
        let (lat, t) = load(&server.base, "/healthz", ("cookie", &cookie), round).await?;
        base.0.extend(lat);
        base.1 += t;
        let (lat, t) = load(&server.base, "/api/v1/me", ("cookie", &cookie), round).await?;
        me.0.extend(lat);
        me.1 += t;
    }
    let (rate, p99) = summarise(me);
    let (base_rate, base_p99) = summarise(base);
    line(
        "me",
        "requests_per_s",
        rate,
        "trivial_handler_requests_per_s",
        base_rate,
    );
    line("me", "p99_ms", p99, "trivial_handler_p99_ms", base_p99);
    Ok(())
}

/// An access token of the CLI for a fresh account, through the device grant (the
/// person's approval given with a browser session over HTTP).
async fn access_token(server: &TestServer) -> anyhow::Result<String> {
    account(server, 2000).await?;
    let c = server.client()?;
    let r = c
        .post(
            "/api/v1/session",
            json!({"identifier": "bench2000", "password": PASSWORD, "remember": true}),
        )
        .await?;
    anyhow::ensure!(r.status == 200, "sign-in failed: {}", r.text);
    let account_id = r.json["account"]["id"]
        .as_str()
        .context("account id")?
        .to_owned();
    let grant = c
        .post_form(
            "/oauth/device_authorization",
            &[
                ("client_id", "steward-cli"),
                ("scope", "openid profile email offline_access"),
            ],
        )
        .await?;
    let user_code = grant.json["user_code"].as_str().context("user code")?;
    let device_code = grant.json["device_code"].as_str().context("device code")?;
    let r = c
        .post_form(
            "/device/decide",
            &[
                ("user_code", user_code),
                ("decision", "allow"),
                ("as_account", &account_id),
            ],
        )
        .await?;
    anyhow::ensure!(r.status == 200, "approval failed: {}", r.text);
    let t = c
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("device_code", device_code),
                ("client_id", "steward-cli"),
            ],
        )
        .await?;
    t.json["access_token"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("no access token: {}", t.text))
}

/// Access-token–authenticated `GET /oauth/userinfo`/s, against `/healthz` on the same stack.
async fn token(server: &TestServer, secs: Duration) -> anyhow::Result<()> {
    let bearer = format!("Bearer {}", access_token(server).await?);
    let round = secs / ROUNDS;
    let (mut base, mut info) = ((Vec::new(), 0f64), (Vec::new(), 0f64));
    for _ in 0..ROUNDS {
        let (lat, t) = load(&server.base, "/healthz", ("authorization", &bearer), round).await?;
        base.0.extend(lat);
        base.1 += t;
        let (lat, t) = load(
            &server.base,
            "/oauth/userinfo",
            ("authorization", &bearer),
            round,
        )
        .await?;
        info.0.extend(lat);
        info.1 += t;
    }
    let (rate, p99) = summarise(info);
    let (base_rate, base_p99) = summarise(base);
    line(
        "token",
        "requests_per_s",
        rate,
        "trivial_handler_requests_per_s",
        base_rate,
    );
    line("token", "p99_ms", p99, "trivial_handler_p99_ms", base_p99);
    Ok(())
}

/// Requests per second and p99 in milliseconds.
fn summarise((mut all, elapsed): (Vec<Duration>, f64)) -> (f64, f64) {
    all.sort_unstable();
    let p99 = all
        .get(all.len() * 99 / 100)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0);
    #[allow(clippy::cast_precision_loss)]
    (all.len() as f64 / elapsed, p99)
}

/// Every request's latency, and the time it took.
async fn load(
    base: &str,
    path: &str,
    (header, value): (&str, &str),
    secs: Duration,
) -> anyhow::Result<(Vec<Duration>, f64)> {
    const CONNECTIONS: usize = 64;
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()?;
    let url = format!("{base}{path}");
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (http, url, header, value, stop) = (
            http.clone(),
            url.clone(),
            header.to_owned(),
            value.to_owned(),
            stop.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = http.get(&url).header(&header, &value).send().await?;
                anyhow::ensure!(r.status() == 200, "{url} answered {}", r.status());
                r.bytes().await?;
                latencies.push(t.elapsed());
            }
            Ok(latencies)
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(secs).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await??);
    }
    Ok((all, started.elapsed().as_secs_f64()))
}

/// Cold start of the release binary on an empty SQLite data dir, and idle RSS.
async fn start() -> anyhow::Result<()> {
    let exe = std::env::current_exe()?.with_file_name("steward-server");
    anyhow::ensure!(
        exe.exists(),
        "build the server first: cargo build --release -p steward-server ({} missing)",
        exe.display()
    );
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut cmd = Command::new(&exe);
    cmd.arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(dir.path())
        .env("STEWARD_LOG__FILTER", "warn")
        .env("STEWARD_METRICS__LISTEN", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut child = cmd.spawn()?;
    let ready = loop {
        if let Ok(r) = http
            .get(format!("http://127.0.0.1:{port}/readyz"))
            .send()
            .await
            && r.status() == 200
        {
            break started.elapsed();
        }
        if started.elapsed() > Duration::from_secs(20) {
            let _ = child.kill();
            anyhow::bail!("server not ready after 20 s");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_kib = std::fs::read_to_string(format!("/proc/{}/status", child.id()))?
        .lines()
        .find_map(|l| {
            l.strip_prefix("VmRSS:")
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .unwrap_or(0.0);
    let _ = child.kill();
    let _ = child.wait();
    line(
        "start",
        "ready_ms",
        ready.as_secs_f64() * 1000.0,
        "goal_ms",
        300.0,
    );
    line("start", "idle_rss_mb", rss_kib / 1024.0, "goal_mb", 40.0);
    Ok(())
}
