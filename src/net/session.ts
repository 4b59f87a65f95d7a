import type { Server, ServerWebSocket } from 'bun'
import type { DeviceInfo } from '../push/fingerprint.ts'
import type { FrameQueue } from './frame-queue.ts'

export interface SessionUser {
  id: string
  username: string
  /** Logged in with a local ("cracked") account. */
  cracked: boolean
}

/** Per-connection state, stored in `ws.data`. */
export interface Session {
  id: number
  address: string
  /** Per connection (latest upstream): the client hands it to Rotur to mint a validator. */
  validatorKey: string
  user: SessionUser | null
  /** Channel names this socket is subscribed to; kept equal to what its user may view. */
  channels: Set<string>
  /** The status last set from this connection (`online` until then): decides the presence packets of `status_set`. */
  status: string
  /** Frames start one at a time per connection, in arrival order (see Router.dispatch). */
  frames: FrameQueue<string | Buffer>
  /** Settles when every answer of the frames started so far has been sent, in order. */
  answered: Promise<void>
  ws: ServerWebSocket<Session>
  /** Who the upgrade request said the device is (push subscriptions are kept one per device). */
  device?: DeviceInfo
  /** The listener the socket arrived on (there may be older ones after a TLS renewal, see LocalBus). */
  server?: Server<Session>
}

let nextId = 1

export function newSession(address: string): Omit<Session, 'ws' | 'frames'> {
  const token = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString('base64url')
  return {
    id: nextId++,
    address,
    validatorKey: `originChats-${token}`,
    user: null,
    channels: new Set(),
    status: 'online',
    answered: Promise.resolve(),
  }
}
