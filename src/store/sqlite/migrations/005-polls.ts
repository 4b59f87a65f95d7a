/**
 * Polls and their votes, one row per vote. A poll belongs to its message: deleting the message
 * (alone, or with its channel or thread) deletes the poll, and the poll's votes go with it.
 * `channel` and `thread` repeat the message's place so a poll's audience is one lookup away.
 */
export default `
CREATE TABLE polls (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  message_id TEXT NOT NULL UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
  channel TEXT NOT NULL,
  thread TEXT NOT NULL DEFAULT '',
  question TEXT NOT NULL,
  options TEXT NOT NULL,
  allow_multiselect INTEGER NOT NULL,
  expires_at REAL,
  created_by TEXT NOT NULL,
  created_at REAL NOT NULL,
  ended INTEGER NOT NULL DEFAULT 0,
  ended_at REAL
);
CREATE INDEX polls_channel ON polls (channel);
CREATE INDEX polls_expiry ON polls (expires_at) WHERE ended = 0 AND expires_at IS NOT NULL;

CREATE TABLE poll_votes (
  poll_id TEXT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
  option_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  voted_at REAL NOT NULL,
  PRIMARY KEY (poll_id, user_id, option_id)
);
`
