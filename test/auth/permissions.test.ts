import { describe, expect, test } from 'bun:test'
import {
  PERMISSIONS,
  canSeeInList,
  channelAllows,
  colorOf,
  grantError,
  hasPermission,
  isBanned,
  positionError,
  userManagementError,
  type ChannelKey,
} from '../../src/auth/permissions.ts'
import type { ChannelRecord, RoleRecord } from '../../src/store/types.ts'

const role = (name: string, permissions: string[], color: string | null = null): RoleRecord => ({
  name,
  id: `id-${name}`,
  description: '',
  color,
  hoisted: false,
  permissions,
  self_assignable: false,
  category: null,
  position: 0,
})

const ROLES = new Map<string, RoleRecord>(
  [
    role('owner', ['administrator'], '#9400D3'),
    role('admin', ['administrator', 'manage_roles'], '#FF0000'),
    role('moderator', ['manage_messages', 'manage_threads'], '#FFFF00'),
    role('user', ['send_messages', 'read_message_history']),
    role('boss', []),
  ].map((r) => [r.name, r]),
)

const channel = (permissions?: Record<string, string[]>): ChannelRecord => ({ name: 'c', type: 'text', ...(permissions && { permissions }) })

describe('channelAllows: general evaluator (view, send, delete, create_thread)', () => {
  const general = channel({ view: ['user'], send: ['user', '!muted'], delete: ['admin', 'moderator'], create_thread: ['user'] })

  test('allows a listed role and denies an unlisted one', () => {
    expect(channelAllows(general, 'view', ['user'])).toBe(true)
    expect(channelAllows(general, 'view', ['guest'])).toBe(false)
    expect(channelAllows(general, 'delete', ['user'])).toBe(false)
    expect(channelAllows(general, 'delete', ['user', 'moderator'])).toBe(true)
    expect(channelAllows(general, 'view', [])).toBe(false)
  })

  test('walks the user roles in order: the first blocked or allowed role decides', () => {
    expect(channelAllows(general, 'send', ['muted', 'user'])).toBe(false)
    expect(channelAllows(general, 'send', ['user', 'muted'])).toBe(true)
    const list = channel({ view: ['!banned', 'user'] })
    expect(channelAllows(list, 'view', ['banned', 'user'])).toBe(false)
    expect(channelAllows(list, 'view', ['user', 'banned'])).toBe(true)
    expect(channelAllows(list, 'view', ['banned'])).toBe(false)
  })

  test('a missing key denies everyone, owner included', () => {
    const viewOnly = channel({ view: ['user'] })
    expect(channelAllows(viewOnly, 'send', ['owner', 'user'])).toBe(false)
    expect(channelAllows(viewOnly, 'create_thread', ['owner'])).toBe(false)
  })

  test('no owner bypass: owner passes only where listed', () => {
    expect(channelAllows(general, 'view', ['owner'])).toBe(false)
    expect(channelAllows(channel({ view: ['owner'] }), 'view', ['owner'])).toBe(true)
  })

  test('an unknown channel or an empty permissions object uses the owner-only fallback', () => {
    for (const target of [undefined, channel({}), channel()]) {
      for (const key of ['view', 'send', 'delete', 'create_thread'] as ChannelKey[]) {
        expect(channelAllows(target, key, ['owner'])).toBe(true)
        expect(channelAllows(target, key, ['user', 'admin'])).toBe(false)
      }
    }
  })
})

describe('channelAllows: simple evaluator (delete_own, edit_own, react, pin)', () => {
  test('any listed role allows; no negation', () => {
    const c = channel({ view: ['user'], react: ['member', '!user'], pin: ['moderator'] })
    expect(channelAllows(c, 'react', ['user', 'member'])).toBe(true)
    expect(channelAllows(c, 'react', ['user'])).toBe(false)
    expect(channelAllows(c, 'pin', ['user', 'moderator'])).toBe(true)
    expect(channelAllows(c, 'pin', ['owner'])).toBe(false)
  })

  test('missing keys fall back to user for delete_own/edit_own/react and owner for pin', () => {
    const c = channel({ view: ['user'] })
    for (const key of ['delete_own', 'edit_own', 'react'] as ChannelKey[]) {
      expect(channelAllows(c, key, ['user'])).toBe(true)
      // The hard-coded role name `user`: other roles do not pass.
      expect(channelAllows(c, key, ['member'])).toBe(false)
      expect(channelAllows(c, key, ['owner'])).toBe(false)
    }
    expect(channelAllows(c, 'pin', ['owner'])).toBe(true)
    expect(channelAllows(c, 'pin', ['user', 'admin'])).toBe(false)
  })

  test('an unknown channel denies', () => {
    for (const key of ['delete_own', 'edit_own', 'react', 'pin'] as ChannelKey[]) {
      expect(channelAllows(undefined, key, ['owner', 'user'])).toBe(false)
    }
  })
})

describe('canSeeInList', () => {
  test("uses the channel's own view list with negation", () => {
    expect(canSeeInList(channel({ view: ['user'] }), ['user'])).toBe(true)
    expect(canSeeInList(channel({ view: ['user'] }), ['guest'])).toBe(false)
    expect(canSeeInList(channel({ view: ['!banned', 'user'] }), ['banned', 'user'])).toBe(false)
    expect(canSeeInList(channel({ view: ['user', '!banned'] }), ['user', 'banned'])).toBe(true)
  })

  test('has no fallback: a channel without view is invisible to everyone, owner included', () => {
    expect(canSeeInList(channel(), ['owner'])).toBe(false)
    expect(canSeeInList(channel({}), ['owner'])).toBe(false)
    expect(canSeeInList(channel({ send: ['owner'] }), ['owner', 'user'])).toBe(false)
  })
})

describe('hasPermission', () => {
  test('a role holding the permission grants it', () => {
    expect(hasPermission(['moderator'], 'manage_messages', ROLES)).toBe(true)
    expect(hasPermission(['user', 'moderator'], 'manage_threads', ROLES)).toBe(true)
    expect(hasPermission(['user'], 'manage_messages', ROLES)).toBe(false)
  })

  test('the owner role passes every check, whatever its stored permissions', () => {
    const stripped = new Map(ROLES)
    stripped.set('owner', role('owner', []))
    expect(hasPermission(['owner'], 'manage_roles', stripped)).toBe(true)
    expect(hasPermission(['user', 'owner'], 'view_audit_log', new Map())).toBe(true)
  })

  test('administrator on any role passes every check', () => {
    expect(hasPermission(['admin'], 'view_audit_log', ROLES)).toBe(true)
    expect(hasPermission(['user', 'admin'], 'manage_channels', ROLES)).toBe(true)
  })

  test('no roles or unknown roles grant nothing', () => {
    expect(hasPermission([], 'send_messages', ROLES)).toBe(false)
    expect(hasPermission(['ghost'], 'send_messages', ROLES)).toBe(false)
    expect(hasPermission(['boss'], 'manage_server', ROLES)).toBe(false)
  })
})

describe('colorOf', () => {
  test('is the colour of the first role', () => {
    expect(colorOf(['moderator', 'admin'], ROLES)).toBe('#FFFF00')
    expect(colorOf(['admin', 'moderator'], ROLES)).toBe('#FF0000')
  })

  test('is null for a colourless, unknown or missing first role', () => {
    expect(colorOf(['user', 'admin'], ROLES)).toBeNull()
    expect(colorOf(['ghost', 'admin'], ROLES)).toBeNull()
    expect(colorOf([], ROLES)).toBeNull()
  })
})

test('isBanned and the permission list', () => {
  expect(isBanned(['banned', 'user'])).toBe(true)
  expect(isBanned(['user'])).toBe(false)
  expect(PERMISSIONS).toHaveLength(20)
  expect(PERMISSIONS[0]).toBe('administrator')
  expect(PERMISSIONS[19]).toBe('use_slash_commands')
})

describe('grants, positions and managing users', () => {
  const ranked = (name: string, permissions: string[], position: number) => ({ ...role(name, permissions), position })
  const HIERARCHY = new Map<string, RoleRecord>(
    [
      ranked('owner', ['administrator'], 0),
      ranked('admin', ['administrator'], 1),
      ranked('staff', ['manage_roles', 'manage_users'], 2),
      ranked('user', ['send_messages'], 3),
    ].map((r) => [r.name, r]),
  )

  test('grantError: only new permissions the actor lacks are refused; administrators lack none', () => {
    expect(grantError(['staff'], ['manage_roles', 'send_messages'], ['send_messages'], HIERARCHY)).toBeUndefined()
    expect(grantError(['staff'], ['manage_server'], [], HIERARCHY)).toBe("Cannot grant permission 'manage_server' you do not have")
    expect(grantError(['staff'], ['manage_server'], ['manage_server'], HIERARCHY)).toBeUndefined()
    expect(grantError(['admin'], ['administrator', 'manage_server'], [], HIERARCHY)).toBeUndefined()
    expect(grantError(['owner'], ['anything'], [], HIERARCHY)).toBeUndefined()
  })

  test('positionError: below the owner, only strictly under the actor’s best role', () => {
    expect(positionError(['staff', 'user'], 3, HIERARCHY)).toBeUndefined()
    expect(positionError(['staff', 'user'], 2, HIERARCHY)).toBe('Cannot manage roles at or above your position')
    expect(positionError(['staff'], 0, HIERARCHY)).toBe('Cannot manage roles at or above your position')
    expect(positionError(['owner'], 0, HIERARCHY)).toBeUndefined()
  })

  test('userManagementError: the owner manages all; others only users ranked under them, never an owner', () => {
    expect(userManagementError(['owner'], ['owner', 'user'], HIERARCHY)).toBeUndefined()
    expect(userManagementError(['admin'], ['owner'], HIERARCHY)).toBe('Cannot update the server owner')
    expect(userManagementError(['staff'], ['user'], HIERARCHY)).toBeUndefined()
    expect(userManagementError(['staff'], ['guest'], HIERARCHY)).toBeUndefined()
    expect(userManagementError(['staff'], ['staff', 'user'], HIERARCHY)).toBe('Cannot manage users at or above your position')
    expect(userManagementError(['staff'], ['admin'], HIERARCHY)).toBe('Cannot manage users at or above your position')
  })
})
