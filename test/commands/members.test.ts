import { describe, expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const OWNER_ONLY = { cmd: 'error', val: "Access denied: 'owner' role required" }
const NEEDS_MANAGE_USERS = { cmd: 'error', src: 'user_update', val: "Access denied: 'manage_users' permission required" }

const stored = (server: TestServer, username: string) => server.app.store.users.getByUsername(username)

/** An unauthenticated socket answers a ping with auth_error only after what was sent to it before. */
async function guestGotNone(guest: TestClient, cmd: string) {
  guest.send({ cmd: 'ping' })
  await guest.next('auth_error')
  expect(guest.inbox.filter((p) => p.cmd === cmd)).toEqual([])
}

const modlog = async (server: TestServer) => (await server.app.store.modlog.list({ limit: 50, offset: 0 })).entries

describe('users_banned_list', () => {
  test.concurrent('lists banned usernames for the owner only', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const admin = await server.login('carol')
    await server.setRoles('carol', ['admin', 'user'])
    expect(await owner.request({ cmd: 'users_banned_list' })).toEqual({ cmd: 'users_banned_list', users: [] })

    await server.login('bob')
    await server.login('mallory')
    await server.login('dave')
    await owner.request({ cmd: 'user_ban', user: 'mallory' })
    await owner.request({ cmd: 'user_ban', user: 'bob' })
    // Storage order, not ban order.
    expect(await owner.request({ cmd: 'users_banned_list' })).toEqual({ cmd: 'users_banned_list', users: ['bob', 'mallory'] })

    // The literal owner role: administrator does not pass.
    expect(await admin.error({ cmd: 'users_banned_list' })).toEqual(OWNER_ONLY)
  })
})

describe('user_update', () => {
  test.concurrent('a renamed local account still signs in with the name it registered', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const dave = await server.register('dave', 'secret123')
    await dave.close()
    expect(await owner.request({ cmd: 'user_update', user: 'USR:local_dave', updates: { username: 'david' } })).toMatchObject({ user: 'david' })
    const again = await server.connect()
    again.send({ cmd: 'login', username: 'dave', password: 'secret123' })
    expect((await again.next('ready')).user).toMatchObject({ username: 'david', cracked: true })
  })

  test.concurrent('an admin renames a user: reply to the caller, user_updated to every authenticated socket', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const admin = await server.login('carol')
    await server.setRoles('carol', ['admin', 'user'])
    const alice = await server.login('alice')
    const guest = await server.connect()
    const alice0 = await stored(server, 'alice')

    const reply = await admin.request({ cmd: 'user_update', user: 'alice', updates: { username: 'alicia', nickname: 'Ally' } })
    expect(reply).toEqual({ cmd: 'user_update', user: 'alicia', nickname: 'Ally' })
    const updated = { cmd: 'user_updated', user_id: alice0!.id, username: 'alicia', nickname: 'Ally' }
    for (const client of [admin, owner, alice]) expect(await client.next('user_updated')).toEqual(updated)
    await guestGotNone(guest, 'user_updated')

    const { users } = await owner.request({ cmd: 'users_list' })
    expect(users.map((u: { username: string; nickname: string | null }) => [u.username, u.nickname])).toEqual([
      ['owner', null],
      ['carol', null],
      ['alicia', 'Ally'],
    ])
    // The renamed user's connections announce the new name when they close.
    await alice.close()
    expect(await owner.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'alicia' })

    expect((await modlog(server)).map(({ action, category, actor_name, target_id, target_name, details }) => ({ action, category, actor_name, target_id, target_name, details }))).toEqual([
      {
        action: 'user_update',
        category: 'user_moderation',
        actor_name: 'carol',
        target_id: alice0!.id,
        target_name: 'alice',
        details: { username: 'alicia', nickname: 'Ally' },
      },
    ])

    await server.restart()
    const owner2 = await server.login('owner')
    const { users: after } = await owner2.request({ cmd: 'users_list' })
    expect(after.map((u: { username: string; nickname: string | null }) => [u.username, u.nickname])).toEqual([
      ['owner', null],
      ['carol', null],
      ['alicia', 'Ally'],
    ])
  })

  test.concurrent('a null nickname removes it; an empty update changes nothing', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    await server.login('alice')
    await owner.request({ cmd: 'user_update', user: 'alice', updates: { nickname: 'Ally' } })
    expect(await owner.request({ cmd: 'user_update', user: 'alice', updates: { nickname: null } })).toEqual({ cmd: 'user_update', user: 'alice', nickname: null })
    expect(await owner.request({ cmd: 'user_update', user: 'ALICE', updates: {} })).toEqual({ cmd: 'user_update', user: 'alice', nickname: null })
    expect((await stored(server, 'alice'))?.nickname).toBeNull()
  })

  test.concurrent('needs manage_users: users and moderators are refused, nothing is broadcast', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const mod = await server.login('mo')
    await server.setRoles('mo', ['moderator', 'user'])
    expect(await alice.error({ cmd: 'user_update', user: 'alice', updates: { nickname: 'me' } })).toEqual(NEEDS_MANAGE_USERS)
    expect(await mod.error({ cmd: 'user_update', user: 'alice', updates: { nickname: 'x' } })).toEqual(NEEDS_MANAGE_USERS)
    await owner.expectNone('user_updated')
    expect((await stored(server, 'alice'))?.nickname).toBeUndefined()
  })

  test.concurrent('a role holding manage_users alone is enough', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const helper = await server.login('helper')
    await server.app.store.roles.insert({
      name: 'helper', id: 'role-helper', description: '', color: null, hoisted: false, permissions: ['manage_users'],
      self_assignable: false, category: null, position: 4,
    })
    await server.setRoles('helper', ['helper', 'user'])
    expect(await helper.request({ cmd: 'user_update', user: 'owner', updates: { nickname: 'x' } }, 'error')).toEqual({
      cmd: 'error', src: 'user_update', val: 'Cannot update the server owner',
    })
    expect(await helper.request({ cmd: 'user_update', user: 'helper', updates: { nickname: 'H' } })).toEqual({ cmd: 'user_update', user: 'helper', nickname: 'H' })
    await owner.next('user_updated')
  })

  test.concurrent('only the owner may update an owner', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const admin = await server.login('carol')
    await server.setRoles('carol', ['admin', 'user'])
    expect(await admin.error({ cmd: 'user_update', user: 'owner', updates: { username: 'demoted' } })).toEqual({
      cmd: 'error', src: 'user_update', val: 'Cannot update the server owner',
    })
    expect((await stored(server, 'owner'))?.username).toBe('owner')
    // The owner may change themself, and admins.
    expect(await owner.request({ cmd: 'user_update', user: 'owner', updates: { nickname: 'Boss' } })).toEqual({ cmd: 'user_update', user: 'owner', nickname: 'Boss' })
    expect(await owner.request({ cmd: 'user_update', user: 'carol', updates: { nickname: 'C' } })).toEqual({ cmd: 'user_update', user: 'carol', nickname: 'C' })
  })

  test.concurrent('refuses a username another user holds, in any case (compat bug 22)', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    await server.login('alice')
    await server.login('bob')
    const taken = { cmd: 'error', src: 'user_update', val: 'Username already taken' }
    expect(await owner.error({ cmd: 'user_update', user: 'bob', updates: { username: 'alice' } })).toEqual(taken)
    expect(await owner.error({ cmd: 'user_update', user: 'bob', updates: { username: 'ALICE', nickname: 'x' } })).toEqual(taken)
    await owner.expectNone('user_updated')
    expect((await stored(server, 'bob'))).toMatchObject({ username: 'bob' })
    expect((await stored(server, 'bob'))?.nickname).toBeUndefined()
    // Re-casing one's own name is not a clash.
    expect(await owner.request({ cmd: 'user_update', user: 'bob', updates: { username: 'Bob' } })).toEqual({ cmd: 'user_update', user: 'Bob', nickname: null })
  })

  test.concurrent('bad input gets the spec strings, in the spec order', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    await server.login('alice')
    const err = (val: string) => ({ cmd: 'error', src: 'user_update', val })
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ updates: { nickname: 'x' } }, 'User parameter is required'],
      [{ user: '', updates: { nickname: 'x' } }, 'User parameter is required'],
      [{ user: 42, updates: { nickname: 'x' } }, 'User parameter is required'],
      [{ user: 'nobody', updates: 'x' }, 'User not found'],
      [{ user: 'alice' }, 'Updates must be an object'],
      [{ user: 'alice', updates: null }, 'Updates must be an object'],
      [{ user: 'alice', updates: ['username'] }, 'Updates must be an object'],
      [{ user: 'alice', updates: 'alicia' }, 'Updates must be an object'],
      [{ user: 'alice', updates: { nickname: 'x', roles: ['owner'] } }, 'Cannot update field: roles'],
      [{ user: 'alice', updates: { username: '' } }, 'Username must be a non-empty string'],
      [{ user: 'alice', updates: { username: '   ' } }, 'Username must be a non-empty string'],
      [{ user: 'alice', updates: { username: 7 } }, 'Username must be a non-empty string'],
      [{ user: 'alice', updates: { username: null } }, 'Username must be a non-empty string'],
      [{ user: 'alice', updates: { nickname: 5 } }, 'Nickname must be a string or null'],
      [{ user: 'alice', updates: { nickname: { text: 'x' } } }, 'Nickname must be a string or null'],
    ]
    for (const [fields, val] of cases) expect(await owner.error({ cmd: 'user_update', ...fields })).toEqual(err(val))
    expect(await stored(server, 'alice')).toMatchObject({ username: 'alice', roles: ['user'] })
  })

  test.concurrent('below the owner, only users ranked under the caller can be changed', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    await owner.request({ cmd: 'role_create', name: 'staff', permissions: ['manage_users'] })
    await owner.request({ cmd: 'role_reorder', roles: ['owner', 'admin', 'staff', 'moderator', 'user'] })
    const staff = await server.login('sam')
    for (const [name, roles] of [['sam', ['staff', 'user']], ['tess', ['staff', 'user']], ['adam', ['admin', 'user']], ['alice', ['user']]] as const) {
      await server.login(name)
      await server.setRoles(name, [...roles])
    }
    const above = { cmd: 'error', src: 'user_update', val: 'Cannot manage users at or above your position' }
    expect(await staff.error({ cmd: 'user_update', user: 'adam', updates: { nickname: 'x' } })).toEqual(above)
    expect(await staff.error({ cmd: 'user_update', user: 'tess', updates: { username: 'tessa' } })).toEqual(above)
    expect(await staff.request({ cmd: 'user_update', user: 'alice', updates: { nickname: 'Al' } })).toEqual({ cmd: 'user_update', user: 'alice', nickname: 'Al' })
    // Changing oneself is not managing someone else.
    expect(await staff.request({ cmd: 'user_update', user: 'sam', updates: { nickname: 'Sam' } })).toEqual({ cmd: 'user_update', user: 'sam', nickname: 'Sam' })
    expect((await stored(server, 'adam'))?.nickname).toBeUndefined()
  })

  test.concurrent('names hold no control or invisible characters, and none may look like another user', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    await server.login('alice')
    await server.login('bob')
    const err = (val: string) => ({ cmd: 'error', src: 'user_update', val })
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ username: 'bo\u0000b' }, 'Username contains invalid characters'],
      [{ username: 'bob\nowner' }, 'Username contains invalid characters'],
      [{ username: 'b o b' }, 'Username contains invalid characters'],
      [{ username: 'bob\u202Eevil' }, 'Username contains invalid characters'],
      [{ username: 'b\u200Bob' }, 'Username contains invalid characters'],
      [{ username: 'x'.repeat(65) }, 'Username must be 1-64 characters'],
      [{ username: 'аlice' }, 'Username already taken'],
      [{ username: 'AIice' }, 'Username already taken'],
      [{ nickname: 'line\nbreak' }, 'Nickname contains invalid characters'],
      [{ nickname: 'n'.repeat(65) }, 'Nickname must be at most 64 characters'],
    ]
    for (const [updates, val] of cases) expect(await owner.error({ cmd: 'user_update', user: 'bob', updates })).toEqual(err(val))
    expect(await stored(server, 'bob')).toMatchObject({ username: 'bob' })
    // Spaces are fine in a nickname; fullwidth forms are stored plain.
    expect(await owner.request({ cmd: 'user_update', user: 'bob', updates: { username: 'ｂｏｂｂｙ', nickname: 'Bob B.' } })).toEqual({
      cmd: 'user_update',
      user: 'bobby',
      nickname: 'Bob B.',
    })
  })
})

describe('user_delete', () => {
  test.concurrent('the owner deletes a member: reply, user_leave to all, the member gets disconnect then is closed', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const bob = await server.login('bob')
    const alice1 = await server.login('alice')
    const alice2 = await server.login('alice')
    const aliceId = (await stored(server, 'alice'))!.id

    expect(await owner.request({ cmd: 'user_delete', user: 'Alice' })).toEqual({ cmd: 'user_delete', user: 'alice', deleted: true })
    for (const client of [owner, bob]) expect(await client.next('user_leave')).toEqual({ cmd: 'user_leave', username: 'alice' })
    for (const alice of [alice1, alice2]) {
      expect(await alice.next('disconnect')).toEqual({ cmd: 'disconnect', reason: 'Your account has been deleted' })
      await alice.closed
    }
    expect(await bob.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'alice' })
    expect(await stored(server, 'alice')).toBeUndefined()
    expect((await modlog(server)).map(({ action, category, actor_name, target_id, target_name }) => ({ action, category, actor_name, target_id, target_name }))).toEqual([
      { action: 'user_delete', category: 'user_moderation', actor_name: 'owner', target_id: aliceId, target_name: 'alice' },
    ])

    await server.restart()
    const owner2 = await server.login('owner')
    const { users } = await owner2.request({ cmd: 'users_list' })
    expect(users.map((u: { username: string }) => u.username)).toEqual(['owner', 'bob'])
    // Logging in again makes a new account.
    await server.login('alice')
    expect(await owner2.next('user_join')).toEqual({ cmd: 'user_join', user: { username: 'alice', roles: ['user'], color: null } })
  })

  test.concurrent('accepts a user ID', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const bob = await server.login('bob')
    expect(await owner.request({ cmd: 'user_delete', user: 'rotur-bob' })).toEqual({ cmd: 'user_delete', user: 'bob', deleted: true })
    await bob.closed
  })

  test.concurrent('is for the owner role only: an admin is refused without src', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const admin = await server.login('carol')
    await server.setRoles('carol', ['admin', 'user'])
    const bob = await server.login('bob')
    expect(await admin.error({ cmd: 'user_delete', user: 'bob' })).toEqual(OWNER_ONLY)
    expect(await bob.error({ cmd: 'user_delete', user: 'bob' })).toEqual(OWNER_ONLY)
    await owner.expectNone('user_leave')
    expect(await stored(server, 'bob')).toBeDefined()
  })

  test.concurrent('needs an existing user', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const err = (val: string) => ({ cmd: 'error', src: 'user_delete', val })
    expect(await owner.error({ cmd: 'user_delete' })).toEqual(err('User parameter is required'))
    expect(await owner.error({ cmd: 'user_delete', user: '' })).toEqual(err('User parameter is required'))
    expect(await owner.error({ cmd: 'user_delete', user: ['bob'] })).toEqual(err('User parameter is required'))
    expect(await owner.error({ cmd: 'user_delete', user: 'nobody' })).toEqual(err('User not found'))
  })

  test.concurrent('the last owner cannot be deleted; one of two owners can, even themself', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const bob = await server.login('bob')
    expect(await owner.error({ cmd: 'user_delete', user: 'owner' })).toEqual({ cmd: 'error', src: 'user_delete', val: 'Cannot delete the last owner' })

    await server.setRoles('bob', ['owner', 'user'])
    expect(await bob.request({ cmd: 'user_delete', user: 'owner' })).toEqual({ cmd: 'user_delete', user: 'owner', deleted: true })
    expect(await owner.next('disconnect')).toEqual({ cmd: 'disconnect', reason: 'Your account has been deleted' })
    await owner.closed
    expect(await bob.error({ cmd: 'user_delete', user: 'bob' })).toEqual({ cmd: 'error', src: 'user_delete', val: 'Cannot delete the last owner' })
  })
})
