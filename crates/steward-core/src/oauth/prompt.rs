//! What an authorization request asks of the person (OpenID Connect Core
//! §3.1.2.1 `prompt`, `max_age`, `id_token_hint`) and, given who is signed in
//! in the browser, what happens next: sign in, choose an account, sign in
//! again, ask, or answer the app at once. `prompt=none` never shows a page: it
//! answers the app with `login_required`, `consent_required` or
//! `interaction_required` instead (§3.1.2.6).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::oauth::authorize::PendingAuthorization;

/// The `prompt` values of a request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    /// No page at all: answer the app, with an error if anything would need one.
    #[serde(default)]
    pub none: bool,
    /// The person must prove who they are again, even if signed in.
    #[serde(default)]
    pub login: bool,
    /// Ask for consent even if it was given before.
    #[serde(default)]
    pub consent: bool,
    /// Let the person pick among the accounts signed in in this browser.
    #[serde(default)]
    pub select_account: bool,
}

/// The `prompt` values Steward understands (for discovery).
pub const PROMPT_VALUES: [&str; 4] = ["none", "login", "consent", "select_account"];

impl Prompt {
    /// Parses the space-separated `prompt` parameter.
    pub fn parse(value: Option<&str>) -> Result<Self, &'static str> {
        let mut p = Prompt::default();
        for word in value.unwrap_or_default().split_ascii_whitespace() {
            match word {
                "none" => p.none = true,
                "login" => p.login = true,
                "consent" => p.consent = true,
                "select_account" => p.select_account = true,
                _ => return Err("prompt may be none, login, consent or select_account."),
            }
        }
        if p.none && (p.login || p.consent || p.select_account) {
            return Err("prompt=none cannot be combined with other prompt values.");
        }
        Ok(p)
    }
}

/// Parses `max_age`: whole seconds, 0 or more.
pub fn parse_max_age(value: Option<&str>) -> Result<Option<i64>, &'static str> {
    const BAD: &str = "max_age must be a whole number of seconds, 0 or more.";
    match value {
        None => Ok(None),
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            // Longer than any session can last is the same as "no limit".
            Ok(Some(v.parse::<i64>().unwrap_or(i64::MAX)))
        }
        Some(_) => Err(BAD),
    }
}

/// Who is signed in in the browser, as the request sees it.
#[derive(Debug, Clone, Copy)]
pub struct Person {
    /// The account the browser acts as.
    pub account_id: Uuid,
    /// When that account last proved who they are here (its session's sign-in).
    pub auth_time: OffsetDateTime,
}

/// Everything the next step depends on.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    /// The request.
    pub request: &'a PendingAuthorization,
    /// Whether the app is a built-in one (no consent screen).
    pub first_party: bool,
    /// The active account, if any.
    pub person: Option<Person>,
    /// Whether the browser also holds a session of the account `id_token_hint` names.
    pub holds_hinted: bool,
    /// Whether the person already picked an account for this request (select_account).
    pub chosen: bool,
    /// Whether the app's remembered consent does not cover the request.
    pub consent_missing: bool,
    /// Now.
    pub now: OffsetDateTime,
}

/// What the authorization request does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nobody is signed in: the sign-in page.
    SignIn,
    /// `select_account`: the account chooser.
    ChooseAccount,
    /// `id_token_hint` names another account than the active one; `held` when this
    /// browser can switch to it without a password.
    OtherAccount {
        /// Whether the hinted account is signed in here too.
        held: bool,
    },
    /// `prompt=login` or `max_age`: sign in again first.
    Reauthenticate,
    /// Show the page: "Continue as …", or the consent screen when `consent`.
    Ask {
        /// Whether it is the consent screen.
        consent: bool,
    },
    /// Nothing to ask: issue the code.
    Approve,
}

impl Step {
    /// The error a `prompt=none` request answers instead of showing this step;
    /// `None` when the code can be issued without a page.
    pub fn silent_error(self) -> Option<&'static str> {
        match self {
            Step::Approve => None,
            Step::SignIn | Step::Reauthenticate | Step::OtherAccount { .. } => {
                Some("login_required")
            }
            Step::Ask { consent: true } => Some("consent_required"),
            Step::ChooseAccount | Step::Ask { consent: false } => Some("interaction_required"),
        }
    }

    /// Whether the person may answer the request now (Allow / Continue).
    pub fn can_answer(self) -> bool {
        matches!(self, Step::Ask { .. } | Step::Approve)
    }
}

/// The next step of a request in this situation.
pub fn next_step(s: &Situation<'_>) -> Step {
    let r = s.request;
    let Some(person) = s.person else {
        return Step::SignIn;
    };
    if r.prompt.select_account && !s.chosen {
        return Step::ChooseAccount;
    }
    if r.hint_sub.is_some_and(|h| h != person.account_id) {
        return Step::OtherAccount {
            held: s.holds_hinted,
        };
    }
    // Signed in after the app opened the request: the person proved who they are for it.
    let fresh = person.auth_time >= r.created_at;
    let too_old = r
        .max_age
        .is_some_and(|max| (s.now - person.auth_time).whole_seconds() > max);
    if (r.prompt.login || too_old) && !fresh {
        return Step::Reauthenticate;
    }
    let consent = !s.first_party && (s.consent_missing || r.prompt.consent);
    if consent {
        return Step::Ask { consent: true };
    }
    if r.prompt.consent || r.prompt.select_account {
        return Step::Ask { consent: false };
    }
    // A first-party app gets its code from any local program listening on loopback,
    // so a browser already signed in confirms ("Continue as …") unless the person just
    // signed in for this request. A third-party app's code goes only to its registered
    // address, so an app the person allowed may ask silently (prompt=none).
    if fresh || (r.prompt.none && !s.first_party) {
        Step::Approve
    } else {
        Step::Ask { consent: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::pkce::CodeChallenge;

    const T0: i64 = 1_800_000_000;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(T0 + secs).unwrap()
    }

    fn request(prompt: &str, max_age: Option<i64>, hint: Option<Uuid>) -> PendingAuthorization {
        PendingAuthorization {
            client_id: "app".into(),
            redirect_uri: url::Url::parse("https://app.example/cb").unwrap(),
            scopes: vec![crate::oauth::client::Scope::OpenId],
            state: None,
            nonce: None,
            challenge: CodeChallenge::parse(
                Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"),
                Some("S256"),
            )
            .unwrap(),
            prompt: Prompt::parse(Some(prompt)).unwrap(),
            max_age,
            hint_sub: hint,
            created_at: at(0),
            expires_at: at(300),
        }
    }

    fn step(r: &PendingAuthorization, first_party: bool, who: Option<(Uuid, i64)>) -> Step {
        next_step(&Situation {
            request: r,
            first_party,
            person: who.map(|(account_id, t)| Person {
                account_id,
                auth_time: at(t),
            }),
            holds_hinted: false,
            chosen: false,
            consent_missing: false,
            now: at(10),
        })
    }

    #[test]
    fn prompt_values_are_checked() {
        assert_eq!(Prompt::parse(None), Ok(Prompt::default()));
        let p = Prompt::parse(Some("login consent")).unwrap();
        assert!(p.login && p.consent && !p.none);
        assert!(Prompt::parse(Some("none login")).is_err());
        assert!(Prompt::parse(Some("none")).unwrap().none);
        assert!(Prompt::parse(Some("create")).is_err());
        assert_eq!(parse_max_age(Some("0")), Ok(Some(0)));
        assert_eq!(
            parse_max_age(Some("99999999999999999999999")),
            Ok(Some(i64::MAX))
        );
        for bad in ["-1", "1.5", "", "ten"] {
            assert!(parse_max_age(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn login_and_max_age_need_a_sign_in_after_the_request_or_within_the_age() {
        let ada = Uuid::now_v7();
        let signed_in_before = Some((ada, -3600));
        let just_now = Some((ada, 5));
        let r = request("login", None, None);
        assert_eq!(step(&r, true, signed_in_before), Step::Reauthenticate);
        assert_eq!(step(&r, true, just_now), Step::Approve);
        let r = request("", Some(0), None);
        assert_eq!(step(&r, false, signed_in_before), Step::Reauthenticate);
        assert_eq!(
            step(&r, false, just_now),
            Step::Approve,
            "the password was just typed for this request"
        );
        let r = request("", Some(7200), None);
        assert_eq!(
            step(&r, true, signed_in_before),
            Step::Ask { consent: false },
            "recent enough: no password"
        );
        assert_eq!(step(&r, true, None), Step::SignIn);
    }

    #[test]
    fn prompt_none_answers_instead_of_asking() {
        let ada = Uuid::now_v7();
        let before = Some((ada, -60));
        let r = request("none", None, None);
        assert_eq!(step(&r, false, None).silent_error(), Some("login_required"));
        assert_eq!(step(&r, false, before), Step::Approve, "an allowed app");
        assert_eq!(
            step(&r, true, before).silent_error(),
            Some("interaction_required"),
            "a loopback app needs the person's click"
        );
        let mut s = Situation {
            request: &r,
            first_party: false,
            person: Some(Person {
                account_id: ada,
                auth_time: at(-60),
            }),
            holds_hinted: false,
            chosen: false,
            consent_missing: true,
            now: at(10),
        };
        assert_eq!(next_step(&s).silent_error(), Some("consent_required"));
        let r = request("none", Some(30), None);
        s.request = &r;
        s.consent_missing = false;
        assert_eq!(next_step(&s).silent_error(), Some("login_required"));
        let r = request("none", None, Some(Uuid::now_v7()));
        s.request = &r;
        assert_eq!(next_step(&s).silent_error(), Some("login_required"));
    }

    #[test]
    fn a_hint_for_another_account_and_select_account_come_before_anything_else() {
        let (ada, bob) = (Uuid::now_v7(), Uuid::now_v7());
        let r = request("", None, Some(bob));
        let mut s = Situation {
            request: &r,
            first_party: false,
            person: Some(Person {
                account_id: ada,
                auth_time: at(5),
            }),
            holds_hinted: true,
            chosen: false,
            consent_missing: true,
            now: at(10),
        };
        assert_eq!(next_step(&s), Step::OtherAccount { held: true });
        let matching = request("", None, Some(ada));
        s.request = &matching;
        assert_eq!(next_step(&s), Step::Ask { consent: true });
        let choose = request("select_account", None, None);
        s.request = &choose;
        assert_eq!(next_step(&s), Step::ChooseAccount);
        s.chosen = true;
        s.consent_missing = false;
        assert_eq!(next_step(&s), Step::Ask { consent: false });
        let again = request("consent", None, None);
        s.request = &again;
        assert_eq!(next_step(&s), Step::Ask { consent: true }, "asked again");
    }
}
