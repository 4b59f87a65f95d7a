import { LOCAL_PREFIX } from '../auth/local.ts'
import type { PingTargets, UserRepo } from '../store/types.ts'

const USER_MENTION = /(?<!&)@([A-Za-z0-9_]+)/g
const ROLE_MENTION = /@&([A-Za-z0-9_]+)/g

/** The `pings` of `message_new` and `message_edit`: usernames, role names, replied-to usernames. */
export interface Pings {
  users: string[]
  roles: string[]
  replies: string[]
}

export interface Mentions {
  /** Each `@name` as a stored username, or as typed when nobody has that name. */
  names: string[]
  /** The user IDs of the names that resolved. */
  userIds: string[]
  roles: string[]
}

/**
 * Who a message's content mentions (commands.md §3.1). `@name` resolves case-insensitively to a
 * stored username; local accounts (`USR:local_bob`) are reachable as `@bob`, which upstream's
 * pattern could never match. Roles stored as lists may always be mentioned.
 */
export async function findMentions(content: string, users: UserRepo): Promise<Mentions> {
  const names = new Set<string>()
  const userIds = new Set<string>()
  for (const [, name] of content.matchAll(USER_MENTION)) {
    const user = (await users.getByUsername(name!)) ?? (await users.getByUsername(`${LOCAL_PREFIX}${name}`))
    names.add(user?.username ?? name!)
    if (user) userIds.add(user.id)
  }
  const roles = new Set<string>()
  for (const [, role] of content.matchAll(ROLE_MENTION)) roles.add(role!)
  return { names: [...names], userIds: [...userIds], roles: [...roles] }
}

/** The wire form; `repliedName` is the replied-to author's username when the reply pings them. */
export const wirePings = (mentions: Mentions, repliedName?: string): Pings => ({
  users: mentions.names,
  roles: mentions.roles,
  replies: repliedName === undefined ? [] : [repliedName],
})

/** The stored form for `pings_get`; `repliedUserId` is the replied-to author when the reply pings them. */
export const pingTargets = (mentions: Mentions, repliedUserId?: string): PingTargets => ({
  users: repliedUserId === undefined ? mentions.userIds : [...new Set([...mentions.userIds, repliedUserId])],
  roles: mentions.roles,
})

export const hasMentions = (pings: Pings) => pings.users.length > 0 || pings.roles.length > 0
