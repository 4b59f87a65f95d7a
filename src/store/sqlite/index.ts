import type { Store } from '../types.ts'
import { SqliteChannels } from './channels.ts'
import { SqliteMessages } from './messages.ts'
import { migrate } from './migrate.ts'
import { openDatabase, type Synchronous } from './open.ts'
import { SqliteRoles } from './roles.ts'
import { SqliteUnreads } from './unreads.ts'
import { SqliteUsers } from './users.ts'

export const DATABASE_FILE = 'originchats.db'

/** Opens (creating and migrating as needed) the database at `path`. */
export function createSqliteStore(path: string, synchronous: Synchronous = 'normal'): Store {
  const db = openDatabase(path, synchronous)
  migrate(db)
  const messages = new SqliteMessages(db)
  return {
    users: new SqliteUsers(db),
    roles: new SqliteRoles(db),
    channels: new SqliteChannels(db),
    messages,
    unreads: new SqliteUnreads(db),
    close() {
      messages.flush()
      db.close()
    },
  }
}
