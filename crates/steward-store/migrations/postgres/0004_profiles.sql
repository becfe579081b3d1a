-- Profiles: what a person tells others about themselves (one row per account,
-- made on first save). Kept apart from `accounts` so the session look-up stays narrow.

CREATE TABLE profiles (
    account_id  UUID PRIMARY KEY NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name        TEXT,
    about       TEXT,
    role        TEXT,
    company     TEXT,
    website     TEXT,
    github      TEXT,
    x           TEXT,
    linkedin    TEXT,
    public      BOOLEAN NOT NULL DEFAULT FALSE,
    photo_id    UUID,
    updated_at  TIMESTAMPTZ NOT NULL
);

-- Profile photos, re-encoded as square JPEGs (256 and 64 pixels). A new upload
-- gets a new id, so its address changes and caches never show the old one.
CREATE TABLE profile_photos (
    id          UUID PRIMARY KEY NOT NULL,
    account_id  UUID NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
    large       BYTEA NOT NULL,
    small       BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
