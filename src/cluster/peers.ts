import type { Packet } from '../protocol/errors.ts'
import type { StreamWriter } from './stream.ts'
import type { Peers } from './types.ts'

/** Control events on the stream, in order with the broadcasts around them. */
export type ControlEvent =
  | { t: 'online' | 'offline'; u: string }
  | { t: 'disconnect'; u: string; p?: Packet }
  | { t: 'refresh'; u: string[] | 'all' }
  | { t: 'invalidate'; s: string }

export class StreamPeers implements Peers {
  constructor(private readonly writer: StreamWriter) {}

  disconnectUser(userId: string, packet?: Packet) {
    this.send({ t: 'disconnect', u: userId, ...(packet ? { p: packet } : {}) })
  }

  refreshUsers(userIds: string[] | 'all') {
    if (userIds === 'all' || userIds.length > 0) this.send({ t: 'refresh', u: userIds })
  }

  invalidate(scope: string) {
    this.send({ t: 'invalidate', s: scope })
  }

  private send(event: ControlEvent) {
    this.writer.event(event)
  }
}
