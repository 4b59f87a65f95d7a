import { expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer } from '../helpers/server.ts'

/** Posts `content` and returns the stored message's ID once the echo arrived. */
async function post(client: TestClient, content: string, channel = 'general'): Promise<string> {
  client.send({ cmd: 'message_new', channel, content })
  return (await client.next('message_new', (p) => p.message.content === content)).message.id
}

const denied = (cmd: string, val: string) => ({ cmd: 'error', src: cmd, val })

test.concurrent('add and remove are broadcast to the channel with the reacting username', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  const id = await post(alice, 'react to me')

  bob.send({ cmd: 'message_react_add', id, emoji: '👍', channel: 'general' })
  const added = { cmd: 'message_react_add', id, emoji: '👍', channel: 'general', from: 'bob', global: true }
  expect(await bob.next('message_react_add')).toEqual(added)
  expect(await alice.next('message_react_add')).toEqual(added)

  bob.send({ cmd: 'message_react_remove', id, emoji: '👍', channel: 'general' })
  const removed = { cmd: 'message_react_remove', id, emoji: '👍', channel: 'general', from: 'bob', global: true }
  expect(await bob.next('message_react_remove')).toEqual(removed)
  expect(await alice.next('message_react_remove')).toEqual(removed)
})

test.concurrent('reactions in a private channel reach only its viewers', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'staff', type: 'text', permissions: { view: ['owner', 'staff'], send: ['owner'], react: ['owner', 'staff'] } })
  const owner = await server.login('owner')
  const carol = await server.login('carol')
  const bob = await server.login('bob')
  await server.setRoles('carol', ['user', 'staff'])
  const id = await post(owner, 'staff only', 'staff')

  owner.send({ cmd: 'message_react_add', id, emoji: '✅', channel: 'staff' })
  const packet = { cmd: 'message_react_add', id, emoji: '✅', channel: 'staff', from: 'owner', global: true }
  expect(await owner.next('message_react_add')).toEqual(packet)
  expect(await carol.next('message_react_add')).toEqual(packet)
  await bob.expectNone('message_react_add')

  // A non-viewer cannot react either: reading the message needs `view` (compat-notes §2.11).
  expect(await bob.error({ cmd: 'message_react_add', id, emoji: '✅', channel: 'staff' })).toEqual(
    denied('message_react_add', 'You do not have permission to add reactions to this message'),
  )
})

test.concurrent('a second identical reaction fails and is not broadcast again', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  const id = await post(alice, 'once only')

  alice.send({ cmd: 'message_react_add', id, emoji: '🎉', channel: 'general' })
  await alice.next('message_react_add')
  await bob.next('message_react_add')

  expect(await alice.error({ cmd: 'message_react_add', id, emoji: '🎉', channel: 'general' })).toEqual(
    denied('message_react_add', 'Failed to add reaction'),
  )
  await alice.expectNone('message_react_add')
  await bob.expectNone('message_react_add')
})

test.concurrent('removing a reaction the caller never made fails', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  const id = await post(alice, 'bob reacts, alice removes')
  const failed = denied('message_react_remove', 'Failed to remove reaction')

  expect(await alice.error({ cmd: 'message_react_remove', id, emoji: '👍', channel: 'general' })).toEqual(failed)

  bob.send({ cmd: 'message_react_add', id, emoji: '👍', channel: 'general' })
  await alice.next('message_react_add')
  // Someone else's reaction with the same emoji is not the caller's to remove.
  expect(await alice.error({ cmd: 'message_react_remove', id, emoji: '👍', channel: 'general' })).toEqual(failed)
  await bob.expectNone('message_react_remove')
})

test.concurrent('a missing message fails with the store failure text', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  expect(await alice.error({ cmd: 'message_react_add', id: 'no-such-id', emoji: '👍', channel: 'general' })).toEqual(
    denied('message_react_add', 'Failed to add reaction'),
  )
  expect(await alice.error({ cmd: 'message_react_remove', id: 'no-such-id', emoji: '👍', channel: 'general' })).toEqual(
    denied('message_react_remove', 'Failed to remove reaction'),
  )
})

test.concurrent('emoji are limited to 200 characters, counted as code points', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const id = await post(alice, 'long emoji')

  // 200 code points but 400 UTF-16 units: still within the limit.
  const longest = '👍'.repeat(200)
  alice.send({ cmd: 'message_react_add', id, emoji: longest, channel: 'general' })
  expect((await alice.next('message_react_add')).emoji).toBe(longest)

  for (const cmd of ['message_react_add', 'message_react_remove']) {
    expect(await alice.error({ cmd, id, emoji: 'x'.repeat(201), channel: 'general' })).toEqual(denied(cmd, 'Invalid emoji'))
  }
})

test.concurrent('missing fields are reported in upstream order', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const id = await post(alice, 'fields')

  for (const cmd of ['message_react_add', 'message_react_remove']) {
    const required = denied(cmd, 'Message ID and emoji are required')
    expect(await alice.error({ cmd, emoji: '👍', channel: 'general' })).toEqual(required)
    expect(await alice.error({ cmd, id, channel: 'general' })).toEqual(required)
    expect(await alice.error({ cmd, id, emoji: '', channel: 'general' })).toEqual(required)
    expect(await alice.error({ cmd, id, emoji: 5, channel: 'general' })).toEqual(required)
    // The emoji is checked before the target.
    expect(await alice.error({ cmd, id, emoji: 'x'.repeat(201) })).toEqual(denied(cmd, 'Invalid emoji'))
    expect(await alice.error({ cmd, id, emoji: '👍' })).toEqual(denied(cmd, 'Channel or thread_id required'))
    expect(await alice.error({ cmd, id, emoji: '👍', channel: 'nowhere' })).toEqual(denied(cmd, 'Channel not found'))
  }
})

test.concurrent('roles missing from the channel react list are refused', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'news', type: 'text', permissions: { view: ['user'], send: ['owner'], react: ['owner'] } })
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  const id = await post(owner, 'announcement', 'news')

  expect(await bob.error({ cmd: 'message_react_add', id, emoji: '👍', channel: 'news' })).toEqual(
    denied('message_react_add', 'You do not have permission to add reactions to this message'),
  )
  expect(await bob.error({ cmd: 'message_react_remove', id, emoji: '👍', channel: 'news' })).toEqual(
    denied('message_react_remove', 'You do not have permission to remove reactions from this message'),
  )
  await owner.expectNone('message_react_add')

  // The react list is the only thing missing: granting a listed role lets bob react.
  await server.setRoles('bob', ['user', 'owner'])
  bob.send({ cmd: 'message_react_add', id, emoji: '👍', channel: 'news' })
  expect((await owner.next('message_react_add')).from).toBe('bob')
})

test.concurrent('history shows reactions as emoji → usernames in reaction order and they survive a restart', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  const id = await post(alice, 'popular')
  const other = await post(alice, 'unloved')

  for (const [client, emoji] of [[bob, '👍'], [alice, '👍'], [alice, '🎉'], [bob, '😮']] as const) {
    client.send({ cmd: 'message_react_add', id, emoji, channel: 'general' })
    await client.next('message_react_add')
  }
  bob.send({ cmd: 'message_react_remove', id, emoji: '😮', channel: 'general' })
  await bob.next('message_react_remove')

  // The emptied emoji disappears, and a message nobody reacted to has no `reactions` key.
  const reactionsOf = async (client: TestClient) => {
    const { messages } = await client.request({ cmd: 'messages_get', channel: 'general' })
    return Object.fromEntries(messages.map((m: any) => [m.id, 'reactions' in m ? m.reactions : 'absent']))
  }
  const expected = { [id]: { '👍': ['bob', 'alice'], '🎉': ['alice'] }, [other]: 'absent' }
  expect(await reactionsOf(alice)).toEqual(expected)

  await server.restart()
  const carol = await server.login('carol')
  expect(await reactionsOf(carol)).toEqual(expected)
})

test.concurrent('a message holds at most 20 different emojis; a flood of distinct reactions stops there', async () => {
  await using server = await startServer({ security: { actions_burst: 1000, actions_per_minute: 1000 } })
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  const id = await post(alice, 'popular')
  // The reproduction sent 6,000 distinct emojis; 200 show the cap without a long test (and stay
  // under the frames a connection may have waiting, however slow the store).
  for (let i = 0; i < 200; i++) alice.send({ cmd: 'message_react_add', id, emoji: `e${i}`, channel: 'general', listener: `r${i}` })
  bob.send({ cmd: 'ping', listener: 'bob' })
  expect(await bob.next('pong')).toEqual({ cmd: 'pong', val: 'pong', listener: 'bob' })
  for (let i = 20; i < 200; i++) {
    expect(await alice.next('error', (p) => p.listener === `r${i}`)).toEqual({
      cmd: 'error', src: 'message_react_add', val: 'This message already has 20 different reactions', listener: `r${i}`,
    })
  }
  // More users on an emoji already there still fit.
  bob.send({ cmd: 'message_react_add', id, emoji: 'e0', channel: 'general' })
  expect(await bob.next('message_react_add', (p) => p.from === 'bob')).toMatchObject({ emoji: 'e0' })
  const { message } = await alice.request({ cmd: 'message_get', channel: 'general', id })
  expect(Object.keys(message.reactions)).toHaveLength(20)
  expect(message.reactions.e0).toEqual(['alice', 'bob'])
})

test.concurrent('reactions count against the action limiter', async () => {
  await using server = await startServer({ security: { actions_per_minute: 100, actions_burst: 5, actions_cooldown_seconds: 30 } })
  const alice = await server.login('alice')
  const id = await post(alice, 'react')
  for (let i = 0; i < 5; i++) {
    alice.send({ cmd: 'message_react_add', id, emoji: `e${i}`, channel: 'general' })
    await alice.next('message_react_add')
  }
  alice.send({ cmd: 'message_react_remove', id, emoji: 'e0', channel: 'general' })
  expect(await alice.next('rate_limit')).toEqual({ cmd: 'rate_limit', reason: "Burst limit exceeded. You're in cooldown for 30 seconds", length: 30000 })
  alice.send({ cmd: 'message_react_add', id, emoji: 'e9', channel: 'general' })
  expect((await alice.next('rate_limit')).reason).toMatch(/^You are in cooldown for \d+\.\d more seconds$/)
  // Messages have their own limiter (rate_limiting), untouched by reactions.
  expect(await post(alice, 'still talking')).toEqual(expect.any(String))
})
