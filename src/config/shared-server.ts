import type { Logger } from '../log.ts'
import type { ServerOverrides, ServerSettingsRepo } from '../store/types.ts'
import type { LiveConfig, RawEdit, SharedSettings } from './live.ts'
import type { Config } from './schema.ts'

/** The settings `server_update` changes. */
const FIELDS = ['name', 'icon', 'banner'] as const

/** The scope of the cluster's `invalidate` event that makes the other nodes read them again. */
export const SERVER_SETTINGS_SCOPE = 'server_settings'

/**
 * With a database several nodes share, what `server_update` changes lives there instead of one
 * node's config.json: every node lays it over its own config.json, and reads it again when
 * another node says it changed. A field set in the database wins over config.json until the
 * next `server_update` of it.
 */
export class SharedServerSettings implements SharedSettings {
  private overrides: ServerOverrides = {}
  /** Settles once the stored settings were read at start. */
  readonly loaded: Promise<void>

  constructor(
    private readonly repo: ServerSettingsRepo,
    private readonly live: LiveConfig,
    /** Tells the other nodes to read the settings again. */
    private readonly changed: () => void,
    private readonly log: Logger,
  ) {
    live.share(this)
    this.loaded = this.reload()
  }

  overlay(raw: Record<string, any>) {
    if (Object.keys(this.overrides).length === 0) return
    const server = (raw.server ??= {})
    for (const [field, value] of Object.entries(this.overrides)) {
      if (value === null) delete server[field]
      else server[field] = value
    }
  }

  async store(edit: RawEdit, current: Config) {
    const raw = structuredClone(current) as Record<string, any>
    edit(raw)
    const updates: ServerOverrides = {}
    for (const field of FIELDS) {
      const after = (raw.server?.[field] as string | undefined) ?? null
      if (after !== (current.server[field] ?? null)) updates[field] = after
    }
    if (Object.keys(updates).length === 0) return
    await this.repo.update(updates)
    this.overrides = { ...this.overrides, ...updates }
    this.changed()
  }

  /** Reads the stored settings again and applies them; a failure is logged and changes nothing. */
  reload(): Promise<void> {
    return this.repo.get().then(
      (overrides) => {
        this.overrides = overrides
        this.live.reapply()
      },
      (error) => this.log.error(`could not read the shared server settings: ${(error as Error)?.message ?? error}`),
    )
  }
}
