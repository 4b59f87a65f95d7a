import { roleMention, toRecord, userMention } from '../message-row.ts'
import type { PingQuery, PingRepo } from '../types.ts'
import type { Database } from './db.ts'
import { COLUMNS, type Row } from './messages.ts'

/** Reads the ping rows that message inserts, edits and deletions keep (see sqlite/pings.ts). */
export class PostgresPings implements PingRepo {
  constructor(private readonly db: Database) {}

  async list({ userId, roles, channels, limit, offset }: PingQuery) {
    const mentions = [userMention(userId), ...roles.map(roleMention)]
    // A message that pings the user and one of their roles counts once.
    const hits = 'SELECT DISTINCT seq FROM pings WHERE mention = ANY($1::text[]) AND channel = ANY($2::text[])'
    const rows = await this.db.all<Row>(
      `SELECT ${COLUMNS} FROM messages AS m WHERE m.seq IN (${hits} ORDER BY seq DESC LIMIT $3 OFFSET $4) ORDER BY m.seq DESC`,
      [mentions, [...channels], limit, offset],
    )
    const total = await this.db.one<{ n: string }>(`SELECT COUNT(*) AS n FROM (${hits}) AS h`, [mentions, [...channels]])
    return { messages: rows.map(toRecord), total: Number(total!.n) }
  }
}
