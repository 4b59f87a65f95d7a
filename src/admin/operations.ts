import { Type as T, type Static } from '@sinclair/typebox'
import { knownName, localNameTaken, newLocalAccount } from '../auth/accounts.ts'
import { LOCAL_PREFIX, MAX_PASSWORD, checkNewAccount, hashPassword, localId } from '../auth/local.ts'
import { isConfiguredOwner } from '../auth/owner.ts'
import { BANNED_ROLE, colorOf } from '../auth/permissions.ts'
import { banEffects, banUser, unbanEffects, unbanUser } from '../commands/moderation.ts'
import type { Config } from '../config/schema.ts'
import { quote } from '../log.ts'
import { topics } from '../net/topics.ts'
import type { Effects } from '../protocol/command.ts'
import { ProtocolError } from '../protocol/errors.ts'
import type { Store, UserRecord } from '../store/types.ts'

/**
 * Account management for the owner at the command line (`originchats user …`): the same
 * operations whether they run inside the serving process (through its admin socket, so live
 * sessions follow at once) or on the database directly while no server runs.
 */

/** The actor the modlog records for these operations. */
export const CLI_ACTOR = { id: 'originchats-cli', username: 'originchats CLI' }

const User = T.String({ minLength: 1, maxLength: 200 })
export const AdminRequest = T.Union([
  T.Object({ op: T.Literal('list') }),
  T.Object({ op: T.Literal('roles'), user: User, action: T.Union([T.Literal('add'), T.Literal('remove')]), role: T.String({ minLength: 1, maxLength: 200 }) }),
  T.Object({ op: T.Union([T.Literal('password'), T.Literal('add')]), user: User, password: T.String({ maxLength: 1000 }) }),
  T.Object({ op: T.Union([T.Literal('ban'), T.Literal('unban')]), user: User }),
])
export type AdminRequest = Static<typeof AdminRequest>

/** What an operation printed, and what a running server must do about it. */
export interface AdminOutcome {
  output: string
  effects?: Effects
}

/** A refused operation; its message is shown to the owner as it is. */
export class AdminError extends Error {}

const refuse = (message: string): never => {
  throw new AdminError(message)
}

/** A name as people type it: a username, a local account's name, or a user ID. */
async function findUser(store: Store, name: string): Promise<UserRecord> {
  return (await store.users.resolve(name)) ?? (await store.users.get(localId(name))) ?? refuse(`no user ${quote(name)}`)
}

const isLocal = (user: UserRecord) => user.id.startsWith(LOCAL_PREFIX)

export async function runAdmin(store: Store, config: Config, request: AdminRequest, online: (userId: string) => boolean = () => false): Promise<AdminOutcome> {
  switch (request.op) {
    case 'list':
      return { output: await listUsers(store, online) }
    case 'roles':
      return changeRole(store, config, await findUser(store, request.user), request.action, request.role)
    case 'add':
      return addAccount(store, config, request.user, request.password)
    case 'password':
      return setPassword(store, config, await findUser(store, request.user), request.password)
    case 'ban': {
      const target = await findUser(store, request.user)
      const banned = await banUser(store, target.id)
      if (!banned) return { output: `${knownName(target)} is already banned; nothing changed` }
      return { output: `banned ${knownName(banned)}`, effects: banEffects(banned) }
    }
    case 'unban': {
      const target = await findUser(store, request.user)
      const unbanned = await unbanUser(store, target.id)
      if (!unbanned) return { output: `${knownName(target)} is not banned; nothing changed` }
      return { output: `unbanned ${knownName(unbanned)}`, effects: unbanEffects(unbanned) }
    }
  }
}

async function listUsers(store: Store, online: (userId: string) => boolean): Promise<string> {
  const rows = (await store.users.list()).map((user) => [
    knownName(user),
    isLocal(user) ? 'local' : 'rotur',
    user.roles.join(','),
    online(user.id) ? 'online' : '',
  ])
  if (rows.length === 0) return 'no users yet'
  const header = ['NAME', 'ACCOUNT', 'ROLES', '']
  const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => [...row[column]!].length)))
  return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd()).join('\n')
}

async function changeRole(store: Store, config: Config, target: UserRecord, action: 'add' | 'remove', role: string): Promise<AdminOutcome> {
  if (role === BANNED_ROLE) refuse(`use 'originchats user ${action === 'add' ? 'ban' : 'unban'}' to change the ${BANNED_ROLE} role`)
  const known = new Map((await store.roles.list()).map((record) => [record.name, record]))
  if (action === 'add' && !known.has(role)) refuse(`no role ${quote(role)} (roles: ${[...known.keys()].join(', ')})`)
  let changed = false
  const user = await store.users.updateWith(target.id, ({ roles }) => {
    if (roles.includes(role) === (action === 'add')) return undefined
    const next = action === 'add' ? (role === 'owner' ? [role, ...roles] : [...roles, role]) : roles.filter((name) => name !== role)
    if (next.length === 0) refuse(`${knownName(target)} would have no role left; add another one first`)
    changed = true
    return { roles: next }
  })
  if (!user) return refuse(`no user ${quote(target.username)}`)
  const name = knownName(user)
  if (!changed) return { output: `${name} ${action === 'add' ? 'already has' : 'does not have'} the ${role} role; nothing changed` }
  const notes = [`${name}: ${user.roles.join(', ')}`]
  if (action === 'remove' && role === 'owner' && isConfiguredOwner(config, user, isLocal(user))) {
    notes.push(`note: server.owner.name names this account, so it gets the owner role back at its next login; change server.owner.name as well`)
  }
  return {
    output: notes.join('\n'),
    effects: {
      publish: [{ topic: topics.users, packet: { cmd: 'user_roles_get', user: user.username, roles: user.roles, color: colorOf(user.roles, known), global: true } }],
      refreshAccess: [user.id],
      audit: [{ action: 'user_roles_set', target_id: user.id, target_name: user.username, details: { roles: user.roles } }],
      events: [{ name: 'user_roles_set', data: { user_id: user.id, username: user.username, roles: user.roles } }],
    },
  }
}

/** A local account made by the owner (registration closed, or the owner's own in cracked-only mode). */
async function addAccount(store: Store, config: Config, typed: string, password: string): Promise<AdminOutcome> {
  let name: string
  try {
    name = checkNewAccount(typed, password, config.security.min_password_length)
  } catch (error) {
    if (error instanceof ProtocolError) return refuse(error.message)
    throw error
  }
  if (await localNameTaken(store, config, name)) refuse(`the name ${quote(name)} is taken (or too close to one in use)`)
  const user = newLocalAccount(config, name, await hashPassword(password))
  if (await localNameTaken(store, config, name)) refuse(`the name ${quote(name)} is taken (or too close to one in use)`)
  await store.users.insert(user)
  return {
    output: `created the local account ${name} (roles: ${user.roles.join(', ')}); it signs in with login`,
    effects: { audit: [{ action: 'user_create', target_id: user.id, target_name: user.username }] },
  }
}

async function setPassword(store: Store, config: Config, target: UserRecord, password: string): Promise<AdminOutcome> {
  if (!isLocal(target)) refuse(`${knownName(target)} signs in with Rotur; its password is managed there`)
  const min = config.security.min_password_length
  const length = [...password].length
  if (length < min || length > MAX_PASSWORD) refuse(`the password must be ${min}-${MAX_PASSWORD} characters`)
  const password_hash = await hashPassword(password)
  await store.users.update(target.id, { password_hash })
  return {
    output: `password of ${knownName(target)} changed`,
    effects: { audit: [{ action: 'password_change', target_id: target.id, target_name: target.username }] },
  }
}
