import type { Config } from '../config/schema.ts'
import { ConfigError } from '../config/load.ts'
import type { CommitObserver } from './sqlite/group-commit.ts'
import type { Store, StoreChanges } from './types.ts'

export interface OpenLog {
  info(message: string): void
}

/**
 * Where the PostgreSQL store is: `ORIGINCHATS_STORAGE_URL` (keeps the password out of
 * config.json), else `storage.url`, else `DATABASE_URL` (what hosting platforms set).
 */
export function storageUrl(config: Config, env: Record<string, string | undefined> = process.env): string {
  return env.ORIGINCHATS_STORAGE_URL || config.storage.url || env.DATABASE_URL || ''
}

/** Builds an opened store with the app's own observers (createApp calls it once). */
export type StoreFactory = (observers?: { messagesCommitted?: CommitObserver; changed?: StoreChanges }) => Store

/**
 * Connects to the configured store when it is not the default SQLite file (migrating it first);
 * undefined for `sqlite`, which createApp opens itself. The PostgreSQL driver is imported only
 * here, only when chosen.
 */
export async function configuredStore(config: Config, log: OpenLog, env: Record<string, string | undefined> = process.env): Promise<StoreFactory | undefined> {
  if (config.storage.driver !== 'postgres') return undefined
  const url = storageUrl(config, env)
  if (url === '') throw new ConfigError('storage.driver is "postgres" but no database URL is set: set storage.url or ORIGINCHATS_STORAGE_URL')
  const { preparePostgresStore } = await import('./postgres/index.ts')
  return preparePostgresStore({ url, log })
}
