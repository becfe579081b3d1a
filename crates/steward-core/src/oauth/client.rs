//! OAuth clients: the built-in first-party apps, and what any client may ask for.

use crate::ports::RegisteredClient;
use crate::secret::SecretHash;

/// The scopes Steward understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    /// OpenID Connect: an ID token and the `sub` claim.
    OpenId,
    /// Name and username.
    Profile,
    /// Email address and whether it is confirmed.
    Email,
    /// A refresh token, to stay signed in.
    OfflineAccess,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 4] = [
        Scope::OpenId,
        Scope::Profile,
        Scope::Email,
        Scope::OfflineAccess,
    ];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::OpenId => "openid",
            Scope::Profile => "profile",
            Scope::Email => "email",
            Scope::OfflineAccess => "offline_access",
        }
    }

    /// The scope with this wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// How an app's ID tokens are signed (`id_token_signed_response_alg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum IdTokenAlg {
    /// ECDSA P-256 with SHA-256: the default.
    #[default]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (OpenID Connect Core §15.1 expects it).
    Rs256,
}

impl IdTokenAlg {
    /// Every algorithm, the default first.
    pub const ALL: [IdTokenAlg; 2] = [IdTokenAlg::Es256, IdTokenAlg::Rs256];

    /// JOSE name.
    pub fn as_str(self) -> &'static str {
        match self {
            IdTokenAlg::Es256 => "ES256",
            IdTokenAlg::Rs256 => "RS256",
        }
    }

    /// The algorithm with this JOSE name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// A registered client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// Name shown on consent screens and Active Sessions.
    pub name: String,
    /// First-party apps get no consent screen.
    pub first_party: bool,
    /// Redirect URIs as registered (loopback IP literals match any port).
    pub redirect_uris: Vec<String>,
    /// Scopes the client may ask for.
    pub scopes: Vec<Scope>,
    /// SHA-256 of the client secret; `None` for a public client (PKCE only).
    pub secret_hash: Option<SecretHash>,
    /// Logo shown on the consent screen.
    pub logo_url: Option<String>,
    /// How its ID tokens are signed.
    pub id_token_alg: IdTokenAlg,
}

impl Client {
    /// A registered third-party app as a client.
    pub fn registered(c: &RegisteredClient) -> Self {
        Self {
            id: c.id.clone(),
            name: c.name.clone(),
            first_party: false,
            redirect_uris: c.redirect_uris.clone(),
            scopes: scopes_of(&c.scopes),
            secret_hash: c.secret_hash.clone(),
            logo_url: c.logo_url.clone(),
            id_token_alg: IdTokenAlg::parse(&c.id_token_alg).unwrap_or_default(),
        }
    }
}

/// The known scopes among `words`, sorted, without repeats.
pub fn parse_scopes(words: &[&str]) -> Vec<Scope> {
    let mut scopes: Vec<Scope> = words.iter().filter_map(|w| Scope::parse(w)).collect();
    scopes.sort();
    scopes.dedup();
    scopes
}

/// The known scopes of a stored space-separated scope string.
pub fn scopes_of(stored: &str) -> Vec<Scope> {
    parse_scopes(&stored.split_ascii_whitespace().collect::<Vec<_>>())
}

/// Scopes as the space-separated wire form.
pub fn scope_string(scopes: &[Scope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Scope {
    /// What the person is told the app will receive, for the consent screen.
    pub fn describe(self) -> &'static str {
        match self {
            Scope::OpenId => "Your Steward account identifier",
            Scope::Profile => "Your username",
            Scope::Email => "Your email address and whether it is confirmed",
            Scope::OfflineAccess => "Stay signed in while you are not using the app",
        }
    }

    /// The data category disclosed under this scope, for the disclosure log.
    pub fn data_category(self) -> Option<&'static str> {
        match self {
            Scope::OpenId => Some("account_id"),
            Scope::Profile => Some("username"),
            Scope::Email => Some("email_address"),
            Scope::OfflineAccess => None,
        }
    }
}

/// Loopback redirect URIs the built-in native apps use (RFC 8252 §7.3).
const LOOPBACK: [&str; 2] = ["http://127.0.0.1/callback", "http://[::1]/callback"];

/// The built-in public clients: the `steward` CLI and the desktop app.
pub fn builtin_clients() -> Vec<Client> {
    [
        ("steward-cli", "Steward CLI"),
        ("steward-desktop", "Steward Desktop"),
    ]
    .into_iter()
    .map(|(id, name)| Client {
        id: id.to_owned(),
        name: name.to_owned(),
        first_party: true,
        redirect_uris: LOOPBACK.iter().map(|s| (*s).to_owned()).collect(),
        scopes: Scope::ALL.to_vec(),
        secret_hash: None,
        logo_url: None,
        id_token_alg: IdTokenAlg::Es256,
    })
    .collect()
}
