import type { RoleRecord, RoleRepo, StoreChanges } from '../types.ts'
import type { Database, Queries } from './db.ts'
import { ReadCache } from './read-cache.ts'
import { replaceRole } from './users.ts'

type Row = { name: string; data: string }

const toRecord = (row: Row): RoleRecord => ({ ...JSON.parse(row.data), name: row.name })

async function write(db: Queries, role: RoleRecord) {
  const { name, ...data } = role
  await db.run(
    'INSERT INTO roles (name, position, data) VALUES ($1, $2, $3) ON CONFLICT (name) DO UPDATE SET position = excluded.position, data = excluded.data',
    [name, role.position, JSON.stringify(data)],
  )
}

/**
 * A handful of rows, read for permission checks: the whole list is cached (read-cache.ts) and
 * forgotten on every write, here and, through `changed`, on the other nodes.
 */
export class PostgresRoles implements RoleRepo {
  private readonly all = new ReadCache<RoleRecord[]>()

  constructor(
    private readonly db: Database,
    private readonly changed: StoreChanges,
    /** A rename or delete rewrote users' role lists. */
    private readonly usersRewritten: () => void,
  ) {}

  async get(name: string) {
    return (await this.list()).find((role) => role.name === name)
  }

  list() {
    return this.all.read('', async () => (await this.db.all<Row>('SELECT name, data FROM roles ORDER BY position, name')).map(toRecord))
  }

  forget() {
    this.all.forget()
  }

  /** After a committed write: forgotten here, and the other nodes are told; `usersToo` when holders were rewritten. */
  private written(usersToo = false) {
    this.forget()
    this.changed('roles')
    if (usersToo) this.usersRewritten()
  }

  async count() {
    return Number((await this.db.one<{ n: string }>('SELECT COUNT(*) AS n FROM roles'))!.n)
  }

  async insert(role: RoleRecord) {
    await write(this.db, role)
    this.written()
  }

  async update(name: string, patch: Partial<RoleRecord>) {
    const renamed = patch.name !== undefined && patch.name !== name
    const updated = await this.db.transaction(async (tx) => {
      const row = await tx.one<Row>('SELECT name, data FROM roles WHERE name = $1 FOR UPDATE', [name])
      if (!row) return undefined
      const next = { ...toRecord(row), ...patch }
      if (next.name !== name) {
        await tx.run('DELETE FROM roles WHERE name = $1', [name])
        await replaceRole(tx, name, next.name)
      }
      await write(tx, next)
      const stored = await tx.one<Row>('SELECT name, data FROM roles WHERE name = $1', [next.name])
      return stored && toRecord(stored)
    })
    this.written(renamed)
    return updated
  }

  async delete(name: string) {
    const deleted = await this.db.transaction(async (tx) => {
      if ((await tx.run('DELETE FROM roles WHERE name = $1', [name])) === 0) return false
      await replaceRole(tx, name, null)
      return true
    })
    this.written(true)
    return deleted
  }

  async reorder(names: string[]) {
    const reordered = await this.db.transaction(async (tx) => {
      const rows = await tx.all<Row>('SELECT name, data FROM roles WHERE name = ANY($1::text[]) FOR UPDATE', [names])
      const byName = new Map(rows.map((row) => [row.name, toRecord(row)]))
      if (!names.every((name) => byName.has(name))) return false
      for (const [position, name] of names.entries()) await write(tx, { ...byName.get(name)!, position })
      return true
    })
    this.written()
    return reordered
  }
}
