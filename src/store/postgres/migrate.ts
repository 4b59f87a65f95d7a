import { DatabaseTooNewError, MigrationError } from '../sqlite/migrate.ts'
import type { Database } from './db.ts'
import { migrations as all, type Migration } from './migrations/index.ts'

/**
 * Every node takes this transaction-scoped advisory lock before looking at the schema, so nodes
 * starting together migrate one after the other: the first applies what is pending, the others
 * then find nothing left. One key for the whole cluster: `CREATE EXTENSION` is database-wide.
 */
const MIGRATION_LOCK = 0x6f72_6367 // "orcg"

/**
 * Applies the pending migrations in order, all in one transaction (a failure leaves the schema
 * as it was). Returns the versions applied; throws DatabaseTooNewError, changing nothing, when a
 * newer binary has migrated the database further than this one knows.
 */
export async function migrate(db: Database, where: string, migrations: Migration[] = all): Promise<number[]> {
  const latest = Math.max(0, ...migrations.map((m) => m.version))
  return db.transaction(async (tx) => {
    await tx.run('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK])
    await tx.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)`)
    const done = (await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version)
    const current = Math.max(0, ...done)
    if (current > latest) throw new DatabaseTooNewError(where, current, latest)
    const pending = migrations.filter((m) => !done.includes(m.version)).sort((a, b) => a.version - b.version)
    for (const migration of pending) {
      try {
        if (typeof migration.up === 'string') await tx.run(migration.up)
        else await migration.up(tx)
      } catch (error) {
        throw new MigrationError(`migration ${migration.version} (${migration.name}) failed, nothing was changed: ${(error as Error).message}`)
      }
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [migration.version, migration.name, Date.now() / 1000])
    }
    return pending.map((m) => m.version)
  })
}
