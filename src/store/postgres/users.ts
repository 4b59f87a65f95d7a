import type { StoreChanges, UserRecord, UserRepo } from '../types.ts'
import type { Database, Queries } from './db.ts'
import { userMention } from '../message-row.ts'
import { ReadCache } from './read-cache.ts'

type Row = { id: string; username: string; data: string }
type Patch = Partial<Omit<UserRecord, 'id'>>

const toRecord = (row: Row): UserRecord => ({ ...JSON.parse(row.data), id: row.id, username: row.username })

function serialize({ id: _id, username: _username, ...rest }: UserRecord): string {
  return JSON.stringify(rest)
}

/**
 * Lookups by ID are read on every command (the caller, bans included) and every message view,
 * so they are cached (read-cache.ts); each write forgets its user here and tells the other
 * nodes. Writes that depend on the current record lock its row, whatever a cache holds.
 */
export class PostgresUsers implements UserRepo {
  private readonly byId = new ReadCache<UserRecord | undefined>()

  constructor(
    private readonly db: Database,
    private readonly changed: StoreChanges,
  ) {}

  get(id: string) {
    return this.byId.read(id, async () => {
      const row = await this.db.one<Row>('SELECT id, username, data FROM users WHERE id = $1', [id])
      return row && toRecord(row)
    })
  }

  /** Forgets one user, or every user (a role renamed or deleted in all their lists). */
  forget(id?: string) {
    this.byId.forget(id)
  }

  private written(id: string) {
    this.forget(id)
    this.changed(`user:${id}`)
  }

  /** First match in creation order wins, as upstream's scan in storage order does. */
  async getByUsername(username: string) {
    const row = await this.db.one<Row>('SELECT id, username, data FROM users WHERE lower(username) = lower($1) ORDER BY seq LIMIT 1', [username])
    return row && toRecord(row)
  }

  async resolve(nameOrId: string) {
    return (await this.getByUsername(nameOrId)) ?? (await this.get(nameOrId))
  }

  async list() {
    return (await this.db.all<Row>('SELECT id, username, data FROM users ORDER BY seq')).map(toRecord)
  }

  async count() {
    return Number((await this.db.one<{ n: string }>('SELECT COUNT(*) AS n FROM users'))!.n)
  }

  async insert(user: UserRecord) {
    await this.db.run('INSERT INTO users (id, username, data) VALUES ($1, $2, $3)', [user.id, user.username, serialize(user)])
    this.written(user.id)
  }

  async update(id: string, patch: Patch) {
    return this.updateWith(id, () => patch)
  }

  /** The row stays locked from read to write, so a change made meanwhile on any node waits for this one. */
  async updateWith(id: string, change: (current: UserRecord) => Patch | undefined) {
    const updated = await this.db.transaction(async (tx) => {
      const row = await tx.one<Row>('SELECT id, username, data FROM users WHERE id = $1 FOR UPDATE', [id])
      if (!row) return undefined
      const current = toRecord(row)
      const patch = change(current)
      if (patch === undefined) return current
      const next = { ...current, ...patch, id }
      await tx.run('UPDATE users SET username = $1, data = $2 WHERE id = $3', [next.username, serialize(next), id])
      return next
    })
    this.written(id)
    return updated
  }

  async delete(id: string) {
    const deleted = await this.db.transaction(async (tx) => {
      if ((await tx.run('DELETE FROM users WHERE id = $1', [id])) === 0) return false
      await tx.run('DELETE FROM unreads WHERE user_id = $1', [id])
      await tx.run('DELETE FROM pings WHERE mention = $1', [userMention(id)])
      return true
    })
    this.written(id)
    return deleted
  }
}

/** Renames (or, with null, removes) a role in every user's list, inside the caller's transaction. */
export async function replaceRole(tx: Queries, role: string, next: string | null) {
  const rows = await tx.all<Row>(`SELECT id, username, data FROM users WHERE (data::jsonb -> 'roles') ? $1 ORDER BY seq FOR UPDATE`, [role])
  for (const row of rows) {
    const user = toRecord(row)
    const roles = next === null ? user.roles.filter((r) => r !== role) : user.roles.map((r) => (r === role ? next : r))
    await tx.run('UPDATE users SET data = $1 WHERE id = $2', [serialize({ ...user, roles: [...new Set(roles)] }), user.id])
  }
}
