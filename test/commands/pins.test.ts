import { expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer } from '../helpers/server.ts'

/** Posts `content` and returns the stored message's ID once the echo arrived. */
async function post(client: TestClient, content: string, channel = 'general'): Promise<string> {
  client.send({ cmd: 'message_new', channel, content })
  return (await client.next('message_new', (p) => p.message.content === content)).message.id
}

const PIN_DENIED = 'You do not have permission to pin messages in this channel'

test.concurrent('the default pin list admits only the owner role', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  const id = await post(bob, 'pin me')

  for (const cmd of ['message_pin', 'message_unpin']) {
    expect(await bob.error({ cmd, id, channel: 'general' })).toEqual({ cmd: 'error', src: cmd, val: PIN_DENIED })
  }
  await owner.expectNone('message_pin')
  await owner.expectNone('message_unpin')
})

test.concurrent('pin and unpin broadcast the success flag to the channel', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  const id = await post(bob, 'important')

  owner.send({ cmd: 'message_pin', id, channel: 'general' })
  const pinned = { cmd: 'message_pin', id, channel: 'general', pinned: true, global: true }
  expect(await owner.next('message_pin')).toEqual(pinned)
  expect(await bob.next('message_pin')).toEqual(pinned)

  // `pinned` reports that the message was found, so a successful unpin says true (compat-notes §1.11).
  owner.send({ cmd: 'message_unpin', id, channel: 'general' })
  const unpinned = { cmd: 'message_unpin', id, channel: 'general', pinned: true, global: true }
  expect(await owner.next('message_unpin')).toEqual(unpinned)
  expect(await bob.next('message_unpin')).toEqual(unpinned)

  // Unpinning a message that is not pinned still finds it: broadcast again, unchanged.
  owner.send({ cmd: 'message_unpin', id, channel: 'general' })
  expect(await bob.next('message_unpin')).toEqual(unpinned)
})

test.concurrent('a missing message is answered to the caller only, with pinned false', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const bob = await server.login('bob')

  for (const cmd of ['message_pin', 'message_unpin']) {
    expect(await owner.request({ cmd, id: 'no-such-id', channel: 'general' })).toEqual({
      cmd, id: 'no-such-id', channel: 'general', pinned: false, global: true,
    })
    await bob.expectNone(cmd)
  }
})

test.concurrent('a channel pin list is honoured and checked before the message ID', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'board', type: 'text', permissions: { view: ['user'], send: ['user'], pin: ['user'] } })
  const bob = await server.login('bob')
  const id = await post(bob, 'pinned by a user', 'board')

  expect(await bob.request({ cmd: 'message_pin', id, channel: 'board' })).toEqual({
    cmd: 'message_pin', id, channel: 'board', pinned: true, global: true,
  })
  expect(await bob.error({ cmd: 'message_pin', channel: 'board' })).toEqual({ cmd: 'error', src: 'message_pin', val: 'Message ID is required' })
  // general keeps the default list, so the permission error wins over the missing ID.
  expect(await bob.error({ cmd: 'message_pin', channel: 'general' })).toEqual({ cmd: 'error', src: 'message_pin', val: PIN_DENIED })
})

test.concurrent('pin errors follow upstream order', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')

  for (const cmd of ['message_pin', 'message_unpin']) {
    expect(await owner.error({ cmd, id: 'x' })).toEqual({ cmd: 'error', src: cmd, val: 'Channel name not provided' })
    expect(await owner.error({ cmd, id: 'x', channel: '' })).toEqual({ cmd: 'error', src: cmd, val: 'Channel name not provided' })
    // An unknown channel has no pin list to pass.
    expect(await owner.error({ cmd, id: 'x', channel: 'nowhere' })).toEqual({ cmd: 'error', src: cmd, val: PIN_DENIED })
    expect(await owner.error({ cmd, channel: 'general' })).toEqual({ cmd: 'error', src: cmd, val: 'Message ID is required' })
  }
})

test.concurrent('messages_pinned lists pinned messages newest first', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  const first = await post(bob, 'first')
  await post(bob, 'second')
  const third = await post(bob, 'third')
  for (const id of [third, first]) {
    owner.send({ cmd: 'message_pin', id, channel: 'general' })
    await owner.next('message_pin')
  }

  // Same client form as history, newest first.
  const { messages } = await bob.request({ cmd: 'messages_get', channel: 'general' })
  expect(messages.filter((m: any) => m.pinned).map((m: any) => m.content)).toEqual(['first', 'third'])
  expect(await bob.request({ cmd: 'messages_pinned', channel: 'general' })).toEqual({
    cmd: 'messages_pinned',
    channel: 'general',
    messages: [messages[2], messages[0]],
  })
})

test.concurrent('messages_pinned errors: missing channel with src, unreadable channel without', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'staff', type: 'text', permissions: { view: ['owner'], send: ['owner'] } })
  await server.addChannel({ name: 'lobby', type: 'voice', permissions: { view: ['user'] } })
  const bob = await server.login('bob')

  expect(await bob.error({ cmd: 'messages_pinned' })).toEqual({ cmd: 'error', src: 'messages_pinned', val: 'Channel name not provided' })
  for (const channel of ['staff', 'nowhere', 'lobby']) {
    expect(await bob.error({ cmd: 'messages_pinned', channel })).toEqual({ cmd: 'error', val: 'Access denied to this channel' })
  }
})

test.concurrent('history shows the pinned state and it survives a restart', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const kept = await post(owner, 'kept')
  const loose = await post(owner, 'loose')
  owner.send({ cmd: 'message_pin', id: kept, channel: 'general' })
  await owner.next('message_pin')

  const pinnedById = async (client: TestClient) => {
    const { messages } = await client.request({ cmd: 'messages_get', channel: 'general' })
    return Object.fromEntries(messages.map((m: any) => [m.id, m.pinned]))
  }
  expect(await pinnedById(owner)).toEqual({ [kept]: true, [loose]: false })

  await server.restart()
  const carol = await server.login('carol')
  expect(await pinnedById(carol)).toEqual({ [kept]: true, [loose]: false })
  const pinned = await carol.request({ cmd: 'messages_pinned', channel: 'general' })
  expect(pinned.messages.map((m: any) => m.id)).toEqual([kept])
})
