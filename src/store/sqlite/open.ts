import { Database } from 'bun:sqlite'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

export type Synchronous = 'normal' | 'full'

/**
 * WAL keeps readers off the writer's back; synchronous=NORMAL in WAL mode loses nothing on a
 * process crash (only on power loss), FULL also survives power loss.
 */
export function openDatabase(path: string, synchronous: Synchronous = 'normal'): Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path, { create: true, strict: true })
  // First: switching to WAL needs a lock that another process (a backup, an import) may hold.
  db.run('PRAGMA busy_timeout = 5000')
  db.run('PRAGMA journal_mode = WAL')
  db.run(`PRAGMA synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
  db.run('PRAGMA foreign_keys = ON')
  return db
}
