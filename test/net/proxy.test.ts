import { expect, test } from 'bun:test'
import { startServer } from '../helpers/server.ts'

/** Opens a socket with these headers: true once the handshake arrives, false if refused. */
function opens(url: string, forwardedFor: string): Promise<boolean> {
  const ws = new WebSocket(url, { headers: { 'X-Forwarded-For': forwardedFor } } as unknown as string[])
  return new Promise((resolve) => {
    ws.addEventListener('message', () => resolve(true), { once: true })
    ws.addEventListener('close', () => resolve(false), { once: true })
  })
}

test.concurrent('behind a trusted proxy, per-address limits use the address the proxy forwarded', async () => {
  await using server = await startServer({ security: { max_connections_per_ip: 1, trust_proxy: true } })
  // A client may send its own X-Forwarded-For; the proxy appends the real address last.
  expect(await opens(server.url, '127.0.0.9, 127.0.0.2')).toBe(true)
  expect(await opens(server.url, '127.0.0.3')).toBe(true)
  expect(await opens(server.url, '127.0.0.7, 127.0.0.2')).toBe(false)
})

test.concurrent('without trust_proxy the header is ignored: every socket counts against the peer', async () => {
  await using server = await startServer({ security: { max_connections_per_ip: 1 } })
  expect(await opens(server.url, '127.0.0.2')).toBe(true)
  expect(await opens(server.url, '127.0.0.3')).toBe(false)
})
