#!/usr/bin/env bun
/**
 * The thinnest OriginChats-shaped pub/sub server: the yardstick for bench/run.ts. No storage, no
 * permissions, no validation. Every authenticated socket is subscribed to `general`, and each
 * `message_new` is published to that topic with `server.publish`, so the sender receives it too,
 * exactly as our server echoes a message to its author.
 *
 *   bun bench/reference-server.ts [--port N] [--backpressure BYTES]
 *
 * Prints `reference serving on ws://HOST:PORT/` once listening; SIGINT/SIGTERM stop it.
 */
import { parseArgs } from 'node:util'

interface Conn {
  username: string | null
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { port: { type: 'string', default: '0' }, backpressure: { type: 'string', default: String(64 * 1024 * 1024) } },
})

const TOPIC = 'general'
let nextId = 0

const server = Bun.serve<Conn>({
  hostname: '127.0.0.1',
  port: Number(values.port),
  fetch(request, srv) {
    if (srv.upgrade(request, { data: { username: null } })) return undefined
    return new Response('not found', { status: 404 })
  },
  websocket: {
    backpressureLimit: Number(values.backpressure),
    closeOnBackpressureLimit: true,
    open(ws) {
      ws.send(JSON.stringify({ cmd: 'handshake', val: { version: '1.1.0', validator_key: `reference-${crypto.randomUUID()}` } }))
    },
    message(ws, frame) {
      let packet: { cmd?: unknown; validator?: unknown; content?: unknown }
      try {
        packet = JSON.parse(String(frame))
      } catch {
        return
      }
      if (packet.cmd === 'auth') {
        // Trusts the validator as the username: the bench's fake Rotur does the same.
        const username = typeof packet.validator === 'string' ? packet.validator : 'anonymous'
        ws.data.username = username
        ws.send(JSON.stringify({ cmd: 'auth_success', val: 'Authentication successful' }))
        ws.send(JSON.stringify({ cmd: 'ready', user: { username } }))
        ws.subscribe(TOPIC)
        return
      }
      if (packet.cmd === 'message_new' && ws.data.username !== null) {
        const message = { user: ws.data.username, content: packet.content, id: `ref-${nextId++}`, timestamp: Date.now() / 1000 }
        server.publish(TOPIC, JSON.stringify({ cmd: 'message_new', message, channel: TOPIC, global: true }))
      }
    },
  },
})

console.log(`reference serving on ws://127.0.0.1:${server.port}/`)

const stop = () => {
  server.stop(true)
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
