import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { writeBackup } from '../backup/backup.ts'
import { copyDataFiles } from '../backup/files.ts'
import { backupTarget } from '../backup/target.ts'
import { DATABASE_FILE } from '../store/sqlite/index.ts'
import { resolveConfig, resolveDataDir } from './serve.ts'

export interface BackupOptions {
  config?: string
  data?: string
}

/**
 * Copies the database to `path` (a file, or a folder to write a timestamped file into), and the
 * files it refers to into a `.files` folder beside it, also while a server is using it: WAL mode lets this read-only connection take one consistent
 * snapshot while the server keeps writing.
 */
export async function backupCommand(options: BackupOptions, args: string[]): Promise<number> {
  const [path] = args
  if (path === undefined || args.length > 1) {
    console.error('usage: originchats backup <file-or-folder> [--config FILE] [--data DIR]')
    return 1
  }
  const { config, configPath } = await resolveConfig(options.config)
  if (config.storage.driver === 'postgres') {
    // The data folder may still hold the SQLite file it was migrated from: copying that would look like a backup.
    console.error('originchats: backup copies a SQLite database; with storage.driver "postgres" use pg_dump (and copy the data folder\'s files)')
    return 1
  }
  const database = join(resolveDataDir(config, configPath, options.data), DATABASE_FILE)
  if (!existsSync(database)) {
    console.error(`originchats: no database at ${database}`)
    return 1
  }
  let target: string
  let files: string
  try {
    target = backupTarget(resolve(path), database)
    // A read-only copy: nothing (not even a migration) touches the database the server is using.
    await writeBackup(database, target)
    // After the database: a file deleted meanwhile is missing from the copy, one added is unused.
    files = await copyDataFiles(dirname(database), target)
  } catch (error) {
    // Target problems and copy failures ("backup failed: …") both read as one line.
    console.error(`originchats: ${(error as Error).message}`)
    return 1
  }
  console.log(`backup of ${database} written to ${target} (${statSync(target).size} bytes), its files to ${files}`)
  return 0
}
