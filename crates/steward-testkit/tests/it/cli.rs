//! The `steward` command (crates/steward-cli) end to end: the real binary as a
//! process with its own HOME and configuration directory, against a real
//! server in this process, with the sign-in finished in real Chromium.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use steward_testkit::browser::Browser;
use steward_testkit::{ApiClient, TestServer};
use thirtyfour::prelude::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr};
use tokio::time::timeout;

use crate::common::{PASSWORD, confirmed_account};

/// The `steward` binary: `$STEWARD_CLI_BIN` when set; otherwise built here.
///
/// Cargo only hands a test the binaries of its own package
/// (`CARGO_BIN_EXE_*`), and `steward` belongs to steward-cli. So this runs the
/// cargo that built the tests (`cargo build -p steward-cli --bin steward`, same
/// workspace, target directory and profile; cargo does not hold its build lock
/// while tests run) and takes the executable's path from cargo's own report:
/// never a stale or missing `target/debug/steward`. Once per test process.
fn steward_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("STEWARD_CLI_BIN") {
            return bin.into();
        }
        let mut cargo = std::process::Command::new(env!("CARGO"));
        cargo
            .args(["build", "-p", "steward-cli", "--bin", "steward"])
            .args([
                "--message-format=json-render-diagnostics",
                "--manifest-path",
            ])
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"))
            .stderr(Stdio::inherit());
        if !cfg!(debug_assertions) {
            cargo.arg("--release");
        }
        let out = cargo
            .output()
            .expect("run cargo to build the steward binary");
        assert!(out.status.success(), "cargo build -p steward-cli failed");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "steward")
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo reported no steward executable")
    })
}

/// One computer's `steward`: its own HOME and `STEWARD_CONFIG_DIR`, no browser.
struct Steward {
    home: tempfile::TempDir,
    server: String,
}

/// How a `steward` process ended.
#[derive(Debug)]
struct Output {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// A `steward` process still running, its stderr read line by line.
struct Spawned {
    child: Child,
    stderr: Lines<BufReader<ChildStderr>>,
    seen: String,
}

impl Steward {
    async fn new(s: &TestServer) -> Self {
        tokio::task::spawn_blocking(steward_bin).await.unwrap();
        Self {
            home: tempfile::tempdir().unwrap(),
            server: s.base.clone(),
        }
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut c = tokio::process::Command::new(steward_bin());
        c.args(args)
            .args(["--server", &self.server])
            .env("HOME", self.home.path())
            .env("STEWARD_CONFIG_DIR", self.config_dir())
            .env("STEWARD_NO_BROWSER", "1")
            .env_remove("STEWARD_SERVER")
            .env_remove("XDG_CONFIG_HOME")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        c
    }

    /// Runs `steward ARGS --server BASE` to the end.
    async fn run(&self, args: &[&str]) -> Output {
        let out = timeout(Duration::from_secs(60), self.command(args).output())
            .await
            .unwrap_or_else(|_| panic!("steward {args:?} did not finish"))
            .unwrap();
        Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs it and expects success; returns stdout.
    async fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args).await;
        assert_eq!(out.code, Some(0), "steward {args:?}: {out:?}");
        out.stdout
    }

    fn spawn(&self, args: &[&str]) -> Spawned {
        let mut child = self.command(args).spawn().unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        Spawned {
            child,
            stderr,
            seen: String::new(),
        }
    }

    fn config_dir(&self) -> PathBuf {
        self.home.path().join("steward-config")
    }

    fn credentials_path(&self) -> PathBuf {
        self.config_dir().join("credentials.json")
    }

    /// The credentials file, parsed.
    fn credentials(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.credentials_path()).unwrap()).unwrap()
    }

    /// The stored entry of `username`.
    fn stored(&self, username: &str) -> Value {
        let creds = self.credentials();
        creds["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["username"] == username)
            .unwrap_or_else(|| panic!("{username} is not stored: {creds}"))
            .clone()
    }
}

impl Spawned {
    /// Reads stderr up to the first line starting with `prefix`, and returns it.
    async fn line_starting(&mut self, prefix: &str) -> String {
        let read = async {
            while let Some(line) = self.stderr.next_line().await.unwrap() {
                self.seen.push_str(&line);
                self.seen.push('\n');
                if line.starts_with(prefix) {
                    return Some(line);
                }
            }
            None
        };
        match timeout(Duration::from_secs(30), read).await {
            Ok(Some(line)) => line,
            _ => panic!(
                "no stderr line starting with {prefix:?}; got:\n{}",
                self.seen
            ),
        }
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().unwrap().to_string();
        let status = std::process::Command::new("kill")
            .args([name, &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit and collects what it printed.
    async fn finish(self) -> Output {
        let Spawned {
            mut child,
            mut stderr,
            mut seen,
        } = self;
        let mut stdout = child.stdout.take().unwrap();
        let done = async {
            let mut out = String::new();
            let read_out = stdout.read_to_string(&mut out);
            let read_err = async {
                while let Some(line) = stderr.next_line().await.unwrap() {
                    seen.push_str(&line);
                    seen.push('\n');
                }
            };
            let (r, (), status) = tokio::join!(read_out, read_err, child.wait());
            r.unwrap();
            (out, status.unwrap())
        };
        let (stdout, status) = timeout(Duration::from_secs(60), done)
            .await
            .expect("steward did not exit");
        Output {
            code: status.code(),
            stdout,
            stderr: seen,
        }
    }
}

/// Waits until the page's source contains one of `texts`; returns the source.
pub(crate) async fn wait_for(d: &WebDriver, texts: &[&str]) -> String {
    let mut src = String::new();
    for _ in 0..200 {
        src = d.source().await.unwrap_or_default();
        if texts.iter().any(|t| src.contains(t)) {
            return src;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never showed any of {texts:?}; it shows:\n{src}");
}

pub(crate) async fn click(d: &WebDriver, by: By) {
    d.find(by).await.unwrap().click().await.unwrap();
}

/// Fills and submits the sign-in page the browser is on.
pub(crate) async fn sign_in_on_page(d: &WebDriver, user: &str) {
    wait_for(d, &["Keep me signed in"]).await;
    let field = |id: &'static str| d.find(By::Id(id));
    field("identifier")
        .await
        .unwrap()
        .send_keys(user)
        .await
        .unwrap();
    field("password")
        .await
        .unwrap()
        .send_keys(PASSWORD)
        .await
        .unwrap();
    click(d, By::Css("form[action='/signin'] button[type='submit']")).await;
}

/// Signs in on the page the browser is on and, on a first web sign-in, skips the
/// "tell us about yourself" step, to land where the sign-in was going.
pub(crate) async fn sign_in_and_skip_welcome(d: &WebDriver, user: &str) {
    sign_in_on_page(d, user).await;
    for _ in 0..200 {
        let url = d.current_url().await.unwrap();
        if url.path() == "/welcome" {
            wait_for(d, &["Skip for now"]).await;
            click(d, By::Id("skip")).await;
            return;
        }
        if url.path() != "/signin" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the sign-in never left /signin");
}

/// `steward login` finished in a fresh Chromium profile, signing in on the
/// server's page as `user`; checks what the browser and the command show.
async fn browser_login(cli: &Steward, user: &str) -> Output {
    let mut login = cli.spawn(&["login"]);
    let url = login.line_starting("  ").await.trim().to_owned();
    assert!(
        url.starts_with(&format!("{}/oauth/authorize?", cli.server)),
        "{url}"
    );
    let browser = Browser::start().await.unwrap();
    let d = &browser.driver;
    d.goto(&url).await.unwrap();
    wait_for(d, &["Keep me signed in"]).await;
    let at = d.current_url().await.unwrap();
    assert_eq!(
        at.path(),
        "/signin",
        "signed out, so asked to sign in: {at}"
    );
    sign_in_on_page(d, user).await;
    // Signed in during this request, to the first-party CLI: no second click.
    let done = wait_for(d, &["id=\"oauth-done\"", "Signed in to Steward."]).await;
    assert!(
        done.contains("id=\"oauth-done\"") && done.contains("You are signed in"),
        "the \"You are signed in\" page comes first; got:\n{done}"
    );
    assert!(
        done.contains("You can return to Steward CLI now."),
        "{done}"
    );
    // It sends the browser back to the command's loopback listener.
    wait_for(d, &["Signed in to Steward. You can close this tab"]).await;
    let back = d.current_url().await.unwrap();
    assert_eq!(
        (back.host_str(), back.path()),
        (Some("127.0.0.1"), "/callback")
    );
    let out = login.finish().await;
    browser.quit().await.unwrap();
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.stdout.trim(),
        format!("Signed in as {user} ({user}@example.com) on {}", cli.server)
    );
    out
}

/// Whether the table row of `name` (its first column) is marked `*`; `None` if absent.
fn marked(table: &str, name: &str) -> Option<bool> {
    table
        .lines()
        .find(|l| l.get(2..).and_then(|r| r.split_whitespace().next()) == Some(name))
        .map(|l| l.starts_with("* "))
}

/// The ids of the account's "Steward CLI" sessions, as the web API lists them.
async fn cli_sessions(c: &ApiClient) -> Vec<String> {
    let r = c.get("/api/v1/sessions").await.unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["device"] == "Steward CLI")
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// `GET /api/v1/me` status with a bearer token.
async fn bearer_me(s: &TestServer, access: &Value) -> u16 {
    reqwest::Client::new()
        .get(format!("{}/api/v1/me", s.base))
        .bearer_auth(access.as_str().unwrap())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The token endpoint's answer to a refresh with `refresh`.
async fn refresh_with(s: &TestServer, refresh: &Value) -> Value {
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str().unwrap()),
        ("client_id", "steward-cli"),
    ];
    reqwest::Client::new()
        .post(format!("{}/oauth/token", s.base))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn whoami_text(s: &TestServer, user: &str) -> String {
    format!(
        "Username: {user}\nEmail:    {user}@example.com\nServer:   {}\n",
        s.base
    )
}

#[tokio::test]
async fn cli_login_through_chromium_stores_owner_only_tokens_and_lists_its_session() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let cli = Steward::new(&s).await;

    let out = browser_login(&cli, "ada").await;
    assert!(!out.stderr.contains(PASSWORD));
    assert_eq!(cli.ok(&["whoami"]).await, whoami_text(&s, "ada"));

    let path = cli.credentials_path();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600, "credentials file is owner-only");
    assert_eq!(mode(&cli.config_dir()), 0o700, "its directory too");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains(PASSWORD), "the password is never stored");
    let stored = cli.stored("ada");
    assert!(stored["refresh_token"].is_string() && stored["access_token"].is_string());
    assert_eq!(bearer_me(&s, &stored["access_token"]).await, 200);

    // Its sign-in is an active session named after the app, marked as this one.
    let ids = cli_sessions(&ada).await;
    assert_eq!(ids.len(), 1, "one Steward CLI session: {ids:?}");
    let list = cli.ok(&["sessions"]).await;
    let current: Vec<&str> = list.lines().filter(|l| l.starts_with("* ")).collect();
    assert_eq!(current.len(), 1, "{list}");
    assert!(
        current[0].contains(&ids[0]) && current[0].contains("Steward CLI"),
        "{list}"
    );
    assert!(list.lines().count() >= 3, "the web sessions too:\n{list}");
    s.stop().await;
}

#[tokio::test]
async fn cli_two_accounts_switch_and_logout_revokes_at_the_server() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let bea = confirmed_account(&s, "bea@example.com", "bea").await;
    let cli = Steward::new(&s).await;
    browser_login(&cli, "ada").await;
    browser_login(&cli, "bea").await;

    let list = cli.ok(&["accounts"]).await;
    assert_eq!(marked(&list, "USERNAME"), Some(false), "{list}");
    assert_eq!(
        marked(&list, "bea"),
        Some(true),
        "the last login is active:\n{list}"
    );
    assert_eq!(marked(&list, "ada"), Some(false), "{list}");

    let out = cli.ok(&["switch", "ada"]).await;
    assert_eq!(
        out.trim(),
        format!("Switched to ada (ada@example.com) on {}.", s.base)
    );
    assert_eq!(cli.ok(&["whoami"]).await, whoami_text(&s, "ada"));
    assert_eq!(marked(&cli.ok(&["accounts"]).await, "ada"), Some(true));

    // `steward logout` signs the active account (ada) out at the server too.
    let tokens = cli.stored("ada");
    assert_eq!(cli_sessions(&ada).await.len(), 1);
    let out = cli.ok(&["logout"]).await;
    assert!(
        out.contains(&format!("Signed out ada (ada@example.com) on {}.", s.base))
            && out.contains(&format!("Now using bea (bea@example.com) on {}.", s.base)),
        "{out}"
    );
    assert!(
        cli_sessions(&ada).await.is_empty(),
        "gone from ada's sessions"
    );
    assert_eq!(bearer_me(&s, &tokens["access_token"]).await, 401);
    let refused = refresh_with(&s, &tokens["refresh_token"]).await;
    assert_eq!(refused["error"], "invalid_grant", "{refused}");
    let list = cli.ok(&["accounts"]).await;
    assert_eq!(
        (marked(&list, "ada"), marked(&list, "bea")),
        (None, Some(true))
    );
    assert_eq!(cli.ok(&["whoami"]).await, whoami_text(&s, "bea"));

    assert_eq!(cli_sessions(&bea).await.len(), 1);
    let out = cli.ok(&["logout", "--all"]).await;
    assert!(
        out.contains(&format!("Signed out bea (bea@example.com) on {}.", s.base)),
        "{out}"
    );
    assert!(cli_sessions(&bea).await.is_empty());
    assert_eq!(cli.credentials()["accounts"], Value::Array(vec![]));
    assert_eq!(
        cli.ok(&["accounts"]).await.trim(),
        "No accounts are signed in. Run `steward login`."
    );
    let out = cli.run(&["whoami"]).await;
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("steward login"), "{out:?}");
    s.stop().await;
}

#[tokio::test]
async fn cli_refreshes_an_expired_access_token_and_stores_the_rotated_refresh_token() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "ada@example.com", "ada").await;
    let cli = Steward::new(&s).await;
    browser_login(&cli, "ada").await;
    let before = cli.stored("ada");

    // Access tokens last 15 minutes on the server's clock.
    s.advance(time::Duration::minutes(16));
    assert_eq!(bearer_me(&s, &before["access_token"]).await, 401);
    assert_eq!(cli.ok(&["whoami"]).await, whoami_text(&s, "ada"));

    let after = cli.stored("ada");
    assert!(after["refresh_token"].is_string());
    assert_ne!(after["refresh_token"], before["refresh_token"], "rotated");
    assert_ne!(after["access_token"], before["access_token"]);
    assert_eq!(bearer_me(&s, &after["access_token"]).await, 200);
    // And the new refresh token is the one that works next time.
    s.advance(time::Duration::minutes(16));
    assert_eq!(cli.ok(&["whoami"]).await, whoami_text(&s, "ada"));
    assert_ne!(cli.stored("ada")["refresh_token"], after["refresh_token"]);
    s.stop().await;
}

#[tokio::test]
async fn cli_device_login_approved_in_a_signed_in_chromium() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "ada@example.com", "ada").await;
    let cli = Steward::new(&s).await;

    let mut login = cli.spawn(&["login", "--device"]);
    let line = login.line_starting("To sign in, open ").await;
    assert!(line.contains(&format!("{}/device ", s.base)), "{line}");
    let code = line.rsplit(' ').next().unwrap().to_owned();
    assert_eq!(code.len(), 9, "XXXX-XXXX: {line}");
    let complete = login.line_starting("  ").await.trim().to_owned();
    assert_eq!(complete, format!("{}/device?user_code={code}", s.base));

    let browser = Browser::start().await.unwrap();
    let d = &browser.driver;
    d.goto(&format!("{}/signin", s.base)).await.unwrap();
    sign_in_on_page(d, "ada").await;
    wait_for(d, &["Welcome, ada"]).await;
    d.goto(&complete).await.unwrap();
    wait_for(d, &["Connect a device"]).await;
    let typed = d.find(By::Id("user_code")).await.unwrap();
    assert_eq!(typed.value().await.unwrap().as_deref(), Some(code.as_str()));
    click(d, By::Css("form[action='/device'] button[type='submit']")).await;
    wait_for(d, &["Connect Steward CLI?"]).await;
    let shown = d.find(By::Css(".user-code")).await.unwrap().text().await;
    assert_eq!(shown.unwrap(), code, "the page shows the terminal's code");
    click(d, By::Id("allow")).await;
    wait_for(d, &["Device connected"]).await;
    browser.quit().await.unwrap();

    let out = login.finish().await;
    assert_eq!(out.code, Some(0), "{out:?}");
    assert_eq!(
        out.stdout.trim(),
        format!("Signed in as ada (ada@example.com) on {}", s.base)
    );
    assert_eq!(cli.ok(&["whoami"]).await, whoami_text(&s, "ada"));
    s.stop().await;
}

#[tokio::test]
async fn cli_session_revoked_on_the_web_makes_the_cli_ask_to_log_in_again() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let cli = Steward::new(&s).await;
    browser_login(&cli, "ada").await;
    assert_eq!(cli.ok(&["whoami"]).await, whoami_text(&s, "ada"));

    let ids = cli_sessions(&ada).await;
    assert_eq!(ids.len(), 1, "{ids:?}");
    let r = ada
        .delete(&format!("/api/v1/sessions/{}", ids[0]))
        .await
        .unwrap();
    assert_eq!(r.status, 204, "{}", r.text);

    let out = cli.run(&["whoami"]).await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stdout.is_empty(), "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        "Your sign-in as ada has expired or was revoked; run `steward login` again."
    );
    // The account stays listed, signed out, without tokens.
    let list = cli.ok(&["accounts"]).await;
    assert!(list.contains("(signed out; run `steward login`)"), "{list}");
    let stored = cli.stored("ada");
    assert!(stored["refresh_token"].is_null() && stored["access_token"].is_null());
    s.stop().await;
}

#[tokio::test]
async fn cli_login_interrupted_with_ctrl_c_stores_nothing() {
    let s = TestServer::start().await.unwrap();
    let cli = Steward::new(&s).await;
    let mut login = cli.spawn(&["login"]);
    let url = login.line_starting("  ").await;
    assert!(
        url.trim()
            .starts_with(&format!("{}/oauth/authorize?", s.base))
    );

    login.signal("-INT");
    let out = login.finish().await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr.contains("Login cancelled; nothing was stored."),
        "{out:?}"
    );
    assert!(out.stdout.is_empty(), "{out:?}");
    let path = cli.credentials_path();
    if path.exists() {
        assert_eq!(cli.credentials()["accounts"], Value::Array(vec![]));
    }
    assert_eq!(
        cli.ok(&["accounts"]).await.trim(),
        "No accounts are signed in. Run `steward login`."
    );
    s.stop().await;
}

#[tokio::test]
async fn cli_says_when_a_login_expired_or_the_server_is_unreachable() {
    let s = TestServer::start().await.unwrap();
    confirmed_account(&s, "ada@example.com", "ada").await;
    let cli = Steward::new(&s).await;
    browser_login(&cli, "ada").await;
    // Unused for longer than an app stays signed in (30 days): the refresh is refused.
    s.advance(time::Duration::days(31));
    let out = cli.run(&["whoami"]).await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(
        out.stderr.trim(),
        "Your sign-in as ada has expired or was revoked; run `steward login` again."
    );
    s.stop().await;

    let nowhere = Steward {
        home: tempfile::tempdir().unwrap(),
        server: "http://127.0.0.1:9".into(),
    };
    let out = nowhere.run(&["login"]).await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(
        out.stderr
            .contains("Cannot reach the Steward server at http://127.0.0.1:9"),
        "{out:?}"
    );
    assert!(
        !nowhere.credentials_path().exists()
            || nowhere.credentials()["accounts"] == Value::Array(vec![])
    );
}

#[tokio::test]
async fn cli_profile_and_notifications_over_the_api() {
    let s = TestServer::start().await.unwrap();
    let ada = confirmed_account(&s, "ada@example.com", "ada").await;
    let cli = Steward::new(&s).await;
    browser_login(&cli, "ada").await;

    let out = cli
        .ok(&[
            "profile",
            "set",
            "--name",
            "Ada Lovelace",
            "--role",
            "Analyst",
            "--public",
        ])
        .await;
    assert!(out.starts_with("Profile updated."), "{out}");
    assert!(out.contains("Public:    yes, at /@ada"), "{out}");
    let p = ada.get("/api/v1/me/profile").await.unwrap().json;
    assert_eq!(
        (p["name"].as_str(), p["public"].as_bool()),
        (Some("Ada Lovelace"), Some(true))
    );
    let out = cli
        .run(&["profile", "set", "--github", "https://evil.example/ada"])
        .await;
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("github: Enter an https://github.com/… address"),
        "{out:?}"
    );
    let out = cli.ok(&["profile", "set", "--role", ""]).await;
    assert!(
        out.contains("Role:      -") && out.contains("Name:      Ada Lovelace"),
        "cleared one, kept the rest: {out}"
    );

    // A sign-in from a new browser lands in the bell.
    let firefox = s
        .client_as("Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
        .unwrap();
    crate::common::sign_in(&firefox, "ada", PASSWORD, false).await;
    let out = cli.ok(&["notifications"]).await;
    // Chromium (signing in for the CLI) and Firefox were both new devices.
    assert!(out.starts_with("2 unread"), "{out}");
    assert!(
        out.contains("* ") && out.contains("Firefox 133 on Linux signed in"),
        "{out}"
    );
    cli.ok(&["notifications", "read", "--all"]).await;
    assert!(cli.ok(&["notifications"]).await.starts_with("0 unread"));
    let out = cli
        .ok(&["notifications", "set", "usage", "--email", "off"])
        .await;
    assert!(out.contains("usage     off"), "{out}");
    let prefs = ada
        .get("/api/v1/me/notification-preferences")
        .await
        .unwrap()
        .json;
    assert_eq!(prefs["categories"][1]["email"], false);
    let out = cli
        .run(&["notifications", "set", "gossip", "--email", "off"])
        .await;
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("Unknown category gossip"));
    s.stop().await;
}
