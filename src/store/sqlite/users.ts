import type { Database } from 'bun:sqlite'
import type { UserRecord, UserRepo } from '../types.ts'
import { userMention } from '../message-row.ts'

type Row = { id: string; username: string; data: string }

/**
 * Users are read on every message (author roles, mentions), so the table is mirrored in memory
 * and written through: lookups are map hits, writes are single-row statements.
 */
export class SqliteUsers implements UserRepo {
  private readonly byId = new Map<string, UserRecord>()
  private readonly idByName = new Map<string, string>()
  private readonly insertRow
  private readonly updateRow
  private readonly deleteRow
  private readonly deleteReadPositions
  private readonly deletePings

  constructor(private readonly db: Database) {
    for (const row of db.query<Row, []>('SELECT id, username, data FROM users ORDER BY seq').all()) {
      this.remember({ ...JSON.parse(row.data), id: row.id, username: row.username })
    }
    this.insertRow = db.prepare('INSERT INTO users (id, username, data) VALUES (?, ?, ?)')
    this.updateRow = db.prepare('UPDATE users SET username = ?, data = ? WHERE id = ?')
    this.deleteRow = db.prepare('DELETE FROM users WHERE id = ?')
    this.deleteReadPositions = db.prepare('DELETE FROM unreads WHERE user_id = ?')
    this.deletePings = db.prepare('DELETE FROM pings WHERE mention = ?')
  }

  async get(id: string) {
    return this.byId.get(id)
  }

  async getByUsername(username: string) {
    const id = this.idByName.get(username.toLowerCase())
    return id === undefined ? undefined : this.byId.get(id)
  }

  async resolve(nameOrId: string) {
    return (await this.getByUsername(nameOrId)) ?? this.byId.get(nameOrId)
  }

  async list() {
    return [...this.byId.values()]
  }

  async count() {
    return this.byId.size
  }

  async insert(user: UserRecord) {
    this.insertRow.run(user.id, user.username, serialize(user))
    this.remember(user)
  }

  async update(id: string, patch: Partial<Omit<UserRecord, 'id'>>) {
    return this.updateWith(id, () => patch)
  }

  /** Synchronous from read to write, so nothing can change the record in between. */
  async updateWith(id: string, change: (current: UserRecord) => Partial<Omit<UserRecord, 'id'>> | undefined) {
    const current = this.byId.get(id)
    if (!current) return undefined
    const patch = change(current)
    if (patch === undefined) return current
    const next = { ...current, ...patch, id }
    this.updateRow.run(next.username, serialize(next), id)
    if (next.username !== current.username) this.forgetName(current)
    this.remember(next)
    return next
  }

  async delete(id: string) {
    const current = this.byId.get(id)
    if (!current) return false
    this.db.transaction(() => {
      this.deleteRow.run(id)
      this.deleteReadPositions.run(id)
      this.deletePings.run(userMention(id))
    })()
    this.byId.delete(id)
    this.forgetName(current)
    return true
  }

  /**
   * Renames (or, with null, removes) a role in every user's list. Runs inside the caller's
   * transaction; the cache follows only once the statements succeeded.
   */
  replaceRole(role: string, next: string | null): () => void {
    const changed: UserRecord[] = []
    for (const user of this.byId.values()) {
      if (!user.roles.includes(role)) continue
      const roles = next === null ? user.roles.filter((r) => r !== role) : user.roles.map((r) => (r === role ? next : r))
      const updated = { ...user, roles: [...new Set(roles)] }
      this.updateRow.run(updated.username, serialize(updated), updated.id)
      changed.push(updated)
    }
    return () => changed.forEach((user) => this.byId.set(user.id, user))
  }

  private remember(user: UserRecord) {
    this.byId.set(user.id, user)
    const key = user.username.toLowerCase()
    // First match wins, as upstream's scan in storage order does.
    if (!this.idByName.has(key)) this.idByName.set(key, user.id)
  }

  private forgetName(user: UserRecord) {
    const key = user.username.toLowerCase()
    if (this.idByName.get(key) !== user.id) return
    this.idByName.delete(key)
    const other = [...this.byId.values()].find((u) => u.id !== user.id && u.username.toLowerCase() === key)
    if (other) this.idByName.set(key, other.id)
  }
}

function serialize({ id: _id, username: _username, ...rest }: UserRecord): string {
  return JSON.stringify(rest)
}
