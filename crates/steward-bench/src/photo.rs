//! `photo`: the release server's peak memory (`VmHWM`) while it decodes photo
//! uploads at the largest accepted size, 4096×4096: an 8-bit RGBA PNG, and a
//! 16-bit one (about 130 KB, 128 MiB of pixels) that the server must refuse
//! without decoding, one at a time and four at once (four accounts). Each case
//! runs in a fresh server process, so its peak is its own; the baseline is the
//! same process's peak before the uploads.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use image::{DynamicImage, ImageBuffer, Rgba};
use serde_json::json;
use steward_testkit::ApiClient;

use crate::{PASSWORD, line};

/// Side of the pictures uploaded: the largest accepted.
const SIDE: u32 = 4096;

/// A PNG compressed as hard as the format allows: a small upload, a large image.
fn png(img: DynamicImage) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    img.write_with_encoder(PngEncoder::new_with_quality(
        &mut out,
        CompressionType::Best,
        PngFilter::Adaptive,
    ))?;
    Ok(out)
}

/// A server process on a fresh data dir, killed when dropped.
struct Server {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(exe: &Path) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(exe)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(dir.path())
            .env("STEWARD_LOG__FILTER", "warn")
            .env("STEWARD_METRICS__LISTEN", "127.0.0.1:0")
            .env("STEWARD_CHALLENGE__MAX_NUMBER", "2000")
            .env("STEWARD_LIMITS__CREDENTIAL_PER_IP_PER_MINUTE", "100000")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        };
        let started = Instant::now();
        while reqwest::get(format!("{}/readyz", server.base))
            .await
            .map_or(true, |r| r.status() != 200)
        {
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(20),
                "server not ready"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok(server)
    }

    /// The process's peak resident memory so far, in MB.
    fn peak_mb(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib = status
            .lines()
            .find_map(|l| {
                l.strip_prefix("VmHWM:")
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            })
            .ok_or_else(|| anyhow::anyhow!("no VmHWM"))?;
        Ok(kib / 1024.0)
    }

    /// A signed-in account of its own.
    async fn person(&self, i: usize) -> anyhow::Result<ApiClient> {
        let c = ApiClient::new(&self.base)?;
        let body = json!({"email": format!("photo{i}@example.com"), "username": format!("photo{i}"),
            "password": PASSWORD, "accept_terms": true, "confirm_age": true, "altcha": c.altcha().await?});
        let r = c.post("/api/v1/accounts", body).await?;
        anyhow::ensure!(r.status == 201, "sign-up failed: {}", r.text);
        let r = c
            .post(
                "/api/v1/session",
                json!({"identifier": format!("photo{i}"), "password": PASSWORD, "remember": true}),
            )
            .await?;
        anyhow::ensure!(r.status == 200, "sign-in failed: {}", r.text);
        Ok(c)
    }
}

/// Runs the benchmark against the server binary `exe`.
pub async fn photo(exe: &Path) -> anyhow::Result<()> {
    anyhow::ensure!(
        exe.exists(),
        "build the server first: cargo build --release -p steward-server ({} missing)",
        exe.display()
    );
    let plain = png(DynamicImage::ImageRgba8(ImageBuffer::from_pixel(
        SIDE,
        SIDE,
        Rgba([40, 90, 160, 255]),
    )))?;
    let deep = png(DynamicImage::ImageRgba16(ImageBuffer::from_pixel(
        SIDE,
        SIDE,
        Rgba([10_000u16, 30_000, 50_000, 65_535]),
    )))?;
    println!(
        "# photo: {SIDE}x{SIDE} PNGs of {} KB (8-bit RGBA) and {} KB (16-bit RGBA)",
        plain.len() / 1024,
        deep.len() / 1024
    );
    for (name, bytes, at_once) in [
        ("8bit", &plain, 1),
        ("8bit_x4", &plain, 4),
        ("16bit", &deep, 1),
        ("16bit_x4", &deep, 4),
    ] {
        let server = Server::start(exe).await?;
        let mut people = Vec::new();
        for i in 0..at_once {
            people.push(server.person(i).await?);
        }
        let idle = server.peak_mb()?;
        let uploads = people.into_iter().map(|c| {
            let bytes = bytes.clone();
            tokio::spawn(async move {
                c.send_raw(
                    reqwest::Method::PUT,
                    "/api/v1/me/profile/photo",
                    "image/png",
                    bytes,
                )
                .await
                .map(|r| r.status.as_u16())
            })
        });
        let mut answers = Vec::new();
        for u in uploads.collect::<Vec<_>>() {
            answers.push(u.await??);
        }
        let peak = server.peak_mb()?;
        println!("# photo {name}: answered {answers:?}");
        line(
            "photo",
            &format!("{name}_peak_mb"),
            peak,
            "idle_peak_mb",
            idle,
        );
    }
    Ok(())
}
