import { expect, test } from 'bun:test'
import type { Packet, TestClient } from '../helpers/client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const GENERAL = {
  type: 'text',
  name: 'general',
  description: 'General chat channel for everyone',
  permissions: { view: ['user'], send: ['user'], delete: ['admin', 'moderator'], create_thread: ['user'] },
}
const DEFAULTS = {
  view: ['owner'],
  send: ['owner'],
  delete: ['owner'],
  delete_own: ['user'],
  edit_own: ['user'],
  react: ['user'],
  pin: ['owner'],
  create_thread: ['owner'],
}
const OPEN = { view: ['user'], send: ['user'] }

const error = (src: string, val: string) => ({ cmd: 'error', src, val })
const denied = (src: string) => error(src, "Access denied: 'manage_channels' permission required")

let listeners = 0

/**
 * The caller's own `channels_get` answer. A listener tells it apart from the lists every change
 * pushes, which also arrive as `channels_get`.
 */
async function list(client: TestClient): Promise<Array<Record<string, any>>> {
  const listener = `list-${++listeners}`
  client.send({ cmd: 'channels_get', listener })
  return (await client.next('channels_get', (p) => p.listener === listener)).val
}
const names = async (client: TestClient): Promise<string[]> => (await list(client)).map((c) => c.name as string)
const pushedNames = async (client: TestClient): Promise<string[]> => (await client.next('channels_get')).val.map((c: Packet) => c.name)

/** The owner, an `admin`, a holder of a custom role with only `manage_channels`, and a plain user. */
async function staff(server: TestServer) {
  await server.app.store.roles.insert({
    name: 'keeper',
    id: 'role-keeper',
    description: 'Keeps the channel list tidy',
    color: null,
    hoisted: false,
    permissions: ['manage_channels'],
    self_assignable: false,
    category: null,
    position: 4,
  })
  const owner = await server.login('owner')
  const admin = await server.login('ada')
  await server.setRoles('ada', ['admin', 'user'])
  const keeper = await server.login('kim')
  await server.setRoles('kim', ['keeper', 'user'])
  const bob = await server.login('bob')
  return { owner, admin, keeper, bob, managers: [owner, admin, keeper] }
}

/**
 * Resolves once everything the client's earlier requests asked for is done: the modlog entry is
 * written after the reply, but before the connection's next frame is answered.
 */
async function settled(client: TestClient) {
  await client.request({ cmd: 'ping' }, 'pong')
}

async function post(client: TestClient, channel: string, content: string): Promise<Packet> {
  client.send({ cmd: 'message_new', channel, content })
  return (await client.next('message_new', (p) => p.message.content === content)).message
}

async function history(client: TestClient, channel: string): Promise<string[]> {
  return (await client.request({ cmd: 'messages_get', channel })).messages.map((m: Packet) => m.content)
}

// ---- permission matrix -------------------------------------------------------------------------

test.concurrent('channel_create: owner, admin and a manage_channels role may; a plain user may not', async () => {
  await using server = await startServer()
  const { managers, bob, owner } = await staff(server)
  for (const [i, client] of managers.entries()) {
    expect(await client.request({ cmd: 'channel_create', name: `made-${i}`, type: 'text' })).toEqual({
      cmd: 'channel_create',
      channel: { name: `made-${i}`, type: 'text', permissions: DEFAULTS },
      created: true,
    })
  }
  // The permission check comes before any input check, so even an empty request is refused for it.
  expect(await bob.error({ cmd: 'channel_create', name: 'mine', type: 'text' })).toEqual(denied('channel_create'))
  expect(await bob.error({ cmd: 'channel_create' })).toEqual(denied('channel_create'))
  expect(await names(owner)).toEqual(['general', 'made-0', 'made-1', 'made-2'])
})

test.concurrent('channel_update: owner, admin and a manage_channels role may; a plain user may not', async () => {
  await using server = await startServer()
  const { managers, bob, owner } = await staff(server)
  for (const [i, client] of managers.entries()) {
    expect(await client.request({ cmd: 'channel_update', current_name: 'general', updates: { description: `by ${i}` } })).toEqual({
      cmd: 'channel_update',
      channel: { ...GENERAL, description: `by ${i}` },
      updated: true,
    })
  }
  expect(await bob.error({ cmd: 'channel_update', current_name: 'general', updates: { description: 'mine' } })).toEqual(denied('channel_update'))
  expect(await bob.error({ cmd: 'channel_update' })).toEqual(denied('channel_update'))
  expect((await list(owner))[0].description).toBe('by 2')
})

test.concurrent('channel_move: owner, admin and a manage_channels role may; a plain user may not', async () => {
  await using server = await startServer()
  const { managers, bob, owner } = await staff(server)
  await server.addChannel({ name: 'second', type: 'text', permissions: OPEN })
  for (const [i, client] of managers.entries()) {
    const position = i % 2 === 0 ? 0 : 1
    expect(await client.request({ cmd: 'channel_move', name: 'second', position })).toEqual({ cmd: 'channel_move', name: 'second', position, moved: true })
  }
  expect(await bob.error({ cmd: 'channel_move', name: 'second', position: 1 })).toEqual(denied('channel_move'))
  expect(await bob.error({ cmd: 'channel_move' })).toEqual(denied('channel_move'))
  expect(await names(owner)).toEqual(['second', 'general'])
})

test.concurrent('channel_delete: owner, admin and a manage_channels role may; a plain user may not', async () => {
  await using server = await startServer()
  const { managers, bob, owner } = await staff(server)
  for (const name of ['doomed-0', 'doomed-1', 'doomed-2', 'kept']) await server.addChannel({ name, type: 'text', permissions: OPEN })
  for (const [i, client] of managers.entries()) {
    expect(await client.request({ cmd: 'channel_delete', name: `doomed-${i}` })).toEqual({ cmd: 'channel_delete', name: `doomed-${i}`, deleted: true })
  }
  expect(await bob.error({ cmd: 'channel_delete', name: 'kept' })).toEqual(denied('channel_delete'))
  expect(await bob.error({ cmd: 'channel_delete' })).toEqual(denied('channel_delete'))
  expect(await names(owner)).toEqual(['general', 'kept'])
})

// ---- reply shapes ------------------------------------------------------------------------------

test.concurrent('channel_create stores only the documented fields, dropping empty ones and empty role lists', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')

  const full = await owner.request({
    cmd: 'channel_create',
    name: 'announcements',
    type: 'text',
    description: 'News',
    display_name: 'Announcements',
    permissions: { view: ['user'], send: ['owner'], pin: [], react: null },
    size: 12, // only separators keep a size
    wallpaper: 'ignored.png', // set only through channel_update
  })
  expect(full).toEqual({
    cmd: 'channel_create',
    channel: { name: 'announcements', type: 'text', description: 'News', display_name: 'Announcements', permissions: { view: ['user'], send: ['owner'] } },
    created: true,
  })

  expect(await owner.request({ cmd: 'channel_create', name: 'line', type: 'separator', size: 24, description: '', display_name: '' })).toEqual({
    cmd: 'channel_create',
    channel: { name: 'line', type: 'separator', size: 24, permissions: DEFAULTS },
    created: true,
  })
  // A zero size is not stored; `{}` and role lists that are all empty mean the defaults.
  expect(await owner.request({ cmd: 'channel_create', name: 'gap', type: 'separator', size: 0, permissions: {} })).toEqual({
    cmd: 'channel_create',
    channel: { name: 'gap', type: 'separator', permissions: DEFAULTS },
    created: true,
  })
  expect(await owner.request({ cmd: 'channel_create', name: 'talk', type: 'voice', permissions: { view: [] } })).toEqual({
    cmd: 'channel_create',
    channel: { name: 'talk', type: 'voice', permissions: DEFAULTS },
    created: true,
  })

  // Names are unique case-sensitively, and new channels go to the end of the list.
  expect(await owner.error({ cmd: 'channel_create', name: 'line', type: 'text' })).toEqual(error('channel_create', 'Channel already exists'))
  expect((await owner.request({ cmd: 'channel_create', name: 'General', type: 'text' })).created).toBe(true)
  expect((await list(owner))).toEqual([
    { ...GENERAL, last_message: null, last_message_id: null },
    { name: 'announcements', type: 'text', description: 'News', display_name: 'Announcements', permissions: { view: ['user'], send: ['owner'] }, last_message: null, last_message_id: null },
    { name: 'line', type: 'separator', size: 24, permissions: DEFAULTS },
    { name: 'gap', type: 'separator', permissions: DEFAULTS },
    { name: 'talk', type: 'voice', permissions: DEFAULTS, voice_state: [] },
    { name: 'General', type: 'text', permissions: DEFAULTS, last_message: null, last_message_id: null },
  ])
})

test.concurrent('channel_update merges any key, replaces permissions whole and may change the type', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  await server.addChannel({ name: 'art', type: 'text', description: 'Pictures', permissions: { view: ['user'], send: ['user'], pin: ['owner'] } })

  expect(
    await owner.request({
      cmd: 'channel_update',
      current_name: 'art',
      updates: { wallpaper: 'sky.png', icon: { url: 'i.png' }, type: 'voice', permissions: { view: ['user', 'owner'], send: [] } },
    }),
  ).toEqual({
    cmd: 'channel_update',
    channel: { name: 'art', type: 'voice', description: 'Pictures', wallpaper: 'sky.png', icon: { url: 'i.png' }, permissions: { view: ['user', 'owner'] } },
    updated: true,
  })
  // Updating to the same name is no rename and no clash.
  expect(await owner.request({ cmd: 'channel_update', current_name: 'art', updates: { name: 'art', type: 'separator', size: 8 } })).toEqual({
    cmd: 'channel_update',
    channel: { name: 'art', type: 'separator', size: 8, description: 'Pictures', wallpaper: 'sky.png', icon: { url: 'i.png' }, permissions: { view: ['user', 'owner'] } },
    updated: true,
  })
})

// ---- channel-list pushes and live subscriptions --------------------------------------------------

test.concurrent('every change pushes each online user their own filtered channels_get', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const bob = await server.login('bob')

  // Default permissions: only the owner may view the new channel, so bob's list does not show it.
  const created = await owner.request({ cmd: 'channel_create', name: 'staff', type: 'text' })
  expect((await owner.next('channels_get')).val).toEqual([
    { ...GENERAL, last_message: null, last_message_id: null },
    { ...created.channel, last_message: null, last_message_id: null },
  ])
  expect(await bob.next('channels_get')).toEqual({ cmd: 'channels_get', val: [{ ...GENERAL, last_message: null, last_message_id: null }] })

  await owner.request({ cmd: 'channel_create', name: 'lobby', type: 'text', permissions: OPEN })
  expect(await pushedNames(owner)).toEqual(['general', 'staff', 'lobby'])
  expect(await pushedNames(bob)).toEqual(['general', 'lobby'])

  await owner.request({ cmd: 'channel_move', name: 'lobby', position: 0 })
  expect(await pushedNames(owner)).toEqual(['lobby', 'general', 'staff'])
  expect(await pushedNames(bob)).toEqual(['lobby', 'general'])

  await owner.request({ cmd: 'channel_update', current_name: 'lobby', updates: { name: 'hall' } })
  expect(await pushedNames(owner)).toEqual(['hall', 'general', 'staff'])
  expect(await pushedNames(bob)).toEqual(['hall', 'general'])

  await owner.request({ cmd: 'channel_delete', name: 'hall' })
  expect(await pushedNames(owner)).toEqual(['general', 'staff'])
  expect(await pushedNames(bob)).toEqual(['general'])

  // Refused requests change nothing and push nothing.
  await bob.error({ cmd: 'channel_create', name: 'x', type: 'text' })
  await owner.error({ cmd: 'channel_delete', name: 'hall' })
  await bob.expectNone('channels_get')
  await owner.expectNone('channels_get')
})

test.concurrent('channel_update of permissions starts and stops delivery of the channel live, both ways', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  await owner.request({ cmd: 'channel_create', name: 'secret', type: 'text', permissions: { view: ['owner'], send: ['owner'] } })
  await bob.next('channels_get')

  await post(owner, 'secret', 'before')
  await bob.expectNone('message_new')

  // Gaining view: bob's list grows and the channel's packets reach him from now on.
  await owner.request({ cmd: 'channel_update', current_name: 'secret', updates: { permissions: { view: ['owner', 'user'], send: ['owner'] } } })
  expect(await pushedNames(bob)).toEqual(['general', 'secret'])
  await post(owner, 'secret', 'while visible')
  expect((await bob.next('message_new')).message.content).toBe('while visible')

  // Losing view: the list shrinks and nothing more arrives, though the socket stays open.
  await owner.request({ cmd: 'channel_update', current_name: 'secret', updates: { permissions: { view: ['owner'], send: ['owner'] } } })
  expect(await pushedNames(bob)).toEqual(['general'])
  await post(owner, 'secret', 'after')
  await bob.expectNone('message_new')
  expect(await bob.error({ cmd: 'messages_get', channel: 'secret' })).toEqual({ cmd: 'error', val: 'Access denied to this channel' })
})

test.concurrent('a rename moves the live subscription to the new name', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  await owner.request({ cmd: 'channel_update', current_name: 'general', updates: { name: 'town-square' } })
  await bob.next('channels_get')
  await post(owner, 'town-square', 'hello again')
  expect(await bob.next('message_new')).toMatchObject({ channel: 'town-square', message: { content: 'hello again' } })
})

// ---- rename, delete and move persistence ---------------------------------------------------------

test.concurrent('compat bug 8: a rename keeps history, pins and read positions, also after a restart', async () => {
  await using server = await startServer()
  let owner = await server.login('owner')
  const first = await post(owner, 'general', 'first')
  const second = await post(owner, 'general', 'second')
  await owner.request({ cmd: 'message_pin', channel: 'general', id: first.id })
  await owner.request({ cmd: 'messages_get', channel: 'general' }) // marks general read
  const ownerId = (await server.app.store.users.getByUsername('owner'))!.id

  expect(await owner.request({ cmd: 'channel_update', current_name: 'general', updates: { name: 'lounge', display_name: 'Lounge' } })).toEqual({
    cmd: 'channel_update',
    channel: { ...GENERAL, name: 'lounge', display_name: 'Lounge' },
    updated: true,
  })
  expect(await history(owner, 'lounge')).toEqual(['first', 'second'])
  expect((await owner.request({ cmd: 'messages_pinned', channel: 'lounge' })).messages.map((m: Packet) => m.id)).toEqual([first.id])
  expect(await server.app.store.unreads.get(ownerId, { channel: 'lounge', thread_id: null })).toBe(second.id)
  expect(await server.app.store.unreads.get(ownerId, { channel: 'general', thread_id: null })).toBeUndefined()
  expect(await owner.error({ cmd: 'messages_get', channel: 'general' })).toEqual(error('messages_get', 'Channel not found'))

  await server.restart()
  owner = await server.login('owner')
  expect(await names(owner)).toEqual(['lounge'])
  expect(await history(owner, 'lounge')).toEqual(['first', 'second'])
  expect(await owner.error({ cmd: 'messages_get', channel: 'general' })).toEqual(error('messages_get', 'Channel not found'))
})

test.concurrent('channel_delete deletes the history: the same name re-created starts empty', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  await owner.request({ cmd: 'channel_create', name: 'temp', type: 'text' })
  await post(owner, 'temp', 'soon gone')
  expect(await history(owner, 'temp')).toEqual(['soon gone'])

  expect(await owner.request({ cmd: 'channel_delete', name: 'temp' })).toEqual({ cmd: 'channel_delete', name: 'temp', deleted: true })
  expect(await names(owner)).toEqual(['general'])
  expect(await owner.error({ cmd: 'messages_get', channel: 'temp' })).toEqual(error('messages_get', 'Channel not found'))

  await owner.request({ cmd: 'channel_create', name: 'temp', type: 'text' })
  expect(await history(owner, 'temp')).toEqual([])
  expect((await list(owner))[1]).toMatchObject({ name: 'temp', last_message: null, last_message_id: null })
})

test.concurrent('channel_delete prefers the exact name, else the first case-insensitive match', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  for (const name of ['Dup', 'dup', 'DUP']) await server.addChannel({ name, type: 'text', permissions: OPEN })
  expect(await owner.request({ cmd: 'channel_delete', name: 'dup' })).toEqual({ cmd: 'channel_delete', name: 'dup', deleted: true })
  expect(await owner.request({ cmd: 'channel_delete', name: 'dUp' })).toEqual({ cmd: 'channel_delete', name: 'Dup', deleted: true })
  expect(await names(owner)).toEqual(['general', 'DUP'])
})

test.concurrent('channel_move reorders, clamps to the end, and the order survives a restart', async () => {
  await using server = await startServer()
  let owner = await server.login('owner')
  for (const name of ['a', 'b', 'c']) await owner.request({ cmd: 'channel_create', name, type: 'text' })

  expect(await owner.request({ cmd: 'channel_move', name: 'c', position: 0 })).toEqual({ cmd: 'channel_move', name: 'c', position: 0, moved: true })
  expect(await names(owner)).toEqual(['c', 'general', 'a', 'b'])
  // Past the end is clamped; the reply echoes the requested position.
  expect(await owner.request({ cmd: 'channel_move', name: 'general', position: 99 })).toEqual({ cmd: 'channel_move', name: 'general', position: 99, moved: true })
  expect(await names(owner)).toEqual(['c', 'a', 'b', 'general'])

  await server.restart()
  owner = await server.login('owner')
  expect(await names(owner)).toEqual(['c', 'a', 'b', 'general'])
})

test.concurrent('compat bug 9: moving an unknown channel answers moved:false, changes and pushes nothing', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  expect(await owner.request({ cmd: 'channel_move', name: 'nowhere', position: 1 })).toEqual({ cmd: 'channel_move', name: 'nowhere', position: 1, moved: false })
  await owner.expectNone('channels_get')
  await bob.expectNone('channels_get')
  expect((await server.app.store.modlog.list({ limit: 10, offset: 0 })).total).toBe(0)
})

// ---- forum channels (compat bug 10) --------------------------------------------------------------

test.concurrent('compat bug 10: forum channels can be created and converted to; the old type errors are unchanged', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  expect(await owner.request({ cmd: 'channel_create', name: 'ideas', type: 'forum', permissions: { view: ['user'], create_thread: ['user'] } })).toEqual({
    cmd: 'channel_create',
    channel: { name: 'ideas', type: 'forum', permissions: { view: ['user'], create_thread: ['user'] } },
    created: true,
  })
  expect(await owner.request({ cmd: 'channel_update', current_name: 'general', updates: { type: 'forum' } })).toEqual({
    cmd: 'channel_update',
    channel: { ...GENERAL, type: 'forum' },
    updated: true,
  })
  expect((await list(owner))).toEqual([
    { ...GENERAL, type: 'forum', threads: [] },
    { name: 'ideas', type: 'forum', permissions: { view: ['user'], create_thread: ['user'] }, threads: [] },
  ])

  expect(await owner.error({ cmd: 'channel_create', name: 'x', type: 'category' })).toEqual(
    error('channel_create', 'Invalid channel type, must be text, voice, or separator'),
  )
  expect(await owner.error({ cmd: 'channel_update', current_name: 'ideas', updates: { type: 'category' } })).toEqual(error('channel_update', 'Invalid channel type'))
})

// ---- names (compat bug 38) -----------------------------------------------------------------------

test.concurrent('compat bug 38: channel names are bounded, printable, and never paths', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const create = (name: unknown) => ({ cmd: 'channel_create', name, type: 'text' })
  const tooLong = error('channel_create', 'Channel name must be at most 100 characters')
  const unprintable = error('channel_create', 'Channel name contains invalid characters')

  // The limit counts code points: 100 astral emoji (200 UTF-16 units) fit, 101 letters do not.
  expect((await owner.request(create('🦊'.repeat(100)))).created).toBe(true)
  expect(await owner.error(create('a'.repeat(101)))).toEqual(tooLong)
  expect(await owner.error(create('   '))).toEqual(error('channel_create', 'Channel name is required'))
  for (const bad of ['line\nbreak', 'tab\there', 'nul\u0000', 'bell\u0007', 'c1\u0085', 'rtl\u202Eevil', 'lone\uD800']) {
    expect(await owner.error(create(bad))).toEqual(unprintable)
  }
  // Renames obey the same rules.
  expect(await owner.error({ cmd: 'channel_update', current_name: 'general', updates: { name: 'x'.repeat(101) } })).toEqual(
    error('channel_update', 'Channel name must be at most 100 characters'),
  )
  expect(await owner.error({ cmd: 'channel_update', current_name: 'general', updates: { name: 'a\rb' } })).toEqual(
    error('channel_update', 'Channel name contains invalid characters'),
  )

  // Path-like names are plain names: creating and deleting them touches nothing else.
  const bob = await server.login('bob')
  for (const name of ['../users', '../../db/channels', 'a/b\\c']) {
    expect((await owner.request(create(name))).channel.name).toBe(name)
    await post(owner, name, `in ${name}`)
    expect(await history(owner, name)).toEqual([`in ${name}`])
    expect(await owner.request({ cmd: 'channel_delete', name })).toEqual({ cmd: 'channel_delete', name, deleted: true })
  }
  expect((await bob.request({ cmd: 'users_list' })).users.map((u: Packet) => u.username).sort()).toEqual(['bob', 'owner'])
  expect(await names(owner)).toEqual(['general', '🦊'.repeat(100)])
})

// ---- bad input -----------------------------------------------------------------------------------

test.concurrent('channel_create rejects missing and mistyped fields in upstream order', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const cases: Array<[Record<string, unknown>, string]> = [
    [{}, 'Channel name is required'],
    [{ name: '', type: 'text' }, 'Channel name is required'],
    [{ name: null, type: 'text' }, 'Channel name is required'],
    [{ name: 5, type: 'text' }, "Invalid field 'name': expected string"],
    [{ name: ['x'], type: 'text' }, "Invalid field 'name': expected string"],
    [{ name: 'x' }, 'Channel type is required (text, voice, or separator)'],
    [{ name: 'x', type: '' }, 'Channel type is required (text, voice, or separator)'],
    [{ name: 'x', type: 5 }, 'Invalid channel type, must be text, voice, or separator'],
    [{ name: 'x', type: 'TEXT' }, 'Invalid channel type, must be text, voice, or separator'],
    [{ name: 'x', type: 'text', description: 5 }, "Invalid field 'description': expected string"],
    [{ name: 'x', type: 'text', display_name: {} }, "Invalid field 'display_name': expected string"],
    [{ name: 'x', type: 'separator', size: 'big' }, "Invalid field 'size': expected integer"],
    [{ name: 'x', type: 'separator', size: 1.5 }, "Invalid field 'size': expected integer"],
    [{ name: 'x', type: 'text', permissions: 'user' }, "Invalid field 'permissions': expected object"],
    [{ name: 'x', type: 'text', permissions: { view: 'user' } }, "Invalid field 'permissions.view': expected array or null"],
    [{ name: 'x', type: 'text', permissions: { view: [1] } }, "Invalid field 'permissions.view': expected array or null"],
    [{ name: 'general', type: 'text' }, 'Channel already exists'],
  ]
  for (const [fields, val] of cases) expect(await owner.error({ cmd: 'channel_create', ...fields })).toEqual(error('channel_create', val))
  expect(await names(owner)).toEqual(['general'])
})

test.concurrent('channel_update rejects missing and mistyped fields in upstream order', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  await server.addChannel({ name: 'other', type: 'text', permissions: OPEN })
  const cases: Array<[Record<string, unknown>, string]> = [
    [{}, 'current_name is required'],
    [{ current_name: '', updates: { description: 'x' } }, 'current_name is required'],
    [{ current_name: 7, updates: { description: 'x' } }, "Invalid field 'current_name': expected string"],
    [{ current_name: 'general' }, 'updates object is required'],
    [{ current_name: 'general', updates: {} }, 'updates object is required'],
    [{ current_name: 'general', updates: ['name'] }, 'updates object is required'],
    [{ current_name: 'general', updates: 'name' }, 'updates object is required'],
    [{ current_name: 'nowhere', updates: { type: 'bad' } }, 'Channel not found'],
    [{ current_name: 'General', updates: { description: 'x' } }, 'Channel not found'],
    [{ current_name: 'general', updates: { type: 'bad', name: 'other' } }, 'Invalid channel type'],
    [{ current_name: 'general', updates: { type: null } }, 'Invalid channel type'],
    [{ current_name: 'general', updates: { name: '' } }, 'Channel name is required'],
    [{ current_name: 'general', updates: { name: 5 } }, "Invalid field 'updates.name': expected string"],
    [{ current_name: 'general', updates: { name: 'other' } }, 'Channel with new name already exists'],
    [{ current_name: 'general', updates: { permissions: { view: 3 } } }, "Invalid field 'updates.permissions.view': expected array or null"],
    [{ current_name: 'general', updates: { permissions: [] } }, "Invalid field 'updates.permissions': expected object"],
  ]
  for (const [fields, val] of cases) expect(await owner.error({ cmd: 'channel_update', ...fields })).toEqual(error('channel_update', val))
  expect((await list(owner)).map(({ last_message: _a, last_message_id: _b, ...c }) => c)).toEqual([
    GENERAL,
    { name: 'other', type: 'text', permissions: OPEN },
  ])
})

test.concurrent('channel_move and channel_delete reject missing and mistyped fields', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const moves: Array<[Record<string, unknown>, string]> = [
    [{}, 'Channel name is required'],
    [{ name: '', position: 0 }, 'Channel name is required'],
    [{ name: 3, position: 0 }, "Invalid field 'name': expected string"],
    [{ name: 'general' }, 'Position is required'],
    [{ name: 'general', position: null }, 'Position is required'],
    [{ name: 'general', position: -1 }, 'Position must be a non-negative integer'],
    [{ name: 'general', position: 1.5 }, 'Position must be a non-negative integer'],
    [{ name: 'general', position: '2' }, 'Position must be a non-negative integer'],
    [{ name: 'general', position: true }, 'Position must be a non-negative integer'],
  ]
  for (const [fields, val] of moves) expect(await owner.error({ cmd: 'channel_move', ...fields })).toEqual(error('channel_move', val))

  const deletes: Array<[Record<string, unknown>, string]> = [
    [{}, 'Channel name is required'],
    [{ name: null }, 'Channel name is required'],
    [{ name: 4 }, "Invalid field 'name': expected string"],
    [{ name: 'nowhere' }, 'Channel not found'],
  ]
  for (const [fields, val] of deletes) expect(await owner.error({ cmd: 'channel_delete', ...fields })).toEqual(error('channel_delete', val))
  expect(await names(owner)).toEqual(['general'])
})

// ---- moderation log ------------------------------------------------------------------------------

test.concurrent('each successful change is recorded in the moderation log with the caller as actor', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const ownerId = (await server.app.store.users.getByUsername('owner'))!.id
  await owner.request({ cmd: 'channel_create', name: 'news', type: 'voice' })
  await owner.request({ cmd: 'channel_update', current_name: 'news', updates: { name: 'updates', description: 'd' } })
  await owner.request({ cmd: 'channel_move', name: 'updates', position: 0 })
  await owner.request({ cmd: 'channel_delete', name: 'UPDATES' })
  await settled(owner)

  const { entries, total } = await server.app.store.modlog.list({ limit: 10, offset: 0 })
  expect(total).toBe(4)
  const base = { category: 'channel_management', actor_id: ownerId, actor_name: 'owner' }
  expect(entries.map(({ id: _id, timestamp: _t, ...entry }) => entry).reverse()).toEqual([
    { ...base, action: 'channel_create', target_id: 'news', target_name: 'news', details: { type: 'voice' } },
    { ...base, action: 'channel_update', target_id: 'news', target_name: 'updates', details: { name: 'updates', description: 'd' } },
    { ...base, action: 'channel_move', target_id: 'updates', target_name: 'updates', details: { position: 0 } },
    { ...base, action: 'channel_delete', target_id: 'updates', target_name: 'updates', details: {} },
  ])
})

test.concurrent('nothing is recorded when the moderation log is disabled', async () => {
  await using server = await startServer({ modlog: { enabled: false } })
  const owner = await server.login('owner')
  await owner.request({ cmd: 'channel_create', name: 'news', type: 'text' })
  await settled(owner)
  expect((await server.app.store.modlog.list({ limit: 10, offset: 0 })).total).toBe(0)
})

/**
 * Three clients pipeline 100 messages each into `channel` while `change` runs half-way. Resolves
 * with the IDs the server acknowledged; every other answer must be `Channel not found`.
 */
async function raceMessages(server: TestServer, channel: string, change: () => void): Promise<string[]> {
  const senders = await Promise.all(['ann', 'ben', 'cat'].map((name) => server.login(name)))
  const send = (from: number, to: number) => {
    for (const client of senders) for (let i = from; i < to; i++) client.send({ cmd: 'message_new', channel, content: `m${i}`, listener: `m${i}` })
  }
  send(0, 50)
  // One stored first, so some are acknowledged however the store schedules its writes; the rest race.
  const acked: string[] = [(await senders[0]!.next('message_new', (p) => p.listener === 'm0')).message.id]
  change()
  send(50, 100)
  for (const [k, client] of senders.entries()) {
    for (let i = k === 0 ? 1 : 0; i < 100; i++) {
      const answer = await Promise.race([client.next('message_new', (p) => p.listener === `m${i}`), client.next('error', (p) => p.listener === `m${i}`)])
      if (answer.cmd === 'message_new') acked.push(answer.message.id)
      else expect(answer).toEqual({ cmd: 'error', src: 'message_new', val: 'Channel not found', listener: `m${i}` })
    }
  }
  return acked
}

/** Every message ID of a channel's history, through messages_get pages. */
async function historyIds(client: TestClient, channel: string): Promise<string[]> {
  const ids: string[] = []
  let start: string | undefined
  for (;;) {
    const page = await client.request({ cmd: 'messages_get', channel, limit: 200, ...(start ? { start } : {}) })
    ids.unshift(...page.messages.map((m: Packet) => m.id))
    if (page.messages.length < 200) return ids
    start = page.messages[0].id
  }
}

test.concurrent('a rename racing 300 messages: every acknowledged message is in the renamed channel', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  await owner.request({ cmd: 'channel_create', name: 'race', type: 'text', permissions: OPEN })
  const acked = await raceMessages(server, 'race', () => owner.send({ cmd: 'channel_update', current_name: 'race', updates: { name: 'race2' } }))
  expect((await owner.next('channel_update')).updated).toBe(true)
  expect(acked.length).toBeGreaterThan(0)
  expect((await historyIds(owner, 'race2')).sort()).toEqual(acked.sort())
  expect(await owner.error({ cmd: 'messages_get', channel: 'race' })).toEqual({ cmd: 'error', src: 'messages_get', val: 'Channel not found' })
})

test.concurrent('a delete racing 300 messages: none of them turns up in a channel re-created under the name', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  await owner.request({ cmd: 'channel_create', name: 'doomed', type: 'text', permissions: OPEN })
  await raceMessages(server, 'doomed', () => owner.send({ cmd: 'channel_delete', name: 'doomed' }))
  expect((await owner.next('channel_delete')).deleted).toBe(true)
  await owner.request({ cmd: 'channel_create', name: 'doomed', type: 'text', permissions: OPEN })
  expect(await historyIds(owner, 'doomed')).toEqual([])
})
