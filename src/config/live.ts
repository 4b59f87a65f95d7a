import { rename, writeFile } from 'node:fs/promises'
import { parseConfig } from './load.ts'
import type { Config } from './schema.ts'

export type ConfigListener = (next: Config, previous: Config) => void

/**
 * The configuration in force. Code reads `current` when it needs a value, so a reload (file
 * watcher) or an edit (`server_update`) applies from the next frame on.
 */
export class LiveConfig {
  private listeners: ConfigListener[] = []
  /** Edits run one at a time, so concurrent ones never overwrite each other's read of the file. */
  private edits: Promise<unknown> = Promise.resolve()

  constructor(
    private value: Config,
    /** config.json; edits are written here (created from the running config if missing). */
    readonly path: string | undefined,
  ) {}

  get current(): Config {
    return this.value
  }

  onChange(listener: ConfigListener) {
    this.listeners.push(listener)
  }

  apply(next: Config) {
    const previous = this.value
    this.value = next
    for (const listener of this.listeners) listener(next, previous)
  }

  /**
   * Rewrites config.json with `edit` applied to its raw JSON, so keys this server does not know
   * survive, then applies the result. The write is a rename, so readers never see half a file.
   */
  edit(edit: (raw: Record<string, any>) => void): Promise<void> {
    const done = this.edits.then(() => this.write(edit))
    this.edits = done.catch(() => {})
    return done
  }

  private async write(edit: (raw: Record<string, any>) => void): Promise<void> {
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
