import { Type as T } from '@sinclair/typebox'
import { BANNED_ROLE, isBanned } from '../auth/permissions.ts'
import { topics } from '../net/topics.ts'
import { defineCommand, type Effects } from '../protocol/command.ts'
import { BANNED_REASON, E, disconnectPacket, fail, rateLimitPacket } from '../protocol/errors.ts'
import type { Store, UserRecord } from '../store/types.ts'

const Target = T.Object({ user: T.Optional(T.Union([T.String(), T.Null()])) })

const requireUser = (p: { user?: string | null }) => {
  if (!p.user) fail('User parameter is required')
}

/**
 * Puts `banned` first in the user's roles, in one atomic step (a login or role edit in flight
 * cannot undo it). Undefined when the user is unknown or already banned. Shared by `user_ban`,
 * the `!ban` chat command and `originchats user ban`.
 */
export function banUser(store: Store, userId: string): Promise<UserRecord | undefined> {
  return changeBan(store, userId, true)
}

/** Removes `banned`; undefined when the user is unknown or not banned. */
export function unbanUser(store: Store, userId: string): Promise<UserRecord | undefined> {
  return changeBan(store, userId, false)
}

async function changeBan(store: Store, userId: string, ban: boolean): Promise<UserRecord | undefined> {
  let changed = false
  const user = await store.users.updateWith(userId, ({ roles }) => {
    if (isBanned(roles) === ban) return undefined
    changed = true
    return { roles: ban ? [BANNED_ROLE, ...roles] : roles.filter((role) => role !== BANNED_ROLE) }
  })
  return changed ? user : undefined
}

/**
 * What a ban does beyond the store: channel subscriptions dropped, sessions told and closed,
 * logged. The slash `/ban` gives a reason and its own disconnect text (protocol README §2.7).
 */
export const banEffects = (user: UserRecord, how: { reason?: string; disconnectReason?: string } = {}): Effects => ({
  refreshAccess: [user.id],
  disconnect: [{ userId: user.id, packet: disconnectPacket(how.disconnectReason ?? BANNED_REASON) }],
  audit: [{ action: 'user_ban', target_id: user.id, target_name: user.username, ...(how.reason === undefined ? {} : { details: { reason: how.reason } }) }],
  events: [{ name: 'user_ban', data: { user_id: user.id, username: user.username, ...(how.reason === undefined ? {} : { reason: how.reason }) } }],
})

export const unbanEffects = (user: UserRecord): Effects => ({
  refreshAccess: [user.id],
  audit: [{ action: 'user_unban', target_id: user.id, target_name: user.username }],
  events: [{ name: 'user_unban', data: { user_id: user.id, username: user.username } }],
})

export const userTimeout = defineCommand({
  cmd: 'user_timeout',
  schema: T.Object({ user: T.Optional(T.Union([T.String(), T.Null()])), timeout: T.Optional(T.Unknown()) }),
  requires: { role: 'owner' },
  validate(_ctx, p) {
    // 0 lifts a timeout, as upstream's docs promise; negatives and non-integers stay errors.
    if (!Number.isInteger(p.timeout) || (p.timeout as number) < 0) fail('Timeout must be a positive integer')
    requireUser(p)
  },
  async run(ctx, p) {
    const target = await ctx.store.users.resolve(p.user!)
    if (!target) return fail(E.userNotFound)
    const seconds = p.timeout as number
    const reply = { cmd: 'user_timeout', user: p.user, timeout: seconds }
    const audit = [{ action: 'user_timeout', target_id: target.id, target_name: target.username, details: { timeout: seconds } }]
    if (!ctx.config.rate_limiting.enabled) return { reply, audit }
    await ctx.limiter.timeout(target.id, seconds)
    const events = [{ name: 'user_timeout', data: { user_id: target.id, username: target.username, timeout: seconds * 1000 } }]
    if (seconds === 0) return { reply, audit, events }
    return { reply, audit, events, toFirstConnection: [{ userId: target.id, packet: rateLimitPacket(seconds, 'User timeout set') }] }
  },
})

/** A ban is the role `banned` first in the list; the banned user's open sessions are closed. */
export const userBan = defineCommand({
  cmd: 'user_ban',
  schema: Target,
  requires: { role: 'owner' },
  validate: (_ctx, p) => requireUser(p),
  async run(ctx, p) {
    const target = await ctx.store.users.resolve(p.user!)
    const banned = target && (await banUser(ctx.store, target.id))
    if (!banned) return { reply: { cmd: 'user_ban', user: target?.username ?? p.user, banned: false } }
    return { reply: { cmd: 'user_ban', user: banned.username, banned: true }, ...banEffects(banned) }
  },
})

export const userUnban = defineCommand({
  cmd: 'user_unban',
  schema: Target,
  requires: { role: 'owner' },
  validate: (_ctx, p) => requireUser(p),
  async run(ctx, p) {
    const target = await ctx.store.users.resolve(p.user!)
    const unbanned = target && (await unbanUser(ctx.store, target.id))
    if (!unbanned) return { reply: { cmd: 'user_unban', user: target?.username ?? p.user, unbanned: false } }
    return { reply: { cmd: 'user_unban', user: unbanned.username, unbanned: true }, ...unbanEffects(unbanned) }
  },
})

/** The caller leaves: the record goes (a ban record stays, so the ban holds), then their sockets close. */
export const userLeave = defineCommand({
  cmd: 'user_leave',
  schema: T.Object({}),
  async run(ctx) {
    if (!isBanned(ctx.user.roles)) await ctx.store.users.delete(ctx.user.id)
    return {
      reply: { cmd: 'user_leave', user: ctx.user.username, val: 'User left server' },
      publish: [{ topic: topics.users, packet: { cmd: 'user_leave', username: ctx.user.username } }],
      disconnect: [{ userId: ctx.user.id }],
      events: [{ name: 'user_leave', data: { username: ctx.user.username, user_id: ctx.user.id } }],
    }
  },
})

export const moderationCommands = [userTimeout, userBan, userUnban, userLeave]
