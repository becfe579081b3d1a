//! HTTPS served directly: certificate and key configured, secure cookies, HSTS.

use serde_json::json;
use steward_testkit::TestServer;

use crate::common::{PASSWORD, sign_up};

#[tokio::test]
async fn https_with_secure_host_cookies_and_hsts() {
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
            }
        })
        .start()
        .await
        .unwrap();

    let root = reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap();
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let http = reqwest::Client::builder()
        .add_root_certificate(root)
        .resolve("localhost", format!("127.0.0.1:{port}").parse().unwrap())
        .cookie_provider(jar.clone())
        .build()
        .unwrap();
    let c = steward_testkit::ApiClient {
        base: public.clone(),
        http,
        jar,
    };
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
