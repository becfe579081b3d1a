-- A username given up by a change stays reserved for its former owner for a
-- while (default 30 days): nobody else can claim it, and /@old redirects to the
-- new name meanwhile.

CREATE TABLE username_holds (
    username    TEXT PRIMARY KEY NOT NULL,
    account_id  BLOB NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    until       INTEGER NOT NULL
);
CREATE INDEX username_holds_account ON username_holds(account_id);
