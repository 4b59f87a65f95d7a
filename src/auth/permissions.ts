import type { ChannelRecord, RoleRecord } from '../store/types.ts'

/**
 * The permission model of data.md §4–5 as pure functions. Nothing else decides who may do what.
 */

/** The 20 server permissions, in the order the handshake advertises them. */
export const PERMISSIONS = [
  'administrator', 'manage_server', 'view_audit_log', 'manage_roles', 'manage_channels', 'manage_threads',
  'manage_users', 'manage_messages', 'read_message_history', 'send_messages', 'embed_links', 'attach_files',
  'add_reactions', 'external_emojis', 'connect', 'speak', 'stream', 'use_voice_activity', 'mention_everyone',
  'use_slash_commands',
] as const
export type Permission = (typeof PERMISSIONS)[number]

export type ChannelKey = 'view' | 'send' | 'delete' | 'delete_own' | 'edit_own' | 'react' | 'pin' | 'create_thread'

/**
 * Used when a channel is unknown or its permissions object is empty (data.md §4.3 A.1), and
 * given to channels created without role lists (commands.md §5.2).
 */
const DEFAULT_CHANNEL_PERMISSIONS: Record<ChannelKey, string[]> = {
  view: ['owner'],
  send: ['owner'],
  delete: ['owner'],
  delete_own: ['user'],
  edit_own: ['user'],
  react: ['user'],
  pin: ['owner'],
  create_thread: ['owner'],
}

/** A fresh copy of the default role lists, for a new channel. */
export const defaultChannelPermissions = (): Record<string, string[]> => structuredClone(DEFAULT_CHANNEL_PERMISSIONS)

const ORDERED_KEYS = new Set<ChannelKey>(['view', 'send', 'delete', 'create_thread'])

/** A ban is this role in the user's list; only user_ban/user_unban (and their CLI forms) add or remove it. */
export const BANNED_ROLE = 'banned'

export const isBanned = (roles: readonly string[]) => roles.includes(BANNED_ROLE)

/**
 * Channel role lists. `view`/`send`/`delete`/`create_thread` walk the user's roles in order with
 * `!role` denials; the others allow when any role is listed literally. The `owner` role gets no
 * bypass here: it passes only where listed, as upstream (latest) does.
 */
export function channelAllows(channel: ChannelRecord | undefined, key: ChannelKey, roles: readonly string[]): boolean {
  if (ORDERED_KEYS.has(key)) {
    const permissions = channel?.permissions && Object.keys(channel.permissions).length > 0 ? channel.permissions : DEFAULT_CHANNEL_PERMISSIONS
    return walkRoleList(permissions[key] ?? [], roles)
  }
  if (!channel) return false
  const list = channel.permissions?.[key] ?? DEFAULT_CHANNEL_PERMISSIONS[key]
  return roles.some((role) => list.includes(role))
}

/** `channels_get` filtering: the channel's own `view` list, with no fallback. */
export function canSeeInList(channel: ChannelRecord, roles: readonly string[]): boolean {
  return walkRoleList(channel.permissions?.view ?? [], roles)
}

function walkRoleList(list: readonly string[], roles: readonly string[]): boolean {
  for (const role of roles) {
    if (list.includes(`!${role}`)) return false
    if (list.includes(role)) return true
  }
  return false
}

/** Server permissions: `owner` and any role holding `administrator` pass every check. */
export function hasPermission(roles: readonly string[], permission: string, known: ReadonlyMap<string, RoleRecord>): boolean {
  if (roles.includes('owner')) return true
  return roles.some((name) => {
    const role = known.get(name)
    return role !== undefined && (role.permissions.includes('administrator') || role.permissions.includes(permission))
  })
}

/** The user's colour is the colour of the first role in their list. */
export function colorOf(roles: readonly string[], known: ReadonlyMap<string, RoleRecord>): string | null {
  const first = roles[0]
  return (first !== undefined && known.get(first)?.color) || null
}

/** Roles nobody but the owner may manage, and roles that cannot be deleted or self-assigned. */
export const PROTECTED_ROLES = ['owner', 'admin'] as const
export const SYSTEM_ROLES = ['owner', 'admin', 'user'] as const
export const NOT_SELF_ASSIGNABLE = ['owner', 'admin', 'moderator'] as const

const UNKNOWN_RANK = 9999

/** The actor's best (lowest) position; roles that no longer exist rank last. */
export function bestPosition(roles: readonly string[], known: ReadonlyMap<string, RoleRecord>): number {
  return Math.min(UNKNOWN_RANK, ...roles.map((name) => known.get(name)?.position ?? UNKNOWN_RANK))
}

/**
 * The role hierarchy of data.md §5.3: the error text that forbids `actorRoles` from managing
 * role `target`, or undefined when allowed. The owner may manage everything.
 */
export function roleManagementError(actorRoles: readonly string[], target: string, known: ReadonlyMap<string, RoleRecord>): string | undefined {
  if (!hasPermission(actorRoles, 'manage_roles', known)) return "Missing 'manage_roles' permission"
  if (actorRoles.length === 0) return 'No roles found'
  if (actorRoles.includes('owner')) return undefined
  const role = known.get(target)
  if (!role) return `Role '${target}' not found`
  if (role.position <= bestPosition(actorRoles, known)) return 'Cannot manage roles at or above your position'
  if ((PROTECTED_ROLES as readonly string[]).includes(target)) return `Cannot manage protected role '${target}'`
  return undefined
}

/** Assigning or removing `role` on a user: the hierarchy, and only the owner touches an owner's roles. */
export function roleAssignmentError(
  actorRoles: readonly string[],
  targetRoles: readonly string[],
  role: string,
  known: ReadonlyMap<string, RoleRecord>,
): string | undefined {
  const error = roleManagementError(actorRoles, role, known)
  if (error) return error
  if (!actorRoles.includes('owner') && targetRoles.includes('owner')) return 'Cannot modify roles of the server owner'
  return undefined
}

/**
 * Nobody hands out a server permission they do not hold themselves (administrator holders hold
 * them all): the error text for the first permission in `next` that `previous` lacks and the
 * actor does not have, or undefined.
 */
export function grantError(
  actorRoles: readonly string[],
  next: readonly string[],
  previous: readonly string[],
  known: ReadonlyMap<string, RoleRecord>,
): string | undefined {
  const granted = next.find((permission) => !previous.includes(permission) && !hasPermission(actorRoles, permission, known))
  return granted === undefined ? undefined : `Cannot grant permission '${granted}' you do not have`
}

/** Moving a role to `position`: below the owner, never at or above the actor's own best role. */
export function positionError(actorRoles: readonly string[], position: number, known: ReadonlyMap<string, RoleRecord>): string | undefined {
  if (actorRoles.includes('owner') || position > bestPosition(actorRoles, known)) return undefined
  return 'Cannot manage roles at or above your position'
}

/**
 * Managing another user's account (`user_update`): the owner may manage everyone; below the
 * owner, only users whose best role ranks under the actor's, and never an owner.
 */
export function userManagementError(
  actorRoles: readonly string[],
  targetRoles: readonly string[],
  known: ReadonlyMap<string, RoleRecord>,
): string | undefined {
  if (actorRoles.includes('owner')) return undefined
  if (targetRoles.includes('owner')) return 'Cannot update the server owner'
  if (bestPosition(targetRoles, known) <= bestPosition(actorRoles, known)) return 'Cannot manage users at or above your position'
  return undefined
}

/**
 * `role_reorder` (upstream has no check): below the owner, every role that moves must be one the
 * actor may manage, and it may not land at or above the actor's own best position.
 */
export function reorderError(actorRoles: readonly string[], order: readonly string[], known: ReadonlyMap<string, RoleRecord>): string | undefined {
  if (actorRoles.includes('owner')) return undefined
  for (const [position, name] of order.entries()) {
    if (known.get(name)?.position === position) continue
    const error = roleManagementError(actorRoles, name, known) ?? positionError(actorRoles, position, known)
    if (error) return error
  }
  return undefined
}
