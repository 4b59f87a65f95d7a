import { RedisClient } from 'bun'
import { mkdir, symlink } from 'node:fs/promises'
import { join } from 'node:path'
import { startApp, type App } from '../../src/app.ts'
import { DATA_FILE_FOLDERS } from '../../src/backup/files.ts'
import type { Config } from '../../src/config/schema.ts'
import type { Logger } from '../../src/log.ts'
import { preparePostgresStore } from '../../src/store/postgres/index.ts'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import { REDIS_URL } from './cluster.ts'
import { POSTGRES_TEST_URL, freshSchema, postgresSkip } from './stores.ts'

/**
 * ORIGINCHATS_TEST_CLUSTER=1 makes every `startServer` two nodes of one cluster: one fresh
 * PostgreSQL schema, one Redis key prefix, each node with its own data folder under the
 * server's; `startServer` alternates new connections between them.
 */
export const TEST_CLUSTER = process.env.ORIGINCHATS_TEST_CLUSTER === '1'

export interface ClusterNodes {
  /** The PostgreSQL schema the nodes share. */
  schema: string
  start(): Promise<App[]>
  drop(): Promise<void>
}

export async function clusterNodes(config: Config, dir: string, log?: Logger): Promise<ClusterNodes> {
  if (postgresSkip) throw new Error(postgresSkip)
  const { schema, drop } = await freshSchema()
  const prefix = `originchats-test:${crypto.randomUUID()}:`
  return {
    schema,
    async start() {
      const apps: App[] = []
      for (const name of ['a', 'b']) {
        const nodeConfig = { ...config, cluster: { ...config.cluster, redis_url: REDIS_URL, key_prefix: prefix, node_id: `${prefix}${name}`, node_timeout_ms: 1500 } }
        await mkdir(join(dir, name), { recursive: true })
        // As docs/cluster.md deploys it: each node its own data folder, its file folders shared.
        for (const folder of DATA_FILE_FOLDERS) {
          await mkdir(join(dir, folder), { recursive: true })
          await symlink(join(dir, folder), join(dir, name, folder)).catch((error) => {
            if (error.code !== 'EEXIST') throw error
          })
        }
        const store = await preparePostgresStore({ url: POSTGRES_TEST_URL, schema, max: 2 })
        apps.push(await startApp({ config: nodeConfig, databasePath: join(dir, name, DATABASE_FILE), port: 0, log, store }))
      }
      return apps
    },
    async drop() {
      const redis = new RedisClient(REDIS_URL)
      try {
        const keys: string[] = await redis.send('KEYS', [`${prefix}*`])
        if (keys.length > 0) await redis.send('DEL', keys)
      } finally {
        redis.close()
      }
      await drop()
    },
  }
}
