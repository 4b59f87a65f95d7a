/**
 * Webhooks (data.md §10). Only the SHA-256 digest of a token is stored: the plain token is shown
 * once, by webhook_create or webhook_regenerate, and a copy of the database holds nothing that
 * posts. The channel reference follows a rename and goes with the channel (compat-notes §8, §12).
 */
export default `
CREATE TABLE webhooks (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL REFERENCES channels (name) ON UPDATE CASCADE ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL,
  created_at REAL NOT NULL,
  avatar TEXT
);
CREATE INDEX webhooks_channel ON webhooks (channel);
`
