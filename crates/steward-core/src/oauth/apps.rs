//! Third-party apps: registering one, the apps a person allowed (Connected apps)
//! and taking that back, and the log of what was disclosed to them.

use steward_proto::oauth::{
    AppView, ConnectedApp, DisclosureView, RegisterAppRequest, RegisteredApp,
};
use url::{Host, Url};

use crate::activity::{EventKind, SecurityEvent};
use crate::error::{CoreError, CoreResult, FieldErrors};
use crate::oauth::client::{IdTokenAlg, Scope, parse_scopes, scope_string, scopes_of};
use crate::ports::RegisteredClient;
use crate::secret::NewSecret;
use crate::session::{ClientInfo, SignedIn};
use crate::steward::Steward;

/// Most redirect URIs an app may register.
const MAX_REDIRECTS: usize = 10;
/// Longest URL accepted.
const MAX_URL: usize = 2000;
/// Longest app name.
const MAX_NAME: usize = 60;
/// Most apps one account may register.
const MAX_APPS: usize = 25;

fn view(c: &RegisteredClient) -> AppView {
    AppView {
        client_id: c.id.clone(),
        name: c.name.clone(),
        redirect_uris: c.redirect_uris.clone(),
        logo_url: c.logo_url.clone(),
        scopes: c
            .scopes
            .split_ascii_whitespace()
            .map(str::to_owned)
            .collect(),
        public: c.secret_hash.is_none(),
        id_token_signed_response_alg: c.id_token_alg.clone(),
        created_at: c.created_at,
    }
}

/// Checks a redirect URI an app registers: absolute `https://`, or `http://` on a
/// loopback address (native apps, RFC 8252 §7.3); no fragment, no credentials.
fn check_redirect_uri(s: &str) -> Result<(), &'static str> {
    if s.len() > MAX_URL {
        return Err("is too long");
    }
    let url = Url::parse(s).map_err(|_| "is not an absolute URL")?;
    if url.fragment().is_some() {
        return Err("must not have a fragment (#…)");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials");
    }
    let loopback = match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d == "localhost",
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err("must use https (http only for 127.0.0.1, [::1] or localhost)"),
        _ => Err("must be an https URL"),
    }
}

impl Steward {
    /// Registers a third-party app owned by `who`. The secret (confidential apps) is
    /// returned once and stored hashed.
    pub async fn register_app(
        &self,
        who: &SignedIn,
        req: &RegisterAppRequest,
    ) -> CoreResult<RegisteredApp> {
        let mut fields = FieldErrors::new();
        // Kept in NFKC, so what the consent screen shows is what was checked.
        let name = crate::text::nfkc(req.name.trim());
        let name = name.as_str();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            fields.insert(
                "name",
                format!("Give a name of 1 to {MAX_NAME} characters."),
            );
        } else if name.chars().any(crate::text::is_invisible) {
            fields.insert(
                "name",
                "The name may not contain invisible or control characters.".into(),
            );
        } else if crate::text::contains_lookalike(name, "Steward") {
            // Consent screens and Active Sessions must not mistake it for a built-in app,
            // however the name is spelled (other scripts, fullwidth, spaced out).
            fields.insert("name", "The name may not contain \"Steward\".".into());
        }
        if req.redirect_uris.is_empty() || req.redirect_uris.len() > MAX_REDIRECTS {
            fields.insert(
                "redirect_uris",
                format!("Give 1 to {MAX_REDIRECTS} redirect URIs."),
            );
        } else if let Some((uri, why)) = req
            .redirect_uris
            .iter()
            .find_map(|u| check_redirect_uri(u).err().map(|why| (u, why)))
        {
            fields.insert(
                "redirect_uris",
                format!("{} {why}.", uri.chars().take(80).collect::<String>()),
            );
        }
        if let Some(logo) = &req.logo_url
            && (logo.len() > MAX_URL || Url::parse(logo).map_or(true, |u| u.scheme() != "https"))
        {
            fields.insert("logo_url", "The logo must be an https URL.".into());
        }
        let words: Vec<&str> = req.scopes.iter().map(String::as_str).collect();
        let scopes = parse_scopes(&words);
        if scopes.is_empty() || words.iter().any(|w| Scope::parse(w).is_none()) {
            fields.insert(
                "scopes",
                "Choose among openid, profile, email and offline_access.".into(),
            );
        }
        let alg = match req.id_token_signed_response_alg.as_deref() {
            None | Some("") => Some(IdTokenAlg::default()),
            Some(a) => IdTokenAlg::parse(a),
        };
        if alg.is_none() {
            fields.insert(
                "id_token_signed_response_alg",
                "Choose ES256 or RS256.".into(),
            );
        }
        if !fields.is_empty() {
            return Err(CoreError::Validation(fields));
        }
        if self.store.clients_of(who.account().id).await?.len() >= MAX_APPS {
            return Err(CoreError::field(
                "name",
                format!("An account may register at most {MAX_APPS} apps."),
            ));
        }
        let secret = (!req.public).then(NewSecret::generate);
        let client = RegisteredClient {
            id: format!("app_{}", &NewSecret::generate().plain[..22]),
            owner_id: who.account().id,
            name: name.to_owned(),
            redirect_uris: req.redirect_uris.clone(),
            logo_url: req.logo_url.clone().filter(|s| !s.is_empty()),
            scopes: scope_string(&scopes),
            secret_hash: secret.as_ref().map(|s| s.hash.clone()),
            id_token_alg: alg.unwrap_or_default().as_str().to_owned(),
            created_at: self.now(),
        };
        self.store.create_client(&client).await?;
        tracing::info!(account = %who.account().id, client = %client.id, "app registered");
        Ok(RegisteredApp {
            app: view(&client),
            client_secret: secret.map(|s| s.plain),
        })
    }

    /// The apps `who` registered.
    pub async fn my_apps(&self, who: &SignedIn) -> CoreResult<Vec<AppView>> {
        Ok(self
            .store
            .clients_of(who.account().id)
            .await?
            .iter()
            .map(view)
            .collect())
    }

    /// Deletes an app `who` registered; every sign-in it holds ends.
    pub async fn delete_app(&self, who: &SignedIn, client_id: &str) -> CoreResult<()> {
        if !self
            .store
            .delete_client(who.account().id, client_id)
            .await?
        {
            return Err(CoreError::NotFound("app"));
        }
        // Its sessions belonged to any number of accounts: drop this node's cache whole.
        self.sessions.clear();
        let _ = self.changes.send(crate::session::changes::Change::Unknown);
        Ok(())
    }

    /// The third-party apps `who` allowed, with what each may receive.
    pub async fn connected_apps(&self, who: &SignedIn) -> CoreResult<Vec<ConnectedApp>> {
        Ok(self
            .store
            .consents_of(who.account().id)
            .await?
            .into_iter()
            .map(|(consent, client)| {
                let scopes = scopes_of(&consent.scope);
                ConnectedApp {
                    client_id: client.id,
                    name: client.name,
                    logo_url: client.logo_url,
                    access: scopes.iter().map(|s| s.describe().to_owned()).collect(),
                    scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
                    granted_at: consent.granted_at,
                }
            })
            .collect())
    }

    /// Takes back an app's access: the consent is forgotten and its sign-ins end.
    pub async fn revoke_app(
        &self,
        who: &SignedIn,
        client_id: &str,
        from: &ClientInfo,
    ) -> CoreResult<()> {
        let name = self
            .find_client(client_id)
            .await?
            .map_or_else(|| client_id.to_owned(), |c| c.name);
        let event = SecurityEvent::new(who.account().id, EventKind::AppRevoked, from, self.now())
            .detail(name);
        if !self
            .store
            .revoke_consent(who.account().id, client_id, &event)
            .await?
        {
            return Err(CoreError::NotFound("app"));
        }
        self.account_changed(who.account().id);
        Ok(())
    }

    /// What was disclosed to third parties about `who`, newest first.
    pub async fn disclosures(&self, who: &SignedIn) -> CoreResult<Vec<DisclosureView>> {
        Ok(self
            .store
            .disclosures(who.account().id)
            .await?
            .into_iter()
            .map(|d| DisclosureView {
                id: d.id,
                recipient: d.recipient,
                recipient_id: d.recipient_id,
                categories: d
                    .categories
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                purpose: d.purpose,
                at: d.at,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::check_redirect_uri;

    #[test]
    fn apps_register_https_or_loopback_redirects_only() {
        for ok in [
            "https://app.example.com/callback",
            "http://127.0.0.1/callback",
            "http://[::1]:8080/cb",
            "http://localhost:3000/cb",
        ] {
            assert_eq!(check_redirect_uri(ok), Ok(()), "{ok}");
        }
        for bad in [
            "http://app.example.com/callback",
            "https://app.example.com/cb#frag",
            "https://user:pw@app.example.com/cb",
            "javascript:alert(1)",
            "/relative",
            "ftp://example.com/",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }
}
