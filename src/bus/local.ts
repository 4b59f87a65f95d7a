import type { Server } from 'bun'
import type { Packet } from '../protocol/errors.ts'
import type { Session } from '../net/session.ts'
import type { Bus } from './types.ts'

/** Single node: Bun fans each publish out in native code; no JavaScript loop over sockets. */
export class LocalBus implements Bus {
  /**
   * Usually one. A TLS certificate renewal starts a new listener while sockets opened on the
   * old one stay there (net/tls.ts); Bun's topics are per server, so each gets the publish.
   */
  private servers: Server<Session>[] = []

  /** `delivered` hears how many sockets each publish reached (for metrics). */
  constructor(private readonly delivered?: (frames: number) => void) {}

  attach(server: Server<Session>) {
    this.servers.push(server)
  }

  detach(server: Server<Session>) {
    this.servers = this.servers.filter((s) => s !== server)
  }

  publish(topic: string, packet: Packet, except?: Session) {
    const data = JSON.stringify(packet)
    // ws.publish skips the publishing socket itself, which is how "everyone but the caller" is expressed.
    if (except) except.ws.publish(topic, data)
    for (const server of this.servers) {
      if (!except || (this.servers.length > 1 && except.server !== server)) server.publish(topic, data)
    }
    this.delivered?.(this.recipients(topic, except))
    return data
  }

  /** A frame already serialized (by another node): to every subscriber here, as is. */
  publishFrame(topic: string, data: string) {
    for (const server of this.servers) server.publish(topic, data)
    this.delivered?.(this.recipients(topic))
  }

  /** Every subscriber on every listener, less `except` itself: a hash lookup per listener, no loop over sockets. */
  private recipients(topic: string, except?: Session): number {
    let count = 0
    for (const server of this.servers) count += server.subscriberCount(topic)
    return except?.ws.isSubscribed(topic) ? count - 1 : count
  }

  subscribe(session: Session, topic: string) {
    session.ws.subscribe(topic)
  }

  unsubscribe(session: Session, topic: string) {
    session.ws.unsubscribe(topic)
  }
}
