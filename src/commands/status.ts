import { Type as T } from '@sinclair/typebox'
import { topics } from '../net/topics.ts'
import { defineCommand, type Broadcast } from '../protocol/command.ts'
import { E, fail } from '../protocol/errors.ts'
import { presenceUser, visibleStatus } from '../views/user.ts'

/** Status and profile pictures (commands.md §11). Nicknames change through `user_update` (members.ts). */

const STATUSES = ['online', 'idle', 'dnd', 'offline', 'invisible']
const INVALID_STATUS = `Invalid status. Must be one of: ${STATUSES.join(', ')}`
const MAX_STATUS_TEXT = 100
const MAX_PFP_URL = 500

/**
 * Presence follows the previous status of the connection (commands.md §11.1), with upstream's
 * leak fixed: entering `invisible`, everyone gets `user_disconnect` and only the user's own
 * connections get the `status_set` confirmation. A change made from one connection applies to
 * all of the user's connections, so another tab leaving `invisible` announces the user again.
 */
export const statusSet = defineCommand({
  cmd: 'status_set',
  throttle: true,
  schema: T.Object({ status: T.Optional(T.Unknown()), text: T.Optional(T.Unknown()) }),
  validate(_ctx, p) {
    // Upstream tests truthiness: 0, false and "" are missing too.
    if (!p.status) fail('Status is required')
    const text = p.text ?? ''
    if (typeof p.status !== 'string' || !STATUSES.includes(p.status)) fail(INVALID_STATUS)
    // Python counts code points.
    if (typeof text !== 'string' || [...text].length > MAX_STATUS_TEXT) fail(INVALID_STATUS)
  },
  async run(ctx, p) {
    const status = { status: p.status as string, text: (p.text ?? '') as string }
    const user = (await ctx.store.users.update(ctx.user.id, { status })) ?? fail(E.rolesNotFound)
    const previous = ctx.session.status
    ctx.hub.updateSessions(user.id, { status: status.status })

    const own = topics.user(user.id)
    const everyone = topics.users
    const announce: Broadcast[] = []
    let broadcast: Broadcast
    if (status.status === 'invisible') {
      if (previous !== 'invisible') announce.push({ topic: everyone, packet: { cmd: 'user_disconnect', username: user.username } })
      broadcast = { topic: own, packet: { cmd: 'status_set', status, global: true } }
    } else {
      if (previous === 'invisible') announce.push({ topic: everyone, packet: { cmd: 'user_connect', user: presenceUser(user, await ctx.roles()) } })
      broadcast = { topic: everyone, packet: { cmd: 'status_get', username: user.username, status, global: true } }
    }
    return { announce, broadcast }
  },
})

/**
 * Replies with `cmd: "status"` (the wire format). Others see `offline` for users without a live
 * connection and for invisible users (upstream leaked the stored status); users see their own.
 */
export const statusGet = defineCommand({
  cmd: 'status_get',
  schema: T.Object({ user: T.Optional(T.Unknown()) }),
  validate(_ctx, p) {
    if (typeof p.user !== 'string' || p.user === '') fail('User parameter is required')
  },
  async run(ctx, p) {
    const user = (await ctx.store.users.resolve(p.user as string)) ?? fail(E.userNotFound)
    const status = user.id === ctx.user.id ? user.status : visibleStatus(user, ctx.hub.isOnline(user.id))
    return { reply: { cmd: 'status', username: user.username, status } }
  },
})

function isWebUrl(value: string): boolean {
  if (!/^https?:\/\//i.test(value)) return false
  try {
    return new URL(value).hostname !== ''
  } catch {
    return false
  }
}

/** Local accounts choose their picture here; Rotur manages it otherwise (checked first, as upstream). */
export const pfpSet = defineCommand({
  cmd: 'pfp_set',
  throttle: true,
  schema: T.Object({ url: T.Optional(T.Unknown()) }),
  validate(ctx, p) {
    const mode = ctx.config.auth_mode
    if (mode !== 'cracked' && mode !== 'cracked-only') fail('Profile pictures are managed by Rotur for this account')
    if (!p.url) fail('URL required')
    if (typeof p.url !== 'string' || !isWebUrl(p.url)) fail('Invalid URL format')
    if ([...p.url].length > MAX_PFP_URL) fail(`URL too long (max ${MAX_PFP_URL} characters)`)
  },
  async run(ctx, p) {
    const url = p.url as string
    if (!(await ctx.store.users.update(ctx.user.id, { pfp_url: url }))) fail('Failed to update profile picture')
    return { reply: { cmd: 'pfp_set', val: url } }
  },
})

export const pfpGet = defineCommand({
  cmd: 'pfp_get',
  schema: T.Object({ username: T.Optional(T.Unknown()) }),
  validate(_ctx, p) {
    if (typeof p.username !== 'string' || p.username === '') fail('Username required')
  },
  async run(ctx, p) {
    const username = p.username as string
    const user = (await ctx.store.users.resolve(username)) ?? fail(E.userNotFound)
    return { reply: { cmd: 'pfp_get', val: user.pfp_url ?? null, username } }
  },
})

export const statusCommands = [statusSet, statusGet, pfpSet, pfpGet]
