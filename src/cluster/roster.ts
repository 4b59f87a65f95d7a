import type { RedisBus } from '../bus/redis/bus.ts'
import type { Logger } from '../log.ts'
import type { Hub } from '../net/hub.ts'
import type { Session } from '../net/session.ts'
import { topics } from '../net/topics.ts'
import type { RedisConnection } from './connection.ts'
import { Script } from './scripts.ts'
import type { ClusterSettings } from './settings.ts'
import type { Roster, SessionChange } from './types.ts'

/** Each change of who is online appends its control event in the same script, so every node sees them in the order they happened. */
const XADD_EVENT = `local function announce(stream, maxlen, node, event)
  redis.call('XADD', stream, 'MAXLEN', '~', maxlen, '*', 'node', node, 'event', cjson.encode(event))
end
`

/**
 * KEYS: user's sessions zset, node hash, online set, stream. ARGV: member, session, "uid\\tusername", uid, maxlen, node.
 * Sessions are scored by when they joined (Redis TIME), so the cluster-wide first one is known;
 * one written again after a Redis blip keeps its place if Redis kept it.
 */
const JOIN = new Script(`${XADD_EVENT}
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
local t = redis.call('TIME')
local joinedAt = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZADD', KEYS[1], 'NX', joinedAt, ARGV[1]) == 1 and redis.call('ZCARD', KEYS[1]) == 1 then
  redis.call('SADD', KEYS[3], ARGV[4])
  announce(KEYS[4], ARGV[5], ARGV[6], {t = 'online', u = ARGV[4]})
  return 1
end
return 0`)

/** Same KEYS and ARGV as JOIN. */
const LEAVE = new Script(`${XADD_EVENT}
redis.call('HDEL', KEYS[2], ARGV[2])
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 and redis.call('ZCARD', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[4])
  announce(KEYS[4], ARGV[5], ARGV[6], {t = 'offline', u = ARGV[4]})
  return 1
end
return 0`)

/**
 * The heartbeat, and the reaper of nodes not heard from within the timeout, as one atomic
 * script: whichever node runs it first removes a dead node's sessions, so its users are
 * announced gone once. Redis TIME is the clock, the same for every node.
 * KEYS: nodes zset, online set, stream. ARGV: node, timeout ms, key prefix, maxlen.
 * Returns {1 if this node was not listed (new, reaped, or Redis restarted), {"uid\\tusername"...} gone, {node...} reaped}.
 */
const HEARTBEAT = new Script(`${XADD_EVENT}
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fresh = redis.call('ZADD', KEYS[1], now, ARGV[1])
local gone = {}
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
for _, node in ipairs(dead) do
  local hash = ARGV[3] .. 'node:' .. node
  local sessions = redis.call('HGETALL', hash)
  for i = 1, #sessions, 2 do
    local who = sessions[i + 1]
    local uid = string.sub(who, 1, string.find(who, '\\t', 1, true) - 1)
    local userSessions = ARGV[3] .. 'sessions:' .. uid
    if redis.call('ZREM', userSessions, node .. '\\t' .. sessions[i]) == 1 and redis.call('ZCARD', userSessions) == 0 then
      redis.call('SREM', KEYS[2], uid)
      announce(KEYS[3], ARGV[4], ARGV[1], {t = 'offline', u = uid})
      table.insert(gone, who)
    end
  end
  redis.call('DEL', hash, ARGV[3] .. 'conns:' .. node, ARGV[3] .. 'keys:' .. node)
  redis.call('ZREM', KEYS[1], node)
end
return {fresh, gone, dead}`)

/** KEYS: this node's address hash. ARGV: address, +1 or -1. */
const COUNT_SOCKET = new Script(`
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n`)

/** KEYS: nodes zset. ARGV: key prefix, address. Live nodes only: a dead node's sockets are gone. */
const SUM_SOCKETS = new Script(`
local total = 0
for _, node in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  total = total + tonumber(redis.call('HGET', ARGV[1] .. 'conns:' .. node, ARGV[2]) or '0')
end
return total`)

/** KEYS: nodes zset. ARGV: key prefix, handshake key hash, user ID. Live nodes only. */
const HOLDS_KEY = new Script(`
for _, node in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('HGET', ARGV[1] .. 'keys:' .. node, ARGV[2]) == ARGV[3] then return 1 end
end
return 0`)

/** Handshake keys are kept in Redis only as hashes. */
const keyHash = (validatorKey: string) => new Bun.CryptoHasher('sha256').update(validatorKey).digest('hex')

/**
 * A node's registration in Redis: its sessions (with the hashes of their handshake keys, which
 * vouch for uploads on any node), its heartbeat, and the mirror of who is online anywhere.
 */
export class RedisRoster implements Roster {
  private readonly online = new Set<string>()
  private hub: Hub | undefined
  private bus: RedisBus | undefined
  private timer: Timer | undefined
  /** A write failed (Redis away): the next heartbeat writes this node's sessions again. */
  private dirty = false
  private beating: Promise<void> | undefined
  /** Presence writes in flight, awaited before a clean stop. */
  private readonly writes = new Set<Promise<unknown>>()
  private stopped = false
  private readonly reapedListeners: Array<(nodes: string[]) => void> = []
  private readonly rewrittenListeners: Array<() => Promise<void>> = []

  constructor(
    private readonly redis: RedisConnection,
    private readonly settings: ClusterSettings,
    private readonly log: Logger,
    /** Tells the other nodes (through the stream, in order with the broadcasts). */
    private readonly tell: (userId: string, change: SessionChange) => void,
  ) {}

  async start(hub: Hub, bus: RedisBus) {
    this.hub = hub
    this.bus = bus
    await this.reload()
    await this.beat()
    this.timer = setInterval(() => void this.beat(), Math.max(100, Math.floor(this.settings.nodeTimeoutMs / 5)))
  }

  /** Stops the heartbeat. With `cleanly`, this node's sessions leave Redis now instead of at the reaper. */
  async stop(cleanly = true) {
    this.stopped = true
    clearInterval(this.timer)
    await this.beating
    if (!cleanly) return
    await Promise.allSettled(this.writes)
    try {
      await this.reassert()
      await this.redis.send('ZREM', [this.key('nodes'), this.settings.nodeId])
    } catch (error) {
      this.log.warn(`redis: this node's sessions are left to the reaper: ${(error as Error)?.message ?? error}`)
    }
  }

  /** Calls `listener` each time this node wrote its sessions to Redis again (a new Redis, lost keys, a failed write). */
  onRewritten(listener: () => Promise<void>) {
    this.rewrittenListeners.push(listener)
  }

  /** Calls `listener` with the nodes this node's heartbeat reaped (only the reaping node hears of them). */
  onReaped(listener: (nodes: string[]) => void) {
    this.reapedListeners.push(listener)
  }

  has(userId: string) {
    return this.online.has(userId)
  }

  /** The nodes whose heartbeat Redis holds, this one included. */
  liveNodes(): Promise<string[]> {
    return this.redis.send('ZRANGE', [this.key('nodes'), '0', '-1'])
  }

  userIds() {
    return [...this.online]
  }

  async joined(session: Session): Promise<boolean> {
    this.write('HSET', [this.key(`keys:${this.settings.nodeId}`), keyHash(session.validatorKey), session.user!.id])
    try {
      const first = (await this.run(JOIN, session)) === 1
      this.online.add(session.user!.id)
      return first
    } catch (error) {
      return this.failed(error, this.hub?.sessionsOf(session.user!.id).length === 1)
    }
  }

  async left(session: Session): Promise<boolean> {
    this.write('HDEL', [this.key(`keys:${this.settings.nodeId}`), keyHash(session.validatorKey)])
    try {
      const last = (await this.run(LEAVE, session)) === 1
      if (last) this.online.delete(session.user!.id)
      return last
    } catch (error) {
      return this.failed(error, !this.hub?.isOnline(session.user!.id))
    }
  }

  socketOpened(address: string) {
    this.countSocket(address, 1)
  }

  socketClosed(address: string) {
    this.countSocket(address, -1)
  }

  async connectionsFrom(address: string): Promise<number> {
    try {
      return Number(await SUM_SOCKETS.run(this.redis, [this.key('nodes')], [this.settings.prefix, address]))
    } catch (error) {
      return this.failed(error, this.hub!.connectionsFrom(address))
    }
  }

  async holdsKey(userId: string, validatorKey: string): Promise<boolean> {
    try {
      return Number(await HOLDS_KEY.run(this.redis, [this.key('nodes')], [this.settings.prefix, keyHash(validatorKey), userId])) === 1
    } catch (error) {
      return this.failed(error, false)
    }
  }

  private countSocket(address: string, by: 1 | -1) {
    this.track(COUNT_SOCKET.run(this.redis, [this.key(`conns:${this.settings.nodeId}`)], [address, String(by)]))
  }

  private write(command: string, args: string[]) {
    this.track(this.redis.send(command, args))
  }

  /** A presence write nobody waits for: awaited before a clean stop; a failure marks this node's entries for rewriting. */
  private track(write: Promise<unknown>) {
    this.writes.add(write)
    void write.catch((error) => this.failed(error, 0)).finally(() => this.writes.delete(write))
  }

  /** The user's session that joined first, on any node (node, session ID). */
  async firstSession(userId: string): Promise<{ node: string; session: string } | undefined> {
    const [first]: string[] = await this.redis.send('ZRANGE', [this.key(`sessions:${userId}`), '0', '0'])
    if (first === undefined) return undefined
    const [node, session] = first.split('\t') as [string, string]
    return { node, session }
  }

  sessionsChanged(userId: string, change: SessionChange) {
    this.tell(userId, change)
    this.renamed(userId, change)
  }

  /** A renamed user's sessions on this node are announced under the new name if a reaper removes them. */
  renamed(userId: string, { username }: SessionChange) {
    if (username === undefined || !this.hub) return
    const fields = this.hub.sessionsOf(userId).flatMap((session) => [String(session.id), `${userId}\t${username}`])
    if (fields.length === 0) return
    this.write('HSET', [this.key(`node:${this.settings.nodeId}`), ...fields])
  }

  /** A control event from another node. */
  heard(event: { t: string; u?: unknown }) {
    if (typeof event.u !== 'string') return
    if (event.t === 'online') this.online.add(event.u)
    if (event.t === 'offline') this.online.delete(event.u)
  }

  /** After a Redis restart: everything is gone, so this node writes its sessions again, silently. */
  async restarted() {
    this.online.clear()
    this.dirty = true
    await this.beat()
  }

  private run(script: Script, session: Session): Promise<unknown> {
    const { id, username } = session.user!
    const node = this.settings.nodeId
    const write = script.run(
      this.redis,
      [this.key(`sessions:${id}`), this.key(`node:${node}`), this.key('online'), this.settings.stream],
      [`${node}\t${session.id}`, String(session.id), `${id}\t${username}`, id, String(this.settings.streamMaxLength), node],
    )
    this.writes.add(write)
    void write.catch(() => {}).finally(() => this.writes.delete(write))
    return write
  }

  /** Without Redis the local answer is the best there is; the sessions are written again once it is back. */
  private failed<T>(error: unknown, local: T): T {
    this.log.warn(`redis presence write failed: ${(error as Error)?.message ?? error}`)
    this.dirty = true
    return local
  }

  private beat(): Promise<void> {
    if (this.stopped) return Promise.resolve()
    this.beating ??= this.heartbeat().finally(() => (this.beating = undefined))
    return this.beating
  }

  private async heartbeat() {
    const { nodeId, nodeTimeoutMs, prefix, streamMaxLength, stream } = this.settings
    try {
      const [fresh, gone, reaped] = (await HEARTBEAT.run(this.redis, [this.key('nodes'), this.key('online'), stream], [nodeId, String(nodeTimeoutMs), prefix, String(streamMaxLength)])) as [number, string[], string[]]
      for (const who of gone) {
        const [id, username] = who.split('\t') as [string, string]
        this.online.delete(id)
        this.bus?.publish(topics.users, { cmd: 'user_disconnect', username })
      }
      if (gone.length > 0) this.log.info(`reaped ${gone.length} user(s) of nodes not seen for ${nodeTimeoutMs} ms`)
      if (reaped.length > 0) for (const listener of this.reapedListeners) listener(reaped)
      if (fresh === 1 || this.dirty) await this.reassert()
    } catch (error) {
      this.dirty = true
      this.log.debug(`redis heartbeat failed: ${(error as Error)?.message ?? error}`)
    }
  }

  /**
   * Makes Redis hold exactly this node's live sessions: those it lost are written again without
   * an announcement (their users never left), those closed while Redis was away leave now.
   */
  private async reassert() {
    const hub = this.hub!
    const live = new Map(hub.authenticatedSessions().map((session) => [String(session.id), session]))
    const held: Record<string, string> = (await this.redis.send('HGETALL', [this.key(`node:${this.settings.nodeId}`)])) ?? {}
    for (const [sid, who] of Object.entries(held)) {
      if (live.has(sid)) continue
      const [id, username] = who.split('\t') as [string, string]
      const gone = { id: Number(sid), user: { id, username, cracked: false } } as Session
      if ((await this.run(LEAVE, gone)) === 1) {
        this.online.delete(id)
        this.bus?.publish(topics.users, { cmd: 'user_disconnect', username })
      }
    }
    for (const [sid, session] of live) {
      if (held[sid] === undefined) await this.run(JOIN, session)
      this.online.add(session.user!.id)
    }
    const conns = this.key(`conns:${this.settings.nodeId}`)
    const counts = [...hub.addressCounts()].flatMap(([address, count]) => [address, String(count)])
    await this.redis.send('DEL', [conns])
    if (counts.length > 0) await this.redis.send('HSET', [conns, ...counts])
    const keys = this.key(`keys:${this.settings.nodeId}`)
    const holders = [...live.values()].flatMap((session) => [keyHash(session.validatorKey), session.user!.id])
    await this.redis.send('DEL', [keys])
    if (holders.length > 0) await this.redis.send('HSET', [keys, ...holders])
    for (const listener of this.rewrittenListeners) await listener()
    this.dirty = false
  }

  /** The mirror of who is online, read again from Redis (at start, and after missed events). */
  async reload() {
    const members: string[] = await this.redis.send('SMEMBERS', [this.key('online')])
    this.online.clear()
    for (const id of members) this.online.add(id)
  }

  private key(name: string) {
    return this.settings.prefix + name
  }
}
