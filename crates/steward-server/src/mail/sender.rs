//! The outbox sender: claims due messages, delivers them over SMTP (or into the
//! local mailbox), and reschedules failures with backoff. A failing SMTP server
//! delays mail; it never loses it and never fails the request that queued it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, header};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use steward_core::Steward;
use steward_core::mail::OutgoingMail;
use tokio::sync::watch;
use uuid::Uuid;

/// Where mail goes.
#[derive(Clone)]
pub enum Transport {
    /// A real SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// Files in a folder: `{id}.eml` (the message) and `{id}.json` (for the mailbox page).
    Mailbox(PathBuf),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Smtp(_) => f.write_str("Transport::Smtp"),
            Transport::Mailbox(dir) => write!(f, "Transport::Mailbox({})", dir.display()),
        }
    }
}

/// One message as the local mailbox page shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailboxEntry {
    /// File id.
    pub id: String,
    /// Recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain text body.
    pub text: String,
    /// When it was delivered (RFC 3339).
    pub delivered_at: String,
}

impl Transport {
    /// SMTP from a URL (`smtp://host:port`, `smtps://…`, `?tls=required`), else the mailbox folder.
    pub fn new(smtp_url: Option<&str>, mailbox: PathBuf) -> anyhow::Result<Self> {
        match smtp_url {
            Some(url) => {
                let t = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| anyhow::anyhow!("mail.smtp_url: {e}"))?
                    .timeout(Some(Duration::from_secs(20)))
                    .build();
                Ok(Transport::Smtp(t))
            }
            None => {
                // Live reset links: the owner's alone, like every message in it.
                crate::files::private_dir(&mailbox)?;
                Ok(Transport::Mailbox(mailbox))
            }
        }
    }

    async fn deliver(
        &self,
        from: &Mailbox,
        mail: &OutgoingMail,
        message_id: String,
    ) -> anyhow::Result<()> {
        let to: Mailbox = deliverable(&mail.to).parse()?;
        let mut builder = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(message_id))
            // RFC 3834: no vacation or out-of-office replies to mail no person wrote.
            .raw_header(header::HeaderValue::new(
                header::HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_owned(),
            ))
            .header(header::MIME_VERSION_1_0);
        if let Some(url) = &mail.unsubscribe {
            // RFC 8058 one-click unsubscribe: the mail client POSTs to the URL.
            builder = builder
                .raw_header(header::HeaderValue::new(
                    header::HeaderName::new_from_ascii_str("List-Unsubscribe"),
                    format!("<{url}>"),
                ))
                .raw_header(header::HeaderValue::new(
                    header::HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                    "List-Unsubscribe=One-Click".to_owned(),
                ));
        }
        let message = builder.multipart(MultiPart::alternative_plain_html(
            mail.text.clone(),
            mail.html.clone(),
        ))?;
        match self {
            Transport::Smtp(smtp) => {
                smtp.send(message).await?;
            }
            Transport::Mailbox(dir) => {
                let id = Uuid::now_v7().to_string();
                let entry = MailboxEntry {
                    id: id.clone(),
                    to: mail.to.clone(),
                    subject: mail.subject.clone(),
                    text: mail.text.clone(),
                    delivered_at: time::OffsetDateTime::now_utc()
                        .format(&time::format_description::well_known::Rfc3339)
                        .unwrap_or_default(),
                };
                let eml = dir.join(format!("{id}.eml"));
                crate::files::write_private(&eml, &message.formatted()).await?;
                let json = dir.join(format!("{id}.json"));
                crate::files::write_private(&json, &serde_json::to_vec_pretty(&entry)?).await?;
            }
        }
        Ok(())
    }
}

/// Drains the outbox in the background.
#[derive(Debug, Clone)]
pub struct MailSender {
    steward: Steward,
    transport: Transport,
    from: Mailbox,
    /// The right-hand side of every `Message-ID`: the public URL's host.
    id_domain: String,
    poll: Duration,
}

/// Messages claimed per round.
const BATCH: i64 = 20;
/// How long a claim protects a message from other nodes.
const LEASE: time::Duration = time::Duration::minutes(2);

impl MailSender {
    /// A sender from `from` over `transport`, polling every `poll`; message ids are
    /// under the host of `public_url`.
    pub fn new(
        steward: Steward,
        transport: Transport,
        from: &str,
        public_url: &str,
        poll: Duration,
    ) -> anyhow::Result<Self> {
        let from: Mailbox = from
            .parse()
            .map_err(|e| anyhow::anyhow!("mail.from: {e}"))?;
        Ok(Self {
            steward,
            transport,
            from,
            id_domain: message_id_domain(public_url)?,
            poll,
        })
    }

    /// Runs until `stop` flips to `true`.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let this = Arc::new(self);
        loop {
            if let Err(e) = this.round().await {
                tracing::warn!(error = %e, "mail outbox round failed");
            }
            tokio::select! {
                _ = tokio::time::sleep(this.poll) => {}
                _ = stop.changed() => return,
            }
        }
    }

    /// Sends what is due now; returns how many were delivered.
    pub async fn round(&self) -> anyhow::Result<usize> {
        let store = self.steward.store();
        let now = self.steward.now();
        let due = store.claim_mail(now, LEASE, BATCH).await?;
        let mut sent = 0;
        for queued in due {
            // Named after the outbox row, so every retry of a message is recognisably the
            // same message (receivers drop a copy they already have) and no two are alike.
            let message_id = format!("<{}@{}>", queued.id, self.id_domain);
            match self
                .transport
                .deliver(&self.from, &queued.mail, message_id)
                .await
            {
                Ok(()) => {
                    store.mail_sent(queued.id).await?;
                    // No label by kind: which mail went out would tell who has an account.
                    metrics::counter!("steward_mail_sent_total").increment(1);
                    tracing::info!(kind = %queued.mail.kind, id = %queued.id, "mail delivered");
                    sent += 1;
                }
                Err(e) => {
                    let retry_at = self.steward.now() + backoff(queued.attempts);
                    store
                        .mail_failed(queued.id, retry_at, &e.to_string())
                        .await?;
                    metrics::counter!("steward_mail_failed_total").increment(1);
                    tracing::warn!(kind = %queued.mail.kind, id = %queued.id, attempts = queued.attempts, error = %e, "mail delivery failed; will retry");
                }
            }
        }
        Ok(sent)
    }
}

/// The right-hand side of a msg-id (RFC 5322 §3.6.4) for the host of `public_url`:
/// a domain as dot-atom text, an IP address as a domain literal (`[192.0.2.1]`,
/// `[IPv6:2001:db8::1]`, as RFC 5321 writes address literals).
fn message_id_domain(public_url: &str) -> anyhow::Result<String> {
    let url = url::Url::parse(public_url).map_err(|e| anyhow::anyhow!("public_url: {e}"))?;
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.');
            let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c);
            if !d.is_empty() && d.split('.').all(|l| !l.is_empty() && l.chars().all(atext)) {
                Ok(d.to_owned())
            } else {
                // URL hosts never hold `[`, `\`, `]` or spaces, so this is still a valid literal.
                Ok(format!("[{d}]"))
            }
        }
        Some(url::Host::Ipv4(ip)) => Ok(format!("[{ip}]")),
        Some(url::Host::Ipv6(ip)) => Ok(format!("[IPv6:{ip}]")),
        None => anyhow::bail!("public_url {public_url} has no host"),
    }
}

/// 2 s, 4 s, 8 s … capped at 10 minutes.
fn backoff(attempts: i32) -> time::Duration {
    let exp = u32::try_from(attempts.clamp(1, 20)).unwrap_or(1);
    time::Duration::seconds(2i64.saturating_pow(exp).min(600))
}

/// The address with its domain in ASCII (IDNA), as SMTP carries it: accounts keep
/// `ben@bücher.example` as typed, mail goes to `ben@xn--bcher-kva.example`.
fn deliverable(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => match idna::domain_to_ascii(domain) {
            Ok(ascii) => format!("{local}@{ascii}"),
            Err(_) => address.to_owned(),
        },
        None => address.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{backoff, message_id_domain};

    #[test]
    fn message_ids_are_under_the_public_host() {
        for (url, domain) in [
            ("https://accounts.example.com", "accounts.example.com"),
            (
                "https://Accounts.Example.COM./login",
                "accounts.example.com",
            ),
            ("http://localhost:8080", "localhost"),
            ("http://127.0.0.1:8080", "[127.0.0.1]"),
            ("http://[::1]:8080", "[IPv6:::1]"),
            ("https://bücher.example", "xn--bcher-kva.example"),
            // A host that is no dot-atom (URLs allow `,`) still makes a valid msg-id.
            ("http://a,b.example", "[a,b.example]"),
        ] {
            assert_eq!(
                message_id_domain(url).ok().as_deref(),
                Some(domain),
                "{url}"
            );
        }
        assert!(message_id_domain("not a url").is_err());
    }

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(backoff(1).whole_seconds(), 2);
        assert_eq!(backoff(3).whole_seconds(), 8);
        assert_eq!(backoff(30).whole_seconds(), 600);
    }
}
