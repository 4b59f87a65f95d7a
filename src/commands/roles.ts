import { Type as T, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import {
  BANNED_ROLE,
  NOT_SELF_ASSIGNABLE,
  SYSTEM_ROLES,
  grantError,
  positionError,
  reorderError,
  roleAssignmentError,
  roleManagementError,
} from '../auth/permissions.ts'
import { topics } from '../net/topics.ts'
import { defineCommand, type Effects, type UserContext } from '../protocol/command.ts'
import { E, fail, type Packet } from '../protocol/errors.ts'
import { describeSchemaError } from '../protocol/schema-errors.ts'
import type { RoleRecord, Store, UserRecord } from '../store/types.ts'
import { userSummary } from '../views/user.ts'

/**
 * Roles and who holds them (commands.md §8.8–8.9, §9). Who may act is declared in `requires`
 * and decided by auth/permissions.ts; handlers only pick the role the hierarchy is asked about.
 */

const Str = T.Optional(T.Union([T.String(), T.Null()]))
const Bool = T.Optional(T.Union([T.Boolean(), T.Null()]))
const Names = T.Optional(T.Union([T.Array(T.String()), T.Null()]))
/** Checked by the command itself, so its own error text and order apply. */
const Loose = T.Optional(T.Unknown())

const Selector = T.Object({ id: Str, name: Str })
type Selector = Static<typeof Selector>

const ROLE_MANAGER = { permission: 'manage_roles' } as const

// ---------------------------------------------------------------------------------------------
// Shared steps

/** `roles_list`: every role keyed by name, without the name inside (data.md §5.1). */
async function rolesList(store: Store): Promise<Packet> {
  const roles: Record<string, Omit<RoleRecord, 'name'>> = {}
  for (const { name, ...role } of await store.roles.list()) roles[name] = role
  return { cmd: 'roles_list', roles }
}

/** The role changes reach every authenticated socket, the caller's included. */
const announceRoles = async (store: Store) => ({ topic: topics.users, packet: await rolesList(store) })

/** `id` wins over `name`; either may be sent. */
async function findRole(store: Store, p: Selector): Promise<RoleRecord | undefined> {
  if (p.id) return (await store.roles.list()).find((role) => role.id === p.id)
  return p.name ? store.roles.get(p.name) : undefined
}

/**
 * The selected role, once the caller passed the hierarchy check for it (an unknown role is
 * checked by the name or ID as sent, which is how the hierarchy reports it); undefined if unknown.
 */
async function findManagedRole(ctx: UserContext, p: Selector): Promise<RoleRecord | undefined> {
  const role = await findRole(ctx.store, p)
  await checkHierarchy(ctx, role?.name ?? (p.id || p.name)!)
  return role
}

function requireSelector(p: Selector) {
  if (!p.id && !p.name) fail('Role id or name is required')
}

/** The hierarchy of data.md §5.3 for the named role (an unknown selector names itself). */
async function checkHierarchy(ctx: UserContext, target: string) {
  const error = roleManagementError(ctx.user.roles, target, await ctx.roles())
  if (error) fail(error)
}

/** The first channel whose role lists mention `role` (allowed or `!denied`); `deny` lists permissions. */
async function channelUsing(store: Store, role: string): Promise<string | undefined> {
  for (const channel of await store.channels.list()) {
    const lists = Object.entries(channel.permissions ?? {}).filter(([key]) => key !== 'deny')
    if (lists.some(([, list]) => list.includes(role) || list.includes(`!${role}`))) return channel.name
  }
  return undefined
}

/** Users holding the role: their subscriptions are recomputed whenever the role changes. */
async function holders(store: Store, role: string): Promise<string[]> {
  return (await store.users.list()).filter((user) => user.roles.includes(role)).map((user) => user.id)
}

const isProtectedFromSelf = (name: string) => (NOT_SELF_ASSIGNABLE as readonly string[]).includes(name)

/**
 * Applies `patch` to `role` with the guards upstream meant to have (compat-notes §3.14–15): a
 * rename refuses system roles, taken names and roles that channel lists still reference (users'
 * lists follow the rename in the store); protected roles never become self-assignable.
 */
async function changeRole(ctx: UserContext, role: RoleRecord, patch: Partial<RoleRecord>): Promise<RoleRecord> {
  const renamed = patch.name !== undefined && patch.name !== role.name
  if (renamed) {
    if ((SYSTEM_ROLES as readonly string[]).includes(role.name)) fail('Cannot rename system roles')
    checkRoleName(patch.name!)
    if (await ctx.store.roles.get(patch.name!)) fail('Role already exists')
    const channel = await channelUsing(ctx.store, role.name)
    if (channel) fail(`Cannot rename role: it is used in channel '${channel}' permissions`)
  } else {
    delete patch.name
  }
  const next = { ...role, ...patch }
  if (next.self_assignable && (patch.self_assignable || renamed) && isProtectedFromSelf(next.name)) fail(`Role '${next.name}' cannot be made self-assignable`)
  const known = await ctx.roles()
  if (patch.permissions) checkGrant(ctx, patch.permissions, role.permissions, known)
  if (patch.position !== undefined && patch.position !== role.position) {
    const error = positionError(ctx.user.roles, patch.position, known)
    if (error) fail(error)
  }
  const updated = await ctx.store.roles.update(role.name, patch)
  if (!updated) return fail('Role not found after update')
  return updated
}

/** Effects every successful role edit shares: the new list for all, fresh subscriptions for holders. */
async function roleEdited(ctx: UserContext, role: RoleRecord, reply: Packet, details: Record<string, unknown>): Promise<Effects> {
  return {
    reply,
    publish: [await announceRoles(ctx.store)],
    refreshAccess: await holders(ctx.store, role.name),
    audit: [{ action: 'role_update', target_id: role.id, target_name: role.name, details }],
    events: [{ name: 'role_update', data: { role_id: role.id, role_name: role.name, description: role.description, color: role.color } }],
  }
}

/** `user_roles_get` form of a user; `global` only on `user_roles_set`'s broadcast. */
async function userRoles(ctx: UserContext, user: UserRecord): Promise<Packet> {
  const { username, roles, color } = userSummary(user, await ctx.roles())
  return { cmd: 'user_roles_get', user: username, roles, color }
}

/** `banned` is a state, not a role: a role of that name would let role edits ban and unban. */
function checkRoleName(name: string) {
  if (name === BANNED_ROLE) fail(`Role name '${BANNED_ROLE}' is reserved`)
}

function checkGrant(ctx: UserContext, next: readonly string[], previous: readonly string[], known: ReadonlyMap<string, RoleRecord>) {
  const error = grantError(ctx.user.roles, next, previous, known)
  if (error) fail(error)
}

const isStringList = (value: unknown): value is string[] => Array.isArray(value) && value.every((item) => typeof item === 'string')

// ---------------------------------------------------------------------------------------------
// §9.1–9.8 Role definitions

export const rolesListCommand = defineCommand({
  cmd: 'roles_list',
  schema: T.Object({}),
  run: async (ctx) => ({ reply: await rolesList(ctx.store) }),
})

export const roleCreate = defineCommand({
  cmd: 'role_create',
  throttle: true,
  schema: T.Object({
    name: Loose,
    description: Str,
    color: Str,
    permissions: Names,
    hoisted: Bool,
    self_assignable: Bool,
    category: Str,
  }),
  requires: ROLE_MANAGER,
  async validate(ctx, p) {
    if (typeof p.name !== 'string' || p.name === '') fail('Role name is required')
    checkRoleName(p.name)
    if (p.self_assignable && isProtectedFromSelf(p.name)) fail(`Role '${p.name}' cannot be made self-assignable`)
    if (await ctx.store.roles.get(p.name)) fail('Role already exists')
  },
  async run(ctx, p) {
    checkGrant(ctx, p.permissions ?? [], [], await ctx.roles())
    const role: RoleRecord = {
      name: p.name as string,
      id: crypto.randomUUID(),
      description: p.description || '',
      color: p.color || null,
      hoisted: p.hoisted ?? false,
      permissions: p.permissions || [],
      self_assignable: p.self_assignable ?? false,
      category: p.category ?? null,
      // New roles rank last; `position` is not accepted here (role_reorder / role_set move them).
      position: await ctx.store.roles.count(),
    }
    await ctx.store.roles.insert(role)
    return {
      reply: { cmd: 'role_create', id: role.id, name: role.name },
      publish: [await announceRoles(ctx.store)],
      audit: [{ action: 'role_create', target_id: role.id, target_name: role.name, details: { color: role.color, permissions: role.permissions } }],
      events: [{ name: 'role_create', data: { role_id: role.id, role_name: role.name, description: role.description, color: role.color } }],
    }
  },
})

export const roleUpdate = defineCommand({
  cmd: 'role_update',
  throttle: true,
  schema: T.Object({
    id: Str,
    name: Str,
    description: Str,
    color: Str,
    hoisted: Bool,
    self_assignable: Bool,
    permissions: Names,
    category: Str,
  }),
  requires: ROLE_MANAGER,
  validate: (_ctx, p) => requireSelector(p),
  async run(ctx, p) {
    const role = await findManagedRole(ctx, p)
    if (!role) return fail('Role not found')
    const patch: Partial<RoleRecord> = {}
    // `name` renames only when `id` selects the role; otherwise it is the selector.
    if (p.id && p.name) patch.name = p.name
    if (p.description != null) patch.description = p.description
    if ('color' in p) patch.color = p.color ?? null
    if (p.hoisted != null) patch.hoisted = p.hoisted
    if (p.self_assignable != null) patch.self_assignable = p.self_assignable
    if (p.permissions != null) patch.permissions = p.permissions
    if ('category' in p) patch.category = p.category ?? null
    const updated = await changeRole(ctx, role, patch)
    const reply = { cmd: 'role_update', id: updated.id, name: updated.name, updated: true }
    return roleEdited(ctx, updated, reply, { color: updated.color, permissions: updated.permissions })
  },
})

const RoleData = T.Object({
  name: T.Optional(T.String({ minLength: 1 })),
  description: T.Optional(T.String()),
  color: T.Optional(T.Union([T.String(), T.Null()])),
  hoisted: T.Optional(T.Boolean()),
  permissions: T.Optional(T.Array(T.String())),
  self_assignable: T.Optional(T.Boolean()),
  category: T.Optional(T.Union([T.String(), T.Null()])),
  position: T.Optional(T.Integer({ minimum: 0 })),
})
const roleDataCheck = TypeCompiler.Compile(RoleData)

/** `role_set`'s `data`, with a bad field named `data.<field>`. */
function checkRoleData(data: unknown): asserts data is Static<typeof RoleData> {
  if (roleDataCheck.Check(data)) return
  const first = roleDataCheck.Errors(data).First()
  fail(describeSchemaError(first && { ...first, path: `/data${first.path}` }))
}

/** `role_update` with the changes in `data`, which may also move the role (`position`). */
export const roleSet = defineCommand({
  cmd: 'role_set',
  throttle: true,
  schema: T.Object({ id: Str, name: Str, data: Loose }),
  requires: ROLE_MANAGER,
  validate: (_ctx, p) => requireSelector(p),
  async run(ctx, p) {
    const role = await findManagedRole(ctx, p)
    const data = p.data
    if (!data || typeof data !== 'object' || Array.isArray(data) || Object.keys(data).length === 0) fail('Role data is required')
    checkRoleData(data)
    if (!role) return fail('Role not found')
    const { name, description, color, hoisted, permissions, self_assignable, category, position } = data
    const patch = Object.fromEntries(
      Object.entries({ name, description, color, hoisted, permissions, self_assignable, category, position }).filter(([, v]) => v !== undefined),
    ) as Partial<RoleRecord>
    const updated = await changeRole(ctx, role, patch)
    const reply = { cmd: 'role_set', id: updated.id, name: updated.name, updated: true }
    return roleEdited(ctx, updated, reply, data)
  },
})

export const roleDelete = defineCommand({
  cmd: 'role_delete',
  throttle: true,
  schema: Selector,
  requires: ROLE_MANAGER,
  validate: (_ctx, p) => requireSelector(p),
  async run(ctx, p) {
    const role = await findRole(ctx.store, p)
    if (!role) return fail('Role not found')
    await checkHierarchy(ctx, role.name)
    if ((SYSTEM_ROLES as readonly string[]).includes(role.name)) fail('Cannot delete system roles')
    const channel = await channelUsing(ctx.store, role.name)
    if (channel) fail(`Role is used in channel '${channel}' permissions`)
    const affected = await holders(ctx.store, role.name)
    await ctx.store.roles.delete(role.name)
    return {
      reply: { cmd: 'role_delete', id: role.id, name: role.name, deleted: true },
      publish: [await announceRoles(ctx.store)],
      refreshAccess: affected,
      audit: [{ action: 'role_delete', target_id: role.id, target_name: role.name }],
      events: [{ name: 'role_delete', data: { role_id: role.id, role_name: role.name } }],
    }
  },
})

/** Listed roles (names or IDs) take their index as position, all or none (compat-notes §3.17). */
export const roleReorder = defineCommand({
  cmd: 'role_reorder',
  throttle: true,
  schema: T.Object({ roles: Loose }),
  requires: ROLE_MANAGER,
  validate(_ctx, p) {
    if (!Array.isArray(p.roles) || p.roles.length === 0) fail('Roles array is required')
  },
  async run(ctx, p) {
    const sent = p.roles as unknown[]
    const known = await ctx.store.roles.list()
    const names = sent.map((entry) => known.find((role) => role.name === entry) ?? known.find((role) => role.id === entry))
    if (names.some((role) => role === undefined)) fail('Failed to reorder roles')
    const order = names.map((role) => role!.name)
    const refused = reorderError(ctx.user.roles, order, await ctx.roles())
    if (refused) fail(refused)
    if (!(await ctx.store.roles.reorder(order))) fail('Failed to reorder roles')
    return {
      reply: { cmd: 'role_reorder', roles: sent },
      publish: [await announceRoles(ctx.store)],
      audit: [{ action: 'role_reorder', details: { roles: sent } }],
    }
  },
})

export const rolePermissionsGet = defineCommand({
  cmd: 'role_permissions_get',
  schema: Selector,
  validate: (_ctx, p) => requireSelector(p),
  async run(ctx, p) {
    const role = await findRole(ctx.store, p)
    if (!role) return fail('Role not found')
    return { reply: { cmd: 'role_permissions_get', id: role.id, name: role.name, permissions: role.permissions } }
  },
})

/** Replaces a role's permission list; names are not validated, and no `roles_list` follows. */
export const rolePermissionsSet = defineCommand({
  cmd: 'role_permissions_set',
  throttle: true,
  schema: T.Object({ id: Str, name: Str, permissions: Loose }),
  requires: ROLE_MANAGER,
  validate: (_ctx, p) => requireSelector(p),
  async run(ctx, p) {
    const role = await findManagedRole(ctx, p)
    if (!role) return fail('Role not found')
    if (!isStringList(p.permissions)) return fail('Permissions must be an array')
    checkGrant(ctx, p.permissions, role.permissions, await ctx.roles())
    const updated = (await ctx.store.roles.update(role.name, { permissions: p.permissions }))!
    return {
      reply: { cmd: 'role_permissions_set', id: updated.id, name: updated.name, permissions: updated.permissions, updated: true },
      refreshAccess: await holders(ctx.store, updated.name),
      audit: [{ action: 'role_permissions_set', target_id: updated.id, target_name: updated.name, details: { permissions: updated.permissions } }],
    }
  },
})

// ---------------------------------------------------------------------------------------------
// §9.9–9.10 Self-assignable roles

/** Only roles flagged self-assignable, and never the protected ones (imported data may flag them). */
const selfAssignable = (role: RoleRecord | undefined): role is RoleRecord => role !== undefined && role.self_assignable && !isProtectedFromSelf(role.name)

function selfRoleCommand(cmd: 'self_role_add' | 'self_role_remove') {
  return defineCommand({
    cmd,
    throttle: true,
    schema: T.Object({ role: Loose }),
    validate(_ctx, p) {
      if (typeof p.role !== 'string' || p.role === '') fail('Role name is required')
    },
    async run(ctx, p) {
      const role = await ctx.store.roles.get(p.role as string)
      if (!role) return fail('Role not found')
      if (!selfAssignable(role)) return fail('This role is not self-assignable')
      const user = await ctx.store.users.updateWith(ctx.user.id, ({ roles }) => {
        const holds = roles.includes(role.name)
        if (cmd === 'self_role_add' && holds) fail('You already have this role')
        if (cmd === 'self_role_remove' && !holds) fail("You don't have this role")
        // Appended last, so the caller's colour (their first role's) does not change.
        return { roles: cmd === 'self_role_add' ? [...roles, role.name] : roles.filter((name) => name !== role.name) }
      })
      if (!user) return fail(cmd === 'self_role_add' ? 'Failed to assign role' : 'Failed to remove role')
      return {
        reply: { cmd, role: role.name, success: true, roles: user.roles },
        publish: [{ topic: topics.users, packet: await userRoles(ctx, user) }],
        refreshAccess: [user.id],
        audit: [{ action: cmd, target_id: user.id, target_name: user.username, details: { role: role.name } }],
        events: [{ name: cmd, data: { user_id: user.id, username: user.username, role_name: role.name } }],
      }
    },
  })
}

export const selfRoleAdd = selfRoleCommand('self_role_add')
export const selfRoleRemove = selfRoleCommand('self_role_remove')

export const selfRolesList = defineCommand({
  cmd: 'self_roles_list',
  schema: T.Object({}),
  async run(ctx) {
    const roles = (await ctx.store.roles.list()).filter(selfAssignable).map((role) => ({ ...role, assigned: ctx.user.roles.includes(role.name) }))
    return { reply: { cmd: 'self_roles_list', roles } }
  },
})

// ---------------------------------------------------------------------------------------------
// §8.8–8.9 A user's roles

const requireUser = (p: { user?: unknown }) => {
  if (typeof p.user !== 'string' || p.user === '') fail('User parameter is required')
}

export const userRolesGet = defineCommand({
  cmd: 'user_roles_get',
  schema: T.Object({ user: Loose }),
  validate: (_ctx, p) => requireUser(p),
  async run(ctx, p) {
    const user = await ctx.store.users.resolve(p.user as string)
    if (!user) return fail(E.userNotFound)
    return { reply: await userRoles(ctx, user) }
  },
})

/**
 * Replaces a user's role list. Every role added or removed must pass the hierarchy, and only the
 * owner touches an owner's roles (compat-notes §3.16: upstream let any `manage_users` holder grant
 * `owner`). The target's sockets are resubscribed at once.
 */
export const userRolesSet = defineCommand({
  cmd: 'user_roles_set',
  throttle: true,
  schema: T.Object({ user: Loose, roles: Loose }),
  requires: { permission: 'manage_users' },
  validate(_ctx, p) {
    requireUser(p)
    if (!isStringList(p.roles) || p.roles.length === 0) fail('Roles list is required')
  },
  async run(ctx, p) {
    const target = await ctx.store.users.resolve(p.user as string)
    if (!target) return fail(E.userNotFound)
    const roles = [...new Set(p.roles as string[])]
    const known = await ctx.roles()
    // Checked against the roles the target holds at the moment of writing, not an earlier read.
    const user =
      (await ctx.store.users.updateWith(target.id, (current) => {
        const changed = [...roles.filter((name) => !current.roles.includes(name)), ...current.roles.filter((name) => !roles.includes(name))]
        if (changed.includes(BANNED_ROLE)) fail(`The '${BANNED_ROLE}' role is changed only by user_ban and user_unban`)
        const missing = roles.find((name) => !known.has(name))
        if (missing !== undefined) fail(`Role '${missing}' does not exist`)
        for (const role of changed) {
          const error = roleAssignmentError(ctx.user.roles, current.roles, role, known)
          if (error) fail(error)
        }
        return { roles }
      })) ?? fail(E.userNotFound)
    return {
      broadcast: { topic: topics.users, packet: { ...(await userRoles(ctx, user)), global: true } },
      refreshAccess: [user.id],
      audit: [{ action: 'user_roles_set', target_id: user.id, target_name: user.username, details: { roles } }],
      events: [{ name: 'user_roles_set', data: { user_id: user.id, username: user.username, roles } }],
    }
  },
})

export const roleCommands = [
  rolesListCommand,
  roleCreate,
  roleUpdate,
  roleSet,
  roleDelete,
  roleReorder,
  rolePermissionsGet,
  rolePermissionsSet,
  selfRoleAdd,
  selfRoleRemove,
  selfRolesList,
  userRolesGet,
  userRolesSet,
]
