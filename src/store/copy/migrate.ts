import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { acquireDataLock } from '../lock.ts'
import { connect } from '../postgres/db.ts'
import { redactUrl } from '../postgres/index.ts'
import { migrate } from '../postgres/migrate.ts'
import { DATABASE_FILE } from '../sqlite/index.ts'
import { openDatabase } from '../sqlite/open.ts'
import { upgrade, type UpgradeLog } from '../sqlite/upgrade.ts'
import { copySqliteToPostgres, type CopyReport } from './sqlite-to-postgres.ts'

export class MigrateError extends Error {}

export interface MigrateOptions {
  /** The data folder holding the SQLite database. */
  dataDir: string
  /** The PostgreSQL database to copy into. */
  url: string
  /** Schema for the tables (tests); default: the connection's search_path. */
  schema?: string
  log?: UpgradeLog
}

/**
 * Copies the SQLite database of `dataDir` into PostgreSQL, holding the data folder's lock
 * meanwhile: refused (DataLockedError) while a server uses the folder, and no server starts on it
 * until the copy is done. Both databases are first brought to this binary's schema.
 */
export async function migrateToPostgres({ dataDir, url, schema, log }: MigrateOptions): Promise<CopyReport> {
  const path = join(dataDir, DATABASE_FILE)
  if (!existsSync(path)) throw new MigrateError(`no database at ${path}`)
  const lock = acquireDataLock(dataDir)
  try {
    const source = openDatabase(path)
    try {
      try {
        upgrade(source, path, log)
      } catch (error) {
        // A database from a newer binary, or an upgrade that failed: nothing was copied.
        throw new MigrateError((error as Error).message)
      }
      const target = connect({ url, schema, max: 1 })
      try {
        const where = `${redactUrl(url)}${schema ? ` (schema ${schema})` : ''}`
        await migrate(target, where).catch((error: Error) => {
          throw new MigrateError(`cannot use the PostgreSQL database ${where}: ${error.message}`)
        })
        return await copySqliteToPostgres(source, target)
      } finally {
        await target.close()
      }
    } finally {
      source.close()
    }
  } finally {
    lock.release()
  }
}
