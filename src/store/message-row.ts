import type { MessageRecord, PingTargets } from './types.ts'

/** A ping row names whom it pings: `u:<user id>` or `r:<role name>`, so the two never collide. */
export const userMention = (id: string) => `u:${id}`
export const roleMention = (name: string) => `r:${name}`
export const mentionKeys = (pings: PingTargets) => new Set([...pings.users.map(userMention), ...pings.roles.map(roleMention)])

/** Microsecond-precision float seconds, the protocol's timestamp unit. */
export const nowSeconds = () => Math.round((performance.timeOrigin + performance.now()) * 1000) / 1e6

/** Optional message keys kept together in one JSON column; absent keys stay absent on the wire. */
const EXTRA_KEYS = ['ping', 'embeds', 'attachments', 'interaction', 'webhook'] as const

export function extraOf(record: MessageRecord): string | null {
  const extra: Record<string, unknown> = {}
  for (const key of EXTRA_KEYS) if (record[key] !== undefined) extra[key] = record[key]
  return Object.keys(extra).length > 0 ? JSON.stringify(extra) : null
}

/** A messages row as both drivers read it (flags are 0/1 in SQLite, booleans in PostgreSQL). */
export interface MessageRow {
  id: string
  channel: string
  thread: string
  user: string
  content: string
  timestamp: number
  reply_to_id: string | null
  reply_to_user: string | null
  pinned: number | boolean
  edited: number | boolean
  extra: string | null
  reactions: string | null
}

export function toRecord(row: MessageRow): MessageRecord {
  const record: MessageRecord = {
    id: row.id,
    channel: row.channel,
    thread_id: row.thread === '' ? null : row.thread,
    user: row.user,
    content: row.content,
    timestamp: row.timestamp,
  }
  if (row.reply_to_id !== null) record.reply_to = { id: row.reply_to_id, user: row.reply_to_user ?? '' }
  if (row.extra !== null) Object.assign(record, JSON.parse(row.extra))
  if (row.edited) record.edited = true
  if (row.pinned) record.pinned = true
  if (row.reactions !== null) record.reactions = JSON.parse(row.reactions)
  return record
}
