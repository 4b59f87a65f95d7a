import { type AddressCounter, AddressLimiter } from '../auth/address-limit.ts'
import { MemoryRateLimiter, type RateLimiter, type RateLimitSettings } from '../auth/rate-limit.ts'
import { RedisBus } from '../bus/redis/bus.ts'
import type { LocalBus } from '../bus/local.ts'
import type { Logger } from '../log.ts'
import { CloseCode, type Hub } from '../net/hub.ts'
import { topics } from '../net/topics.ts'
import type { Packet } from '../protocol/errors.ts'
import { changePackets } from '../slash/registry.ts'
import { RedisConnection } from './connection.ts'
import { RedisAddressCounter, RedisRateLimiter } from './limits.ts'
import { StreamPeers, type ControlEvent } from './peers.ts'
import { RedisRoster } from './roster.ts'
import { SharedFolders } from './shared-folders.ts'
import type { ClusterSettings } from './settings.ts'
import { StreamTailer, StreamWriter, type Entry } from './stream.ts'
import { RedisSlash, type SlashMirror } from './slash.ts'
import { RedisVoice, type VoiceMirror } from './voice.ts'

export interface ClusterDeps {
  hub: Hub
  /**
   * Drops cached store data of `scope` when another node changed it. The stream waits for what
   * it returns, so the broadcasts of the same change reach this node's clients after it.
   */
  invalidate?(scope: string): void | Promise<void>
  /** The voice calls, which follow the other nodes' participants. */
  voice?: VoiceMirror
  /** The slash commands, which list and call the other nodes' connections' commands. */
  slash?: SlashMirror
  /** The data folder, whose file folders every node must share. */
  dataDir?: string
}

/**
 * This node's membership of a cluster: two Redis connections (commands, and the stream tail
 * that blocks), the bus, the roster and the peers. Imported only when `cluster.redis_url` is set.
 */
export class Cluster {
  readonly roster: RedisRoster
  readonly peers: StreamPeers
  readonly voice: RedisVoice
  readonly slash: RedisSlash
  private readonly writer: StreamWriter
  private tailer: StreamTailer | undefined
  private redisBus: RedisBus | undefined
  private deps: ClusterDeps | undefined
  private folders: SharedFolders | undefined
  /** Settles once the node is registered and reading the stream (see startApp). */
  ready: Promise<void> = Promise.resolve()

  private constructor(
    readonly settings: ClusterSettings,
    private readonly redis: RedisConnection,
    private readonly tail: RedisConnection,
    private readonly log: Logger,
  ) {
    this.writer = new StreamWriter(redis, settings.stream, settings.nodeId, settings.streamMaxLength, log)
    this.peers = new StreamPeers(
      this.writer,
      settings.nodeId,
      (userId) => this.roster.firstSession(userId),
      (userId, sessionId, packet) => this.sendToSession(userId, sessionId, packet),
      log,
    )
    this.roster = new RedisRoster(redis, settings, log, (userId, change) => this.peers.sessionsChanged(userId, change))
    this.voice = new RedisVoice(redis, settings, this.writer, log)
    this.slash = new RedisSlash(redis, settings, this.writer, log)
  }

  static async connect(settings: ClusterSettings, log: Logger): Promise<Cluster> {
    const name = (role: string) => `originchats:${settings.nodeId}:${role}`.replace(/\s/g, '_')
    const redis = await RedisConnection.open(settings.url, name('command'), log)
    try {
      const tail = await RedisConnection.open(settings.url, name('stream'), log)
      return new Cluster(settings, redis, tail, log)
    } catch (error) {
      redis.close()
      throw error
    }
  }

  bus(local: LocalBus): RedisBus {
    return (this.redisBus = new RedisBus(local, this.writer))
  }

  /** A per-key message limiter shared by every node (named apart: messages, actions, webhooks). */
  rateLimiter(name: string, settings: () => RateLimitSettings): RateLimiter {
    return new RedisRateLimiter(this.redis, `${this.settings.prefix}limit:${name}:`, settings, new MemoryRateLimiter(settings), this.log)
  }

  /** A fixed-window counter per address shared by every node (registrations, failed sign-ins). */
  addressCounter(name: string, limit: () => number, windowMs: number): AddressCounter {
    return new RedisAddressCounter(this.redis, `${this.settings.prefix}limit:${name}:`, limit, windowMs, new AddressLimiter(limit, windowMs), this.log)
  }

  start(deps: ClusterDeps) {
    this.deps = deps
    const tailer = new StreamTailer(
      this.tail,
      this.settings.stream,
      this.settings.nodeId,
      this.settings.streamMaxLength,
      {
        entry: (entry) => this.received(entry),
        lost: () => this.resync(),
        restarted: () => this.roster.restarted(),
      },
      this.log,
    )
    this.tailer = tailer
    const { voice, slash } = deps
    if (voice) this.roster.onReaped((nodes) => voice.nodesGone(nodes))
    if (slash) this.roster.onReaped((nodes) => this.slashNodesGone(slash, nodes))
    // Voice calls and slash commands go back into Redis with the sessions, so a node started later sees them.
    if (voice) this.roster.onRewritten(() => this.voice.rewrite(voice))
    if (slash) this.roster.onRewritten(() => this.slash.rewrite(slash))
    this.ready = (async () => {
      await tailer.start()
      await this.roster.start(deps.hub, this.redisBus!)
      if (voice) await this.voice.load(voice)
      if (slash) await this.slash.load(slash)
      if (deps.dataDir) await this.checkSharedFolders(new SharedFolders(deps.dataDir, this.settings.nodeId))
      this.log.info(`cluster node ${this.settings.nodeId} joined (stream ${this.settings.stream})`)
    })()
    return this.ready
  }

  /** Uploads made through one node are missing on another unless the file folders are shared: said at start, loudly. */
  private async checkSharedFolders(folders: SharedFolders) {
    this.folders = folders
    folders.mark()
    const unshared = folders.unshared(await this.roster.liveNodes())
    if (unshared.length === 0) return
    const nodes = [...new Set(unshared.flatMap((entry) => entry.nodes))]
    this.log.warn(
      `${unshared.map((entry) => `${entry.folder}/`).join(', ')} not shared with node(s) ${nodes.join(', ')}: their marker files are missing here, so what one node ` +
        'stores there the others will not find. Put these folders of the data folder on storage every node mounts (docs/cluster.md, "Files")',
    )
  }

  /** After this node's sockets closed: they leave Redis and are announced gone, then the connections close. */
  async stop() {
    await this.ready.catch(() => {})
    this.folders?.unmark()
    await this.roster.stop(true)
    await this.writer.flushed()
    await this.halt()
  }

  /** As a killed process would: no goodbye, the sessions stay in Redis until another node's reaper. */
  async abandon() {
    await this.roster.stop(false)
    await this.halt()
  }

  private async halt() {
    this.writer.stop()
    await this.tailer?.stop()
    this.redis.close()
  }

  /** To this node's session of the user, or to its first one here if that one closed. */
  private sendToSession(userId: string, sessionId: string | undefined, packet: Packet) {
    const hub = this.deps?.hub
    const sessions = hub?.sessionsOf(userId) ?? []
    const target = sessions.find((session) => String(session.id) === sessionId) ?? sessions[0]
    if (target) hub!.send(target, packet)
  }

  private async received(entry: Entry) {
    if ('frame' in entry) return this.redisBus!.deliver(entry.topic, entry.frame)
    let event: ControlEvent
    try {
      event = JSON.parse(entry.event)
    } catch {
      return this.log.warn(`ignored a malformed control event from node ${entry.node}`)
    }
    const { hub, invalidate } = this.deps!
    switch (event.t) {
      case 'online':
      case 'offline':
        return this.roster.heard(event)
      case 'disconnect':
        return hub.disconnectUser(event.u, event.p)
      case 'refresh':
        return event.u === 'all' ? hub.refreshAll() : hub.refreshUsers(event.u)
      case 'invalidate':
        return invalidate?.(event.s)
      case 'voice':
        return this.deps!.voice?.remoteChanged(event.n, event.u, event.v)
      case 'slash':
        return this.deps!.slash?.remoteChanged(this.slash.holder(event.n, event.s, event.u, event.name), event.d)
      case 'slash_gone':
        return void this.deps!.slash?.nodesGone(event.gone)
      case 'session':
        hub.applySessionChange(event.u, event.c)
        return this.roster.renamed(event.u, event.c)
      case 'first':
        if (event.n === this.settings.nodeId) this.sendToSession(event.u, event.s, event.p)
        return
    }
  }

  /** Announced once, by the reaping node; the others drop the commands when they read its event. */
  private slashNodesGone(slash: SlashMirror, nodes: string[]) {
    for (const packet of changePackets(slash.nodesGone(nodes))) this.redisBus!.publish(topics.users, packet)
    this.slash.gone(nodes).catch((error) => this.log.warn(`redis: could not drop dead nodes' slash commands: ${(error as Error)?.message ?? error}`))
  }

  /** Broadcasts this node did not read are gone: its clients reconnect and load everything afresh. */
  private async resync() {
    for (const session of this.deps!.hub.sockets) session.ws.close(CloseCode.resync, 'Cluster resync, reconnect')
    // The online and offline events were among what was missed.
    await this.roster.reload().catch((error) => this.log.warn(`redis: could not reload who is online: ${(error as Error)?.message ?? error}`))
  }
}
