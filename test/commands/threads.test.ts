import { describe, expect, test } from 'bun:test'
import type { Packet, TestClient } from '../helpers/client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const FORUM = { name: 'ideas', type: 'forum', permissions: { view: ['user'], send: ['user'], create_thread: ['user'] } }
const err = (src: string, val: string) => ({ cmd: 'error', src, val })

/** A forum everyone may use, with a thread alice created; returns the thread's wire form. */
async function withThread(server: TestServer, creator: TestClient, name = 'Pizza toppings') {
  await server.addChannel(FORUM)
  creator.send({ cmd: 'thread_create', channel: 'ideas', name })
  return (await creator.next('thread_create', (p) => p.thread.name === name)).thread
}

/** Posts into a thread and waits for the caller's own echo. */
const post = (client: TestClient, thread_id: string, content: string, extra: Record<string, unknown> = {}) => client.post(content, { thread_id, ...extra })

const contents = (packet: Packet) => packet.messages.map((m: Packet) => m.content)

describe('thread_create', () => {
  test.concurrent('creates a thread in a forum; everyone who may view the forum hears of it, nobody else', async () => {
    await using server = await startServer()
    await server.addChannel({ name: 'hidden-forum', type: 'forum', permissions: { view: ['moderator'], create_thread: ['moderator'] } })
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const thread = await withThread(server, alice)
    expect(thread).toEqual({
      id: expect.any(String),
      name: 'Pizza toppings',
      parent_channel: 'ideas',
      created_by: 'alice',
      created_at: expect.any(Number),
      locked: false,
      archived: false,
      participants: ['alice'],
      last_message: null,
      last_message_id: null,
    })
    expect(await bob.next('thread_create')).toEqual({ cmd: 'thread_create', thread, channel: 'ideas', global: true })

    // A thread in a forum bob cannot view never reaches him.
    const mod = await server.login('mod')
    await server.setRoles('mod', ['moderator', 'user'])
    mod.send({ cmd: 'thread_create', channel: 'hidden-forum', name: 'staff only' })
    expect((await mod.next('thread_create', (p) => p.channel === 'hidden-forum')).thread.name).toBe('staff only')
    await bob.expectNone('thread_create')
  })

  test.concurrent('bad input, wrong channel type and missing permission get the spec strings', async () => {
    await using server = await startServer()
    await server.addChannel(FORUM)
    await server.addChannel({ name: 'closed', type: 'forum', permissions: { view: ['user'], create_thread: ['owner'] } })
    const alice = await server.login('alice')
    const create = (fields: Record<string, unknown>) => alice.error({ cmd: 'thread_create', ...fields })
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'x' }, 'Channel and thread name are required'],
      [{ channel: 'ideas' }, 'Channel and thread name are required'],
      [{ channel: 'ideas', name: 5 }, 'Channel and thread name are required'],
      [{ channel: 'nope', name: 'x' }, 'Channel not found'],
      [{ channel: 'general', name: 'x' }, 'Threads can only be created in forum channels'],
      [{ channel: 'closed', name: 'x' }, 'You do not have permission to create threads in this channel'],
      [{ channel: 'ideas', name: '   ' }, 'Thread name cannot be empty'],
      [{ channel: 'ideas', name: 'n'.repeat(101) }, 'Thread name must be at most 100 characters'],
      [{ channel: 'ideas', name: 'evil\u202Ename' }, 'Thread name contains invalid characters'],
    ]
    for (const [fields, val] of cases) expect(await create(fields)).toEqual(err('thread_create', val))
    expect((await alice.request({ cmd: 'channels_get' })).val.find((c: Packet) => c.name === 'ideas').threads).toEqual([])
  })
})

describe('messages in threads', () => {
  test.concurrent('post, read, edit, react, pin, search, reply, delete: each with thread_id, to forum viewers only', async () => {
    await using server = await startServer()
    await server.addChannel({ name: 'secret', type: 'text', permissions: { view: ['owner'], send: ['owner'] } })
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const { id } = await withThread(server, alice)
    await bob.next('thread_create')

    const first = await post(alice, id, 'hello thread')
    expect(await bob.next('message_new')).toEqual({ cmd: 'message_new', message: { ...first }, channel: 'ideas', thread_id: id, global: true })
    const page = await bob.request({ cmd: 'messages_get', thread_id: id })
    expect(page).toMatchObject({ channel: 'ideas', thread_id: id, range: { start: 0, end: 100 } })
    expect(contents(page)).toEqual(['hello thread'])
    // Reading a thread's newest page acks it under thread/<id>, to all of bob's sockets.
    expect(await bob.next('unreads_update')).toEqual({ cmd: 'unreads_update', last_read: first.id, thread_id: id })

    alice.send({ cmd: 'message_edit', thread_id: id, id: first.id, content: 'hello, thread' })
    expect(await bob.next('message_edit')).toMatchObject({ id: first.id, content: 'hello, thread', channel: 'ideas', thread_id: id })
    bob.send({ cmd: 'message_react_add', thread_id: id, id: first.id, emoji: '🍕' })
    expect(await alice.next('message_react_add')).toEqual({ cmd: 'message_react_add', id: first.id, emoji: '🍕', channel: 'ideas', thread_id: id, from: 'bob', global: true })
    owner.send({ cmd: 'message_pin', thread_id: id, id: first.id })
    expect(await alice.next('message_pin')).toEqual({ cmd: 'message_pin', id: first.id, channel: 'ideas', thread_id: id, pinned: true, global: true })
    expect(contents(await bob.request({ cmd: 'messages_pinned', thread_id: id }))).toEqual(['hello, thread'])
    expect((await bob.request({ cmd: 'messages_search', thread_id: id, query: 'hello' })).results.map((m: Packet) => m.content)).toEqual(['hello, thread'])
    const reply = await post(bob, id, 'a reply', { reply_to: first.id })
    expect((await alice.request({ cmd: 'message_replies', thread_id: id, id: first.id })).replies.map((m: Packet) => m.id)).toEqual([reply.id])
    expect(await alice.request({ cmd: 'message_get', thread_id: id, id: reply.id })).toMatchObject({ channel: 'ideas', thread_id: id, message: { content: 'a reply' } })
    bob.send({ cmd: 'typing', thread_id: id })
    expect(await alice.next('typing')).toEqual({ cmd: 'typing', channel: 'ideas', user: 'bob', thread_id: id, global: true })
    bob.send({ cmd: 'message_delete', thread_id: id, id: reply.id })
    expect(await alice.next('message_delete')).toEqual({ cmd: 'message_delete', id: reply.id, channel: 'ideas', thread_id: id, global: true })

    // The forum lists the thread with its newest message; #general's history holds none of it.
    const forum = (await bob.request({ cmd: 'channels_get' })).val.find((c: Packet) => c.name === 'ideas')
    expect(forum.threads).toEqual([expect.objectContaining({ id, last_message_id: first.id, participants: ['alice'] })])
    expect(contents(await bob.request({ cmd: 'messages_get', channel: 'general' }))).toEqual([])

    await server.restart()
    const again = await server.login('bob')
    expect(contents(await again.request({ cmd: 'thread_messages', thread_id: id }))).toEqual(['hello, thread'])
  })

  test.concurrent('a forum holds no messages of its own; unknown threads and missing permissions are refused', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const { id } = await withThread(server, alice)
    expect(await alice.error({ cmd: 'message_new', channel: 'ideas', content: 'x' })).toEqual(err('message_new', 'Cannot send messages in this channel type'))
    expect(await alice.error({ cmd: 'message_new', thread_id: 'nope', content: 'x' })).toEqual(err('message_new', 'Thread not found'))
    await server.setRoles('alice', ['guest'])
    expect(await alice.error({ cmd: 'message_new', thread_id: id, content: 'x' })).toEqual(
      err('message_new', 'You do not have permission to send messages in this thread'),
    )
    expect(await alice.error({ cmd: 'messages_get', thread_id: id })).toEqual(err('messages_get', 'You do not have permission to view this thread'))
    expect(await alice.error({ cmd: 'typing', thread_id: id })).toEqual(err('typing', 'You do not have permission to send messages in this thread'))
  })

  test.concurrent('locked threads can be read but not written or joined; posting un-archives an archived thread', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const { id } = await withThread(server, alice)
    const first = await post(alice, id, 'before the lock')

    owner.send({ cmd: 'thread_update', thread_id: id, locked: true })
    expect((await alice.next('thread_update')).thread).toMatchObject({ id, locked: true })
    expect(await alice.error({ cmd: 'message_new', thread_id: id, content: 'x' })).toEqual(err('message_new', 'This thread is locked'))
    expect(await alice.error({ cmd: 'message_edit', thread_id: id, id: first.id, content: 'x' })).toEqual(err('message_edit', 'This thread is locked'))
    expect(await alice.error({ cmd: 'thread_join', thread_id: id })).toEqual(err('thread_join', 'This thread is locked'))
    expect(contents(await alice.request({ cmd: 'messages_get', thread_id: id }))).toEqual(['before the lock'])
    expect(contents(await alice.request({ cmd: 'thread_messages', thread_id: id, start: null }))).toEqual(['before the lock'])

    owner.send({ cmd: 'thread_update', thread_id: id, locked: false, archived: true })
    expect((await alice.next('thread_update')).thread).toMatchObject({ locked: false, archived: true })
    expect(await alice.error({ cmd: 'message_react_add', thread_id: id, id: first.id, emoji: '👍' })).toEqual(err('message_react_add', 'This thread is archived'))
    await post(alice, id, 'bringing it back')
    expect((await alice.next('thread_update')).thread).toMatchObject({ id, archived: false })
  })
})

describe('thread management', () => {
  test.concurrent('the creator renames; only manage_threads locks; others are refused', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const mod = await server.login('mod')
    await server.setRoles('mod', ['moderator', 'user'])
    const { id } = await withThread(server, alice)

    alice.send({ cmd: 'thread_update', thread_id: id, name: '  Toppings  ', locked: true })
    const renamed = await bob.next('thread_update')
    // Locking from a plain creator is ignored, as upstream does; the packet names the forum (compat-notes §3.11).
    expect(renamed).toEqual({ cmd: 'thread_update', thread: expect.objectContaining({ name: 'Toppings', locked: false }), channel: 'ideas', global: true })
    expect(await bob.error({ cmd: 'thread_update', thread_id: id, name: 'mine now' })).toEqual(err('thread_update', 'You do not have permission to modify this thread'))
    expect(await bob.error({ cmd: 'thread_delete', thread_id: id })).toEqual(err('thread_delete', 'You do not have permission to modify this thread'))
    expect(await alice.error({ cmd: 'thread_update', thread_id: id, name: ' ' })).toEqual(err('thread_update', 'Thread name cannot be empty'))
    expect(await alice.error({ cmd: 'thread_update' })).toEqual(err('thread_update', 'Thread ID is required'))
    expect(await alice.error({ cmd: 'thread_get', thread_id: 'nope' })).toEqual(err('thread_get', 'Thread not found'))
    mod.send({ cmd: 'thread_update', thread_id: id, locked: true })
    expect((await bob.next('thread_update')).thread.locked).toBe(true)
    expect((await alice.request({ cmd: 'thread_get', thread_id: id })).thread).toMatchObject({ name: 'Toppings', locked: true })
  })

  test.concurrent('join and leave change the participants; the creator never leaves', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const { id } = await withThread(server, alice)
    bob.send({ cmd: 'thread_join', thread_id: id })
    expect(await alice.next('thread_join')).toEqual({
      cmd: 'thread_join',
      thread: expect.objectContaining({ participants: ['alice', 'bob'] }),
      thread_id: id,
      user: 'bob',
      channel: 'ideas',
      global: true,
    })
    bob.send({ cmd: 'thread_leave', thread_id: id })
    expect((await alice.next('thread_leave')).thread.participants).toEqual(['alice'])
    alice.send({ cmd: 'thread_leave', thread_id: id })
    expect((await alice.next('thread_leave')).thread.participants).toEqual(['alice'])
  })

  test.concurrent('deleting a thread deletes its messages; deleting the forum deletes its threads', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const first = await withThread(server, alice, 'one')
    alice.send({ cmd: 'thread_create', channel: 'ideas', name: 'two' })
    const second = (await alice.next('thread_create', (p) => p.thread.name === 'two')).thread
    await post(alice, first.id, 'in one')
    await post(alice, second.id, 'in two')

    alice.send({ cmd: 'thread_delete', thread_id: first.id })
    expect(await owner.next('thread_delete')).toEqual({ cmd: 'thread_delete', thread_id: first.id, channel: 'ideas', global: true })
    expect(await alice.error({ cmd: 'thread_messages', thread_id: first.id })).toEqual(err('thread_messages', 'Thread not found'))
    expect(await server.app.store.messages.listLatest({ channel: 'ideas', thread_id: first.id }, 0, 10)).toEqual([])

    await owner.request({ cmd: 'channel_delete', name: 'ideas' })
    expect(await alice.error({ cmd: 'thread_get', thread_id: second.id })).toEqual(err('thread_get', 'Thread not found'))
    expect(await server.app.store.messages.listLatest({ channel: 'ideas', thread_id: second.id }, 0, 10)).toEqual([])
  })

  test.concurrent('a role change lets a user see a forum’s threads at once, and takes them away at once', async () => {
    await using server = await startServer()
    await server.addChannel({ name: 'mods', type: 'forum', permissions: { view: ['moderator'], send: ['moderator'], create_thread: ['moderator'] } })
    const mod = await server.login('mod')
    await server.setRoles('mod', ['moderator', 'user'])
    const alice = await server.login('alice')
    mod.send({ cmd: 'thread_create', channel: 'mods', name: 'staff' })
    const { id } = (await mod.next('thread_create')).thread
    await post(mod, id, 'not for alice')
    await alice.expectNone('message_new')

    await server.setRoles('alice', ['moderator', 'user'])
    await post(mod, id, 'now alice sees it')
    expect((await alice.next('message_new')).message.content).toBe('now alice sees it')
    await server.setRoles('alice', ['user'])
    await post(mod, id, 'and now she does not')
    await alice.expectNone('message_new')
  })
})

describe('messages_around and embeds_list', () => {
  test.concurrent('a window of older and newer messages around one, the newest included', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const ids: string[] = []
    for (let i = 0; i < 10; i++) {
      alice.send({ cmd: 'message_new', channel: 'general', content: `m${i}`, listener: `m${i}` })
      ids.push((await alice.next('message_new', (p) => p.listener === `m${i}`)).message.id)
    }
    const around = await alice.request({ cmd: 'messages_around', channel: 'general', around: ids[4], bounds: { above: 2, below: 3 } })
    expect(around).toMatchObject({ channel: 'general', thread_id: null, range: { start: 1, end: 7 } })
    expect(contents(around)).toEqual(['m1', 'm2', 'm3', 'm4', 'm5', 'm6'])
    // Upstream never returned the newest message, even as its own target.
    const newest = await alice.request({ cmd: 'messages_around', channel: 'general', around: ids[9] })
    expect(contents(newest)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'])
    expect(newest.range).toEqual({ start: 0, end: 10 })
    expect(await alice.error({ cmd: 'messages_around', channel: 'general' })).toEqual(err('messages_around', 'around (message ID) is required'))
    expect(await alice.error({ cmd: 'messages_around', channel: 'general', around: 'nope' })).toEqual(err('messages_around', 'Message not found'))
    expect(await alice.error({ cmd: 'messages_around', channel: 'general', around: ids[0], bounds: { above: -1 } })).toMatchObject({ src: 'messages_around' })
  })

  test.concurrent('embeds_list returns a message’s embeds, [] without any', async () => {
    await using server = await startServer()
    await server.addChannel({ name: 'staff', type: 'text', permissions: { view: ['owner'], send: ['owner'] } })
    const alice = await server.login('alice')
    const embeds = [{ title: 'Card', description: 'details' }]
    alice.send({ cmd: 'message_new', channel: 'general', content: 'with', embeds })
    const withEmbeds = (await alice.next('message_new')).message.id
    alice.send({ cmd: 'message_new', channel: 'general', content: 'without' })
    const without = (await alice.next('message_new')).message.id
    expect(await alice.request({ cmd: 'embeds_list', channel: 'general', id: withEmbeds })).toEqual({ cmd: 'embeds_list', id: withEmbeds, embeds })
    expect(await alice.request({ cmd: 'embeds_list', channel: 'general', id: without })).toEqual({ cmd: 'embeds_list', id: without, embeds: [] })
    expect(await alice.error({ cmd: 'embeds_list', channel: 'general' })).toEqual(err('embeds_list', 'Message ID is required'))
    expect(await alice.error({ cmd: 'embeds_list', id: 'x' })).toEqual(err('embeds_list', 'Channel or thread_id is required'))
    expect(await alice.error({ cmd: 'embeds_list', channel: 'general', id: 'nope' })).toEqual(err('embeds_list', 'Message not found'))
    expect(await alice.error({ cmd: 'embeds_list', channel: 'staff', id: 'x' })).toEqual({ cmd: 'error', val: 'Access denied to this channel' })
  })
})

describe('polls in threads', () => {
  test.concurrent('a thread poll reaches the forum’s viewers, votes too; a locked thread takes none; deleting the thread removes it', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const { id } = await withThread(server, alice)
    alice.send({ cmd: 'poll_create', thread_id: id, question: 'Pineapple?', options: ['yes', 'no'] })
    const created = await alice.next('poll_create')
    expect(created).toMatchObject({ channel: 'ideas', thread_id: id, question: 'Pineapple?' })
    expect(await owner.next('message_new', (p) => p.thread_id === id)).toMatchObject({ channel: 'ideas', thread_id: id, message: { embeds: [{ type: 'poll' }] } })
    owner.send({ cmd: 'poll_vote', poll_id: created.poll_id, option_id: '1' })
    expect(await alice.next('poll_vote_update')).toMatchObject({ poll_id: created.poll_id, channel: 'ideas', thread_id: id, option_ids: ['1'] })

    owner.send({ cmd: 'thread_update', thread_id: id, locked: true })
    await alice.next('thread_update')
    expect(await alice.error({ cmd: 'poll_create', thread_id: id, question: 'Again?', options: ['a', 'b'] })).toEqual(err('poll_create', 'This thread is locked'))

    await owner.request({ cmd: 'thread_delete', thread_id: id })
    expect(await owner.error({ cmd: 'poll_get', poll_id: created.poll_id })).toEqual(err('poll_get', 'Poll not found'))
  })
})
