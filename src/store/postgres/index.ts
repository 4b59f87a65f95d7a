import type { CommitObserver } from '../sqlite/group-commit.ts'
import { DatabaseTooNewError, MigrationError } from '../sqlite/migrate.ts'
import type { UpgradeLog } from '../sqlite/upgrade.ts'
import type { Store, StoreChanges } from '../types.ts'
import { PostgresAttachments } from './attachments.ts'
import { PostgresChannels } from './channels.ts'
import { connect, type ConnectOptions, type Database } from './db.ts'
import { PostgresEmojis } from './emojis.ts'
import { PostgresMessages } from './messages.ts'
import { migrate } from './migrate.ts'
import { PostgresModlog } from './modlog.ts'
import { PostgresPings } from './pings.ts'
import { PostgresPolls } from './polls.ts'
import { PostgresPush } from './push.ts'
import { PostgresRoles } from './roles.ts'
import { PostgresServerSettings } from './server-settings.ts'
import { PostgresThreads } from './threads.ts'
import { PostgresUnreads } from './unreads.ts'
import { PostgresUsers } from './users.ts'
import { PostgresWebhooks } from './webhooks.ts'

export interface PostgresStoreOptions extends ConnectOptions {
  /** Told about the migrations applied. */
  log?: UpgradeLog
  /** Hears of every group commit of new messages (for metrics). */
  messagesCommitted?: CommitObserver
}

/** `postgres://user:secret@host/db` with the password hidden, for log lines and errors. */
export const redactUrl = (url: string) => url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@')

/** What the app adds when it builds the store: observers of its own. */
export interface StoreObservers {
  messagesCommitted?: CommitObserver
  /** Scopes other nodes' caches must forget after this node's writes (cluster mode). */
  changed?: StoreChanges
}

/**
 * Connects to PostgreSQL and brings its schema to this binary's (see migrate.ts); resolves with
 * what builds the store on that pool. Users, roles and channels are cached in this process
 * (read-cache.ts); `changed` tells the other nodes what to forget after each write.
 */
export async function preparePostgresStore(options: PostgresStoreOptions): Promise<(observers?: StoreObservers) => Store> {
  const db = connect(options)
  const where = `${redactUrl(options.url)}${options.schema ? ` (schema ${options.schema})` : ''}`
  try {
    const applied = await migrate(db, where)
    if (applied.length > 0) options.log?.info(`migrated ${where} to schema v${applied.at(-1)} (applied migrations ${applied.join(', ')})`)
  } catch (error) {
    await db.close()
    if (error instanceof DatabaseTooNewError || error instanceof MigrationError) throw error
    throw new Error(`cannot use the PostgreSQL database ${where}: ${(error as Error).message}`, { cause: error })
  }
  return (observers = {}) => postgresStore(db, observers.messagesCommitted ?? options.messagesCommitted, observers.changed)
}

export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  return (await preparePostgresStore(options))()
}

function postgresStore(db: Database, messagesCommitted?: CommitObserver, changed: StoreChanges = () => {}): Store {
  const messages = new PostgresMessages(db, messagesCommitted)
  const flushMessages = () => messages.flush()
  const users = new PostgresUsers(db, changed)
  const roles = new PostgresRoles(db, changed, () => {
    users.forget()
    changed('users')
  })
  const channels = new PostgresChannels(db, flushMessages, changed)
  let closing: Promise<void> | undefined
  return {
    users,
    roles,
    channels,
    threads: new PostgresThreads(db, flushMessages),
    messages,
    polls: new PostgresPolls(db),
    unreads: new PostgresUnreads(db),
    pings: new PostgresPings(db),
    modlog: new PostgresModlog(db),
    attachments: new PostgresAttachments(db),
    emojis: new PostgresEmojis(db),
    webhooks: new PostgresWebhooks(db),
    push: new PostgresPush(db),
    serverSettings: new PostgresServerSettings(db),
    async backup() {
      throw new Error('the PostgreSQL store is backed up with pg_dump (or the database server\'s own backups); set backup.interval_minutes to 0')
    },
    async ping() {
      await db.one('SELECT 1')
    },
    invalidate(scope: string) {
      if (scope === 'users') users.forget()
      else if (scope.startsWith('user:')) users.forget(scope.slice('user:'.length))
      else if (scope === 'roles') roles.forget()
      else if (scope === 'channels') channels.forget()
    },
    close() {
      // Acknowledged messages still waiting for their group commit are written first.
      closing ??= flushMessages().finally(() => db.close())
      return closing
    },
  }
}
