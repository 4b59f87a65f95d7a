import { expect, test } from 'bun:test'
import { startServer, type TestServer } from '../helpers/server.ts'

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS, POST',
  'access-control-allow-headers': 'Content-Type, Authorization, Range',
  'access-control-expose-headers': 'Content-Length, Content-Type, Cache-Control',
}

/** HTTP is served on the WebSocket's address. */
const httpUrl = (server: TestServer, path: string) => new URL(path, server.url.replace(/^ws/, 'http')).href

function expectCors(response: Response) {
  for (const [name, value] of Object.entries(CORS)) expect(response.headers.get(name)).toBe(value)
}

test.concurrent('GET /info is a pretty-printed public server card with live counts', async () => {
  await using server = await startServer({ server: { name: 'Info Test', icon: 'https://example.com/i.png' } })
  await server.addChannel({ name: 'random', type: 'text', permissions: { view: ['user'] } })
  await server.addChannel({ name: '', type: 'separator', size: 10 } as any)
  await server.login('alice')
  await server.login('alice')
  await server.login('bob')
  await (await server.login('carol')).close()
  await server.connect() // unauthenticated, still connected

  const response = await fetch(httpUrl(server, '/info'))
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toStartWith('application/json')
  expectCors(response)
  const text = await response.text()
  const body = JSON.parse(text)
  expect(text).toBe(JSON.stringify(body, null, 2))
  expect(body).toEqual({
    server: { name: 'Info Test', icon: 'https://example.com/i.png', banner: '', owner: { name: 'owner' } },
    stats: { total_users: 3, connected_users: 4, online_users: 2, total_channels: 3, total_roles: 4 },
  })
})

test.concurrent('GET /info on a fresh server', async () => {
  await using server = await startServer()
  const body = await (await fetch(httpUrl(server, '/info'))).json()
  expect(body).toEqual({
    server: { name: 'Test Server', icon: '', banner: '', owner: { name: 'owner' } },
    stats: { total_users: 0, connected_users: 0, online_users: 0, total_channels: 1, total_roles: 4 },
  })
})

test.concurrent('OPTIONS on any path is a 204 preflight with CORS headers', async () => {
  await using server = await startServer()
  for (const path of ['/info', '/attachments/upload', '/anything/at/all']) {
    const response = await fetch(httpUrl(server, path), { method: 'OPTIONS' })
    expect(response.status).toBe(204)
    expectCors(response)
    expect(await response.text()).toBe('')
  }
})

test.concurrent('unknown GET paths are a JSON 404 with CORS headers', async () => {
  await using server = await startServer()
  for (const path of ['/nope', '/info/extra', '/index.php']) {
    const response = await fetch(httpUrl(server, path))
    expect(response.status).toBe(404)
    expect(response.headers.get('content-type')).toStartWith('application/json')
    expectCors(response)
    expect(await response.json()).toEqual({ error: 'Not found' })
  }
})

test.concurrent('GET /health is 200 while the database answers, 503 once it does not', async () => {
  await using server = await startServer()
  await server.login('alice')
  await server.connect()
  const response = await fetch(httpUrl(server, '/health'))
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe('application/json')
  expectCors(response)
  expect(await response.json()).toEqual({ status: 'ok', uptime_seconds: expect.any(Number), connections: 2 })

  server.app.store.close()
  const failing = await fetch(httpUrl(server, '/health'))
  expect(failing.status).toBe(503)
  expectCors(failing)
  expect(await failing.json()).toEqual({ status: 'error', error: 'database unavailable', uptime_seconds: expect.any(Number), connections: 2 })
})

test.concurrent('GET / in a browser is a page naming the server and its WebSocket address', async () => {
  const name = '<script>alert("hi")</script> & friends'
  await using server = await startServer({ server: { name, icon: 'https://example.com/icon.png?a=1&b="2"' } })
  for (const path of ['/', '/index.html']) {
    const response = await fetch(httpUrl(server, path))
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(response.headers.get('content-security-policy')).toBe("default-src 'none'; img-src http: https:; style-src 'unsafe-inline'")
    expectCors(response)
    const html = await response.text()
    expect(html).toContain('<title>&lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt; &amp; friends</title>')
    expect(html).not.toContain('<script>')
    expect(html).toContain('<img src="https://example.com/icon.png?a=1&amp;b=&quot;2&quot;"')
    expect(html).toContain(`<code>${server.url}</code>`)
    expect(html).toContain('<a href="/info">')
  }
  const head = await fetch(httpUrl(server, '/'), { method: 'HEAD' })
  expect(head.status).toBe(200)
  expect(head.headers.get('content-type')).toBe('text/html; charset=utf-8')
  expect(await head.text()).toBe('')
  // The same path still upgrades WebSockets.
  await using client = await server.connect()
  expect(client.handshake.cmd).toBe('handshake')
})
