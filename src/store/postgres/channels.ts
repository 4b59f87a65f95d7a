import type { ChannelRecord, ChannelRepo } from '../types.ts'
import type { Database } from './db.ts'
import { deleteTargets, renameTargets } from './targets.ts'

type Row = { name: string; data: string }

const toRecord = (row: Row): ChannelRecord => ({ ...JSON.parse(row.data), name: row.name })

/**
 * Not cached (see users.ts). Message inserts hold a share lock on their channel's row until they
 * commit, so a rename or delete (which locks the row for update) waits for them: messages
 * accepted before it move or go with the channel, later ones find it gone.
 */
export class PostgresChannels implements ChannelRepo {
  constructor(
    private readonly db: Database,
    /** Commits message inserts of this node still waiting for their group commit. */
    private readonly flushMessages: () => Promise<void>,
  ) {}

  async get(name: string) {
    const row = await this.db.one<Row>('SELECT name, data FROM channels WHERE name = $1', [name])
    return row && toRecord(row)
  }

  async list() {
    return (await this.db.all<Row>('SELECT name, data FROM channels ORDER BY position, name')).map(toRecord)
  }

  async count() {
    return Number((await this.db.one<{ n: string }>('SELECT COUNT(*) AS n FROM channels'))!.n)
  }

  async insert(channel: ChannelRecord) {
    await this.db.run('INSERT INTO channels (name, position, data) VALUES ($1, (SELECT COALESCE(MAX(position) + 1, 0) FROM channels), $2)', [
      channel.name,
      JSON.stringify(channel),
    ])
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
  }

  async move(name: string, position: number) {
    return this.db.transaction(async (tx) => {
      const order = (await tx.all<{ name: string }>('SELECT name FROM channels ORDER BY position, name FOR UPDATE')).map((row) => row.name)
      const from = order.indexOf(name)
      if (from < 0) return false
      order.splice(from, 1)
      order.splice(Math.min(position, order.length), 0, name)
      await tx.run('UPDATE channels SET position = o.i - 1 FROM unnest($1::text[]) WITH ORDINALITY AS o(name, i) WHERE channels.name = o.name', [order])
      return true
    })
  }

  async delete(name: string) {
    if (!(await this.get(name))) return false
    await this.flushMessages()
    return this.db.transaction(async (tx) => {
      if ((await tx.run('DELETE FROM channels WHERE name = $1', [name])) === 0) return false
      // Before the threads go: their read positions are found through them.
      await deleteTargets(tx, name)
      await tx.run('DELETE FROM thread_participants WHERE thread_id IN (SELECT id FROM threads WHERE channel = $1)', [name])
      await tx.run('DELETE FROM threads WHERE channel = $1', [name])
      return true
    })
  }
}
