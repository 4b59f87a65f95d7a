import { findUserByName, lookalikeOf } from '../auth/accounts.ts'
import { LOCAL_PREFIX, localName } from '../auth/local.ts'
import { UNPRINTABLE, normalizeName } from '../auth/names.ts'
import { banEffects, banUser, unbanEffects, unbanUser } from '../commands/moderation.ts'
import { topics } from '../net/topics.ts'
import type { Effects, UserContext } from '../protocol/command.ts'
import { fail, rateLimitPacket } from '../protocol/errors.ts'
import type { UserRecord } from '../store/types.ts'
import { displayName } from '../views/user.ts'
import { mayUse } from './calls.ts'
import type { OptionType, SlashDefinition, SlashOption } from './definition.ts'

/**
 * The server's own slash commands (commands.md §15.3 table). Each checks its own arguments, with
 * the spec's error texts, and answers the text of the message the server posts in the caller's
 * channel; what it changes is announced through the same effects as the protocol commands.
 * Handler errors are `fail(...)` (E!). Users are named as the `commands` plugin names them (a
 * username, a local account's name, or a nickname), and shown by display name.
 */

export interface BuiltinResult {
  response: string
  effects?: Effects
}

export interface BuiltinSlash {
  definition: SlashDefinition
  run(ctx: UserContext, args: Record<string, unknown>): Promise<BuiltinResult>
}

export const MAX_NICKNAME = 20
export const MAX_REASON = 500
/** Characters of the `/help` answer; the rest of a long list is counted, not shown. */
export const MAX_HELP = 4000
const NO_REASON = 'No reason provided'
/** The disconnect text of `/ban` (protocol README §2.7); `user_ban` and `!ban` use a longer one. */
export const SLASH_BANNED_REASON = 'You have been banned'

const option = (name: string, description: string, type: OptionType, required: boolean): SlashOption => ({ name, description, type, choices: null, required })

const definition = (name: string, description: string, options: SlashOption[], whitelistRoles: string[] | null): SlashDefinition => ({
  name,
  description,
  options,
  whitelistRoles,
  blacklistRoles: null,
  ephemeral: false,
})

const moderators = () => ['admin', 'owner']

async function target(ctx: UserContext, args: Record<string, unknown>): Promise<UserRecord> {
  const name = args.username
  if (typeof name !== 'string' || name.trim() === '') fail('Username is required')
  return (await findUserByName(ctx.store, name)) ?? fail(`User '${name}' not found`)
}

function reasonOf(args: Record<string, unknown>): string {
  const reason = args.reason
  if (reason === undefined || reason === null || (typeof reason === 'string' && reason.trim() === '')) return NO_REASON
  if (typeof reason !== 'string') fail('Reason must be a string')
  if ([...reason.trim()].length > MAX_REASON) fail(`Reason must be at most ${MAX_REASON} characters`)
  return reason.trim()
}

/** Whole seconds, as upstream's `int(duration)` reads them: numbers are truncated, digit strings parsed. */
function durationOf(value: unknown): number {
  if (value === undefined || value === null || value === 0 || value === '' || value === false) fail('Duration is required')
  const seconds = typeof value === 'number' ? Math.trunc(value) : typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value) ? Number(value) : NaN
  if (!Number.isSafeInteger(seconds)) fail('Duration must be a valid number')
  if (seconds <= 0) fail('Duration must be a positive number')
  return seconds
}

const requireLimiter = (ctx: UserContext) => {
  if (!ctx.config.rate_limiting.enabled) fail('Rate limiter not available')
}

const ban: BuiltinSlash = {
  definition: definition(
    'ban',
    'Ban a user from the server',
    [option('username', 'The user to ban', 'str', true), option('reason', 'Reason for the ban', 'str', false)],
    moderators(),
  ),
  async run(ctx, args) {
    const user = await target(ctx, args)
    const reason = reasonOf(args)
    if (user.roles.includes('owner')) fail('Cannot ban the server owner')
    const banned = (await banUser(ctx.store, user.id)) ?? fail(`User '${displayName(user)}' is already banned`)
    return {
      response: `🚫 **${displayName(banned)}** has been banned.\n**Reason:** ${reason}`,
      effects: banEffects(banned, { reason, disconnectReason: SLASH_BANNED_REASON }),
    }
  },
}

const unban: BuiltinSlash = {
  definition: definition('unban', 'Unban a user from the server', [option('username', 'The user to unban', 'str', true)], moderators()),
  async run(ctx, args) {
    const user = await target(ctx, args)
    const unbanned = (await unbanUser(ctx.store, user.id)) ?? fail(`User '${displayName(user)}' is not banned`)
    return { response: `✅ **${displayName(unbanned)}** has been unbanned.`, effects: unbanEffects(unbanned) }
  },
}

const mute: BuiltinSlash = {
  definition: definition(
    'mute',
    'Timeout a user (prevent them from sending messages)',
    [
      option('username', 'The user to mute', 'str', true),
      option('duration', 'Duration in seconds', 'int', true),
      option('reason', 'Reason for the mute', 'str', false),
    ],
    moderators(),
  ),
  async run(ctx, args) {
    const seconds = durationOf(args.duration)
    const user = await target(ctx, args)
    const reason = reasonOf(args)
    if (user.roles.includes('owner')) fail('Cannot mute the server owner')
    requireLimiter(ctx)
    await ctx.limiter.timeout(user.id, seconds)
    return {
      response: `🔇 **${displayName(user)}** has been muted for ${seconds} seconds.\n**Reason:** ${reason}`,
      effects: {
        // Upstream meant to send this and never could (compat-notes bug 48).
        toFirstConnection: [{ userId: user.id, packet: rateLimitPacket(seconds, `Muted: ${reason}`) }],
        audit: [{ action: 'user_timeout', target_id: user.id, target_name: user.username, details: { duration: seconds, reason } }],
        events: [{ name: 'user_timeout', data: { user_id: user.id, username: user.username, timeout: seconds * 1000 } }],
      },
    }
  },
}

const unmute: BuiltinSlash = {
  definition: definition('unmute', 'Remove timeout from a user', [option('username', 'The user to unmute', 'str', true)], moderators()),
  async run(ctx, args) {
    const user = await target(ctx, args)
    requireLimiter(ctx)
    // Lifts the timeout too (upstream only reset the counters, compat-notes bug 36).
    await ctx.limiter.reset(user.id)
    return {
      response: `🔊 **${displayName(user)}** has been unmuted.`,
      effects: {
        audit: [{ action: 'user_timeout', target_id: user.id, target_name: user.username, details: { duration: 0 } }],
        events: [{ name: 'user_timeout', data: { user_id: user.id, username: user.username, timeout: 0 } }],
      },
    }
  },
}

/** What a cleared nickname is: none, except that a local account keeps the name it registered with. */
const plainNickname = (user: UserRecord) => (user.id.startsWith(LOCAL_PREFIX) ? localName(user.id) : null)

const nick: BuiltinSlash = {
  definition: definition('nick', 'Set or clear your display nickname', [option('nickname', 'Your new nickname (leave empty to clear)', 'str', false)], null),
  async run(ctx, args) {
    const wanted = args.nickname
    if (wanted !== undefined && wanted !== null && typeof wanted !== 'string') fail('Nickname must be a string')
    const nickname = normalizeName(wanted ?? '')
    const user = ctx.user
    if (nickname === '') {
      const plain = plainNickname(user)
      const current = user.nickname?.trim() || null
      if (current === plain) return { response: "You don't have a nickname set. Use `/nick <name>` to set one." }
      return { response: 'Nickname cleared', effects: await setNickname(ctx, plain) }
    }
    if ([...nickname].length > MAX_NICKNAME) fail(`Nickname too long (max ${MAX_NICKNAME} characters)`)
    if (UNPRINTABLE.test(nickname)) fail('Nickname contains invalid characters')
    // A nickname is shown in place of the name: it may not pass for someone else's.
    if (await lookalikeOf(ctx.store, nickname, user.id)) fail('Nickname already taken')
    return { response: `Nickname set to **${nickname}**`, effects: await setNickname(ctx, nickname) }
  },
}

/** Stores the nickname and tells everyone (commands.md §11.3), before the command's message. */
async function setNickname(ctx: UserContext, nickname: string | null): Promise<Effects> {
  const user = (await ctx.store.users.update(ctx.user.id, { nickname })) ?? fail('User not found')
  const packet =
    nickname === null
      ? { cmd: 'nickname_remove', user: user.id, username: user.username }
      : { cmd: 'nickname_update', user: user.id, username: user.username, nickname }
  return { announce: [{ topic: topics.users, packet }] }
}

const help: BuiltinSlash = {
  definition: definition('help', 'List all available slash commands', [], null),
  async run(ctx) {
    const usable = ctx.services.slash
      .definitions()
      .filter((command) => mayUse(command, ctx.user.roles))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    if (usable.length === 0) return { response: 'No commands available' }
    const lines = ['**Available Commands:**']
    let size = lines[0]!.length
    for (const [i, command] of usable.entries()) {
      const line = `• \`/${command.name}\` - ${command.description}`
      if (size + 1 + line.length > MAX_HELP) {
        lines.push(`…and ${usable.length - i} more`)
        break
      }
      lines.push(line)
      size += 1 + line.length
    }
    return { response: lines.join('\n') }
  },
}

export const BUILTIN_SLASH_COMMANDS: readonly BuiltinSlash[] = [ban, unban, mute, unmute, nick, help]
