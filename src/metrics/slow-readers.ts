import type { Session } from '../net/session.ts'

/** Close code Bun reports when a socket ends without a close frame. */
const ABNORMAL_CLOSURE = 1006

/**
 * Tells which closed sockets were readers too slow for `websocket.backpressure_limit`.
 *
 * Bun gives no direct sign: it closes such a socket with 1006, exactly as when a peer vanishes,
 * frees the send buffer before the close handler runs, and a publish reports success even when
 * Bun drops the frame for one subscriber later in the same turn. So buffers are looked at from
 * time to time instead: a socket that held more than half the limit at its last check and then
 * closes abnormally counts as a slow reader. One that fills and is dropped between two checks is
 * missed, which is why checks are frequent and also run at every scrape.
 */
export class SlowReaders {
  private readonly backlogged = new WeakSet<Session>()

  constructor(
    private readonly sockets: () => Iterable<Session>,
    /** The limit in bytes (config `websocket.backpressure_limit`). */
    private readonly limit: () => number,
  ) {}

  /** Looks at every open socket's send buffer: a native call each, no allocation. */
  check() {
    const threshold = this.limit() / 2
    for (const session of this.sockets()) {
      if (session.ws.getBufferedAmount() > threshold) this.backlogged.add(session)
      else this.backlogged.delete(session)
    }
  }

  /** Whether this close was the server dropping a slow reader. */
  droppedSlow(session: Session, code: number): boolean {
    return code === ABNORMAL_CLOSURE && this.backlogged.has(session)
  }
}
