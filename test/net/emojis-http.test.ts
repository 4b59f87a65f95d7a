import { expect, test } from 'bun:test'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { GIF, PNG, dataUri } from '../helpers/images.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const base = (server: TestServer) => server.url.replace(/^ws/, 'http').replace(/\/$/, '')

/** Sends the path byte for byte (fetch would resolve `..` itself); the status line and body. */
async function rawGet(server: TestServer, path: string): Promise<{ status: number; body: string }> {
  const { promise, resolve } = Promise.withResolvers<string>()
  let received = ''
  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port: server.app.port,
    socket: {
      data: (_socket, chunk) => void (received += chunk.toString('latin1')),
      close: () => resolve(received),
    },
  })
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)
  const response = await promise
  const [head = '', body = ''] = response.split('\r\n\r\n')
  return { status: Number(head.split(' ')[1]), body }
}

test.concurrent('GET /emojis/{file} serves by file name and by ID, with the stored type, caching and nosniff', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  await owner.request({ cmd: 'emoji_add', name: 'wave', image: dataUri(PNG) })
  await owner.request({ cmd: 'emoji_add', name: 'party', image: dataUri(GIF, 'gif') })
  for (const [path, type, bytes] of [['/emojis/0.png', 'image/png', PNG], ['/emojis/0', 'image/png', PNG], ['/emojis/1.gif', 'image/gif', GIF], ['/emojis/%201%20', 'image/gif', GIF]] as const) {
    const response = await fetch(`${base(server)}${path}`)
    expect(response.status).toBe(200)
    expect(Object.fromEntries(['content-type', 'cache-control', 'x-content-type-options', 'access-control-allow-origin'].map((h) => [h, response.headers.get(h)]))).toEqual({
      'content-type': type,
      'cache-control': 'public, max-age=3600',
      'x-content-type-options': 'nosniff',
      'access-control-allow-origin': '*',
    })
    expect(Buffer.from(await response.arrayBuffer())).toEqual(bytes)
  }
  const head = await fetch(`${base(server)}/emojis/0`, { method: 'HEAD' })
  expect(head.status).toBe(200)
  expect(head.headers.get('content-type')).toBe('image/png')
})

test.concurrent('unknown names, wrong extensions and traversal attempts are 404 Emoji not found', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  await owner.request({ cmd: 'emoji_add', name: 'wave', image: dataUri(PNG) })
  // A file in the emoji folder that no record names is never served.
  await writeFile(join(server.dir, 'emojis', '7.png'), PNG)
  await writeFile(join(server.dir, 'emojis', 'notes.txt'), 'secret')
  for (const path of [
    '/emojis/7.png',
    '/emojis/7',
    '/emojis/notes.txt',
    '/emojis/wave',
    '/emojis/0.gif',
    '/emojis/00',
    '/emojis/-0',
    '/emojis/',
    '/emojis/..%2Foriginchats.db',
    '/emojis/%2e%2e%2foriginchats.db',
    '/emojis/..%5Coriginchats.db',
    '/emojis/0.png%00',
    '/emojis/%00',
    '/emojis/%E0%A4%A',
    '/emojis/.upload-x',
    '/emojis/0/..%2F..%2Foriginchats.db',
  ]) {
    const response = await fetch(`${base(server)}${path}`)
    expect({ path, status: response.status, text: await response.text() }).toEqual({ path, status: 404, text: 'Emoji not found' })
  }
  // Literal `..` and backslashes, as a hand-written client could send them: never the database or another file.
  for (const path of ['/emojis/../originchats.db', '/emojis/..\\originchats.db', '/emojis/../../etc/passwd', '/emojis/./../emojis/notes.txt']) {
    const { status, body } = await rawGet(server, path)
    expect({ path, status }).toEqual({ path, status: 404 })
    expect(body).not.toContain('SQLite')
    expect(body).not.toContain('secret')
  }
  expect((await fetch(`${base(server)}/emojis/0.png`)).status).toBe(200)
})
