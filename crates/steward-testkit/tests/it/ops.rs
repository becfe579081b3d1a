//! Health, readiness, metrics, OpenAPI, security headers, configuration.

use steward_server::config::{Config, Overrides};
use steward_testkit::{ApiClient, TestServer};

#[tokio::test]
async fn health_readiness_and_metrics_only_where_the_operator_serves_them() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    assert_eq!(c.get("/healthz").await.unwrap().status, 200);
    assert_eq!(c.get("/readyz").await.unwrap().text, "ready");
    c.get("/api/v1/me").await.unwrap();
    // Not on the public listener: the same 404 as any unknown path.
    let public = c.get("/metrics").await.unwrap();
    let unknown = c.get("/no-such-page").await.unwrap();
    assert_eq!(public.status, 404);
    assert_eq!(public.json, unknown.json);
    assert!(!public.text.contains("steward_"));
    // On the metrics listener (loopback by default).
    let metrics = ApiClient::new(&s.metrics_base().unwrap()).unwrap();
    let m = metrics.get("/metrics").await.unwrap();
    assert_eq!(m.status, 200);
    assert!(m.text.contains("steward_http_requests_total"), "{}", m.text);
    assert!(m.text.contains("steward_mail_outbox_pending"));
    assert_eq!(
        metrics.get("/api/v1/me").await.unwrap().status,
        404,
        "only metrics there"
    );
    let r = s.running.metrics_addr.unwrap();
    assert!(r.ip().is_loopback());
    assert!(Config::default().metrics.listen.starts_with("127.0.0.1:"));
}

#[tokio::test]
async fn metrics_on_the_main_listener_need_the_configured_bearer_token() {
    let s = TestServer::builder()
        .config(|c| c.metrics.bearer_token = Some("a-long-metrics-token-0123".into()))
        .start()
        .await
        .unwrap();
    let get = |auth: Option<&'static str>| {
        let base = s.base.clone();
        async move {
            let mut req = reqwest::Client::new().get(format!("{base}/metrics"));
            if let Some(a) = auth {
                req = req.header("authorization", a);
            }
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    assert_eq!(get(None).await.0, 401);
    assert_eq!(get(Some("Bearer a-long-metrics-token-012")).await.0, 401);
    assert_eq!(get(Some("Basic a-long-metrics-token-0123")).await.0, 401);
    let (status, text) = get(Some("Bearer a-long-metrics-token-0123")).await;
    assert_eq!(status, 200);
    assert!(text.contains("steward_http_requests_total"));
}

#[tokio::test]
async fn metrics_do_not_tell_which_mail_went_out() {
    let s = TestServer::start().await.unwrap();
    crate::common::confirmed_account(&s, "ada@example.com", "ada").await;
    let c = s.client().unwrap();
    for email in ["ada@example.com", "nobody@example.com"] {
        let r = c
            .post(
                "/api/v1/recovery/password",
                serde_json::json!({"email": email, "altcha": c.altcha().await.unwrap()}),
            )
            .await
            .unwrap();
        assert_eq!(r.status, 202);
    }
    s.smtp.wait_for("ada@example.com", "Reset").await.unwrap();
    let m = ApiClient::new(&s.metrics_base().unwrap())
        .unwrap()
        .get("/metrics")
        .await
        .unwrap()
        .text;
    let mail_lines: Vec<&str> = m
        .lines()
        .filter(|l| l.starts_with("steward_mail_"))
        .collect();
    assert!(
        mail_lines
            .iter()
            .any(|l| l.starts_with("steward_mail_sent_total ")),
        "{mail_lines:?}"
    );
    for l in &mail_lines {
        assert!(
            !l.contains("kind=") && !l.contains("reset") && !l.contains("verify"),
            "{l}"
        );
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_endpoint() {
    let s = TestServer::start().await.unwrap();
    let doc = s
        .client()
        .unwrap()
        .get("/api/openapi.json")
        .await
        .unwrap()
        .json;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    for path in [
        "/api/v1/challenge",
        "/api/v1/accounts",
        "/api/v1/accounts/verify-email",
        "/api/v1/accounts/verify-email/resend",
        "/api/v1/session",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/recovery/password",
        "/api/v1/recovery/password/complete",
        "/api/v1/recovery/username",
        "/api/v1/session/accounts",
        "/api/v1/session/switch",
        "/api/v1/sessions",
        "/api/v1/sessions/{id}",
        "/api/v1/me/security-activity",
        "/api/v1/live",
        "/api/v1/apps",
        "/api/v1/apps/{client_id}",
        "/api/v1/me/connected-apps",
        "/api/v1/me/connected-apps/{client_id}",
        "/api/v1/me/disclosures",
        "/api/v1/me/profile",
        "/api/v1/me/profile/photo",
        "/api/v1/me/username",
        "/api/v1/me/email",
        "/api/v1/me/email/confirm",
        "/api/v1/me/notification-preferences",
        "/api/v1/me/notifications",
        "/api/v1/me/notifications/{id}/read",
        "/api/v1/me/notifications/read-all",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    assert!(doc["paths"]["/api/v1/sessions"]["delete"].is_object());
    for schema in [
        "SignUpRequest",
        "SessionList",
        "SessionView",
        "SecurityActivity",
        "BrowserAccounts",
    ] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "{schema} missing"
        );
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn security_headers_are_on_every_answer() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    for path in ["/", "/signin", "/api/v1/me", "/healthz", "/nope"] {
        let r = c.get(path).await.unwrap();
        let h = &r.headers;
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'")
                && csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline"),
            "{path}"
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
        assert!(
            h.get("strict-transport-security").is_none(),
            "no HSTS over plain http"
        );
    }
}

#[tokio::test]
async fn pages_have_no_inline_script() {
    let s = TestServer::start().await.unwrap();
    let c = s.client().unwrap();
    for path in [
        "/",
        "/signup",
        "/signin",
        "/trouble-signing-in",
        "/legal/terms",
        "/legal/privacy",
    ] {
        let r = c.get(path).await.unwrap();
        assert_eq!(r.status, 200, "{path}");
        for chunk in r.text.split("<script").skip(1) {
            assert!(
                chunk.trim_start().starts_with("src="),
                "inline script on {path}"
            );
        }
        assert!(
            !r.text.contains(" onclick=") && !r.text.contains(" style="),
            "inline handler or style on {path}"
        );
    }
}

#[test]
fn config_layers_and_unknown_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("steward.toml");
    std::fs::write(
        &file,
        "listen = \"127.0.0.1:9000\"\n[mail]\nfrom = \"Ops <ops@example.com>\"\n",
    )
    .unwrap();
    let secret = dir.path().join("smtp");
    std::fs::write(&secret, "smtp://user:hunter2@mail.example.com:2525\n").unwrap();
    let env = vec![
        (
            "STEWARD_DATABASE_URL".to_owned(),
            "postgres://steward:pw@db/steward".to_owned(),
        ),
        (
            "STEWARD_MAIL__SMTP_URL_FILE".to_owned(),
            secret.display().to_string(),
        ),
        (
            "STEWARD_LIMITS__CREDENTIAL_PER_IP_PER_MINUTE".to_owned(),
            "99".to_owned(),
        ),
        ("STEWARD_TEST_PG".to_owned(), "ignored".to_owned()),
    ];
    let over = Overrides {
        public_url: Some("https://id.example.com/".into()),
        ..Overrides::default()
    };
    let cfg = Config::load_from(Some(&file), env.into_iter(), &over).unwrap();
    assert_eq!(cfg.listen.port(), 9000);
    assert_eq!(cfg.mail.from, "Ops <ops@example.com>");
    assert_eq!(
        cfg.mail.smtp_url.as_deref(),
        Some("smtp://user:hunter2@mail.example.com:2525")
    );
    assert_eq!(cfg.limits.credential_per_ip_per_minute, 99);
    assert_eq!(cfg.public_url(), "https://id.example.com");
    assert!(cfg.secure_cookies());
    let shown = format!("{cfg:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains(":pw@"),
        "{shown}"
    );

    let bad = vec![("STEWARD_LISTNE".to_owned(), "x".to_owned())];
    assert!(Config::load_from(None, bad.into_iter(), &Overrides::default()).is_err());
    std::fs::write(&file, "[mail]\nsmtp = \"x\"\n").unwrap();
    assert!(Config::load_from(Some(&file), std::iter::empty(), &Overrides::default()).is_err());
    // Session and activity settings: read from the environment, out-of-range refused.
    let env = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())].into_iter();
    let cfg = Config::load_from(
        None,
        env("STEWARD_SESSIONS__ABSOLUTE_HOURS", "8"),
        &Overrides::default(),
    )
    .unwrap();
    assert_eq!(cfg.sessions.absolute_hours, 8);
    for (k, v) in [
        ("STEWARD_SESSIONS__REMEMBER_DAYS", "0"),
        ("STEWARD_SESSIONS__REMEMBER_DAYS", "100000"),
        ("STEWARD_SESSIONS__IDLE_MINUTES", "0"),
        ("STEWARD_SESSIONS__ABSOLUTE_HOURS", "0"),
        ("STEWARD_ACTIVITY__RETENTION_DAYS", "0"),
        ("STEWARD_ACTIVITY__IP_RETENTION_DAYS", "4000000"),
        ("STEWARD_SESSIONS__CACHE_TTL_SECS", "999999"),
    ] {
        let err = Config::load_from(None, env(k, v), &Overrides::default());
        assert!(err.is_err(), "{k}={v} accepted");
    }
}

#[tokio::test]
async fn defaults_serve_sqlite_in_the_data_dir_and_mail_to_the_local_mailbox() {
    let dir = tempfile::tempdir().unwrap();
    // A real port, as an operator gives: the default public URL (and so the names the
    // mailbox page answers to) comes from it.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = probe.local_addr().unwrap();
    drop(probe);
    let cfg = Config {
        listen,
        data_dir: dir.path().to_path_buf(),
        ..Config::default()
    };
    assert!(cfg.mail.smtp_url.is_none());
    let running = steward_server::start(cfg, std::sync::Arc::new(steward_core::clock::SystemClock))
        .await
        .unwrap();
    let base = format!("http://{}", running.addr);
    let c = steward_testkit::ApiClient::new(&base).unwrap();
    let r = crate::common::sign_up(&c, "local@example.com", "local", crate::common::PASSWORD).await;
    assert_eq!(r.status, 201);
    assert!(dir.path().join("steward.db").exists());
    let mut found = None;
    for _ in 0..100 {
        let page = c.get("/mailbox").await.unwrap();
        if page.text.contains("Confirm your Steward email address") {
            found = Some(page);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let page = found.expect("mail shown on the loopback mailbox page");
    assert!(page.text.contains("local@example.com"));
    let files: Vec<_> = std::fs::read_dir(dir.path().join("mailbox"))
        .unwrap()
        .flatten()
        .collect();
    assert!(
        files
            .iter()
            .any(|f| f.path().extension().is_some_and(|e| e == "eml"))
    );
    running.shutdown().await;
}
