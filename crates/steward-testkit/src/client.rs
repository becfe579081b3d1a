//! An HTTP client for the API with its own cookie jar (one per "browser").

use reqwest::{Method, StatusCode};
use serde_json::Value;

/// A client bound to one test server, keeping cookies like a browser.
#[derive(Debug, Clone)]
pub struct ApiClient {
    /// The server's base URL.
    pub base: String,
    /// The underlying client.
    pub http: reqwest::Client,
    /// Its cookies.
    pub jar: std::sync::Arc<reqwest::cookie::Jar>,
}

/// An answer: status, headers and JSON body (or `Null`).
#[derive(Debug)]
pub struct Answer {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: reqwest::header::HeaderMap,
    /// Body parsed as JSON, or `Null`.
    pub json: Value,
    /// Raw body.
    pub text: String,
}

impl Answer {
    /// `error.code` of an error answer.
    pub fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or_default()
    }

    /// `error.fields.<name>` of an error answer.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.json["error"]["fields"][name].as_str()
    }

    /// Every `Set-Cookie` header.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }
}

impl ApiClient {
    /// A fresh client with an empty cookie jar, not following redirects.
    pub fn new(base: &str) -> anyhow::Result<Self> {
        Self::build(base, None)
    }

    /// A fresh client that introduces itself with `user_agent` (another "device").
    pub fn with_user_agent(base: &str, user_agent: &str) -> anyhow::Result<Self> {
        Self::build(base, Some(user_agent))
    }

    fn build(base: &str, user_agent: Option<&str>) -> anyhow::Result<Self> {
        let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
        let mut b = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none());
        if let Some(ua) = user_agent {
            b = b.user_agent(ua);
        }
        let http = b.build()?;
        Ok(Self {
            base: base.to_owned(),
            http,
            jar,
        })
    }

    /// Puts a cookie in the jar as if the server had set it (`name=value; Path=/`).
    pub fn set_cookie(&self, cookie: &str) -> anyhow::Result<()> {
        self.jar
            .add_cookie_str(cookie, &url::Url::parse(&self.base)?);
        Ok(())
    }

    /// The value of a cookie the jar would send, if any.
    pub fn cookie(&self, name: &str) -> Option<String> {
        use reqwest::cookie::CookieStore;
        let url = url::Url::parse(&self.base).ok()?;
        let header = self.jar.cookies(&url)?;
        header
            .to_str()
            .ok()?
            .split(';')
            .filter_map(|p| p.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }

    /// Sends a request with an optional JSON body.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Answer> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(b) = body {
            req = req.json(b);
        }
        Self::answer(req.send().await?).await
    }

    /// Sends a raw body with a content type.
    pub async fn send_raw(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> anyhow::Result<Answer> {
        let req = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header("content-type", content_type)
            .body(body);
        Self::answer(req.send().await?).await
    }

    /// GET.
    pub async fn get(&self, path: &str) -> anyhow::Result<Answer> {
        self.send(Method::GET, path, None).await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, body: Value) -> anyhow::Result<Answer> {
        self.send(Method::POST, path, Some(&body)).await
    }

    /// PUT JSON.
    pub async fn put(&self, path: &str, body: Value) -> anyhow::Result<Answer> {
        self.send(Method::PUT, path, Some(&body)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> anyhow::Result<Answer> {
        self.send(Method::DELETE, path, None).await
    }

    /// POST a form like a browser would (with a same-origin `Origin` header).
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> anyhow::Result<Answer> {
        let req = self
            .http
            .post(format!("{}{}", self.base, path))
            .header("origin", &self.base)
            .form(fields);
        Self::answer(req.send().await?).await
    }

    async fn answer(res: reqwest::Response) -> anyhow::Result<Answer> {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer {
            status,
            headers,
            json,
            text,
        })
    }

    /// Solves a fresh proof-of-work challenge, as the browser script would.
    pub async fn altcha(&self) -> anyhow::Result<String> {
        self.solve_challenge("/api/v1/challenge").await
    }

    /// Solves a fresh strong challenge (`?strength=strong`).
    pub async fn strong_altcha(&self) -> anyhow::Result<String> {
        self.solve_challenge("/api/v1/challenge?strength=strong")
            .await
    }

    async fn solve_challenge(&self, path: &str) -> anyhow::Result<String> {
        let c: steward_proto::Challenge = serde_json::from_value(self.get(path).await?.json)?;
        steward_core::challenge::solve(&c)
            .ok_or_else(|| anyhow::anyhow!("challenge has no solution"))
    }
}
