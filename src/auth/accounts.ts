import type { Config } from '../config/schema.ts'
import type { Store, UserRecord } from '../store/types.ts'
import { LOCAL_PREFIX, localId, localName } from './local.ts'
import { skeleton } from './names.ts'
import { ownerPatch } from './owner.ts'

/**
 * Creating accounts: the record a new user starts with, and which local names are free. Shared
 * by `register`, `auth` (first Rotur sign-in) and `originchats user add`.
 */

/** A new user from `DB.users.default` (its roles, and any other keys it carries). */
export function newUserRecord(config: Config, id: string, username: string): UserRecord {
  const { roles, ...extra } = structuredClone(config.DB.users.default)
  return { id, username, roles: [...roles], status: { status: 'online', text: '' }, extra }
}

/**
 * A new local account named `name` (already checked and lower-cased); the configured owner's
 * account starts with the owner role.
 */
export function newLocalAccount(config: Config, name: string, password_hash: string): UserRecord {
  const id = localId(name)
  const user: UserRecord = { ...newUserRecord(config, id, id), nickname: name, pfp_url: null, password_hash }
  return { ...user, ...ownerPatch(config, user, true) }
}

/** How people know an account: the name a local account registered with, else its username. */
export const knownName = (user: UserRecord) => (user.id.startsWith(LOCAL_PREFIX) ? localName(user.id) : user.username)

/** Another user (not `except`) whose name or nickname looks like `name`: the same, or a look-alike. */
export async function lookalikeOf(store: Store, name: string, except?: string): Promise<UserRecord | undefined> {
  const wanted = skeleton(name)
  return (await store.users.list()).find(
    (user) => user.id !== except && [knownName(user), user.nickname].some((shown) => typeof shown === 'string' && skeleton(shown) === wanted),
  )
}

/**
 * Local names too close to a name already in use, or, in the modes with Rotur, to the configured
 * owner's name.
 */
export async function localNameTaken(store: Store, config: Config, name: string): Promise<boolean> {
  const id = localId(name)
  if ((await store.users.get(id)) || (await store.users.getByUsername(id))) return true
  const owner = config.server.owner.name
  if (owner.trim() !== '' && skeleton(owner) === skeleton(name) && config.auth_mode !== 'cracked-only') return true
  return (await lookalikeOf(store, name)) !== undefined
}

/**
 * The user a typed name means: a username (any case), then the local account `USR:local_<name>`,
 * then the only user with that nickname (any case). A nickname several users share means none.
 * Shared by the chat commands of the `commands` plugin and the slash built-ins.
 */
export async function findUserByName(store: Store, name: string): Promise<UserRecord | undefined> {
  const { users } = store
  const found = (await users.getByUsername(name)) ?? (await users.get(localId(name))) ?? (await users.getByUsername(localId(name)))
  if (found) return found
  const wanted = name.trim().toLowerCase()
  const named = (await users.list()).filter((user) => user.nickname?.trim().toLowerCase() === wanted)
  return named.length === 1 ? named[0] : undefined
}
