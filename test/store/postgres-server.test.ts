import { expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../../src/app.ts'
import { parseConfig } from '../../src/config/load.ts'
import { preparePostgresStore } from '../../src/store/postgres/index.ts'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import { TestClient } from '../helpers/client.ts'
import { POSTGRES_TEST_URL, freshSchema, storeDrivers } from '../helpers/stores.ts'
import { startTcpProxy } from '../helpers/tcp-proxy.ts'

const skip = storeDrivers.find((d) => d.name === 'postgres')!.skip

test.skipIf(skip !== undefined)('a server on PostgreSQL answers "Internal server error" while the database is away and carries on once it is back', async () => {
  const target = new URL(POSTGRES_TEST_URL)
  const proxy = startTcpProxy(Number(target.port || 5432), target.hostname)
  const { schema, drop } = await freshSchema()
  const dir = await mkdtemp(join(tmpdir(), 'originchats-pg-server-'))
  const url = new URL(POSTGRES_TEST_URL)
  url.port = String(proxy.port)
  const errors: string[] = []
  const log = { debug() {}, info() {}, warn() {}, error: (line: string) => void errors.push(line) }
  const app = createApp({
    config: parseConfig({ websocket: { host: '127.0.0.1', port: 0 }, auth_mode: 'cracked', logging: { level: 'silent' }, storage: { driver: 'postgres' }, plugins: { builtin: { welcome: { enabled: false } } } }),
    databasePath: join(dir, DATABASE_FILE),
    port: 0,
    log,
    store: await preparePostgresStore({ url: url.href, schema, max: 4 }),
  })
  try {
    const alice = await TestClient.connect(app.url)
    alice.send({ cmd: 'register', username: 'alice', password: 'password123' })
    await alice.next('ready')
    expect((await alice.post('before')).content).toBe('before')

    proxy.cut()
    alice.send({ cmd: 'message_new', channel: 'general', content: 'during', listener: 'l1' })
    expect(await alice.next('error', (p) => p.listener === 'l1')).toEqual({ cmd: 'error', val: 'Internal server error', src: 'message_new', listener: 'l1' })
    expect(errors.length).toBeGreaterThan(0)

    proxy.resume()
    expect((await alice.post('after')).content).toBe('after')
    const { messages } = await alice.request({ cmd: 'messages_get', channel: 'general' })
    expect(messages.map((m: { content: string }) => m.content)).toEqual(['before', 'after'])
    // The group commit feeds the metrics as on SQLite.
    const metrics = await (await fetch(`http://127.0.0.1:${app.port}/metrics`)).text()
    expect(metrics).toContain('\noriginchats_messages_total 2\n')
    await alice.close()
  } finally {
    await app.stop()
    proxy.stop()
    await drop()
    await rm(dir, { recursive: true, force: true })
  }
})
