import type { Database } from 'bun:sqlite'
import type { UnreadRepo } from '../types.ts'

export class SqliteUnreads implements UnreadRepo {
  private readonly upsert
  private readonly select

  constructor(db: Database) {
    this.upsert = db.prepare(
      'INSERT INTO unreads (user_id, key, last_read) VALUES (?, ?, ?) ON CONFLICT (user_id, key) DO UPDATE SET last_read = excluded.last_read',
    )
    this.select = db.query<{ last_read: string }, [string, string]>('SELECT last_read FROM unreads WHERE user_id = ? AND key = ?')
  }

  async set(userId: string, key: string, messageId: string) {
    this.upsert.run(userId, key, messageId)
  }

  async get(userId: string, key: string) {
    return this.select.get(userId, key)?.last_read
  }
}
