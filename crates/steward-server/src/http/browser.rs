//! Several accounts signed in in one browser.
//!
//! The session cookie holds the token of the account the browser acts as now;
//! every page and API call acts as that one account and no other. The other
//! accounts' tokens wait in two more HttpOnly cookies: `steward_accounts` for
//! sessions with "Keep me signed in" (persistent) and `steward_accounts_tmp`
//! for the others (gone when the browser closes), so each keeps the lifetime it
//! was signed in with. Switching swaps tokens between the cookies; the password
//! is never needed again while a session is valid. A token in those cookies
//! that is malformed, forged, expired or revoked is ignored (and logged), never
//! trusted, and dropped from the cookie on the next change.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use steward_core::CoreError;
use steward_core::flow::login::NewSession;
use steward_core::secret::parse_secret;
use steward_core::session::{MAX_BROWSER_ACCOUNTS, SignedIn};
use steward_proto::BrowserAccount;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::cookies::read_cookie;
use crate::state::AppState;

/// Cookie with the waiting accounts that were signed in with "Keep me signed in".
pub const ACCOUNTS_COOKIE: &str = "steward_accounts";
/// Cookie with the waiting accounts that were not.
pub const ACCOUNTS_TMP_COOKIE: &str = "steward_accounts_tmp";

/// A session this browser holds: its cookie value and what it proves.
#[derive(Debug, Clone)]
pub struct Held {
    /// The session token (cookie value).
    pub token: String,
    /// The validated session and account.
    pub who: SignedIn,
}

/// The accounts signed in in this browser.
#[derive(Debug, Clone, Default)]
pub struct Browser {
    /// The account pages and API calls act as; `None` when signed out of it.
    pub active: Option<Held>,
    /// The other accounts, most recently used first.
    pub others: Vec<Held>,
}

impl Browser {
    /// Reads and validates the cookies. Only the active session counts as used.
    pub async fn read(st: &AppState, headers: &HeaderMap) -> Result<Self, ApiError> {
        let mut b = Browser::default();
        if let Some(token) = st.cookies.session_token(headers) {
            match st.steward.authenticate(token).await {
                Ok(who) => {
                    b.active = Some(Held {
                        token: token.to_owned(),
                        who,
                    })
                }
                Err(CoreError::Unauthenticated) => {}
                Err(e) => return Err(e.into()),
            }
        }
        // At most this many tokens are looked at, valid or not, so a cookie stuffed
        // with made-up tokens costs a bounded number of look-ups.
        let mut budget = MAX_BROWSER_ACCOUNTS - 1;
        for name in [ACCOUNTS_COOKIE, ACCOUNTS_TMP_COOKIE] {
            let Some(value) = read_cookie(headers, &st.cookies.name(name)) else {
                continue;
            };
            for token in value.split('.').filter(|t| !t.is_empty()) {
                if budget == 0 {
                    tracing::warn!("ignored accounts past the per-browser limit");
                    break;
                }
                budget -= 1;
                if parse_secret(token).is_none() {
                    tracing::warn!(
                        cookie = name,
                        "ignored a malformed token in the account list"
                    );
                    continue;
                }
                match st.steward.check_session(token).await {
                    Ok(who) if !b.holds(who.account().id) => b.others.push(Held {
                        token: token.to_owned(),
                        who,
                    }),
                    Ok(_) => {}
                    Err(CoreError::Unauthenticated) => {
                        tracing::info!(
                            cookie = name,
                            "ignored a session in the account list that is not valid (expired, revoked or forged)"
                        );
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        Ok(b)
    }

    /// Whether this browser holds a live session of `account`.
    pub fn holds(&self, account: Uuid) -> bool {
        self.all().any(|h| h.who.account().id == account)
    }

    /// Every held session, the active one first.
    pub fn all(&self) -> impl Iterator<Item = &Held> {
        self.active.iter().chain(self.others.iter())
    }

    /// How many accounts are signed in here.
    pub fn count(&self) -> usize {
        self.all().count()
    }

    /// The accounts as the API lists them.
    pub fn accounts(&self) -> Vec<BrowserAccount> {
        self.all()
            .map(|h| BrowserAccount {
                account_id: h.who.account().id,
                username: h.who.account().username.clone(),
                email: h.who.account().email.clone(),
                active: self
                    .active
                    .as_ref()
                    .is_some_and(|a| a.who.session().id == h.who.session().id),
                expires_at: h.who.session().expires_at,
            })
            .collect()
    }

    /// Refuses a sign-in that would hold more accounts than allowed; signing in again
    /// to an account already held (by username or email) is always allowed.
    pub fn check_room(&self, identifier: &str) -> Result<(), ApiError> {
        let id = identifier.trim().to_lowercase();
        let held = self.all().any(|h| {
            let a = h.who.account();
            a.username == id || a.email.to_lowercase() == id
        });
        if self.count() >= MAX_BROWSER_ACCOUNTS && !held {
            return Err(ApiError::TooManyAccounts(MAX_BROWSER_ACCOUNTS));
        }
        Ok(())
    }

    /// Makes a new sign-in the active account. The previous active account waits
    /// among the others, unless it is the same account: then its old session is
    /// returned to be ended (nothing could use it once its cookie is replaced).
    pub fn adopt(&mut self, new: &NewSession, who: SignedIn) -> Vec<Held> {
        let account = new.account.id;
        let mut replaced = Vec::new();
        if let Some(old) = self.active.take() {
            if old.who.account().id == account {
                replaced.push(old);
            } else {
                self.others.insert(0, old);
            }
        }
        let (same, rest): (Vec<Held>, Vec<Held>) = std::mem::take(&mut self.others)
            .into_iter()
            .partition(|h| h.who.account().id == account);
        replaced.extend(same);
        self.others = rest;
        self.active = Some(Held {
            token: new.token.plain.clone(),
            who,
        });
        replaced
    }

    /// Acts as `account` from now on; `false` if this browser holds no session of it.
    pub fn switch(&mut self, account: Uuid) -> bool {
        if self
            .active
            .as_ref()
            .is_some_and(|a| a.who.account().id == account)
        {
            return true;
        }
        let Some(i) = self
            .others
            .iter()
            .position(|h| h.who.account().id == account)
        else {
            return false;
        };
        let chosen = self.others.remove(i);
        if let Some(old) = self.active.replace(chosen) {
            self.others.insert(0, old);
        }
        true
    }

    /// `Set-Cookie` headers that store this state.
    pub fn write(&self, st: &AppState, now: OffsetDateTime, out: &mut HeaderMap) {
        let mut cookies = Vec::new();
        cookies.push(match &self.active {
            Some(h) => st.cookies.session_cookie(
                &h.token,
                h.who.session().remember,
                h.who.session().expires_at,
                now,
            ),
            None => st.cookies.clear_session(),
        });
        let (kept, tmp): (Vec<&Held>, Vec<&Held>) =
            self.others.iter().partition(|h| h.who.session().remember);
        let join = |v: &[&Held]| {
            v.iter()
                .map(|h| h.token.as_str())
                .collect::<Vec<_>>()
                .join(".")
        };
        let longest = kept
            .iter()
            .map(|h| (h.who.session().expires_at - now).whole_seconds())
            .max();
        cookies.push(st.cookies.plain_cookie(
            ACCOUNTS_COOKIE,
            &join(&kept),
            longest.filter(|_| !kept.is_empty()).or(Some(0)),
        ));
        cookies.push(if tmp.is_empty() {
            st.cookies.plain_cookie(ACCOUNTS_TMP_COOKIE, "", Some(0))
        } else {
            st.cookies
                .plain_cookie(ACCOUNTS_TMP_COOKIE, &join(&tmp), None)
        });
        for c in cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                out.append(header::SET_COOKIE, v);
            }
        }
    }
}

impl FromRequestParts<AppState> for Browser {
    type Rejection = ApiError;

    /// Read once per request; later extractors (pages use both this and the
    /// header's [`crate::web::view::Nav`]) get the same value.
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(b) = parts.extensions.get::<Browser>() {
            return Ok(b.clone());
        }
        let b = Browser::read(state, &parts.headers).await?;
        parts.extensions.insert(b.clone());
        Ok(b)
    }
}
