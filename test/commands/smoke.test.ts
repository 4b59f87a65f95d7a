import { expect, test } from 'bun:test'
import { startServer } from '../helpers/server.ts'

test('message_new reaches the channel and survives a restart', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  const seen = bob.next('message_new')
  alice.send({ cmd: 'message_new', channel: 'general', content: ' hi ' })
  const echo = await alice.next('message_new')
  expect(await seen).toEqual(echo)
  expect(echo).toEqual({
    cmd: 'message_new',
    channel: 'general',
    thread_id: null,
    global: true,
    message: {
      user: 'alice', content: 'hi', timestamp: expect.any(Number), id: expect.any(String),
      pinned: false, type: 'message', interaction: null, pings: { users: [], roles: [], replies: [] },
    },
  })
  await server.restart()
  const carol = await server.login('carol')
  const history = await carol.request({ cmd: 'messages_get', channel: 'general' })
  expect(history.messages.map((m: any) => m.content)).toEqual(['hi'])
})

test('a user who cannot view a channel never receives its packets', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'staff', type: 'text', permissions: { view: ['owner'], send: ['owner'] } })
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  owner.send({ cmd: 'message_new', channel: 'staff', content: 'secret' })
  await owner.next('message_new')
  await bob.expectNone('message_new')
  await server.setRoles('bob', ['owner', 'user'])
  owner.send({ cmd: 'message_new', channel: 'staff', content: 'now you see it' })
  expect((await bob.next('message_new')).message.content).toBe('now you see it')
})
