import { rm } from 'node:fs/promises'
import type { Store } from '../types.ts'
import { SqliteChannels } from './channels.ts'
import { SqliteMessages } from './messages.ts'
import { migrate } from './migrate.ts'
import { SqliteModlog } from './modlog.ts'
import { openDatabase, type Synchronous } from './open.ts'
import { SqliteRoles } from './roles.ts'
import { SqliteUnreads } from './unreads.ts'
import { SqliteUsers } from './users.ts'
import { vacuumInto } from './vacuum-into.ts'

export const DATABASE_FILE = 'originchats.db'

/** Opens (creating and migrating as needed) the database at `path`. */
export function createSqliteStore(path: string, synchronous: Synchronous = 'normal'): Store {
  const db = openDatabase(path, synchronous)
  migrate(db)
  const users = new SqliteUsers(db)
  const messages = new SqliteMessages(db)
  return {
    users,
    roles: new SqliteRoles(db, users),
    channels: new SqliteChannels(db, () => messages.flush()),
    messages,
    unreads: new SqliteUnreads(db),
    modlog: new SqliteModlog(db),
    async backup(target: string) {
      // Acknowledged messages still waiting for their group commit belong in the copy.
      messages.flush()
      await rm(target, { force: true })
      if (path === ':memory:') db.run('VACUUM INTO ?', [target])
      else await vacuumInto(path, target)
    },
    close() {
      messages.flush()
      db.close()
    },
  }
}
