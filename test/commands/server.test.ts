import { describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, type App } from '../../src/app.ts'
import { loadConfigFile } from '../../src/config/load.ts'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import { TestClient } from '../helpers/client.ts'
import { startFakeRotur } from '../helpers/rotur.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { customRole } from '../helpers/fixtures.ts'

const DENIED = { cmd: 'error', src: 'server_update', val: "Access denied: 'manage_server' permission required" }
const invalid = (val: string) => ({ cmd: 'error', src: 'server_update', val })

const httpUrl = (url: string, path: string) => new URL(path, url.replace(/^ws/, 'http')).href
const info = async (server: TestServer) => ((await (await fetch(httpUrl(server.url, '/info'))).json()) as { server: unknown }).server


describe('server_info', () => {
  test.concurrent('any user reads the live name, icon and banner; unauthenticated sockets are refused', async () => {
    await using server = await startServer({ server: { banner: 'https://example.com/b.png' } })
    const alice = await server.login('alice')
    expect(await alice.request({ cmd: 'server_info' })).toEqual({ cmd: 'server_info', name: 'Test Server', icon: '', banner: 'https://example.com/b.png' })
    const guest = await server.connect()
    expect(await guest.request({ cmd: 'server_info' }, 'auth_error')).toEqual({ cmd: 'auth_error', val: 'Authentication required' })
  })
})

describe('server_update', () => {
  test.concurrent('needs manage_server: owner, admin and a custom role may; user and moderator may not', async () => {
    await using server = await startServer()
    await server.app.store.roles.insert(customRole('steward', ['manage_server'], 4))
    const owner = await server.login('owner')
    const admin = await server.login('ada')
    const steward = await server.login('stew')
    const mod = await server.login('mo')
    const alice = await server.login('alice')
    await server.setRoles('ada', ['admin', 'user'])
    await server.setRoles('stew', ['steward', 'user'])
    await server.setRoles('mo', ['moderator', 'user'])

    // The permission check comes before any validation.
    expect(await alice.error({ cmd: 'server_update' })).toEqual(DENIED)
    expect(await alice.error({ cmd: 'server_update', name: 'Mine now' })).toEqual(DENIED)
    expect(await mod.error({ cmd: 'server_update', name: 'Mine now' })).toEqual(DENIED)

    for (const [client, name] of [[owner, 'By owner'], [admin, 'By admin'], [steward, 'By steward']] as const) {
      const listener = `set-${name}`
      client.send({ cmd: 'server_update', name, listener })
      expect(await client.next('server_update', (p) => p.listener === listener)).toEqual({ cmd: 'server_update', name, icon: '', banner: '', listener })
    }
    expect(await alice.request({ cmd: 'server_info' })).toEqual({ cmd: 'server_info', name: 'By steward', icon: '', banner: '' })
  })

  test.concurrent('checks the types in order, then that something was given', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    expect(await owner.error({ cmd: 'server_update', name: 5, icon: 5 })).toEqual(invalid('Name must be a string or null'))
    expect(await owner.error({ cmd: 'server_update', name: 'ok', icon: true, banner: 1 })).toEqual(invalid('Icon must be a string or null'))
    expect(await owner.error({ cmd: 'server_update', banner: ['x'] })).toEqual(invalid('Banner must be a string or null'))
    expect(await owner.error({ cmd: 'server_update', icon: { url: 'x' } })).toEqual(invalid('Icon must be a string or null'))
    expect(await owner.error({ cmd: 'server_update' })).toEqual(invalid('No updates provided'))
    expect(await owner.error({ cmd: 'server_update', motto: 'not a field' })).toEqual(invalid('No updates provided'))
    // Nothing was applied by the refused requests.
    expect(await owner.request({ cmd: 'server_info' })).toEqual({ cmd: 'server_info', name: 'Test Server', icon: '', banner: '' })
  })

  test.concurrent('reaches every authenticated socket at once (the caller twice), not unauthenticated ones', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const guest = await server.connect()

    const update = { name: 'Renamed', icon: 'https://example.com/icon.png', banner: '' }
    owner.send({ cmd: 'server_update', name: 'Renamed', icon: 'https://example.com/icon.png', listener: 'mine' })
    // The broadcast first, then the caller's reply (README §3.3 "copy" + upstream's double delivery).
    expect(await owner.next('server_update')).toEqual({ cmd: 'server_update', ...update })
    expect(await owner.next('server_update')).toEqual({ cmd: 'server_update', ...update, listener: 'mine' })
    await owner.expectNone('server_update')
    for (const client of [alice, bob]) {
      expect(await client.next('server_update')).toEqual({ cmd: 'server_update', ...update })
      await client.expectNone('server_update')
    }
    // The guest is answered in order: anything broadcast to it would have arrived first.
    expect(await guest.request({ cmd: 'ping' }, 'auth_error')).toEqual({ cmd: 'auth_error', val: 'Authentication required' })
    expect(guest.inbox.filter((p) => p.cmd === 'server_update')).toEqual([])

    // A new connection's handshake and GET /info show it straight away (upstream: after restart).
    const late = await server.connect()
    expect(late.handshake.val.server).toEqual({ name: 'Renamed', owner: { name: 'owner' }, icon: 'https://example.com/icon.png' })
    expect(await info(server)).toEqual({ ...update, owner: { name: 'owner' } })
  })

  test.concurrent('null clears a field (compat-notes §3.41); a cleared name falls back to the default', async () => {
    await using server = await startServer({ server: { icon: 'https://example.com/i.png', banner: 'https://example.com/b.png' } })
    const owner = await server.login('owner')
    const watcher = await server.login('watcher')
    expect(await owner.request({ cmd: 'server_update', icon: null, listener: 'a' }, 'server_update')).toEqual({
      cmd: 'server_update',
      name: 'Test Server',
      icon: '',
      banner: 'https://example.com/b.png',
    })
    owner.drain('server_update')
    owner.send({ cmd: 'server_update', name: null, banner: null, listener: 'b' })
    expect(await owner.next('server_update', (p) => p.listener === 'b')).toEqual({
      cmd: 'server_update',
      name: 'My OriginChats Server',
      icon: '',
      banner: '',
      listener: 'b',
    })
    // Everyone heard of it (on another node too, once that node applied it).
    await watcher.next('server_update', (p) => p.name === 'My OriginChats Server')
    const fresh = await server.connect()
    expect(fresh.handshake.val.server).toEqual({ name: 'My OriginChats Server', owner: { name: 'owner' } })
    expect(await info(server)).toEqual({ name: 'My OriginChats Server', icon: '', banner: '', owner: { name: 'owner' } })
  })

  test.concurrent('an update that changes nothing is answered to the caller only', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    owner.send({ cmd: 'server_update', name: 'Test Server', listener: 'same' })
    expect(await owner.next('server_update')).toEqual({ cmd: 'server_update', name: 'Test Server', icon: '', banner: '', listener: 'same' })
    await owner.expectNone('server_update')
    await alice.expectNone('server_update')
  })

  test.concurrent('is recorded in the modlog with the updates as details', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    owner.send({ cmd: 'server_update', name: 'Logged', icon: null, listener: 'x' })
    await owner.next('server_update', (p) => p.listener === 'x')
    const ownerId = (await server.app.store.users.getByUsername('owner'))!.id
    const { entries } = await server.app.store.modlog.list({ limit: 10, offset: 0 })
    expect(entries).toEqual([
      {
        id: expect.stringMatching(new RegExp(`^\\d+-${ownerId}$`)),
        action: 'server_update',
        category: 'server_management',
        actor_id: ownerId,
        actor_name: 'owner',
        target_id: null,
        target_name: null,
        details: { name: 'Logged', icon: null },
        timestamp: expect.any(Number),
      },
    ])
  })
})

/** A server started the way `serve` does: from a config.json on disk, which edits rewrite. */
async function startFromFile(raw: Record<string, unknown>) {
  const dir = await mkdtemp(join(tmpdir(), 'originchats-server-update-'))
  const rotur = startFakeRotur()
  const configPath = join(dir, 'config.json')
  const settings = {
    ...raw,
    websocket: { host: '127.0.0.1', port: 0 },
    rotur: { validate_url: rotur.url, timeout_ms: 2000 },
    auth_mode: 'cracked',
    logging: { level: 'silent' },
  }
  await Bun.write(configPath, JSON.stringify(settings, null, 2))
  const clients: TestClient[] = []
  const open = async () => createApp({ config: await loadConfigFile(configPath), configPath, databasePath: join(dir, DATABASE_FILE), port: 0 })
  const fixture = {
    app: (await open()) as App,
    configPath,
    async login(username: string) {
      const client = await TestClient.connect(fixture.app.url)
      clients.push(client)
      client.send({ cmd: 'auth', validator: rotur.issue(username, client.handshake.val.validator_key) })
      await client.next('ready')
      return client
    },
    async restart() {
      await Promise.all(clients.splice(0).map((c) => c.close()))
      await fixture.app.stop()
      fixture.app = await open()
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(clients.map((c) => c.close()))
      await fixture.app.stop()
      await rotur.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
  return fixture
}

test.concurrent('config.json is rewritten keeping unknown keys, and the change survives a restart', async () => {
  await using server = await startFromFile({
    server: { name: 'On Disk', owner: { name: 'owner' }, icon: 'https://example.com/old.png', motto: 'keep me' },
    operator_notes: { keep: [1, 2, 3] },
  })
  const owner = await server.login('owner')
  owner.send({ cmd: 'server_update', name: 'Saved', icon: null, banner: 'https://example.com/banner.png', listener: 'save' })
  await owner.next('server_update', (p) => p.listener === 'save')

  const written = JSON.parse(await Bun.file(server.configPath).text())
  expect(written.server).toEqual({ name: 'Saved', owner: { name: 'owner' }, banner: 'https://example.com/banner.png', motto: 'keep me' })
  expect(written.operator_notes).toEqual({ keep: [1, 2, 3] })
  // Only what the file said is written back: no defaults were added.
  expect(written.limits).toBeUndefined()

  await server.restart()
  const again = await server.login('owner')
  expect(again.handshake.val.server).toEqual({ name: 'Saved', owner: { name: 'owner' }, banner: 'https://example.com/banner.png', motto: 'keep me' })
  expect(await again.request({ cmd: 'server_info' })).toEqual({ cmd: 'server_info', name: 'Saved', icon: '', banner: 'https://example.com/banner.png' })
})

test.concurrent('concurrent updates from two connections both land in config.json', async () => {
  await using server = await startFromFile({ server: { name: 'Start', owner: { name: 'owner' } } })
  const first = await server.login('owner')
  const second = await server.login('owner')
  first.send({ cmd: 'server_update', icon: 'https://example.com/i.png', listener: 'one' })
  second.send({ cmd: 'server_update', banner: 'https://example.com/b.png', listener: 'two' })
  await first.next('server_update', (p) => p.listener === 'one')
  await second.next('server_update', (p) => p.listener === 'two')
  const written = JSON.parse(await Bun.file(server.configPath).text())
  expect(written.server).toEqual({ name: 'Start', owner: { name: 'owner' }, icon: 'https://example.com/i.png', banner: 'https://example.com/b.png' })
})
