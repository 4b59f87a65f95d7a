import { join } from 'node:path'
import { ATTACHMENTS_DIR } from '../attachments/files.ts'
import { EMOJI_DIR } from '../emojis/catalog.ts'
import { SERVER_ASSETS_DIR } from '../net/server-assets.ts'
import { VAPID_DIR } from '../push/keys.ts'
import { COPIED_KINDS } from '../store/copy/sqlite-to-postgres.ts'
import { MigrateError, migrateToPostgres } from '../store/copy/migrate.ts'
import { DataLockedError } from '../store/lock.ts'
import { storageUrl } from '../store/open.ts'
import { redactUrl } from '../store/postgres/index.ts'
import { DATABASE_FILE } from '../store/sqlite/index.ts'
import { resolveConfig, resolveDataDir } from './serve.ts'

export interface MigrateCommandOptions {
  to?: string
  url?: string
  config?: string
  data?: string
}

const USAGE = 'usage: originchats migrate --to postgres [--url postgres://…] [--config FILE] [--data DIR]'

/** Exit codes: 0 copied (or nothing left to copy), 1 nothing done. */
export async function migrateCommand(options: MigrateCommandOptions, args: string[]): Promise<number> {
  if (options.to !== 'postgres' || args.length > 0) {
    console.error(USAGE)
    return 1
  }
  const { config, configPath } = await resolveConfig(options.config)
  const dataDir = resolveDataDir(config, configPath, options.data)
  const url = options.url || storageUrl(config)
  if (url === '') {
    console.error('originchats: no PostgreSQL URL: pass --url, or set storage.url or ORIGINCHATS_STORAGE_URL')
    return 1
  }
  let report
  try {
    report = await migrateToPostgres({ dataDir, url, log: { info: (line) => console.log(line) } })
  } catch (error) {
    if (!(error instanceof DataLockedError || error instanceof MigrateError)) throw error
    console.error(`originchats: ${error.message}`)
    return 1
  }
  console.log(`copied ${join(dataDir, DATABASE_FILE)} into ${redactUrl(url)}`)
  for (const kind of COPIED_KINDS) console.log(`${kind.padEnd(15)} ${report[kind]!.copied} copied, ${report[kind]!.skipped} skipped (already there)`)
  const folders = [ATTACHMENTS_DIR, EMOJI_DIR, SERVER_ASSETS_DIR, VAPID_DIR].map((name) => `${name}/`).join(', ')
  console.log(`note: files stay in ${dataDir} (${folders}): every node serves them from its data folder, so share that folder between nodes`)
  console.log('note: to serve from PostgreSQL, set storage.driver to "postgres" and storage.url (or ORIGINCHATS_STORAGE_URL) in config.json')
  return 0
}
