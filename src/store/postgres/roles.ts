import type { RoleRecord, RoleRepo } from '../types.ts'
import type { Database, Queries } from './db.ts'
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

/** Not cached (see users.ts): a handful of rows, read with one query. */
export class PostgresRoles implements RoleRepo {
  constructor(private readonly db: Database) {}

  async get(name: string) {
    const row = await this.db.one<Row>('SELECT name, data FROM roles WHERE name = $1', [name])
    return row && toRecord(row)
  }

  async list() {
    return (await this.db.all<Row>('SELECT name, data FROM roles ORDER BY position, name')).map(toRecord)
  }

  async count() {
    return Number((await this.db.one<{ n: string }>('SELECT COUNT(*) AS n FROM roles'))!.n)
  }

  async insert(role: RoleRecord) {
    await write(this.db, role)
  }

  async update(name: string, patch: Partial<RoleRecord>) {
    return this.db.transaction(async (tx) => {
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
  }

  async delete(name: string) {
    return this.db.transaction(async (tx) => {
      if ((await tx.run('DELETE FROM roles WHERE name = $1', [name])) === 0) return false
      await replaceRole(tx, name, null)
      return true
    })
  }

  async reorder(names: string[]) {
    return this.db.transaction(async (tx) => {
      const rows = await tx.all<Row>('SELECT name, data FROM roles WHERE name = ANY($1::text[]) FOR UPDATE', [names])
      const byName = new Map(rows.map((row) => [row.name, toRecord(row)]))
      if (!names.every((name) => byName.has(name))) return false
      for (const [position, name] of names.entries()) await write(tx, { ...byName.get(name)!, position })
      return true
    })
  }
}
