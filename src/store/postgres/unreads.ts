import { readPositionKey, type Target, type UnreadCount, type UnreadRepo } from '../types.ts'
import type { Database } from './db.ts'

/** Counts as the SQLite driver does (see sqlite/unreads.ts): bounded by the deletions on the shorter side of the position. */
export class PostgresUnreads implements UnreadRepo {
  constructor(private readonly db: Database) {}

  async set(userId: string, target: Target, messageId: string) {
    await this.db.run(
      `INSERT INTO unreads (user_id, key, last_read, last_n)
       VALUES ($1, $2, $3, (SELECT n FROM messages WHERE id = $3 AND channel = $4 AND thread = $5))
       ON CONFLICT (user_id, key) DO UPDATE SET last_read = excluded.last_read, last_n = excluded.last_n`,
      [userId, readPositionKey(target), messageId, target.channel, target.thread_id ?? ''],
    )
  }

  async get(userId: string, target: Target) {
    return (await this.db.one<{ last_read: string }>('SELECT last_read FROM unreads WHERE user_id = $1 AND key = $2', [userId, readPositionKey(target)]))?.last_read
  }

  async count(userId: string, targets: Target[]) {
    return Promise.all(targets.map((target) => this.countOne(userId, target)))
  }

  private async countOne(userId: string, target: Target): Promise<UnreadCount> {
    const thread = target.thread_id ?? ''
    const position = await this.db.one<{ last_read: string; last_n: string | null }>('SELECT last_read, last_n FROM unreads WHERE user_id = $1 AND key = $2', [
      userId,
      readPositionKey(target),
    ])
    const stats = await this.db.one<{ next_n: string; live: string }>('SELECT next_n, live FROM target_stats WHERE channel = $1 AND thread = $2', [target.channel, thread])
    const next_n = Number(stats?.next_n ?? 1)
    const live = Number(stats?.live ?? 0)
    const total = { last_read: position?.last_read ?? null, total_messages: live }
    // No position, or one whose message was not in this target when it was stored: all unread.
    if (position?.last_n === null || position?.last_n === undefined) return { ...total, unread_count: live }
    const n = Number(position.last_n)
    const created = next_n - 1
    const deleted = async (side: '>' | '<=') =>
      Number(
        (await this.db.one<{ n: string }>(`SELECT COUNT(*) AS n FROM message_deletions WHERE channel = $1 AND thread = $2 AND n ${side} $3`, [target.channel, thread, n]))!.n,
      )
    const unread = n >= created / 2 ? created - n - (await deleted('>')) : live - n + (await deleted('<='))
    return { ...total, unread_count: Math.max(0, unread) }
  }
}
