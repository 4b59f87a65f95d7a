import { expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer, type ConfigOverrides } from '../helpers/server.ts'
import { messageFrom } from './folder.ts'

async function welcomeServer(welcome: Record<string, unknown> = {}) {
  const server = await startServer({ plugins: { builtin: { welcome: { enabled: true, ...welcome } } } } as ConfigOverrides)
  await server.app.plugins.ready
  return server
}

const welcomeOf = async (client: TestClient) => (await messageFrom(client, 'originChats')).message.content

test.concurrent('a new account is welcomed in #general by originChats, seen by the channel’s viewers', async () => {
  await using server = await welcomeServer()
  const owner = await server.login('owner')
  expect(await welcomeOf(owner)).toBe('Welcome owner! Thanks for joining the server.')
  await server.login('alice')
  expect(await messageFrom(owner, 'originChats')).toEqual({
    cmd: 'message_new',
    channel: 'general',
    thread_id: null,
    global: true,
    message: {
      id: expect.any(String),
      user: 'originChats',
      content: 'Welcome alice! Thanks for joining the server.',
      timestamp: expect.any(Number),
      pinned: false,
      type: 'message',
      interaction: null,
    },
  })
  expect((await owner.request({ cmd: 'plugins_list' })).plugins.welcome).toEqual({
    name: 'Welcome Plugin',
    description: 'Welcomes new users with a message in the welcome channel.',
    handles: ['user_join'],
  })
})

test.concurrent('reconnecting is no join, and with first_time_only a returning account is not welcomed twice', async () => {
  await using server = await welcomeServer()
  const owner = await server.login('owner')
  await welcomeOf(owner)
  const alice = await server.login('alice')
  expect(await welcomeOf(owner)).toBe('Welcome alice! Thanks for joining the server.')
  await alice.close()
  await server.login('alice')
  // user_leave deletes the account, so the next login is a brand-new account (user_join again).
  const again = await server.login('alice')
  await again.request({ cmd: 'user_leave' })
  await server.login('alice')
  // Bob's welcome is the next one: neither of Alice's later logins produced a welcome first.
  await server.login('bob')
  expect(await welcomeOf(owner)).toBe('Welcome bob! Thanks for joining the server.')
})

test.concurrent('the welcome channel and text come from plugins.builtin.welcome', async () => {
  await using server = await welcomeServer({ channel: 'lobby', message: 'Hi {username}, meet {username}' })
  await server.addChannel({ name: 'lobby', type: 'text', permissions: { view: ['user'], send: ['user'] } })
  const watcher = await server.login('watcher')
  expect(await messageFrom(watcher, 'originChats')).toMatchObject({ channel: 'lobby', message: { content: 'Hi watcher, meet watcher' } })
  await server.login('alice')
  expect(await messageFrom(watcher, 'originChats')).toMatchObject({ channel: 'lobby', message: { content: 'Hi alice, meet alice' } })
})

test.concurrent('a local account is welcomed by its display name, the name it registered', async () => {
  await using server = await welcomeServer()
  const watcher = await server.login('watcher')
  await welcomeOf(watcher)
  const bob = await server.register('Bob')
  expect(bob.ready.user.username).toBe('USR:local_bob')
  expect(await welcomeOf(watcher)).toBe('Welcome bob! Thanks for joining the server.')
})

test.concurrent('without a plugins key in config.json, as upstream, welcome and the ! commands are on', async () => {
  // `plugins: undefined` drops the test helper's own plugin settings: the schema defaults apply.
  await using server = await startServer({ plugins: undefined } as ConfigOverrides)
  await server.app.plugins.ready
  const owner = await server.login('owner')
  expect(await welcomeOf(owner)).toBe('Welcome owner! Thanks for joining the server.')
  expect(Object.keys((await owner.request({ cmd: 'plugins_list' })).plugins)).toEqual(['welcome', 'commands'])
})

test.concurrent('the welcome plugin is off when config.json switches it off', async () => {
  await using server = await startServer({ plugins: { builtin: { commands: { enabled: false } } } } as ConfigOverrides)
  await server.app.plugins.ready
  const owner = await server.login('owner')
  expect(await owner.request({ cmd: 'plugins_list' })).toEqual({ cmd: 'plugins_list', plugins: {} })
})
