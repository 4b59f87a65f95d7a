import type { Queries } from '../db.ts'

/**
 * The whole schema as the SQLite driver has it after its migration 10, with two differences that
 * matter when several nodes write at once: reactions are rows of their own (one per message,
 * emoji and user) instead of a JSON column rewritten by whoever reacts, and substring search
 * uses a pg_trgm GIN index. JSON documents are `text`, so their key order is kept as written.
 */
export default async function initial(db: Queries): Promise<void> {
  await db.run(TABLES)
  await trigramIndex(db)
}

/**
 * pg_trgm lives in `public` unless someone installed it elsewhere before; its operator class is
 * named with its schema, so the index works whatever the search_path.
 */
async function trigramIndex(db: Queries) {
  await db.run('CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public')
  const { schema } = (await db.one<{ schema: string }>(
    "SELECT n.nspname AS schema FROM pg_extension AS e JOIN pg_namespace AS n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
  ))!
  await db.run(`CREATE INDEX messages_content_trgm ON messages USING gin (content "${schema.replaceAll('"', '""')}".gin_trgm_ops)`)
}

const TABLES = `

CREATE TABLE users (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  username TEXT NOT NULL,
  data TEXT NOT NULL
);
CREATE INDEX users_username ON users (lower(username), seq);

CREATE TABLE roles (
  name TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  data TEXT NOT NULL
);

CREATE TABLE channels (
  name TEXT PRIMARY KEY,
  position INTEGER NOT NULL,
  data TEXT NOT NULL
);

CREATE TABLE messages (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  thread TEXT NOT NULL DEFAULT '',
  "user" TEXT NOT NULL,
  content TEXT NOT NULL,
  timestamp DOUBLE PRECISION NOT NULL,
  reply_to_id TEXT,
  reply_to_user TEXT,
  pinned BOOLEAN NOT NULL DEFAULT false,
  edited BOOLEAN NOT NULL DEFAULT false,
  extra TEXT,
  n BIGINT
);
CREATE INDEX messages_target ON messages (channel, thread, seq);
CREATE INDEX messages_reply ON messages (reply_to_id) WHERE reply_to_id IS NOT NULL;
CREATE INDEX messages_pinned ON messages (channel, thread, seq) WHERE pinned;

CREATE TABLE message_reactions (
  seq BIGSERIAL,
  message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  emoji TEXT NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (message_id, emoji, user_id)
);

CREATE TABLE target_stats (
  channel TEXT NOT NULL,
  thread TEXT NOT NULL,
  next_n BIGINT NOT NULL,
  live BIGINT NOT NULL,
  PRIMARY KEY (channel, thread)
);

CREATE TABLE message_deletions (
  channel TEXT NOT NULL,
  thread TEXT NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (channel, thread, n)
);

CREATE TABLE unreads (
  user_id TEXT NOT NULL,
  key TEXT NOT NULL,
  last_read TEXT NOT NULL,
  last_n BIGINT,
  PRIMARY KEY (user_id, key)
);

CREATE TABLE pings (
  mention TEXT NOT NULL,
  seq BIGINT NOT NULL,
  channel TEXT NOT NULL,
  thread TEXT NOT NULL,
  PRIMARY KEY (mention, seq)
);
CREATE INDEX pings_message ON pings (seq);

CREATE TABLE modlog (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL,
  action TEXT NOT NULL,
  category TEXT NOT NULL,
  actor_id TEXT NOT NULL,
  actor_name TEXT NOT NULL,
  target_id TEXT,
  target_name TEXT,
  details TEXT NOT NULL,
  timestamp DOUBLE PRECISION NOT NULL
);
CREATE INDEX modlog_time ON modlog (timestamp);
CREATE INDEX modlog_category_time ON modlog (category, timestamp);

CREATE TABLE threads (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL,
  name TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  locked BOOLEAN NOT NULL DEFAULT false,
  archived BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX threads_channel ON threads (channel, seq);

CREATE TABLE thread_participants (
  seq BIGSERIAL PRIMARY KEY,
  thread_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  UNIQUE (thread_id, user_id)
);

CREATE TABLE polls (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  message_id TEXT NOT NULL UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
  channel TEXT NOT NULL,
  thread TEXT NOT NULL DEFAULT '',
  question TEXT NOT NULL,
  options TEXT NOT NULL,
  allow_multiselect BOOLEAN NOT NULL,
  expires_at DOUBLE PRECISION,
  created_by TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  ended BOOLEAN NOT NULL DEFAULT false,
  ended_at DOUBLE PRECISION
);
CREATE INDEX polls_channel ON polls (channel);
CREATE INDEX polls_expiry ON polls (expires_at) WHERE NOT ended AND expires_at IS NOT NULL;

CREATE TABLE poll_votes (
  seq BIGSERIAL,
  poll_id TEXT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
  option_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  voted_at DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (poll_id, user_id, option_id)
);

CREATE TABLE attachments (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  filename TEXT NOT NULL,
  original_name TEXT NOT NULL,
  mime_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  hash TEXT NOT NULL,
  uploader_id TEXT NOT NULL,
  uploader_name TEXT NOT NULL,
  channel TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  expires_at DOUBLE PRECISION NOT NULL,
  permanent BOOLEAN NOT NULL DEFAULT false,
  referenced BOOLEAN NOT NULL DEFAULT false,
  width INTEGER,
  height INTEGER
);
CREATE INDEX attachments_uploader ON attachments (uploader_id, expires_at);
CREATE INDEX attachments_hash ON attachments (uploader_id, hash);
CREATE INDEX attachments_expiry ON attachments (expires_at);
CREATE INDEX attachments_unreferenced ON attachments (created_at) WHERE NOT referenced;

CREATE TABLE attachment_refs (
  attachment_id TEXT NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
  message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  PRIMARY KEY (attachment_id, message_id)
);
CREATE INDEX attachment_refs_message ON attachment_refs (message_id);

CREATE TABLE emojis (
  id BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  file_name TEXT NOT NULL UNIQUE
);
CREATE UNIQUE INDEX emojis_name ON emojis (lower(name));
CREATE TABLE emoji_ids (next BIGINT NOT NULL);
INSERT INTO emoji_ids (next) VALUES (0);

CREATE TABLE webhooks (
  seq BIGSERIAL PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  channel TEXT NOT NULL REFERENCES channels (name) ON UPDATE CASCADE ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL,
  created_at DOUBLE PRECISION NOT NULL,
  avatar TEXT
);
CREATE INDEX webhooks_channel ON webhooks (channel);

CREATE TABLE push_subscriptions (
  seq BIGSERIAL,
  endpoint TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  p256dh TEXT NOT NULL,
  auth TEXT NOT NULL,
  device_fingerprint TEXT,
  last_used DOUBLE PRECISION NOT NULL
);
CREATE UNIQUE INDEX push_subscriptions_device ON push_subscriptions (user_id, device_fingerprint) WHERE device_fingerprint IS NOT NULL;
CREATE INDEX push_subscriptions_last_used ON push_subscriptions (last_used);
`
