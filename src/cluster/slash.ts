import type { Logger } from '../log.ts'
import type { Session } from '../net/session.ts'
import type { SlashDefinition } from '../slash/definition.ts'
import type { RemoteHolder, SlashChange, SlashSync } from '../slash/registry.ts'
import type { RedisConnection } from './connection.ts'
import type { ClusterSettings } from './settings.ts'
import type { StreamWriter } from './stream.ts'

/** What the slash registry does with other nodes' connections. */
export interface SlashMirror {
  remoteChanged(holder: RemoteHolder, definitions: readonly SlashDefinition[]): void
  nodesGone(nodes: readonly string[]): SlashChange
  connectionHoldings(): Array<{ session: Session; user: { id: string; username: string }; definitions: SlashDefinition[] }>
}

/**
 * The stream's slash events: node `n`'s connection `s` (user `u`, `name`) holds exactly `d` now
 * (none: it closed), or every connection of the dead nodes `gone` lost its commands.
 */
export type SlashEvent = { t: 'slash'; n: string; s: string; u: string; name: string; d: SlashDefinition[] } | { t: 'slash_gone'; gone: string[] }

interface Held {
  u: string
  name: string
  d: SlashDefinition[]
}

/**
 * Slash commands registered by connections, across nodes: each node announces what its
 * connections hold on the stream and keeps it in the hash `<prefix>slash` (field
 * `<node>\t<session>`), which a node reads when it starts. A call for another node's command
 * reaches its connection through a `first` event addressed to that node and session.
 */
export class RedisSlash implements SlashSync {
  constructor(
    private readonly redis: RedisConnection,
    private readonly settings: ClusterSettings,
    private readonly writer: StreamWriter,
    private readonly log: Logger,
  ) {}

  changed(session: Session, user: { id: string; username: string }, definitions: SlashDefinition[]) {
    const node = this.settings.nodeId
    const s = String(session.id)
    this.writer.event({ t: 'slash', n: node, s, u: user.id, name: user.username, d: definitions } satisfies SlashEvent)
    const field = `${node}\t${s}`
    const held: Held = { u: user.id, name: user.username, d: definitions }
    this.write(definitions.length > 0 ? ['HSET', this.key, field, JSON.stringify(held)] : ['HDEL', this.key, field])
  }

  /**
   * Makes the hash hold exactly what this node's connections hold again (after Redis lost its
   * keys or restarted), without telling the other nodes: their mirrors never lost it.
   */
  async rewrite(mirror: SlashMirror) {
    const node = this.settings.nodeId
    const fields: Record<string, string> = (await this.redis.send('HGETALL', [this.key])) ?? {}
    const mine = Object.keys(fields).filter((field) => field.split('\t')[0] === node)
    if (mine.length > 0) await this.redis.send('HDEL', [this.key, ...mine])
    const held = mirror
      .connectionHoldings()
      .flatMap(({ session, user, definitions }) => [`${node}\t${session.id}`, JSON.stringify({ u: user.id, name: user.username, d: definitions } satisfies Held)])
    if (held.length > 0) await this.redis.send('HSET', [this.key, ...held])
  }

  /** The dead nodes' commands go everywhere (called by the node that reaped them). */
  async gone(nodes: string[]) {
    this.writer.event({ t: 'slash_gone', gone: nodes } satisfies SlashEvent)
    const fields = Object.keys((await this.redis.send('HGETALL', [this.key])) ?? {}).filter((field) => nodes.includes(field.split('\t')[0]!))
    if (fields.length > 0) await this.redis.send('HDEL', [this.key, ...fields])
  }

  holder(node: string, session: string, userId: string, username: string): RemoteHolder {
    return {
      kind: 'remote',
      node,
      session,
      userId,
      username,
      send: (packet) => this.writer.event({ t: 'first', n: node, s: session, u: userId, p: packet }),
    }
  }

  /** Other nodes' registrations now, from the hash; this node's own (left over from a crash under the same node ID) are dropped. */
  async load(mirror: SlashMirror) {
    // Bun's client answers HGETALL with an object (RESP3 map).
    const fields: Record<string, string> = (await this.redis.send('HGETALL', [this.key])) ?? {}
    const stale: string[] = []
    for (const [field, value] of Object.entries(fields)) {
      const [node, session] = field.split('\t') as [string, string]
      if (node === this.settings.nodeId) {
        stale.push(field)
        continue
      }
      const held = JSON.parse(value) as Held
      mirror.remoteChanged(this.holder(node, session, held.u, held.name), held.d)
    }
    if (stale.length > 0) await this.redis.send('HDEL', [this.key, ...stale])
  }

  private write([command, ...args]: string[]) {
    this.redis.send(command!, args).catch((error) => this.log.warn(`redis: could not record slash commands: ${(error as Error)?.message ?? error}`))
  }

  private get key() {
    return `${this.settings.prefix}slash`
  }
}
