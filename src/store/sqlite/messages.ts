import type { Database } from 'bun:sqlite'
import { attachmentIds } from '../../attachments/message.ts'
import { extraOf, mentionKeys, nowSeconds, toRecord, type MessageRow } from '../message-row.ts'
import { TargetGoneError, type MessagePage, type MessageRecord, type MessageRepo, type NewMessage, type PingTargets, type Target } from '../types.ts'
import { GroupCommit, type CommitObserver } from './group-commit.ts'

/** A messages row as this driver reads it (0/1 for the flags). */
export interface Row extends MessageRow {
  seq: number
  pinned: number
  edited: number
}

/** The columns a write sets, in the order of `values`, then the ordinal. */
const WRITTEN = 'id, channel, thread, user, content, timestamp, reply_to_id, reply_to_user, pinned, edited, extra, reactions, n'

/** The next ordinal of the target of `values` (parameters 2 and 3: channel and thread). */
const NEXT_N = 'COALESCE((SELECT next_n FROM target_stats WHERE channel = ?2 AND thread = ?3), 1)'

export const COLUMNS = 'seq, id, channel, thread, user, content, timestamp, reply_to_id, reply_to_user, pinned, edited, extra, reactions'

/**
 * One- and two-character searches cannot use the trigram index; they scan this many of the
 * newest messages at most, so a search never stalls the server on a huge channel.
 */
const SHORT_QUERY_SCAN = 20_000

/**
 * Longer searches look at this many of the newest index matches (server-wide) at most, then keep
 * the channel's: the work per query stays bounded however many messages the server holds.
 */
const INDEX_CANDIDATES = 20_000



interface Insert {
  record: MessageRecord
  pings?: PingTargets
}

/**
 * Every message gets the next ordinal `n` of its target and bumps the target's counters in the
 * same transaction; a deletion records its ordinal (see migrations/006-unreads.ts). That is one
 * more indexed lookup and one counter update per message, whatever the history's size.
 */
export class SqliteMessages implements MessageRepo {
  private readonly q
  private readonly inserts: GroupCommit<Insert>

  constructor(
    private readonly db: Database,
    committed?: CommitObserver,
  ) {
    const sql = (text: string) => db.query<Row, (string | number)[]>(text)
    this.q = {
      // OR IGNORE: an import may offer IDs already stored; fresh messages have fresh UUIDs.
      insert: db.prepare(`INSERT OR IGNORE INTO messages (${WRITTEN}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${NEXT_N})`),
      // Checked in the same statement as the write, so no rename or delete can slip in between.
      insertIntoTarget: db.prepare(
        `INSERT INTO messages (${WRITTEN}) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${NEXT_N}
         WHERE EXISTS (SELECT 1 FROM channels WHERE name = ?2) AND (?3 = '' OR EXISTS (SELECT 1 FROM threads WHERE id = ?3 AND channel = ?2))`,
      ),
      listAttachment: db.prepare(
        'INSERT OR IGNORE INTO attachment_refs (attachment_id, message_id) SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM attachments WHERE id = ?1)',
      ),
      markAttachmentUsed: db.prepare('UPDATE attachments SET referenced = 1 WHERE id = ?'),
      counted: db.prepare(
        `INSERT INTO target_stats (channel, thread, next_n, live) VALUES (?, ?, 2, 1)
         ON CONFLICT (channel, thread) DO UPDATE SET next_n = next_n + 1, live = live + 1`,
      ),
      ping: db.prepare('INSERT OR IGNORE INTO pings (mention, seq, channel, thread) VALUES (?, ?, ?, ?)'),
      forgetPings: db.prepare('DELETE FROM pings WHERE seq = ?'),
      get: sql(`SELECT ${COLUMNS} FROM messages WHERE id = ? AND channel = ? AND thread = ?`),
      latest: sql(`SELECT ${COLUMNS} FROM messages WHERE channel = ? AND thread = ? ORDER BY seq DESC LIMIT ? OFFSET ?`),
      before: sql(`SELECT ${COLUMNS} FROM messages WHERE channel = ? AND thread = ? AND seq < ? ORDER BY seq DESC LIMIT ?`),
      after: sql(`SELECT ${COLUMNS} FROM messages WHERE channel = ? AND thread = ? AND seq > ? ORDER BY seq LIMIT ?`),
      // A message's 0-based index in its target from its ordinal, less the deletions before it:
      // the work is bounded by the target's deletions, not by its history.
      indexOf: db.query<{ i: number }, [number]>(
        `SELECT m.n - 1 - (SELECT COUNT(*) FROM message_deletions AS d WHERE d.channel = m.channel AND d.thread = m.thread AND d.n < m.n) AS i
         FROM messages AS m WHERE m.seq = ?`,
      ),
      replies: sql(`SELECT ${COLUMNS} FROM messages WHERE reply_to_id = ? AND channel = ? AND thread = ? ORDER BY seq LIMIT ?`),
      pinned: sql(`SELECT ${COLUMNS} FROM messages WHERE channel = ? AND thread = ? AND pinned = 1 ORDER BY seq DESC`),
      searchFts: sql(
        `SELECT ${COLUMNS} FROM messages
         WHERE seq IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? ORDER BY rowid DESC LIMIT ${INDEX_CANDIDATES})
           AND channel = ? AND thread = ? ORDER BY seq DESC LIMIT ?`,
      ),
      searchScan: sql(`SELECT ${COLUMNS} FROM messages WHERE channel = ? AND thread = ? ORDER BY seq DESC LIMIT ${SHORT_QUERY_SCAN}`),
      edit: db.prepare('UPDATE messages SET content = ?, edited = 1 WHERE id = ? AND channel = ? AND thread = ?'),
      setExtra: db.prepare('UPDATE messages SET extra = ? WHERE id = ?'),
      delete: db.query<{ seq: number; n: number | null }, string[]>('DELETE FROM messages WHERE id = ? AND channel = ? AND thread = ? RETURNING seq, n'),
      uncounted: db.prepare('UPDATE target_stats SET live = live - 1 WHERE channel = ? AND thread = ?'),
      deleted: db.prepare('INSERT OR IGNORE INTO message_deletions (channel, thread, n) VALUES (?, ?, ?)'),
      setReactions: db.prepare('UPDATE messages SET reactions = ? WHERE id = ?'),
      setPinned: db.prepare('UPDATE messages SET pinned = ? WHERE id = ? AND channel = ? AND thread = ?'),
    }
    this.inserts = new GroupCommit<Insert>(
      db,
      ({ record, pings }) => {
        const { changes, lastInsertRowid } = this.q.insertIntoTarget.run(...values(record))
        if (changes === 0) throw new TargetGoneError(record)
        this.stored(record, Number(lastInsertRowid), pings)
      },
      committed,
    )
  }

  async insert(message: NewMessage, pings?: PingTargets): Promise<MessageRecord> {
    const { record } = await this.inserts.add({ record: { ...message, id: crypto.randomUUID(), timestamp: nowSeconds() }, pings })
    return record
  }

  /** Writes inserts still waiting for their group commit (before the database closes). */
  flush() {
    this.inserts.flush()
  }

  async get(target: Target, id: string) {
    const row = this.q.get.get(id, target.channel, target.thread_id ?? '')
    return row ? toRecord(row) : undefined
  }

  async listLatest(target: Target, offset: number, limit: number) {
    return this.q.latest.all(target.channel, target.thread_id ?? '', limit, offset).reverse().map(toRecord)
  }

  async listBefore(target: Target, beforeId: string, limit: number) {
    const anchor = this.q.get.get(beforeId, target.channel, target.thread_id ?? '')
    if (!anchor) return undefined
    const rows = this.q.before.all(target.channel, target.thread_id ?? '', anchor.seq, limit).reverse()
    const index = this.q.indexOf.get(anchor.seq)!.i
    return { messages: rows.map(toRecord), first: index - rows.length } satisfies MessagePage
  }

  async listAround(target: Target, id: string, above: number, below: number) {
    const thread = target.thread_id ?? ''
    const anchor = this.q.get.get(id, target.channel, thread)
    if (!anchor) return undefined
    const older = this.q.before.all(target.channel, thread, anchor.seq, below).reverse()
    const newer = this.q.after.all(target.channel, thread, anchor.seq, above)
    const index = this.q.indexOf.get(anchor.seq)!.i
    return { messages: [...older, anchor, ...newer].map(toRecord), first: index - older.length } satisfies MessagePage
  }

  async listReplies(target: Target, id: string, limit: number) {
    return this.q.replies.all(id, target.channel, target.thread_id ?? '', limit).map(toRecord)
  }

  async listPinned(target: Target) {
    return this.q.pinned.all(target.channel, target.thread_id ?? '').map(toRecord)
  }

  async search(target: Target, query: string, limit: number) {
    const thread = target.thread_id ?? ''
    // The trigram index needs three characters; shorter queries scan newest-first until `limit` hits.
    if ([...query].length >= 3) {
      return this.q.searchFts.all(`"${query.replaceAll('"', '""')}"`, target.channel, thread, limit).map(toRecord)
    }
    // Folded here, not with SQL lower(), which folds ASCII only (upstream lower-cases with Python).
    const needle = query.toLowerCase()
    const rows: Row[] = []
    for (const row of this.q.searchScan.iterate(target.channel, thread)) {
      if (!row.content.toLowerCase().includes(needle)) continue
      rows.push(row)
      if (rows.length >= limit) break
    }
    return rows.map(toRecord)
  }

  async newest(target: Target) {
    const row = this.q.latest.get(target.channel, target.thread_id ?? '', 1, 0)
    return row ? toRecord(row) : undefined
  }

  async edit(target: Target, id: string, content: string, embeds?: unknown[], pings?: PingTargets) {
    return this.db.transaction(() => {
      const row = this.q.get.get(id, target.channel, target.thread_id ?? '')
      if (!row) return undefined
      this.q.edit.run(content, id, target.channel, target.thread_id ?? '')
      if (pings) {
        this.q.forgetPings.run(row.seq)
        this.addPings(row.seq, [row.channel, row.thread], pings)
      }
      const record: MessageRecord = { ...toRecord(row), content, edited: true }
      if (embeds !== undefined) {
        record.embeds = embeds
        this.q.setExtra.run(extraOf(record), id)
      }
      return record
    })()
  }

  async delete(target: Target, id: string) {
    return this.db.transaction(() => {
      const thread = target.thread_id ?? ''
      const row = this.q.delete.get(id, target.channel, thread)
      if (!row) return false
      this.q.uncounted.run(target.channel, thread)
      if (row.n !== null) this.q.deleted.run(target.channel, thread, row.n)
      this.q.forgetPings.run(row.seq)
      return true
    })()
  }

  async addReaction(target: Target, id: string, emoji: string, userId: string, maxEmojis: number) {
    let full = false
    const added = this.changeReactions(target, id, (reactions) => {
      const users = reactions[emoji]
      if (users?.includes(userId)) return false
      full = users === undefined && Object.keys(reactions).length >= maxEmojis
      if (full) return false
      reactions[emoji] = [...(users ?? []), userId]
      return true
    })
    return added ? 'added' : full ? 'full' : 'failed'
  }

  async removeReaction(target: Target, id: string, emoji: string, userId: string) {
    return this.changeReactions(target, id, (reactions) => {
      const users = reactions[emoji] ?? []
      if (!users.includes(userId)) return false
      const rest = users.filter((u) => u !== userId)
      if (rest.length > 0) reactions[emoji] = rest
      else delete reactions[emoji]
      return true
    })
  }

  async setPinned(target: Target, id: string, pinned: boolean) {
    return this.q.setPinned.run(pinned ? 1 : 0, id, target.channel, target.thread_id ?? '').changes > 0
  }

  async importMany(messages: MessageRecord[]) {
    return this.db.transaction(() => messages.reduce((added, record) => added + this.write(record), 0))()
  }

  /** Stores a whole record; returns 1 when it was new, 0 when its ID was already stored. */
  private write(record: MessageRecord): number {
    const { changes, lastInsertRowid } = this.q.insert.run(...values(record))
    if (changes > 0) this.stored(record, Number(lastInsertRowid))
    return changes
  }

  /** What goes with a stored message: its target's counters and its ping rows. */
  private stored(record: MessageRecord, seq: number, pings?: PingTargets) {
    this.q.counted.run(...targetOf(record))
    if (pings) this.addPings(seq, targetOf(record), pings)
    // In the message's own transaction: no crash can leave a listed upload looking unused to the cleanup.
    for (const id of attachmentIds(record.attachments)) {
      this.q.markAttachmentUsed.run(id)
      this.q.listAttachment.run(id, record.id)
    }
  }

  private addPings(seq: number, [channel, thread]: readonly [string, string], pings: PingTargets) {
    for (const mention of mentionKeys(pings)) this.q.ping.run(mention, seq, channel, thread)
  }

  private changeReactions(target: Target, id: string, change: (reactions: Record<string, string[]>) => boolean) {
    return this.db.transaction(() => {
      const row = this.q.get.get(id, target.channel, target.thread_id ?? '')
      if (!row) return false
      const reactions: Record<string, string[]> = row.reactions ? JSON.parse(row.reactions) : {}
      if (!change(reactions)) return false
      this.q.setReactions.run(Object.keys(reactions).length > 0 ? JSON.stringify(reactions) : null, id)
      return true
    })()
  }
}

/** The channel and thread columns of `record`'s target. */
const targetOf = (record: MessageRecord) => [record.channel, record.thread_id ?? ''] as const

/** The bound values of WRITTEN for `record`, but for the ordinal. */
function values(record: MessageRecord) {
  const { reactions } = record
  return [
    record.id,
    record.channel,
    record.thread_id ?? '',
    record.user,
    record.content,
    record.timestamp,
    record.reply_to?.id ?? null,
    record.reply_to?.user ?? null,
    record.pinned ? 1 : 0,
    record.edited ? 1 : 0,
    extraOf(record),
    reactions && Object.keys(reactions).length > 0 ? JSON.stringify(reactions) : null,
  ] as const
}


