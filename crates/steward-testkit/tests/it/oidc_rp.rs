//! A strict relying party for the OpenID Connect tests: `openid-client` (npm) run
//! through `tests/oauth/openid_client.mjs`, and the person's side of a sign-in as
//! plain HTTP requests carrying their cookies.

use serde_json::{Value, json};
use steward_testkit::client::Answer;
use steward_testkit::{ApiClient, TestServer};

use crate::oauth::location;

/// Where `scripts/test` installs openid-client (`npm ci` from the committed lockfile).
fn node_modules() -> String {
    std::env::var("STEWARD_TEST_NODE_MODULES").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../target/oidc-node/node_modules"
        )
        .to_owned()
    })
}

/// An app as the relying party sees it.
#[derive(Debug, Clone)]
pub(crate) struct Rp {
    pub(crate) base: String,
    pub(crate) client_id: String,
    pub(crate) secret: String,
    pub(crate) redirect: String,
    pub(crate) alg: String,
}

/// An authorization request the relying party started.
#[derive(Debug, Clone)]
pub(crate) struct Started {
    /// The authorization URL (absolute).
    pub(crate) url: String,
    state: Value,
}

impl Started {
    /// The path and query to open on the server.
    pub(crate) fn path(&self, base: &str) -> String {
        self.url.trim_start_matches(base).to_owned()
    }
}

impl Rp {
    /// Registers a confidential third-party app for `owner`, signing with `alg`.
    pub(crate) async fn register(s: &TestServer, owner: &ApiClient, alg: Option<&str>) -> Self {
        let redirect = "https://rp.example.test/callback";
        let mut body = json!({"name": "Strict RP", "redirect_uris": [redirect],
                              "scopes": ["openid", "email"]});
        if let Some(a) = alg {
            body["id_token_signed_response_alg"] = json!(a);
        }
        let r = owner.post("/api/v1/apps", body).await.unwrap();
        assert_eq!(r.status, 201, "{}", r.text);
        Self {
            base: s.base.clone(),
            client_id: r.json["app"]["client_id"].as_str().unwrap().to_owned(),
            secret: r.json["client_secret"].as_str().unwrap().to_owned(),
            redirect: redirect.to_owned(),
            // What the server says it stored (ES256 when it says nothing).
            alg: r.json["app"]["id_token_signed_response_alg"]
                .as_str()
                .unwrap_or("ES256")
                .to_owned(),
        }
    }

    /// The built-in CLI (public, loopback, ES256).
    pub(crate) fn cli(s: &TestServer) -> Self {
        Self {
            base: s.base.clone(),
            client_id: "steward-cli".into(),
            secret: String::new(),
            redirect: crate::oauth::LOOPBACK.into(),
            alg: "ES256".into(),
        }
    }

    fn command(&self, step: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("node");
        cmd.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/oauth/openid_client.mjs"
        ))
        .arg(step)
        .env("STEWARD_BASE", &self.base)
        .env("STEWARD_CLIENT_ID", &self.client_id)
        .env("STEWARD_CLIENT_SECRET", &self.secret)
        .env("STEWARD_REDIRECT_URI", &self.redirect)
        .env("STEWARD_ALG", &self.alg)
        .env("STEWARD_NODE_MODULES", node_modules());
        cmd
    }

    async fn run(&self, step: &str, extra: &[(&str, String)]) -> Value {
        let mut cmd = self.command(step);
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let out = cmd.output().await.unwrap_or_else(|e| {
            panic!("cannot run node ({e}): run scripts/test, which installs openid-client")
        });
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "openid-client {step} {extra:?}: {stdout}\n{stderr}"
        );
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    }

    /// Builds an authorization request with extra parameters (`prompt`, `max_age`, …).
    pub(crate) async fn start(&self, params: Value) -> Started {
        let out = self
            .run("start", &[("STEWARD_PARAMS", params.to_string())])
            .await;
        Started {
            url: out["url"].as_str().unwrap().to_owned(),
            state: out["state"].clone(),
        }
    }

    /// Like [`Rp::finish`], but the client's refusal is the answer (`Err` with its words).
    pub(crate) async fn try_finish(
        &self,
        started: &Started,
        callback: &str,
    ) -> Result<Value, String> {
        let out = self
            .command("finish")
            .env("STEWARD_STATE", started.state.to_string())
            .env("STEWARD_CALLBACK", callback)
            .output()
            .await
            .unwrap();
        if out.status.success() {
            Ok(serde_json::from_slice(&out.stdout).unwrap())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Hands the address the browser was sent back to to the relying party: the ID
    /// token's claims (`claims`, `alg`, `kid`), or the error the server answered.
    pub(crate) async fn finish(&self, started: &Started, callback: &str) -> Value {
        self.run(
            "finish",
            &[
                ("STEWARD_STATE", started.state.to_string()),
                ("STEWARD_CALLBACK", callback.to_owned()),
            ],
        )
        .await
    }
}

/// What the person's browser ends on: a page of Steward's, or the app's address.
#[derive(Debug)]
pub(crate) enum Landing {
    /// A Steward page (the last answer, with the path it came from).
    Page(Answer, String),
    /// Sent back to the app (by a redirect, never a page).
    App(String),
}

/// Opens `path` in the person's browser and follows Steward's own redirects.
pub(crate) async fn visit(c: &ApiClient, path: &str) -> Landing {
    let mut path = path.to_owned();
    for _ in 0..10 {
        let r = c.get(&path).await.unwrap();
        if r.status != 303 {
            return Landing::Page(r, path);
        }
        let to = location(&r);
        if !to.starts_with('/') {
            return Landing::App(to);
        }
        path = to;
    }
    panic!("too many redirects from {path}");
}

/// The app's address a "You are signed in" page forwards to.
pub(crate) fn forwarded_to(page: &Answer) -> String {
    assert!(page.text.contains("You are signed in"), "{}", page.text);
    let target = page.text.split("content=\"1;url=").nth(1).unwrap();
    unescape(&target[..target.find('"').unwrap()])
}

/// Undoes the HTML escaping of an attribute value.
pub(crate) fn unescape(v: &str) -> String {
    v.replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&#61;", "=")
        .replace("&#47;", "/")
}

/// The hidden `as_account` of a page's form.
pub(crate) fn as_account(page: &Answer) -> String {
    let v = page
        .text
        .split("name=\"as_account\" value=\"")
        .nth(1)
        .unwrap();
    v[..v.find('"').unwrap()].to_owned()
}

/// Clicks Allow / Continue on an authorization page; returns the app's address.
pub(crate) async fn allow(c: &ApiClient, page: &Answer, path: &str) -> String {
    assert!(page.text.contains("id=\"allow\""), "{}", page.text);
    let path = path.split('?').next().unwrap();
    let r = c
        .post_form(
            path,
            &[("decision", "allow"), ("as_account", &as_account(page))],
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    forwarded_to(&r)
}

/// Where the browser was sent back to the app; panics if a page was shown.
pub(crate) fn app_landing(l: Landing) -> String {
    match l {
        Landing::App(url) => url,
        Landing::Page(p, path) => panic!("prompt=none showed a page at {path}: {}", p.text),
    }
}

/// The page the browser ended on; panics if it went back to the app.
pub(crate) fn page_landing(l: Landing) -> (Answer, String) {
    match l {
        Landing::Page(p, path) => (p, path),
        Landing::App(url) => panic!("expected a page, went back to the app: {url}"),
    }
}

/// The value of a hidden form field of a page.
pub(crate) fn hidden(page: &Answer, name: &str) -> String {
    let v = page
        .text
        .split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .unwrap_or_else(|| panic!("no {name} in {}", page.text));
    unescape(&v[..v.find('"').unwrap()])
}

/// A first sign-in to the app through its consent screen; the ID token's claims.
pub(crate) async fn first_sign_in(rp: &Rp, c: &ApiClient) -> Value {
    let st = rp.start(json!({})).await;
    let (page, path) = page_landing(visit(c, &st.path(&rp.base)).await);
    assert!(page.text.contains("wants to access your Steward account"));
    let back = allow(c, &page, &path).await;
    rp.finish(&st, &back).await
}

/// Moves the server's (manual, standing) clock to `ahead` past the real time. A
/// sign-in made after that carries an `auth_time` the relying party's real clock
/// cannot find stale however slow the machine, while one made before the server
/// started keeps the real time it had, which a strict client finds too old once
/// more than its few seconds of tolerance have passed.
pub(crate) fn clock_ahead(s: &TestServer, ahead: time::Duration) {
    let behind = time::OffsetDateTime::now_utc() + ahead - s.running.steward.now();
    if behind > time::Duration::ZERO {
        s.advance(behind);
    }
}
