import type { Config } from '../config/schema.ts'
import type { UserRecord } from '../store/types.ts'
import { localId } from './local.ts'

/**
 * Who `server.owner.name` designates. It is one account: in the modes with Rotur (`rotur`,
 * `cracked`) the Rotur account of that name, since Rotur vouches for it; a local account of the
 * same name is somebody else. In `cracked-only` it is the local account registered under that
 * name. An empty name designates nobody.
 */
export function isConfiguredOwner(config: Config, user: UserRecord, cracked: boolean): boolean {
  const owner = config.server.owner.name.trim().toLowerCase()
  if (owner === '') return false
  if (config.auth_mode === 'cracked-only') return cracked && user.id === localId(owner)
  return !cracked && user.username.toLowerCase() === owner
}

/**
 * A local account that took the owner's name in a mode with Rotur and got `owner` from a server
 * before this rule (which matched on the typed name); such a grant is withdrawn.
 */
function impersonatedOwner(config: Config, user: UserRecord, cracked: boolean): boolean {
  const owner = config.server.owner.name.trim().toLowerCase()
  return owner !== '' && cracked && config.auth_mode !== 'cracked-only' && user.id === localId(owner)
}

/**
 * The change a login makes to the `owner` role: the configured owner gets it (first in the
 * list), and an account that held it only because the configuration named it loses it once the
 * configuration names someone else. Owners appointed by another owner keep it.
 */
export function ownerPatch(config: Config, user: UserRecord, cracked: boolean): Partial<UserRecord> | undefined {
  const holds = user.roles.includes('owner')
  if (isConfiguredOwner(config, user, cracked)) {
    if (holds && user.config_owner) return undefined
    return { roles: holds ? user.roles : ['owner', ...user.roles], config_owner: true }
  }
  if (holds && (user.config_owner || impersonatedOwner(config, user, cracked))) {
    return { roles: user.roles.filter((role) => role !== 'owner'), config_owner: undefined }
  }
  return user.config_owner ? { config_owner: undefined } : undefined
}
