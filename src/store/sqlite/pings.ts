import type { Database } from 'bun:sqlite'
import type { PingQuery, PingRepo } from '../types.ts'
import { roleMention, toRecord, userMention } from '../message-row.ts'
import { COLUMNS, type Row } from './messages.ts'

/**
 * Reads the ping rows that message inserts, edits and deletions keep. A query touches only the
 * rows of the caller's ID and roles, never the history.
 */
export class SqlitePings implements PingRepo {
  private readonly page
  private readonly total

  constructor(db: Database) {
    // Both JSON arrays; a message that pings the user and one of their roles counts once.
    const hits = `SELECT DISTINCT seq FROM pings
      WHERE mention IN (SELECT value FROM json_each(?)) AND channel IN (SELECT value FROM json_each(?))`
    this.page = db.query<Row, [string, string, number, number]>(
      `SELECT ${COLUMNS} FROM messages WHERE seq IN (${hits} ORDER BY seq DESC LIMIT ? OFFSET ?) ORDER BY seq DESC`,
    )
    this.total = db.query<{ n: number }, [string, string]>(`SELECT COUNT(*) AS n FROM (${hits})`)
  }

  async list({ userId, roles, channels, limit, offset }: PingQuery) {
    const mentions = JSON.stringify([userMention(userId), ...roles.map(roleMention)])
    const where = JSON.stringify(channels)
    return {
      messages: this.page.all(mentions, where, limit, offset).map(toRecord),
      total: this.total.get(mentions, where)!.n,
    }
  }
}
