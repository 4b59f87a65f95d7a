import { expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer } from '../helpers/server.ts'

const GENERAL = {
  type: 'text',
  name: 'general',
  description: 'General chat channel for everyone',
  permissions: { view: ['user'], send: ['user'], delete: ['admin', 'moderator'], create_thread: ['user'] },
}

const names = async (client: TestClient): Promise<string[]> => (await client.request({ cmd: 'channels_get' })).val.map((c: any) => c.name)

test.concurrent('a fresh server lists #general with no last message', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  expect(await alice.request({ cmd: 'channels_get' })).toEqual({
    cmd: 'channels_get',
    val: [{ ...GENERAL, last_message: null, last_message_id: null }],
  })
})

test.concurrent('text channels carry the newest message timestamp and ID', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'quiet', type: 'text', permissions: { view: ['user'], send: ['user'] } })
  const alice = await server.login('alice')
  const posted = []
  for (const content of ['first', 'second']) {
    alice.send({ cmd: 'message_new', channel: 'general', content })
    posted.push((await alice.next('message_new', (p) => p.message.content === content)).message)
  }
  const [first, second] = posted

  expect((await alice.request({ cmd: 'channels_get' })).val).toEqual([
    { ...GENERAL, last_message: second.timestamp, last_message_id: second.id },
    { name: 'quiet', type: 'text', permissions: { view: ['user'], send: ['user'] }, last_message: null, last_message_id: null },
  ])

  // Deleting the newest message makes the one before it the last message again.
  alice.send({ cmd: 'message_delete', id: second.id, channel: 'general' })
  await alice.next('message_delete')
  expect((await alice.request({ cmd: 'channels_get' })).val[0]).toEqual({ ...GENERAL, last_message: first.timestamp, last_message_id: first.id })
})

test.concurrent('only channels whose view list admits the caller are listed', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'staff', type: 'text', permissions: { view: ['owner'], send: ['owner'] } })
  await server.addChannel({ name: 'hidden', type: 'text', permissions: { send: ['user'] } })
  await server.addChannel({ name: 'bare', type: 'text' })
  await server.addChannel({ name: 'empty', type: 'text', permissions: {} })
  const owner = await server.login('owner')
  const bob = await server.login('bob')

  expect(await names(owner)).toEqual(['general', 'staff'])
  expect(await names(bob)).toEqual(['general'])
})

test.concurrent('view lists are walked in the caller’s role order with !role denials', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'lounge', type: 'text', permissions: { view: ['!muted', 'user'], send: ['user'] } })
  const bob = await server.login('bob')
  expect(await names(bob)).toEqual(['general', 'lounge'])

  // `muted` comes first, so the denial wins; general does not mention it and still admits `user`.
  await server.setRoles('bob', ['muted', 'user'])
  expect(await names(bob)).toEqual(['general'])

  // The first role that the list mentions decides: `user` now precedes `muted`.
  await server.setRoles('bob', ['user', 'muted'])
  expect(await names(bob)).toEqual(['general', 'lounge'])

  // No role mentioned at all denies.
  await server.setRoles('bob', ['guest'])
  expect(await names(bob)).toEqual([])
})

test.concurrent('channels keep their stored order, not alphabetical order', async () => {
  await using server = await startServer()
  for (const name of ['zeta', 'alpha', 'mid']) await server.addChannel({ name, type: 'text', permissions: { view: ['user'] } })
  const alice = await server.login('alice')
  expect(await names(alice)).toEqual(['general', 'zeta', 'alpha', 'mid'])
})

test.concurrent('stored keys pass through and each type gets its own enrichment', async () => {
  await using server = await startServer()
  const art = {
    name: 'art',
    type: 'text',
    description: 'Show your work',
    icon: 'https://example.com/art.png',
    wallpaper: { url: 'https://example.com/bg.png', blur: 3 },
    permissions: { view: ['user'], send: ['user'], react: ['user'], pin: ['owner'] },
  }
  const lobby = { name: 'lobby', type: 'voice', permissions: { view: ['user'] }, bitrate: 64000 }
  const ideas = { name: 'ideas', type: 'forum', permissions: { view: ['user'], create_thread: ['user'] }, tags: ['bug'] }
  const rules = { name: 'rules-header', type: 'separator', permissions: { view: ['user'] }, size: 10 }
  for (const channel of [art, lobby, ideas, rules]) await server.addChannel(channel)
  const alice = await server.login('alice')

  expect((await alice.request({ cmd: 'channels_get' })).val).toEqual([
    { ...GENERAL, last_message: null, last_message_id: null },
    { ...art, last_message: null, last_message_id: null },
    { ...lobby, voice_state: [] },
    { ...ideas, threads: [] },
    rules,
  ])
})

test.concurrent('the list survives a restart', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'extra', type: 'text', permissions: { view: ['user'], send: ['user'] }, topic: 'kept' })
  const alice = await server.login('alice')
  alice.send({ cmd: 'message_new', channel: 'extra', content: 'still here' })
  const message = (await alice.next('message_new')).message
  const before = (await alice.request({ cmd: 'channels_get' })).val

  await server.restart()
  const bob = await server.login('bob')
  const after = (await bob.request({ cmd: 'channels_get' })).val
  expect(after).toEqual(before)
  expect(after[1]).toEqual({
    name: 'extra', type: 'text', permissions: { view: ['user'], send: ['user'] }, topic: 'kept',
    last_message: message.timestamp, last_message_id: message.id,
  })
})
