-- Notification preferences (a row only where a person changed the default "on"),
-- in-app notifications, and the unsubscribe URL that non-transactional mail carries
-- (RFC 8058 List-Unsubscribe).

CREATE TABLE notification_prefs (
    account_id  UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    category    TEXT NOT NULL,
    channel     TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, category, channel)
);

CREATE TABLE notifications (
    id          UUID PRIMARY KEY NOT NULL,
    account_id  UUID NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    category    TEXT NOT NULL,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    link        TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    read_at     TIMESTAMPTZ
);
CREATE INDEX notifications_account ON notifications(account_id, id);

ALTER TABLE mail_outbox ADD COLUMN list_unsubscribe TEXT;
