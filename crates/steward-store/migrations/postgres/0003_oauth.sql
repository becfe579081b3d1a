-- OAuth 2.0 / OpenID Connect provider. A sign-in by an app is a row of
-- `sessions` with `client_id` set: its `token_hash` is the current access token
-- (replaced on every refresh), `access_expires_at` when that token ends, and
-- `expires_at` when the whole sign-in ends (its refresh-token chain).

ALTER TABLE sessions ADD COLUMN client_id TEXT;
ALTER TABLE sessions ADD COLUMN client_name TEXT;
ALTER TABLE sessions ADD COLUMN scope TEXT;
ALTER TABLE sessions ADD COLUMN access_expires_at TIMESTAMPTZ;
ALTER TABLE sessions ADD COLUMN auth_time TIMESTAMPTZ;

-- Refresh tokens rotate: each use marks the token used and issues the next.
-- Used tokens stay until the session ends, so a replay is recognised and ends it.
CREATE TABLE oauth_refresh_tokens (
    token_hash  BYTEA PRIMARY KEY NOT NULL,
    session_id  UUID NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX oauth_refresh_tokens_session ON oauth_refresh_tokens(session_id);

-- Clients registered by people (the built-in first-party apps are not stored).
CREATE TABLE oauth_clients (
    id             TEXT PRIMARY KEY NOT NULL,
    owner_id       UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    redirect_uris  TEXT NOT NULL,
    logo_url       TEXT,
    scopes         TEXT NOT NULL,
    secret_hash    BYTEA,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_clients_owner ON oauth_clients(owner_id);

-- Authorization requests waiting for the person (5 minutes), by an opaque handle.
CREATE TABLE oauth_requests (
    handle_hash BYTEA PRIMARY KEY NOT NULL,
    client_id   TEXT NOT NULL,
    request     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);
CREATE INDEX oauth_requests_expiry ON oauth_requests(expires_at);

-- Authorization codes: single use, one minute. A replayed code ends the session it made.
CREATE TABLE oauth_codes (
    code_hash    BYTEA PRIMARY KEY NOT NULL,
    client_id    TEXT NOT NULL,
    account_id   UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    challenge    TEXT NOT NULL,
    scope        TEXT NOT NULL,
    nonce        TEXT,
    auth_time    TIMESTAMPTZ NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    used_at      TIMESTAMPTZ,
    session_id   UUID
);
CREATE INDEX oauth_codes_expiry ON oauth_codes(expires_at);

-- Device authorization grants (RFC 8628).
CREATE TABLE oauth_device_grants (
    device_hash   BYTEA PRIMARY KEY NOT NULL,
    user_code     TEXT NOT NULL UNIQUE,
    client_id     TEXT NOT NULL,
    scope         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    expires_at    TIMESTAMPTZ NOT NULL,
    interval_secs BIGINT NOT NULL,
    last_poll_at  TIMESTAMPTZ,
    account_id    UUID REFERENCES accounts(id) ON DELETE CASCADE,
    approved      BOOLEAN,
    auth_time     TIMESTAMPTZ
);
CREATE INDEX oauth_device_grants_expiry ON oauth_device_grants(expires_at);

-- Consent a person gave to a third-party app, remembered until revoked.
CREATE TABLE oauth_consents (
    account_id  UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL REFERENCES oauth_clients(id) ON DELETE CASCADE,
    scope       TEXT NOT NULL,
    granted_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, client_id)
);

-- Every disclosure of personal data to a third party: who received what, when.
CREATE TABLE disclosures (
    id          UUID PRIMARY KEY NOT NULL,
    account_id  UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    recipient   TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    categories  TEXT NOT NULL,
    purpose     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX disclosures_account ON disclosures(account_id, id);

-- Token signing keys, the private half encrypted with the server's master key.
CREATE TABLE signing_keys (
    kid          TEXT PRIMARY KEY NOT NULL,
    alg          TEXT NOT NULL,
    private_key  BYTEA NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL
);
