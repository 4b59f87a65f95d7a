import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { DATABASE_FILE, createSqliteStore } from '../../src/store/sqlite/index.ts'
import { DatabaseTooNewError, MigrationError, migrate } from '../../src/store/sqlite/migrate.ts'
import { migrations } from '../../src/store/sqlite/migrations/index.ts'
import { openDatabase } from '../../src/store/sqlite/open.ts'
import { TargetGoneError, type MessageRepo, type NewMessage, type Store, type Target } from '../../src/store/types.ts'

const root = await mkdtemp(join(tmpdir(), 'originchats-store-'))
afterAll(() => rm(root, { recursive: true, force: true }))

let databases = 0
/** A fresh database file per test, so tests stay independent. */
const freshPath = () => join(root, `db-${++databases}`, DATABASE_FILE)

const GENERAL: Target = { channel: 'general', thread_id: null }
const THREAD: Target = { channel: 'general', thread_id: 'thread-1' }
const OTHER: Target = { channel: 'random', thread_id: null }

const message = (target: Target, content: string, user = 'u1'): NewMessage => ({ ...target, user, content })

async function seed(messages: MessageRepo, target: Target, count: number, prefix = 'm') {
  const out = []
  for (let i = 0; i < count; i++) out.push(await messages.insert(message(target, `${prefix}${i}`)))
  return out
}

const contents = (list: { content: string }[]) => list.map((m) => m.content)

function withStore(run: (store: Store, path: string) => Promise<void>) {
  return async () => {
    const path = freshPath()
    const store = createSqliteStore(path)
    // #general comes with the database; messages may only be stored in channels that exist.
    await store.channels.insert({ name: OTHER.channel, type: 'text' })
    await store.threads.insert({ id: THREAD.thread_id!, parent_channel: THREAD.channel, name: 't', created_by: 'u1', created_at: 0, locked: false, archived: false })
    try {
      await run(store, path)
    } finally {
      store.close()
    }
  }
}

describe('migrations', () => {
  test('apply once; running them again changes nothing', () => {
    const db = openDatabase(freshPath())
    try {
      expect(migrate(db)).toEqual(migrations.map((m) => m.version))
      expect(migrate(db)).toEqual([])
      expect(db.query('SELECT version, name FROM schema_migrations ORDER BY version').all()).toEqual(
        migrations.map(({ version, name }) => ({ version, name })),
      )
      expect(migrations.slice(0, 2).map((m) => m.name)).toEqual(['initial', 'defaults'])
    } finally {
      db.close()
    }
  })

  const LATEST = Math.max(...migrations.map((m) => m.version))
  const versions = (path: string) => {
    const db = openDatabase(path)
    try {
      return db.query<{ version: number }, []>('SELECT version FROM schema_migrations ORDER BY version').all().map((r) => r.version)
    } finally {
      db.close()
    }
  }

  test('an older database is copied to backups/, then upgraded, and both steps are logged', async () => {
    const path = freshPath()
    const old = openDatabase(path)
    migrate(old, migrations.slice(0, 1))
    old.run(`INSERT INTO users (id, username, data) VALUES ('u1', 'kept', '{}')`)
    old.close()

    const logged: string[] = []
    const store = createSqliteStore(path, 'normal', { log: { info: (line) => logged.push(line) } })
    try {
      // Migration 2 seeds the default roles: proof the pending migrations ran on the old data.
      expect(await store.roles.count()).toBe(4)
      expect((await store.users.get('u1'))?.username).toBe('kept')
    } finally {
      store.close()
    }
    expect(versions(path)).toEqual(migrations.map((m) => m.version))
    const backups = await readdir(join(dirname(path), 'backups'))
    expect(backups).toEqual([expect.stringMatching(new RegExp(`^pre-migration-v1-to-v${LATEST}-\\d{4}-\\d\\d-\\d\\dT[\\d-]+\\.\\d{3}Z\\.db$`))])
    const backup = join(dirname(path), 'backups', backups[0]!)
    // The copy is the database as it was: version 1 only, with its data.
    expect(versions(backup)).toEqual([1])
    expect(logged).toEqual([
      `copied ${path} (schema v1) to ${backup} before upgrading it`,
      `upgraded ${path} from schema v1 to v${LATEST} (applied migrations ${migrations.slice(1).map((m) => `${m.version} ${m.name}`).join(', ')})`,
    ])
  })

  test('a fresh database is created without a backup or log lines', () => {
    const path = freshPath()
    const logged: string[] = []
    createSqliteStore(path, 'normal', { log: { info: (line) => logged.push(line) } }).close()
    expect(versions(path)).toEqual(migrations.map((m) => m.version))
    expect(existsSync(join(dirname(path), 'backups'))).toBe(false)
    expect(logged).toEqual([])
  })

  test('a database from a newer binary is refused and left untouched', async () => {
    const path = freshPath()
    createSqliteStore(path).close()
    const db = openDatabase(path)
    db.run(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (${LATEST + 2}, 'from the future', 0)`)
    // Everything into the main file now: a later open must find nothing of ours left to write.
    db.run('PRAGMA wal_checkpoint(TRUNCATE)')
    db.close()
    const before = await Bun.file(path).bytes()

    expect(() => createSqliteStore(path)).toThrow(DatabaseTooNewError)
    expect(() => createSqliteStore(path)).toThrow(
      `${path} has database schema version ${LATEST + 2}, but this originchats knows versions up to ${LATEST}: ` +
        'it was upgraded by a newer originchats. Run that newer binary, or restore a backup made before the upgrade.',
    )
    expect(await Bun.file(path).bytes()).toEqual(before)
    expect(existsSync(join(dirname(path), 'backups'))).toBe(false)
  })

  test('a failing migration leaves the database as it was, earlier pending ones included', () => {
    const path = freshPath()
    const db = openDatabase(path)
    try {
      migrate(db, migrations.slice(0, 1))
      const broken = { version: LATEST + 1, name: 'broken', up: 'CREATE TABLE half_done (x); INSERT INTO no_such_table VALUES (1)' }
      expect(() => migrate(db, [...migrations, broken])).toThrow(MigrationError)
      expect(() => migrate(db, [...migrations, broken])).toThrow(`migration ${LATEST + 1} (broken) failed, nothing was changed: no such table: no_such_table`)
      const tables = db.query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('half_done', 'modlog')").all()
      expect(tables).toEqual([])
      expect(db.query('SELECT COUNT(*) AS n FROM roles').get()).toEqual({ n: 0 })
    } finally {
      db.close()
    }
    expect(versions(path)).toEqual([1])
  })

  test('default roles and #general are seeded once, across reopenings', async () => {
    const path = freshPath()
    for (let round = 0; round < 3; round++) {
      const store = createSqliteStore(path)
      try {
        const roles = await store.roles.list()
        expect(roles.map((r) => [r.name, r.position, r.color, r.hoisted])).toEqual([
          ['owner', 0, '#9400D3', true],
          ['admin', 1, '#FF0000', true],
          ['moderator', 2, '#FFFF00', true],
          ['user', 3, null, false],
        ])
        expect(await store.roles.get('owner')).toMatchObject({
          name: 'owner',
          id: expect.any(String),
          description: 'Server owner with ultimate permissions.',
          permissions: ['administrator'],
          self_assignable: false,
          category: null,
        })
        expect(await store.channels.list()).toEqual([
          {
            type: 'text',
            name: 'general',
            description: 'General chat channel for everyone',
            permissions: { view: ['user'], send: ['user'], delete: ['admin', 'moderator'], create_thread: ['user'] },
          },
        ])
        expect(await store.roles.count()).toBe(4)
        expect(await store.channels.count()).toBe(1)
      } finally {
        store.close()
      }
    }
  })
})

describe('messages paging', () => {
  test(
    'listLatest pages back from the newest, oldest first within a page',
    withStore(async ({ messages }) => {
      await seed(messages, GENERAL, 5)
      expect(contents(await messages.listLatest(GENERAL, 0, 2))).toEqual(['m3', 'm4'])
      expect(contents(await messages.listLatest(GENERAL, 2, 2))).toEqual(['m1', 'm2'])
      expect(contents(await messages.listLatest(GENERAL, 4, 10))).toEqual(['m0'])
      expect(contents(await messages.listLatest(GENERAL, 0, 100))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
      expect(await messages.listLatest(GENERAL, 5, 10)).toEqual([])
      expect(await messages.listLatest(OTHER, 0, 10)).toEqual([])
    }),
  )

  test(
    'listBefore returns older messages with their index; unknown anchors are undefined',
    withStore(async ({ messages }) => {
      const list = await seed(messages, GENERAL, 5)
      const page = await messages.listBefore(GENERAL, list[3]!.id, 2)
      expect([contents(page!.messages), page!.first]).toEqual([['m1', 'm2'], 1])
      const rest = await messages.listBefore(GENERAL, list[3]!.id, 10)
      expect([contents(rest!.messages), rest!.first]).toEqual([['m0', 'm1', 'm2'], 0])
      expect(await messages.listBefore(GENERAL, list[0]!.id, 10)).toEqual({ messages: [], first: 0 })
      expect(await messages.listBefore(GENERAL, 'no-such-id', 10)).toBeUndefined()
      // The anchor must belong to the target.
      expect(await messages.listBefore(OTHER, list[3]!.id, 10)).toBeUndefined()
    }),
  )

  test(
    'indices count live messages only: deleting older ones moves a message down, newer ones do not',
    withStore(async ({ messages }) => {
      const list = await seed(messages, GENERAL, 6)
      await messages.delete(GENERAL, list[1]!.id)
      await messages.delete(GENERAL, list[5]!.id)
      const around = await messages.listAround(GENERAL, list[3]!.id, 1, 1)
      expect([contents(around!.messages), around!.first]).toEqual([['m2', 'm3', 'm4'], 1])
      const before = await messages.listBefore(GENERAL, list[4]!.id, 10)
      expect([contents(before!.messages), before!.first]).toEqual([['m0', 'm2', 'm3'], 0])
    }),
  )

  test(
    'channels and threads are separate targets',
    withStore(async ({ messages }) => {
      await seed(messages, GENERAL, 2, 'c')
      const [threadMessage] = await seed(messages, THREAD, 1, 't')
      await seed(messages, GENERAL, 1, 'd')
      expect(contents(await messages.listLatest(GENERAL, 0, 10))).toEqual(['c0', 'c1', 'd0'])
      expect(contents(await messages.listLatest(THREAD, 0, 10))).toEqual(['t0'])
      expect(await messages.get(GENERAL, threadMessage!.id)).toBeUndefined()
      expect(await messages.get(THREAD, threadMessage!.id)).toMatchObject({ content: 't0', thread_id: 'thread-1', channel: 'general' })
      expect((await messages.newest(GENERAL))?.content).toBe('d0')
      expect((await messages.newest(THREAD))?.content).toBe('t0')
      expect(await messages.newest(OTHER)).toBeUndefined()
    }),
  )

  test(
    'insert assigns an id and a float timestamp; optional keys round-trip',
    withStore(async ({ messages }) => {
      const before = Date.now() / 1000
      const first = await messages.insert(message(GENERAL, 'hello'))
      const reply = await messages.insert({
        ...message(GENERAL, 'reply', 'u2'),
        reply_to: { id: first.id, user: 'u1' },
        embeds: [{ title: 'x' }],
        ping: true,
      })
      expect(first.id).toMatch(/^[0-9a-f-]{36}$/)
      expect(first.timestamp).toBeGreaterThanOrEqual(before - 1)
      expect(await messages.get(GENERAL, reply.id)).toEqual({
        id: reply.id,
        channel: 'general',
        thread_id: null,
        user: 'u2',
        content: 'reply',
        timestamp: reply.timestamp,
        reply_to: { id: first.id, user: 'u1' },
        embeds: [{ title: 'x' }],
        ping: true,
      })
      expect(contents(await messages.listReplies(GENERAL, first.id, 10))).toEqual(['reply'])
    }),
  )
})

describe('reactions', () => {
  test(
    'add is idempotent per user; remove drops the user, then the emoji',
    withStore(async ({ messages }) => {
      const { id } = await messages.insert(message(GENERAL, 'react to me'))
      expect(await messages.addReaction(GENERAL, id, '👍', 'u1', 20)).toBe('added')
      expect(await messages.addReaction(GENERAL, id, '👍', 'u1', 20)).toBe('failed')
      expect(await messages.addReaction(GENERAL, id, '👍', 'u2', 20)).toBe('added')
      expect(await messages.addReaction(GENERAL, id, '🎉', 'u2', 20)).toBe('added')
      expect((await messages.get(GENERAL, id))?.reactions).toEqual({ '👍': ['u1', 'u2'], '🎉': ['u2'] })

      expect(await messages.removeReaction(GENERAL, id, '🎉', 'u1')).toBe(false)
      expect(await messages.removeReaction(GENERAL, id, '❤️', 'u1')).toBe(false)
      expect(await messages.removeReaction(GENERAL, id, '👍', 'u1')).toBe(true)
      expect((await messages.get(GENERAL, id))?.reactions).toEqual({ '👍': ['u2'], '🎉': ['u2'] })
      expect(await messages.removeReaction(GENERAL, id, '🎉', 'u2')).toBe(true)
      expect((await messages.get(GENERAL, id))?.reactions).toEqual({ '👍': ['u2'] })
      expect(await messages.removeReaction(GENERAL, id, '👍', 'u2')).toBe(true)
      expect(await messages.get(GENERAL, id)).not.toHaveProperty('reactions')
    }),
  )

  test(
    'a message takes at most the given number of different emojis; more users on one of them still fit',
    withStore(async ({ messages }) => {
      const { id } = await messages.insert(message(GENERAL, 'popular'))
      expect(await messages.addReaction(GENERAL, id, 'a', 'u1', 2)).toBe('added')
      expect(await messages.addReaction(GENERAL, id, 'b', 'u1', 2)).toBe('added')
      expect(await messages.addReaction(GENERAL, id, 'c', 'u1', 2)).toBe('full')
      expect(await messages.addReaction(GENERAL, id, 'b', 'u2', 2)).toBe('added')
      expect((await messages.get(GENERAL, id))?.reactions).toEqual({ a: ['u1'], b: ['u1', 'u2'] })
    }),
  )

  test(
    'missing messages (or the wrong target) report false',
    withStore(async ({ messages }) => {
      const { id } = await messages.insert(message(GENERAL, 'x'))
      expect(await messages.addReaction(GENERAL, 'no-such-id', '👍', 'u1', 20)).toBe('failed')
      expect(await messages.addReaction(THREAD, id, '👍', 'u1', 20)).toBe('failed')
      expect(await messages.removeReaction(GENERAL, 'no-such-id', '👍', 'u1')).toBe(false)
      expect(await messages.get(GENERAL, id)).not.toHaveProperty('reactions')
    }),
  )
})

describe('search', () => {
  test(
    'three or more characters: case-insensitive substring, newest first, limited, scoped',
    withStore(async ({ messages }) => {
      for (const content of ['Hello world', 'say hello', 'goodbye', 'HELLO again', 'shell output']) {
        await messages.insert(message(GENERAL, content))
      }
      await messages.insert(message(OTHER, 'hello elsewhere'))
      await messages.insert(message(THREAD, 'hello in a thread'))
      expect(contents(await messages.search(GENERAL, 'hello', 10))).toEqual(['HELLO again', 'say hello', 'Hello world'])
      expect(contents(await messages.search(GENERAL, 'ELL', 10))).toEqual(['shell output', 'HELLO again', 'say hello', 'Hello world'])
      expect(contents(await messages.search(GENERAL, 'hello', 2))).toEqual(['HELLO again', 'say hello'])
      expect(contents(await messages.search(THREAD, 'hello', 10))).toEqual(['hello in a thread'])
      expect(await messages.search(GENERAL, 'absent', 10)).toEqual([])
    }),
  )

  test(
    'an indexed search looks at the newest 20,000 matches of the whole server at most',
    withStore(async ({ messages }) => {
      const at = (i: number, target: Target, content: string) => ({ ...target, id: `m${i}`, user: 'u1', content, timestamp: i })
      const busy = Array.from({ length: 20_000 }, (_, i) => at(i + 1, OTHER, `needle ${i}`))
      await messages.importMany([at(0, GENERAL, 'old needle'), ...busy, at(20_001, GENERAL, 'new needle')])
      // The old match lies beyond the bounded window; the new one is inside it.
      expect(contents(await messages.search(GENERAL, 'needle', 10))).toEqual(['new needle'])
      expect(contents(await messages.search(GENERAL, 'old needle', 10))).toEqual(['old needle'])
    }),
  )

  test(
    'short queries scan; quotes and FTS syntax are taken literally',
    withStore(async ({ messages }) => {
      for (const content of ['ab cd', 'xAB', 'nothing', 'say "hi" OR bye', 'a*b NEAR c']) await messages.insert(message(GENERAL, content))
      expect(contents(await messages.search(GENERAL, 'ab', 10))).toEqual(['xAB', 'ab cd'])
      expect(contents(await messages.search(GENERAL, 'Ab', 1))).toEqual(['xAB'])
      expect(contents(await messages.search(GENERAL, '"hi"', 10))).toEqual(['say "hi" OR bye'])
      expect(contents(await messages.search(GENERAL, 'hi" OR', 10))).toEqual(['say "hi" OR bye'])
      expect(contents(await messages.search(GENERAL, 'a*b', 10))).toEqual(['a*b NEAR c'])
      expect(contents(await messages.search(GENERAL, 'NEAR', 10))).toEqual(['a*b NEAR c'])
      // Short queries fold case beyond ASCII.
      await messages.insert(message(GENERAL, 'ÄÖ umlauts'))
      expect(contents(await messages.search(GENERAL, 'äö', 10))).toEqual(['ÄÖ umlauts'])
    }),
  )

  test(
    'edits and deletions update the index',
    withStore(async ({ messages }) => {
      const first = await messages.insert(message(GENERAL, 'original words'))
      const second = await messages.insert(message(GENERAL, 'other words'))
      expect(await messages.edit(GENERAL, first.id, 'rewritten')).toMatchObject({ content: 'rewritten', edited: true })
      expect(await messages.search(GENERAL, 'original', 10)).toEqual([])
      expect(contents(await messages.search(GENERAL, 'rewrit', 10))).toEqual(['rewritten'])
      expect(await messages.delete(GENERAL, second.id)).toBe(true)
      expect(await messages.delete(GENERAL, second.id)).toBe(false)
      expect(await messages.search(GENERAL, 'words', 10)).toEqual([])
    }),
  )
})

test('data survives closing and reopening', async () => {
  const path = freshPath()
  let store = createSqliteStore(path)
  await store.users.insert({ id: 'rotur-alice', username: 'Alice', roles: ['user'], status: { status: 'online', text: '' }, extra: { theme: 'dark' } })
  await store.users.update('rotur-alice', { roles: ['moderator', 'user'], nickname: 'Al' })
  await store.channels.insert({ name: 'random', type: 'text', permissions: { view: ['user'] }, icon: 'x.png' })
  const [first, second] = await seed(store.messages, GENERAL, 2)
  await store.messages.addReaction(GENERAL, first!.id, '👍', 'rotur-alice', 20)
  await store.messages.setPinned(GENERAL, second!.id, true)
  await store.messages.edit(GENERAL, second!.id, 'edited')
  await store.threads.insert({ id: THREAD.thread_id!, parent_channel: THREAD.channel, name: 'Ideas', created_by: 'rotur-alice', created_at: 1, locked: false, archived: false })
  await store.threads.join(THREAD.thread_id!, 'rotur-bob')
  await store.messages.insert(message(THREAD, 'in thread'))
  await store.unreads.set('rotur-alice', GENERAL, second!.id)
  store.close()

  store = createSqliteStore(path)
  try {
    expect(await store.users.getByUsername('alice')).toEqual({
      id: 'rotur-alice',
      username: 'Alice',
      roles: ['moderator', 'user'],
      status: { status: 'online', text: '' },
      nickname: 'Al',
      extra: { theme: 'dark' },
    })
    expect((await store.channels.list()).map((c) => c.name)).toEqual(['general', 'random'])
    expect(await store.channels.get('random')).toEqual({ name: 'random', type: 'text', permissions: { view: ['user'] }, icon: 'x.png' })
    expect(await store.messages.listLatest(GENERAL, 0, 10)).toEqual([
      { ...first!, reactions: { '👍': ['rotur-alice'] } },
      { ...second!, content: 'edited', edited: true, pinned: true },
    ])
    expect(contents(await store.messages.listPinned(GENERAL))).toEqual(['edited'])
    expect(contents(await store.messages.search(GENERAL, 'edited', 10))).toEqual(['edited'])
    expect(contents(await store.messages.listLatest(THREAD, 0, 10))).toEqual(['in thread'])
    expect(await store.threads.get(THREAD.thread_id!)).toEqual({
      id: THREAD.thread_id!,
      name: 'Ideas',
      parent_channel: 'general',
      created_by: 'rotur-alice',
      created_at: 1,
      locked: false,
      archived: false,
      participants: ['rotur-alice', 'rotur-bob'],
    })
    expect(await store.unreads.get('rotur-alice', GENERAL)).toBe(second!.id)
    expect(await store.roles.count()).toBe(4)
  } finally {
    store.close()
  }
})

describe('users', () => {
  test(
    'deleting a user removes their read positions; renaming or deleting a role reaches every user',
    withStore(async ({ users, roles, unreads }) => {
      const user = { id: 'u1', username: 'Alice', roles: ['moderator', 'user'], status: { status: 'online', text: '' }, extra: {} }
      await users.insert(user)
      await users.insert({ ...user, id: 'u2', username: 'bob', roles: ['user'] })
      await unreads.set('u1', GENERAL, 'm1')
      await roles.update('moderator', { name: 'mod' })
      expect((await users.getByUsername('alice'))?.roles).toEqual(['mod', 'user'])
      await roles.delete('mod')
      expect((await users.get('u1'))?.roles).toEqual(['user'])
      expect(await users.delete('u1')).toBe(true)
      expect(await unreads.get('u1', GENERAL)).toBeUndefined()
      expect(await users.resolve('alice')).toBeUndefined()
      expect((await users.resolve('u2'))?.username).toBe('bob')
    }),
  )
})

describe('channel renames and deletes with inserts still waiting for their group commit', () => {
  const RENAMED: Target = { channel: 'renamed', thread_id: null }

  test(
    'a rename moves them with the channel; an insert that comes after it is refused',
    withStore(async ({ channels, messages }) => {
      const queued = messages.insert(message(OTHER, 'in flight'))
      await channels.update(OTHER.channel, { name: RENAMED.channel, type: 'text' })
      expect((await queued).content).toBe('in flight')
      expect(contents(await messages.listLatest(RENAMED, 0, 10))).toEqual(['in flight'])
      expect(await messages.listLatest(OTHER, 0, 10)).toEqual([])
      await expect(messages.insert(message(OTHER, 'too late'))).rejects.toBeInstanceOf(TargetGoneError)
    }),
  )

  test(
    'a delete takes them along: a channel re-created under the same name starts empty',
    withStore(async ({ channels, messages }) => {
      const queued = messages.insert(message(OTHER, 'doomed'))
      await channels.delete(OTHER.channel)
      await queued
      await channels.insert({ name: OTHER.channel, type: 'text' })
      expect(await messages.listLatest(OTHER, 0, 10)).toEqual([])
    }),
  )
})

describe('threads', () => {
  test(
    'deleting a thread takes its messages along, those still waiting for their group commit too; later inserts are refused',
    withStore(async ({ threads, messages, unreads }) => {
      await messages.insert(message(THREAD, 'stored'))
      await unreads.set('u1', THREAD, 'x')
      const queued = messages.insert(message(THREAD, 'in flight'))
      expect(await threads.delete(THREAD.thread_id!)).toBe(true)
      await queued
      expect(await messages.listLatest(THREAD, 0, 10)).toEqual([])
      expect(await unreads.get('u1', THREAD)).toBeUndefined()
      await expect(messages.insert(message(THREAD, 'too late'))).rejects.toBeInstanceOf(TargetGoneError)
      expect(await threads.delete(THREAD.thread_id!)).toBe(false)
    }),
  )

  test(
    'a forum rename moves its threads; listing is newest first and bounded',
    withStore(async ({ channels, threads }) => {
      const thread = (id: string, created_at: number) => ({ id, parent_channel: 'random', name: id, created_by: 'u1', created_at, locked: false, archived: false })
      await threads.insert(thread('a', 1))
      await threads.insert(thread('b', 2))
      await threads.insert(thread('c', 3))
      await channels.update('random', { name: 'forum', type: 'forum' })
      expect((await threads.listByChannel('forum', 2)).map((t) => t.id)).toEqual(['c', 'b'])
      expect((await threads.get('a'))?.parent_channel).toBe('forum')
      expect(await threads.listByChannel('random', 10)).toEqual([])
    }),
  )
})
