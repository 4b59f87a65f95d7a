import { describe, expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const LIMITED = { rate_limiting: { enabled: true, messages_per_minute: 60, burst_limit: 10, cooldown_seconds: 30 } }
const OWNER_ONLY = { cmd: 'error', val: "Access denied: 'owner' role required" }

const roles = async (server: TestServer, username: string) => (await server.app.store.users.getByUsername(username))?.roles

/** Authenticates a fresh connection through Rotur and returns the first auth answer. */
const tryLogin = async (server: TestServer, username: string) => {
  const client = await server.connect()
  client.send({ cmd: 'auth', validator: server.rotur.issue(username, client.handshake.val.validator_key) })
  return Promise.race([client.next('auth_error'), client.next('auth_success')])
}

const say = (client: TestClient, content: string) => client.send({ cmd: 'message_new', channel: 'general', content })

describe('user_timeout', () => {
  test.concurrent('is owner only, and checks timeout before user', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    expect(await alice.error({ cmd: 'user_timeout', user: 'owner', timeout: 10 })).toEqual(OWNER_ONLY)
    const invalid = { cmd: 'error', src: 'user_timeout', val: 'Timeout must be a positive integer' }
    for (const timeout of [-1, 1.5, '10', null, true]) {
      expect(await owner.error({ cmd: 'user_timeout', user: 'alice', timeout })).toEqual(invalid)
    }
    expect(await owner.error({ cmd: 'user_timeout', user: 'alice' })).toEqual(invalid)
    expect(await owner.error({ cmd: 'user_timeout', timeout: 10 })).toEqual({ cmd: 'error', src: 'user_timeout', val: 'User parameter is required' })
    expect(await owner.error({ cmd: 'user_timeout', user: '', timeout: 10 })).toEqual({ cmd: 'error', src: 'user_timeout', val: 'User parameter is required' })
  })

  test.concurrent('tells the first connection of the target, and refuses its messages until lifted', async () => {
    await using server = await startServer(LIMITED)
    const owner = await server.login('owner')
    const first = await server.login('alice')
    const second = await server.login('alice')

    expect(await owner.request({ cmd: 'user_timeout', user: 'alice', timeout: 120 })).toEqual({ cmd: 'user_timeout', user: 'alice', timeout: 120 })
    expect(await first.next('rate_limit')).toEqual({ cmd: 'rate_limit', reason: 'User timeout set', length: 120000 })
    await second.expectNone('rate_limit')

    // The limiter is per user, so the other connection is refused too.
    say(second, 'let me talk')
    expect(await second.next('rate_limit')).toEqual({
      cmd: 'rate_limit',
      reason: expect.stringMatching(/^You are in timeout for \d+\.\d more seconds$/),
      length: expect.any(Number),
    })
    await owner.expectNone('message_new')

    expect(await owner.request({ cmd: 'user_timeout', user: 'alice', timeout: 0 })).toEqual({ cmd: 'user_timeout', user: 'alice', timeout: 0 })
    await first.expectNone('rate_limit')
    say(second, 'free again')
    expect((await owner.next('message_new')).message).toMatchObject({ user: 'alice', content: 'free again' })
  })

  test.concurrent('succeeds without effect when rate limiting is disabled', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    expect(await owner.request({ cmd: 'user_timeout', user: 'alice', timeout: 60 })).toEqual({ cmd: 'user_timeout', user: 'alice', timeout: 60 })
    await alice.expectNone('rate_limit')
    say(alice, 'still here')
    expect((await owner.next('message_new')).message.content).toBe('still here')
  })
})

describe('user_ban and user_unban', () => {
  test.concurrent('ban puts the role first, disconnects every session, refuses logins and hides the user', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const bob1 = await server.login('bob')
    const bob2 = await server.login('bob')

    expect(await owner.request({ cmd: 'user_ban', user: 'bob' })).toEqual({ cmd: 'user_ban', user: 'bob', banned: true })
    for (const bob of [bob1, bob2]) {
      expect(await bob.next('disconnect')).toEqual({ cmd: 'disconnect', reason: 'You have been banned from this server' })
      await bob.closed
    }
    await owner.next('user_disconnect', (p) => p.username === 'bob')
    expect(await roles(server, 'bob')).toEqual(['banned', 'user'])

    expect(await tryLogin(server, 'bob')).toEqual({ cmd: 'auth_error', val: 'Access denied: You are banned from this server' })
    const { users } = await owner.request({ cmd: 'users_list' })
    expect(users.map((u: { username: string }) => u.username)).toEqual(['owner'])
    // Banning again changes nothing.
    expect(await owner.request({ cmd: 'user_ban', user: 'bob' })).toEqual({ cmd: 'user_ban', user: 'bob', banned: false })
    expect(await roles(server, 'bob')).toEqual(['banned', 'user'])
  })

  test.concurrent('a ban survives a restart, and unban lets the user back in', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    await server.login('bob')
    await owner.request({ cmd: 'user_ban', user: 'bob' })
    await server.restart()

    expect(await tryLogin(server, 'bob')).toEqual({ cmd: 'auth_error', val: 'Access denied: You are banned from this server' })
    const owner2 = await server.login('owner')
    expect(await owner2.request({ cmd: 'user_unban', user: 'bob' })).toEqual({ cmd: 'user_unban', user: 'bob', unbanned: true })
    expect(await roles(server, 'bob')).toEqual(['user'])
    expect((await server.login('bob')).ready.user.username).toBe('bob')
    expect(await owner2.request({ cmd: 'user_unban', user: 'bob' })).toEqual({ cmd: 'user_unban', user: 'bob', unbanned: false })
  })

  test.concurrent('unknown users are reported unchanged', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    expect(await owner.request({ cmd: 'user_ban', user: 'nobody' })).toEqual({ cmd: 'user_ban', user: 'nobody', banned: false })
    expect(await owner.request({ cmd: 'user_unban', user: 'nobody' })).toEqual({ cmd: 'user_unban', user: 'nobody', unbanned: false })
  })

  test.concurrent('are owner only and need a user', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    expect(await alice.error({ cmd: 'user_ban', user: 'owner' })).toEqual(OWNER_ONLY)
    expect(await alice.error({ cmd: 'user_unban', user: 'owner' })).toEqual(OWNER_ONLY)
    expect(await owner.error({ cmd: 'user_ban' })).toEqual({ cmd: 'error', src: 'user_ban', val: 'User parameter is required' })
    expect(await owner.error({ cmd: 'user_unban', user: null })).toEqual({ cmd: 'error', src: 'user_unban', val: 'User parameter is required' })
    expect(await roles(server, 'owner')).toEqual(['owner', 'user'])
  })
})

describe('user_leave', () => {
  test.concurrent('replies, tells the others, closes every socket of the caller and removes the record', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice1 = await server.login('alice')
    const alice2 = await server.login('alice')

    expect(await alice1.request({ cmd: 'user_leave' })).toEqual({ cmd: 'user_leave', user: 'alice', val: 'User left server' })
    expect(await owner.next('user_leave')).toEqual({ cmd: 'user_leave', username: 'alice' })
    await alice1.closed
    await alice2.closed
    expect(await owner.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'alice' })

    const { users } = await owner.request({ cmd: 'users_list' })
    expect(users.map((u: { username: string }) => u.username)).toEqual(['owner'])
    expect(await roles(server, 'alice')).toBeUndefined()
  })
})
