import { SQL } from 'bun'
import { afterEach, describe, expect, test } from 'bun:test'
import { connect } from '../../src/store/postgres/db.ts'
import { openPostgresStore, preparePostgresStore } from '../../src/store/postgres/index.ts'
import { migrate } from '../../src/store/postgres/migrate.ts'
import { migrations } from '../../src/store/postgres/migrations/index.ts'
import { DatabaseTooNewError, MigrationError } from '../../src/store/sqlite/migrate.ts'
import { TargetGoneError, type Store, type Target } from '../../src/store/types.ts'
import { POSTGRES_TEST_URL, freshSchema, storeDrivers } from '../helpers/stores.ts'
import { startTcpProxy } from '../helpers/tcp-proxy.ts'

/** What only the PostgreSQL driver has: a shared database for several nodes. The Store contract is in contract.test.ts. */

const skip = storeDrivers.find((d) => d.name === 'postgres')!.skip
const GENERAL: Target = { channel: 'general', thread_id: null }
const LATEST = Math.max(...migrations.map((m) => m.version))

/** Cleanups of the current test, run after it whatever happened. */
let cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
  cleanups = []
})

async function schema() {
  const fresh = await freshSchema()
  cleanups.push(fresh.drop)
  return fresh.schema
}

/** A store of a "node": its own pool on the shared schema. */
async function node(schemaName: string, options: { url?: string; applicationName?: string } = {}): Promise<Store> {
  const store = await openPostgresStore({ url: options.url ?? POSTGRES_TEST_URL, schema: schemaName, max: 4, applicationName: options.applicationName })
  cleanups.push(() => store.close())
  return store
}

/**
 * Two "nodes" whose stores tell each other what to forget, as the cluster's stream does;
 * `told` lists the scopes each one sent.
 */
async function pairedNodes(schemaName: string): Promise<Array<{ store: Store; told: string[] }>> {
  const nodes: Array<{ store: Store; told: string[] }> = []
  for (const other of [1, 0]) {
    const told: string[] = []
    const build = await preparePostgresStore({ url: POSTGRES_TEST_URL, schema: schemaName, max: 4 })
    const store = build({
      changed: (scope) => {
        told.push(scope)
        nodes[other]?.store.invalidate?.(scope)
      },
    })
    cleanups.push(() => store.close())
    nodes.push({ store, told })
  }
  return nodes
}

async function admin<T>(work: (sql: SQL) => Promise<T>): Promise<T> {
  const sql = new SQL(POSTGRES_TEST_URL, { max: 1 })
  try {
    return await work(sql)
  } finally {
    await sql.close()
  }
}

const versionsIn = (schemaName: string) =>
  admin(async (sql) => (await sql.unsafe(`SELECT version FROM ${schemaName}.schema_migrations ORDER BY version`)).map((r: { version: number }) => r.version))

describe.skipIf(skip !== undefined)('postgres', () => {
  describe('migrations', () => {
    test('nodes starting together migrate once: the advisory lock lets one apply, the others find nothing left', async () => {
      const name = await schema()
      const logged: string[] = []
      const stores = await Promise.all(
        Array.from({ length: 5 }, () => openPostgresStore({ url: POSTGRES_TEST_URL, schema: name, max: 2, log: { info: (line) => logged.push(line) } })),
      )
      cleanups.push(() => Promise.all(stores.map((s) => s.close())).then(() => {}))
      expect(await versionsIn(name)).toEqual(migrations.map((m) => m.version))
      expect(logged).toEqual([`migrated ${POSTGRES_TEST_URL} (schema ${name}) to schema v${LATEST} (applied migrations ${migrations.map((m) => m.version).join(', ')})`])
      // Seeded once, whoever did it.
      expect(await stores[4]!.roles.count()).toBe(4)
      expect((await stores[0]!.channels.list()).map((c) => c.name)).toEqual(['general'])
    })

    test('a database migrated by a newer binary is refused and left as it is', async () => {
      const name = await schema()
      await (await node(name)).close()
      await admin((sql) => sql.unsafe(`INSERT INTO ${name}.schema_migrations (version, name, applied_at) VALUES (${LATEST + 2}, 'future', 0)`))
      const opening = openPostgresStore({ url: POSTGRES_TEST_URL, schema: name })
      expect(opening).rejects.toBeInstanceOf(DatabaseTooNewError)
      await expect(opening).rejects.toThrow(
        `${POSTGRES_TEST_URL} (schema ${name}) has database schema version ${LATEST + 2}, but this originchats knows versions up to ${LATEST}`,
      )
      expect(await versionsIn(name)).toEqual([...migrations.map((m) => m.version), LATEST + 2])
    })

    test('a failing migration leaves the schema as it was, earlier pending ones included', async () => {
      const name = await schema()
      const db = connect({ url: POSTGRES_TEST_URL, schema: name, max: 1 })
      cleanups.push(() => db.close())
      expect(await migrate(db, 'db', migrations.slice(0, 1))).toEqual([1])
      const broken = { version: LATEST + 1, name: 'broken', up: 'CREATE TABLE half_done (x int); INSERT INTO no_such_table VALUES (1)' }
      const failing = migrate(db, 'db', [...migrations, broken])
      expect(failing).rejects.toBeInstanceOf(MigrationError)
      await expect(failing).rejects.toThrow(`migration ${LATEST + 1} (broken) failed, nothing was changed: relation "no_such_table" does not exist`)
      expect(await db.all(`SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename = 'half_done'`, [name])).toEqual([])
      expect(await db.one('SELECT COUNT(*)::int AS n FROM roles')).toEqual({ n: 0 })
      expect(await versionsIn(name)).toEqual([1])
    })
  })

  describe('two nodes on one database', () => {
    test('a node forgets the users, roles and channels it cached once another node tells it of their change', async () => {
      const name = await schema()
      const [a, b] = await pairedNodes(name)
      await a.store.users.insert({ id: 'u1', username: 'Alice', roles: ['admin'], status: { status: 'online', text: '' }, extra: {} })
      expect((await b.store.users.get('u1'))?.roles).toEqual(['admin'])
      expect((await a.store.channels.list()).map((c) => c.name)).toEqual(['general'])
      expect((await a.store.roles.get('admin'))?.color).not.toBe('#000000')
      b.told.length = 0
      await b.store.users.update('u1', { username: 'Alicia' })
      await b.store.channels.insert({ name: 'news', type: 'text' })
      await b.store.roles.update('admin', { color: '#000000' })
      expect(b.told).toEqual(['user:u1', 'channels', 'roles'])
      expect((await a.store.users.get('u1'))?.username).toBe('Alicia')
      expect((await a.store.channels.list()).map((c) => c.name)).toEqual(['general', 'news'])
      expect((await a.store.channels.get('news'))?.type).toBe('text')
      expect((await a.store.roles.get('admin'))?.color).toBe('#000000')
      // A rename rewrites every holder's list: all cached users go.
      await b.store.roles.update('admin', { name: 'boss' })
      expect((await a.store.users.get('u1'))?.roles).toEqual(['boss'])
    })

    test('reactions from both nodes at once are all kept, and the emoji limit holds', async () => {
      const name = await schema()
      const [a, b] = [await node(name), await node(name)]
      const { id } = await a.messages.insert({ ...GENERAL, user: 'u0', content: 'react' })
      const users = Array.from({ length: 30 }, (_, i) => `u${i}`)
      const outcomes = await Promise.all(users.map((user, i) => (i % 2 ? a : b).messages.addReaction(GENERAL, id, '👍', user, 5)))
      expect(outcomes.every((o) => o === 'added')).toBe(true)
      expect(new Set((await b.messages.get(GENERAL, id))?.reactions?.['👍'])).toEqual(new Set(users))

      const emojis = Array.from({ length: 12 }, (_, i) => `e${i}`)
      const limited = await Promise.all(emojis.map((emoji, i) => (i % 2 ? a : b).messages.addReaction(GENERAL, id, emoji, 'u1', 5)))
      // 👍 is one of the five.
      expect(limited.filter((o) => o === 'added')).toHaveLength(4)
      expect(limited.filter((o) => o === 'full')).toHaveLength(8)
      expect(Object.keys((await a.messages.get(GENERAL, id))!.reactions!)).toHaveLength(5)
    })

    test('updateWith from both nodes at once loses no change', async () => {
      const name = await schema()
      const [a, b] = [await node(name), await node(name)]
      await a.users.insert({ id: 'u1', username: 'counter', roles: ['user'], status: { status: 'online', text: '' }, extra: { n: 0 } })
      await Promise.all(
        Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).users.updateWith('u1', (user) => ({ extra: { n: (user.extra.n as number) + 1 } }))),
      )
      expect((await a.users.get('u1'))?.extra).toEqual({ n: 30 })
    })

    test('messages from both nodes at once get distinct ordinals: counts and indices stay exact', async () => {
      const name = await schema()
      const [a, b] = [await node(name), await node(name)]
      const sent = await Promise.all(Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).messages.insert({ ...GENERAL, user: 'u1', content: `m${i}` })))
      const ordinals = await admin((sql) => sql.unsafe(`SELECT n FROM ${name}.messages ORDER BY seq`))
      expect(ordinals.map((r: { n: string }) => Number(r.n))).toEqual(Array.from({ length: 60 }, (_, i) => i + 1))
      const listed = await b.messages.listLatest(GENERAL, 0, 100)
      expect(new Set(listed.map((m) => m.id))).toEqual(new Set(sent.map((m) => m.id)))
      await a.unreads.set('reader', GENERAL, listed[9]!.id)
      expect(await b.unreads.count('reader', [GENERAL])).toEqual([{ last_read: listed[9]!.id, unread_count: 50, total_messages: 60 }])
      const around = await a.messages.listAround(GENERAL, listed[30]!.id, 0, 0)
      expect(around?.first).toBe(30)
    })
  })

  describe('group commit', () => {
    test('the inserts of one turn share one commit; one whose channel is gone is refused alone', async () => {
      const name = await schema()
      const commits: number[] = []
      const store = await openPostgresStore({ url: POSTGRES_TEST_URL, schema: name, messagesCommitted: (_seconds, stored) => commits.push(stored) })
      cleanups.push(() => store.close())
      const targets = ['general', 'general', 'gone', 'general', 'general']
      const results = await Promise.allSettled(targets.map((channel, i) => store.messages.insert({ channel, thread_id: null, user: 'u1', content: `m${i}` })))
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
      expect((results[2] as PromiseRejectedResult).reason).toBeInstanceOf(TargetGoneError)
      expect(commits).toEqual([4])
      expect((await store.messages.listLatest(GENERAL, 0, 10)).map((m) => m.content)).toEqual(['m0', 'm1', 'm3', 'm4'])
      // Acknowledged means committed: closing right after an insert keeps it.
      const last = store.messages.insert({ ...GENERAL, user: 'u1', content: 'last' })
      await store.close()
      await last
      const again = await node(name)
      expect((await again.messages.newest(GENERAL))?.content).toBe('last')
    })

    test('inserts requested while a batch commits wait for it, then commit together', async () => {
      const name = await schema()
      const commits: number[] = []
      const store = await openPostgresStore({ url: POSTGRES_TEST_URL, schema: name, messagesCommitted: (_seconds, stored) => commits.push(stored) })
      cleanups.push(() => store.close())
      const turn = () => new Promise((resolve) => setImmediate(resolve))
      const first = store.messages.insert({ ...GENERAL, user: 'u1', content: 'first' })
      await turn()
      // Each in a turn of its own, all while the first batch's round trips are under way.
      const later: Promise<unknown>[] = []
      for (let i = 0; i < 5; i++) {
        later.push(store.messages.insert({ ...GENERAL, user: 'u1', content: `later ${i}` }))
        await turn()
      }
      await Promise.all([first, ...later])
      expect(commits).toEqual([1, 5])
      expect((await store.messages.listLatest(GENERAL, 0, 10)).map((m) => m.content)).toEqual(['first', 'later 0', 'later 1', 'later 2', 'later 3', 'later 4'])
    })
  })

  describe('connections', () => {
    test('after the server ended every connection (a restart), the next statements and transactions retry on fresh ones', async () => {
      const name = await schema()
      const applicationName = `originchats-test-${crypto.randomUUID()}`
      const store = await node(name, { applicationName })
      await store.users.insert({ id: 'u1', username: 'Alice', roles: ['user'], status: { status: 'online', text: '' }, extra: {} })
      // Several pooled connections, so more than one is stale afterwards.
      await Promise.all(Array.from({ length: 4 }, () => store.users.list()))
      const ended = await admin((sql) => sql`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = ${applicationName}`)
      expect(ended.length).toBeGreaterThan(0)
      expect((await Promise.all(Array.from({ length: 4 }, () => store.users.get('u1')))).map((u) => u?.username)).toEqual(['Alice', 'Alice', 'Alice', 'Alice'])
      await admin((sql) => sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ${applicationName}`)
      expect((await store.users.update('u1', { nickname: 'Al' }))?.nickname).toBe('Al')
      await store.ping()
    })

    test('while the database is unreachable requests fail with an error; once it is back they succeed again', async () => {
      const name = await schema()
      const proxy = startTcpProxy(new URL(POSTGRES_TEST_URL).port ? Number(new URL(POSTGRES_TEST_URL).port) : 5432, new URL(POSTGRES_TEST_URL).hostname)
      cleanups.push(() => proxy.stop())
      const url = new URL(POSTGRES_TEST_URL)
      url.port = String(proxy.port)
      const store = await node(name, { url: url.href })
      await store.messages.insert({ ...GENERAL, user: 'u1', content: 'before' })

      proxy.cut()
      await expect(store.ping()).rejects.toThrow()
      await expect(store.messages.insert({ ...GENERAL, user: 'u1', content: 'during' })).rejects.toThrow()
      await expect(store.users.list()).rejects.toThrow()

      proxy.resume()
      await store.ping()
      await store.messages.insert({ ...GENERAL, user: 'u1', content: 'after' })
      expect((await store.messages.listLatest(GENERAL, 0, 10)).map((m) => m.content)).toEqual(['before', 'after'])
    })
  })
})
