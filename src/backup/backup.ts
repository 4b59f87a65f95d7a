import { mkdir, readdir, rename, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { LiveConfig } from '../config/live.ts'
import type { Logger } from '../log.ts'
import { vacuumInto } from '../store/sqlite/vacuum-into.ts'
import type { Store } from '../store/types.ts'
import { copyDataFiles, filesFolderOf } from './files.ts'

/**
 * Writes a consistent copy of the database file `database` to `path` from outside the server
 * (`originchats backup`). The copy is written beside `path` and renamed into place, so a file at
 * `path` is always complete (a watcher, or a crash mid-copy, never sees half a backup).
 */
export async function writeBackup(database: string, path: string): Promise<void> {
  const partial = `${path}.partial`
  try {
    await rm(partial, { force: true })
    await vacuumInto(database, partial)
    await rename(partial, path)
  } finally {
    await rm(partial, { force: true })
  }
}

const PREFIX = 'originchats-'
const SUFFIX = '.db'

/** `2025-01-02T03-04-05.678Z`: sorts by time, valid in a file name on every file system. */
export const fileTime = (at: Date) => at.toISOString().replaceAll(':', '-')

/** `originchats-2025-01-02T03-04-05.678Z.db` */
export function backupName(at: Date): string {
  return `${PREFIX}${fileTime(at)}${SUFFIX}`
}

/**
 * Periodic backups while serving (`backup.interval_minutes` > 0): each run writes a timestamped
 * file, and a `.files` folder with the files it refers to, into `backup.dir` (relative to the data
 * folder) and keeps the newest `backup.keep`.
 * Follows live config changes. Runs never overlap; `stop()` waits for one in progress.
 */
export class BackupSchedule {
  private timer: ReturnType<typeof setTimeout> | undefined
  private running: Promise<void> | undefined
  private stopped = false
  private last = 0

  constructor(
    private readonly store: Store,
    private readonly settings: LiveConfig,
    private readonly dataDir: string,
    private readonly log: Logger,
  ) {
    settings.onChange((next, previous) => {
      if (JSON.stringify(next.backup) !== JSON.stringify(previous.backup) && !this.running) this.schedule()
    })
    this.schedule()
  }

  async stop() {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running
  }

  private schedule() {
    clearTimeout(this.timer)
    const minutes = this.settings.current.backup.interval_minutes
    if (this.stopped || minutes <= 0) return
    this.timer = setTimeout(() => {
      this.running = this.run().finally(() => {
        this.running = undefined
        this.schedule()
      })
    }, minutes * 60_000)
  }

  private async run() {
    const { dir, keep } = this.settings.current.backup
    const folder = resolve(this.dataDir, dir)
    // Names must stay unique and ordered even when runs come less than a millisecond apart.
    this.last = Math.max(Date.now(), this.last + 1)
    const target = join(folder, backupName(new Date(this.last)))
    const partial = `${target}.partial`
    try {
      await mkdir(folder, { recursive: true })
      await this.store.backup(partial)
      // Make room first, so the folder never holds more than `keep` complete backups.
      await prune(folder, keep - 1, partial)
      await rename(partial, target)
      await copyDataFiles(this.dataDir, target)
      this.log.info(`backup written to ${target}`)
    } catch (error) {
      // A failed copy leaves no partial file behind (a later run's prune would be the only cleanup).
      await rm(partial, { force: true }).catch(() => {})
      this.log.error(`backup to ${target} failed: ${(error as Error).message}`)
    }
  }
}

/**
 * Deletes all but the newest `keep` backups in `folder`, and partial copies other than
 * `current` (left by a crash). Only files this schedule names are touched.
 */
async function prune(folder: string, keep: number, current: string) {
  const names = (await readdir(folder)).filter((name) => name.startsWith(PREFIX))
  const backups = names.filter((name) => name.endsWith(SUFFIX)).sort()
  const leftovers = names.filter((name) => (name.endsWith(`${SUFFIX}.partial`) || name.endsWith('.files.partial')) && join(folder, name) !== current)
  const excess = [...backups.slice(0, Math.max(0, backups.length - keep)), ...leftovers]
  const withFiles = excess.flatMap((name) => [name, filesFolderOf(name)])
  await Promise.all(withFiles.map((name) => rm(join(folder, name), { recursive: true, force: true })))
}
