import type { Database } from 'bun:sqlite'
import { migrations as all, type Migration } from './migrations/index.ts'

/** The database was migrated by a newer binary: this one would misread it, so it is left alone. */
export class DatabaseTooNewError extends Error {
  constructor(
    readonly path: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(
      `${path} has database schema version ${found}, but this originchats knows versions up to ${known}: ` +
        'it was upgraded by a newer originchats. Run that newer binary, or restore a backup made before the upgrade.',
    )
  }
}

/** A migration failed; its transaction rolled back, so the database is as it was before. */
export class MigrationError extends Error {}

export interface SchemaState {
  /** Highest version applied so far; 0 for a fresh database. */
  current: number
  /** Highest version this binary knows. */
  latest: number
  pending: Migration[]
}

/**
 * Where `db` stands against `migrations`, read without writing anything; throws
 * DatabaseTooNewError when a newer binary has migrated it further than this one can.
 */
export function schemaState(db: Database, migrations: Migration[] = all, path = 'the database'): SchemaState {
  const latest = Math.max(0, ...migrations.map((m) => m.version))
  const tracked = db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get()
  const done = tracked ? db.query<{ version: number }, []>('SELECT version FROM schema_migrations').all().map((r) => r.version) : []
  const current = Math.max(0, ...done)
  if (current > latest) throw new DatabaseTooNewError(path, current, latest)
  const pending = migrations.filter((m) => !done.includes(m.version)).sort((a, b) => a.version - b.version)
  return { current, latest, pending }
}

/**
 * Applies pending migrations in order, all in one transaction: when one fails, none of them
 * stays applied. Returns the versions applied.
 */
export function migrate(db: Database, migrations: Migration[] = all, path?: string): number[] {
  const { pending } = schemaState(db, migrations, path)
  if (pending.length === 0) return []
  db.transaction(() => {
    db.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)`)
    for (const migration of pending) {
      try {
        if (typeof migration.up === 'string') db.run(migration.up)
        else migration.up(db)
      } catch (error) {
        throw new MigrationError(`migration ${migration.version} (${migration.name}) failed, nothing was changed: ${(error as Error).message}`)
      }
      db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [migration.version, migration.name, Date.now() / 1000])
    }
  })()
  return pending.map((m) => m.version)
}
