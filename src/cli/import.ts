import { join, resolve } from 'node:path'
import { ATTACHMENTS_DIR } from '../attachments/files.ts'
import type { Config } from '../config/schema.ts'
import { EMOJI_DIR, EmojiCatalog } from '../emojis/catalog.ts'
import { ImportError, importUpstream, locateUpstream, type ImportReport } from '../import/import.ts'
import { DataLockedError, acquireDataLock } from '../store/lock.ts'
import { configuredStore } from '../store/open.ts'
import { DATABASE_FILE, createSqliteStore } from '../store/sqlite/index.ts'
import { resolveConfig, resolveDataDir } from './serve.ts'

export interface ImportOptions {
  config?: string
  data?: string
}

/**
 * Imports `upstream` into the database of `dataDir`, holding the data folder's lock meanwhile:
 * refused (DataLockedError) while a server uses the folder, and no server starts until it is done.
 */
export async function importFolder(upstream: string, dataDir: string, config: Config): Promise<ImportReport> {
  locateUpstream(upstream)
  const lock = acquireDataLock(dataDir)
  try {
    const log = { info: (line: string) => console.log(line) }
    const store = (await configuredStore(config, log))?.() ?? createSqliteStore(join(dataDir, DATABASE_FILE), config.storage.synchronous, { log })
    try {
      const { emoji_allowed_file_types, emoji_max_size, emoji_max_count } = config.uploads
      const emojis = { catalog: new EmojiCatalog(store.emojis, join(dataDir, EMOJI_DIR)), allowed: emoji_allowed_file_types, maxSize: emoji_max_size, maxCount: emoji_max_count }
      return await importUpstream(store, upstream, { defaultRoles: config.DB.users.default.roles, attachmentsDir: join(dataDir, ATTACHMENTS_DIR), emojis, dataDir })
    } finally {
      await store.close()
    }
  } finally {
    lock.release()
  }
}

/** Exit codes: 0 all read, 2 done but some files were malformed and skipped, 1 nothing done. */
export async function importCommand(options: ImportOptions, args: string[]): Promise<number> {
  const [upstream] = args
  if (upstream === undefined || args.length > 1) {
    console.error('usage: originchats import <upstream-folder> [--config FILE] [--data DIR]')
    return 1
  }
  const { config, configPath } = await resolveConfig(options.config)
  const dataDir = resolveDataDir(config, configPath, options.data)
  let report: ImportReport
  try {
    report = await importFolder(resolve(upstream), dataDir, config)
  } catch (error) {
    if (!(error instanceof DataLockedError || error instanceof ImportError)) throw error
    console.error(`originchats: ${error.message}`)
    return 1
  }
  console.log(`imported ${report.folder} into ${join(dataDir, DATABASE_FILE)}`)
  for (const kind of ['users', 'roles', 'channels', 'messages', 'threads', 'polls', 'votes', 'unreads', 'attachments', 'emojis', 'webhooks', 'push'] as const) {
    console.log(`${kind.padEnd(9)} ${report[kind].imported} imported, ${report[kind].skipped} skipped (already there)`)
  }
  for (const note of report.notes) console.log(`note: ${note}`)
  for (const { path, reason } of report.invalid) console.error(`skipped malformed file ${path}: ${reason}`)
  return report.invalid.length > 0 ? 2 : 0
}
