-- Profiles: what a person tells others about themselves (one row per account,
-- made on first save). Kept apart from `accounts` so the session look-up stays narrow.

CREATE TABLE profiles (
    account_id  BLOB PRIMARY KEY NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT,
    about       TEXT,
    role        TEXT,
    company     TEXT,
    website     TEXT,
    github      TEXT,
    x           TEXT,
    linkedin    TEXT,
    public      BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at  INTEGER NOT NULL
);
