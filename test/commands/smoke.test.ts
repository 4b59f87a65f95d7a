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
