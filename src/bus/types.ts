import type { Packet } from '../protocol/errors.ts'
import type { Session } from '../net/session.ts'

/**
 * The broadcast seam. The local driver hands topics to Bun's native pub/sub; a Redis driver
 * would additionally forward each publish to the other nodes. Only topic names from
 * `net/topics.ts` are used.
 */
export interface Bus {
  /**
   * Serializes once and delivers to every subscriber of `topic`, except `except` when given.
   * Returns the frame as sent, so a caller's own copy can reuse it.
   */
  publish(topic: string, packet: Packet, except?: Session): string
  subscribe(session: Session, topic: string): void
  unsubscribe(session: Session, topic: string): void
}
