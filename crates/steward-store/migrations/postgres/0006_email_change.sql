-- Email change: the confirmation link sent to the new address carries it here
-- (as typed), so the change takes effect only when that link is used.

ALTER TABLE email_tokens ADD COLUMN new_email TEXT;
