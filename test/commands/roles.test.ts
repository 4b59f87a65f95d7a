import { describe, expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const err = (src: string, val: string) => ({ cmd: 'error', src, val })
const denied = (src: string, permission = 'manage_roles') => err(src, `Access denied: '${permission}' permission required`)
const AT_OR_ABOVE = 'Cannot manage roles at or above your position'

const role = (fields: Record<string, unknown>) => ({
  id: expect.any(String),
  description: '',
  color: null,
  hoisted: false,
  permissions: [],
  self_assignable: false,
  category: null,
  ...fields,
})

const DEFAULT_ROLES = {
  owner: role({ description: 'Server owner with ultimate permissions.', color: '#9400D3', hoisted: true, permissions: ['administrator'], position: 0 }),
  admin: role({
    description: 'Administrator role with full permissions.',
    color: '#FF0000',
    hoisted: true,
    permissions: [
      'administrator', 'manage_roles', 'manage_channels', 'manage_users', 'manage_server', 'manage_messages', 'manage_threads',
      'manage_nicknames', 'kick_members', 'ban_members', 'create_invite', 'manage_invites', 'mention_everyone', 'use_slash_commands',
    ],
    position: 1,
  }),
  moderator: role({
    description: 'Moderator role with elevated permissions.',
    color: '#FFFF00',
    hoisted: true,
    permissions: [
      'manage_messages', 'manage_threads', 'kick_members', 'manage_nicknames', 'mute_members', 'deafen_members', 'move_members',
      'create_invite', 'use_slash_commands',
    ],
    position: 2,
  }),
  user: role({
    description: 'Regular user role with standard permissions.',
    permissions: [
      'send_messages', 'read_message_history', 'add_reactions', 'attach_files', 'embed_links', 'external_emojis', 'connect', 'speak',
      'stream', 'use_voice_activity', 'change_nickname', 'create_invite', 'use_slash_commands',
    ],
    position: 3,
  }),
}

/** A fresh `roles_list` reply (earlier broadcasts of that name are dropped first). */
const rolesOf = async (client: TestClient) => {
  client.drain('roles_list')
  return (await client.request({ cmd: 'roles_list' })).roles
}
/** A fresh `user_roles_get` reply (earlier broadcasts of that name are dropped first). */
const userRoles = (client: TestClient, user: string) => {
  client.drain('user_roles_get')
  return client.request({ cmd: 'user_roles_get', user })
}
const idOf = async (server: TestServer, name: string) => (await server.app.store.roles.get(name))!.id
/** The next frame of a connection starts only once the previous command's effects are applied. */
const settled = (client: TestClient) => client.request({ cmd: 'ping' }, 'pong')

/**
 * An unauthenticated socket answers every command with `auth_error`, after anything sent to it
 * before, so that answer proves `cmd` never arrived.
 */
async function guestExpectNone(guest: TestClient, cmd: string) {
  guest.send({ cmd: 'roles_list' })
  expect(await guest.next('auth_error')).toEqual({ cmd: 'auth_error', val: 'Authentication required' })
  expect(guest.inbox.filter((p) => p.cmd === cmd)).toEqual([])
}

/** `user_roles_set`, answered by the `user_roles_get` broadcast that carries the new list. */
const setRoles = (by: TestClient, user: string, roles: string[]) => {
  by.send({ cmd: 'user_roles_set', user, roles })
  return by.next('user_roles_get', (p) => p.user === user && p.global === true && p.roles.join() === roles.join())
}

/**
 * carol holds `moderator` (position 2) and `mgr`, a role created with `manage_roles`, ranked last
 * (position 4). Her best position is 2: she may manage `user` and later roles, not `moderator`,
 * `admin` or `owner`.
 */
async function withManager(server: TestServer, owner: TestClient) {
  await owner.request({ cmd: 'role_create', name: 'mgr', permissions: ['manage_roles'] })
  const carol = await server.login('carol')
  await setRoles(owner, 'carol', ['moderator', 'mgr', 'user'])
  await carol.next('user_roles_get', (p) => p.user === 'carol')
  return carol
}

const posted = async (from: TestClient, channel: string, content: string) => {
  from.send({ cmd: 'message_new', channel, content })
  return from.next('message_new', (p) => p.message.content === content)
}

describe('roles_list', () => {
  test.concurrent('any user gets every role keyed by name, in rank order, without the name inside', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const reply = await alice.request({ cmd: 'roles_list' })
    expect(reply).toEqual({ cmd: 'roles_list', roles: DEFAULT_ROLES })
    expect(Object.keys(reply.roles)).toEqual(['owner', 'admin', 'moderator', 'user'])
  })

  test.concurrent('is refused before authentication', async () => {
    await using server = await startServer()
    const guest = await server.connect()
    expect(await guest.request({ cmd: 'roles_list' }, 'auth_error')).toEqual({ cmd: 'auth_error', val: 'Authentication required' })
  })
})

describe('role_create', () => {
  test.concurrent('a manager creates a role last; every authenticated socket gets roles_list, guests do not', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const guest = await server.connect()

    const reply = await owner.request({ cmd: 'role_create', name: 'gamer' })
    expect(reply).toEqual({ cmd: 'role_create', id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'gamer' })
    const expected = { cmd: 'roles_list', roles: { ...DEFAULT_ROLES, gamer: role({ id: reply.id, position: 4 }) } }
    expect(await owner.next('roles_list')).toEqual(expected)
    expect(await alice.next('roles_list')).toEqual(expected)
    await guestExpectNone(guest, 'roles_list')
  })

  test.concurrent('takes every optional field, and an admin may create roles too', async () => {
    await using server = await startServer()
    await server.login('admin1')
    await server.setRoles('admin1', ['admin', 'user'])
    const admin = await server.login('admin1')
    const reply = await admin.request({
      cmd: 'role_create',
      name: 'artist',
      description: 'Draws things',
      color: '#00FF00',
      permissions: ['attach_files'],
      hoisted: true,
      self_assignable: true,
      category: 'Hobbies',
    })
    expect((await rolesOf(admin)).artist).toEqual({
      id: reply.id,
      description: 'Draws things',
      color: '#00FF00',
      hoisted: true,
      permissions: ['attach_files'],
      self_assignable: true,
      category: 'Hobbies',
      position: 4,
    })
  })

  test.concurrent('callers without manage_roles are refused and nothing is broadcast', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    await server.login('mod')
    await server.setRoles('mod', ['moderator', 'user'])
    const mod = await server.login('mod')
    expect(await alice.error({ cmd: 'role_create', name: 'gamer' })).toEqual(denied('role_create'))
    expect(await mod.error({ cmd: 'role_create', name: 'gamer' })).toEqual(denied('role_create'))
    await alice.expectNone('roles_list')
    expect(Object.keys(await rolesOf(alice))).toEqual(['owner', 'admin', 'moderator', 'user'])
  })

  test.concurrent('bad input', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const cases: Array<[Record<string, unknown>, string]> = [
      [{}, 'Role name is required'],
      [{ name: '' }, 'Role name is required'],
      [{ name: 5 }, 'Role name is required'],
      [{ name: 'x', color: 5 }, "Invalid field 'color': expected string or null"],
      [{ name: 'x', permissions: 'manage_roles' }, "Invalid field 'permissions': expected array or null"],
      [{ name: 'x', hoisted: 'yes' }, "Invalid field 'hoisted': expected boolean or null"],
      [{ name: 'moderator', self_assignable: true }, "Role 'moderator' cannot be made self-assignable"],
      [{ name: 'user' }, 'Role already exists'],
    ]
    for (const [fields, val] of cases) expect(await owner.error({ cmd: 'role_create', ...fields })).toEqual(err('role_create', val))
    await owner.expectNone('roles_list')
  })

  test.concurrent('survives a restart', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const { id } = await owner.request({ cmd: 'role_create', name: 'gamer', color: '#123456' })
    await server.restart()
    const alice = await server.login('alice')
    expect((await rolesOf(alice)).gamer).toEqual(role({ id, color: '#123456', position: 4 }))
  })

  test.concurrent('records the modlog entry', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const { id } = await owner.request({ cmd: 'role_create', name: 'gamer', color: '#123456' })
    await settled(owner)
    const { entries } = await server.app.store.modlog.list({ limit: 10, offset: 0 })
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'role_create',
        category: 'role_management',
        actor_name: 'owner',
        target_id: id,
        target_name: 'gamer',
        details: { color: '#123456', permissions: [] },
      }),
    ])
  })
})

describe('role_update', () => {
  test.concurrent('the owner updates any role by name; everyone gets roles_list', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const guest = await server.connect()
    const adminId = await idOf(server, 'admin')

    expect(await owner.request({ cmd: 'role_update', name: 'admin', color: '#AA0000', description: 'Admins', hoisted: false, category: 'Staff' })).toEqual({
      cmd: 'role_update',
      id: adminId,
      name: 'admin',
      updated: true,
    })
    const expected = { ...DEFAULT_ROLES.admin, color: '#AA0000', description: 'Admins', hoisted: false, category: 'Staff' }
    expect((await alice.next('roles_list')).roles.admin).toEqual(expected)
    expect((await owner.next('roles_list')).roles.admin).toEqual(expected)
    await guestExpectNone(guest, 'roles_list')

    // `color` present as null clears it; absent keys leave the rest alone.
    await owner.request({ cmd: 'role_update', name: 'admin', color: null, permissions: ['manage_roles'] })
    expect((await rolesOf(alice)).admin).toEqual({ ...expected, color: null, permissions: ['manage_roles'] })
  })

  test.concurrent('callers without manage_roles are refused', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    expect(await alice.error({ cmd: 'role_update', name: 'user', color: '#000000' })).toEqual(denied('role_update'))
    await alice.expectNone('roles_list')
  })

  test.concurrent('hierarchy: equal and higher roles are refused, lower ones allowed, the owner manages all', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const carol = await withManager(server, owner)

    for (const target of ['moderator', 'admin', 'owner']) {
      expect(await carol.error({ cmd: 'role_update', name: target, color: '#000000' })).toEqual(err('role_update', AT_OR_ABOVE))
    }
    expect(await carol.error({ cmd: 'role_update', name: 'ghost', color: '#000000' })).toEqual(err('role_update', "Role 'ghost' not found"))
    expect(await carol.error({ cmd: 'role_update', id: 'no-such-id', color: '#000000' })).toEqual(err('role_update', "Role 'no-such-id' not found"))
    expect(await carol.request({ cmd: 'role_update', name: 'user', color: '#0000FF' })).toEqual({
      cmd: 'role_update',
      id: await idOf(server, 'user'),
      name: 'user',
      updated: true,
    })
    expect(await owner.request({ cmd: 'role_update', name: 'owner', color: '#111111' })).toMatchObject({ name: 'owner', updated: true })
    expect(await owner.error({ cmd: 'role_update', name: 'ghost' })).toEqual(err('role_update', 'Role not found'))
    expect(await owner.error({ cmd: 'role_update', color: '#000000' })).toEqual(err('role_update', 'Role id or name is required'))
  })

  test.concurrent('compat 14: protected roles stay out of reach even when ranked below the caller', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const carol = await withManager(server, owner)
    // admin now ranks below moderator (carol's best), so only the protected-role rule stops her.
    await owner.request({ cmd: 'role_reorder', roles: ['owner', 'moderator', 'user', 'admin'] })
    expect(await carol.error({ cmd: 'role_update', name: 'admin', color: '#000000' })).toEqual(err('role_update', "Cannot manage protected role 'admin'"))
    expect(await carol.error({ cmd: 'role_permissions_set', name: 'admin', permissions: [] })).toEqual(
      err('role_permissions_set', "Cannot manage protected role 'admin'"),
    )
  })

  test.concurrent('compat 14: protected roles cannot be made self-assignable', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    for (const name of ['owner', 'admin', 'moderator']) {
      expect(await owner.error({ cmd: 'role_update', name, self_assignable: true })).toEqual(err('role_update', `Role '${name}' cannot be made self-assignable`))
    }
    expect((await rolesOf(owner)).moderator.self_assignable).toBe(false)
  })

  test.concurrent('compat 15: a rename by id reaches every holder and survives a restart', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const { id } = await owner.request({ cmd: 'role_create', name: 'gamer', color: '#00AA00' })
    await setRoles(owner, 'alice', ['gamer', 'user'])

    expect(await owner.request({ cmd: 'role_update', id, name: 'player' })).toEqual({ cmd: 'role_update', id, name: 'player', updated: true })
    const roles = await rolesOf(alice)
    expect(roles.player).toEqual(role({ id, color: '#00AA00', position: 4 }))
    expect(roles.gamer).toBeUndefined()
    expect(await userRoles(alice, 'alice')).toEqual({ cmd: 'user_roles_get', user: 'alice', roles: ['player', 'user'], color: '#00AA00' })

    await server.restart()
    const bob = await server.login('bob')
    expect(await userRoles(bob, 'alice')).toEqual({ cmd: 'user_roles_get', user: 'alice', roles: ['player', 'user'], color: '#00AA00' })
  })

  test.concurrent('compat 15: a role still named in channel permissions is not renamed', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const { id } = await owner.request({ cmd: 'role_create', name: 'vip' })
    await server.addChannel({ name: 'lounge', type: 'text', permissions: { view: ['owner', '!vip', 'user'], send: ['owner'] } })
    expect(await owner.error({ cmd: 'role_update', id, name: 'gold' })).toEqual(err('role_update', "Cannot rename role: it is used in channel 'lounge' permissions"))
    expect(await owner.error({ cmd: 'role_update', id, name: 'moderator' })).toEqual(err('role_update', 'Role already exists'))
    expect(await owner.error({ cmd: 'role_update', id: await idOf(server, 'user'), name: 'member' })).toEqual(err('role_update', 'Cannot rename system roles'))
    expect(Object.keys(await rolesOf(owner))).toEqual(['owner', 'admin', 'moderator', 'user', 'vip'])
  })

  test.concurrent('bad input', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    expect(await owner.error({ cmd: 'role_update', name: 'user', hoisted: 'yes' })).toEqual(err('role_update', "Invalid field 'hoisted': expected boolean or null"))
    expect(await owner.error({ cmd: 'role_update', name: 'user', permissions: 'all' })).toEqual(err('role_update', "Invalid field 'permissions': expected array or null"))
    expect(await owner.error({ cmd: 'role_update', id: 7 })).toEqual(err('role_update', "Invalid field 'id': expected string or null"))
  })
})

describe('role_set', () => {
  test.concurrent('changes any field including position; the reply names the role', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const { id } = await owner.request({ cmd: 'role_create', name: 'gamer' })
    await alice.next('roles_list')

    const data = { color: '#ABCDEF', position: 9, permissions: ['speak'], self_assignable: true, description: 'Games', hoisted: true, category: 'Fun' }
    expect(await owner.request({ cmd: 'role_set', id, data })).toEqual({ cmd: 'role_set', id, name: 'gamer', updated: true })
    expect((await alice.next('roles_list')).roles.gamer).toEqual({ id, ...data })
  })

  test.concurrent('permission, hierarchy and input checks in order', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const carol = await withManager(server, owner)

    expect(await alice.error({ cmd: 'role_set', name: 'user', data: { color: '#000000' } })).toEqual(denied('role_set'))
    expect(await carol.error({ cmd: 'role_set', data: { color: '#000000' } })).toEqual(err('role_set', 'Role id or name is required'))
    expect(await carol.error({ cmd: 'role_set', name: 'moderator', data: { color: '#000000' } })).toEqual(err('role_set', AT_OR_ABOVE))
    expect(await carol.error({ cmd: 'role_set', name: 'user' })).toEqual(err('role_set', 'Role data is required'))
    expect(await carol.error({ cmd: 'role_set', name: 'user', data: {} })).toEqual(err('role_set', 'Role data is required'))
    expect(await carol.error({ cmd: 'role_set', name: 'user', data: 'red' })).toEqual(err('role_set', 'Role data is required'))
    expect(await carol.error({ cmd: 'role_set', name: 'user', data: { color: 5 } })).toEqual(err('role_set', "Invalid field 'data.color': expected string or null"))
    expect(await carol.error({ cmd: 'role_set', name: 'user', data: { position: -1 } })).toEqual(err('role_set', "Invalid field 'data.position': expected integer"))
    expect(await owner.error({ cmd: 'role_set', name: 'ghost', data: { color: '#000000' } })).toEqual(err('role_set', 'Role not found'))
    expect(await owner.error({ cmd: 'role_set', name: 'moderator', data: { self_assignable: true } })).toEqual(
      err('role_set', "Role 'moderator' cannot be made self-assignable"),
    )
    expect(await carol.request({ cmd: 'role_set', name: 'user', data: { color: '#0000FF' } })).toMatchObject({ name: 'user', updated: true })
  })

  test.concurrent('renames like role_update, with the same guards', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const { id } = await owner.request({ cmd: 'role_create', name: 'gamer' })
    await setRoles(owner, 'alice', ['user', 'gamer'])
    expect(await owner.error({ cmd: 'role_set', name: 'admin', data: { name: 'boss' } })).toEqual(err('role_set', 'Cannot rename system roles'))
    expect(await owner.request({ cmd: 'role_set', name: 'gamer', data: { name: 'player' } })).toEqual({ cmd: 'role_set', id, name: 'player', updated: true })
    expect((await userRoles(alice, 'alice')).roles).toEqual(['user', 'player'])
  })
})

describe('role_delete', () => {
  test.concurrent('removes the role from its holders; everyone gets roles_list', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const guest = await server.connect()
    const { id } = await owner.request({ cmd: 'role_create', name: 'gamer', color: '#00AA00' })
    await setRoles(owner, 'alice', ['gamer', 'user'])
    await alice.next('roles_list')

    expect(await owner.request({ cmd: 'role_delete', name: 'gamer' })).toEqual({ cmd: 'role_delete', id, name: 'gamer', deleted: true })
    expect(await alice.next('roles_list')).toEqual({ cmd: 'roles_list', roles: DEFAULT_ROLES })
    await guestExpectNone(guest, 'roles_list')
    expect(await userRoles(alice, 'alice')).toEqual({ cmd: 'user_roles_get', user: 'alice', roles: ['user'], color: null })

    await server.restart()
    const bob = await server.login('bob')
    expect(await rolesOf(bob)).toEqual(DEFAULT_ROLES)
    expect((await userRoles(bob, 'alice')).roles).toEqual(['user'])
  })

  test.concurrent('also by id', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const { id } = await owner.request({ cmd: 'role_create', name: 'gamer' })
    expect(await owner.request({ cmd: 'role_delete', id })).toEqual({ cmd: 'role_delete', id, name: 'gamer', deleted: true })
  })

  test.concurrent('compat 14: a manager deletes lower roles, not equal or higher ones; nobody deletes system roles', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const carol = await withManager(server, owner)
    await owner.request({ cmd: 'role_create', name: 'gamer' })

    expect(await alice.error({ cmd: 'role_delete', name: 'gamer' })).toEqual(denied('role_delete'))
    expect(await carol.error({ cmd: 'role_delete' })).toEqual(err('role_delete', 'Role id or name is required'))
    expect(await carol.error({ cmd: 'role_delete', name: 'ghost' })).toEqual(err('role_delete', 'Role not found'))
    expect(await carol.error({ cmd: 'role_delete', name: 'moderator' })).toEqual(err('role_delete', AT_OR_ABOVE))
    expect(await carol.error({ cmd: 'role_delete', name: 'owner' })).toEqual(err('role_delete', AT_OR_ABOVE))
    expect(await carol.error({ cmd: 'role_delete', name: 'user' })).toEqual(err('role_delete', 'Cannot delete system roles'))
    for (const name of ['owner', 'admin', 'user']) {
      expect(await owner.error({ cmd: 'role_delete', name })).toEqual(err('role_delete', 'Cannot delete system roles'))
    }
    expect(await carol.request({ cmd: 'role_delete', name: 'gamer' })).toMatchObject({ name: 'gamer', deleted: true })
    expect(Object.keys(await rolesOf(alice))).toEqual(['owner', 'admin', 'moderator', 'user', 'mgr'])
  })

  test.concurrent('a role still named in channel permissions is kept', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    await owner.request({ cmd: 'role_create', name: 'vip' })
    await server.addChannel({ name: 'lounge', type: 'text', permissions: { view: ['vip'] } })
    expect(await owner.error({ cmd: 'role_delete', name: 'vip' })).toEqual(err('role_delete', "Role is used in channel 'lounge' permissions"))
    expect((await rolesOf(owner)).vip).toBeDefined()
  })
})

describe('role_reorder', () => {
  test.concurrent('listed roles (names or IDs) take their index; the rest keep their position', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const userId = await idOf(server, 'user')
    const sent = [userId, 'moderator']

    expect(await owner.request({ cmd: 'role_reorder', roles: sent })).toEqual({ cmd: 'role_reorder', roles: sent })
    const { roles } = await alice.next('roles_list')
    expect(Object.fromEntries(Object.entries(roles).map(([name, r]: [string, any]) => [name, r.position]))).toEqual({
      user: 0,
      owner: 0,
      moderator: 1,
      admin: 1,
    })
  })

  test.concurrent('compat 17: one unknown entry changes nothing', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    expect(await owner.error({ cmd: 'role_reorder', roles: ['user', 'moderator', 'ghost'] })).toEqual(err('role_reorder', 'Failed to reorder roles'))
    expect(await owner.error({ cmd: 'role_reorder', roles: ['user', 5] })).toEqual(err('role_reorder', 'Failed to reorder roles'))
    await owner.expectNone('roles_list')
    expect(await rolesOf(owner)).toEqual(DEFAULT_ROLES)
  })

  test.concurrent('needs manage_roles, and below the owner only roles under your own move, and only there; bad input', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const carol = await withManager(server, owner)
    expect(await alice.error({ cmd: 'role_reorder', roles: ['user'] })).toEqual(denied('role_reorder'))
    for (const roles of [undefined, [], 'user', null]) {
      expect(await carol.error({ cmd: 'role_reorder', roles })).toEqual(err('role_reorder', 'Roles array is required'))
    }
    // carol's best role is moderator (position 2): it may not move, nor may anything rise to it.
    expect(await carol.error({ cmd: 'role_reorder', roles: ['owner', 'admin', 'user', 'moderator'] })).toEqual(err('role_reorder', AT_OR_ABOVE))
    expect(await carol.error({ cmd: 'role_reorder', roles: ['owner', 'admin', 'mgr', 'moderator', 'user'] })).toEqual(err('role_reorder', AT_OR_ABOVE))
    expect((await rolesOf(carol)).moderator.position).toBe(2)
    expect(await carol.request({ cmd: 'role_reorder', roles: ['owner', 'admin', 'moderator', 'mgr', 'user'] })).toMatchObject({ cmd: 'role_reorder' })
    const ranks = await rolesOf(carol)
    expect([ranks.moderator.position, ranks.mgr.position, ranks.user.position]).toEqual([2, 3, 4])
    // The owner answers to nobody.
    expect(await owner.request({ cmd: 'role_reorder', roles: ['owner', 'admin', 'user', 'moderator'] })).toMatchObject({ cmd: 'role_reorder' })
  })
})

describe('role_permissions_get and role_permissions_set', () => {
  test.concurrent('any user reads a role\'s permissions, named (compat 14)', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const id = await idOf(server, 'owner')
    expect(await alice.request({ cmd: 'role_permissions_get', name: 'owner' })).toEqual({ cmd: 'role_permissions_get', id, name: 'owner', permissions: ['administrator'] })
    expect(await alice.request({ cmd: 'role_permissions_get', id })).toEqual({ cmd: 'role_permissions_get', id, name: 'owner', permissions: ['administrator'] })
    expect(await alice.error({ cmd: 'role_permissions_get' })).toEqual(err('role_permissions_get', 'Role id or name is required'))
    expect(await alice.error({ cmd: 'role_permissions_get', name: 'ghost' })).toEqual(err('role_permissions_get', 'Role not found'))
  })

  test.concurrent('set replaces the list without a roles_list broadcast, and takes effect at once', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const id = await idOf(server, 'user')

    expect(await alice.error({ cmd: 'role_create', name: 'gamer' })).toEqual(denied('role_create'))
    expect(await owner.request({ cmd: 'role_permissions_set', name: 'user', permissions: ['manage_roles', 'not_a_permission'] })).toEqual({
      cmd: 'role_permissions_set',
      id,
      name: 'user',
      permissions: ['manage_roles', 'not_a_permission'],
      updated: true,
    })
    await owner.expectNone('roles_list')
    await alice.expectNone('roles_list')
    expect(await alice.request({ cmd: 'role_create', name: 'gamer' })).toMatchObject({ cmd: 'role_create', name: 'gamer' })
  })

  test.concurrent('permission, hierarchy and input checks in order', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const carol = await withManager(server, owner)
    expect(await alice.error({ cmd: 'role_permissions_set', name: 'user', permissions: [] })).toEqual(denied('role_permissions_set'))
    expect(await carol.error({ cmd: 'role_permissions_set', permissions: [] })).toEqual(err('role_permissions_set', 'Role id or name is required'))
    expect(await carol.error({ cmd: 'role_permissions_set', name: 'moderator', permissions: [] })).toEqual(err('role_permissions_set', AT_OR_ABOVE))
    expect(await carol.error({ cmd: 'role_permissions_set', name: 'mgr', permissions: 'all' })).toEqual(err('role_permissions_set', 'Permissions must be an array'))
    expect(await carol.error({ cmd: 'role_permissions_set', name: 'mgr', permissions: [1] })).toEqual(err('role_permissions_set', 'Permissions must be an array'))
    expect(await owner.error({ cmd: 'role_permissions_set', name: 'ghost', permissions: [] })).toEqual(err('role_permissions_set', 'Role not found'))
    expect(await carol.request({ cmd: 'role_permissions_set', name: 'user', permissions: ['speak'] })).toMatchObject({ name: 'user', permissions: ['speak'] })
  })
})

describe('self roles', () => {
  const selfAssignable = async (owner: TestClient, name: string, fields: Record<string, unknown> = {}) =>
    owner.request({ cmd: 'role_create', name, self_assignable: true, ...fields })

  test.concurrent('self_role_add appends the role; everyone authenticated gets user_roles_get', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const guest = await server.connect()
    await selfAssignable(owner, 'gamer', { color: '#00AA00' })

    expect(await alice.request({ cmd: 'self_role_add', role: 'gamer' })).toEqual({ cmd: 'self_role_add', role: 'gamer', success: true, roles: ['user', 'gamer'] })
    // Appended last, so alice keeps the colour of her first role.
    const broadcast = { cmd: 'user_roles_get', user: 'alice', roles: ['user', 'gamer'], color: null }
    expect(await alice.next('user_roles_get')).toEqual(broadcast)
    expect(await owner.next('user_roles_get')).toEqual(broadcast)
    await guestExpectNone(guest, 'user_roles_get')

    expect(await alice.request({ cmd: 'self_role_remove', role: 'gamer' })).toEqual({ cmd: 'self_role_remove', role: 'gamer', success: true, roles: ['user'] })
    expect(await owner.next('user_roles_get')).toEqual({ cmd: 'user_roles_get', user: 'alice', roles: ['user'], color: null })
  })

  test.concurrent('errors', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    await selfAssignable(owner, 'gamer')
    for (const cmd of ['self_role_add', 'self_role_remove']) {
      expect(await alice.error({ cmd })).toEqual(err(cmd, 'Role name is required'))
      expect(await alice.error({ cmd, role: 7 })).toEqual(err(cmd, 'Role name is required'))
      expect(await alice.error({ cmd, role: 'ghost' })).toEqual(err(cmd, 'Role not found'))
      expect(await alice.error({ cmd, role: 'user' })).toEqual(err(cmd, 'This role is not self-assignable'))
    }
    expect(await alice.error({ cmd: 'self_role_remove', role: 'gamer' })).toEqual(err('self_role_remove', "You don't have this role"))
    await alice.request({ cmd: 'self_role_add', role: 'gamer' })
    expect(await alice.error({ cmd: 'self_role_add', role: 'gamer' })).toEqual(err('self_role_add', 'You already have this role'))
  })

  test.concurrent('protected roles flagged self-assignable by old data are still refused', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    // Upstream never enforced the flag on protected roles, so imported data may carry it.
    await server.app.store.roles.update('admin', { self_assignable: true })
    expect(await alice.error({ cmd: 'self_role_add', role: 'admin' })).toEqual(err('self_role_add', 'This role is not self-assignable'))
    expect(await alice.request({ cmd: 'self_roles_list' })).toEqual({ cmd: 'self_roles_list', roles: [] })
  })

  test.concurrent('compat 14: self_roles_list names each self-assignable role and whether the caller has it', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const gamer = await selfAssignable(owner, 'gamer', { color: '#00AA00', description: 'Plays games' })
    const artist = await selfAssignable(owner, 'artist')
    await owner.request({ cmd: 'role_create', name: 'staff' })
    await alice.request({ cmd: 'self_role_add', role: 'artist' })
    expect(await alice.request({ cmd: 'self_roles_list' })).toEqual({
      cmd: 'self_roles_list',
      roles: [
        { ...role({ id: gamer.id, color: '#00AA00', description: 'Plays games', self_assignable: true, position: 4 }), name: 'gamer', assigned: false },
        { ...role({ id: artist.id, self_assignable: true, position: 5 }), name: 'artist', assigned: true },
      ],
    })
  })

  test.concurrent('a self role opening a private channel subscribes and unsubscribes at once; modlog records both', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    await selfAssignable(owner, 'gamer')
    await server.addChannel({ name: 'games', type: 'text', permissions: { view: ['owner', 'gamer'], send: ['owner'] } })

    await posted(owner, 'games', 'before')
    await alice.expectNone('message_new')
    await alice.request({ cmd: 'self_role_add', role: 'gamer' })
    await alice.expectNone('message_new')
    await posted(owner, 'games', 'member now')
    expect((await alice.next('message_new')).message.content).toBe('member now')

    await alice.request({ cmd: 'self_role_remove', role: 'gamer' })
    await alice.expectNone('message_new')
    await posted(owner, 'games', 'gone')
    await alice.expectNone('message_new')

    const { entries } = await server.app.store.modlog.list({ limit: 10, offset: 0, category: 'role_management' })
    expect(entries.map((e) => [e.action, e.actor_name, e.target_name, e.details])).toEqual([
      ['self_role_remove', 'alice', 'alice', { role: 'gamer' }],
      ['self_role_add', 'alice', 'alice', { role: 'gamer' }],
      ['role_create', 'owner', 'gamer', { color: null, permissions: [] }],
    ])
  })
})

describe('user_roles_get', () => {
  test.concurrent('any user reads anyone\'s roles and colour', async () => {
    await using server = await startServer()
    await server.login('owner')
    const alice = await server.login('alice')
    expect(await alice.request({ cmd: 'user_roles_get', user: 'owner' })).toEqual({ cmd: 'user_roles_get', user: 'owner', roles: ['owner', 'user'], color: '#9400D3' })
    expect(await alice.error({ cmd: 'user_roles_get' })).toEqual(err('user_roles_get', 'User parameter is required'))
    expect(await alice.error({ cmd: 'user_roles_get', user: 3 })).toEqual(err('user_roles_get', 'User parameter is required'))
    expect(await alice.error({ cmd: 'user_roles_get', user: 'nobody' })).toEqual(err('user_roles_get', 'User not found'))
  })
})

describe('user_roles_set', () => {
  test.concurrent('replaces the list; the reply is the global broadcast every authenticated socket gets', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const guest = await server.connect()

    const packet = { cmd: 'user_roles_get', user: 'alice', roles: ['moderator', 'user'], color: '#FFFF00', global: true }
    expect(await setRoles(owner, 'alice', ['moderator', 'user'])).toEqual(packet)
    expect(await alice.next('user_roles_get')).toEqual(packet)
    expect(await bob.next('user_roles_get')).toEqual(packet)
    await guestExpectNone(guest, 'user_roles_get')
    await owner.expectNone('user_roles_get')

    await settled(owner)
    const { entries } = await server.app.store.modlog.list({ limit: 10, offset: 0 })
    expect(entries).toEqual([
      expect.objectContaining({ action: 'user_roles_set', category: 'user_moderation', actor_name: 'owner', target_name: 'alice', details: { roles: ['moderator', 'user'] } }),
    ])

    await server.restart()
    const carl = await server.login('carl')
    expect(await userRoles(carl, 'alice')).toEqual({ cmd: 'user_roles_get', user: 'alice', roles: ['moderator', 'user'], color: '#FFFF00' })
  })

  test.concurrent('needs manage_users; input checks in order', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    const carol = await withManager(server, owner)
    await alice.next('user_roles_get', (p) => p.user === 'carol')
    expect(await alice.error({ cmd: 'user_roles_set', user: 'alice', roles: ['admin'] })).toEqual(denied('user_roles_set', 'manage_users'))
    // manage_roles alone is not enough.
    expect(await carol.error({ cmd: 'user_roles_set', user: 'alice', roles: ['user'] })).toEqual(denied('user_roles_set', 'manage_users'))
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ roles: ['user'] }, 'User parameter is required'],
      [{ user: 5, roles: ['user'] }, 'User parameter is required'],
      [{ user: 'alice' }, 'Roles list is required'],
      [{ user: 'alice', roles: [] }, 'Roles list is required'],
      [{ user: 'alice', roles: 'user' }, 'Roles list is required'],
      [{ user: 'nobody', roles: ['user'] }, 'User not found'],
      [{ user: 'alice', roles: ['user', 'ghost'] }, "Role 'ghost' does not exist"],
      [{ user: 'alice', roles: ['user', 'ghost'] }, "Role 'ghost' does not exist"],
    ]
    for (const [fields, val] of cases) expect(await owner.error({ cmd: 'user_roles_set', ...fields })).toEqual(err('user_roles_set', val))
    await alice.expectNone('user_roles_get')
  })

  test.concurrent('compat 16: the hierarchy applies to every added or removed role; only the owner grants owner', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    await server.login('alice')
    await server.login('dave')
    await server.setRoles('dave', ['admin', 'user'])
    const dave = await server.login('dave')
    await owner.request({ cmd: 'role_create', name: 'hr', permissions: ['manage_users'] })
    await server.login('hank')
    await server.setRoles('hank', ['hr', 'user'])
    const hank = await server.login('hank')

    const refused = (val: string) => err('user_roles_set', val)
    // Upstream let any manage_users holder grant anything, owner included.
    expect(await dave.error({ cmd: 'user_roles_set', user: 'alice', roles: ['owner', 'user'] })).toEqual(refused(AT_OR_ABOVE))
    expect(await dave.error({ cmd: 'user_roles_set', user: 'alice', roles: ['admin', 'user'] })).toEqual(refused(AT_OR_ABOVE))
    expect(await dave.error({ cmd: 'user_roles_set', user: 'dave', roles: ['user'] })).toEqual(refused(AT_OR_ABOVE))
    expect(await dave.error({ cmd: 'user_roles_set', user: 'owner', roles: ['owner', 'user', 'moderator'] })).toEqual(
      refused('Cannot modify roles of the server owner'),
    )
    expect(await hank.error({ cmd: 'user_roles_set', user: 'alice', roles: ['hr', 'user'] })).toEqual(refused("Missing 'manage_roles' permission"))
    expect((await userRoles(owner, 'alice')).roles).toEqual(['user'])

    expect(await setRoles(dave, 'alice', ['moderator', 'user'])).toMatchObject({ roles: ['moderator', 'user'] })
    // Reordering the same roles adds and removes nothing, so no hierarchy check applies.
    expect(await setRoles(dave, 'dave', ['user', 'admin'])).toMatchObject({ roles: ['user', 'admin'] })
    expect(await setRoles(owner, 'alice', ['owner', 'user'])).toMatchObject({ roles: ['owner', 'user'], color: '#9400D3' })
  })

  test.concurrent('a role that can view a private channel subscribes at once, and removing it unsubscribes at once', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    await owner.request({ cmd: 'role_create', name: 'vip' })
    await server.addChannel({ name: 'vip-lounge', type: 'text', permissions: { view: ['owner', 'vip'], send: ['owner', 'vip'] } })

    await posted(owner, 'vip-lounge', 'secret 1')
    await alice.expectNone('message_new')
    expect(await alice.error({ cmd: 'message_new', channel: 'vip-lounge', content: 'let me in' })).toMatchObject({ cmd: 'error' })

    const names = (packet: { [key: string]: any }) => packet.val.map((channel: { name: string }) => channel.name)
    alice.drain('channels_get')
    await setRoles(owner, 'alice', ['vip', 'user'])
    // Her client learns about the channel it can now see without asking.
    expect(names(await alice.next('channels_get'))).toEqual(['general', 'vip-lounge'])
    await owner.expectNone('channels_get')
    await posted(owner, 'vip-lounge', 'secret 2')
    expect(await alice.next('message_new')).toMatchObject({ channel: 'vip-lounge', message: { content: 'secret 2' } })
    await posted(alice, 'vip-lounge', 'thanks')
    expect((await owner.next('message_new', (p) => p.message.content === 'thanks')).channel).toBe('vip-lounge')

    await setRoles(owner, 'alice', ['user'])
    expect(names(await alice.next('channels_get'))).toEqual(['general'])
    await posted(owner, 'vip-lounge', 'secret 3')
    await alice.expectNone('message_new')
  })
})

describe('no escalation through role management', () => {
  const GRANT = (permission: string) => `Cannot grant permission '${permission}' you do not have`

  test.concurrent('a manage_roles holder grants only permissions it holds, on every path that sets permissions', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const carol = await withManager(server, owner)
    expect(await carol.error({ cmd: 'role_create', name: 'sneaky', permissions: ['administrator'] })).toEqual(err('role_create', GRANT('administrator')))
    expect(await carol.error({ cmd: 'role_update', name: 'mgr', permissions: ['manage_roles', 'manage_server'] })).toEqual(err('role_update', GRANT('manage_server')))
    expect(await carol.error({ cmd: 'role_set', name: 'mgr', data: { permissions: ['administrator'] } })).toEqual(err('role_set', GRANT('administrator')))
    expect(await carol.error({ cmd: 'role_permissions_set', name: 'user', permissions: ['send_messages', 'manage_users'] })).toEqual(
      err('role_permissions_set', GRANT('manage_users')),
    )
    // Permissions the caller holds, or that the role already had, pass.
    expect(await carol.request({ cmd: 'role_create', name: 'helper', permissions: ['manage_roles'] })).toMatchObject({ name: 'helper' })
    expect(await carol.request({ cmd: 'role_permissions_set', name: 'user', permissions: ['send_messages', 'manage_messages'] })).toMatchObject({
      permissions: ['send_messages', 'manage_messages'],
    })
    const roles = await rolesOf(owner)
    expect(roles.mgr.permissions).toEqual(['manage_roles'])
    expect(roles.sneaky).toBeUndefined()
    // Administrators hold every permission, so they may grant any.
    const admin = await server.login('adam')
    await setRoles(owner, 'adam', ['admin'])
    await admin.next('user_roles_get', (p) => p.user === 'adam')
    expect(await admin.request({ cmd: 'role_create', name: 'ops', permissions: ['administrator'] })).toMatchObject({ name: 'ops' })
  })

  test.concurrent('role_set moves a role only below the caller', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const carol = await withManager(server, owner)
    // carol's best role is moderator, at position 2.
    for (const position of [0, 1, 2]) {
      expect(await carol.error({ cmd: 'role_set', name: 'mgr', data: { position } })).toEqual(err('role_set', AT_OR_ABOVE))
    }
    expect(await carol.request({ cmd: 'role_set', name: 'mgr', data: { position: 3 } })).toMatchObject({ name: 'mgr', updated: true })
    expect((await rolesOf(owner)).mgr.position).toBe(3)
    expect(await owner.request({ cmd: 'role_set', name: 'mgr', data: { position: 0 } })).toMatchObject({ updated: true })
  })

  test.concurrent('the banned role is only changed by ban and unban', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    await (await server.login('alice')).close()
    const RESERVED = "Role name 'banned' is reserved"
    const BAN_ONLY = "The 'banned' role is changed only by user_ban and user_unban"
    expect(await owner.error({ cmd: 'role_create', name: 'banned' })).toEqual(err('role_create', RESERVED))
    const { id } = await owner.request({ cmd: 'role_create', name: 'gamer' })
    expect(await owner.error({ cmd: 'role_update', id, name: 'banned' })).toEqual(err('role_update', RESERVED))
    expect(await owner.error({ cmd: 'user_roles_set', user: 'alice', roles: ['banned', 'user'] })).toEqual(err('user_roles_set', BAN_ONLY))
    await owner.request({ cmd: 'user_ban', user: 'alice' })
    expect(await owner.error({ cmd: 'user_roles_set', user: 'alice', roles: ['user'] })).toEqual(err('user_roles_set', BAN_ONLY))
    expect((await server.app.store.users.get('rotur-alice'))?.roles).toEqual(['banned', 'user'])
    expect(await owner.request({ cmd: 'user_unban', user: 'alice' })).toMatchObject({ unbanned: true })
    expect((await server.app.store.users.get('rotur-alice'))?.roles).toEqual(['user'])
  })
})
