import { rename, writeFile } from 'node:fs/promises'
import { parseConfig } from './load.ts'
import type { Config } from './schema.ts'

export type ConfigListener = (next: Config, previous: Config) => void

export type RawEdit = (raw: Record<string, any>) => void

/** Settings kept outside config.json (a database several nodes share). */
export interface SharedSettings {
  /** Lays the shared settings over a configuration read from config.json. */
  overlay(raw: Record<string, any>): void
  /** Stores what `edit` changes of the shared settings, instead of writing config.json. */
  store(edit: RawEdit, current: Config): Promise<void>
}

/**
 * The configuration in force. Code reads `current` when it needs a value, so a reload (file
 * watcher) or an edit (`server_update`) applies from the next frame on.
 */
export class LiveConfig {
  private listeners: ConfigListener[] = []
  /** Edits run one at a time, so concurrent ones never overwrite each other's read of the file. */
  private edits: Promise<unknown> = Promise.resolve()
  private shared?: SharedSettings
  /** The configuration as config.json (or the start) gave it, before the shared settings. */
  private base: Config

  constructor(
    private value: Config,
    /** config.json; edits are written here (created from the running config if missing). */
    readonly path: string | undefined,
  ) {
    this.base = value
  }

  /** From now on edits go to `shared`, and its settings lie over config.json's. */
  share(shared: SharedSettings) {
    this.shared = shared
    this.reapply()
  }

  /** Applies the shared settings again, after they changed. */
  reapply() {
    this.apply(this.base)
  }

  get current(): Config {
    return this.value
  }

  onChange(listener: ConfigListener) {
    this.listeners.push(listener)
  }

  apply(next: Config) {
    const previous = this.value
    this.base = next
    this.value = this.shared ? this.overlaid(next) : next
    for (const listener of this.listeners) listener(this.value, previous)
  }

  private overlaid(config: Config): Config {
    const raw = structuredClone(config) as Record<string, any>
    this.shared!.overlay(raw)
    return parseConfig(raw, 'shared settings')
  }

  /**
   * Rewrites config.json with `edit` applied to its raw JSON, so keys this server does not know
   * survive, then applies the result. The write is a rename, so readers never see half a file.
   * With shared settings the edit is stored there instead, and config.json is left alone.
   */
  edit(edit: RawEdit): Promise<void> {
    const done = this.edits.then(() => (this.shared ? this.shared.store(edit, this.value).then(() => this.reapply()) : this.write(edit)))
    this.edits = done.catch(() => {})
    return done
  }

  private async write(edit: RawEdit): Promise<void> {
    let raw: Record<string, any> = structuredClone(this.value)
    if (this.path) {
      const file = Bun.file(this.path)
      if (await file.exists()) raw = JSON.parse(await file.text())
    }
    edit(raw)
    const next = parseConfig(raw, this.path ?? 'config')
    if (this.path) {
      const temporary = `${this.path}.${process.pid}.tmp`
      await writeFile(temporary, `${JSON.stringify(raw, null, 4)}\n`)
      await rename(temporary, this.path)
    }
    this.apply(next)
  }
}
