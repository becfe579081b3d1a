//! `flood`: credential stuffing against a server behind a trusted proxy — many
//! attackers, each request from another address, wrong passwords for existing and
//! unknown accounts — while the account owner signs in from a browser that signed
//! in before and a signed-in person keeps using `/api/v1/me`. Both are measured
//! with no flood first (the baseline), then under each flood size.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use serde_json::json;
use steward_testkit::{ApiClient, TestServer};

use crate::{PASSWORD, account, line};

/// Existing accounts the attackers try (besides as many unknown addresses).
const VICTIMS: usize = 32;

/// What the attackers were answered.
#[derive(Debug, Default)]
struct Outcomes {
    wrong: AtomicU64,
    challenged: AtomicU64,
    busy: AtomicU64,
    other: AtomicU64,
}

/// Latencies of the owner's sign-ins and of `/me`, over one phase.
struct Phase {
    owner: Vec<Duration>,
    me: Vec<Duration>,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn pct(sorted: &[Duration], p: usize) -> Duration {
    sorted
        .get((sorted.len() * p / 100).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or_default()
}

/// Runs the benchmark: `sizes` are the numbers of concurrent attackers.
pub async fn flood(pg: Option<&str>, secs: Duration, sizes: &[usize]) -> anyhow::Result<()> {
    let mut builder = TestServer::builder().config(|c| {
        // Every request arrives through the proxy on loopback, from the address it names.
        c.trusted_proxies = vec![std::net::IpAddr::from([127, 0, 0, 1])];
        // The owner signs in ten times a second to be measured; attackers never repeat
        // an address, so the per-IP limit would not stop them either way.
        c.limits.credential_per_ip_per_minute = 10_000_000;
        c.limits.emails_per_address_per_hour = 10_000_000;
        c.log.filter = "warn".into();
    });
    if let Some(pg) = pg {
        builder = builder.postgres_server(pg.to_owned());
    }
    let server = builder.start().await?;
    println!("# flood: RSS at start {:.0} MB", rss_mb());
    for i in 0..VICTIMS {
        account(&server, 3000 + i).await?;
    }
    account(&server, 4000).await?; // the owner
    account(&server, 4001).await?; // someone reading /me
    println!("# flood: RSS after sign-ups {:.0} MB", rss_mb());
    let owner = server.client()?;
    let r = owner
        .post(
            "/api/v1/session",
            json!({"identifier": "bench4000", "password": PASSWORD, "remember": true}),
        )
        .await?;
    anyhow::ensure!(r.status == 200, "owner sign-in failed: {}", r.text);
    anyhow::ensure!(owner.cookie("steward_device").is_some(), "no device cookie");
    let reader = server.client()?;
    let r = reader
        .post(
            "/api/v1/session",
            json!({"identifier": "bench4001", "password": PASSWORD, "remember": true}),
        )
        .await?;
    anyhow::ensure!(r.status == 200, "reader sign-in failed: {}", r.text);

    let idle = measure(&server, &owner, &reader, secs).await?;
    println!("# flood: process RSS before any flood {:.0} MB", rss_mb());
    let idle_owner = sorted(&idle.owner);
    let idle_me = sorted(&idle.me);
    for &n in sizes {
        let stop = Arc::new(AtomicBool::new(false));
        let outcomes = Arc::new(Outcomes::default());
        // The attackers run on their own threads and runtime, as another machine
        // would, sharing only the CPU with the server.
        let attackers = {
            let (base, stop, outcomes) = (server.base.clone(), stop.clone(), outcomes.clone());
            std::thread::spawn(move || -> anyhow::Result<()> {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?;
                rt.block_on(attack(base, n, stop, outcomes))
            })
        };
        // Let the flood build up before measuring.
        tokio::time::sleep(Duration::from_secs(1)).await;
        let under = measure(&server, &owner, &reader, secs).await?;
        stop.store(true, Ordering::Relaxed);
        attackers
            .join()
            .map_err(|_| anyhow::anyhow!("attacker thread panicked"))??;
        let owner_lat = sorted(&under.owner);
        let me_lat = sorted(&under.me);
        let name = format!("flood({n} attackers)");
        line(
            &name,
            "owner_signin_max_ms",
            ms(owner_lat.last().copied().unwrap_or_default()),
            "idle_owner_signin_max_ms",
            ms(idle_owner.last().copied().unwrap_or_default()),
        );
        line(
            &name,
            "owner_signin_p50_ms",
            ms(pct(&owner_lat, 50)),
            "idle_owner_signin_p50_ms",
            ms(pct(&idle_owner, 50)),
        );
        line(
            &name,
            "me_p99_ms",
            ms(pct(&me_lat, 99)),
            "idle_me_p99_ms",
            ms(pct(&idle_me, 99)),
        );
        println!(
            "# flood({n}): owner sign-ins {} (all 200), /me requests {}, process RSS {:.0} MB; attackers answered: wrong password {}, challenge_required {}, 503 busy {}, other {}",
            owner_lat.len(),
            me_lat.len(),
            rss_mb(),
            outcomes.wrong.load(Ordering::Relaxed),
            outcomes.challenged.load(Ordering::Relaxed),
            outcomes.busy.load(Ordering::Relaxed),
            outcomes.other.load(Ordering::Relaxed),
        );
        // Let the last hashes drain before the next size.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    server.stop().await;
    Ok(())
}

fn sorted(v: &[Duration]) -> Vec<Duration> {
    let mut v = v.to_vec();
    v.sort_unstable();
    v
}

/// For `secs`: the owner signs in again every 100 ms (one at a time) and the reader
/// calls `/api/v1/me` back to back.
async fn measure(
    server: &TestServer,
    owner: &ApiClient,
    reader: &ApiClient,
    secs: Duration,
) -> anyhow::Result<Phase> {
    let stop = Arc::new(AtomicBool::new(false));
    let me_task = {
        let (reader, stop) = (reader.clone(), stop.clone());
        let url = format!("{}/api/v1/me", server.base);
        tokio::spawn(async move {
            let mut lat = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let r = reader.http.get(&url).send().await?;
                anyhow::ensure!(r.status() == 200, "/me answered {}", r.status());
                r.bytes().await?;
                lat.push(t.elapsed());
            }
            Ok(lat)
        })
    };
    let mut owner_lat = Vec::new();
    let started = Instant::now();
    let body = json!({"identifier": "bench4000", "password": PASSWORD, "remember": true});
    while started.elapsed() < secs {
        let t = Instant::now();
        let r = owner
            .http
            .post(format!("{}/api/v1/session", server.base))
            .header("x-forwarded-for", "198.51.100.7")
            .json(&body)
            .send()
            .await?;
        let status = r.status();
        let text = r.text().await?;
        anyhow::ensure!(status == 200, "owner sign-in answered {status}: {text}");
        owner_lat.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let me = me_task.await.context("the /me task")??;
    Ok(Phase {
        owner: owner_lat,
        me,
    })
}

/// `n` attackers, each request with a wrong password, from a new address, for an
/// existing account half the time and an unknown address otherwise.
async fn attack(
    base: String,
    n: usize,
    stop: Arc<AtomicBool>,
    outcomes: Arc<Outcomes>,
) -> anyhow::Result<()> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(n)
        .timeout(Duration::from_secs(30))
        .build()?;
    let counter = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let (http, base, stop, outcomes, counter) = (
            http.clone(),
            base.clone(),
            stop.clone(),
            outcomes.clone(),
            counter.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let i = counter.fetch_add(1, Ordering::Relaxed);
                let identifier = if i % 2 == 0 {
                    format!("bench{}@example.com", 3000 + (i / 2) as usize % VICTIMS)
                } else {
                    format!("stuffed{i}@example.net")
                };
                let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
                let sent = http
                    .post(format!("{base}/api/v1/session"))
                    .header("x-forwarded-for", ip)
                    .json(&json!({"identifier": identifier, "password": "hunter2 hunter2"}))
                    .send()
                    .await;
                let Ok(r) = sent else {
                    outcomes.other.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let status = r.status().as_u16();
                let text = r.text().await.unwrap_or_default();
                let bucket = match status {
                    401 if text.contains("challenge_required") => &outcomes.challenged,
                    401 => &outcomes.wrong,
                    503 => &outcomes.busy,
                    _ => &outcomes.other,
                };
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    Ok(())
}

/// This process's resident memory (server and attackers together), in MB.
fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("VmRSS:")
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            })
        })
        .map_or(0.0, |kib| kib / 1024.0)
}
