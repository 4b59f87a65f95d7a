import type { Session } from '../net/session.ts'
import type { Packet } from '../protocol/errors.ts'
import type { BuiltinSlash } from './builtins.ts'
import { BUILTIN_AUTHOR, builtinView, type SlashCommandView, type SlashDefinition } from './definition.ts'

/**
 * Every slash command the server knows (commands.md §15): the built-ins, then the commands
 * registered by connections (bots) and by plugins, in registration order. Registrations live in
 * memory only: a connection's go when it closes, a plugin's when it unloads, all of them on restart.
 *
 * A user's commands belong to one connection at a time: registering from another connection of
 * the same user takes them over (compat-notes bug 35). A name belongs to one holder: the
 * built-ins' names and names another user or plugin holds are refused, because clients key
 * their command lists by name.
 */

/** What runs a plugin's command; resolves with the handler's result. */
export type PluginRun = (invocation: SlashInvocation) => Promise<unknown>

export interface SlashInvocation {
  session: Session
  command: string
  args: Record<string, unknown>
  channel: string
  user: { id: string; username: string }
}

/** A connection on another node of the cluster; `send` delivers a packet to it there. */
export interface RemoteHolder {
  kind: 'remote'
  node: string
  session: string
  userId: string
  username: string
  send(packet: Packet): void
}

/**
 * Cluster mode: tells the other nodes what a connection of this node holds now (nothing once it
 * closed), so every node lists and calls it (docs/cluster.md, Slash commands).
 */
export interface SlashSync {
  changed(session: Session, user: { id: string; username: string }, definitions: SlashDefinition[]): void
}

export type Holder =
  | { kind: 'connection'; session: Session; userId: string; username: string }
  | RemoteHolder
  /** `instance` tells a reloaded plugin's commands from those of the version it replaces. */
  | { kind: 'plugin'; plugin: string; instance: object; run: PluginRun }

export interface Registered {
  definition: SlashDefinition
  holder: Holder
}

interface Entry extends Registered {
  owner: string
  bytes: number
}

/** What a registration change means for clients: the `slash_remove` and `slash_add` to send. */
export interface SlashChange {
  added: SlashCommandView[]
  removed: string[]
}

export const REGISTRY_LIMITS = {
  /** Commands one connection (one user) or one plugin holds. */
  perHolder: 50,
  /** JSON bytes of one holder's definitions. */
  holderBytes: 32 * 1024,
  /** JSON bytes of every registered definition together; also bounds a `slash_list` reply. */
  totalBytes: 1024 * 1024,
} as const

export const tooManyCommands = (kind: Holder['kind']) => `Invalid command schema: at most ${REGISTRY_LIMITS.perHolder} commands per ${kind}`

const ownerOf = (holder: Holder) => (holder.kind === 'plugin' ? `plugin:${holder.plugin}` : `user:${holder.userId}`)
const registeredBy = (holder: Holder) => (holder.kind === 'plugin' ? BUILTIN_AUTHOR : holder.username)
const bytesOf = (definition: SlashDefinition) => Buffer.byteLength(JSON.stringify(definition))
const view = (entry: Registered): SlashCommandView => ({ ...entry.definition, registeredBy: registeredBy(entry.holder) })

export class SlashRegistry {
  private readonly builtins: ReadonlyMap<string, BuiltinSlash>
  /** By name, in registration order. */
  private readonly entries = new Map<string, Entry>()

  constructor(
    builtins: readonly BuiltinSlash[],
    private readonly sync?: SlashSync,
  ) {
    this.builtins = new Map(builtins.map((builtin) => [builtin.definition.name, builtin]))
  }

  builtin(name: string): BuiltinSlash | undefined {
    return this.builtins.get(name)
  }

  registered(name: string): Registered | undefined {
    return this.entries.get(name)
  }

  /** `slash_list`: built-ins first, then registered commands in registration order. */
  list(): SlashCommandView[] {
    return [...[...this.builtins.values()].map((builtin) => builtinView(builtin.definition)), ...[...this.entries.values()].map(view)]
  }

  definitions(): SlashDefinition[] {
    return [...[...this.builtins.values()].map((builtin) => builtin.definition), ...[...this.entries.values()].map((entry) => entry.definition)]
  }

  /** Why `holder` may not hold exactly `definitions` instead of what it holds now; undefined when it may. */
  refusal(holder: Holder, definitions: readonly SlashDefinition[]): string | undefined {
    const owner = ownerOf(holder)
    if (definitions.length > REGISTRY_LIMITS.perHolder) return tooManyCommands(holder.kind)
    const names = new Set<string>()
    for (const { name } of definitions) {
      if (names.has(name)) return `Invalid command schema: /${name} is listed twice`
      names.add(name)
      if (this.builtins.has(name)) return `Invalid command schema: /${name} is a built-in command`
      const holding = this.entries.get(name)
      if (holding && holding.owner !== owner) return `Invalid command schema: /${name} is already registered by ${registeredBy(holding.holder)}`
    }
    const bytes = definitions.reduce((sum, definition) => sum + bytesOf(definition), 0)
    if (bytes > REGISTRY_LIMITS.holderBytes) return `Invalid command schema: the commands are too large (at most ${REGISTRY_LIMITS.holderBytes} bytes of JSON)`
    let others = 0
    for (const entry of this.entries.values()) if (entry.owner !== owner) others += entry.bytes
    if (others + bytes > REGISTRY_LIMITS.totalBytes) return 'Too many slash commands are registered on this server'
    return undefined
  }

  /**
   * Gives the holder's owner (a user or a plugin) exactly these commands, all at once; call
   * `refusal` first, in the same synchronous step.
   */
  replace(holder: Holder, registrations: readonly Registered[]): SlashChange {
    const owner = ownerOf(holder)
    const previous = this.withdraw((entry) => entry.owner === owner).removed
    for (const { definition, holder } of registrations) {
      this.entries.set(definition.name, { definition, holder, owner, bytes: bytesOf(definition) })
    }
    if (holder.kind === 'connection') {
      this.sync?.changed(holder.session, { id: holder.userId, username: holder.username }, registrations.map((registration) => registration.definition))
    }
    const names = new Set(registrations.map((registration) => registration.definition.name))
    return { added: registrations.map(view), removed: previous.filter((name) => !names.has(name)) }
  }

  /** Removes the commands `match` picks. */
  withdraw(match: (entry: Entry) => boolean): SlashChange {
    const removed: string[] = []
    for (const [name, entry] of this.entries) {
      if (!match(entry)) continue
      this.entries.delete(name)
      removed.push(name)
    }
    return { added: [], removed }
  }

  /** The connection closed: its commands go (protocol README §2.7). */
  connectionClosed(session: Session): SlashChange {
    const change = this.withdraw(({ holder }) => holder.kind === 'connection' && holder.session === session)
    if (change.removed.length > 0 && session.user) this.sync?.changed(session, session.user, [])
    return change
  }

  /** What each of this node's connections holds, in registration order. */
  connectionHoldings(): Array<{ session: Session; user: { id: string; username: string }; definitions: SlashDefinition[] }> {
    const bySession = new Map<Session, { session: Session; user: { id: string; username: string }; definitions: SlashDefinition[] }>()
    for (const { holder, definition } of this.entries.values()) {
      if (holder.kind !== 'connection') continue
      let held = bySession.get(holder.session)
      if (!held) bySession.set(holder.session, (held = { session: holder.session, user: { id: holder.userId, username: holder.username }, definitions: [] }))
      held.definitions.push(definition)
    }
    return [...bySession.values()]
  }

  /**
   * Another node's connection now holds exactly these (none: it closed). The other node
   * announced the change; here it is only recorded.
   */
  remoteChanged(holder: RemoteHolder, definitions: readonly SlashDefinition[]) {
    if (definitions.length > 0) {
      this.replace(holder, definitions.map((definition) => ({ definition, holder })))
      return
    }
    this.withdraw((entry) => entry.holder.kind === 'remote' && entry.holder.node === holder.node && entry.holder.session === holder.session)
  }

  /** Nodes found dead: their connections' commands go. */
  nodesGone(nodes: readonly string[]): SlashChange {
    return this.withdraw(({ holder }) => holder.kind === 'remote' && nodes.includes(holder.node))
  }
}

/** The packets that tell every authenticated user about a change: removals first. */
export function changePackets({ added, removed }: SlashChange): Packet[] {
  return [
    ...(removed.length > 0 ? [{ cmd: 'slash_remove', commands: removed }] : []),
    ...(added.length > 0 ? [{ cmd: 'slash_add', commands: added }] : []),
  ]
}
