//! Unit tests of the use cases against in-memory ports, with time passed in.
//!
//! Each test wires a [`Steward`] to a fresh [`MemStore`], a [`ManualClock`] and a
//! [`FixedMailer`], with Argon2 and the proof of work made cheap.

mod login;
mod oauth;
mod recovery;
mod registration;
mod sessions;
mod settings;
mod verification;

use std::sync::Arc;
use std::time::Duration;

use time::macros::datetime;
use uuid::Uuid;

use crate::account::Account;
use crate::challenge::solve;
use crate::clock::ManualClock;
use crate::flow::login::NewSession;
use crate::flow::registration::Registration;
use crate::mail::OutgoingMail;
use crate::ports::{AccountStore, SessionStore, TokenStore};
use crate::session::{ClientInfo, SignedIn};
use crate::testing::{FixedMailer, MemStore};
use crate::{CoreConfig, CoreError, CoreResult, Steward};

/// The password every test account signs up with.
const PASSWORD: &str = "correct horse battery staple";
/// A good replacement password.
const NEW_PASSWORD: &str = "tr0ubadour & a fresh start";
/// Where confirmation links point.
const VERIFY_LINK: &str = "http://127.0.0.1:8080/verify-email?token=";
/// Where reset links point.
const RESET_LINK: &str = "http://127.0.0.1:8080/reset-password?token=";

fn minutes(n: i64) -> time::Duration {
    time::Duration::minutes(n)
}

/// Cheap hashing and proof of work; everything else as in production.
fn cheap_config() -> CoreConfig {
    CoreConfig {
        argon2_memory_kib: 64,
        argon2_iterations: 1,
        challenge_max_number: 50,
        ..CoreConfig::default()
    }
}

/// A domain wired to in-memory ports.
struct Harness {
    steward: Steward,
    store: Arc<MemStore>,
    clock: Arc<ManualClock>,
}

impl Harness {
    async fn new() -> Self {
        Self::with(cheap_config()).await
    }

    async fn with(cfg: CoreConfig) -> Self {
        let store = Arc::new(MemStore::default());
        let clock = Arc::new(ManualClock::new(datetime!(2026-03-01 09:00 UTC)));
        let steward = Self::steward_on(cfg, &store, &clock).await;
        Self {
            steward,
            store,
            clock,
        }
    }

    /// Another domain value on the same store and clock (another node, or new settings).
    async fn steward_on(
        cfg: CoreConfig,
        store: &Arc<MemStore>,
        clock: &Arc<ManualClock>,
    ) -> Steward {
        let steward = Steward::new(cfg, store.clone(), clock.clone(), Arc::new(FixedMailer))
            .await
            .unwrap();
        // Single-node store: turns the session cache on and returns.
        steward.follow_changes().await;
        steward
    }

    /// A harness with `ada` signed up as `Ada@Example.com`.
    async fn with_ada() -> Self {
        let h = Self::new().await;
        h.register("Ada@Example.com", "ada").await.unwrap();
        h
    }

    fn advance(&self, by: time::Duration) {
        self.clock.advance(by);
    }

    /// A solved "I'm not a robot" challenge.
    fn altcha(&self) -> String {
        solve(&self.steward.challenge(crate::challenge::Strength::Normal)).unwrap()
    }

    /// A complete, valid sign-up form.
    fn registration(&self, email: &str, username: &str) -> Registration {
        Registration {
            email: email.into(),
            username: username.into(),
            password: PASSWORD.into(),
            accept_terms: true,
            confirm_age: true,
            altcha: self.altcha(),
        }
    }

    async fn register(&self, email: &str, username: &str) -> CoreResult<()> {
        self.steward
            .register(self.registration(email, username), &ClientInfo::default())
            .await
    }

    async fn account(&self, username: &str) -> Account {
        self.store
            .account_by_username(username)
            .await
            .unwrap()
            .unwrap()
    }

    async fn sign_in(
        &self,
        identifier: &str,
        password: &str,
        remember: bool,
    ) -> CoreResult<NewSession> {
        self.steward
            .sign_in(
                identifier,
                password,
                remember,
                &ClientInfo::default(),
                &[],
                None,
            )
            .await
    }

    /// Signs in with [`PASSWORD`] and authenticates the new session.
    async fn signed_in(&self, identifier: &str) -> (NewSession, SignedIn) {
        let s = self.sign_in(identifier, PASSWORD, false).await.unwrap();
        let who = self.steward.authenticate(&s.token.plain).await.unwrap();
        (s, who)
    }

    /// Whether a session token still authenticates.
    async fn live(&self, s: &NewSession) -> bool {
        match self.steward.authenticate(&s.token.plain).await {
            Ok(who) => who.session().id == s.session.id,
            Err(CoreError::Unauthenticated) => false,
            Err(e) => panic!("authenticate: {e}"),
        }
    }

    /// Queued mail of one kind, oldest first.
    fn mails(&self, kind: &str) -> Vec<OutgoingMail> {
        self.store
            .mails()
            .into_iter()
            .filter(|m| m.kind == kind)
            .collect()
    }

    /// The token in the newest mail of `kind`.
    fn token(&self, kind: &str) -> String {
        let mail = self.mails(kind).pop().unwrap();
        let (_, token) = mail.text.split_once("?token=").unwrap();
        token.to_owned()
    }

    /// Waits (up to 2 s) until `count` mails of `kind` are queued by background work.
    async fn wait_for_mail(&self, kind: &str, count: usize) -> Vec<OutgoingMail> {
        for _ in 0..200 {
            let mails = self.mails(kind);
            if mails.len() >= count {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!(
            "no {count} {kind:?} mail(s) within 2 s: {:?}",
            self.store.mails()
        );
    }

    /// Lets background work run before checking that it did nothing.
    async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    /// Asks for a reset link with a fresh challenge and returns its token once mailed.
    async fn reset_token(&self, email: &str) -> String {
        let before = self.mails("reset_password").len();
        self.steward
            .request_password_reset(email, &self.altcha(), &ClientInfo::default(), &[])
            .await
            .unwrap();
        self.wait_for_mail("reset_password", before + 1).await;
        self.token("reset_password")
    }
}

/// The field names of a validation error.
fn invalid_fields(result: CoreResult<impl std::fmt::Debug>) -> Vec<&'static str> {
    match result {
        Err(CoreError::Validation(fields)) => fields.keys().copied().collect(),
        other => panic!("expected a validation error, got {other:?}"),
    }
}
