import { Type as T } from '@sinclair/typebox'
import { isBanned } from '../auth/permissions.ts'
import { topics } from '../net/topics.ts'
import { defineCommand } from '../protocol/command.ts'
import { E, fail, rateLimitPacket } from '../protocol/errors.ts'

const Target = T.Object({ user: T.Optional(T.Union([T.String(), T.Null()])) })

const requireUser = (p: { user?: string | null }) => {
  if (!p.user) fail('User parameter is required')
}

export const BANNED_REASON = 'You have been banned from this server'

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
    ctx.limiter.timeout(target.id, seconds)
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
    if (!target || isBanned(target.roles)) return { reply: { cmd: 'user_ban', user: target?.username ?? p.user, banned: false } }
    await ctx.store.users.update(target.id, { roles: ['banned', ...target.roles] })
    return {
      reply: { cmd: 'user_ban', user: target.username, banned: true },
      refreshAccess: [target.id],
      disconnect: [{ userId: target.id, packet: { cmd: 'disconnect', reason: BANNED_REASON } }],
      audit: [{ action: 'user_ban', target_id: target.id, target_name: target.username }],
      events: [{ name: 'user_ban', data: { user_id: target.id, username: target.username } }],
    }
  },
})

export const userUnban = defineCommand({
  cmd: 'user_unban',
  schema: Target,
  requires: { role: 'owner' },
  validate: (_ctx, p) => requireUser(p),
  async run(ctx, p) {
    const target = await ctx.store.users.resolve(p.user!)
    if (!target || !isBanned(target.roles)) return { reply: { cmd: 'user_unban', user: target?.username ?? p.user, unbanned: false } }
    await ctx.store.users.update(target.id, { roles: target.roles.filter((role) => role !== 'banned') })
    return {
      reply: { cmd: 'user_unban', user: target.username, unbanned: true },
      refreshAccess: [target.id],
      audit: [{ action: 'user_unban', target_id: target.id, target_name: target.username }],
      events: [{ name: 'user_unban', data: { user_id: target.id, username: target.username } }],
    }
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
