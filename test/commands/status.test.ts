import { describe, expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer } from '../helpers/server.ts'

const INVALID_STATUS = { cmd: 'error', src: 'status_set', val: 'Invalid status. Must be one of: online, idle, dnd, offline, invisible' }
const ALICE = { username: 'alice', roles: ['user'], color: null }

/** True when a packet named `cmd` is waiting unread, i.e. it arrived before whatever was awaited last. */
const arrivedEarlier = (client: TestClient, cmd: string) => client.inbox.some((p) => p.cmd === cmd)

describe('status_set', () => {
  test.concurrent('is stored and broadcast to everyone as status_get, caller included', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const guest = await server.connect()

    const busy = { cmd: 'status_get', username: 'alice', status: { status: 'dnd', text: 'busy' }, global: true }
    alice.send({ cmd: 'status_set', status: 'dnd', text: 'busy', listener: 'L1' })
    expect(await alice.next('status_get')).toEqual({ ...busy, listener: 'L1' })
    expect(await bob.next('status_get')).toEqual(busy)
    guest.send({ cmd: 'ping' })
    await guest.next('auth_error')
    expect(guest.inbox).toEqual([])

    // Text defaults to "", and offline is a status like any other: no presence packets.
    expect(await alice.request({ cmd: 'status_set', status: 'offline' }, 'status_get')).toEqual({ ...busy, status: { status: 'offline', text: '' } })
    expect(await bob.next('status_get')).toEqual({ ...busy, status: { status: 'offline', text: '' } })
    await bob.expectNone('user_disconnect')
    await alice.request({ cmd: 'status_set', status: 'idle', text: 'x'.repeat(100) }, 'status_get')
    expect((await bob.next('status_get')).status).toEqual({ status: 'idle', text: 'x'.repeat(100) })
  })

  test.concurrent('the status persists across a restart', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    await alice.request({ cmd: 'status_set', status: 'dnd', text: 'deep work' }, 'status_get')
    await server.restart()

    const bob = await server.login('bob')
    // Nobody connected as alice: offline, with the stored text.
    expect(await bob.request({ cmd: 'status_get', user: 'alice' }, 'status')).toEqual({ cmd: 'status', username: 'alice', status: { status: 'offline', text: 'deep work' } })
    await server.login('alice')
    expect(await bob.request({ cmd: 'status_get', user: 'ALICE' }, 'status')).toEqual({ cmd: 'status', username: 'alice', status: { status: 'dnd', text: 'deep work' } })
  })

  test.concurrent('bad input', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const required = { cmd: 'error', src: 'status_set', val: 'Status is required' }
    for (const status of [undefined, null, '', 0, false]) expect(await alice.error({ cmd: 'status_set', status })).toEqual(required)
    expect(await alice.error({ cmd: 'status_set', status: 'away' })).toEqual(INVALID_STATUS)
    expect(await alice.error({ cmd: 'status_set', status: 'Online' })).toEqual(INVALID_STATUS)
    expect(await alice.error({ cmd: 'status_set', status: 3 })).toEqual(INVALID_STATUS)
    expect(await alice.error({ cmd: 'status_set', status: ['online'] })).toEqual(INVALID_STATUS)
    expect(await alice.error({ cmd: 'status_set', status: 'idle', text: 'x'.repeat(101) })).toEqual(INVALID_STATUS)
    expect(await alice.error({ cmd: 'status_set', status: 'idle', text: 42 })).toEqual(INVALID_STATUS)
    await bob.expectNone('status_get')
    expect(await alice.request({ cmd: 'status_get', user: 'alice' }, 'status')).toEqual({ cmd: 'status', username: 'alice', status: { status: 'online', text: '' } })
  })
})

describe('status_set flooding', () => {
  test.concurrent('status changes count against the action limiter; a refused one reaches nobody', async () => {
    await using server = await startServer({ security: { actions_per_minute: 100, actions_burst: 3, actions_cooldown_seconds: 30 } })
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    for (const status of ['idle', 'dnd', 'online']) {
      alice.send({ cmd: 'status_set', status })
      expect((await bob.next('status_get')).status.status).toBe(status)
      await alice.next('status_get')
    }
    alice.send({ cmd: 'status_set', status: 'idle', text: 'flood' })
    expect(await alice.next('rate_limit')).toEqual({ cmd: 'rate_limit', reason: "Burst limit exceeded. You're in cooldown for 30 seconds", length: 30000 })
    await alice.expectNone('status_get')
    await bob.expectNone('status_get')
    expect((await server.app.store.users.get('rotur-alice'))?.status).toEqual({ status: 'online', text: '' })
  })
})

describe('invisible status', () => {
  test.concurrent('others see the user leave and come back; only the user\'s own connections see status_set', async () => {
    await using server = await startServer()
    const bob = await server.login('bob')
    const alice1 = await server.login('alice')
    const alice2 = await server.login('alice')
    bob.drain()

    // Entering invisible: everyone gets user_disconnect; the confirmation goes to alice only.
    const hidden = { cmd: 'status_set', status: { status: 'invisible', text: 'shh' }, global: true }
    alice1.send({ cmd: 'status_set', status: 'invisible', text: 'shh' })
    expect(await bob.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'alice' })
    expect(await alice1.next('status_set')).toEqual(hidden)
    expect(await alice2.next('status_set')).toEqual(hidden)
    // Alice's own connections get the same user_disconnect as everyone, before the confirmation (upstream order).
    expect(arrivedEarlier(alice1, 'user_disconnect')).toBe(true)
    await bob.expectNone('status_set')
    await bob.expectNone('status_get')

    // Others are told alice is offline; alice sees her own status.
    expect(await bob.request({ cmd: 'status_get', user: 'alice' }, 'status')).toEqual({ cmd: 'status', username: 'alice', status: { status: 'offline', text: 'shh' } })
    expect(await alice2.request({ cmd: 'status_get', user: 'alice' }, 'status')).toEqual({ cmd: 'status', username: 'alice', status: { status: 'invisible', text: 'shh' } })
    expect((await bob.request({ cmd: 'users_online' })).users.map((u: { username: string }) => u.username)).toEqual(['bob'])

    // Invisible again: nothing for the others.
    alice1.send({ cmd: 'status_set', status: 'invisible', text: '' })
    expect(await alice1.next('status_set')).toEqual({ ...hidden, status: { status: 'invisible', text: '' } })
    expect(await alice2.next('status_set')).toEqual({ ...hidden, status: { status: 'invisible', text: '' } })
    await bob.expectNone('user_disconnect')
    await bob.expectNone('status_set')

    // Leaving invisible from the other connection: user_connect first, then the status broadcast.
    alice2.send({ cmd: 'status_set', status: 'idle', text: 'back' })
    const back = { cmd: 'status_get', username: 'alice', status: { status: 'idle', text: 'back' }, global: true }
    expect(await bob.next('status_get')).toEqual(back)
    expect(arrivedEarlier(bob, 'user_connect')).toBe(true)
    expect(await bob.next('user_connect')).toEqual({ cmd: 'user_connect', user: ALICE })
    expect(await alice1.next('status_get')).toEqual(back)
    expect(await alice2.next('status_get')).toEqual(back)

    // Visible to visible: just the broadcast.
    alice1.send({ cmd: 'status_set', status: 'online' })
    expect((await bob.next('status_get')).status).toEqual({ status: 'online', text: '' })
    await bob.expectNone('user_connect')
    expect((await bob.request({ cmd: 'users_online' })).users.map((u: { username: string }) => u.username)).toEqual(['bob', 'alice'])
  })

  test.concurrent('a stored invisible status does not hide a new login until the client sets it again', async () => {
    await using server = await startServer()
    const bob = await server.login('bob')
    const alice = await server.login('alice')
    bob.drain()
    await alice.request({ cmd: 'status_set', status: 'invisible' }, 'status_set')
    await bob.next('user_disconnect')
    await alice.close()
    // Closing the last connection announces the disconnect again (presence counting is per user).
    await bob.next('user_disconnect')

    // Each connection starts "online": the login is announced (upstream quirk)...
    const again = await server.login('alice')
    expect(await bob.next('user_connect')).toEqual({ cmd: 'user_connect', user: ALICE })
    expect(again.ready.user.status).toEqual({ status: 'invisible', text: '' })
    // ...and restoring the status hides the user again.
    await again.request({ cmd: 'status_set', status: 'invisible' }, 'status_set')
    expect(await bob.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'alice' })
  })
})

describe('status_get', () => {
  test.concurrent('answers with cmd "status"; bad input', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    await server.login('bob')
    expect(await alice.request({ cmd: 'status_get', user: 'rotur-bob' }, 'status')).toEqual({ cmd: 'status', username: 'bob', status: { status: 'online', text: '' } })
    const err = (val: string) => ({ cmd: 'error', src: 'status_get', val })
    expect(await alice.error({ cmd: 'status_get' })).toEqual(err('User parameter is required'))
    expect(await alice.error({ cmd: 'status_get', user: 5 })).toEqual(err('User parameter is required'))
    expect(await alice.error({ cmd: 'status_get', user: 'nobody' })).toEqual(err('User not found'))

    const guest = await server.connect()
    expect(await guest.request({ cmd: 'status_get', user: 'alice' }, 'auth_error')).toEqual({ cmd: 'auth_error', val: 'Authentication required' })
  })
})

describe('pfp_set and pfp_get', () => {
  test.concurrent('any user sets their own picture; no broadcast; it persists', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const url = 'https://cdn.example.com/alice.png'
    expect(await alice.request({ cmd: 'pfp_set', url })).toEqual({ cmd: 'pfp_set', val: url })
    await bob.expectNone('pfp_set')
    expect(await bob.request({ cmd: 'pfp_get', username: 'ALICE' })).toEqual({ cmd: 'pfp_get', val: url, username: 'ALICE' })
    expect(await bob.request({ cmd: 'pfp_get', username: 'bob' })).toEqual({ cmd: 'pfp_get', val: null, username: 'bob' })

    await server.restart()
    const carol = await server.login('carol')
    expect(await carol.request({ cmd: 'pfp_get', username: 'alice' })).toEqual({ cmd: 'pfp_get', val: url, username: 'alice' })
    const { users } = await carol.request({ cmd: 'users_list' })
    expect(users.find((u: { username: string }) => u.username === 'alice').pfp).toBe(url)
  })

  test.concurrent('validates the URL', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const err = (val: string) => ({ cmd: 'error', src: 'pfp_set', val })
    for (const url of [undefined, null, '']) expect(await alice.error({ cmd: 'pfp_set', url })).toEqual(err('URL required'))
    for (const url of [5, 'not a url', 'ftp://example.com/a.png', 'http://', 'javascript:alert(1)', '//example.com/a.png']) {
      expect(await alice.error({ cmd: 'pfp_set', url })).toEqual(err('Invalid URL format'))
    }
    const base = 'http://example.com/'
    expect(await alice.error({ cmd: 'pfp_set', url: base + 'a'.repeat(501 - base.length) })).toEqual(err('URL too long (max 500 characters)'))
    const longest = base + 'a'.repeat(500 - base.length)
    expect(await alice.request({ cmd: 'pfp_set', url: longest })).toEqual({ cmd: 'pfp_set', val: longest })
  })

  test.concurrent('is refused when Rotur manages pictures, before the URL is looked at', async () => {
    await using server = await startServer({ auth_mode: 'rotur' })
    const alice = await server.login('alice')
    const managed = { cmd: 'error', src: 'pfp_set', val: 'Profile pictures are managed by Rotur for this account' }
    expect(await alice.error({ cmd: 'pfp_set' })).toEqual(managed)
    expect(await alice.error({ cmd: 'pfp_set', url: 'https://example.com/a.png' })).toEqual(managed)
    // pfp_get still works in every mode.
    expect(await alice.request({ cmd: 'pfp_get', username: 'alice' })).toEqual({ cmd: 'pfp_get', val: null, username: 'alice' })
  })

  test.concurrent('works for local accounts in cracked-only mode', async () => {
    await using server = await startServer({ auth_mode: 'cracked-only' })
    const dave = await server.register('dave')
    const url = 'http://pics.example.org/d.jpg'
    expect(await dave.request({ cmd: 'pfp_set', url })).toEqual({ cmd: 'pfp_set', val: url })
    expect(await dave.request({ cmd: 'pfp_get', username: 'USR:local_dave' })).toEqual({ cmd: 'pfp_get', val: url, username: 'USR:local_dave' })
  })

  test.concurrent('pfp_get needs an existing username', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const err = (val: string) => ({ cmd: 'error', src: 'pfp_get', val })
    expect(await alice.error({ cmd: 'pfp_get' })).toEqual(err('Username required'))
    expect(await alice.error({ cmd: 'pfp_get', username: '' })).toEqual(err('Username required'))
    expect(await alice.error({ cmd: 'pfp_get', username: 7 })).toEqual(err('Username required'))
    expect(await alice.error({ cmd: 'pfp_get', username: 'nobody' })).toEqual(err('User not found'))
  })
})
