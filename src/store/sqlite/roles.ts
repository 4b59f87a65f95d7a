import type { Database } from 'bun:sqlite'
import type { RoleRecord, RoleRepo } from '../types.ts'
import type { SqliteUsers } from './users.ts'

type Row = { name: string; data: string }

/** Roles are consulted on every permission check; the handful of rows lives in memory. */
export class SqliteRoles implements RoleRepo {
  private roles: RoleRecord[] = []
  private byName = new Map<string, RoleRecord>()

  constructor(
    private readonly db: Database,
    private readonly users: SqliteUsers,
  ) {
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

  async insert(role: RoleRecord) {
    this.write(role)
    this.reload()
  }

  async update(name: string, patch: Partial<RoleRecord>) {
    const current = this.byName.get(name)
    if (!current) return undefined
    const next = { ...current, ...patch }
    const commitUsers = this.db.transaction(() => {
      if (next.name === name) {
        this.write(next)
        return () => {}
      }
      this.db.run('DELETE FROM roles WHERE name = ?', [name])
      this.write(next)
      return this.users.replaceRole(name, next.name)
    })()
    commitUsers()
    this.reload()
    return this.byName.get(next.name)
  }

  async delete(name: string) {
    if (!this.byName.has(name)) return false
    const commitUsers = this.db.transaction(() => {
      this.db.run('DELETE FROM roles WHERE name = ?', [name])
      return this.users.replaceRole(name, null)
    })()
    commitUsers()
    this.reload()
    return true
  }

  async reorder(names: string[]) {
    if (!names.every((name) => this.byName.has(name))) return false
    this.db.transaction(() => names.forEach((name, position) => this.write({ ...this.byName.get(name)!, position })))()
    this.reload()
    return true
  }

  private write(role: RoleRecord) {
    const { name, ...data } = role
    this.db.run('INSERT OR REPLACE INTO roles (name, position, data) VALUES (?, ?, ?)', [name, role.position, JSON.stringify(data)])
  }

  private reload() {
    this.roles = this.db
      .query<Row, []>('SELECT name, data FROM roles ORDER BY position, name')
      .all()
      .map((row) => ({ ...JSON.parse(row.data), name: row.name }))
    this.byName = new Map(this.roles.map((role) => [role.name, role]))
  }
}
