import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RedisClient } from 'bun'
import { startApp, type App } from '../../src/app.ts'
import { parseConfig } from '../../src/config/load.ts'
import { preparePostgresStore } from '../../src/store/postgres/index.ts'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import { TestClient, type Packet } from './client.ts'
import { REDIS_URL, redisUnavailable } from './cluster.ts'
import { ServerProcess } from './process.ts'
import { startFakeRotur, type FakeRotur } from './rotur.ts'
import { merge } from './merge.ts'
import { POSTGRES_TEST_URL, freshSchema, postgresSkip } from './stores.ts'
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts'

/** The owner named in every shared cluster's config. */
export const OWNER = 'owner'

/**
 * Why the shared-store cluster tests cannot run (no Redis 7, or no PostgreSQL), said in one line;
 * undefined when both answer.
 */
export async function sharedClusterUnavailable(): Promise<string | undefined> {
  const redis = await redisUnavailable()
  if (redis) return redis
  return postgresSkip
}

/** The PostgreSQL URL of one schema, as an operator would write it in each node's `storage.url`. */
export function schemaUrl(schema: string, port?: number): string {
  const url = new URL(POSTGRES_TEST_URL)
  if (port !== undefined) url.port = String(port)
  url.searchParams.set('options', `-c search_path=${schema},public`)
  return url.toString()
}

export interface SharedNode {
  name: string
  url: string
  /** In-process nodes only. */
  app?: App
  /** Process nodes only. */
  process?: ServerProcess
  /** The TCP proxy between this node and PostgreSQL, when asked for. */
  proxy?: TcpProxy
  /** Signs in through the cluster's fake Rotur; resolves once `ready` arrived. */
  login(username: string): Promise<TestClient & { ready: Packet }>
  connect(): Promise<TestClient>
  stop(): Promise<void>
}

export interface NodeOptions {
  /** A real `bun src/cli.ts serve` child process instead of an in-process app. */
  process?: boolean
  /** Reach PostgreSQL through a TCP proxy the test can cut. */
  proxy?: boolean
  overrides?: Record<string, any>
}

export interface SharedCluster {
  prefix: string
  schema: string
  rotur: FakeRotur
  nodes: SharedNode[]
  redis: RedisClient
  addNode(options?: NodeOptions): Promise<SharedNode>
  /** Redis client IDs of a node's connections (`command`, `stream`). */
  connectionIds(node: SharedNode, role: 'command' | 'stream'): Promise<string[]>
  stop(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Nodes that form one server: ONE PostgreSQL schema (each node's `storage.url` names it), one
 * Redis key prefix, one fake Rotur; each node has its own port (0) and data folder.
 */
export async function startSharedCluster(nodes: Array<NodeOptions> = [{}, {}], base: Record<string, any> = {}): Promise<SharedCluster> {
  await slots.acquire()
  try {
    return await sharedCluster(nodes, base)
  } catch (error) {
    slots.release()
    throw error
  }
}

/**
 * Shared clusters running at once in this process. Each holds PostgreSQL connections (3 per
 * in-process node, 10 for a node process), and the test server allows 100 in all, with the
 * other tests' own: the tests of a file start together, the clusters beyond this wait their turn.
 */
const MAX_CLUSTERS = 5
const slots = {
  running: 0,
  waiting: [] as Array<() => void>,
  async acquire() {
    if (this.running < MAX_CLUSTERS) {
      this.running++
      return
    }
    // The slot is handed over by release, so running stays the same.
    await new Promise<void>((resolve) => this.waiting.push(resolve))
  },
  release() {
    const next = this.waiting.shift()
    if (next) next()
    else this.running--
  },
}

async function sharedCluster(nodes: Array<NodeOptions>, base: Record<string, any>): Promise<SharedCluster> {
  const prefix = `originchats-test:${crypto.randomUUID()}:`
  const { schema, drop } = await freshSchema()
  const rotur = startFakeRotur()
  const redis = new RedisClient(REDIS_URL)
  await redis.connect()
  const dirs: string[] = []
  const clients = new Set<TestClient>()
  const list: SharedNode[] = []
  let count = 0

  const configOf = (name: string, postgresUrl: string, extra: Record<string, any>) =>
    merge(
      merge(
        {
          websocket: { host: '127.0.0.1', port: 0 },
          rotur: { validate_url: rotur.url, timeout_ms: 2000 },
          auth_mode: 'rotur',
          server: { name: 'Shared Cluster', owner: { name: OWNER } },
          logging: { level: 'silent' },
          security: { max_connections_per_ip: 1000, auth_failures_per_minute: 1000, registrations_per_hour: 1000 },
          plugins: { builtin: { welcome: { enabled: false } } },
          storage: { driver: 'postgres', url: postgresUrl },
          cluster: { redis_url: REDIS_URL, key_prefix: prefix, node_timeout_ms: 1500, node_id: name },
        },
        base,
      ),
      extra,
    )

  const cluster: SharedCluster = {
    prefix,
    schema,
    rotur,
    nodes: list,
    redis,
    async addNode(options = {}) {
      const name = `node${++count}-${crypto.randomUUID().slice(0, 8)}`
      const dir = await mkdtemp(join(tmpdir(), 'originchats-shared-'))
      dirs.push(dir)
      const pgPort = Number(new URL(POSTGRES_TEST_URL).port || 5432)
      const proxy = options.proxy ? startTcpProxy(pgPort, new URL(POSTGRES_TEST_URL).hostname) : undefined
      const raw = configOf(name, schemaUrl(schema, proxy?.port), options.overrides ?? {})
      let app: App | undefined
      let child: ServerProcess | undefined
      if (options.process) {
        const configPath = join(dir, 'config.json')
        await Bun.write(configPath, JSON.stringify(raw))
        child = await ServerProcess.start([process.execPath, 'src/cli.ts', 'serve', '--config', configPath, '--data', join(dir, 'data')])
      } else {
        const config = parseConfig(raw)
        // A small pool: the tests run side by side, on a server that allows 100 connections in all.
        const store = await preparePostgresStore({ url: config.storage.url, max: 3 })
        app = await startApp({ config, databasePath: join(dir, DATABASE_FILE), port: 0, store })
      }
      const url = app?.url ?? child!.url
      const connect = async () => {
        const client = await TestClient.connect(url)
        clients.add(client)
        return client
      }
      const node: SharedNode = {
        name,
        url,
        app,
        process: child,
        proxy,
        connect,
        async login(username) {
          const client = await connect()
          client.send({ cmd: 'auth', validator: rotur.issue(username, client.handshake.val.validator_key) })
          const first: Packet = await Promise.race([client.next('ready'), client.next('auth_error')])
          if (first.cmd === 'auth_error') throw new Error(`authentication failed: ${first.val}`)
          await client.next('auth_success')
          return Object.assign(client, { ready: first })
        },
        async stop() {
          if (app) await app.stop()
          if (child) {
            child.signal('SIGTERM')
            await child.exited
          }
          proxy?.stop()
        },
      }
      list.push(node)
      return node
    },
    async connectionIds(node, role) {
      const text: string = await redis.send('CLIENT', ['LIST', 'TYPE', 'normal'])
      const name = `name=originchats:${node.name}:${role}`
      return text.split('\n').filter((line) => line.split(' ').includes(name)).map((line) => /^id=(\d+)/.exec(line)![1]!)
    },
    async stop() {
      await Promise.all([...clients].map((client) => client.close()))
      await Promise.all(list.map((node) => node.stop()))
      const keys: string[] = await redis.send('KEYS', [`${prefix}*`])
      if (keys.length > 0) await redis.send('DEL', keys)
      redis.close()
      await rotur.stop()
      await drop()
      for (const dir of dirs) await rm(dir, { recursive: true, force: true })
      slots.release()
    },
    [Symbol.asyncDispose]() {
      return cluster.stop()
    },
  }
  try {
    for (const options of nodes) await cluster.addNode(options)
  } catch (error) {
    await Promise.all(list.map((node) => node.stop().catch(() => {})))
    redis.close()
    await rotur.stop()
    await drop().catch(() => {})
    throw error
  }
  return cluster
}
