import { describe, expect, test } from 'bun:test'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { parseConfig } from '../../src/config/load.ts'
import { isLocalFileName, publicBase } from '../../src/net/server-assets.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS, POST',
  'access-control-allow-headers': 'Content-Type, Authorization, Range',
  'access-control-expose-headers': 'Content-Length, Content-Type, Cache-Control',
}

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3])
const JPEG = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 4, 5, 6])

const httpBase = (server: TestServer) => server.url.replace(/^ws/, 'http').replace(/\/$/, '')
const get = (server: TestServer, path: string) => fetch(`${httpBase(server)}${path}`)

/** Puts a file into the data folder's serverAssets/. */
async function place(server: TestServer, name: string, bytes: Uint8Array) {
  await mkdir(join(server.dir, 'serverAssets'), { recursive: true })
  await Bun.write(join(server.dir, 'serverAssets', name), bytes)
}

async function expectNotFound(server: TestServer, path: string) {
  const response = await get(server, path)
  expect(response.status).toBe(404)
  expect(response.headers.get('content-type')).toStartWith('text/plain')
  for (const [name, value] of Object.entries(CORS)) expect(response.headers.get(name)).toBe(value)
  expect(await response.text()).toBe('Server asset not found')
}

describe('GET /server-assets/{name}', () => {
  test.concurrent('serves the local icon and banner with their type and cache header, and shows their URLs', async () => {
    await using server = await startServer({ server: { icon: 'logo.png', banner: 'wide.jpg' } })
    await place(server, 'logo.png', PNG)
    await place(server, 'wide.jpg', JPEG)

    const icon = await get(server, '/server-assets/icon')
    expect(icon.status).toBe(200)
    expect(icon.headers.get('content-type')).toBe('image/png')
    expect(icon.headers.get('cache-control')).toBe('public, max-age=3600')
    for (const [name, value] of Object.entries(CORS)) expect(icon.headers.get(name)).toBe(value)
    expect(new Uint8Array(await icon.arrayBuffer())).toEqual(PNG)

    const banner = await get(server, '/server-assets/banner')
    expect(banner.status).toBe(200)
    expect(banner.headers.get('content-type')).toBe('image/jpeg')
    expect(new Uint8Array(await banner.arrayBuffer())).toEqual(JPEG)

    // Without server.url the base is the address the server listens on.
    const urls = { icon: `${httpBase(server)}/server-assets/icon`, banner: `${httpBase(server)}/server-assets/banner` }
    const client = await server.connect()
    expect(client.handshake.val.server).toEqual({ name: 'Test Server', owner: { name: 'owner' }, ...urls })
    const card = (await (await get(server, '/info')).json()) as { server: unknown }
    expect(card.server).toEqual({ name: 'Test Server', owner: { name: 'owner' }, ...urls })
    const alice = await server.login('alice')
    expect(await alice.request({ cmd: 'server_info' })).toEqual({ cmd: 'server_info', name: 'Test Server', ...urls })
  })

  test.concurrent('URLs use the normalized server.url as base', async () => {
    await using server = await startServer({ server: { icon: 'logo.png', url: '  WSS://Chat.Example.com/ ' } })
    await place(server, 'logo.png', PNG)
    const client = await server.connect()
    expect(client.handshake.val.server.icon).toBe('https://chat.example.com/server-assets/icon')
    // server.url itself is echoed verbatim.
    expect(client.handshake.val.server.url).toBe('  WSS://Chat.Example.com/ ')
  })

  test.concurrent('anything else is a plain-text 404, and non-local values are shown verbatim', async () => {
    await using server = await startServer({ server: { icon: 'https://cdn.example.com/logo.png', banner: 'missing.png' } })
    await place(server, 'logo.png', PNG)
    await place(server, 'missing.png.bak', PNG)
    await expectNotFound(server, '/server-assets/icon') // an external URL is not served
    await expectNotFound(server, '/server-assets/banner') // named file absent
    await expectNotFound(server, '/server-assets/logo.png') // only icon and banner are names
    await expectNotFound(server, '/server-assets/')
    const client = await server.connect()
    expect(client.handshake.val.server).toEqual({
      name: 'Test Server',
      owner: { name: 'owner' },
      icon: 'https://cdn.example.com/logo.png',
      banner: 'missing.png',
    })
  })

  test.concurrent('path-like and hidden names are never served', async () => {
    await using server = await startServer({ server: { icon: '../config.json', banner: '.secret' } })
    await place(server, '.secret', PNG)
    await Bun.write(join(server.dir, 'config.json'), '{}')
    await expectNotFound(server, '/server-assets/icon')
    await expectNotFound(server, '/server-assets/banner')
    expect((await server.connect()).handshake.val.server).toMatchObject({ icon: '../config.json', banner: '.secret' })
  })

  test.concurrent('server_update to a local file serves it and announces its URL at once', async () => {
    await using server = await startServer()
    await place(server, 'new-logo.png', PNG)
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    await expectNotFound(server, '/server-assets/icon')

    owner.send({ cmd: 'server_update', icon: 'new-logo.png', listener: 'icon' })
    const url = `${httpBase(server)}/server-assets/icon`
    expect(await alice.next('server_update')).toEqual({ cmd: 'server_update', name: 'Test Server', icon: url, banner: '' })
    expect(await owner.next('server_update', (p) => p.listener === 'icon')).toEqual({
      cmd: 'server_update',
      name: 'Test Server',
      icon: url,
      banner: '',
      listener: 'icon',
    })
    const icon = await get(server, '/server-assets/icon')
    expect(icon.status).toBe(200)
    expect(new Uint8Array(await icon.arrayBuffer())).toEqual(PNG)
  })
})

describe('server asset rules', () => {
  test('a local asset is a bare file name', () => {
    for (const name of ['logo.png', 'icon', 'My Icon.webp']) expect(isLocalFileName(name)).toBe(true)
    for (const name of ['', 'https://x/y.png', 'ftp://x', 'a/b.png', 'a\\b.png', '.hidden', '..', '../x.png', 'a\0b']) {
      expect(isLocalFileName(name)).toBe(false)
    }
  })

  test('the public base follows config.md', () => {
    const base = (url?: string) => publicBase(parseConfig({ server: { url } }), 'http://127.0.0.1:5613')
    expect(base()).toBe('http://127.0.0.1:5613')
    expect(base('')).toBe('http://127.0.0.1:5613')
    expect(base('https://chat.example.com/')).toBe('https://chat.example.com')
    expect(base('wss://chat.example.com')).toBe('https://chat.example.com')
    expect(base('ws://chat.example.com//')).toBe('http://chat.example.com')
    expect(base('http://Chat.Example.com:8080/oc/')).toBe('http://chat.example.com:8080/oc')
    expect(base('chat.example.com')).toBe('http://chat.example.com')
  })
})
