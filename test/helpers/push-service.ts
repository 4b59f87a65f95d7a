import type { Server } from 'bun'
import { createECDH } from 'node:crypto'

/** http_ece ships no types; this is the one call the tests use (RFC 8188 decryption). */
const ece: { decrypt(body: Buffer, params: { version: 'aes128gcm'; privateKey: ReturnType<typeof createECDH>; authSecret: string }): Buffer } = require('http_ece')

export interface PushRequest {
  path: string
  headers: Headers
  body: Buffer
}

/** How a path answers: a status, or never (until the service stops). */
export type Answer = number | 'hang'

/**
 * Plays a browser's push service on loopback: records every request and answers each path as
 * told (201 by default). `next(path)` waits for that path's next request.
 */
export interface FakePushService {
  origin: string
  answers: Map<string, Answer>
  /** Requests taken by nobody yet, oldest first. */
  pending: PushRequest[]
  next(path: string): Promise<PushRequest>
  /** How many requests each path received so far. */
  count(path: string): number
  stop(): Promise<void>
}

export function startFakePushService(): FakePushService {
  const waiters: Array<{ path: string; resolve: (r: PushRequest) => void }> = []
  const hanging: Array<() => void> = []
  const counts = new Map<string, number>()
  let server: Server<undefined>
  const service: FakePushService = {
    origin: '',
    answers: new Map(),
    pending: [],
    next(path) {
      const index = service.pending.findIndex((r) => r.path === path)
      if (index >= 0) return Promise.resolve(service.pending.splice(index, 1)[0]!)
      return new Promise((resolve) => waiters.push({ path, resolve }))
    },
    count: (path) => counts.get(path) ?? 0,
    async stop() {
      for (const release of hanging) release()
      await server.stop(true)
    },
  }
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname
      const received: PushRequest = { path, headers: request.headers, body: Buffer.from(await request.arrayBuffer()) }
      counts.set(path, (counts.get(path) ?? 0) + 1)
      const waiter = waiters.find((w) => w.path === path)
      if (waiter) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(received)
      } else service.pending.push(received)
      const answer = service.answers.get(path) ?? 201
      if (answer === 'hang') await new Promise<void>((resolve) => hanging.push(resolve))
      return new Response(null, { status: answer === 'hang' ? 201 : answer })
    },
  })
  service.origin = `http://127.0.0.1:${server.port}`
  return service
}

/** A browser's side of a subscription: the JSON it sends, and what only it can do (decrypt). */
export interface BrowserSubscription {
  subscription: { endpoint: string; keys: { p256dh: string; auth: string } }
  decrypt(body: Buffer): unknown
}

export function browserSubscription(service: FakePushService, path: string): BrowserSubscription {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  const auth = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url')
  return {
    subscription: { endpoint: `${service.origin}${path}`, keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth } },
    decrypt: (body) => JSON.parse(ece.decrypt(body, { version: 'aes128gcm', privateKey: ecdh, authSecret: auth }).toString('utf8')),
  }
}

/**
 * Checks a VAPID `Authorization: vapid t=<JWT>, k=<key>` header (RFC 8292): the key is the
 * server's, the ES256 signature verifies with it; returns the JWT claims.
 */
export async function vapidClaims(header: string | null, serverKey: string): Promise<Record<string, unknown>> {
  const match = /^vapid t=([^,]+), k=(.+)$/.exec(header ?? '')
  if (!match) throw new Error(`not a VAPID header: ${header}`)
  const [, jwt, key] = match
  if (key !== serverKey) throw new Error('VAPID header carries another key')
  const [head, claims, signature] = jwt!.split('.')
  const publicKey = await crypto.subtle.importKey('raw', Buffer.from(serverKey, 'base64url'), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify'])
  const valid = await crypto.subtle.verify(
    { name: 'ECDSA', hash: 'SHA-256' },
    publicKey,
    Buffer.from(signature!, 'base64url'),
    new TextEncoder().encode(`${head}.${claims}`),
  )
  if (!valid) throw new Error('VAPID signature does not verify with the server key')
  return JSON.parse(Buffer.from(claims!, 'base64url').toString('utf8'))
}
