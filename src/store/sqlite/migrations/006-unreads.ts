import type { Database } from 'bun:sqlite'

/**
 * Exact unread counts and ping lookups that do not grow with the history.
 *
 * - `messages.n`: the message's ordinal within its target (channel + thread), 1, 2, 3… in `seq`
 *   order, never reused.
 * - `target_stats`: per target, the next ordinal and the number of live messages.
 * - `message_deletions`: the ordinals of deleted messages, so "live messages up to ordinal X"
 *   is X minus the deletions at or below X.
 * - `unreads.last_n`: the ordinal of the read position's message (NULL when unknown).
 * - `pings`: one row per (message, pinged user ID `u:<id>` or mentioned role `r:<name>`).
 *
 * Existing data is backfilled here: ordinals and counters in SQL, ping rows by parsing the
 * messages that can ping (self-contained, since a migration never changes once released).
 */
export default function unreads(db: Database): void {
  db.run(`
ALTER TABLE messages ADD COLUMN n INTEGER;
UPDATE messages SET n = o.n
  FROM (SELECT seq, ROW_NUMBER() OVER (PARTITION BY channel, thread ORDER BY seq) AS n FROM messages) AS o
  WHERE messages.seq = o.seq;

CREATE TABLE target_stats (
  channel TEXT NOT NULL,
  thread TEXT NOT NULL,
  next_n INTEGER NOT NULL,
  live INTEGER NOT NULL,
  PRIMARY KEY (channel, thread)
) WITHOUT ROWID;
INSERT INTO target_stats (channel, thread, next_n, live)
  SELECT channel, thread, MAX(n) + 1, COUNT(*) FROM messages GROUP BY channel, thread;

CREATE TABLE message_deletions (
  channel TEXT NOT NULL,
  thread TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (channel, thread, n)
) WITHOUT ROWID;

ALTER TABLE unreads ADD COLUMN last_n INTEGER;
UPDATE unreads SET last_n = (
  SELECT m.n FROM messages AS m
  WHERE m.id = unreads.last_read
    AND ((m.thread = '' AND m.channel = unreads.key) OR (m.thread <> '' AND unreads.key = 'thread/' || m.thread))
);

CREATE TABLE pings (
  mention TEXT NOT NULL,
  seq INTEGER NOT NULL,
  channel TEXT NOT NULL,
  thread TEXT NOT NULL,
  PRIMARY KEY (mention, seq)
) WITHOUT ROWID;
CREATE INDEX pings_message ON pings (seq);
`)
  backfillPings(db)
}

const USER_MENTION = /(?<!&)@([A-Za-z0-9_]+)/g
const ROLE_MENTION = /@&([A-Za-z0-9_]+)/g
const LOCAL_PREFIX = 'USR:local_'

interface Row {
  seq: number
  channel: string
  thread: string
  content: string
  reply_to_user: string | null
  extra: string | null
}

/** Mentions resolve as message_new resolves them: a username (any case), else a local account `@name`. */
function backfillPings(db: Database) {
  const byName = db.query<{ id: string }, [string]>('SELECT id FROM users WHERE username = ? COLLATE NOCASE ORDER BY seq LIMIT 1')
  const insert = db.prepare('INSERT OR IGNORE INTO pings (mention, seq, channel, thread) VALUES (?, ?, ?, ?)')
  const candidates = db.query<Row, []>(
    `SELECT seq, channel, thread, content, reply_to_user, extra FROM messages WHERE reply_to_user IS NOT NULL OR instr(content, '@') > 0`,
  )
  for (const row of candidates.iterate()) {
    const mentions = new Set<string>()
    for (const [, name] of row.content.matchAll(USER_MENTION)) {
      const user = byName.get(name!) ?? byName.get(`${LOCAL_PREFIX}${name}`)
      if (user) mentions.add(`u:${user.id}`)
    }
    for (const [, role] of row.content.matchAll(ROLE_MENTION)) mentions.add(`r:${role}`)
    const quiet = row.extra !== null && JSON.parse(row.extra).ping === false
    if (row.reply_to_user !== null && !quiet) mentions.add(`u:${row.reply_to_user}`)
    for (const mention of mentions) insert.run(mention, row.seq, row.channel, row.thread)
  }
}
