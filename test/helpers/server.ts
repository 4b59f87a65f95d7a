import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, type App } from '../../src/app.ts'
import { parseConfig } from '../../src/config/load.ts'
import type { Config } from '../../src/config/schema.ts'
import type { Logger } from '../../src/log.ts'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import type { ChannelRecord } from '../../src/store/types.ts'
import { TestClient, type Packet } from './client.ts'
import { TEST_CLUSTER, clusterNodes } from './cluster-server.ts'
import { runStatement, serverStorage } from './stores.ts'
import { merge } from './merge.ts'
import { startFakeRotur, type FakeRotur } from './rotur.ts'

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? (T[K] extends unknown[] ? T[K] : DeepPartial<T[K]>) : T[K] }
export type ConfigOverrides = DeepPartial<Config> & Record<string, unknown>

/** The owner named in every test server's config. */
export const OWNER = 'owner'

export interface TestServer {
  app: App
  url: string
  config: Config
  dir: string
  rotur: FakeRotur
  /** A connected, unauthenticated client. */
  connect(): Promise<TestClient>
  /** Connects and authenticates through (fake) Rotur; resolves once `ready` arrived. */
  login(username: string): Promise<TestClient & { ready: Packet }>
  /** Connects and registers a local account; resolves once `ready` arrived. */
  register(username: string, password?: string): Promise<TestClient & { ready: Packet }>
  /** Fixture: adds a channel straight to the store and resubscribes everyone. */
  addChannel(channel: ChannelRecord): Promise<void>
  /** Fixture: replaces a user's roles in the store and resubscribes their sockets. */
  setRoles(username: string, roles: string[]): Promise<void>
  /** Applies a new configuration, as an edited config.json would, on every node. */
  reconfigure(change: (current: Config) => Config): void
  /** Fixture: runs one statement (`?` placeholders) on the server's database, whichever driver holds it; for a stopped server. */
  runStatement(text: string, params: Array<string | number>): Promise<void>
  /** Stops the server and starts a new one on the same data folder (on a new port). */
  restart(): Promise<void>
  stop(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** A real server on port 0 with its own temporary data folder and its own fake Rotur; `log` receives its log lines. */
export async function startServer(overrides: ConfigOverrides = {}, log?: Logger): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'originchats-test-'))
  const rotur = startFakeRotur()
  const config = parseConfig(
    merge(
      {
        websocket: { host: '127.0.0.1', port: 0 },
        rotur: { validate_url: rotur.url, timeout_ms: 2000 },
        auth_mode: 'cracked',
        server: { name: 'Test Server', owner: { name: OWNER } },
        logging: { level: 'silent' },
        security: { max_connections_per_ip: 1000, auth_failures_per_minute: 1000, registrations_per_hour: 1000 },
        // On by default, but a welcome after every first login would crowd the other tests' inboxes.
        plugins: { builtin: { welcome: { enabled: false } } },
      },
      overrides,
    ),
  )
  const databasePath = join(dir, DATABASE_FILE)
  const clients = new Set<TestClient>()
  const storage = await serverStorage()
  const cluster = TEST_CLUSTER ? await clusterNodes(config, dir, log) : undefined
  const open = async () => (cluster ? cluster.start() : [createApp({ config, databasePath, port: 0, log, store: await storage.open() })])
  let apps = await open()
  let app = apps[0]!
  let turn = 0

  const track = async () => {
    const client = await TestClient.connect(apps[turn++ % apps.length]!.url)
    clients.add(client)
    return client
  }
  const authenticated = async (client: TestClient, packet: Packet) => {
    client.send(packet)
    const first = await Promise.race([client.next('ready'), client.next('auth_error')])
    if (first.cmd === 'auth_error') throw new Error(`authentication failed: ${first.val}`)
    await client.next('auth_success')
    return Object.assign(client, { ready: first })
  }

  const server: TestServer = {
    app,
    get url() {
      return app.url
    },
    config,
    dir,
    rotur,
    connect: track,
    async login(username) {
      const client = await track()
      return authenticated(client, { cmd: 'auth', validator: rotur.issue(username, client.handshake.val.validator_key) })
    },
    async register(username, password = 'password123') {
      const client = await track()
      return authenticated(client, { cmd: 'register', username, password })
    },
    async addChannel(channel) {
      await app.store.channels.insert(channel)
      // Written behind the other nodes' backs: they hear of it at once, not through the stream.
      for (const node of apps) node.store.invalidate?.('channels')
      for (const node of apps) await node.hub.refreshAll()
    },
    async setRoles(username, roles) {
      const user = await app.store.users.getByUsername(username)
      if (!user) throw new Error(`no user ${username}`)
      await app.store.users.update(user.id, { roles })
      for (const node of apps) node.store.invalidate?.(`user:${user.id}`)
      for (const node of apps) await node.hub.refreshUsers([user.id])
    },
    reconfigure(change) {
      for (const node of apps) node.settings.apply(change(node.settings.current))
    },
    runStatement(text, params) {
      return runStatement({ schema: storage.schema ?? cluster?.schema, sqlitePath: databasePath }, text, params)
    },
    async restart() {
      await Promise.all([...clients].map((c) => c.close()))
      clients.clear()
      for (const node of apps) await node.stop()
      apps = await open()
      app = apps[0]!
      server.app = app
    },
    async stop() {
      await Promise.all([...clients].map((c) => c.close()))
      for (const node of apps) await node.stop()
      await rotur.stop()
      await storage.drop()
      await cluster?.drop()
      await rm(dir, { recursive: true, force: true })
    },
    [Symbol.asyncDispose]() {
      return server.stop()
    },
  }
  return server
}
