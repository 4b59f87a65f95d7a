import { channelAllows } from '../auth/permissions.ts'
import { sameSecret } from '../auth/secrets.ts'
import type { Bus } from '../bus/types.ts'
import type { Roster, SessionChange } from '../cluster/types.ts'
import type { Packet } from '../protocol/errors.ts'
import type { ChannelRecord, Store } from '../store/types.ts'
import type { Session, SessionUser } from './session.ts'
import { topics } from './topics.ts'

/** Close codes the server uses. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  policy: 1008,
  /** Cluster mode: this node missed broadcasts (docs/cluster.md, Faults); the client should reconnect and reload. */
  resync: 4000,
} as const

/**
 * The live connections: who is online, how many sockets each address holds, and which channel
 * topics each socket is subscribed to. Subscriptions always equal what the user may view now,
 * so channel broadcasts need no per-recipient check.
 */
export class Hub {
  readonly sockets = new Set<Session>()
  private readonly byUser = new Map<string, Set<Session>>()
  private readonly perAddress = new Map<string, number>()
  private readonly accessWatchers: Array<(session: Session, visible: ChannelRecord[]) => void> = []

  constructor(
    private readonly bus: Bus,
    private readonly store: Store,
    /** Cluster mode: who is online on the other nodes too. */
    private readonly roster?: Roster,
  ) {}

  connectionsFrom(address: string) {
    return this.perAddress.get(address) ?? 0
  }

  /** Over every node in a cluster; this node's count alone otherwise. */
  connectionsAnywhere(address: string): number | Promise<number> {
    return this.roster ? this.roster.connectionsFrom(address) : this.connectionsFrom(address)
  }

  /** Open sockets per client address on this node. */
  addressCounts(): Map<string, number> {
    return new Map(this.perAddress)
  }

  opened(session: Session) {
    this.sockets.add(session)
    this.perAddress.set(session.address, this.connectionsFrom(session.address) + 1)
    this.roster?.socketOpened(session.address)
    this.bus.subscribe(session, topics.sockets)
  }

  /**
   * Registers the socket as `user`'s. Returns whether it is the user's first live connection, or
   * undefined when the socket closed while authentication was in flight (nothing is registered).
   */
  async authenticated(session: Session, user: SessionUser): Promise<boolean | undefined> {
    if (!this.sockets.has(session)) return undefined
    session.user = user
    let mine = this.byUser.get(user.id)
    const first = !mine
    if (!mine) this.byUser.set(user.id, (mine = new Set()))
    mine.add(session)
    this.bus.subscribe(session, topics.users)
    this.bus.subscribe(session, topics.user(user.id))
    await this.refreshSession(session)
    return first
  }

  /** Returns the user whose last connection this was, if any. */
  closed(session: Session): SessionUser | undefined {
    if (!this.sockets.delete(session)) return undefined
    this.roster?.socketClosed(session.address)
    const left = this.connectionsFrom(session.address) - 1
    if (left > 0) this.perAddress.set(session.address, left)
    else this.perAddress.delete(session.address)
    const user = session.user
    if (!user) return undefined
    const mine = this.byUser.get(user.id)
    mine?.delete(session)
    if (mine && mine.size === 0) {
      this.byUser.delete(user.id)
      return user
    }
    return undefined
  }

  sessionsOf(userId: string): Session[] {
    return [...(this.byUser.get(userId) ?? [])]
  }

  /** On any node. */
  isOnline(userId: string) {
    return this.byUser.has(userId) || (this.roster?.has(userId) ?? false)
  }

  /** Users with a connection on any node (this node's alone, outside a cluster). */
  onlineAnywhere(): string[] {
    return this.roster ? [...new Set([...this.byUser.keys(), ...this.roster.userIds()])] : this.onlineUserIds()
  }

  /** Whether one of the user's authenticated connections, on any node, was handed this handshake key. */
  async holdsKey(userId: string, validatorKey: string): Promise<boolean> {
    const here = this.sessionsOf(userId).some((session) => session.user !== null && sameSecret(session.validatorKey, validatorKey))
    return here || ((await this.roster?.holdsKey(userId, validatorKey)) ?? false)
  }

  /** Users with a connection on this node. */
  onlineUserIds(): string[] {
    return [...this.byUser.keys()]
  }

  /** Authenticated connections in connection order, one entry per socket. */
  authenticatedSessions(): Session[] {
    return [...this.sockets].filter((s) => s.user !== null)
  }

  /** Hears the channels a socket may view each time they are recomputed, so other features keep their topics in step. */
  onAccess(watcher: (session: Session, visible: ChannelRecord[]) => void) {
    this.accessWatchers.push(watcher)
  }

  send(session: Session, packet: Packet) {
    session.ws.send(JSON.stringify(packet))
  }

  /** A rename or a status for every live session of the user, on every node in a cluster. */
  updateSessions(userId: string, change: SessionChange) {
    this.applySessionChange(userId, change)
    this.roster?.sessionsChanged(userId, change)
  }

  /** The same on this node alone (what another node's change asks of this one). */
  applySessionChange(userId: string, { username, status }: SessionChange) {
    for (const session of this.sessionsOf(userId)) {
      if (username !== undefined && session.user) session.user.username = username
      if (status !== undefined) session.status = status
    }
  }

  /** Recompute channel subscriptions for every socket of these users (after role changes). */
  async refreshUsers(userIds: Iterable<string>) {
    for (const id of userIds) for (const session of this.sessionsOf(id)) await this.refreshSession(session)
  }

  /** Recompute for everyone (after channel changes). */
  async refreshAll() {
    for (const session of this.authenticatedSessions()) await this.refreshSession(session)
  }

  /** Sends each of the user's sockets `packet` (when given), then closes them. */
  disconnectUser(userId: string, packet: Packet | undefined, code: number = CloseCode.normal, reason = '') {
    for (const session of this.sessionsOf(userId)) {
      if (packet) this.send(session, packet)
      session.ws.close(code, reason)
    }
  }

  private async refreshSession(session: Session) {
    if (!session.user) return
    const user = await this.store.users.get(session.user.id)
    const roles = user?.roles ?? []
    // Routing uses the general evaluator on `view` (data.md §4.3 A), as upstream's broadcast does.
    const viewable = (await this.store.channels.list()).filter((channel) => channelAllows(channel, 'view', roles))
    const visible = new Set(viewable.map((channel) => channel.name))
    for (const name of session.channels) {
      if (!visible.has(name)) this.bus.unsubscribe(session, topics.channel(name))
    }
    for (const name of visible) {
      if (!session.channels.has(name)) this.bus.subscribe(session, topics.channel(name))
    }
    session.channels = visible
    for (const watcher of this.accessWatchers) watcher(session, viewable)
  }
}
