//! A real SMTP server (mailin) on a free loopback port that keeps what it receives.

use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mailin_embedded::{Handler, Response, Server, response};

/// A message as the SMTP server received it, decoded.
#[derive(Debug, Clone)]
pub struct Received {
    /// Envelope recipients.
    pub to: Vec<String>,
    /// Envelope sender.
    pub from: String,
    /// Subject header.
    pub subject: String,
    /// Decoded text/plain part.
    pub text: String,
    /// Decoded text/html part.
    pub html: String,
    /// Top-level header fields in order, names as sent, values unfolded and trimmed.
    pub headers: Vec<(String, String)>,
    /// The raw message.
    pub raw: String,
}

impl Received {
    /// Parses a whole message (as received, or as an `.eml` file) with its envelope.
    pub fn parse(to: Vec<String>, from: String, data: &[u8]) -> Self {
        let raw = String::from_utf8_lossy(data).into_owned();
        let parsed = mail_parser::MessageParser::default().parse(data);
        let (subject, text, html, headers) = match &parsed {
            Some(m) => (
                m.subject().unwrap_or_default().to_owned(),
                m.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
                m.body_html(0).map(|t| t.into_owned()).unwrap_or_default(),
                m.headers_raw()
                    .map(|(name, value)| {
                        let unfolded = value.replace("\r\n", "").replace('\n', "");
                        (name.to_owned(), unfolded.trim().to_owned())
                    })
                    .collect(),
            ),
            None => Default::default(),
        };
        Self {
            to,
            from,
            subject,
            text,
            html,
            headers,
            raw,
        }
    }

    /// Every value of the header field `name` (any case), in order.
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The first URL in the text body that starts with `prefix`.
    pub fn link(&self, prefix: &str) -> Option<String> {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with(prefix))
            .map(|w| w.trim_end_matches(['.', ',', ')']).to_owned())
    }

    /// The `token` query parameter of the first link starting with `prefix`.
    pub fn token(&self, prefix: &str) -> Option<String> {
        let link = self.link(prefix)?;
        let url = url::Url::parse(&link).ok()?;
        url.query_pairs()
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    }
}

#[derive(Default)]
struct Inbox {
    messages: Mutex<Vec<Received>>,
    /// Messages answered with a failure after their whole content arrived.
    rejected: Mutex<Vec<Received>>,
    fail_next: AtomicUsize,
    fail_after_data: AtomicUsize,
    attempts: AtomicUsize,
}

#[derive(Clone)]
struct Sink {
    inbox: Arc<Inbox>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Sink {
    fn rcpt(&mut self, _to: &str) -> Response {
        // Failures are injected here, as a full mailbox or greylisting would answer.
        self.inbox.attempts.fetch_add(1, Ordering::SeqCst);
        let failing = self
            .inbox
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if failing {
            response::INTERNAL_ERROR
        } else {
            response::OK
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_owned();
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let msg = Received::parse(self.to.clone(), self.from.clone(), &self.data);
        // A failure after the content arrived (421, closing: a server going down; mailin
        // keeps a connection in the data state after other errors): the sender must
        // retry, and the test can compare the copies.
        let failing = self
            .inbox
            .fail_after_data
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        let (list, answer) = if failing {
            (&self.inbox.rejected, response::NO_SERVICE)
        } else {
            (&self.inbox.messages, response::OK)
        };
        list.lock().unwrap_or_else(|p| p.into_inner()).push(msg);
        answer
    }

    fn helo(&mut self, _ip: IpAddr, _domain: &str) -> Response {
        response::OK
    }
}

/// The running SMTP server and what it received.
#[derive(Clone)]
pub struct SmtpSink {
    /// Where it listens.
    pub addr: SocketAddr,
    inbox: Arc<Inbox>,
}

impl std::fmt::Debug for SmtpSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SmtpSink({})", self.addr)
    }
}

impl SmtpSink {
    /// Starts a server on a free loopback port, in its own thread.
    pub fn start() -> anyhow::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let inbox = Arc::new(Inbox::default());
        let handler = Sink {
            inbox: inbox.clone(),
            from: String::new(),
            to: Vec::new(),
            data: Vec::new(),
        };
        let mut server = Server::new(handler);
        server
            .with_name("smtp-sink.test")
            .with_num_threads(2)
            .with_tcp_listener(listener);
        std::thread::Builder::new()
            .name("smtp-sink".into())
            .spawn(move || {
                if let Err(e) = server.serve() {
                    eprintln!("smtp sink stopped: {e}");
                }
            })?;
        Ok(Self { addr, inbox })
    }

    /// `smtp://` URL for the server's configuration.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    /// Answers the next `n` messages with a temporary failure (451).
    pub fn fail_next(&self, n: usize) {
        self.inbox.fail_next.store(n, Ordering::SeqCst);
    }

    /// Answers the next `n` messages with a temporary failure (421) after receiving
    /// their content; [`SmtpSink::rejected_to`] keeps what arrived.
    pub fn fail_next_after_data(&self, n: usize) {
        self.inbox.fail_after_data.store(n, Ordering::SeqCst);
    }

    /// Messages for `to` that were received whole and then refused, oldest first.
    pub fn rejected_to(&self, to: &str) -> Vec<Received> {
        for_recipient(&self.inbox.rejected, to)
    }

    /// Delivery attempts so far, failed ones included.
    pub fn attempts(&self) -> usize {
        self.inbox.attempts.load(Ordering::SeqCst)
    }

    /// Every message received for `to`, oldest first.
    pub fn messages_to(&self, to: &str) -> Vec<Received> {
        for_recipient(&self.inbox.messages, to)
    }

    /// Every message received, for anyone, oldest first.
    pub fn all_messages(&self) -> Vec<Received> {
        self.inbox
            .messages
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits (up to 15 s) for the `nth` (0-based) message to `to` whose subject contains `subject`.
    pub async fn wait_for_nth(
        &self,
        to: &str,
        subject: &str,
        nth: usize,
    ) -> anyhow::Result<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let found: Vec<Received> = self
                .messages_to(to)
                .into_iter()
                .filter(|m| m.subject.contains(subject))
                .collect();
            if let Some(m) = found.get(nth) {
                return Ok(m.clone());
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!(
                    "no message #{nth} to {to} with subject containing {subject:?}; got {:?}",
                    self.subjects_to(to)
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for the first message to `to` whose subject contains `subject`.
    pub async fn wait_for(&self, to: &str, subject: &str) -> anyhow::Result<Received> {
        self.wait_for_nth(to, subject, 0).await
    }

    fn subjects_to(&self, to: &str) -> Vec<String> {
        self.messages_to(to)
            .into_iter()
            .map(|m| m.subject)
            .collect()
    }
}

fn for_recipient(list: &Mutex<Vec<Received>>, to: &str) -> Vec<Received> {
    let to = to.to_lowercase();
    list.lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter(|m| m.to.iter().any(|t| t.to_lowercase() == to))
        .cloned()
        .collect()
}
