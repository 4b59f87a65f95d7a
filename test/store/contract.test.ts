import { describe, expect, test } from 'bun:test'
import { TargetGoneError, type MessageRepo, type NewMessage, type Target } from '../../src/store/types.ts'
import { storeDrivers, withFreshStore } from '../helpers/stores.ts'

/** The Store contract: every driver must pass these, each test on a database of its own. */

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

for (const driver of storeDrivers) {
  describe.skipIf(driver.skip !== undefined)(driver.name, () => {
    const withStore = withFreshStore(driver, async (store) => {
      // #general comes with the database; messages may only be stored in channels that exist.
      await store.channels.insert({ name: OTHER.channel, type: 'text' })
      await store.threads.insert({ id: THREAD.thread_id!, parent_channel: THREAD.channel, name: 't', created_by: 'u1', created_at: 0, locked: false, archived: false })
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

    test(
      'NUL in client text is stored and read back as sent',
      withStore(async ({ messages, users }) => {
        const sent = await messages.insert(message(GENERAL, 'a\u0000b'))
        expect((await messages.get(GENERAL, sent.id))?.content).toBe('a\u0000b')
        expect(contents(await messages.search(GENERAL, '\u0000B', 10))).toEqual(['a\u0000b'])
        expect(await messages.addReaction(GENERAL, sent.id, 'x\u0000', 'u1', 20)).toBe('added')
        expect((await messages.get(GENERAL, sent.id))?.reactions).toEqual({ 'x\u0000': ['u1'] })
        await users.insert({ id: 'u\u0000', username: 'n\u0000', roles: ['user'], status: { status: 'online', text: 't\u0000' }, extra: {} })
        expect(await users.getByUsername('N\u0000')).toMatchObject({ id: 'u\u0000', username: 'n\u0000', status: { text: 't\u0000' } })
      }),
    )

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
      const database = await driver.fresh()
      let store = await database.open()
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
      await store.close()

      store = await database.open()
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
        await database.drop()
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

    describe('attachments', () => {
      test(
        'a stored message marks the uploads it lists as used and keeps them until its deletion; a refused one marks nothing',
        withStore(async ({ attachments, channels, messages }) => {
          const upload = (id: string) => ({
            id, filename: `${id}.png`, original_name: 'a.png', mime_type: 'image/png', size: 1, hash: id, uploader_id: 'u1', uploader_name: 'alice',
            channel: 'general', created_at: 100, expires_at: 10_000, permanent: false, referenced: false,
          })
          for (const id of ['listed', 'unlisted', 'refused']) await attachments.insert(upload(id))
          const view = (id: string) => ({ id, name: 'a.png', mime_type: 'image/png', size: 1, url: `/attachments/${id}` })
          const posted = await messages.insert({ ...message(GENERAL, 'with file'), attachments: [view('listed'), view('unknown')] })
          await channels.delete(OTHER.channel)
          await expect(messages.insert({ ...message(OTHER, 'gone'), attachments: [view('refused')] })).rejects.toBeInstanceOf(TargetGoneError)
          expect((await attachments.get('listed'))?.referenced).toBe(true)
          expect((await attachments.get('refused'))?.referenced).toBe(false)
          // An hour after upload: only the uploads no stored message lists are due.
          expect((await attachments.listDoomed(200, 150, 10)).map((a) => a.id).sort()).toEqual(['refused', 'unlisted'])
          expect(await attachments.listOrphaned(['listed'])).toEqual([])
          expect(await messages.delete(GENERAL, posted.id)).toBe(true)
          expect((await attachments.listOrphaned(['listed'])).map((a) => a.id)).toEqual(['listed'])
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
  })
}
