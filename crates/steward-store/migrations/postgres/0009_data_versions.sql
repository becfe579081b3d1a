-- One-off upgrades of stored data that SQL alone cannot do (recomputing email
-- keys under new normalisation rules, say): how far each has been run.

CREATE TABLE data_versions (
    name       TEXT PRIMARY KEY NOT NULL,
    version    BIGINT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
