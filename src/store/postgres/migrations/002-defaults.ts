import { general, roles } from '../../sqlite/migrations/002-defaults.ts'
import type { Queries } from '../db.ts'

/** Upstream's first-start data, as the SQLite driver seeds it: the four default roles and #general. */
export default async function seedDefaults(db: Queries): Promise<void> {
  for (const [position, { name, ...rest }] of roles.entries()) {
    const data = { id: crypto.randomUUID(), ...rest, hoisted: name !== 'user', self_assignable: false, category: null, position }
    await db.run('INSERT INTO roles (name, position, data) VALUES ($1, $2, $3)', [name, position, JSON.stringify(data)])
  }
  await db.run('INSERT INTO channels (name, position, data) VALUES ($1, 0, $2)', [general.name, JSON.stringify(general)])
}
