//! The loopback side of `steward login` (RFC 8252 §7.3): a listener on
//! `127.0.0.1` that receives the browser's redirect with the code, checks its
//! `state`, and tells the browser tab how it went.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::error::{CliError, Result, printable};
use crate::secret::Secret;

/// The query of `GET /callback` on the loopback listener.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CallbackParams {
    /// The authorization code, on success.
    pub code: Option<Secret>,
    /// Must equal the request's `state`.
    pub state: Option<String>,
    /// RFC 6749 §4.1.2.1 error code.
    pub error: Option<String>,
    /// Its sentence.
    pub error_description: Option<String>,
    /// A parameter above appeared more than once.
    pub repeated: bool,
}

impl CallbackParams {
    /// Parses a query string (without the `?`).
    pub fn parse(query: &str) -> Self {
        let mut p = Self::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            let v = v.into_owned();
            let slot_taken = match k.as_ref() {
                "code" => p.code.replace(Secret::new(v)).is_some(),
                "state" => p.state.replace(v).is_some(),
                "error" => p.error.replace(v).is_some(),
                "error_description" => p.error_description.replace(v).is_some(),
                _ => false,
            };
            p.repeated |= slot_taken;
        }
        p
    }

    /// Whether this looks like an authorization answer at all (rather than a
    /// stray request), and so ends the wait.
    pub fn is_answer(&self) -> bool {
        self.code.is_some() || self.state.is_some() || self.error.is_some()
    }

    /// The code, if `state` matches and the server did not report an error.
    pub fn check(self, expected_state: &str) -> Result<Secret> {
        if self.repeated || self.state.as_deref() != Some(expected_state) {
            return Err(CliError::StateMismatch);
        }
        if let Some(code) = self.error {
            let code = printable(&code);
            if code == "access_denied" {
                return Err(CliError::AccessDenied);
            }
            let description = self
                .error_description
                .map(|d| printable(&d))
                .unwrap_or_else(|| "the server did not say why".to_owned());
            return Err(CliError::Authorization { code, description });
        }
        self.code.ok_or_else(|| CliError::Authorization {
            code: "invalid_response".into(),
            description: "the browser came back without a code".into(),
        })
    }
}

/// The loopback listener on `127.0.0.1`, port chosen by the system.
#[derive(Debug)]
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

type Answer = oneshot::Sender<Result<Secret>>;

#[derive(Debug)]
struct Waiting {
    expected_state: String,
    answer: Mutex<Option<Answer>>,
}

impl Loopback {
    /// Binds `127.0.0.1:0`.
    pub async fn bind() -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(CliError::Loopback)?;
        let port = listener.local_addr().map_err(CliError::Loopback)?.port();
        Ok(Self { listener, port })
    }

    /// The port listened on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:{port}/callback`.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/callback", self.port)
    }

    /// Serves `/callback` until the first authorization answer, and returns its
    /// code (or error); gives up with [`CliError::LoginTimedOut`] after
    /// `timeout`. The browser gets a short page saying how it went. The
    /// listener is closed when this returns.
    pub async fn wait(self, expected_state: &str, timeout: Duration) -> Result<Secret> {
        let (tx, rx) = oneshot::channel();
        let waiting = Arc::new(Waiting {
            expected_state: expected_state.to_owned(),
            answer: Mutex::new(Some(tx)),
        });
        let app = Router::new()
            .route("/callback", get(callback))
            .fallback(|| async { page(StatusCode::NOT_FOUND, "Not found", "Nothing here.") })
            .with_state(waiting);
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let serve = axum::serve(self.listener, app).with_graceful_shutdown(async {
            let _ = stop_rx.await;
        });
        let mut server = tokio::spawn(async move {
            let _ = serve.await;
        });
        let outcome = tokio::select! {
            answer = rx => answer.unwrap_or(Err(CliError::LoginCancelled)),
            () = tokio::time::sleep(timeout) => Err(CliError::LoginTimedOut(timeout)),
        };
        // Let the page reach the browser, then stop listening.
        let _ = stop_tx.send(());
        if tokio::time::timeout(Duration::from_secs(2), &mut server)
            .await
            .is_err()
        {
            server.abort();
        }
        outcome
    }
}

async fn callback(State(waiting): State<Arc<Waiting>>, RawQuery(query): RawQuery) -> Response {
    let params = CallbackParams::parse(query.as_deref().unwrap_or(""));
    if !params.is_answer() {
        return page(
            StatusCode::BAD_REQUEST,
            "Not a sign-in answer",
            "This address only receives the answer to <code>steward login</code>.",
        );
    }
    let Some(answer) = waiting.answer.lock().ok().and_then(|mut a| a.take()) else {
        return page(
            StatusCode::CONFLICT,
            "Already finished",
            "This sign-in is already finished. Return to the terminal.",
        );
    };
    let result = params.check(&waiting.expected_state);
    let response = match &result {
        Ok(_) => page(
            StatusCode::OK,
            "Signed in to Steward",
            "Signed in to Steward. You can close this tab and return to the terminal.",
        ),
        Err(e) => page(
            StatusCode::BAD_REQUEST,
            "Sign-in failed",
            &format!(
                "{}</p><p>Return to the terminal and run <code>steward login</code> again.",
                html_escape(&browser_message(e))
            ),
        ),
    };
    let _ = answer.send(result);
    response
}

/// What the browser tab says about a failed callback.
fn browser_message(e: &CliError) -> String {
    match e {
        CliError::StateMismatch => {
            "This answer does not belong to the sign-in the terminal is waiting for.".to_owned()
        }
        CliError::AccessDenied => "Sign-in was refused.".to_owned(),
        CliError::Authorization { description, .. } => description.clone(),
        other => other.to_string(),
    }
}

/// A small self-contained HTML page; `body_html` must already be escaped.
fn page(status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} · Steward</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:34rem;margin:4rem auto;padding:0 1rem;line-height:1.5}}</style>\
         </head><body><h1>{title}</h1><p>{body_html}</p></body></html>\n"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
        ],
        html,
    )
        .into_response()
}

/// Escapes text for HTML element content and attribute values.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn callback_with_matching_state_yields_the_code() {
        let p = CallbackParams::parse("code=abc%2F1&state=s1");
        assert!(p.is_answer());
        assert_eq!(p.check("s1").unwrap().expose(), "abc/1");
    }

    #[test]
    fn callback_state_mismatch_is_refused() {
        for q in [
            "code=abc&state=other",
            "code=abc",
            "code=abc&state=s1&state=s1",
            "error=access_denied&state=forged",
        ] {
            let err = CallbackParams::parse(q).check("s1").unwrap_err();
            assert!(matches!(err, CliError::StateMismatch), "{q}: {err}");
        }
    }

    #[test]
    fn callback_error_parameters_are_reported() {
        let err = CallbackParams::parse("error=access_denied&state=s1")
            .check("s1")
            .unwrap_err();
        assert_eq!(err.to_string(), "Sign-in was refused in the browser.");
        let err = CallbackParams::parse(
            "error=invalid_scope&error_description=Unknown+scope%3A+%1B%5B31mfoo&state=s1",
        )
        .check("s1")
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "Sign-in failed: Unknown scope: [31mfoo (invalid_scope). Run `steward login` again."
        );
        assert!(!CallbackParams::parse("foo=bar").is_answer());
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            html_escape("<script>\"x\" & 'y'</script>"),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[tokio::test]
    async fn loopback_yields_the_code_from_a_real_request() {
        let lb = Loopback::bind().await.unwrap();
        let uri = lb.redirect_uri();
        assert!(uri.starts_with("http://127.0.0.1:"));
        assert!(uri.ends_with("/callback"));
        let port = lb.port();
        let browser = tokio::spawn(async move {
            let http = reqwest::Client::new();
            // A stray request does not end the wait.
            let stray = http
                .get(format!("http://127.0.0.1:{port}/favicon.ico"))
                .send()
                .await
                .unwrap();
            assert_eq!(stray.status(), 404);
            let stray = http
                .get(format!("http://127.0.0.1:{port}/callback"))
                .send()
                .await
                .unwrap();
            assert_eq!(stray.status(), 400);
            let resp = http
                .get(format!("http://127.0.0.1:{port}/callback?code=x&state=s"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            assert_eq!(resp.headers()["content-type"], "text/html; charset=utf-8");
            resp.text().await.unwrap()
        });
        let code = lb.wait("s", Duration::from_secs(10)).await.unwrap();
        assert_eq!(code.expose(), "x");
        let body = browser.await.unwrap();
        assert!(
            body.contains(
                "Signed in to Steward. You can close this tab and return to the terminal."
            ),
            "{body}"
        );
        // The listener is gone after the first answer.
        let again = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/callback?code=y&state=s"))
            .send()
            .await;
        assert!(again.is_err(), "still listening");
    }

    #[tokio::test]
    async fn loopback_reports_errors_to_the_browser_escaped() {
        let lb = Loopback::bind().await.unwrap();
        let port = lb.port();
        let browser = tokio::spawn(async move {
            reqwest::get(format!(
                "http://127.0.0.1:{port}/callback?error=server_error&error_description=%3Cb%3Eboom%3C%2Fb%3E&state=s"
            ))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
        });
        let err = lb.wait("s", Duration::from_secs(10)).await.unwrap_err();
        assert!(matches!(err, CliError::Authorization { .. }), "{err}");
        let body = browser.await.unwrap();
        assert!(body.contains("&lt;b&gt;boom&lt;/b&gt;"), "{body}");
        assert!(!body.contains("<b>boom"), "{body}");
    }

    #[tokio::test]
    async fn loopback_state_mismatch_fails_the_login() {
        let lb = Loopback::bind().await.unwrap();
        let port = lb.port();
        tokio::spawn(async move {
            let _ = reqwest::get(format!(
                "http://127.0.0.1:{port}/callback?code=x&state=evil"
            ))
            .await;
        });
        let err = lb.wait("s", Duration::from_secs(10)).await.unwrap_err();
        assert!(matches!(err, CliError::StateMismatch), "{err}");
    }

    #[tokio::test]
    async fn loopback_times_out() {
        let lb = Loopback::bind().await.unwrap();
        let err = lb.wait("s", Duration::from_millis(100)).await.unwrap_err();
        assert!(matches!(err, CliError::LoginTimedOut(_)), "{err}");
    }
}
