import { describe, expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { LogRecorder } from '../helpers/log.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const ONLINE = { status: 'online', text: '' }

/** Sends a pre-auth packet and waits for the auth_error it causes. */
async function authError(client: TestClient, packet: Record<string, unknown>): Promise<string> {
  client.send(packet)
  return (await client.next('auth_error')).val
}

/** A connection is still unauthenticated when even `ping` is refused. */
async function expectUnauthenticated(client: TestClient) {
  expect(await client.request({ cmd: 'ping' }, 'auth_error')).toEqual({ cmd: 'auth_error', val: 'Authentication required' })
}

/** Every packet the server triggered with earlier frames on `client` has arrived once this resolves. */
async function settled(client: TestClient) {
  await client.request({ cmd: 'ping' }, 'pong')
}

/** Waits for the client's own login broadcasts, then forgets them. */
async function quiet(client: TestClient) {
  await settled(client)
  client.drain()
}

async function auth(server: TestServer, client: TestClient, username: string) {
  client.send({ cmd: 'auth', validator: server.rotur.issue(username, client.handshake.val.validator_key) })
}

describe('auth (Rotur)', () => {
  test.concurrent('auth_success then ready with the stored user, without secrets', async () => {
    await using server = await startServer()
    const client = await server.connect()
    await auth(server, client, 'Alice')
    const ready = await client.next('ready')
    // auth_success arrived first: it was already waiting in the inbox when ready came.
    expect(client.inbox[0]).toEqual({ cmd: 'auth_success', val: 'Authentication successful' })
    expect(ready).toEqual({
      cmd: 'ready',
      user: { username: 'Alice', roles: ['user'], status: ONLINE, cracked: false },
      validator: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    })
    expect(ready.user).not.toHaveProperty('id')
    expect(ready.user).not.toHaveProperty('password_hash')
    const stored = await server.app.store.users.get('rotur-alice')
    expect(stored).toMatchObject({ id: 'rotur-alice', username: 'Alice', validator: ready.validator })
  })

  test.concurrent('each login stores a fresh validator token', async () => {
    await using server = await startServer()
    const first = await server.login('alice')
    const second = await server.login('alice')
    expect(first.ready.validator).not.toBe(second.ready.validator)
  })

  test.concurrent("a validator minted for another connection's key is refused", async () => {
    await using server = await startServer()
    const mine = await server.connect()
    const other = await server.connect()
    mine.send({ cmd: 'auth', validator: server.rotur.issue('alice', other.handshake.val.validator_key) })
    expect(await mine.next('auth_error')).toEqual({ cmd: 'auth_error', val: 'Invalid authentication' })
    await expectUnauthenticated(mine)
    // The same socket may retry with a validator minted for its own key.
    await auth(server, mine, 'alice')
    expect((await mine.next('ready')).user.username).toBe('alice')
  })

  test.concurrent('missing or empty validator is an invalid authentication', async () => {
    await using server = await startServer()
    const client = await server.connect()
    expect(await authError(client, { cmd: 'auth' })).toBe('Invalid authentication')
    expect(await authError(client, { cmd: 'auth', validator: '' })).toBe('Invalid authentication')
    expect(await authError(client, { cmd: 'auth', validator: 42 })).toBe('Invalid authentication')
  })

  test.concurrent('Rotur answering 500 gives Invalid authentication and the socket can retry', async () => {
    // The default timeout: a loaded machine must not turn the retry into a timeout.
    await using server = await startServer()
    const client = await server.connect()
    server.rotur.mode = 'error'
    await auth(server, client, 'alice')
    expect(await client.next('auth_error')).toEqual({ cmd: 'auth_error', val: 'Invalid authentication' })
    expect(server.rotur.requests).toBe(1)
    server.rotur.mode = 'ok'
    await auth(server, client, 'alice')
    expect((await client.next('ready')).user.username).toBe('alice')
  })

  test.concurrent('Rotur never answering gives Invalid authentication after the timeout', async () => {
    // Short enough to wait for, long enough that the answered retry never times out on a loaded machine.
    await using server = await startServer({ rotur: { timeout_ms: 1000 } })
    const client = await server.connect()
    server.rotur.mode = 'hang'
    await auth(server, client, 'alice')
    expect(await client.next('auth_error')).toEqual({ cmd: 'auth_error', val: 'Invalid authentication' })
    await expectUnauthenticated(client)
    server.rotur.mode = 'ok'
    await auth(server, client, 'alice')
    expect((await client.next('ready')).user.username).toBe('alice')
  })

  test.concurrent('cracked-only mode refuses Rotur authentication', async () => {
    await using server = await startServer({ auth_mode: 'cracked-only' })
    const client = await server.connect()
    await auth(server, client, 'alice')
    expect(await client.next('auth_error')).toEqual({
      cmd: 'auth_error',
      val: 'Rotur authentication is disabled. Use login or register commands.',
    })
    expect(server.rotur.requests).toBe(0)
    // Local accounts still work.
    const bob = await server.register('bob')
    expect(bob.ready.user.username).toBe('USR:local_bob')
  })

  test.concurrent('rotur mode accepts auth and refuses login/register', async () => {
    await using server = await startServer({ auth_mode: 'rotur' })
    const client = await server.connect()
    expect(await authError(client, { cmd: 'register', username: 'bob', password: 'password123' })).toBe('Authentication required')
    expect(await authError(client, { cmd: 'login', username: 'bob', password: 'password123' })).toBe('Authentication required')
    expect(await server.app.store.users.get('USR:local_bob')).toBeUndefined()
    await auth(server, client, 'alice')
    expect((await client.next('ready')).user.username).toBe('alice')
  })

  test.concurrent('a Rotur rename follows the user ID', async () => {
    await using server = await startServer()
    const client = await server.connect()
    client.send({ cmd: 'auth', validator: server.rotur.issue('Alice', client.handshake.val.validator_key, 'rotur-1') })
    await client.next('ready')
    const again = await server.connect()
    again.send({ cmd: 'auth', validator: server.rotur.issue('Alicia', again.handshake.val.validator_key, 'rotur-1') })
    expect((await again.next('ready')).user.username).toBe('Alicia')
    expect(await server.app.store.users.count()).toBe(1)
    expect((await server.app.store.users.get('rotur-1'))?.username).toBe('Alicia')
  })

  test.concurrent('banned users are refused and stay unauthenticated', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    await server.setRoles('alice', ['banned', 'user'])
    await alice.close()
    const client = await server.connect()
    await auth(server, client, 'alice')
    expect(await client.next('auth_error')).toEqual({ cmd: 'auth_error', val: 'Access denied: You are banned from this server' })
    await expectUnauthenticated(client)
  })
})

describe('register', () => {
  test.concurrent('creates a local account: USR:local_ id, nickname, cracked', async () => {
    await using server = await startServer()
    const client = await server.connect()
    client.send({ cmd: 'register', username: '  Alice ', password: 'secret123' })
    expect(await client.next('auth_success')).toEqual({ cmd: 'auth_success', val: 'Authentication successful' })
    const ready = await client.next('ready')
    expect(ready).toEqual({
      cmd: 'ready',
      user: { username: 'USR:local_alice', nickname: 'alice', pfp_url: null, roles: ['user'], status: ONLINE, cracked: true },
      validator: expect.any(String),
    })
    const stored = await server.app.store.users.get('USR:local_alice')
    expect(stored).toMatchObject({ id: 'USR:local_alice', username: 'USR:local_alice', nickname: 'alice' })
    expect(stored?.password_hash).toEqual(expect.any(String))
    expect(stored?.password_hash).not.toContain('secret123')
  })

  test.concurrent('error strings, checked in the documented order', async () => {
    await using server = await startServer()
    const client = await server.connect()
    const register = (username: unknown, password: unknown) => authError(client, { cmd: 'register', username, password })
    expect(await register(undefined, undefined)).toBe('Username and password required')
    expect(await register('  ', 'password')).toBe('Username and password required')
    expect(await register('alice', '')).toBe('Username and password required')
    expect(await register('alice', '    ')).toBe('Username and password required')
    expect(await register(5, 'password')).toBe('Username and password required')
    // Username length is checked before the password, the password before the charset.
    expect(await register('a', 'x')).toBe('Username must be 2-32 characters')
    expect(await register('a'.repeat(33), 'password')).toBe('Username must be 2-32 characters')
    expect(await register('a b', 'abc')).toBe('Password must be 8-72 characters')
    expect(await register('alice', 'p'.repeat(7))).toBe('Password must be 8-72 characters')
    expect(await register('alice', 'p'.repeat(73))).toBe('Password must be 8-72 characters')
    expect(await register('a b', 'password')).toBe('Username can only contain letters, numbers, hyphens, and underscores')
    expect(await register('al!ce', 'password')).toBe('Username can only contain letters, numbers, hyphens, and underscores')
    expect(await server.app.store.users.count()).toBe(0)
    // Boundaries are accepted.
    await server.register('ab', 'p'.repeat(8))
    await server.register('a'.repeat(32), 'p'.repeat(72))
    await server.register('we_ird-name', 'password')
    expect(await server.app.store.users.count()).toBe(3)
  })

  test.concurrent('Username already taken, case-insensitively, including by a Rotur account', async () => {
    await using server = await startServer()
    await server.register('alice')
    const client = await server.connect()
    expect(await authError(client, { cmd: 'register', username: 'ALICE', password: 'password123' })).toBe('Username already taken')
    expect(await authError(client, { cmd: 'register', username: ' alice ', password: 'password123' })).toBe('Username already taken')
    // A stored (legacy) Rotur user whose username is USR:local_bob (any case) blocks the local name.
    await server.app.store.users.insert({ id: 'rotur-bob', username: 'USR:local_Bob', roles: ['user'], status: ONLINE, extra: {} })
    expect(await authError(client, { cmd: 'register', username: 'bob', password: 'password123' })).toBe('Username already taken')
    await expectUnauthenticated(client)
  })

  test.concurrent('look-alike names are taken: other scripts, digits for letters, fullwidth forms, accents', async () => {
    await using server = await startServer()
    await server.register('alice')
    await server.login('Paypal')
    const client = await server.connect()
    for (const username of ['аlice', 'a1ice', 'ＡＬＩＣＥ', 'alíce', 'paypa1', 'PAYPAL']) {
      expect(await authError(client, { cmd: 'register', username, password: 'password123' })).toBe('Username already taken')
    }
    // Fullwidth letters are stored as their plain form, so the account signs in with either.
    const bob = await server.register('ｂｏｂ')
    expect(bob.ready.user).toMatchObject({ username: 'USR:local_bob', nickname: 'bob' })
    expect(await server.app.store.users.count()).toBe(3)
  })

  test.concurrent('Registration is disabled comes before every other check', async () => {
    await using server = await startServer({ cracked: { allow_registration: false } })
    const client = await server.connect()
    expect(await authError(client, { cmd: 'register' })).toBe('Registration is disabled')
    expect(await authError(client, { cmd: 'register', username: 'alice', password: 'password123' })).toBe('Registration is disabled')
    expect(await server.app.store.users.count()).toBe(0)
  })

  test.concurrent('in modes with Rotur nobody can register the owner name (or a look-alike); the Rotur account is the owner', async () => {
    await using server = await startServer()
    const client = await server.connect()
    for (const username of ['Owner', 'owner', '0wner', 'оwner']) {
      expect(await authError(client, { cmd: 'register', username, password: 'password123' })).toBe('Username already taken')
    }
    const owner = await server.login('owner')
    expect(owner.ready.user.roles).toEqual(['owner', 'user'])
    const alice = await server.register('alice')
    expect(alice.ready.user.roles).toEqual(['user'])
  })

  test.concurrent('in cracked-only mode the owner is the local account registered under the name', async () => {
    await using server = await startServer({ auth_mode: 'cracked-only' })
    const owner = await server.register('Owner')
    expect(owner.ready.user.roles).toEqual(['owner', 'user'])
    const alice = await server.register('alice')
    expect(alice.ready.user.roles).toEqual(['user'])
  })

  test.concurrent('new users get DB.users.default roles', async () => {
    await using server = await startServer({ DB: { users: { default: { roles: ['member', 'user'] } } } })
    const alice = await server.register('alice')
    expect(alice.ready.user.roles).toEqual(['member', 'user'])
    const bob = await server.login('bob')
    expect(bob.ready.user.roles).toEqual(['member', 'user'])
  })
})

describe('login', () => {
  test.concurrent('logs in to a local account, case-insensitively, as not new', async () => {
    await using server = await startServer()
    const first = await server.register('alice', 'secret123')
    await first.close()
    const observer = await server.login('observer')
    await quiet(observer)
    const client = await server.connect()
    client.send({ cmd: 'login', username: ' ALICE ', password: 'secret123' })
    await client.next('auth_success')
    expect(await client.next('ready')).toEqual({
      cmd: 'ready',
      user: { username: 'USR:local_alice', nickname: 'alice', pfp_url: null, roles: ['user'], status: ONLINE, cracked: true },
      validator: expect.any(String),
    })
    expect((await observer.next('user_connect')).user.username).toBe('USR:local_alice')
    await settled(client)
    await observer.expectNone('user_join')
  })

  test.concurrent('error strings', async () => {
    await using server = await startServer()
    await server.register('alice', 'secret123')
    await server.login('rotur_user')
    // Rotur can no longer create such a name (see auth), but a database may hold one from before.
    await server.app.store.users.insert({ id: 'rotur-carl', username: 'USR:local_Carl', roles: ['user'], status: ONLINE, extra: {} })
    const client = await server.connect()
    const login = (username: unknown, password: unknown) => authError(client, { cmd: 'login', username, password })
    expect(await login(undefined, 'secret123')).toBe('Username and password required')
    expect(await login('alice', undefined)).toBe('Username and password required')
    expect(await login(' ', 'secret123')).toBe('Username and password required')
    expect(await login('alice', '   ')).toBe('Username and password required')
    expect(await login('alice', 'wrong-password')).toBe('Invalid password')
    expect(await login('nobody', 'secret123')).toBe('User not found')
    // Login looks the name up as USR:local_<name>; a plain Rotur username is not found.
    expect(await login('rotur_user', 'secret123')).toBe('User not found')
    expect(await login('carl', 'secret123')).toBe('This account uses Rotur authentication')
    await expectUnauthenticated(client)
  })

  test.concurrent('banned local users are refused after the password check', async () => {
    await using server = await startServer()
    const carol = await server.register('carol', 'secret123')
    await carol.close()
    await server.setRoles('USR:local_carol', ['banned', 'user'])
    const client = await server.connect()
    expect(await authError(client, { cmd: 'login', username: 'carol', password: 'nope-nope' })).toBe('Invalid password')
    expect(await authError(client, { cmd: 'login', username: 'carol', password: 'secret123' })).toBe(
      'Access denied: You are banned from this server',
    )
    await expectUnauthenticated(client)
  })

  test.concurrent('the owner name gets the owner role at login too', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    expect(owner.ready.user.roles).toEqual(['owner', 'user'])
    const alice = await server.login('alice')
    expect(alice.ready.user.roles).toEqual(['user'])
  })
})

describe('the owner', () => {
  const rolesOf = async (server: TestServer, id: string) => (await server.app.store.users.get(id))?.roles

  test.concurrent('Rotur identities inside the local-account ID space are refused', async () => {
    await using server = await startServer()
    const client = await server.connect()
    client.send({ cmd: 'auth', validator: server.rotur.issue('mallory', client.handshake.val.validator_key, 'USR:local_owner') })
    expect((await client.next('auth_error')).val).toBe('Invalid authentication')
    client.send({ cmd: 'auth', validator: server.rotur.issue('usr:LOCAL_owner', client.handshake.val.validator_key) })
    expect((await client.next('auth_error')).val).toBe('Invalid authentication')
    await expectUnauthenticated(client)
    expect(await server.app.store.users.count()).toBe(0)
  })

  test.concurrent('a local account that got owner by its name before this rule loses it at its next login', async () => {
    await using server = await startServer()
    const impostor = await server.connect()
    // As an older server stored it: registered as "owner" in cracked mode and given the role.
    await server.app.store.users.insert({
      id: 'USR:local_owner',
      username: 'USR:local_owner',
      nickname: 'owner',
      roles: ['owner', 'user'],
      status: ONLINE,
      password_hash: await Bun.password.hash('password123'),
      extra: {},
    })
    impostor.send({ cmd: 'login', username: 'owner', password: 'password123' })
    expect((await impostor.next('ready')).user.roles).toEqual(['user'])
    expect(await rolesOf(server, 'USR:local_owner')).toEqual(['user'])
    const { entries } = await server.app.store.modlog.list({ limit: 10, offset: 0 })
    expect(entries).toEqual([
      expect.objectContaining({ action: 'user_roles_set', actor_id: 'originChats', target_id: 'USR:local_owner', details: expect.objectContaining({ roles: ['user'] }) }),
    ])
  })

  test.concurrent('a new configured owner takes over; the previous one loses the role at its next login, appointed owners keep it', async () => {
    await using server = await startServer()
    await (await server.login('owner')).close()
    expect(await rolesOf(server, 'rotur-owner')).toEqual(['owner', 'user'])
    server.reconfigure((config) => ({ ...config, server: { ...config.server, owner: { name: 'Boss' } } }))

    // Names compare case-insensitively.
    const boss = await server.login('boss')
    expect(boss.ready.user.roles).toEqual(['owner', 'user'])
    // Boss appoints alice explicitly: that grant does not come from the config and stays.
    await (await server.login('alice')).close()
    await boss.request({ cmd: 'user_roles_set', user: 'alice', roles: ['owner', 'user'] }, 'user_roles_get')

    const previous = await server.login('owner')
    expect(previous.ready.user.roles).toEqual(['user'])
    expect((await server.login('alice')).ready.user.roles).toEqual(['owner', 'user'])
    const { entries } = await server.app.store.modlog.list({ limit: 10, offset: 0, action: 'user_roles_set', target: 'rotur-owner' })
    expect(entries).toHaveLength(1)
  })

  test.concurrent('an empty owner name designates nobody', async () => {
    await using server = await startServer({ server: { owner: { name: '' } } })
    expect((await server.login('owner')).ready.user.roles).toEqual(['user'])
    expect((await server.register('admin')).ready.user.roles).toEqual(['user'])
  })
})

describe('logins racing moderation', () => {
  test.concurrent('a ban applied while the password is being checked holds: that login is refused', async () => {
    await using server = await startServer()
    await (await server.register('carol', 'secret123')).close()
    const owner = await server.login('owner')
    const carol = await server.connect()
    // The ban arrives while the login awaits its password hash (tens of milliseconds of argon2).
    carol.send({ cmd: 'login', username: 'carol', password: 'secret123' })
    expect(await owner.request({ cmd: 'user_ban', user: 'USR:local_carol' })).toEqual({ cmd: 'user_ban', user: 'USR:local_carol', banned: true })
    expect((await carol.next('auth_error')).val).toBe('Access denied: You are banned from this server')
    expect((await server.app.store.users.get('USR:local_carol'))?.roles).toEqual(['banned', 'user'])
    await expectUnauthenticated(carol)
  })

  test.concurrent('a role change applied while the password is being checked is not written back', async () => {
    await using server = await startServer()
    await (await server.register('carol', 'secret123')).close()
    const owner = await server.login('owner')
    const carol = await server.connect()
    carol.send({ cmd: 'login', username: 'carol', password: 'secret123' })
    await owner.request({ cmd: 'user_roles_set', user: 'USR:local_carol', roles: ['moderator', 'user'] }, 'user_roles_get')
    expect((await carol.next('ready')).user.roles).toEqual(['moderator', 'user'])
    expect((await server.app.store.users.get('USR:local_carol'))?.roles).toEqual(['moderator', 'user'])
  })

  test.concurrent('a socket whose user is banned is refused and closed at its next command', async () => {
    await using server = await startServer()
    const mallory = await server.login('mallory')
    // Banned behind the hub's back (as a second node or the CLI would): no disconnect was sent.
    await server.app.store.users.update('rotur-mallory', { roles: ['banned', 'user'] })
    mallory.send({ cmd: 'message_new', channel: 'general', content: 'still here?' })
    expect(await mallory.next('disconnect')).toEqual({ cmd: 'disconnect', reason: 'You have been banned from this server' })
    expect((await mallory.closed).code).toBe(1000)
    expect(await server.app.store.messages.listLatest({ channel: 'general', thread_id: null }, 0, 10)).toEqual([])
  })
})

describe('presence', () => {
  test.concurrent('user_join only for new accounts, user_connect/user_disconnect per user across sockets', async () => {
    await using server = await startServer()
    const bob = await server.login('bob')
    await quiet(bob)

    const alice1 = await server.login('alice')
    const joined = { username: 'alice', roles: ['user'], color: null }
    expect(await bob.next('user_join')).toEqual({ cmd: 'user_join', user: joined })
    expect(await bob.next('user_connect')).toEqual({ cmd: 'user_connect', user: joined })
    // The new socket hears about itself too.
    expect(await alice1.next('user_join')).toEqual({ cmd: 'user_join', user: joined })
    expect(await alice1.next('user_connect')).toEqual({ cmd: 'user_connect', user: joined })

    // A second socket of the same user: no join (not new), no connect (not the first).
    const alice2 = await server.login('alice')
    await settled(alice2)
    await bob.expectNone('user_connect')
    await bob.expectNone('user_join')

    // Closing one of two sockets announces nothing; closing the last announces the disconnect once.
    await alice1.close()
    await alice2.close()
    expect(await bob.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'alice' })
    await bob.expectNone('user_disconnect')

    // Coming back: user_connect again, still no user_join.
    const alice3 = await server.login('alice')
    await settled(alice3)
    expect(await bob.next('user_connect')).toEqual({ cmd: 'user_connect', user: joined })
    await bob.expectNone('user_join')
  })

  test.concurrent('presence carries the colour of the first role', async () => {
    await using server = await startServer()
    const bob = await server.login('bob')
    await quiet(bob)
    await server.login('owner')
    expect(await bob.next('user_connect')).toEqual({ cmd: 'user_connect', user: { username: 'owner', roles: ['owner', 'user'], color: '#9400D3' } })
  })

  test.concurrent('unauthenticated sockets get no presence broadcasts', async () => {
    await using server = await startServer()
    const guest = await server.connect()
    const alice = await server.login('alice')
    await settled(alice)
    await alice.close()
    const bob = await server.login('bob')
    expect(await bob.next('user_connect')).toMatchObject({ user: { username: 'bob' } })
    // Any presence broadcast would have reached the guest before its own auth_error answer.
    await expectUnauthenticated(guest)
    expect(guest.inbox).toEqual([])
  })
})

describe('after authentication', () => {
  test.concurrent('auth, login and register are unknown commands', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    expect(await alice.error({ cmd: 'auth', validator: 'x' })).toEqual({ cmd: 'error', src: 'auth', val: 'Unknown command: auth' })
    expect(await alice.error({ cmd: 'login', username: 'a', password: 'b' })).toEqual({ cmd: 'error', src: 'login', val: 'Unknown command: login' })
    expect(await alice.error({ cmd: 'register', username: 'ab', password: 'password' })).toEqual({
      cmd: 'error',
      src: 'register',
      val: 'Unknown command: register',
    })
    await alice.expectNone('ready')
    expect(await server.app.store.users.count()).toBe(1)
  })
})

describe('per-address limits', () => {
  test.concurrent('registrations per hour', async () => {
    await using server = await startServer({ security: { registrations_per_hour: 2 } })
    await server.register('one')
    await server.register('two')
    const client = await server.connect()
    const val = await authError(client, { cmd: 'register', username: 'three', password: 'password123' })
    expect(val).toStartWith('Too many attempts')
    expect(val).toMatch(/^Too many attempts\. Try again in \d+ seconds$/)
    expect(await server.app.store.users.get('USR:local_three')).toBeUndefined()
  })

  test.concurrent('a flood of failed logins on one account locks that account only; the address limit is looser', async () => {
    await using server = await startServer({ security: { auth_failures_per_minute: 3, auth_failures_per_address_per_minute: 6 } })
    await (await server.register('alice', 'secret123')).close()
    await (await server.register('bob', 'secret456')).close()
    const client = await server.connect()
    const login = (username: unknown, password: unknown) => authError(client, { cmd: 'login', username, password })
    for (let i = 0; i < 3; i++) expect(await login('alice', 'wrong-password')).toBe('Invalid password')
    // Refused before any password check, and no longer counted against the address.
    for (let i = 0; i < 50; i++) expect(await login('alice', 'wrong-password')).toStartWith('Too many attempts')
    expect(await login('ALICE', 'secret123')).toStartWith('Too many attempts')
    // Malformed frames are not password guesses.
    for (let i = 0; i < 10; i++) expect(await login('bob', undefined)).toBe('Username and password required')

    // Other accounts behind the same address still sign in, locally and through Rotur.
    const bob = await server.connect()
    bob.send({ cmd: 'login', username: 'bob', password: 'secret456' })
    expect((await bob.next('ready')).user.nickname).toBe('bob')
    expect((await server.login('carol')).ready.user.username).toBe('carol')

    // Real failures on other accounts reach the address limit (3 + 3 = 6): then everyone waits.
    expect(await login('bob', 'wrong-password')).toBe('Invalid password')
    expect(await login('bob', 'wrong-password')).toBe('Invalid password')
    expect(await login('dave', 'whatever1')).toBe('User not found')
    expect(await login('bob', 'secret456')).toStartWith('Too many attempts')
    await expectUnauthenticated(client)
  })

  test.concurrent('probing taken names with register is throttled like failed logins', async () => {
    await using server = await startServer({ security: { auth_failures_per_address_per_minute: 3 } })
    await server.register('alice')
    const client = await server.connect()
    for (let i = 0; i < 3; i++) expect(await authError(client, { cmd: 'register', username: 'alice', password: 'password123' })).toBe('Username already taken')
    expect(await authError(client, { cmd: 'register', username: 'alice', password: 'password123' })).toStartWith('Too many attempts')
    expect(await authError(client, { cmd: 'register', username: 'zed', password: 'password123' })).toStartWith('Too many attempts')
  })

  test.concurrent("a registration flood does not starve another client's pings", async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const flooders = await Promise.all(Array.from({ length: 8 }, () => server.connect()))
    flooders.forEach((c, i) => c.send({ cmd: 'register', username: `flood${i}`, password: 'password123' }))
    const pongs = Array.from({ length: 20 }, (_, i) => {
      alice.send({ cmd: 'ping', listener: `p${i}` })
      return alice.next('pong', (p) => p.listener === `p${i}`)
    })
    expect(await Promise.all(pongs)).toEqual(Array.from({ length: 20 }, (_, i) => ({ cmd: 'pong', val: 'pong', listener: `p${i}` })))
    const readies = await Promise.all(flooders.map((c) => c.next('ready')))
    expect(readies.map((r) => r.user.nickname).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `flood${i}`).sort())
  })
})

describe('first sign-in', () => {
  test.concurrent('an account that never signed in joins at its first sign-in (user_join, the welcome), not later', async () => {
    await using server = await startServer({ plugins: { builtin: { welcome: { enabled: true } } } })
    const observer = await server.login('observer')
    await quiet(observer)
    // As `originchats user add` leaves it: stored, never signed in.
    const password_hash = await Bun.password.hash('carols-password')
    await server.app.store.users.insert({ id: 'USR:local_carol', username: 'USR:local_carol', nickname: 'carol', roles: ['user'], status: ONLINE, password_hash, extra: {} })
    const carol = await server.connect()
    carol.send({ cmd: 'login', username: 'carol', password: 'carols-password' })
    expect(await observer.next('user_join')).toEqual({ cmd: 'user_join', user: { username: 'USR:local_carol', nickname: 'carol', roles: ['user'], color: null } })
    const welcome = await observer.next('message_new', (p) => p.message.content.includes('carol'))
    expect(welcome.message).toMatchObject({ user: 'originChats', content: 'Welcome carol! Thanks for joining the server.' })
    await carol.close()
    const again = await server.connect()
    again.send({ cmd: 'login', username: 'carol', password: 'carols-password' })
    await again.next('ready')
    await observer.next('user_connect', (p) => p.user.username === 'USR:local_carol')
    await observer.expectNone('user_join')
  })
})

describe('the log', () => {
  test.concurrent('failed and refused sign-ins and registrations name the account, quoted', async () => {
    const recorder = new LogRecorder()
    await using server = await startServer({ logging: { level: 'info' } }, recorder.log)
    await (await server.register('alice', 'secret123')).close()
    const client = await server.connect()
    client.send({ cmd: 'login', username: 'alice', password: 'wrong-password' })
    await client.next('auth_error')
    client.send({ cmd: 'login', username: 'ghost\nINFO  forged', password: 'wrong-password' })
    await client.next('auth_error')
    await server.setRoles('USR:local_alice', ['banned', 'user'])
    client.send({ cmd: 'login', username: 'alice', password: 'secret123' })
    await client.next('auth_error')
    client.send({ cmd: 'register', username: 'carol', password: 'short' })
    await client.next('auth_error')
    client.send({ cmd: 'register', username: 'ALICE', password: 'long-enough' })
    await client.next('auth_error')
    const attempts = recorder.lines.filter((line) => / (sign-in as|registration of) /.test(line))
    expect(attempts).toEqual([
      expect.stringMatching(/sign-in as "USR:local_alice" from \S+ failed: Invalid password$/),
      expect.stringMatching(/sign-in as "USR:local_ghost\\ninfo  forged" from \S+ failed: User not found$/),
      expect.stringMatching(/sign-in as "USR:local_alice" from \S+ refused: banned$/),
      expect.stringMatching(/registration of "carol" from \S+ refused: Password must be 8-72 characters$/),
      expect.stringMatching(/registration of "alice" from \S+ failed: Username already taken$/),
    ])
  })
})
