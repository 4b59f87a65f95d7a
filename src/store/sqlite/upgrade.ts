import type { Database } from 'bun:sqlite'
import { mkdirSync, renameSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileTime } from '../../backup/backup.ts'
import { migrate, schemaState } from './migrate.ts'
import { migrations } from './migrations/index.ts'

/** Subfolder of the data folder for the copy taken before an upgrade (where periodic backups go by default too). */
const UPGRADE_BACKUP_DIR = 'backups'

export interface UpgradeLog {
  info(message: string): void
}

/**
 * Brings the database at `path` to this binary's schema. A database that already holds data is
 * first copied to `<data>/backups/pre-migration-vA-to-vB-<time>.db`, so restoring that file undoes
 * the upgrade; a fresh database is just migrated. One from a newer binary is refused untouched.
 */
export function upgrade(db: Database, path: string, log?: UpgradeLog): void {
  const { current, latest, pending } = schemaState(db, migrations, path)
  if (pending.length === 0) return
  if (current > 0 && path !== ':memory:') {
    const copy = copyBeforeUpgrade(db, path, current, latest)
    log?.info(`copied ${path} (schema v${current}) to ${copy} before upgrading it`)
  }
  migrate(db, migrations, path)
  if (current > 0) {
    const applied = pending.map((m) => `${m.version} ${m.name}`).join(', ')
    log?.info(`upgraded ${path} from schema v${current} to v${latest} (applied migrations ${applied})`)
  }
}

/** A consistent copy through VACUUM INTO, renamed into place only once complete. */
function copyBeforeUpgrade(db: Database, path: string, from: number, to: number): string {
  const folder = join(dirname(path), UPGRADE_BACKUP_DIR)
  const target = join(folder, `pre-migration-v${from}-to-v${to}-${fileTime(new Date())}.db`)
  const partial = `${target}.partial`
  try {
    mkdirSync(folder, { recursive: true })
    db.run('VACUUM INTO ?', [partial])
    renameSync(partial, target)
  } catch (error) {
    rmSync(partial, { force: true })
    throw new Error(`could not back up ${path} before upgrading it, so it was left as it is: ${(error as Error).message}`)
  }
  return target
}
