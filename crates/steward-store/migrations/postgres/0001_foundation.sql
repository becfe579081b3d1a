-- Accounts, consent ledger, emailed tokens, sessions, mail outbox, replay
-- protection and server secrets. Times are TIMESTAMPTZ (UTC).

CREATE TABLE accounts (
    id                UUID PRIMARY KEY NOT NULL,
    email             TEXT NOT NULL,
    email_key         TEXT NOT NULL UNIQUE,
    username          TEXT NOT NULL UNIQUE,
    password_hash     TEXT NOT NULL,
    email_verified_at TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);

CREATE TABLE consents (
    id             UUID PRIMARY KEY NOT NULL,
    account_id     UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    purpose        TEXT NOT NULL,
    legal_basis    TEXT NOT NULL,
    notice_version TEXT NOT NULL,
    granted        BOOLEAN NOT NULL,
    method         TEXT NOT NULL,
    ip_truncated   TEXT,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX consents_account ON consents(account_id, created_at);

CREATE TABLE email_tokens (
    id         UUID PRIMARY KEY NOT NULL,
    account_id UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    token_hash BYTEA NOT NULL UNIQUE,
    email_key  TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX email_tokens_account ON email_tokens(account_id, kind);

CREATE TABLE sessions (
    id           UUID PRIMARY KEY NOT NULL,
    account_id   UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    token_hash   BYTEA NOT NULL UNIQUE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    remember     BOOLEAN NOT NULL,
    ip           TEXT,
    user_agent   TEXT
);
CREATE INDEX sessions_account ON sessions(account_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE mail_outbox (
    id              UUID PRIMARY KEY NOT NULL,
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body_text       TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ,
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT
);
CREATE INDEX mail_outbox_due ON mail_outbox(next_attempt_at);

CREATE TABLE used_challenges (
    id         BYTEA PRIMARY KEY NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX used_challenges_expiry ON used_challenges(expires_at);

CREATE TABLE server_secrets (
    name       TEXT PRIMARY KEY NOT NULL,
    value      BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
