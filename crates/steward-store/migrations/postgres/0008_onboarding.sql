-- When the "tell us about yourself" step after the first sign-in was finished or
-- skipped (NULL: not yet, so the next browser sign-in offers it).

ALTER TABLE profiles ADD COLUMN onboarded_at TIMESTAMPTZ;
