import { SQL } from 'bun'
import { Database } from 'bun:sqlite'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoreFactory } from '../../src/store/open.ts'
import { openPostgresStore, preparePostgresStore } from '../../src/store/postgres/index.ts'
import { DATABASE_FILE, createSqliteStore } from '../../src/store/sqlite/index.ts'
import type { Store } from '../../src/store/types.ts'

/** Where the PostgreSQL tests run; each test gets its own schema there, dropped afterwards. */
export const POSTGRES_TEST_URL = process.env.ORIGINCHATS_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** One empty database of a driver: open it (again, to test persistence), and drop it. */
export interface TestDatabase {
  open(): Promise<Store>
  drop(): Promise<void>
}

export interface StoreDriver {
  name: 'sqlite' | 'postgres'
  /** Why this driver's tests are skipped; undefined when they run. */
  skip?: string
  fresh(): Promise<TestDatabase>
}

async function postgresUnavailable(): Promise<string | undefined> {
  const sql = new SQL(POSTGRES_TEST_URL, { max: 1, connectionTimeout: 3 })
  try {
    await sql`SELECT 1`
    return undefined
  } catch (error) {
    return `PostgreSQL store tests skipped: ${POSTGRES_TEST_URL.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@')} is not reachable (${(error as Error).message}); set ORIGINCHATS_TEST_POSTGRES_URL`
  } finally {
    await sql.close().catch(() => {})
  }
}

export const postgresSkip = await postgresUnavailable()
// One line for the whole run, however many test files import this.
if (postgresSkip) console.warn(postgresSkip)

/** A new schema `t_<random>` for one test database. */
export async function freshSchema(): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `t_${crypto.randomUUID().replaceAll('-', '')}`
  const admin = new SQL(POSTGRES_TEST_URL, { max: 1 })
  await admin.unsafe(`CREATE SCHEMA ${schema}`)
  await admin.close()
  return {
    schema,
    async drop() {
      const sql = new SQL(POSTGRES_TEST_URL, { max: 1 })
      try {
        await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
      } finally {
        await sql.close()
      }
    },
  }
}

const sqlite: StoreDriver = {
  name: 'sqlite',
  async fresh() {
    const dir = await mkdtemp(join(tmpdir(), 'originchats-store-'))
    return {
      open: async () => createSqliteStore(join(dir, DATABASE_FILE)),
      drop: () => rm(dir, { recursive: true, force: true }),
    }
  },
}

const postgres: StoreDriver = {
  name: 'postgres',
  skip: postgresSkip,
  async fresh() {
    const { schema, drop } = await freshSchema()
    const opened: Store[] = []
    return {
      async open() {
        const store = await openPostgresStore({ url: POSTGRES_TEST_URL, schema, max: 4 })
        opened.push(store)
        return store
      },
      async drop() {
        await Promise.all(opened.map((store) => store.close()))
        await drop()
      },
    }
  },
}

/**
 * Wraps a test body: it gets a store on a fresh database of `driver`, after `prepare` (fixtures);
 * the store is closed and the database dropped afterwards, whatever happened.
 */
export function withFreshStore(driver: StoreDriver, prepare: (store: Store) => Promise<void> = async () => {}) {
  return (run: (store: Store) => Promise<void>) => async () => {
    const database = await driver.fresh()
    let store: Store | undefined
    try {
      store = await database.open()
      await prepare(store)
      await run(store)
    } finally {
      await store?.close()
      await database.drop()
    }
  }
}

/** Every store driver; the store contract tests run once per driver. */
export const storeDrivers: StoreDriver[] = [sqlite, postgres]

/**
 * The store behind `startServer`: SQLite in the data folder by default; with
 * ORIGINCHATS_TEST_STORAGE=postgres, a fresh PostgreSQL schema per server, dropped at its stop.
 */
export async function serverStorage(): Promise<{ schema?: string; open(): Promise<StoreFactory | undefined>; drop(): Promise<void> }> {
  if (process.env.ORIGINCHATS_TEST_STORAGE !== 'postgres') return { open: async () => undefined, drop: async () => {} }
  if (postgresSkip) throw new Error(postgresSkip)
  const { schema, drop } = await freshSchema()
  return {
    schema,
    open: () => preparePostgresStore({ url: POSTGRES_TEST_URL, schema, max: 4 }),
    drop,
  }
}

/**
 * Runs one statement, written with `?` placeholders, on a test server's database: the SQLite file
 * `sqlitePath`, or the PostgreSQL `schema` when there is one.
 */
export async function runStatement(where: { schema?: string; sqlitePath: string }, text: string, params: Array<string | number>): Promise<void> {
  if (where.schema === undefined) {
    const db = new Database(where.sqlitePath)
    try {
      db.run(text, params)
    } finally {
      db.close()
    }
    return
  }
  const sql = new SQL(POSTGRES_TEST_URL, { max: 1, connection: { search_path: where.schema } })
  let placeholder = 0
  try {
    await sql.unsafe(text.replace(/\?/g, () => `$${++placeholder}`), params)
  } finally {
    await sql.close()
  }
}
