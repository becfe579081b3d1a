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
    photo_id    BLOB,
    updated_at  INTEGER NOT NULL
);

-- Profile photos, re-encoded as square JPEGs (256 and 64 pixels). A new upload
-- gets a new id, so its address changes and caches never show the old one.
CREATE TABLE profile_photos (
    id          BLOB PRIMARY KEY NOT NULL,
    account_id  BLOB NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
    large       BLOB NOT NULL,
    small       BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);
