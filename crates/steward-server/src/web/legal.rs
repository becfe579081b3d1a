//! The Terms of Use and Privacy Policy, versioned (the version is what sign-up records).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;

use crate::state::AppState;
use crate::web::signup::Notice;
use crate::web::view::{Nav, page};

/// Routes of this feature.
pub fn router() -> Router<AppState> {
    Router::new().route("/legal/{kind}", get(show))
}

#[derive(Template)]
#[template(path = "account/legal.html")]
struct LegalPage {
    nav: Nav,
    title: &'static str,
    version: String,
    paragraphs: Vec<&'static str>,
}

const TERMS: &[&str] = &[
    "These Terms of Use govern your use of this Steward service. By creating an account you agree to them.",
    "You are responsible for the activity on your account and for keeping your password secret. Tell the operator at once if you suspect unauthorised use.",
    "You must be 16 or older to create an account.",
    "The operator may suspend accounts that abuse the service. You may stop using the service and ask for your account to be deleted at any time.",
    "The operator publishes each version of these terms with its date. A material change is announced by email and at your next sign-in, and needs your acceptance.",
];

const PRIVACY: &[&str] = &[
    "This policy explains what this Steward service collects about you and why.",
    "Account information: your email address, username and a salted hash of your password (never the password itself). We use it to provide your account and to contact you about it.",
    "Security information: when you sign in we record the time, your IP address and your browser's description, to show you your active sessions and to protect your account.",
    "Consent records: when you accept these documents we record the version, the time, how you accepted and a shortened IP address, as proof.",
    "Email: we send you messages that protect your account (confirmation, password reset, password changed). These are not marketing.",
    "You can ask for a copy of your data, its correction or its deletion. The operator answers within one month.",
];

async fn show(State(st): State<AppState>, nav: Nav, Path(kind): Path<String>) -> Response {
    let nav = nav.clone();
    let (title, version, paragraphs) = match kind.as_str() {
        "terms" => (
            "Terms of Use",
            st.cfg.legal.terms_version.clone(),
            TERMS.to_vec(),
        ),
        "privacy" => (
            "Privacy Policy",
            st.cfg.legal.privacy_version.clone(),
            PRIVACY.to_vec(),
        ),
        _ => {
            return page(
                StatusCode::NOT_FOUND,
                &Notice {
                    nav,
                    heading: "Not found".into(),
                    message: "There is no such document.".into(),
                    link_href: "/".into(),
                    link_text: "Home".into(),
                },
            );
        }
    };
    page(
        StatusCode::OK,
        &LegalPage {
            nav,
            title,
            version,
            paragraphs,
        },
    )
}
