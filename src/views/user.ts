import { colorOf } from '../auth/permissions.ts'
import { LOCAL_PREFIX } from '../auth/local.ts'
import type { RoleRecord, UserRecord } from '../store/types.ts'

export const isCracked = (user: UserRecord) => user.id.startsWith(LOCAL_PREFIX)

/**
 * The name people know a user by: the nickname when set (a local account's is the name it
 * registered with; its username is `USR:local_<name>`), else the username.
 */
export const displayName = (user: Pick<UserRecord, 'username' | 'nickname'>) => user.nickname?.trim() || user.username

/** `user_connect` / `user_join` / `user_roles_get` form. */
export function userSummary(user: UserRecord, roles: ReadonlyMap<string, RoleRecord>) {
  return { username: user.username, roles: user.roles, color: colorOf(user.roles, roles) }
}

/**
 * `user_join` / `user_connect`: the summary plus the nickname when there is one (a superset of
 * upstream's shape). Clients keep what these packets carry as the user's record, so without it a
 * local account shows as `USR:local_<name>` to everyone else until they reload the member list.
 */
export function presenceUser(user: UserRecord, roles: ReadonlyMap<string, RoleRecord>) {
  const summary = userSummary(user, roles)
  return user.nickname ? { ...summary, nickname: user.nickname } : summary
}

/** A stored user without what only the server may read: the password hash, the validator, the owner grant flag. */
export type PublicUser = Omit<UserRecord, 'password_hash' | 'validator' | 'config_owner'>

export function withoutSecrets(user: UserRecord): PublicUser {
  const { password_hash: _hash, validator: _validator, config_owner: _owner, ...rest } = user
  return rest
}

/** `ready.user`: the stored record minus secrets, username forced, `cracked` added. */
export function readyUser(user: UserRecord, cracked: boolean) {
  const { id: _id, extra, ...rest } = withoutSecrets(user)
  return { ...extra, ...rest, username: user.username, cracked }
}

/**
 * Status as others see it: stored status while connected, `offline` (keeping the text)
 * otherwise. An invisible user is reported offline, fixing upstream's leak.
 */
export function visibleStatus(user: UserRecord, online: boolean) {
  const status = user.status ?? { status: 'online', text: '' }
  if (!online || status.status === 'invisible') return { status: 'offline', text: status.text ?? '' }
  return status
}
