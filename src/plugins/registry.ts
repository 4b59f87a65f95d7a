/** What `plugins_list` shows for each plugin (plugins.md §1). */
export interface PluginInfo {
  name: string
  description: string
  handles: string[]
}

/**
 * The loaded plugins. This issue ships the registry with no plugin sources, so the list is
 * empty and reloading "all" succeeds trivially; the loader arrives with the owner-operations work.
 */
export interface PluginRegistry {
  list(): Record<string, PluginInfo>
  /** Reloads one plugin by name, or all of them; false when the name is unknown or fails to load. */
  reload(name?: string): Promise<boolean>
}

export class EmptyPluginRegistry implements PluginRegistry {
  list() {
    return {}
  }

  async reload(name?: string) {
    return name === undefined
  }
}
