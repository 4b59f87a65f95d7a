import { RedisClient } from 'bun'
import { expect, test } from 'bun:test'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startApp, type App } from '../../src/app.ts'
import { LiveConfig } from '../../src/config/live.ts'
import { parseConfig } from '../../src/config/load.ts'
import { SharedServerSettings } from '../../src/config/shared-server.ts'
import type { ServerOverrides } from '../../src/store/types.ts'
import { preparePostgresStore } from '../../src/store/postgres/index.ts'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import { TestClient } from '../helpers/client.ts'
import { REDIS_URL, redisUnavailable } from '../helpers/cluster.ts'
import { startFakeRotur } from '../helpers/rotur.ts'
import { POSTGRES_TEST_URL, freshSchema, storeDrivers } from '../helpers/stores.ts'

const silent = { debug() {}, info() {}, warn() {}, error() {} }

/** A repository in memory, counting its writes. */
function memoryRepo(initial: ServerOverrides = {}) {
  let stored = { ...initial }
  const writes: ServerOverrides[] = []
  return {
    writes,
    get: async () => ({ ...stored }),
    update: async (updates: ServerOverrides) => {
      writes.push(updates)
      stored = { ...stored, ...updates }
    },
  }
}

test('stored fields lie over config.json, also after config.json reloads; an edit stores only what it changed and tells the other nodes', async () => {
  const file = (name: string, motto: string) => parseConfig({ server: { name, icon: 'file-icon.png', motto } })
  const live = new LiveConfig(file('From file', 'first'), undefined)
  const repo = memoryRepo({ name: 'Stored', banner: null })
  let told = 0
  const shared = new SharedServerSettings(repo, live, () => told++, silent)
  await shared.loaded
  expect(live.current.server).toMatchObject({ name: 'Stored', icon: 'file-icon.png', motto: 'first' })
  expect(live.current.server.banner).toBeUndefined()

  // A live reload of config.json (the watcher) keeps the stored fields on top.
  live.apply(file('Edited file', 'second'))
  expect(live.current.server).toMatchObject({ name: 'Stored', icon: 'file-icon.png', motto: 'second' })

  await live.edit((raw) => {
    raw.server.icon = 'https://example.com/new.png'
    raw.server.name = 'Stored'
  })
  expect(repo.writes).toEqual([{ icon: 'https://example.com/new.png' }])
  expect(told).toBe(1)
  expect(live.current.server).toMatchObject({ name: 'Stored', icon: 'https://example.com/new.png', motto: 'second' })

  // An edit that changes nothing is neither stored nor announced.
  await live.edit((raw) => void (raw.server.name = 'Stored'))
  expect(repo.writes.length).toBe(1)
  expect(told).toBe(1)
})

test('a failed read at start is logged and leaves config.json in force', async () => {
  const errors: string[] = []
  const live = new LiveConfig(parseConfig({ server: { name: 'From file' } }), undefined)
  const repo = { get: async () => Promise.reject(new Error('database away')), update: async () => {} }
  await new SharedServerSettings(repo, live, () => {}, { ...silent, error: (line: string) => void errors.push(line) }).loaded
  expect(errors).toEqual(['could not read the shared server settings: database away'])
  expect(live.current.server.name).toBe('From file')
})

const skip = storeDrivers.find((d) => d.name === 'postgres')!.skip ?? (await redisUnavailable())

const RAW_CONFIG = (rotur: string, prefix: string) => ({
  websocket: { host: '127.0.0.1', port: 0 },
  rotur: { validate_url: rotur, timeout_ms: 2000 },
  auth_mode: 'rotur',
  server: { name: 'From config.json', owner: { name: 'owner' } },
  logging: { level: 'silent' },
  plugins: { builtin: { welcome: { enabled: false } } },
  storage: { driver: 'postgres' },
  cluster: { redis_url: REDIS_URL, key_prefix: prefix },
})

test.skipIf(skip !== undefined)('with a shared database, server_update on one node applies on every node, once for each client, and outlives a restart', async () => {
  const rotur = startFakeRotur()
  const prefix = `originchats-test:${crypto.randomUUID()}:`
  const { schema, drop } = await freshSchema()
  const dirs: string[] = []
  const apps: App[] = []
  const clients: TestClient[] = []
  const node = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'originchats-shared-'))
    dirs.push(dir)
    const configPath = join(dir, 'config.json')
    const text = `${JSON.stringify(RAW_CONFIG(rotur.url, prefix), null, 4)}\n`
    await writeFile(configPath, text)
    const store = await preparePostgresStore({ url: POSTGRES_TEST_URL, schema, max: 4 })
    const app = await startApp({ config: parseConfig(JSON.parse(text)), configPath, databasePath: join(dir, DATABASE_FILE), port: 0, store })
    apps.push(app)
    return { app, configPath, text }
  }
  const login = async (app: App, username: string) => {
    const client = await TestClient.connect(app.url)
    clients.push(client)
    client.send({ cmd: 'auth', validator: rotur.issue(username, client.handshake.val.validator_key) })
    await client.next('ready')
    return client
  }
  try {
    const a = await node()
    const b = await node()
    const owner = await login(a.app, 'owner')
    const alice = await login(b.app, 'alice')
    expect(await alice.request({ cmd: 'server_info' })).toEqual({ cmd: 'server_info', name: 'From config.json', icon: '', banner: '' })

    const reply = await owner.request({ cmd: 'server_update', name: 'Shared name', banner: 'https://example.com/b.png' })
    expect(reply).toEqual({ cmd: 'server_update', name: 'Shared name', icon: '', banner: 'https://example.com/b.png' })
    // Node B hears of it through Redis, reads the database, and tells its own clients, once.
    expect(await alice.next('server_update')).toEqual({ cmd: 'server_update', name: 'Shared name', icon: '', banner: 'https://example.com/b.png' })
    await alice.expectNone('server_update')
    expect(await alice.request({ cmd: 'server_info' })).toEqual({ cmd: 'server_info', name: 'Shared name', icon: '', banner: 'https://example.com/b.png' })
    const info = (await (await fetch(`${b.app.url.replace(/^ws/, 'http')}info`)).json()) as { server: { name: string } }
    expect(info.server.name).toBe('Shared name')
    // Neither node's config.json is written.
    expect(await readFile(a.configPath, 'utf8')).toBe(a.text)
    expect(await readFile(b.configPath, 'utf8')).toBe(b.text)

    // null clears: the default name, not config.json's.
    await owner.request({ cmd: 'server_update', name: null })
    expect((await alice.next('server_update', (p) => p.name !== 'Shared name')).name).toBe(parseConfig({}).server.name)

    // A node started later reads the settings from the database before it serves.
    await owner.request({ cmd: 'server_update', name: 'After restart' })
    const c = await node()
    const late = await TestClient.connect(c.app.url)
    clients.push(late)
    expect(late.handshake.val.server.name).toBe('After restart')
  } finally {
    await Promise.all(clients.map((client) => client.close()))
    for (const app of apps) await app.stop()
    const redis = new RedisClient(REDIS_URL)
    const keys: string[] = await redis.send('KEYS', [`${prefix}*`])
    if (keys.length > 0) await redis.send('DEL', keys)
    redis.close()
    await rotur.stop()
    await drop()
    for (const dir of dirs) await rm(dir, { recursive: true, force: true })
  }
})
