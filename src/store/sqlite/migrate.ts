import type { Database } from 'bun:sqlite'
import { migrations as all, type Migration } from './migrations/index.ts'

/** Applies pending migrations in order, each in its own transaction; returns the versions applied. */
export function migrate(db: Database, migrations: Migration[] = all): number[] {
  db.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)`)
  const done = new Set(db.query<{ version: number }, []>('SELECT version FROM schema_migrations').all().map((r) => r.version))
  const applied: number[] = []
  for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(migration.version)) continue
    db.transaction(() => {
      if (typeof migration.up === 'string') db.run(migration.up)
      else migration.up(db)
      db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        migration.version,
        migration.name,
        Date.now() / 1000,
      ])
    })()
    applied.push(migration.version)
  }
  return applied
}
