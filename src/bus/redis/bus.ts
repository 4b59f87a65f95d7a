import type { StreamWriter } from '../../cluster/stream.ts'
import type { Session } from '../../net/session.ts'
import { topics } from '../../net/topics.ts'
import type { Packet } from '../../protocol/errors.ts'
import type { LocalBus } from '../local.ts'
import type { Bus } from '../types.ts'

/**
 * Several nodes: this node's sockets get each publish at once through Bun, the other nodes
 * through the Redis stream, which carries the frame serialized once, as sent. The heartbeat
 * topic stays on each node.
 */
export class RedisBus implements Bus {
  constructor(
    readonly local: LocalBus,
    private readonly writer: StreamWriter,
  ) {}

  publish(topic: string, packet: Packet, except?: Session): string {
    const data = this.local.publish(topic, packet, except)
    if (topic !== topics.sockets) this.writer.frame(topic, data)
    return data
  }

  /** A frame another node published, for this node's subscribers. */
  deliver(topic: string, frame: string) {
    this.local.publishFrame(topic, frame)
  }

  subscribe(session: Session, topic: string) {
    this.local.subscribe(session, topic)
  }

  unsubscribe(session: Session, topic: string) {
    this.local.unsubscribe(session, topic)
  }
}
