#!/usr/bin/env bun
/**
 * The PostgreSQL and Redis side of the bench's cluster scenario: whether both answer, a fresh
 * schema per run, counting the stored messages, and removing the schemas and Redis keys again.
 *
 * Run as a script (`bun bench/cluster-store.ts '<json Leftovers>'`) it only removes leftovers: the
 * bench calls it synchronously from its exit handler, where no promise can be awaited.
 */
import { RedisClient, SQL } from 'bun'

export const POSTGRES_URL = process.env.ORIGINCHATS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'
export const REDIS_URL = process.env.ORIGINCHATS_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'

export interface Leftovers {
  schemas: string[]
  prefixes: string[]
}

/** Settles with `fallback` when `promise` has not within `ms`. */
function bounded<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: Timer | undefined
  return Promise.race([promise, new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), ms)))]).finally(() => clearTimeout(timer))
}

/** Why the cluster scenario cannot run here, or undefined when PostgreSQL and Redis both answer. */
export async function unreachable(): Promise<string | undefined> {
  const sql = new SQL(POSTGRES_URL, { max: 1, connectionTimeout: 3 })
  const postgres = await bounded(
    sql`SELECT 1`.then(
      () => undefined,
      (e: Error) => `PostgreSQL at ${POSTGRES_URL}: ${e.message}`,
    ),
    4000,
    `PostgreSQL at ${POSTGRES_URL}: no answer`,
  )
  void sql.close({ timeout: 0 }).catch(() => {})
  if (postgres) return postgres
  const redis = new RedisClient(REDIS_URL, { autoReconnect: false, connectionTimeout: 3000 })
  const version = await bounded(
    redis.send('INFO', ['server']).then(
      (info: string) => /redis_version:(\d+)/.exec(info)?.[1],
      () => undefined,
    ),
    4000,
    undefined,
  )
  redis.close()
  if (version === undefined) return `Redis at ${REDIS_URL}: no answer`
  if (Number(version) < 7) return `Redis at ${REDIS_URL} is ${version}.x; cluster mode needs 7.0 or later`
  return undefined
}

export const randomName = (prefix: string) => `${prefix}${crypto.randomUUID().replaceAll('-', '').slice(0, 12)}`

/** The URL a node uses to keep its tables in `schema` (extensions stay in public). */
export function schemaUrl(schema: string): string {
  return `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema},public`)}`
}

async function withSql<T>(use: (sql: SQL) => Promise<T>): Promise<T> {
  const sql = new SQL(POSTGRES_URL, { max: 1, connectionTimeout: 5 })
  try {
    return await use(sql)
  } finally {
    await sql.close({ timeout: 1 })
  }
}

export const createSchema = (schema: string) => withSql((sql) => sql.unsafe(`CREATE SCHEMA "${schema}"`))

/** Messages the bench clients stored in #general. */
export function countMessages(schema: string): Promise<number> {
  return withSql(async (sql) => {
    const [row] = await sql.unsafe(`SELECT count(*)::int AS n FROM "${schema}".messages WHERE channel = 'general' AND "user" LIKE 'bench%'`)
    return (row as { n: number }).n
  })
}

export async function removeLeftovers({ schemas, prefixes }: Leftovers): Promise<void> {
  if (schemas.length > 0) await withSql(async (sql) => {
    for (const schema of schemas) await sql.unsafe(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  })
  if (prefixes.length === 0) return
  const redis = new RedisClient(REDIS_URL, { autoReconnect: false, connectionTimeout: 3000 })
  try {
    for (const prefix of prefixes) {
      let cursor = '0'
      // SCAN visits each key at least once in a bounded number of calls; the cap is a safety net.
      for (let calls = 0; calls < 100_000; calls++) {
        const [next, keys] = (await redis.send('SCAN', [cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])) as [string, string[]]
        if (keys.length > 0) await redis.send('DEL', keys)
        cursor = next
        if (cursor === '0') break
      }
    }
  } finally {
    redis.close()
  }
}

if (import.meta.main) {
  const leftovers = JSON.parse(process.argv[2] ?? '{"schemas":[],"prefixes":[]}') as Leftovers
  await removeLeftovers(leftovers).catch((e: Error) => console.error(`bench: could not remove ${JSON.stringify(leftovers)}: ${e.message}`))
  process.exit(0)
}
