import { Type as T } from '@sinclair/typebox'
import { lookalikeOf } from '../auth/accounts.ts'
import { UNPRINTABLE, normalizeName, usernameError } from '../auth/names.ts'
import { isBanned, userManagementError } from '../auth/permissions.ts'
import { topics } from '../net/topics.ts'
import { defineCommand, type UserContext } from '../protocol/command.ts'
import { E, fail } from '../protocol/errors.ts'
import type { UserRecord } from '../store/types.ts'

/** Member management beyond the core moderation commands (commands.md §8.5, §8.7, §1.2). */

const Target = { user: T.Optional(T.Unknown()) }

export const DELETED_REASON = 'Your account has been deleted'

function requireUser(p: { user?: unknown }): string {
  if (typeof p.user !== 'string' || p.user === '') fail('User parameter is required')
  return p.user
}

async function resolveTarget(ctx: UserContext, user: string): Promise<UserRecord> {
  return (await ctx.store.users.resolve(user)) ?? fail(E.userNotFound)
}

export const usersBannedList = defineCommand({
  cmd: 'users_banned_list',
  schema: T.Object({}),
  requires: { role: 'owner' },
  async run(ctx) {
    const users = (await ctx.store.users.list()).filter((user) => isBanned(user.roles)).map((user) => user.username)
    return { reply: { cmd: 'users_banned_list', users } }
  },
})

const UPDATABLE = new Set(['username', 'nickname'])
const MAX_NICKNAME = 64

/**
 * Renames a user and/or sets their nickname. Unlike upstream: a username another user holds,
 * or one that looks like it, is refused; names hold no control or invisible characters; and
 * the hierarchy applies (only the owner changes an owner, others only users ranked below them).
 */
export const userUpdate = defineCommand({
  cmd: 'user_update',
  throttle: true,
  schema: T.Object({ ...Target, updates: T.Optional(T.Unknown()) }),
  requires: { permission: 'manage_users' },
  async run(ctx, p) {
    const target = await resolveTarget(ctx, requireUser(p))
    const updates = p.updates
    if (typeof updates !== 'object' || updates === null || Array.isArray(updates)) return fail('Updates must be an object')
    const fields = updates as Record<string, unknown>
    for (const field of Object.keys(fields)) if (!UPDATABLE.has(field)) fail(`Cannot update field: ${field}`)
    const patch: { username?: string; nickname?: string | null } = {}
    if ('username' in fields) {
      const username = fields.username
      if (typeof username !== 'string' || username.trim() === '') fail('Username must be a non-empty string')
      patch.username = normalizeName(username)
      const problem = usernameError(patch.username)
      if (problem) fail(problem)
    }
    if ('nickname' in fields) {
      const nickname = fields.nickname
      if (nickname !== null && typeof nickname !== 'string') fail('Nickname must be a string or null')
      if (nickname !== null && [...nickname].length > MAX_NICKNAME) fail(`Nickname must be at most ${MAX_NICKNAME} characters`)
      if (nickname !== null && UNPRINTABLE.test(nickname)) fail('Nickname contains invalid characters')
      patch.nickname = nickname === null ? null : normalizeName(nickname)
    }
    if (target.id !== ctx.user.id) {
      const refused = userManagementError(ctx.user.roles, target.roles, await ctx.roles())
      if (refused) fail(refused)
    }
    if (patch.username !== undefined) {
      const holder = await ctx.store.users.getByUsername(patch.username)
      if ((holder && holder.id !== target.id) || (await lookalikeOf(ctx.store, patch.username, target.id))) fail(E.usernameTaken)
    }
    const updated = (await ctx.store.users.update(target.id, patch)) ?? fail('Target user not found')
    // Live connections keep the name they announce when they close.
    ctx.hub.updateSessions(updated.id, { username: updated.username })
    const nickname = updated.nickname ?? null
    return {
      // Upstream broadcasts before it returns the reply.
      announce: [{ topic: topics.users, packet: { cmd: 'user_updated', user_id: updated.id, username: updated.username, nickname } }],
      reply: { cmd: 'user_update', user: updated.username, nickname },
      audit: [{ action: 'user_update', target_id: updated.id, target_name: target.username, details: fields }],
    }
  },
})

/**
 * Documented upstream but never implemented there (commands.md §1.2): the owner removes a
 * member. Everyone is told the member left; the member's open connections are told why, then closed.
 */
export const userDelete = defineCommand({
  cmd: 'user_delete',
  schema: T.Object(Target),
  requires: { role: 'owner' },
  async run(ctx, p) {
    const target = await resolveTarget(ctx, requireUser(p))
    if (target.roles.includes('owner')) {
      const owners = (await ctx.store.users.list()).filter((user) => user.roles.includes('owner'))
      if (owners.length <= 1) fail('Cannot delete the last owner')
    }
    await ctx.store.users.delete(target.id)
    return {
      reply: { cmd: 'user_delete', user: target.username, deleted: true },
      publish: [{ topic: topics.users, packet: { cmd: 'user_leave', username: target.username } }],
      disconnect: [{ userId: target.id, packet: { cmd: 'disconnect', reason: DELETED_REASON } }],
      audit: [{ action: 'user_delete', target_id: target.id, target_name: target.username }],
    }
  },
})

export const memberCommands = [usersBannedList, userUpdate, userDelete]
