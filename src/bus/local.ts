import type { Server } from 'bun'
import type { Packet } from '../protocol/errors.ts'
import type { Session } from '../net/session.ts'
import type { Bus } from './types.ts'

/** Single node: Bun fans each publish out in native code; no JavaScript loop over sockets. */
export class LocalBus implements Bus {
  private server: Server<Session> | undefined

  attach(server: Server<Session>) {
    this.server = server
  }

  publish(topic: string, packet: Packet, except?: Session) {
    const data = JSON.stringify(packet)
    // ws.publish skips the publishing socket itself, which is how "everyone but the caller" is expressed.
    if (except) except.ws.publish(topic, data)
    else this.server?.publish(topic, data)
    return data
  }

  subscribe(session: Session, topic: string) {
    session.ws.subscribe(topic)
  }

  unsubscribe(session: Session, topic: string) {
    session.ws.unsubscribe(topic)
  }
}
