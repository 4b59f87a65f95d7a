import { RedisClient } from 'bun'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startApp, type App } from '../../src/app.ts'
import { newUserRecord } from '../../src/auth/accounts.ts'
import { parseConfig } from '../../src/config/load.ts'
import type { Config } from '../../src/config/schema.ts'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import { TestClient, type Packet } from './client.ts'
import { startFakeRotur, type FakeRotur } from './rotur.ts'

/** The Redis the cluster tests use; ORIGINCHATS_TEST_REDIS_URL points them elsewhere. */
export const REDIS_URL = process.env.ORIGINCHATS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379'

let checked: Promise<string | undefined> | undefined

/**
 * Undefined when Redis answers; otherwise why the cluster tests cannot run, said once per test
 * run in one line (every cluster test file skips on it).
 */
export function redisUnavailable(): Promise<string | undefined> {
  checked ??= probe().then((reason) => {
    if (reason) console.log(`cluster tests skipped: ${reason}`)
    return reason
  })
  return checked
}

async function probe(): Promise<string | undefined> {
  const client = new RedisClient(REDIS_URL, { connectionTimeout: 1000, autoReconnect: false, enableOfflineQueue: false })
  try {
    await client.connect()
    const info: string = await client.send('INFO', ['server'])
    const major = Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0)
    return major >= 7 ? undefined : `Redis at ${REDIS_URL} is older than 7.0`
  } catch (error) {
    return `no Redis at ${REDIS_URL} (${(error as Error)?.message ?? error})`
  } finally {
    client.close()
  }
}

/**
 * Waits for a state only Redis shows (no packet announces it), checking every 25 ms for at most
 * 10 s. Used for a node's own background writes, such as re-registering after Redis lost its keys.
 */
export async function until(what: string, check: () => Promise<boolean>) {
  for (let i = 0; i < 400; i++) {
    if (await check()) return
    await Bun.sleep(25)
  }
  throw new Error(`never came true: ${what}`)
}

export interface Node {
  app: App
  name: string
  /** Signs in through the cluster's shared fake Rotur; resolves once `ready` arrived. */
  login(username: string): Promise<TestClient>
}

export interface TestCluster {
  prefix: string
  rotur: FakeRotur
  nodes: Node[]
  /** A direct connection to the test's Redis, for inspecting keys and simulating faults. */
  redis: RedisClient
  /** Redis client IDs of a node's connections (`command`, `stream`). */
  connectionIds(node: Node, role: 'command' | 'stream'): Promise<string[]>
  /** Creates the user record on every node (each has its own SQLite store in these tests). */
  known(...usernames: string[]): Promise<void>
  /** Starts one more node on the same stream and keys. */
  addNode(overrides?: Record<string, unknown>): Promise<Node>
  stop(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/** `count` nodes on one Redis, under a key prefix of their own so parallel tests never meet. */
export async function startCluster(count: number, overrides: Record<string, any> = {}): Promise<TestCluster> {
  const prefix = `originchats-test:${crypto.randomUUID()}:`
  const rotur = startFakeRotur()
  const redis = new RedisClient(REDIS_URL)
  await redis.connect()
  const dirs: string[] = []
  const clients = new Set<TestClient>()
  const nodes: Node[] = []
  const configOf = (): Config =>
    parseConfig({
      websocket: { host: '127.0.0.1', port: 0 },
      rotur: { validate_url: rotur.url, timeout_ms: 2000 },
      auth_mode: 'rotur',
      server: { name: 'Test Cluster', owner: { name: 'owner' } },
      logging: { level: 'silent' },
      security: { max_connections_per_ip: 1000, auth_failures_per_minute: 1000, registrations_per_hour: 1000 },
      plugins: { builtin: { welcome: { enabled: false } } },
      ...overrides,
      cluster: { redis_url: REDIS_URL, key_prefix: prefix, node_timeout_ms: 1500, ...overrides.cluster },
    })

  const cluster: TestCluster = {
    prefix,
    rotur,
    nodes,
    redis,
    async connectionIds(node, role) {
      const list: string = await redis.send('CLIENT', ['LIST', 'TYPE', 'normal'])
      const name = `name=originchats:${node.name}:${role}`
      return list.split('\n').filter((line) => line.split(' ').includes(name)).map((line) => /^id=(\d+)/.exec(line)![1]!)
    },
    async known(...usernames) {
      for (const node of nodes) {
        for (const username of usernames) {
          const id = `rotur-${username}`
          if (!(await node.app.store.users.get(id))) await node.app.store.users.insert(newUserRecord(node.app.settings.current, id, username))
        }
      }
    },
    async addNode(extra = {}) {
      const dir = await mkdtemp(join(tmpdir(), 'originchats-cluster-'))
      dirs.push(dir)
      const config = parseConfig({ ...configOf(), ...extra })
      const app = await startApp({ config, databasePath: join(dir, DATABASE_FILE), port: 0 })
      const node: Node = {
        app,
        name: app.cluster!.settings.nodeId,
        async login(username) {
          const client = await TestClient.connect(app.url)
          clients.add(client)
          client.send({ cmd: 'auth', validator: rotur.issue(username, client.handshake.val.validator_key) })
          const first: Packet = await Promise.race([client.next('ready'), client.next('auth_error')])
          if (first.cmd === 'auth_error') throw new Error(`authentication failed: ${first.val}`)
          await client.next('auth_success')
          return client
        },
      }
      nodes.push(node)
      return node
    },
    async stop() {
      await Promise.all([...clients].map((client) => client.close()))
      for (const node of nodes) await node.app.stop()
      const keys: string[] = await redis.send('KEYS', [`${prefix}*`])
      if (keys.length > 0) await redis.send('DEL', keys)
      redis.close()
      await rotur.stop()
      for (const dir of dirs) await rm(dir, { recursive: true, force: true })
    },
    [Symbol.asyncDispose]() {
      return cluster.stop()
    },
  }
  for (let i = 0; i < count; i++) await cluster.addNode()
  return cluster
}
