import { rm } from 'node:fs/promises'
import type { Store } from '../types.ts'
import { SqliteChannels } from './channels.ts'
import type { CommitObserver } from './group-commit.ts'
import { SqliteMessages } from './messages.ts'
import { migrate } from './migrate.ts'
import { SqliteModlog } from './modlog.ts'
import { openDatabase, type Synchronous } from './open.ts'
import { SqliteRoles } from './roles.ts'
import { SqliteUnreads } from './unreads.ts'
import { SqliteUsers } from './users.ts'
import { vacuumInto } from './vacuum-into.ts'

export const DATABASE_FILE = 'originchats.db'

/**
 * Opens (creating and migrating as needed) the database at `path`. `messagesCommitted` hears of
 * every group commit of new messages (for metrics).
 */
export function createSqliteStore(path: string, synchronous: Synchronous = 'normal', messagesCommitted?: CommitObserver): Store {
  const db = openDatabase(path, synchronous)
  migrate(db)
  const users = new SqliteUsers(db)
  const messages = new SqliteMessages(db, messagesCommitted)
  const ping = db.query('SELECT 1')
  return {
    users,
    roles: new SqliteRoles(db, users),
    channels: new SqliteChannels(db),
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
    async ping() {
      ping.get()
    },
    close() {
      messages.flush()
      db.close()
    },
  }
}
