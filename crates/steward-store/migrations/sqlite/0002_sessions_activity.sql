-- Security activity log; when each password last changed (browsers trusted
-- before then are trusted no more).

ALTER TABLE accounts ADD COLUMN password_changed_at INTEGER;

CREATE TABLE security_events (
    id          BLOB PRIMARY KEY NOT NULL,
    account_id  BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    ip          TEXT,
    ip_network  TEXT,
    user_agent  TEXT,
    session_id  BLOB,
    detail      TEXT
);
CREATE INDEX security_events_account ON security_events(account_id, id);
CREATE INDEX security_events_created ON security_events(created_at);
