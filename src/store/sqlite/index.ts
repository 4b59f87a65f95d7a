import { rm } from 'node:fs/promises'
import type { Store } from '../types.ts'
import { SqliteAttachments } from './attachments.ts'
import { SqliteChannels } from './channels.ts'
import type { CommitObserver } from './group-commit.ts'
import { SqliteEmojis } from './emojis.ts'
import { SqliteMessages } from './messages.ts'
import { SqliteModlog } from './modlog.ts'
import { openDatabase, type Synchronous } from './open.ts'
import { SqlitePings } from './pings.ts'
import { SqlitePolls } from './polls.ts'
import { SqlitePush } from './push.ts'
import { SqliteRoles } from './roles.ts'
import { SqliteThreads } from './threads.ts'
import { SqliteUnreads } from './unreads.ts'
import { upgrade, type UpgradeLog } from './upgrade.ts'
import { SqliteUsers } from './users.ts'
import { vacuumInto } from './vacuum-into.ts'
import { SqliteWebhooks } from './webhooks.ts'

export const DATABASE_FILE = 'originchats.db'

export interface StoreOptions {
  /** Told about the copy taken before an upgrade and the migrations applied. */
  log?: UpgradeLog
  /** Hears of every group commit of new messages (for metrics). */
  messagesCommitted?: CommitObserver
}

/**
 * Opens the database at `path`, creating it or upgrading it to this binary's schema (see
 * upgrade.ts); throws DatabaseTooNewError, untouched, for one a newer binary has upgraded.
 */
export function createSqliteStore(path: string, synchronous: Synchronous = 'normal', options: StoreOptions = {}): Store {
  const db = openDatabase(path, synchronous)
  try {
    upgrade(db, path, options.log)
  } catch (error) {
    db.close()
    throw error
  }
  const users = new SqliteUsers(db)
  const messages = new SqliteMessages(db, options.messagesCommitted)
  const ping = db.query('SELECT 1')
  return {
    users,
    roles: new SqliteRoles(db, users),
    channels: new SqliteChannels(db, () => messages.flush()),
    threads: new SqliteThreads(db, () => messages.flush()),
    messages,
    polls: new SqlitePolls(db),
    unreads: new SqliteUnreads(db),
    pings: new SqlitePings(db),
    modlog: new SqliteModlog(db),
    attachments: new SqliteAttachments(db),
    emojis: new SqliteEmojis(db),
    webhooks: new SqliteWebhooks(db),
    push: new SqlitePush(db),
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
