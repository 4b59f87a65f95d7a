import type { Session } from '../net/session.ts'

/** What `plugins_list` shows for each plugin (plugins.md §1). */
export interface PluginInfo {
  name?: string
  description?: string
  handles: string[]
  [key: string]: unknown
}

/** The loaded plugins, as commands see them. */
export interface PluginRegistry {
  list(): Record<string, PluginInfo>
  /** Reloads one plugin by name, or all of them; false when the name is unknown or fails to load. */
  reload(name?: string): Promise<boolean>
  /**
   * Tells every plugin that handles `event`. Never throws and never waits for a plugin: a
   * plugin that fails or hangs is reported and the caller carries on.
   */
  emit(event: string, session: Session | null, data: Record<string, unknown>): void
}
