//! HTTPS served directly: certificate and key configured, secure cookies, HSTS.

use serde_json::json;
use steward_server::Config;
use steward_testkit::{ApiClient, TestServer};

use crate::common::{PASSWORD, sign_in, sign_up};

/// A server on HTTPS at `https://localhost:PORT` with a self-signed certificate.
struct Https {
    s: TestServer,
    public: String,
    port: u16,
    root: reqwest::Certificate,
    _dir: tempfile::TempDir,
}

impl Https {
    async fn start(tweak: impl FnOnce(&mut Config) + Send + 'static) -> Self {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert_path, cert.cert.pem()).unwrap();
        std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let public = format!("https://localhost:{port}");
        let s = TestServer::builder()
            .config({
                let public = public.clone();
                move |c| {
                    c.listen = format!("127.0.0.1:{port}").parse().unwrap();
                    c.public_url = Some(public);
                    c.tls.cert = Some(cert_path);
                    c.tls.key = Some(key_path);
                    tweak(c);
                }
            })
            .start()
            .await
            .unwrap();
        let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
        Self {
            s,
            public,
            port,
            root,
            _dir: dir,
        }
    }

    /// A browser of its own (an empty cookie jar) that trusts the certificate.
    fn browser(&self) -> ApiClient {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let http = reqwest::Client::builder()
            .add_root_certificate(self.root.clone())
            .resolve(
                "localhost",
                format!("127.0.0.1:{}", self.port).parse().unwrap(),
            )
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        ApiClient {
            base: self.public.clone(),
            http,
            jar,
        }
    }
}

#[tokio::test]
async fn https_with_secure_host_cookies_and_hsts() {
    let https = Https::start(|_| {}).await;
    let (s, public, port) = (&https.s, https.public.clone(), https.port);
    let c = https.browser();
    let r = c.get("/healthz").await.unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers["strict-transport-security"],
        "max-age=31536000; includeSubDomains"
    );

    assert_eq!(
        sign_up(&c, "tls@example.com", "tls-user", PASSWORD)
            .await
            .status,
        201
    );
    let mail = s
        .smtp
        .wait_for("tls@example.com", "Confirm your")
        .await
        .unwrap();
    assert!(
        mail.link(&format!("{public}/verify-email?token="))
            .is_some(),
        "links use the public HTTPS URL"
    );
    let r = c
        .post(
            "/api/v1/session",
            json!({"identifier": "tls-user", "password": PASSWORD, "remember": true}),
        )
        .await
        .unwrap();
    let cookie = r
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("__Host-steward_session="))
        .expect("__Host- cookie over HTTPS");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/") && !cookie.contains("Domain="),
        "{cookie}"
    );
    assert_eq!(c.get("/api/v1/me").await.unwrap().status, 200);

    // Plain HTTP to the TLS port gets no answer from the application.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await;
    assert!(
        plain.is_err(),
        "plain HTTP must not be served on the TLS port: {plain:?}"
    );
}

/// The name and attributes of the device cookie in `r`, if it set one.
fn device_cookie(r: &steward_testkit::client::Answer) -> Option<String> {
    r.set_cookies()
        .into_iter()
        .find(|c| c.contains("steward_device="))
}

#[tokio::test]
async fn over_https_the_device_cookie_is_host_prefixed_and_still_vouches_for_the_browser() {
    let https = Https::start(|c| {
        c.limits.signin_failures_per_account = 2;
        c.limits.credential_per_ip_per_minute = 1000;
    })
    .await;
    let s = &https.s;
    let owner = https.browser();
    assert_eq!(
        sign_up(&owner, "dev@example.com", "dev-user", PASSWORD)
            .await
            .status,
        201
    );
    let mail = s
        .smtp
        .wait_for("dev@example.com", "Confirm your")
        .await
        .unwrap();
    let token = mail
        .token(&format!("{}/verify-email", https.public))
        .unwrap();
    let r = owner
        .post("/api/v1/accounts/verify-email", json!({"token": token}))
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    let r = sign_in(&owner, "dev-user", PASSWORD, true).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let cookie = device_cookie(&r).expect("a device cookie");
    assert!(
        cookie.starts_with("__Host-steward_device="),
        "prefixed over HTTPS: {cookie}"
    );
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/") && !cookie.contains("Domain="),
        "{cookie}"
    );
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();

    // Strangers' failures make sign-in with this username ask for proof of work...
    let stranger = https.browser();
    for _ in 0..2 {
        let r = sign_in(&stranger, "dev-user", "guess guess guess", false).await;
        assert_eq!(r.code(), "invalid_credentials");
    }
    assert_eq!(
        sign_in(&stranger, "dev-user", PASSWORD, false).await.code(),
        "challenge_required"
    );
    // ...but not of the owner's browser, whose prefixed cookie is read back.
    let r = sign_in(&owner, "dev-user", PASSWORD, false).await;
    assert_eq!(r.status, 200, "the device cookie vouches: {}", r.text);
    assert!(
        device_cookie(&r)
            .unwrap()
            .starts_with("__Host-steward_device=")
    );

    // The unprefixed cookie an older Steward wrote is not read over HTTPS: that
    // browser is asked once, like a new one, and gets the prefixed cookie.
    let old = https.browser();
    old.jar.add_cookie_str(
        &format!("steward_device={value}; Path=/; Secure"),
        &https.public.parse().unwrap(),
    );
    assert_eq!(
        sign_in(&old, "dev-user", PASSWORD, false).await.code(),
        "challenge_required"
    );
    let altcha = old.altcha().await.unwrap();
    let r = old
        .post(
            "/api/v1/session",
            json!({"identifier": "dev-user", "password": PASSWORD, "altcha": altcha}),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        device_cookie(&r)
            .unwrap()
            .starts_with("__Host-steward_device=")
    );
}
