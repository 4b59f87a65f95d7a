import type { ThreadRecord, ThreadRepo } from '../types.ts'
import type { Database, Queries } from './db.ts'
import { deleteTargets } from './targets.ts'

interface Row {
  id: string
  channel: string
  name: string
  created_by: string
  created_at: number
  locked: boolean
  archived: boolean
}

const COLUMNS = 'id, channel, name, created_by, created_at, locked, archived'

export class PostgresThreads implements ThreadRepo {
  constructor(
    private readonly db: Database,
    /** Commits message inserts of this node still waiting for their group commit. */
    private readonly flushMessages: () => Promise<void>,
  ) {}

  async get(id: string) {
    const row = await this.db.one<Row>(`SELECT ${COLUMNS} FROM threads WHERE id = $1`, [id])
    return row && this.record(this.db, row)
  }

  async listByChannel(channel: string, limit: number) {
    const rows = await this.db.all<Row>(`SELECT ${COLUMNS} FROM threads WHERE channel = $1 ORDER BY seq DESC LIMIT $2`, [channel, limit])
    return Promise.all(rows.map((row) => this.record(this.db, row)))
  }

  async insert(thread: Omit<ThreadRecord, 'participants'>) {
    await this.db.transaction(async (tx) => {
      await tx.run('INSERT INTO threads (id, channel, name, created_by, created_at, locked, archived) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        thread.id, thread.parent_channel, thread.name, thread.created_by, thread.created_at, thread.locked, thread.archived,
      ])
      await tx.run('INSERT INTO thread_participants (thread_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [thread.id, thread.created_by])
    })
    return { ...thread, participants: [thread.created_by] }
  }

  /** One statement: a concurrent change to another field is kept. */
  async update(id: string, patch: Partial<Pick<ThreadRecord, 'name' | 'locked' | 'archived'>>) {
    const row = await this.db.one<Row>(
      `UPDATE threads SET name = COALESCE($2, name), locked = COALESCE($3, locked), archived = COALESCE($4, archived) WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, patch.name ?? null, patch.locked ?? null, patch.archived ?? null],
    )
    return row && this.record(this.db, row)
  }

  async delete(id: string) {
    if (!(await this.db.one('SELECT 1 FROM threads WHERE id = $1', [id]))) return false
    await this.flushMessages()
    return this.db.transaction(async (tx) => {
      const thread = await tx.one<{ channel: string }>('DELETE FROM threads WHERE id = $1 RETURNING channel', [id])
      if (!thread) return false
      await tx.run('DELETE FROM thread_participants WHERE thread_id = $1', [id])
      await deleteTargets(tx, thread.channel, id)
      return true
    })
  }

  async join(id: string, userId: string) {
    await this.db.run('INSERT INTO thread_participants (thread_id, user_id) SELECT id, $2 FROM threads WHERE id = $1 ON CONFLICT DO NOTHING', [id, userId])
    return this.get(id)
  }

  async leave(id: string, userId: string) {
    await this.db.run('DELETE FROM thread_participants WHERE thread_id = $1 AND user_id = $2 AND user_id <> (SELECT created_by FROM threads WHERE id = $1)', [id, userId])
    return this.get(id)
  }

  private async record(db: Queries, row: Row): Promise<ThreadRecord> {
    const participants = await db.all<{ user_id: string }>('SELECT user_id FROM thread_participants WHERE thread_id = $1 ORDER BY seq', [row.id])
    return {
      id: row.id,
      name: row.name,
      parent_channel: row.channel,
      created_by: row.created_by,
      created_at: row.created_at,
      locked: row.locked,
      archived: row.archived,
      participants: participants.map((p) => p.user_id),
    }
  }
}
