import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { quote } from '../../log.ts'
import { displayName } from '../../views/user.ts'
import type { PluginApi, PluginEvents } from '../api.ts'
import type { BuiltinPlugin } from '../loader.ts'

/**
 * The welcome plugin (plugins.md §4.2, latest): a new account gets `plugins.builtin.welcome.message`
 * (`{username}` replaced by its display name) in `plugins.builtin.welcome.channel`, from
 * `originChats`. On by default, as upstream: the web client only shows the first message of an
 * empty channel after reopening it, and the welcome means #general is never empty. With
 * `first_time_only`, user IDs already welcomed (kept in `<data>/plugins/welcome/welcomed_users.json`)
 * are not welcomed again, e.g. after leaving and rejoining.
 */
export const welcomePlugin: BuiltinPlugin = {
  name: 'welcome',
  enabled: (config) => config.plugins.builtin.welcome.enabled,
  create(server) {
    // One read-modify-write of the welcomed list at a time, so simultaneous joins are all kept.
    let chain: Promise<unknown> = Promise.resolve()
    const firstTime = (api: PluginApi, userId: string) => {
      const task = chain.then(async () => {
        const path = join(await api.dataDir(), 'welcomed_users.json')
        const welcomed = await readList(path)
        if (welcomed.includes(userId)) return false
        welcomed.push(userId)
        await writeFile(`${path}.tmp`, JSON.stringify(welcomed))
        await rename(`${path}.tmp`, path)
        return true
      })
      chain = task.catch(() => {})
      return task
    }
    return {
      getInfo: () => ({
        name: 'Welcome Plugin',
        description: 'Welcomes new users with a message in the welcome channel.',
        handles: ['user_join'],
      }),
      async on_user_join(_conn: unknown, data: PluginEvents['user_join'], api: PluginApi) {
        const settings = server.config().plugins.builtin.welcome
        const name = displayName(data.user)
        if (!(await server.store.channels.get(settings.channel))) {
          api.log.warn(`welcome channel ${quote(settings.channel)} does not exist; ${quote(name)} not welcomed`)
          return
        }
        if (settings.first_time_only && !(await firstTime(api, data.user_id))) return
        await api.sendMessage(settings.channel, settings.message.replaceAll('{username}', name))
      },
    }
  },
}

/** The welcomed user IDs; a missing or unreadable file counts as none, as upstream. */
async function readList(path: string): Promise<string[]> {
  try {
    const value: unknown = JSON.parse(await readFile(path, 'utf8'))
    return Array.isArray(value) ? value.filter((id): id is string => typeof id === 'string') : []
  } catch {
    return []
  }
}
