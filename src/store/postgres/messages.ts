import { attachmentIds } from '../../attachments/message.ts'
import type { CommitObserver } from '../sqlite/group-commit.ts'
import { extraOf, mentionKeys, nowSeconds, toRecord, type MessageRow } from '../message-row.ts'
import { TargetGoneError, type MessagePage, type MessageRecord, type MessageRepo, type NewMessage, type PingTargets, type Target } from '../types.ts'
import type { Database, Param, Queries } from './db.ts'
import { GroupCommit } from './group-commit.ts'

/** A messages row as this driver reads it (booleans for the flags). */
export interface Row extends MessageRow {
  seq: string
  pinned: boolean
  edited: boolean
}

/** emoji → user IDs in reaction order, emojis in the order they first appeared; NULL without reactions. */
const REACTIONS = `(SELECT json_object_agg(e.emoji, e.users ORDER BY e.first)::text FROM (
    SELECT emoji, json_agg(user_id ORDER BY seq) AS users, MIN(seq) AS first FROM message_reactions AS r WHERE r.message_id = m.id GROUP BY emoji
  ) AS e) AS reactions`

/** The columns of a message `m` with its reactions. */
export const COLUMNS = `m.seq, m.id, m.channel, m.thread, m."user", m.content, m.timestamp, m.reply_to_id, m.reply_to_user, m.pinned, m.edited, m.extra, ${REACTIONS}`

/** Both limits as in the SQLite driver (see sqlite/messages.ts): a search's work stays bounded. */
const SHORT_QUERY_SCAN = 20_000
const INDEX_CANDIDATES = 20_000

/** Rows per statement when importing: arrays travel as one parameter each. */
const IMPORT_CHUNK = 5_000



/** `query` as an ILIKE pattern matching it anywhere, its wildcards taken literally. */
const containing = (query: string) => `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

interface Insert {
  record: MessageRecord
  pings?: PingTargets
}

const targetKey = (channel: string, thread: string) => `${channel}\u0000${thread}`

/**
 * Stores new messages in the given order, in one statement: only those whose channel (and
 * thread) still exists, locked in a fixed order so two nodes never deadlock; each takes the next
 * ordinals of its target from one counter upsert per target; their pings go in with them.
 * The uploads they list are marked used and referenced by them (in the same statement, so no crash
 * leaves a listed upload looking unused to the cleanup). Returns the IDs stored.
 * $1–$11: the messages' columns; $12, $13: (message ID, mention) pairs; $14, $15: (message ID,
 * attachment ID) pairs.
 */
const INSERT_BATCH = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::text[], $8::text[], $9::bool[], $10::bool[], $11::text[])
    WITH ORDINALITY AS u(id, channel, thread, author, content, ts, reply_id, reply_user, pinned, edited, extra, ord)
),
live_channels AS (
  SELECT name FROM channels WHERE name IN (SELECT channel FROM input) ORDER BY name FOR SHARE
),
live_threads AS (
  SELECT id, channel FROM threads WHERE id IN (SELECT thread FROM input WHERE thread <> '') ORDER BY id FOR SHARE
),
accepted AS (
  SELECT i.*, row_number() OVER (PARTITION BY i.channel, i.thread ORDER BY i.ord) AS k
  FROM input AS i
  WHERE i.channel IN (SELECT name FROM live_channels)
    AND (i.thread = '' OR (i.thread, i.channel) IN (SELECT id, channel FROM live_threads))
),
counts AS (
  SELECT channel, thread, COUNT(*) AS added FROM accepted GROUP BY channel, thread
),
bumped AS (
  INSERT INTO target_stats (channel, thread, next_n, live)
  SELECT channel, thread, added + 1, added FROM counts ORDER BY channel, thread
  ON CONFLICT (channel, thread) DO UPDATE SET next_n = target_stats.next_n + excluded.live, live = target_stats.live + excluded.live
  RETURNING channel, thread, next_n
),
stored AS (
  INSERT INTO messages (id, channel, thread, "user", content, timestamp, reply_to_id, reply_to_user, pinned, edited, extra, n)
  SELECT a.id, a.channel, a.thread, a.author, a.content, a.ts, a.reply_id, a.reply_user, a.pinned, a.edited, a.extra, b.next_n - c.added + a.k - 1
  FROM accepted AS a JOIN counts AS c USING (channel, thread) JOIN bumped AS b USING (channel, thread)
  ORDER BY a.ord
  RETURNING seq, id, channel, thread
),
pinged AS (
  INSERT INTO pings (mention, seq, channel, thread)
  SELECT p.mention, s.seq, s.channel, s.thread FROM unnest($12::text[], $13::text[]) AS p(message_id, mention) JOIN stored AS s ON s.id = p.message_id
  ON CONFLICT DO NOTHING
),
listed AS (
  SELECT l.attachment_id, s.id AS message_id FROM unnest($14::text[], $15::text[]) AS l(message_id, attachment_id) JOIN stored AS s ON s.id = l.message_id
),
used AS (
  UPDATE attachments SET referenced = true WHERE id IN (SELECT attachment_id FROM listed) RETURNING id
),
referenced AS (
  INSERT INTO attachment_refs (attachment_id, message_id)
  SELECT l.attachment_id, l.message_id FROM listed AS l JOIN used AS u ON u.id = l.attachment_id
  ON CONFLICT DO NOTHING
)
SELECT id FROM stored`

/**
 * Messages with the SQLite driver's ordinals (`n` per target, target_stats, message_deletions,
 * pings; see sqlite/migrations/006-unreads.ts). New messages are stored by a group commit; a
 * batch holds share locks on its channels and threads, so no rename or delete passes it.
 */
export class PostgresMessages implements MessageRepo {
  private readonly inserts: GroupCommit<Insert, MessageRecord>

  constructor(
    private readonly db: Database,
    committed?: CommitObserver,
  ) {
    this.inserts = new GroupCommit<Insert, MessageRecord>((items) => this.insertBatch(items), committed)
  }

  async insert(message: NewMessage, pings?: PingTargets): Promise<MessageRecord> {
    return this.inserts.add({ record: { ...message, id: crypto.randomUUID(), timestamp: nowSeconds() }, pings })
  }

  /** Commits inserts still waiting for their group commit (before a rename, a delete, closing). */
  flush() {
    return this.inserts.flush()
  }

  async get(target: Target, id: string) {
    const row = await this.db.one<Row>(`SELECT ${COLUMNS} FROM messages AS m WHERE m.id = $1 AND m.channel = $2 AND m.thread = $3`, [id, ...where(target)])
    return row && toRecord(row)
  }

  async listLatest(target: Target, offset: number, limit: number) {
    const rows = await this.db.all<Row>(
      `SELECT ${COLUMNS} FROM messages AS m WHERE m.channel = $1 AND m.thread = $2 ORDER BY m.seq DESC LIMIT $3 OFFSET $4`,
      [...where(target), limit, offset],
    )
    return rows.reverse().map(toRecord)
  }

  async listBefore(target: Target, beforeId: string, limit: number) {
    const anchor = await this.anchor(target, beforeId)
    if (!anchor) return undefined
    const rows = (await this.older(target, anchor.seq, limit)).reverse()
    return { messages: rows.map(toRecord), first: anchor.index - rows.length } satisfies MessagePage
  }

  async listAround(target: Target, id: string, above: number, below: number) {
    const anchor = await this.anchor(target, id)
    if (!anchor) return undefined
    const older = (await this.older(target, anchor.seq, below)).reverse()
    const newer = await this.db.all<Row>(
      `SELECT ${COLUMNS} FROM messages AS m WHERE m.channel = $1 AND m.thread = $2 AND m.seq > $3 ORDER BY m.seq LIMIT $4`,
      [...where(target), anchor.seq, above],
    )
    const self = await this.db.one<Row>(`SELECT ${COLUMNS} FROM messages AS m WHERE m.seq = $1`, [anchor.seq])
    if (!self) return undefined
    return { messages: [...older, self, ...newer].map(toRecord), first: anchor.index - older.length } satisfies MessagePage
  }

  async listReplies(target: Target, id: string, limit: number) {
    const rows = await this.db.all<Row>(
      `SELECT ${COLUMNS} FROM messages AS m WHERE m.reply_to_id = $1 AND m.channel = $2 AND m.thread = $3 ORDER BY m.seq LIMIT $4`,
      [id, ...where(target), limit],
    )
    return rows.map(toRecord)
  }

  async listPinned(target: Target) {
    const rows = await this.db.all<Row>(`SELECT ${COLUMNS} FROM messages AS m WHERE m.channel = $1 AND m.thread = $2 AND m.pinned ORDER BY m.seq DESC`, where(target))
    return rows.map(toRecord)
  }

  /**
   * Case-insensitive substring match with ILIKE (the trigram index serves three characters and
   * more). Longer queries look at the newest 20,000 matches server-wide, shorter ones at the
   * target's newest 20,000 messages, as the SQLite driver does.
   */
  async search(target: Target, query: string, limit: number) {
    const pattern = containing(query)
    const rows =
      [...query].length >= 3
        ? await this.db.all<Row>(
            `SELECT ${COLUMNS} FROM messages AS m
             WHERE m.seq IN (SELECT seq FROM messages WHERE content ILIKE $1 ESCAPE '\\' ORDER BY seq DESC LIMIT ${INDEX_CANDIDATES})
               AND m.channel = $2 AND m.thread = $3 ORDER BY m.seq DESC LIMIT $4`,
            [pattern, ...where(target), limit],
          )
        : await this.db.all<Row>(
            `SELECT ${COLUMNS} FROM (SELECT * FROM messages WHERE channel = $2 AND thread = $3 ORDER BY seq DESC LIMIT ${SHORT_QUERY_SCAN}) AS m
             WHERE m.content ILIKE $1 ESCAPE '\\' ORDER BY m.seq DESC LIMIT $4`,
            [pattern, ...where(target), limit],
          )
    return rows.map(toRecord)
  }

  async newest(target: Target) {
    const row = await this.db.one<Row>(`SELECT ${COLUMNS} FROM messages AS m WHERE m.channel = $1 AND m.thread = $2 ORDER BY m.seq DESC LIMIT 1`, where(target))
    return row && toRecord(row)
  }

  async edit(target: Target, id: string, content: string, embeds?: unknown[], pings?: PingTargets) {
    return this.db.transaction(async (tx) => {
      const hit = await tx.one<{ seq: string; extra: string | null }>(
        'UPDATE messages SET content = $1, edited = true WHERE id = $2 AND channel = $3 AND thread = $4 RETURNING seq, extra',
        [content, id, ...where(target)],
      )
      if (!hit) return undefined
      if (pings) {
        await tx.run('DELETE FROM pings WHERE seq = $1', [hit.seq])
        await addPings(tx, [{ seq: hit.seq, channel: target.channel, thread: target.thread_id ?? '', pings }])
      }
      if (embeds !== undefined) {
        const extra = { ...(hit.extra === null ? {} : JSON.parse(hit.extra)), embeds }
        await tx.run('UPDATE messages SET extra = $1 WHERE seq = $2', [JSON.stringify(extra), hit.seq])
      }
      const row = await tx.one<Row>(`SELECT ${COLUMNS} FROM messages AS m WHERE m.seq = $1`, [hit.seq])
      return row && toRecord(row)
    })
  }

  async delete(target: Target, id: string) {
    return this.db.transaction(async (tx) => {
      const [channel, thread] = where(target)
      const row = await tx.one<{ seq: string; n: string | null }>('DELETE FROM messages WHERE id = $1 AND channel = $2 AND thread = $3 RETURNING seq, n', [
        id, channel, thread,
      ])
      if (!row) return false
      await tx.run('UPDATE target_stats SET live = live - 1 WHERE channel = $1 AND thread = $2', [channel, thread])
      if (row.n !== null) {
        await tx.run('INSERT INTO message_deletions (channel, thread, n) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [channel, thread, row.n])
      }
      await tx.run('DELETE FROM pings WHERE seq = $1', [row.seq])
      return true
    })
  }

  /** The message's row stays locked while its reactions are checked and changed: reactions from two nodes never race. */
  async addReaction(target: Target, id: string, emoji: string, userId: string, maxEmojis: number) {
    return this.db.transaction(async (tx): Promise<'added' | 'failed' | 'full'> => {
      if (!(await tx.one('SELECT 1 FROM messages WHERE id = $1 AND channel = $2 AND thread = $3 FOR UPDATE', [id, ...where(target)]))) return 'failed'
      const state = await tx.one<{ mine: boolean; known: boolean; emojis: number }>(
        `SELECT bool_or(emoji = $2 AND user_id = $3) AS mine, bool_or(emoji = $2) AS known, COUNT(DISTINCT emoji)::int AS emojis
         FROM message_reactions WHERE message_id = $1`,
        [id, emoji, userId],
      )
      if (state?.mine) return 'failed'
      if (!state?.known && (state?.emojis ?? 0) >= maxEmojis) return 'full'
      await tx.run('INSERT INTO message_reactions (message_id, emoji, user_id) VALUES ($1, $2, $3)', [id, emoji, userId])
      return 'added'
    })
  }

  async removeReaction(target: Target, id: string, emoji: string, userId: string) {
    const removed = await this.db.run(
      `DELETE FROM message_reactions AS r USING messages AS m
       WHERE r.message_id = m.id AND m.id = $1 AND m.channel = $2 AND m.thread = $3 AND r.emoji = $4 AND r.user_id = $5`,
      [id, ...where(target), emoji, userId],
    )
    return removed > 0
  }

  async setPinned(target: Target, id: string, pinned: boolean) {
    return (await this.db.run('UPDATE messages SET pinned = $1 WHERE id = $2 AND channel = $3 AND thread = $4', [pinned, id, ...where(target)])) > 0
  }

  async importMany(messages: MessageRecord[]) {
    return this.db.transaction(async (tx) => {
      let added = 0
      for (let i = 0; i < messages.length; i += IMPORT_CHUNK) {
        const chunk = messages.slice(i, i + IMPORT_CHUNK)
        const stored = new Set((await tx.all<{ id: string }>('SELECT id FROM messages WHERE id = ANY($1::text[])', [chunk.map((m) => m.id)])).map((r) => r.id))
        const fresh = chunk.filter((m) => !stored.has(m.id) && (stored.add(m.id), true))
        added += (await storeRows(tx, fresh)).size
      }
      return added
    })
  }

  /**
   * A group commit's batch, in one statement and so in one round trip: it refuses, alone, each
   * insert whose channel or thread is gone, and holds share locks on the others' channels and
   * threads until it commits, so no rename or delete passes it.
   */
  private async insertBatch(items: Insert[]): Promise<Array<MessageRecord | Error>> {
    const records = items.map((i) => i.record)
    const pings = items.flatMap(({ record, pings }) => (pings ? [...mentionKeys(pings)].map((mention) => [record.id, mention] as const) : []))
    const listed = records.flatMap((record) => attachmentIds(record.attachments).map((attachment) => [record.id, attachment] as const))
    const stored = await this.db.all<{ id: string }>(INSERT_BATCH, [
      ...columnsOf(records),
      pings.map((p) => p[0]),
      pings.map((p) => p[1]),
      listed.map((l) => l[0]),
      listed.map((l) => l[1]),
    ])
    const ids = new Set(stored.map((r) => r.id))
    return records.map((record) => (ids.has(record.id) ? record : new TargetGoneError(record)))
  }

  private async anchor(target: Target, id: string) {
    const row = await this.db.one<{ seq: string; i: string }>(
      `SELECT m.seq, m.n - 1 - (SELECT COUNT(*) FROM message_deletions AS d WHERE d.channel = m.channel AND d.thread = m.thread AND d.n < m.n) AS i
       FROM messages AS m WHERE m.id = $1 AND m.channel = $2 AND m.thread = $3`,
      [id, ...where(target)],
    )
    return row && { seq: row.seq, index: Number(row.i) }
  }

  private older(target: Target, seq: string, limit: number) {
    return this.db.all<Row>(`SELECT ${COLUMNS} FROM messages AS m WHERE m.channel = $1 AND m.thread = $2 AND m.seq < $3 ORDER BY m.seq DESC LIMIT $4`, [
      ...where(target), seq, limit,
    ])
  }
}

/** The channel and thread columns of a target. */
const where = (target: Target) => [target.channel, target.thread_id ?? ''] as [string, string]

/** The messages' columns as parameter arrays, in the order both INSERTs unnest them ($1–$11). */
function columnsOf(records: MessageRecord[]): Param[] {
  return [
    records.map((r) => r.id),
    records.map((r) => r.channel),
    records.map((r) => r.thread_id ?? ''),
    records.map((r) => r.user),
    records.map((r) => r.content),
    records.map((r) => r.timestamp),
    records.map((r) => r.reply_to?.id ?? null),
    records.map((r) => r.reply_to?.user ?? null),
    records.map((r) => !!r.pinned),
    records.map((r) => !!r.edited),
    records.map(extraOf),
  ]
}

/**
 * Imports records with fresh IDs in the given order: each takes the next ordinals of its target
 * (one counter upsert per target, in a fixed order), then all rows go in one INSERT, their
 * reactions in one more. Returns the IDs stored.
 */
async function storeRows(tx: Queries, records: MessageRecord[]): Promise<Set<string>> {
  if (records.length === 0) return new Set()
  const counts = new Map<string, { channel: string; thread: string; count: number; next: number }>()
  for (const record of records) {
    const [channel, thread] = where(record)
    const entry = counts.get(targetKey(channel, thread))
    if (entry) entry.count++
    else counts.set(targetKey(channel, thread), { channel, thread, count: 1, next: 0 })
  }
  const targets = [...counts.values()]
  const bumped = await tx.all<{ channel: string; thread: string; next_n: string }>(
    `INSERT INTO target_stats (channel, thread, next_n, live)
     SELECT c, t, k + 1, k FROM unnest($1::text[], $2::text[], $3::bigint[]) AS u(c, t, k) ORDER BY c, t
     ON CONFLICT (channel, thread) DO UPDATE SET next_n = target_stats.next_n + excluded.live, live = target_stats.live + excluded.live
     RETURNING channel, thread, next_n`,
    [targets.map((t) => t.channel), targets.map((t) => t.thread), targets.map((t) => t.count)],
  )
  for (const row of bumped) {
    const entry = counts.get(targetKey(row.channel, row.thread))!
    entry.next = Number(row.next_n) - entry.count
  }
  const ordinals = records.map((r) => counts.get(targetKey(...where(r)))!.next++)
  const rows = await tx.all<{ seq: string; id: string }>(
    `INSERT INTO messages (id, channel, thread, "user", content, timestamp, reply_to_id, reply_to_user, pinned, edited, extra, n)
     SELECT id, channel, thread, author, content, ts, reply_id, reply_user, pinned, edited, extra, n
     FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::float8[], $7::text[], $8::text[], $9::bool[], $10::bool[], $11::text[], $12::bigint[])
       WITH ORDINALITY AS u(id, channel, thread, author, content, ts, reply_id, reply_user, pinned, edited, extra, n, ord)
     ORDER BY ord
     ON CONFLICT (id) DO NOTHING
     RETURNING seq, id`,
    [...columnsOf(records), ordinals],
  )
  const seqOf = new Map(rows.map((r) => [r.id, r.seq]))
  const reactions = records.flatMap((r) =>
    seqOf.has(r.id) ? Object.entries(r.reactions ?? {}).flatMap(([emoji, users]) => users.map((user) => [r.id, emoji, user] as const)) : [],
  )
  if (reactions.length > 0) {
    await tx.run(
      `INSERT INTO message_reactions (message_id, emoji, user_id)
       SELECT m, e, u FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS x(m, e, u, ord) ORDER BY ord ON CONFLICT DO NOTHING`,
      [reactions.map((r) => r[0]), reactions.map((r) => r[1]), reactions.map((r) => r[2])],
    )
  }
  return new Set(seqOf.keys())
}

async function addPings(tx: Queries, entries: Array<{ seq: string; channel: string; thread: string; pings: PingTargets }>) {
  const rows = entries.flatMap(({ seq, channel, thread, pings }) => [...mentionKeys(pings)].map((mention) => [mention, seq, channel, thread] as const))
  if (rows.length === 0) return
  await tx.run('INSERT INTO pings (mention, seq, channel, thread) SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING', [
    rows.map((r) => r[0]), rows.map((r) => r[1]), rows.map((r) => r[2]), rows.map((r) => r[3]),
  ])
}
