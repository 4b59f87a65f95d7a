import type { Session } from '../net/session.ts'
import type { Packet } from '../protocol/errors.ts'

/**
 * Who is online across every node. Alone, a node's Hub knows; in a cluster, Redis counts each
 * user's sessions so that `user_connect` and `user_disconnect` are announced once in all.
 */
export interface Roster {
  /** Counts the authenticated session; true when it is the user's first on any node. */
  joined(session: Session): Promise<boolean>
  /** Uncounts it; true when it was the user's last on any node. */
  left(session: Session): Promise<boolean>
  /** Whether the user has a session on any node (a local mirror, no round trip). */
  has(userId: string): boolean
  userIds(): string[]
  /** Sockets per client address are counted over every node, for `security.max_connections_per_ip`. */
  socketOpened(address: string): void
  socketClosed(address: string): void
  connectionsFrom(address: string): Promise<number>
  /** The user's live sessions changed what they carry (Hub.updateSessions): the other nodes follow. */
  sessionsChanged(userId: string, change: SessionChange): void
  /** Whether a live authenticated session of the user, on any node, was handed this handshake key (uploads may reach any node). */
  holdsKey(userId: string, validatorKey: string): Promise<boolean>
}

/** What a user's live sessions carry that a command may change: the name they announce when they close, the status last set. */
export interface SessionChange {
  username?: string
  status?: string
}

/**
 * What a change on one node asks of the others. Alone there are no others and the caller's own
 * plain calls (Hub.disconnectUser, Hub.refreshUsers) are all there is.
 */
export interface Peers {
  /** The other nodes send `packet` to the user's sockets and close them (a ban, a deletion). */
  disconnectUser(userId: string, packet?: Packet): void
  /** The other nodes recompute the channel subscriptions of these users' sockets, or everyone's. */
  refreshUsers(userIds: string[] | 'all'): void
  /** The user has no socket on this node: the node holding one of theirs sends `packet` to it. */
  toFirstConnection(userId: string, packet: Packet): void
  /** The other nodes drop what they cached of `scope` (store caches). */
  invalidate(scope: string): void
}
