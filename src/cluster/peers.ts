import type { Logger } from '../log.ts'
import type { Packet } from '../protocol/errors.ts'
import type { StreamWriter } from './stream.ts'
import type { Peers, SessionChange } from './types.ts'
import type { SlashEvent } from './slash.ts'
import type { VoiceEvent } from './voice.ts'

/** Control events on the stream, in order with the broadcasts around them. */
export type ControlEvent =
  | { t: 'online' | 'offline'; u: string }
  | { t: 'disconnect'; u: string; p?: Packet }
  | { t: 'refresh'; u: string[] | 'all' }
  | { t: 'invalidate'; s: string }
  | { t: 'session'; u: string; c: SessionChange }
  /** For node `n` only: send `p` to its session `s` of user `u` (or to its first one if that closed). */
  | { t: 'first'; n: string; s: string; u: string; p: Packet }
  | VoiceEvent
  | SlashEvent

export class StreamPeers implements Peers {
  constructor(
    private readonly writer: StreamWriter,
    private readonly nodeId: string,
    /** The user's session that joined first, on any node, from Redis. */
    private readonly locate: (userId: string) => Promise<{ node: string; session: string } | undefined>,
    /** Sends to this node's session (or, if it closed meanwhile, to the user's first one here). */
    private readonly deliverHere: (userId: string, sessionId: string | undefined, packet: Packet) => void,
    private readonly log: Logger,
  ) {}

  toFirstConnection(userId: string, packet: Packet) {
    this.locate(userId).then(
      (found) => {
        if (found?.node === this.nodeId) this.deliverHere(userId, found.session, packet)
        else if (found) this.send({ t: 'first', n: found.node, s: found.session, u: userId, p: packet })
      },
      (error) => {
        this.log.warn(`redis: could not find the first connection of ${userId}; told its first one on this node, if any: ${(error as Error)?.message ?? error}`)
        this.deliverHere(userId, undefined, packet)
      },
    )
  }

  disconnectUser(userId: string, packet?: Packet) {
    this.send({ t: 'disconnect', u: userId, ...(packet ? { p: packet } : {}) })
  }

  refreshUsers(userIds: string[] | 'all') {
    if (userIds === 'all' || userIds.length > 0) this.send({ t: 'refresh', u: userIds })
  }

  sessionsChanged(userId: string, change: SessionChange) {
    this.send({ t: 'session', u: userId, c: change })
  }

  invalidate(scope: string) {
    this.send({ t: 'invalidate', s: scope })
  }

  private send(event: ControlEvent) {
    this.writer.event(event)
  }
}
