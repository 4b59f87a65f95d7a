/**
 * Uploaded files' metadata (the bytes live in `<data folder>/attachments/<filename>`).
 * `referenced` turns on when a message first lists the attachment; `attachment_refs` records
 * each message that lists it and goes with the message (any deletion path: message, channel,
 * thread, purge), so an attachment whose last message is gone is found by one anti-join.
 */
export default `
CREATE TABLE attachments (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  filename TEXT NOT NULL,
  original_name TEXT NOT NULL,
  mime_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  hash TEXT NOT NULL,
  uploader_id TEXT NOT NULL,
  uploader_name TEXT NOT NULL,
  channel TEXT NOT NULL,
  created_at REAL NOT NULL,
  expires_at REAL NOT NULL,
  permanent INTEGER NOT NULL DEFAULT 0,
  referenced INTEGER NOT NULL DEFAULT 0,
  width INTEGER,
  height INTEGER
);
CREATE INDEX attachments_uploader ON attachments (uploader_id, expires_at);
CREATE INDEX attachments_hash ON attachments (uploader_id, hash);
CREATE INDEX attachments_expiry ON attachments (expires_at);
CREATE INDEX attachments_unreferenced ON attachments (created_at) WHERE referenced = 0;

CREATE TABLE attachment_refs (
  attachment_id TEXT NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
  message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  PRIMARY KEY (attachment_id, message_id)
) WITHOUT ROWID;
CREATE INDEX attachment_refs_message ON attachment_refs (message_id);
`
