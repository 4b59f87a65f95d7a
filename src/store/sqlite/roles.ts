import type { Database } from 'bun:sqlite'
import type { RoleRecord, RoleRepo } from '../types.ts'

type Row = { name: string; data: string }

/** Roles are consulted on every permission check; the handful of rows lives in memory. */
export class SqliteRoles implements RoleRepo {
  private roles: RoleRecord[] = []
  private byName = new Map<string, RoleRecord>()

  constructor(private readonly db: Database) {
    this.reload()
  }

  async get(name: string) {
    return this.byName.get(name)
  }

  async list() {
    return this.roles
  }

  async count() {
    return this.roles.length
  }

  private reload() {
    this.roles = this.db
      .query<Row, []>('SELECT name, data FROM roles ORDER BY position, name')
      .all()
      .map((row) => ({ ...JSON.parse(row.data), name: row.name }))
    this.byName = new Map(this.roles.map((role) => [role.name, role]))
  }
}
