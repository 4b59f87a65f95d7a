import type { Database as SqliteDatabase } from 'bun:sqlite'
import type { Database, Param, Queries } from '../postgres/db.ts'

type PgType = 'text' | 'float8' | 'bigint' | 'int' | 'bool'
type Value = string | number | boolean | null

/**
 * One table's copy: what to read from SQLite (in the order the rows were written, so the
 * PostgreSQL `seq` columns keep that order) and how its rows go into PostgreSQL.
 */
interface TableCopy {
  kind: string
  read: string
  /** Columns of the rows `read` returns, in order, with their PostgreSQL type. */
  columns: Array<[name: string, type: PgType]>
  /** SELECT over `u` (the batch, columns as named above) plus the INSERT and its conflict rule. */
  insert(select: string): string
}

const plain = (table: string, conflict = 'ON CONFLICT DO NOTHING') => (select: string) => `INSERT INTO ${table} ${select} ${conflict}`

/** Every table of the store, parents before the rows that reference them. */
const TABLES: TableCopy[] = [
  { kind: 'roles', read: 'SELECT name, position, data FROM roles ORDER BY position', columns: [['name', 'text'], ['position', 'int'], ['data', 'text']], insert: plain('roles (name, position, data)') },
  { kind: 'channels', read: 'SELECT name, position, data FROM channels ORDER BY position', columns: [['name', 'text'], ['position', 'int'], ['data', 'text']], insert: plain('channels (name, position, data)') },
  { kind: 'users', read: 'SELECT id, username, data FROM users ORDER BY seq', columns: [['id', 'text'], ['username', 'text'], ['data', 'text']], insert: plain('users (id, username, data)') },
  {
    kind: 'threads',
    read: 'SELECT id, channel, name, created_by, created_at, locked, archived FROM threads ORDER BY seq',
    columns: [['id', 'text'], ['channel', 'text'], ['name', 'text'], ['created_by', 'text'], ['created_at', 'float8'], ['locked', 'bool'], ['archived', 'bool']],
    insert: plain('threads (id, channel, name, created_by, created_at, locked, archived)'),
  },
  { kind: 'participants', read: 'SELECT thread_id, user_id FROM thread_participants ORDER BY seq', columns: [['thread_id', 'text'], ['user_id', 'text']], insert: plain('thread_participants (thread_id, user_id)') },
  {
    kind: 'messages',
    read: 'SELECT id, channel, thread, user, content, timestamp, reply_to_id, reply_to_user, pinned, edited, extra, n FROM messages ORDER BY seq',
    columns: [
      ['id', 'text'], ['channel', 'text'], ['thread', 'text'], ['user', 'text'], ['content', 'text'], ['timestamp', 'float8'], ['reply_to_id', 'text'],
      ['reply_to_user', 'text'], ['pinned', 'bool'], ['edited', 'bool'], ['extra', 'text'], ['n', 'bigint'],
    ],
    insert: plain('messages (id, channel, thread, "user", content, timestamp, reply_to_id, reply_to_user, pinned, edited, extra, n)'),
  },
  {
    kind: 'reactions',
    // One row per (message, emoji, user), in the JSON's order: emojis as they first appeared, users as they reacted.
    read: `SELECT m.id AS message_id, e.key AS emoji, u.value AS user_id FROM messages AS m, json_each(m.reactions) AS e, json_each(e.value) AS u
           WHERE m.reactions IS NOT NULL ORDER BY m.seq, e.id, u.id`,
    columns: [['message_id', 'text'], ['emoji', 'text'], ['user_id', 'text']],
    insert: plain('message_reactions (message_id, emoji, user_id)'),
  },
  {
    kind: 'stats',
    read: 'SELECT channel, thread, next_n, live FROM target_stats ORDER BY channel, thread',
    columns: [['channel', 'text'], ['thread', 'text'], ['next_n', 'bigint'], ['live', 'bigint']],
    insert: plain('target_stats (channel, thread, next_n, live)'),
  },
  {
    kind: 'deletions',
    read: 'SELECT channel, thread, n FROM message_deletions ORDER BY channel, thread, n',
    columns: [['channel', 'text'], ['thread', 'text'], ['n', 'bigint']],
    insert: plain('message_deletions (channel, thread, n)'),
  },
  {
    kind: 'pings',
    // A ping row names its message by `seq`, which differs between the databases: matched by message ID.
    read: 'SELECT p.mention, m.id AS message_id, p.channel, p.thread FROM pings AS p JOIN messages AS m ON m.seq = p.seq ORDER BY p.seq, p.mention',
    columns: [['mention', 'text'], ['message_id', 'text'], ['channel', 'text'], ['thread', 'text']],
    insert: (select) => `INSERT INTO pings (mention, seq, channel, thread)
      SELECT s.mention, m.seq, s.channel, s.thread FROM (${select}) AS s JOIN messages AS m ON m.id = s.message_id ON CONFLICT DO NOTHING`,
  },
  {
    kind: 'unreads',
    read: 'SELECT user_id, key, last_read, last_n FROM unreads ORDER BY user_id, key',
    columns: [['user_id', 'text'], ['key', 'text'], ['last_read', 'text'], ['last_n', 'bigint']],
    insert: plain('unreads (user_id, key, last_read, last_n)'),
  },
  {
    kind: 'polls',
    read: 'SELECT id, message_id, channel, thread, question, options, allow_multiselect, expires_at, created_by, created_at, ended, ended_at FROM polls ORDER BY seq',
    columns: [
      ['id', 'text'], ['message_id', 'text'], ['channel', 'text'], ['thread', 'text'], ['question', 'text'], ['options', 'text'], ['allow_multiselect', 'bool'],
      ['expires_at', 'float8'], ['created_by', 'text'], ['created_at', 'float8'], ['ended', 'bool'], ['ended_at', 'float8'],
    ],
    insert: plain('polls (id, message_id, channel, thread, question, options, allow_multiselect, expires_at, created_by, created_at, ended, ended_at)'),
  },
  {
    kind: 'votes',
    read: 'SELECT poll_id, option_id, user_id, voted_at FROM poll_votes ORDER BY rowid',
    columns: [['poll_id', 'text'], ['option_id', 'text'], ['user_id', 'text'], ['voted_at', 'float8']],
    insert: plain('poll_votes (poll_id, option_id, user_id, voted_at)'),
  },
  {
    kind: 'modlog',
    read: 'SELECT id, action, category, actor_id, actor_name, target_id, target_name, details, timestamp FROM modlog ORDER BY seq',
    columns: [
      ['id', 'text'], ['action', 'text'], ['category', 'text'], ['actor_id', 'text'], ['actor_name', 'text'], ['target_id', 'text'], ['target_name', 'text'],
      ['details', 'text'], ['timestamp', 'float8'],
    ],
    // Entry IDs are `<ms>-<actor>`, not unique on their own: an entry already there is one with the same ID, action, details and time.
    insert: (select) => `INSERT INTO modlog (id, action, category, actor_id, actor_name, target_id, target_name, details, timestamp)
      SELECT * FROM (${select}) AS s
      WHERE NOT EXISTS (SELECT 1 FROM modlog AS l WHERE l.id = s.id AND l.action = s.action AND l.details = s.details AND l.timestamp = s.timestamp)`,
  },
  {
    kind: 'attachments',
    read: `SELECT id, filename, original_name, mime_type, size, hash, uploader_id, uploader_name, channel, created_at, expires_at, permanent, referenced, width, height
           FROM attachments ORDER BY seq`,
    columns: [
      ['id', 'text'], ['filename', 'text'], ['original_name', 'text'], ['mime_type', 'text'], ['size', 'bigint'], ['hash', 'text'], ['uploader_id', 'text'],
      ['uploader_name', 'text'], ['channel', 'text'], ['created_at', 'float8'], ['expires_at', 'float8'], ['permanent', 'bool'], ['referenced', 'bool'],
      ['width', 'int'], ['height', 'int'],
    ],
    insert: plain('attachments (id, filename, original_name, mime_type, size, hash, uploader_id, uploader_name, channel, created_at, expires_at, permanent, referenced, width, height)'),
  },
  {
    kind: 'attachment refs',
    read: 'SELECT attachment_id, message_id FROM attachment_refs ORDER BY attachment_id, message_id',
    columns: [['attachment_id', 'text'], ['message_id', 'text']],
    insert: plain('attachment_refs (attachment_id, message_id)'),
  },
  { kind: 'emojis', read: 'SELECT id, name, file_name FROM emojis ORDER BY id', columns: [['id', 'bigint'], ['name', 'text'], ['file_name', 'text']], insert: plain('emojis (id, name, file_name)') },
  {
    kind: 'webhooks',
    read: 'SELECT id, channel, name, token_hash, created_by, created_at, avatar FROM webhooks ORDER BY seq',
    columns: [['id', 'text'], ['channel', 'text'], ['name', 'text'], ['token_hash', 'text'], ['created_by', 'text'], ['created_at', 'float8'], ['avatar', 'text']],
    insert: plain('webhooks (id, channel, name, token_hash, created_by, created_at, avatar)'),
  },
  {
    kind: 'push',
    read: 'SELECT endpoint, user_id, p256dh, auth, device_fingerprint, last_used FROM push_subscriptions ORDER BY rowid',
    columns: [['endpoint', 'text'], ['user_id', 'text'], ['p256dh', 'text'], ['auth', 'text'], ['device_fingerprint', 'text'], ['last_used', 'float8']],
    insert: plain('push_subscriptions (endpoint, user_id, p256dh, auth, device_fingerprint, last_used)'),
  },
]

/** The kinds of rows copied, in the order they are copied (and reported). */
export const COPIED_KINDS = TABLES.map((t) => t.kind)

export interface CopyCount {
  copied: number
  /** Already in PostgreSQL (same ID or key): left as they are. */
  skipped: number
}

export type CopyReport = Record<string, CopyCount>

/** Rows per INSERT: one statement with one array parameter per column. */
const BATCH = 1000

/**
 * Copies every table of a SQLite store (at this binary's schema) into a PostgreSQL store (at this
 * binary's schema), keeping IDs, ordinals, timestamps and order. Only adds: a row whose ID or key
 * is already there is skipped, so a second run copies nothing. One transaction: a failure leaves
 * PostgreSQL as it was.
 *
 * A database that holds no user and no message yet holds only its first-start roles and #general:
 * those are replaced by the SQLite database's roles and channels.
 */
export async function copySqliteToPostgres(source: SqliteDatabase, target: Database): Promise<CopyReport> {
  return target.transaction(async (tx) => {
    const report: CopyReport = {}
    if (await holdsOnlySeeds(tx)) {
      await tx.run('DELETE FROM channels')
      await tx.run('DELETE FROM roles')
    }
    for (const table of TABLES) report[table.kind] = await copyTable(source, tx, table)
    const next = source.query<{ next: number }, []>('SELECT next FROM emoji_ids').get()?.next ?? 0
    await tx.run('UPDATE emoji_ids SET next = GREATEST(next, $1)', [next])
    return report
  })
}

async function holdsOnlySeeds(tx: Queries): Promise<boolean> {
  const row = await tx.one<{ taken: boolean }>('SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM messages) AS taken')
  return !row!.taken
}

async function copyTable(source: SqliteDatabase, tx: Queries, table: TableCopy): Promise<CopyCount> {
  const count = { copied: 0, skipped: 0 }
  const arrays = table.columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ')
  const names = table.columns.map(([name]) => `"${name}"`).join(', ')
  const select = `SELECT ${names} FROM unnest(${arrays}) WITH ORDINALITY AS u(${names}, ord) ORDER BY ord`
  const statement = table.insert(select)
  let batch: Value[][] = []
  const flush = async () => {
    if (batch.length === 0) return
    const columns = table.columns.map(([, type], i) => batch.map((row) => (type === 'bool' ? row[i] === 1 || row[i] === true : row[i]!)))
    const written = await tx.run(statement, columns as Param[])
    count.copied += written
    count.skipped += batch.length - written
    batch = []
  }
  for (const row of source.query<Record<string, Value>, []>(table.read).iterate()) {
    batch.push(table.columns.map(([name]) => row[name] ?? null))
    if (batch.length >= BATCH) await flush()
  }
  await flush()
  return count
}
