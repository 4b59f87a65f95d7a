import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DATABASE_FILE, createSqliteStore } from '../../src/store/sqlite/index.ts'
import { migrate } from '../../src/store/sqlite/migrate.ts'
import { migrations } from '../../src/store/sqlite/migrations/index.ts'
import { openDatabase } from '../../src/store/sqlite/open.ts'
import { TargetGoneError, type MessageRecord, type MessageRepo, type Target } from '../../src/store/types.ts'
import { storeDrivers, withFreshStore } from '../helpers/stores.ts'

const root = await mkdtemp(join(tmpdir(), 'originchats-unreads-'))
afterAll(() => rm(root, { recursive: true, force: true }))

let databases = 0
const freshPath = () => join(root, `db-${++databases}`, DATABASE_FILE)

const GENERAL: Target = { channel: 'general', thread_id: null }
const THREAD: Target = { channel: 'ideas', thread_id: 'thread-1' }
const OTHER: Target = { channel: 'random', thread_id: null }
const THREAD_RECORD = { id: THREAD.thread_id!, parent_channel: THREAD.channel, name: 'Ideas', created_by: 'u1' }

const counts = (last_read: string | null, unread_count: number, total_messages: number) => ({ last_read, unread_count, total_messages })

/** `count` messages in one group commit, oldest first. */
const seed = (messages: MessageRepo, target: Target, count: number) =>
  Promise.all(Array.from({ length: count }, (_, i) => messages.insert({ ...target, user: 'u1', content: `m${i}` })))

const ids = (messages: { id: string }[]) => messages.map((m) => m.id)

for (const driver of storeDrivers) {
  describe.skipIf(driver.skip !== undefined)(driver.name, () => {
    const withStore = withFreshStore(driver, async (store) => {
      await store.channels.insert({ name: OTHER.channel, type: 'text' })
      await store.channels.insert({ name: THREAD.channel, type: 'forum' })
      await store.threads.insert({ ...THREAD_RECORD, created_at: 1, locked: false, archived: false })
    })

    describe('unread counts', () => {
      test(
        'exact for channels and threads alike, whichever side of the position the deletions are',
        withStore(async ({ messages, unreads }) => {
          const general = await seed(messages, GENERAL, 10)
          const thread = await seed(messages, THREAD, 4)
          await unreads.set('u1', GENERAL, general[7]!.id)
          await unreads.set('u1', THREAD, thread[0]!.id)
          expect(await unreads.count('u1', [GENERAL, THREAD, OTHER])).toEqual([counts(general[7]!.id, 2, 10), counts(thread[0]!.id, 3, 4), counts(null, 0, 0)])
          expect(await unreads.count('u2', [GENERAL, THREAD])).toEqual([counts(null, 10, 10), counts(null, 4, 4)])

          // Below and above the position, the position's own message included.
          for (const i of [0, 1, 7, 9]) expect(await messages.delete(GENERAL, general[i]!.id)).toBe(true)
          expect(await messages.delete(GENERAL, general[0]!.id)).toBe(false)
          await messages.delete(THREAD, thread[2]!.id)
          expect(await unreads.count('u1', [GENERAL, THREAD])).toEqual([counts(general[7]!.id, 1, 6), counts(thread[0]!.id, 2, 3)])

          // A position low in the history counts the deletions below it instead.
          await unreads.set('u1', GENERAL, general[2]!.id)
          expect(await unreads.count('u1', [GENERAL])).toEqual([counts(general[2]!.id, 5, 6)])
          await seed(messages, GENERAL, 3)
          expect(await unreads.count('u1', [GENERAL])).toEqual([counts(general[2]!.id, 8, 9)])
          expect(await unreads.get('u1', THREAD)).toBe(thread[0]!.id)
        }),
      )

      test(
        'a position naming no message of its target counts everything as unread',
        withStore(async ({ messages, unreads }) => {
          const [inGeneral] = await seed(messages, GENERAL, 3)
          await unreads.set('u1', OTHER, inGeneral!.id)
          await unreads.set('u1', GENERAL, 'no-such-id')
          await seed(messages, OTHER, 2)
          expect(await unreads.count('u1', [GENERAL, OTHER])).toEqual([counts('no-such-id', 3, 3), counts(inGeneral!.id, 2, 2)])
        }),
      )

      test(
        'imports are counted once; IDs already stored are not counted again',
        withStore(async ({ messages, unreads }) => {
          const record = (i: number): MessageRecord => ({ ...GENERAL, id: `imported-${i}`, user: 'u1', content: `old ${i}`, timestamp: i })
          expect(await messages.importMany([0, 1, 2].map(record))).toBe(3)
          await unreads.set('u1', GENERAL, 'imported-0')
          expect(await messages.importMany([1, 2, 3].map(record))).toBe(1)
          await seed(messages, GENERAL, 1)
          expect(await unreads.count('u1', [GENERAL])).toEqual([counts('imported-0', 4, 5)])
        }),
      )

      test(
        'an insert refused in a group commit leaves its neighbours counted and its target untouched',
        withStore(async ({ channels, messages, unreads }) => {
          await channels.insert({ name: 'doomed', type: 'text' })
          await channels.delete('doomed')
          const results = await Promise.allSettled([
            messages.insert({ ...GENERAL, user: 'u1', content: 'a' }),
            messages.insert({ channel: 'doomed', thread_id: null, user: 'u1', content: 'b' }),
            messages.insert({ ...GENERAL, user: 'u1', content: 'c' }),
          ])
          expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
          expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(TargetGoneError)
          await channels.insert({ name: 'doomed', type: 'text' })
          const doomed = { channel: 'doomed', thread_id: null }
          expect(await unreads.count('u1', [GENERAL, doomed])).toEqual([counts(null, 2, 2), counts(null, 0, 0)])
          await seed(messages, doomed, 1)
          expect(await unreads.count('u1', [doomed])).toEqual([counts(null, 1, 1)])
        }),
      )

      test(
        'a channel delete also forgets the read positions of its threads',
        withStore(async ({ channels, messages, threads, unreads }) => {
          const [message] = await seed(messages, THREAD, 1)
          await unreads.set('u1', THREAD, message!.id)
          await channels.delete(THREAD.channel)
          await channels.insert({ name: THREAD.channel, type: 'forum' })
          await threads.insert({ ...THREAD_RECORD, created_at: 2, locked: false, archived: false })
          expect(await unreads.get('u1', THREAD)).toBeUndefined()
          expect(await unreads.count('u1', [THREAD])).toEqual([counts(null, 0, 0)])
        }),
      )
    })

    describe('pings', () => {
      test(
        'by user ID or role, in the given channels only, threads under their parent, newest first',
        withStore(async ({ messages, pings }) => {
          const ping = (target: Target, content: string, users: string[], roles: string[] = []) =>
            messages.insert({ ...target, user: 'author', content }, { users, roles })
          const a = await ping(GENERAL, 'a', ['u1'])
          const b = await ping(THREAD, 'b', [], ['mods'])
          const c = await ping(OTHER, 'c', ['u1'], ['mods'])
          await ping(GENERAL, 'd', ['u2'], ['admins'])
          const query = { userId: 'u1', roles: ['mods'], channels: ['general', 'ideas', 'random'], limit: 10, offset: 0 }
          expect(await pings.list(query)).toEqual({ messages: [c, b, a], total: 3 })
          expect(await pings.list({ ...query, channels: ['general', 'ideas'] })).toEqual({ messages: [b, a], total: 2 })
          expect(await pings.list({ ...query, roles: [], limit: 1, offset: 1 })).toEqual({ messages: [a], total: 2 })
          expect(await pings.list({ ...query, channels: [] })).toEqual({ messages: [], total: 0 })
        }),
      )

      test(
        'edits replace them, deletions and a user’s deletion remove them, a rename moves them',
        withStore(async ({ channels, messages, pings, users }) => {
          await users.insert({ id: 'u1', username: 'one', roles: ['user'], status: { status: 'online', text: '' }, extra: {} })
          const query = { userId: 'u1', roles: [], channels: ['random'], limit: 10, offset: 0 }
          const first = await messages.insert({ ...OTHER, user: 'author', content: 'first' }, { users: ['u1'], roles: [] })
          const second = await messages.insert({ ...OTHER, user: 'author', content: 'second' }, { users: [], roles: [] })
          await messages.edit(OTHER, second.id, 'second, now pinging', undefined, { users: ['u1'], roles: [] })
          await messages.edit(OTHER, first.id, 'first, unchanged pings')
          expect(ids((await pings.list(query)).messages)).toEqual([second.id, first.id])
          await messages.edit(OTHER, first.id, 'first, no longer pinging', undefined, { users: [], roles: [] })
          expect(ids((await pings.list(query)).messages)).toEqual([second.id])

          await channels.update('random', { name: 'renamed', type: 'text' })
          expect(await pings.list(query)).toEqual({ messages: [], total: 0 })
          expect(ids((await pings.list({ ...query, channels: ['renamed'] })).messages)).toEqual([second.id])

          await messages.delete({ channel: 'renamed', thread_id: null }, second.id)
          expect((await pings.list({ ...query, channels: ['renamed'] })).total).toBe(0)
          await messages.insert({ channel: 'renamed', thread_id: null, user: 'author', content: 'again' }, { users: ['u1'], roles: [] })
          await users.delete('u1')
          expect((await pings.list({ ...query, channels: ['renamed'] })).total).toBe(0)
        }),
      )
    })
  })
}

test('migration 6 backfills ordinals, counters, read positions and pings of an existing database', async () => {
  const path = freshPath()
  const old = openDatabase(path)
  migrate(
    old,
    migrations.filter((m) => m.version <= 3),
  )
  old.run(`INSERT INTO channels (name, position, data) VALUES ('ideas', 1, '{"type":"forum"}')`)
  old.run(`INSERT INTO users (id, username, data) VALUES ('rotur-alice', 'Alice', '{}'), ('USR:local_bob', 'USR:local_bob', '{}')`)
  const insert = old.prepare(
    `INSERT INTO messages (id, channel, thread, user, content, timestamp, reply_to_id, reply_to_user, extra) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)`,
  )
  const rows: Array<[string, string, string, string, string, string | null, string | null, string | null]> = [
    ['g1', 'general', '', 'rotur-alice', 'hello', null, null, null],
    ['t1', 'ideas', 't', 'rotur-alice', 'in a thread', null, null, null],
    ['g2', 'general', '', 'USR:local_bob', 'hi @alice and @&mods', null, null, null],
    ['g3', 'general', '', 'USR:local_bob', 'gone', null, null, null],
    ['g4', 'general', '', 'rotur-alice', 'answer @BOB', 'g2', 'USR:local_bob', null],
    ['t2', 'ideas', 't', 'USR:local_bob', 'quiet', 't1', 'rotur-alice', '{"ping":false}'],
    ['g5', 'general', '', 'USR:local_bob', 'reply', 'g1', 'rotur-alice', null],
  ]
  for (const row of rows) insert.run(...row)
  old.run(`DELETE FROM messages WHERE id = 'g3'`)
  old.run(`INSERT INTO unreads (user_id, key, last_read) VALUES ('rotur-alice', 'general', 'g2'), ('rotur-alice', 'thread/t', 't1'), ('USR:local_bob', 'general', 'gone')`)
  old.close()

  const store = createSqliteStore(path)
  try {
    const general = { channel: 'general', thread_id: null }
    const thread = { channel: 'ideas', thread_id: 't' }
    expect(await store.unreads.count('rotur-alice', [general, thread])).toEqual([counts('g2', 2, 4), counts('t1', 1, 2)])
    expect(await store.unreads.count('USR:local_bob', [general])).toEqual([counts('gone', 4, 4)])
    // New messages continue the backfilled ordinals.
    await store.messages.insert({ ...general, user: 'x', content: 'new' })
    expect(await store.unreads.count('rotur-alice', [general])).toEqual([counts('g2', 3, 5)])

    const query = { roles: ['mods'], channels: ['general', 'ideas'], limit: 10, offset: 0 }
    expect(ids((await store.pings.list({ ...query, userId: 'rotur-alice' })).messages)).toEqual(['g5', 'g2'])
    expect(ids((await store.pings.list({ ...query, userId: 'USR:local_bob', roles: [] })).messages)).toEqual(['g4'])
  } finally {
    store.close()
  }
})
