/**
 * An example originchats plugin. Copy it into the `plugins/` folder next to config.json (for
 * example as `plugins/echo.ts`); the server loads it at once, no restart needed.
 *
 * `!echo <text>` (the prefix is configurable) makes the plugin repeat <text> in the same channel
 * as the user `Echo`. Configure it in config.json:
 *
 *     "plugins": { "echo": { "prefix": "!say" } }
 *
 * The type import below only helps editors and type checkers; it is removed when the plugin is
 * loaded, so the file also works where that path does not exist.
 */
import type { PluginApi, PluginConnection, PluginEvents } from '../../src/plugins/api.ts'

interface EchoConfig {
  prefix: string
}

/** Required: what `plugins_list` shows, and the events this plugin handles. */
export function getInfo() {
  return {
    name: 'Echo',
    description: 'Repeats messages that start with the echo prefix.',
    version: '1.0.0',
    author: 'originchats',
    handles: ['new_message'],
  }
}

let echoed = 0

/** Optional: runs once per load, before any event. The returned function runs on unload. */
export function setup(api: PluginApi) {
  // `api.on` subscribes to any event, in addition to the on_<event> exports.
  api.on('user_connect', (_conn, data) => api.log.debug(`${data.username} is online; ${echoed} messages echoed so far`))
  return () => api.log.info(`unloading after ${echoed} echoes`)
}

/** Called for every stored message. `conn` is the sender's connection. */
export async function on_new_message(conn: PluginConnection | null, data: PluginEvents['new_message'], api: PluginApi) {
  const prefix = api.config<EchoConfig>().prefix ?? '!echo'
  // Stored content is trimmed, so a bare `!echo` arrives without its trailing space.
  if (!data.channel || (data.content !== prefix && !data.content.startsWith(`${prefix} `))) return
  const text = data.content.slice(prefix.length).trim()
  if (text === '') {
    // Only the sender sees this packet.
    conn?.send({ cmd: 'error', val: `Usage: ${prefix} <text>` })
    return
  }
  echoed++
  // Stored like any message and sent to everyone who may view the channel.
  await api.sendMessage(data.channel, text, { author: 'Echo' })
}
