import { LOCAL_PREFIX } from '../auth/local.ts'
import type { UserRepo } from '../store/types.ts'

const USER_MENTION = /(?<!&)@([A-Za-z0-9_]+)/g
const ROLE_MENTION = /@&([A-Za-z0-9_]+)/g

export interface Pings {
  users: string[]
  roles: string[]
  replies: string[]
}

/**
 * Who a message pings (commands.md §3.1). `@name` resolves case-insensitively to a stored
 * username; local accounts (`USR:local_bob`) are reachable as `@bob`, which upstream's pattern
 * could never match. Unknown names stay as typed. Roles stored as lists may always be mentioned.
 */
export async function findPings(content: string, users: UserRepo, repliedTo?: string): Promise<Pings> {
  const names = new Set<string>()
  for (const [, name] of content.matchAll(USER_MENTION)) {
    const user = (await users.getByUsername(name!)) ?? (await users.getByUsername(`${LOCAL_PREFIX}${name}`))
    names.add(user?.username ?? name!)
  }
  const roles = new Set<string>()
  for (const [, role] of content.matchAll(ROLE_MENTION)) roles.add(role!)
  return { users: [...names], roles: [...roles], replies: repliedTo === undefined ? [] : [repliedTo] }
}

export const hasMentions = (pings: Pings) => pings.users.length > 0 || pings.roles.length > 0
