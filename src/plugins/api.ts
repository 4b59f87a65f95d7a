import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { RateLimiter } from '../auth/rate-limit.ts'
import type { Bus } from '../bus/types.ts'
import type { Config } from '../config/schema.ts'
import type { Logger } from '../log.ts'
import type { Hub } from '../net/hub.ts'
import type { Session } from '../net/session.ts'
import { topics } from '../net/topics.ts'
import type { Effects } from '../protocol/command.ts'
import type { Packet } from '../protocol/errors.ts'
import type { SlashRegistry } from '../slash/registry.ts'
import type { ChannelRecord, MessageRecord, Store, UserRecord } from '../store/types.ts'
import { messageView } from '../views/message.ts'
import { withoutSecrets, type PublicUser } from '../views/user.ts'
import type { PluginSlashCommands } from './slash.ts'

/**
 * What a plugin sees. A plugin is a module exporting `getInfo()` (with `handles`), one
 * `on_<event>(conn, data, api)` per handled event, optionally `required_permission` (role
 * names) and `setup(api)`. docs/plugins.md describes the model; plugins.md §2 the payloads.
 */

/** The connection that triggered an event (null for `server_start` and plugin-emitted events). */
export interface PluginConnection {
  /** Connection number, as in the server log. */
  id: number
  user: { id: string; username: string } | null
  /** Sends a packet to this connection only. */
  send(packet: Packet): void
}

/** A stored user without secrets (no password hash, no validator). */
export type PluginUser = PublicUser

interface UserEvent {
  username: string
  user_id: string
  roles: string[]
  color: string | null
  /** The stored user record, without secrets. */
  user: PluginUser
}

interface RoleEvent {
  role_id: string
  role_name: string
  description: string
  color: string | null
}

/** Every event the server fires, with its payload (plugins.md §2). */
export interface PluginEvents {
  server_start: Record<string, never>
  /** A brand-new account authenticated. */
  user_join: UserEvent
  /** A user's first live connection authenticated. */
  user_connect: UserEvent
  /** A message was stored; `message` is the stored form (`user` is the author's user ID). */
  new_message: { content: string; channel: string | null; user_id: string; username: string; message: MessageRecord }
  message_edit: { channel: string; thread_id: string | null; id: string; content: string; user_id: string; username: string }
  message_delete: { channel: string; id: string; user_id: string; username: string; thread_id?: string }
  message_pin: { channel: string; id: string; pinned: boolean; user_id: string; username: string }
  message_unpin: { channel: string; id: string; pinned: boolean; user_id: string; username: string }
  /** `timeout` is in milliseconds. */
  user_timeout: { user_id: string; username: string; timeout: number }
  user_ban: { user_id: string; username: string; reason?: string }
  user_unban: { user_id: string; username: string }
  user_leave: { username: string; user_id: string }
  user_roles_set: { user_id: string; username: string; roles: string[] }
  channel_create: { channel: ChannelRecord }
  channel_update: { old_name: string; channel: ChannelRecord }
  /** `channel` is the stored object, after the move. */
  channel_move: { channel: ChannelRecord; position: number }
  channel_delete: { channel_name: string }
  role_create: RoleEvent
  role_update: RoleEvent
  role_delete: { role_id: string; role_name: string }
  self_role_add: { user_id: string; username: string; role_name: string }
  self_role_remove: { user_id: string; username: string; role_name: string }
}

export type PluginEventName = keyof PluginEvents

/** A handler may return a promise; it is never awaited by the server (see `handler_timeout_ms`). */
export type PluginHandler<D = Record<string, any>> = (conn: PluginConnection | null, data: D, api: PluginApi) => unknown

/** A slash command a plugin registers (data.md §15); `options` default to none, `required` to true. */
export interface PluginSlashDefinition {
  name: string
  description: string
  options?: Array<{ name: string; description: string; type: 'str' | 'int' | 'float' | 'bool' | 'enum'; choices?: string[] | null; required?: boolean }>
  /** The caller needs any one of these roles. */
  whitelistRoles?: string[] | null
  /** Callers holding any of these roles are refused. */
  blacklistRoles?: string[] | null
  /** Listed for clients; not honoured (responses are public). */
  ephemeral?: boolean
}

/** One use of a plugin's slash command; `args` are already checked against the options. */
export interface PluginSlashCall {
  command: string
  args: Record<string, unknown>
  /** The text channel it was used in; the caller may view and send there. */
  channel: string
  user: { id: string; username: string }
  /** The caller's connection. */
  conn: PluginConnection
}

/**
 * Text (posted as the command's message), `{response, embeds}`, or `{error}`: the caller gets
 * that error instead of a message.
 */
export type PluginSlashAnswer = string | { response?: string; embeds?: unknown[] } | { error: string }

export type PluginSlashHandler = (call: PluginSlashCall, api: PluginApi) => PluginSlashAnswer | Promise<PluginSlashAnswer>

/** The typed API every plugin receives, in `setup(api)` and as the third handler argument. */
export interface PluginApi {
  /** The plugin's name: its file name without extension. */
  readonly name: string
  /** Lines prefixed with `plugin <name>:`. */
  readonly log: Logger
  /**
   * This plugin's slice of config.json: `plugins.<name>` (built-ins: `plugins.builtin.<name>`),
   * `{}` when absent. Read it when needed: edits to config.json apply without a reload.
   */
  config<T extends object = Record<string, unknown>>(): Partial<T>
  /** A folder for the plugin's own files, inside the data folder; created on first use. */
  dataDir(): Promise<string>
  /** Subscribes to an event, in addition to the exported `on_<event>` handlers. */
  on<E extends PluginEventName>(event: E, handler: PluginHandler<PluginEvents[E]>): void
  on(event: string, handler: PluginHandler): void
  /** Fires an event of the plugin's own (e.g. `auto_moderate`) to every plugin handling it. */
  emit(event: string, data: Record<string, unknown>): void
  /**
   * Stores a message from `author` (default `originChats`) in a text channel and sends
   * `{cmd:'message_new', message, channel, thread_id:null, global:true}` (client form) to the
   * users who may view the channel. Resolves with the client form; rejects for an unknown channel.
   */
  sendMessage(channel: string, content: string, options?: { author?: string }): Promise<Record<string, unknown>>
  /** Sends a packet to every connection whose user may view `channel`. */
  publish(channel: string, packet: Packet): void
  users: {
    get(id: string): Promise<PluginUser | undefined>
    getByUsername(username: string): Promise<PluginUser | undefined>
    list(): Promise<PluginUser[]>
  }
  channels: {
    get(name: string): Promise<ChannelRecord | undefined>
    /** In display order. */
    list(): Promise<ChannelRecord[]>
  }
  messages: {
    get(channel: string, id: string): Promise<MessageRecord | undefined>
    /** The newest `limit` messages of a channel, oldest first. */
    latest(channel: string, limit: number): Promise<MessageRecord[]>
  }
  slash: {
    /**
     * Registers a slash command answered by `handler`: each use posts its answer in the caller's
     * channel as `originChats`, with `interaction`. Throws for an invalid definition or a name
     * already taken. Commands registered in `setup()` appear once the plugin has loaded; all of
     * them go when it unloads or reloads.
     */
    register(definition: PluginSlashDefinition, handler: PluginSlashHandler): void
  }
  /** The message rate limiter (effective when `rate_limiting.enabled`). */
  limiter: {
    /** Blocks a user's messages for `seconds` (0 lifts the timeout). */
    timeout(userId: string, seconds: number): void
    /** Clears a user's counters, cooldown and timeout. */
    reset(userId: string): void
  }
}

/** What the server hands the plugin manager; built-in plugins use it directly. */
export interface ServerAccess {
  store: Store
  hub: Hub
  bus: Bus
  limiter: RateLimiter
  log: Logger
  config(): Config
  /** The data folder (plugins keep their files in `<data>/plugins/<name>`). */
  dataDir: string
  slash: SlashRegistry
  /**
   * Applies effects as if the user of `session` had run a command: announcements, modlog
   * entries with that user as actor, plugin events. Replies are not used.
   */
  apply(session: Session, effects: Effects): Promise<void>
  /** Delivers an event to the plugins (the manager's own emit). */
  emit(event: string, session: Session | null, data: Record<string, unknown>): void
}

export const SYSTEM_AUTHOR = 'originChats'

const publicUser = (user: UserRecord | undefined): PluginUser | undefined => (user ? withoutSecrets(user) : undefined)

/** Stores a system message and shows it to the channel's viewers (plugins.md §3, compat may-fix 7). */
export async function postSystemMessage(server: ServerAccess, channelName: string, content: string, author = SYSTEM_AUTHOR) {
  const channel = await server.store.channels.get(channelName)
  if (!channel) throw new Error(`Channel '${channelName}' not found`)
  const text = content.trim()
  if (text === '') throw new Error('Message content cannot be empty')
  const stored = await server.store.messages.insert({ channel: channel.name, thread_id: null, user: author, content: text })
  const message = await messageView(stored, server.store.users)
  server.bus.publish(topics.channel(channel.name), { cmd: 'message_new', message, channel: channel.name, thread_id: null, global: true })
  return message
}

const sessions = new WeakMap<PluginConnection, Session>()

export function connectionOf(server: ServerAccess, session: Session | null): PluginConnection | null {
  if (!session) return null
  const conn: PluginConnection = {
    id: session.id,
    user: session.user ? { id: session.user.id, username: session.user.username } : null,
    send: (packet) => server.hub.send(session, packet),
  }
  sessions.set(conn, session)
  return conn
}

/** The session behind a connection handed to a plugin (for built-ins that apply effects). */
export const sessionOf = (conn: PluginConnection | null): Session | undefined => (conn ? sessions.get(conn) : undefined)

export interface ApiOptions {
  name: string
  log: Logger
  /** The plugin's config slice, read on each call. */
  slice(): Record<string, unknown> | undefined
  /** Registers a handler registered through `api.on`. */
  subscribe(event: string, handler: PluginHandler): void
  /** Where `api.slash.register` puts the plugin's commands. */
  slash: PluginSlashCommands
}

/** The API object of one loaded plugin. */
export function createPluginApi(server: ServerAccess, options: ApiOptions): PluginApi {
  const { store } = server
  const api: PluginApi = {
    name: options.name,
    log: options.log,
    config: <T extends object>() => (options.slice() ?? {}) as Partial<T>,
    async dataDir() {
      const dir = join(server.dataDir, 'plugins', options.name)
      await mkdir(dir, { recursive: true })
      return dir
    },
    on: (event: string, handler: PluginHandler) => options.subscribe(event, handler),
    emit: (event, data) => server.emit(event, null, data),
    sendMessage: (channel, content, opts) => postSystemMessage(server, channel, content, opts?.author),
    publish: (channel, packet) => void server.bus.publish(topics.channel(channel), packet),
    users: {
      get: async (id) => publicUser(await store.users.get(id)),
      getByUsername: async (username) => publicUser(await store.users.getByUsername(username)),
      list: async () => (await store.users.list()).map(withoutSecrets),
    },
    channels: {
      get: (name) => store.channels.get(name),
      list: () => store.channels.list(),
    },
    messages: {
      get: (channel, id) => store.messages.get({ channel, thread_id: null }, id),
      latest: (channel, limit) => store.messages.listLatest({ channel, thread_id: null }, 0, limit),
    },
    slash: {
      register: (definition, handler) => {
        if (typeof handler !== 'function') throw new Error('a slash command needs a handler function')
        options.slash.register(definition, async ({ session, command, args, channel, user }) =>
          handler({ command, args, channel, user, conn: connectionOf(server, session)! }, api),
        )
      },
    },
    limiter: {
      timeout: (userId, seconds) => server.limiter.timeout(userId, seconds),
      reset: (userId) => server.limiter.reset(userId),
    },
  }
  return api
}
