-- How each registered app's ID tokens are signed (OpenID Connect Dynamic Client
-- Registration's id_token_signed_response_alg): ES256 (the default) or RS256.
-- Signing keys already carry their algorithm in signing_keys.alg.

ALTER TABLE oauth_clients ADD COLUMN id_token_signed_response_alg TEXT NOT NULL DEFAULT 'ES256';
