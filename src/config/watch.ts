import { watch, type FSWatcher } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import type { Logger } from '../log.ts'
import { unknownKeys } from './known-keys.ts'
import type { LiveConfig } from './live.ts'
import { ConfigError, parseConfig } from './load.ts'
import type { Config } from './schema.ts'

/**
 * Quiet time after the last file event before files are read: editors save in several steps.
 * It must stay well above 1 ms: Bun's fs.watch drops an event for a file that follows the
 * previous one within about a millisecond (Bun 1.4.5), and only reading after the quiet time
 * guarantees such a write is still seen.
 */
export const SETTLE_MS = 100

/**
 * Calls `changed` once things settle after any of `paths` is written, replaced (temporary file
 * renamed over it, symlink swapped) or removed. The folders are watched, not the files: a
 * watch on a file follows the inode that a rename-based save throws away. Runs of `changed`
 * never overlap; events during a run schedule one more. `stop` waits for a run in progress.
 */
export function watchFiles(paths: readonly string[], changed: () => Promise<void>, log: Logger, settleMs = SETTLE_MS): { stop(): Promise<void> } {
  const names = new Map<string, Set<string>>()
  for (const path of paths) {
    const folder = dirname(path)
    names.set(folder, (names.get(folder) ?? new Set()).add(basename(path)))
  }
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<void> | undefined
  let again = false
  let stopped = false
  const run = () => {
    timer = undefined
    if (stopped) return
    if (running) {
      again = true
      return
    }
    running = changed()
      .catch((error) => log.error(`reloading ${paths.join(', ')} failed: ${error?.stack ?? error}`))
      .finally(() => {
        running = undefined
        if (again) {
          again = false
          run()
        }
      })
  }
  const schedule = () => {
    clearTimeout(timer)
    timer = setTimeout(run, settleMs)
  }
  const watchers: FSWatcher[] = [...names].map(([folder, files]) =>
    watch(folder, (_event, name) => {
      // Some platforms report no name; then any change in the folder may be ours.
      if (name === null || files.has(basename(String(name)))) schedule()
    }).on('error', (error) => log.warn(`stopped watching ${folder}: ${error.message}`)),
  )
  return {
    async stop() {
      stopped = true
      clearTimeout(timer)
      for (const watcher of watchers) watcher.close()
      await running
    },
  }
}

/** Keys read once at start-up (the listening socket, the database): a change needs a restart. */
const RESTART_ONLY = [
  'websocket.host',
  'websocket.port',
  'websocket.max_payload',
  'websocket.backpressure_limit',
  'websocket.idle_timeout',
  'websocket.heartbeat_seconds',
  'storage.data_dir',
  'storage.synchronous',
  'storage.driver',
  'storage.url',
  'tls.cert',
  'tls.key',
] as const

const at = (config: Config, key: string): unknown => key.split('.').reduce<any>((value, part) => value?.[part], config)

/**
 * What one look at the file did: `applied` a new configuration, found it `unchanged` (the same
 * as the running one), `refused` it (invalid), or found it `incomplete` (missing or empty, the
 * middle of a save) or already `seen`.
 */
export type ReloadOutcome = 'applied' | 'unchanged' | 'refused' | 'incomplete' | 'seen'

export interface ConfigWatchOptions {
  settings: LiveConfig
  log: Logger
  /** Told the outcome of every look at the file (tests wait on it). */
  report?: (outcome: ReloadOutcome) => void
  settleMs?: number
}

/**
 * Live reload of config.json: each save that changes the configuration is parsed and applied
 * once; a save that is not valid JSON or fails the schema leaves the running configuration in
 * force and logs one warning line naming the problem. A key this server does not know is warned
 * about in the save that adds it.
 */
export function watchConfig(path: string, { settings, log, report, settleMs }: ConfigWatchOptions): { stop(): Promise<void> } {
  /** The text last acted on, so repeated events for one save neither re-apply nor re-warn. */
  let seen: string | undefined
  const reload = async () => {
    const outcome = await look()
    report?.(outcome)
  }
  const look = async (): Promise<ReloadOutcome> => {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (error) {
      // Between "delete" and "write" of a save, or the file was removed: wait for the next event.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'incomplete'
      throw error
    }
    // An empty file is the middle of a truncate-then-write save; the write brings another event.
    if (text.trim() === '') return 'incomplete'
    if (text === seen) return 'seen'
    seen = text
    let next: Config
    try {
      let raw: unknown
      try {
        raw = JSON.parse(text)
      } catch (error) {
        throw new ConfigError(`${path}: not valid JSON (${(error as Error).message})`)
      }
      next = parseConfig(raw, path)
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error
      const problem = error.message.replace(/:?\n\s*/g, (match) => (match.startsWith(':') ? ': ' : '; '))
      log.warn(`config not reloaded, keeping the running configuration: ${problem}`)
      return 'refused'
    }
    const previous = settings.current
    if (Bun.deepEquals(next, previous, true)) return 'unchanged'
    const pending = RESTART_ONLY.filter((key) => !Bun.deepEquals(at(next, key), at(previous, key)))
    if (pending.length > 0) log.warn(`${path}: ${pending.join(', ')} changed; restart the server to apply ${pending.length > 1 ? 'them' : 'it'}`)
    const known = new Set(unknownKeys(previous))
    for (const problem of unknownKeys(next)) if (!known.has(problem)) log.warn(`${path}: ${problem}`)
    settings.apply(next)
    log.info(`${path}: configuration reloaded`)
    return 'applied'
  }
  return watchFiles([path], reload, log, settleMs)
}
