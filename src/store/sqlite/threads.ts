import type { Database } from 'bun:sqlite'
import type { ThreadRecord, ThreadRepo } from '../types.ts'
import { deleteTargets } from './targets.ts'

interface Row {
  id: string
  channel: string
  name: string
  created_by: string
  created_at: number
  locked: number
  archived: number
}

const COLUMNS = 'id, channel, name, created_by, created_at, locked, archived'

export class SqliteThreads implements ThreadRepo {
  private readonly q

  constructor(
    private readonly db: Database,
    /** Commits message inserts still waiting for their group commit. */
    private readonly flushMessages: () => void,
  ) {
    this.q = {
      get: db.query<Row, [string]>(`SELECT ${COLUMNS} FROM threads WHERE id = ?`),
      byChannel: db.query<Row, [string, number]>(`SELECT ${COLUMNS} FROM threads WHERE channel = ? ORDER BY seq DESC LIMIT ?`),
      participants: db.query<{ user_id: string }, [string]>('SELECT user_id FROM thread_participants WHERE thread_id = ? ORDER BY seq'),
      insert: db.prepare('INSERT INTO threads (id, channel, name, created_by, created_at, locked, archived) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      join: db.prepare('INSERT OR IGNORE INTO thread_participants (thread_id, user_id) VALUES (?, ?)'),
      leave: db.prepare('DELETE FROM thread_participants WHERE thread_id = ? AND user_id = ?'),
      update: db.prepare('UPDATE threads SET name = ?, locked = ?, archived = ? WHERE id = ?'),
    }
  }

  async get(id: string) {
    const row = this.q.get.get(id)
    return row ? this.record(row) : undefined
  }

  async listByChannel(channel: string, limit: number) {
    return this.q.byChannel.all(channel, limit).map((row) => this.record(row))
  }

  async insert(thread: Omit<ThreadRecord, 'participants'>) {
    this.db.transaction(() => {
      this.q.insert.run(thread.id, thread.parent_channel, thread.name, thread.created_by, thread.created_at, thread.locked ? 1 : 0, thread.archived ? 1 : 0)
      this.q.join.run(thread.id, thread.created_by)
    })()
    return { ...thread, participants: [thread.created_by] }
  }

  async update(id: string, patch: Partial<Pick<ThreadRecord, 'name' | 'locked' | 'archived'>>) {
    const current = await this.get(id)
    if (!current) return undefined
    const next = { ...current, ...patch }
    this.q.update.run(next.name, next.locked ? 1 : 0, next.archived ? 1 : 0, id)
    return next
  }

  async delete(id: string) {
    const thread = this.q.get.get(id)
    if (!thread) return false
    this.flushMessages()
    this.db.transaction(() => {
      this.db.run('DELETE FROM threads WHERE id = ?', [id])
      this.db.run('DELETE FROM thread_participants WHERE thread_id = ?', [id])
      deleteTargets(this.db, thread.channel, id)
    })()
    return true
  }

  async join(id: string, userId: string) {
    if (!this.q.get.get(id)) return undefined
    this.q.join.run(id, userId)
    return this.get(id)
  }

  async leave(id: string, userId: string) {
    const row = this.q.get.get(id)
    if (!row) return undefined
    if (row.created_by !== userId) this.q.leave.run(id, userId)
    return this.get(id)
  }

  private record(row: Row): ThreadRecord {
    return {
      id: row.id,
      name: row.name,
      parent_channel: row.channel,
      created_by: row.created_by,
      created_at: row.created_at,
      locked: row.locked === 1,
      archived: row.archived === 1,
      participants: this.q.participants.all(row.id).map((p) => p.user_id),
    }
  }
}
