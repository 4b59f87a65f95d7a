import type { PollOption, PollRecord } from './types.ts'

/** A polls row as both drivers read it (flags are 0/1 in SQLite, booleans in PostgreSQL). */
export interface PollRow {
  id: string
  message_id: string
  channel: string
  thread: string
  question: string
  options: string
  allow_multiselect: number | boolean
  expires_at: number | null
  created_by: string
  created_at: number
  ended: number | boolean
  ended_at: number | null
}

export const POLL_COLUMNS = 'id, message_id, channel, thread, question, options, allow_multiselect, expires_at, created_by, created_at, ended, ended_at'

/** The chosen option IDs in the poll's own option order, whatever order they were chosen in. */
export function inOptionOrder(options: PollOption[], chosen: Set<string>): string[] {
  return options.map((o) => o.id).filter((id) => chosen.has(id))
}

export function pollFromRow(row: PollRow): PollRecord {
  return {
    id: row.id,
    message_id: row.message_id,
    channel: row.channel,
    thread_id: row.thread === '' ? null : row.thread,
    question: row.question,
    options: JSON.parse(row.options),
    allow_multiselect: Boolean(row.allow_multiselect),
    expires_at: row.expires_at,
    created_by: row.created_by,
    created_at: row.created_at,
    ended: Boolean(row.ended),
    ended_at: row.ended_at,
  }
}
