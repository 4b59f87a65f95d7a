import type { Database } from 'bun:sqlite'
import { readPositionKey, type Target, type UnreadCount, type UnreadRepo } from '../types.ts'

interface Stats {
  next_n: number
  live: number
}

/**
 * A read position keeps its message's ordinal `n` within the target (migrations/006-unreads.ts).
 * With the target's counters, the unread count is "live messages with an ordinal above it":
 * (created − n) − deletions above n, or equally live − n + deletions at or below n. Whichever
 * side of n is shorter is counted, so the work is bounded by the deletions on that side.
 */
export class SqliteUnreads implements UnreadRepo {
  private readonly q

  constructor(db: Database) {
    this.q = {
      upsert: db.prepare(
        `INSERT INTO unreads (user_id, key, last_read, last_n)
         VALUES (?, ?, ?, (SELECT n FROM messages WHERE id = ? AND channel = ? AND thread = ?))
         ON CONFLICT (user_id, key) DO UPDATE SET last_read = excluded.last_read, last_n = excluded.last_n`,
      ),
      position: db.query<{ last_read: string; last_n: number | null }, [string, string]>('SELECT last_read, last_n FROM unreads WHERE user_id = ? AND key = ?'),
      stats: db.query<Stats, [string, string]>('SELECT next_n, live FROM target_stats WHERE channel = ? AND thread = ?'),
      deletedAbove: db.query<{ n: number }, [string, string, number]>(
        'SELECT COUNT(*) AS n FROM message_deletions WHERE channel = ? AND thread = ? AND n > ?',
      ),
      deletedUpTo: db.query<{ n: number }, [string, string, number]>(
        'SELECT COUNT(*) AS n FROM message_deletions WHERE channel = ? AND thread = ? AND n <= ?',
      ),
    }
  }

  async set(userId: string, target: Target, messageId: string) {
    this.q.upsert.run(userId, readPositionKey(target), messageId, messageId, target.channel, target.thread_id ?? '')
  }

  async get(userId: string, target: Target) {
    return this.q.position.get(userId, readPositionKey(target))?.last_read
  }

  async count(userId: string, targets: Target[]) {
    return targets.map((target) => this.countOne(userId, target))
  }

  private countOne(userId: string, target: Target): UnreadCount {
    const thread = target.thread_id ?? ''
    const position = this.q.position.get(userId, readPositionKey(target))
    const { next_n, live } = this.q.stats.get(target.channel, thread) ?? { next_n: 1, live: 0 }
    const total = { last_read: position?.last_read ?? null, total_messages: live }
    // No position, or one whose message was not in this target when it was stored: all unread.
    const n = position?.last_n
    if (n === null || n === undefined) return { ...total, unread_count: live }
    const created = next_n - 1
    const unread =
      n >= created / 2
        ? created - n - this.q.deletedAbove.get(target.channel, thread, n)!.n
        : live - n + this.q.deletedUpTo.get(target.channel, thread, n)!.n
    return { ...total, unread_count: Math.max(0, unread) }
  }
}
