import type { Server, ServerWebSocket } from 'bun'
import type { Logger } from '../log.ts'
import type { Router } from '../protocol/router.ts'
import { handshakePacket } from './handshake.ts'
import { type HttpDeps, handleHttp, jsonResponse } from './http.ts'
import { CloseCode } from './hub.ts'
import type { Presence } from './presence.ts'
import { FrameQueue } from './frame-queue.ts'
import { deviceOf } from '../push/fingerprint.ts'
import { newSession, type Session } from './session.ts'
import type { TlsFiles } from './tls.ts'

export interface NetDeps extends HttpDeps {
  router: Router
  presence: Presence
  log: Logger
  capabilities: readonly string[]
}

/** Bun.serve with the WebSocket on `/` and the HTTP routes beside it; handlers only forward. */
/** With `tls` (PEM certificate and key), HTTPS and wss:// on the same port. */
export function startServer(deps: NetDeps, port: number, tls?: TlsFiles): Server<Session> {
  const { hub, router, presence, log } = deps
  const ws = deps.config().websocket
  return Bun.serve<Session>({
    hostname: ws.host,
    port,
    tls,
    // Routes that read a body bound it themselves (an upload streams up to attachments.max_size
    // and answers 413 with the limit): Bun's own limit would cut them off with a bare 413 first.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    async fetch(request, server) {
      const peer = server.requestIP(request)?.address ?? 'unknown'
      const address = clientAddress(request, peer, deps.config().security.trust_proxy)
      if (request.headers.get('upgrade')?.toLowerCase() === 'websocket') {
        if (new URL(request.url).pathname !== '/') return jsonResponse({ error: 'Not found' }, 404)
        const counted = hub.connectionsAnywhere(address)
        // Alone the count is at hand; only a cluster's sum over nodes is waited for.
        const open = typeof counted === 'number' ? counted : await counted
        if (open >= deps.config().security.max_connections_per_ip) {
          log.warn(`refused connection from ${address}: too many connections`)
          return jsonResponse({ error: 'Too many connections from this address' }, 429)
        }
        if (server.upgrade(request, { data: { ...newSession(address), device: deviceOf(request, peer, deps.config().security.trust_proxy), server } as Session })) return undefined
        return jsonResponse({ error: 'WebSocket upgrade failed' }, 400)
      }
      return handleHttp(request, deps, address)
    },
    websocket: {
      maxPayloadLength: ws.max_payload,
      backpressureLimit: ws.backpressure_limit,
      closeOnBackpressureLimit: true,
      idleTimeout: ws.idle_timeout,
      sendPings: true,
      open(socket: ServerWebSocket<Session>) {
        const session = socket.data
        session.ws = socket
        session.frames = new FrameQueue((frame) => router.dispatch(session, frame))
        hub.opened(session)
        log.info(`connection ${session.id} opened from ${session.address}`)
        const config = deps.config()
        hub.send(session, handshakePacket(config, session.validatorKey, deps.capabilities, deps.assets.server(config)))
      },
      message(socket: ServerWebSocket<Session>, frame: string | Buffer) {
        if (!socket.data.frames.push(frame)) socket.close(CloseCode.policy, 'Too many pending requests')
      },
      close(socket: ServerWebSocket<Session>, code: number) {
        deps.metrics.socketClosed(socket.data, code)
        presence.closed(socket.data, code)
      },
    },
  })
}

/** The address limits apply to: the peer, or with `trust_proxy` the proxy's last X-Forwarded-For entry. */
function clientAddress(request: Request, peer: string, trustProxy: boolean): string {
  if (!trustProxy) return peer
  const forwarded = request.headers.get('x-forwarded-for')?.split(',').at(-1)?.trim()
  return forwarded || peer
}
