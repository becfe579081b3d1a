//! Real Chromium driven through ChromeDriver (Debian's `chromium` and `chromium-driver`).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use thirtyfour::{ChromiumLikeCapabilities, DesiredCapabilities, WebDriver};

/// A ChromeDriver process and one headless browser session.
pub struct Browser {
    /// The WebDriver session.
    pub driver: WebDriver,
    driver_process: Child,
    _profile: tempfile::TempDir,
}

impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Browser")
    }
}

fn find(candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| (*p).to_owned())
}

impl Browser {
    /// Starts ChromeDriver and a headless Chromium with a fresh profile.
    pub async fn start() -> anyhow::Result<Self> {
        let driver_bin = std::env::var("CHROMEDRIVER")
            .ok()
            .or_else(|| find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]))
            .ok_or_else(|| {
                anyhow::anyhow!("chromedriver not found (install Debian's chromium-driver)")
            })?;
        let chrome_bin = std::env::var("CHROMIUM")
            .ok()
            .or_else(|| find(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]))
            .ok_or_else(|| anyhow::anyhow!("chromium not found (install Debian's chromium)"))?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let driver_process = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let profile = tempfile::tempdir()?;
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&chrome_bin)?;
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1200,900",
        ] {
            caps.add_arg(arg)?;
        }
        caps.add_arg(&format!("--user-data-dir={}", profile.path().display()))?;
        let url = format!("http://127.0.0.1:{port}");
        let mut last_err = None;
        for _ in 0..50 {
            match WebDriver::new(&url, caps.clone()).await {
                Ok(driver) => {
                    return Ok(Self {
                        driver,
                        driver_process,
                        _profile: profile,
                    });
                }
                Err(e) => {
                    last_err = Some(e);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        anyhow::bail!("could not start a browser session: {last_err:?}")
    }

    /// Ends the session and the driver.
    pub async fn quit(mut self) -> anyhow::Result<()> {
        let result = self.driver.clone().quit().await;
        let _ = self.driver_process.kill();
        let _ = self.driver_process.wait();
        Ok(result?)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver_process.kill();
    }
}
