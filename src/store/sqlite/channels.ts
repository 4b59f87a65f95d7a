import type { Database } from 'bun:sqlite'
import type { ChannelRecord, ChannelRepo } from '../types.ts'

type Row = { name: string; data: string }

/** The channel list is read for every message's permission check; it lives in memory. */
export class SqliteChannels implements ChannelRepo {
  private channels: ChannelRecord[] = []
  private byName = new Map<string, ChannelRecord>()

  constructor(private readonly db: Database) {
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
    const { name, ...data } = channel
    this.db.run('INSERT INTO channels (name, position, data) VALUES (?, (SELECT COALESCE(MAX(position) + 1, 0) FROM channels), ?)', [
      name,
      JSON.stringify({ ...data, name }),
    ])
    this.reload()
  }

  private reload() {
    this.channels = this.db
      .query<Row, []>('SELECT name, data FROM channels ORDER BY position, name')
      .all()
      .map((row) => ({ ...JSON.parse(row.data), name: row.name }))
    this.byName = new Map(this.channels.map((channel) => [channel.name, channel]))
  }
}
