import type { Database } from 'bun:sqlite'
import type { ChannelRecord, ChannelRepo } from '../types.ts'
import { deleteTargets, renameTargets } from './targets.ts'

type Row = { name: string; data: string }

/** The channel list is read for every message's permission check; it lives in memory. */
export class SqliteChannels implements ChannelRepo {
  private channels: ChannelRecord[] = []
  private byName = new Map<string, ChannelRecord>()

  constructor(
    private readonly db: Database,
    /** Commits message inserts still waiting for their group commit. */
    private readonly flushMessages: () => void,
  ) {
    this.reload()
  }

  async get(name: string) {
    return this.byName.get(name)
  }

  async list() {
    return this.channels
  }

  async count() {
    return this.channels.length
  }

  async insert(channel: ChannelRecord) {
    this.db.run('INSERT INTO channels (name, position, data) VALUES (?, (SELECT COALESCE(MAX(position) + 1, 0) FROM channels), ?)', [
      channel.name,
      JSON.stringify(channel),
    ])
    this.reload()
  }

  async update(name: string, channel: ChannelRecord) {
    if (channel.name !== name) this.flushMessages()
    this.db.transaction(() => {
      this.db.run('UPDATE channels SET name = ?, data = ? WHERE name = ?', [channel.name, JSON.stringify(channel), name])
      if (channel.name === name) return
      renameTargets(this.db, name, channel.name)
      this.db.run('UPDATE threads SET channel = ? WHERE channel = ?', [channel.name, name])
      this.db.run('UPDATE polls SET channel = ? WHERE channel = ?', [channel.name, name])
    })()
    this.reload()
  }

  async move(name: string, position: number) {
    const order = this.channels.map((c) => c.name)
    const from = order.indexOf(name)
    if (from < 0) return false
    order.splice(from, 1)
    order.splice(Math.min(position, order.length), 0, name)
    this.db.transaction(() => order.forEach((n, i) => this.db.run('UPDATE channels SET position = ? WHERE name = ?', [i, n])))()
    this.reload()
    return true
  }

  async delete(name: string) {
    if (!this.byName.has(name)) return false
    this.flushMessages()
    this.db.transaction(() => {
      this.db.run('DELETE FROM channels WHERE name = ?', [name])
      // Before the threads go: their read positions are found through them.
      deleteTargets(this.db, name)
      this.db.run('DELETE FROM thread_participants WHERE thread_id IN (SELECT id FROM threads WHERE channel = ?)', [name])
      this.db.run('DELETE FROM threads WHERE channel = ?', [name])
    })()
    this.reload()
    return true
  }

  private reload() {
    this.channels = this.db
      .query<Row, []>('SELECT name, data FROM channels ORDER BY position, name')
      .all()
      .map((row) => ({ ...JSON.parse(row.data), name: row.name }))
    this.byName = new Map(this.channels.map((channel) => [channel.name, channel]))
  }
}
