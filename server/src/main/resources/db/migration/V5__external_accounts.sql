-- Hardening (issue 20): an identity provider's users get an account row on their first sign-in,
-- which reserves their name (in any letter case) against a local registration. issuer: the iss of
-- the provider whose tokens own the account; null for an account registered here with a password.
-- An external account has no password (password_hash ''), and nobody logs in to it with one.
ALTER TABLE users ADD COLUMN issuer VARCHAR(512);
