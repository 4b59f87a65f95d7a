import type { ChannelRecord, ChannelRepo, StoreChanges } from '../types.ts'
import type { Database } from './db.ts'
import { ReadCache } from './read-cache.ts'
import { deleteTargets, renameTargets } from './targets.ts'

type Row = { name: string; data: string }

const toRecord = (row: Row): ChannelRecord => ({ ...JSON.parse(row.data), name: row.name })

/**
 * The list is read on every message (the channel's permissions), so it is cached
 * (read-cache.ts) and forgotten on every write, here and, through `changed`, on the other
 * nodes. The cache never decides where a message goes: inserts hold a share lock on their
 * channel's row until they commit, so a rename or delete (which locks the row for update) waits
 * for them; messages accepted before it move or go with the channel, later ones find it gone.
 */
export class PostgresChannels implements ChannelRepo {
  private readonly all = new ReadCache<{ list: ChannelRecord[]; byName: Map<string, ChannelRecord> }>()

  constructor(
    private readonly db: Database,
    /** Commits message inserts of this node still waiting for their group commit. */
    private readonly flushMessages: () => Promise<void>,
    private readonly changed: StoreChanges,
  ) {}

  async get(name: string) {
    return (await this.cached()).byName.get(name)
  }

  async list() {
    return (await this.cached()).list
  }

  private cached() {
    return this.all.read('', async () => {
      const list = (await this.db.all<Row>('SELECT name, data FROM channels ORDER BY position, name')).map(toRecord)
      return { list, byName: new Map(list.map((channel) => [channel.name, channel])) }
    })
  }

  forget() {
    this.all.forget()
  }

  /** After a committed write: forgotten here, and the other nodes are told. */
  private written() {
    this.forget()
    this.changed('channels')
  }

  async count() {
    return Number((await this.db.one<{ n: string }>('SELECT COUNT(*) AS n FROM channels'))!.n)
  }

  async insert(channel: ChannelRecord) {
    await this.db.run('INSERT INTO channels (name, position, data) VALUES ($1, (SELECT COALESCE(MAX(position) + 1, 0) FROM channels), $2)', [
      channel.name,
      JSON.stringify(channel),
    ])
    this.written()
  }

  async update(name: string, channel: ChannelRecord) {
    if (channel.name !== name) await this.flushMessages()
    await this.db.transaction(async (tx) => {
      await tx.run('UPDATE channels SET name = $1, data = $2 WHERE name = $3', [channel.name, JSON.stringify(channel), name])
      if (channel.name === name) return
      await renameTargets(tx, name, channel.name)
      await tx.run('UPDATE threads SET channel = $1 WHERE channel = $2', [channel.name, name])
      await tx.run('UPDATE polls SET channel = $1 WHERE channel = $2', [channel.name, name])
    })
    this.written()
  }

  async move(name: string, position: number) {
    const moved = await this.db.transaction(async (tx) => {
      const order = (await tx.all<{ name: string }>('SELECT name FROM channels ORDER BY position, name FOR UPDATE')).map((row) => row.name)
      const from = order.indexOf(name)
      if (from < 0) return false
      order.splice(from, 1)
      order.splice(Math.min(position, order.length), 0, name)
      await tx.run('UPDATE channels SET position = o.i - 1 FROM unnest($1::text[]) WITH ORDINALITY AS o(name, i) WHERE channels.name = o.name', [order])
      return true
    })
    this.written()
    return moved
  }

  async delete(name: string) {
    if (!(await this.get(name))) return false
    await this.flushMessages()
    const deleted = await this.db.transaction(async (tx) => {
      if ((await tx.run('DELETE FROM channels WHERE name = $1', [name])) === 0) return false
      // Before the threads go: their read positions are found through them.
      await deleteTargets(tx, name)
      await tx.run('DELETE FROM thread_participants WHERE thread_id IN (SELECT id FROM threads WHERE channel = $1)', [name])
      await tx.run('DELETE FROM threads WHERE channel = $1', [name])
      return true
    })
    this.written()
    return deleted
  }
}
