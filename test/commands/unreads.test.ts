import { describe, expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

type Message = Record<string, any>

/** Only the owner may see it. */
const STAFF = { name: 'staff', type: 'text', permissions: { view: ['owner'], send: ['owner'] } }
/** Seen by holders of `vip` only. */
const LOUNGE = { name: 'lounge', type: 'text', permissions: { view: ['vip'], send: ['vip'] } }
const GENERAL = { channel: 'general', thread_id: null }

const error = (src: string, val: string) => ({ cmd: 'error', src, val })
const plainError = (val: string) => ({ cmd: 'error', val })

/** Posts and waits for the caller's own echo; returns the client-form message. */
const post = (client: TestClient, content: string, extra: Record<string, unknown> = {}): Promise<Message> => client.post(content, extra)

/** `count` messages straight through the store (a fast fixture), oldest first. */
async function seed(server: TestServer, count: number, channel = 'general', user = 'someone') {
  return Promise.all(
    Array.from({ length: count }, (_, i) => server.app.store.messages.insert({ channel, thread_id: null, user, content: `m${i}` })),
  )
}

const unreads = async (client: TestClient) => (await client.request({ cmd: 'unreads_get' })).unreads

const counts = (last_read: string | null, unread_count: number, total_messages: number) => ({ last_read, unread_count, total_messages })

/** The client form of a stored message as pings_get lists it. */
const pinged = (message: Message, channel = 'general') => {
  const { pings: _pings, ...rest } = message
  return { ...rest, channel }
}

describe('unreads_ack', () => {
  test.concurrent('stores the given or the newest message and tells all of the user’s connections, nobody else', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const alice2 = await server.login('alice')
    const bob = await server.login('bob')
    const [first, , third] = await seed(server, 3)

    expect(await alice.request({ cmd: 'unreads_ack', channel: 'general', message_id: first!.id })).toEqual({
      cmd: 'unreads_ack', channel: 'general', last_read: first!.id,
    })
    const update = { cmd: 'unreads_update', last_read: first!.id, channel: 'general' }
    expect(await alice.next('unreads_update')).toEqual(update)
    expect(await alice2.next('unreads_update')).toEqual(update)
    await bob.expectNone('unreads_update')
    expect((await unreads(alice2)).general).toEqual(counts(first!.id, 2, 3))

    // Without message_id: the newest message.
    expect(await alice2.request({ cmd: 'unreads_ack', channel: 'general' })).toEqual({ cmd: 'unreads_ack', channel: 'general', last_read: third!.id })
    expect(await alice.next('unreads_update')).toEqual({ ...update, last_read: third!.id })
    expect(await alice2.next('unreads_update')).toEqual({ ...update, last_read: third!.id })
    expect((await unreads(alice)).general).toEqual(counts(third!.id, 0, 3))
    expect((await unreads(bob)).general).toEqual(counts(null, 3, 3))
    await bob.expectNone('unreads_update')
  })

  test.concurrent('an empty channel without message_id: last_read null, nothing stored, nobody told', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    expect(await alice.request({ cmd: 'unreads_ack', channel: 'general' })).toEqual({ cmd: 'unreads_ack', channel: 'general', last_read: null })
    await alice.expectNone('unreads_update')
    const aliceId = (await server.app.store.users.getByUsername('alice'))!.id
    expect(await server.app.store.unreads.get(aliceId, GENERAL)).toBeUndefined()
    expect((await unreads(alice)).general).toEqual(counts(null, 0, 0))
  })

  test.concurrent('an ID that is no message of the channel is stored as given; everything then counts as unread', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    await seed(server, 4)
    expect(await alice.request({ cmd: 'unreads_ack', channel: 'general', message_id: 'not-a-message' })).toEqual({
      cmd: 'unreads_ack', channel: 'general', last_read: 'not-a-message',
    })
    expect((await unreads(alice)).general).toEqual(counts('not-a-message', 4, 4))
  })

  test.concurrent('errors, with the spec strings', async () => {
    await using server = await startServer()
    await server.addChannel(STAFF)
    const alice = await server.login('alice')
    expect(await alice.error({ cmd: 'unreads_ack' })).toEqual(error('unreads_ack', 'Channel or thread_id is required'))
    expect(await alice.error({ cmd: 'unreads_ack', channel: '' })).toEqual(error('unreads_ack', 'Channel or thread_id is required'))
    expect(await alice.error({ cmd: 'unreads_ack', channel: 'nope' })).toEqual(error('unreads_ack', 'Channel or thread not found'))
    // A channel the caller cannot view is answered as if it did not exist.
    expect(await alice.error({ cmd: 'unreads_ack', channel: 'staff' })).toEqual(error('unreads_ack', 'Channel or thread not found'))
    expect(await alice.error({ cmd: 'unreads_ack', thread_id: 'no-such-thread' })).toEqual(error('unreads_ack', 'Thread not found'))
    expect(await alice.error({ cmd: 'unreads_ack', channel: 'general', message_id: 'x'.repeat(129) })).toEqual(
      error('unreads_ack', 'Message ID too long (max 128 characters)'),
    )
    expect(await alice.error({ cmd: 'unreads_ack', channel: 'general', message_id: 5 })).toMatchObject({ src: 'unreads_ack' })
    expect(await alice.error({ cmd: 'unreads_ack', channel: ['general'] })).toMatchObject({ src: 'unreads_ack' })
    await alice.expectNone('unreads_update')
    // The owner may acknowledge the staff channel.
    const owner = await server.login('owner')
    expect(await owner.request({ cmd: 'unreads_ack', channel: 'staff', message_id: 'm' })).toEqual({ cmd: 'unreads_ack', channel: 'staff', last_read: 'm' })
  })
})

describe('unreads_get', () => {
  test.concurrent('exact counts beyond 200 messages, after deletions on both sides of the position and after new messages', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const owner = await server.login('owner')
    // #general lets admins delete others' messages.
    await server.setRoles('owner', ['owner', 'admin', 'user'])
    const messages = await seed(server, 250)
    expect((await unreads(alice)).general).toEqual(counts(null, 250, 250))

    await alice.request({ cmd: 'unreads_ack', channel: 'general', message_id: messages[9]!.id })
    expect((await unreads(alice)).general).toEqual(counts(messages[9]!.id, 240, 250))

    // Deleting read and unread messages, the read one itself included.
    for (const i of [0, 5, 9, 100, 249]) {
      expect(await owner.request({ cmd: 'message_delete', channel: 'general', id: messages[i]!.id })).toMatchObject({ cmd: 'message_delete' })
    }
    expect((await unreads(alice)).general).toEqual(counts(messages[9]!.id, 238, 245))

    await post(owner, 'one more')
    await post(owner, 'and another')
    expect((await unreads(alice)).general).toEqual(counts(messages[9]!.id, 240, 247))

    // Near the end: the count runs over the deletions above the position.
    await alice.request({ cmd: 'unreads_ack', channel: 'general', message_id: messages[240]!.id })
    expect((await unreads(alice)).general).toEqual(counts(messages[240]!.id, 10, 247))
    await owner.request({ cmd: 'message_delete', channel: 'general', id: messages[245]!.id })
    expect((await unreads(alice)).general).toEqual(counts(messages[240]!.id, 9, 246))
  })

  test.concurrent('lists every text channel the caller may view now, in display order, and nothing else', async () => {
    await using server = await startServer()
    await server.addChannel(STAFF)
    await server.addChannel(LOUNGE)
    await server.addChannel({ name: 'voice', type: 'voice', permissions: { view: ['user'] } })
    await server.addChannel({ name: 'ideas', type: 'forum', permissions: { view: ['user'] } })
    await seed(server, 2, 'staff')
    await seed(server, 3, 'lounge')
    const alice = await server.login('alice')
    const owner = await server.login('owner')

    expect(await alice.request({ cmd: 'unreads_get' })).toEqual({ cmd: 'unreads_get', unreads: { general: counts(null, 0, 0) } })
    await server.setRoles('alice', ['vip', 'user'])
    expect(await unreads(alice)).toEqual({ general: counts(null, 0, 0), lounge: counts(null, 3, 3) })
    await server.setRoles('alice', ['user'])
    expect(Object.keys(await unreads(alice))).toEqual(['general'])
    // The owner's view lists say `owner`; `vip` is not among them.
    expect(await unreads(owner)).toEqual({ general: counts(null, 0, 0), staff: counts(null, 2, 2) })
  })

  test.concurrent('reading the newest page with messages_get marks the channel read', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const alice2 = await server.login('alice')
    const messages = await seed(server, 3)
    await alice.request({ cmd: 'messages_get', channel: 'general' })
    const update = { cmd: 'unreads_update', last_read: messages[2]!.id, channel: 'general' }
    expect(await alice2.next('unreads_update')).toEqual(update)
    expect((await unreads(alice2)).general).toEqual(counts(messages[2]!.id, 0, 3))
    await seed(server, 2)
    expect((await unreads(alice)).general).toEqual(counts(messages[2]!.id, 2, 5))
  })

  test.concurrent('positions and counts survive a restart', async () => {
    await using server = await startServer()
    let alice = await server.login('alice')
    const messages = await seed(server, 5)
    await alice.request({ cmd: 'unreads_ack', channel: 'general', message_id: messages[1]!.id })
    await server.restart()
    alice = await server.login('alice')
    expect((await unreads(alice)).general).toEqual(counts(messages[1]!.id, 3, 5))
    await seed(server, 2)
    expect((await unreads(alice)).general).toEqual(counts(messages[1]!.id, 5, 7))
  })

  test.concurrent('a renamed channel keeps its counts and positions; a deleted one takes them along', async () => {
    await using server = await startServer()
    await server.addChannel({ name: 'old', type: 'text', permissions: { view: ['user'], send: ['user'], delete: ['owner'] } })
    const owner = await server.login('owner')
    const messages = await seed(server, 6, 'old')
    await owner.request({ cmd: 'unreads_ack', channel: 'old', message_id: messages[3]!.id })
    await owner.request({ cmd: 'message_delete', channel: 'old', id: messages[4]!.id })
    expect((await unreads(owner)).old).toEqual(counts(messages[3]!.id, 1, 5))

    await owner.request({ cmd: 'channel_update', current_name: 'old', updates: { name: 'new' } })
    expect(await unreads(owner)).toEqual({ general: counts(null, 0, 0), new: counts(messages[3]!.id, 1, 5) })
    await seed(server, 2, 'new')
    expect((await unreads(owner)).new).toEqual(counts(messages[3]!.id, 3, 7))

    await owner.request({ cmd: 'channel_delete', name: 'new' })
    await owner.request({ cmd: 'channel_create', name: 'new', type: 'text', permissions: { view: ['user'], send: ['user'] } })
    expect((await unreads(owner)).new).toEqual(counts(null, 0, 0))
    await seed(server, 1, 'new')
    expect((await unreads(owner)).new).toEqual(counts(null, 1, 1))
  })
})

describe('unreads_count', () => {
  test.concurrent('one channel’s counts', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const messages = await seed(server, 4)
    expect(await alice.request({ cmd: 'unreads_count', channel: 'general' })).toEqual({
      cmd: 'unreads_count', channel: 'general', unread_count: 4, last_read: null, total_messages: 4,
    })
    await alice.request({ cmd: 'unreads_ack', channel: 'general', message_id: messages[0]!.id })
    expect(await alice.request({ cmd: 'unreads_count', channel: 'general' })).toEqual({
      cmd: 'unreads_count', channel: 'general', unread_count: 3, last_read: messages[0]!.id, total_messages: 4,
    })
  })

  test.concurrent('errors, with the spec strings', async () => {
    await using server = await startServer()
    await server.addChannel(STAFF)
    await server.addChannel({ name: 'voice', type: 'voice', permissions: { view: ['user'] } })
    const alice = await server.login('alice')
    expect(await alice.error({ cmd: 'unreads_count' })).toEqual(error('unreads_count', 'Channel or thread_id is required'))
    expect(await alice.error({ cmd: 'unreads_count', channel: 'staff' })).toEqual(plainError('Access denied to this channel'))
    expect(await alice.error({ cmd: 'unreads_count', channel: 'voice' })).toEqual(plainError('Access denied to this channel'))
    expect(await alice.error({ cmd: 'unreads_count', channel: 'nope' })).toEqual(plainError('Access denied to this channel'))
    expect(await alice.error({ cmd: 'unreads_count', thread_id: 'no-such-thread' })).toEqual(error('unreads_count', 'Thread not found'))
  })
})

describe('pings_get', () => {
  test.concurrent('mentions of the user (any case, local accounts by name) and of their roles, and replies, newest first', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.register('bob')
    await server.setRoles('alice', ['moderator', 'user'])

    const original = await post(alice, 'my question')
    const byName = await post(bob, 'hey @ALICE')
    const byRole = await post(bob, 'calling @&moderator')
    const both = await post(bob, '@alice and @&moderator, once')
    const reply = await post(bob, 'an answer', { reply_to: original.id })
    await post(bob, 'a quiet answer', { reply_to: original.id, ping: false })
    await post(bob, '@&admin and @alicex and alice@home are not her')
    const toBob = await post(alice, 'thanks @bob')

    expect(await alice.request({ cmd: 'pings_get' })).toEqual({
      cmd: 'pings_get',
      messages: [reply, both, byRole, byName].map((m) => pinged(m)),
      offset: 0,
      limit: 50,
      total: 4,
    })
    // `@bob` reaches the local account USR:local_bob.
    expect(await bob.request({ cmd: 'pings_get' })).toMatchObject({ messages: [pinged(toBob)], total: 1 })
  })

  test.concurrent('pages with limit and offset; total counts them all', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const sent = []
    for (let i = 0; i < 5; i++) sent.push(await post(bob, `@alice ${i}`))
    const newestFirst = sent.reverse().map((m) => pinged(m))
    expect(await alice.request({ cmd: 'pings_get', limit: 2 })).toEqual({ cmd: 'pings_get', messages: newestFirst.slice(0, 2), offset: 0, limit: 2, total: 5 })
    expect(await alice.request({ cmd: 'pings_get', limit: 2, offset: 2 })).toEqual({ cmd: 'pings_get', messages: newestFirst.slice(2, 4), offset: 2, limit: 2, total: 5 })
    expect(await alice.request({ cmd: 'pings_get', limit: 100, offset: 4 })).toMatchObject({ messages: newestFirst.slice(4), total: 5 })
    expect(await alice.request({ cmd: 'pings_get', offset: 10, limit: null })).toMatchObject({ messages: [], offset: 10, limit: 50, total: 5 })
  })

  test.concurrent('only channels the user may view now', async () => {
    await using server = await startServer()
    await server.addChannel(LOUNGE)
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    await server.setRoles('alice', ['vip', 'user'])
    await server.setRoles('bob', ['vip', 'user'])
    const inGeneral = await post(bob, '@alice here')
    const inLounge = await post(bob, '@alice there', { channel: 'lounge' })
    expect(await alice.request({ cmd: 'pings_get' })).toMatchObject({ messages: [pinged(inLounge, 'lounge'), pinged(inGeneral)], total: 2 })
    await server.setRoles('alice', ['user'])
    expect(await alice.request({ cmd: 'pings_get' })).toMatchObject({ messages: [pinged(inGeneral)], total: 1 })
  })

  test.concurrent('edits add and remove mentions; deleted messages ping nobody; pings survive a restart', async () => {
    await using server = await startServer()
    let alice = await server.login('alice')
    const bob = await server.login('bob')
    const original = await post(alice, 'question')
    const plain = await post(bob, 'nothing yet')
    const mention = await post(bob, '@alice look')
    const reply = await post(bob, 'a reply', { reply_to: original.id })

    await bob.request({ cmd: 'message_edit', channel: 'general', id: plain.id, content: 'now @alice' })
    await bob.request({ cmd: 'message_edit', channel: 'general', id: mention.id, content: 'never mind' })
    // Editing a reply keeps its reply ping.
    await bob.request({ cmd: 'message_edit', channel: 'general', id: reply.id, content: 'a better reply' })
    const edited = (m: Message, content: string) => ({ ...pinged(m), content, edited: true })
    expect(await alice.request({ cmd: 'pings_get' })).toMatchObject({
      messages: [edited(reply, 'a better reply'), edited(plain, 'now @alice')],
      total: 2,
    })

    await bob.request({ cmd: 'message_delete', channel: 'general', id: plain.id })
    await server.restart()
    alice = await server.login('alice')
    expect(await alice.request({ cmd: 'pings_get' })).toMatchObject({ messages: [edited(reply, 'a better reply')], total: 1 })
  })

  test.concurrent('bad limit and offset, with the spec strings', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bad = async (page: Record<string, unknown>) => (await alice.error({ cmd: 'pings_get', ...page })).val
    const LIMIT = 'Limit must be a number between 1 and 100'
    const OFFSET = 'Offset must be a non-negative number'
    for (const limit of [0, 101, -1, 1.5, '10', true]) expect(await bad({ limit })).toBe(LIMIT)
    for (const offset of [-1, 0.5, '0', false]) expect(await bad({ offset })).toBe(OFFSET)
    expect(await alice.error({ cmd: 'pings_get', limit: 0 })).toEqual(error('pings_get', LIMIT))
    expect(await alice.request({ cmd: 'pings_get', limit: 100, offset: 0 })).toEqual({ cmd: 'pings_get', messages: [], offset: 0, limit: 100, total: 0 })
  })
})

describe('forum threads', () => {
  const FORUM = { name: 'ideas', type: 'forum', permissions: { view: ['user'], send: ['user'], create_thread: ['user'] } }

  test.concurrent('threads of viewable forums are listed as thread:<id> (the key the web client reads) with their parent; acks, counts and pings work on them', async () => {
    await using server = await startServer()
    await server.addChannel(FORUM)
    await server.addChannel({ name: 'secret', type: 'forum', permissions: { view: ['owner'], send: ['owner'], create_thread: ['owner'] } })
    const alice = await server.login('alice')
    const alice2 = await server.login('alice')
    const bob = await server.login('bob')
    const owner = await server.login('owner')
    alice.send({ cmd: 'thread_create', channel: 'ideas', name: 'Pizza' })
    const thread = (await alice.next('thread_create')).thread
    owner.send({ cmd: 'thread_create', channel: 'secret', name: 'Hidden' })
    const hidden = (await owner.next('thread_create', (p) => p.channel === 'secret')).thread

    const inThread = (client: TestClient, thread_id: string, content: string) => client.post(content, { thread_id })
    const first = await inThread(bob, thread.id, 'first')
    const ping = await inThread(bob, thread.id, 'hey @alice')
    await inThread(owner, hidden.id, 'hidden @alice')

    expect(await unreads(alice)).toEqual({
      general: counts(null, 0, 0),
      [`thread:${thread.id}`]: { ...counts(null, 2, 2), thread_id: thread.id, parent_channel: 'ideas' },
    })
    expect(await alice.request({ cmd: 'unreads_ack', thread_id: thread.id, message_id: first.id })).toEqual({
      cmd: 'unreads_ack', thread_id: thread.id, last_read: first.id,
    })
    expect(await alice2.next('unreads_update')).toEqual({ cmd: 'unreads_update', last_read: first.id, thread_id: thread.id })
    expect(await alice.request({ cmd: 'unreads_count', thread_id: thread.id })).toEqual({
      cmd: 'unreads_count', thread_id: thread.id, unread_count: 1, last_read: first.id, total_messages: 2,
    })
    expect(await alice.error({ cmd: 'unreads_count', thread_id: hidden.id })).toEqual(error('unreads_count', 'You do not have permission to view this thread'))
    expect(await alice.error({ cmd: 'unreads_ack', thread_id: hidden.id })).toEqual(error('unreads_ack', 'You do not have permission to view this thread'))

    // Reading the thread marks it read; a locked thread can still be acknowledged.
    await alice.request({ cmd: 'messages_get', thread_id: thread.id })
    expect(await alice2.next('unreads_update')).toEqual({ cmd: 'unreads_update', last_read: ping.id, thread_id: thread.id })
    await owner.request({ cmd: 'thread_update', thread_id: thread.id, locked: true })
    expect(await alice.request({ cmd: 'unreads_ack', thread_id: thread.id })).toEqual({ cmd: 'unreads_ack', thread_id: thread.id, last_read: ping.id })

    expect(await alice.request({ cmd: 'pings_get' })).toEqual({
      cmd: 'pings_get', messages: [{ ...pinged(ping, 'ideas'), thread_id: thread.id }], offset: 0, limit: 50, total: 1,
    })
    await owner.request({ cmd: 'thread_delete', thread_id: thread.id })
    expect(await unreads(alice)).toEqual({ general: counts(null, 0, 0) })
    expect(await alice.request({ cmd: 'pings_get' })).toMatchObject({ messages: [], total: 0 })
  })
})
