/**
 * Forum threads and who takes part in them. A thread's messages live in `messages` with
 * `channel` = the parent forum and `thread` = the thread ID, so renaming or deleting the forum
 * moves or deletes them with the forum's own.
 */
export default `
CREATE TABLE threads (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  name TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at REAL NOT NULL,
  locked INTEGER NOT NULL DEFAULT 0,
  archived INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX threads_channel ON threads (channel, seq);

CREATE TABLE thread_participants (
  seq INTEGER PRIMARY KEY,
  thread_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  UNIQUE (thread_id, user_id)
);
`
