import { channelAllows, type ChannelKey } from '../auth/permissions.ts'
import type { UserContext } from '../protocol/command.ts'
import { E, fail, failPlain } from '../protocol/errors.ts'
import type { ChannelRecord, Target } from '../store/types.ts'

/**
 * Looking up the channel or thread a request names. The error order and strings differ per
 * command (commands.md lists each), so commands compose these steps; the decisions themselves
 * come from auth/permissions.ts.
 */

export interface Located {
  target: Target
  channel: ChannelRecord
}

/**
 * `thread_id` wins over `channel`. Threads belong to forum channels, which arrive with a later
 * issue; until then no thread exists, so any `thread_id` is unknown.
 */
export async function locate(ctx: UserContext, p: { channel?: string | null; thread_id?: string | null }): Promise<Located> {
  if (p.thread_id) return fail(E.threadNotFound)
  const channel = p.channel ? await ctx.store.channels.get(p.channel) : undefined
  if (!channel) return fail(E.channelNotFound)
  return { target: { channel: channel.name, thread_id: null }, channel }
}

export const allows = (ctx: UserContext, channel: ChannelRecord | undefined, key: ChannelKey) => channelAllows(channel, key, ctx.user.roles)

/** Upstream's shared read check: the channel must be viewable and of type `text` (no `src`). */
export function requireReadable(ctx: UserContext, channel: ChannelRecord | undefined): asserts channel is ChannelRecord {
  if (!channel || channel.type !== 'text' || !allows(ctx, channel, 'view')) failPlain(E.channelAccessDenied)
}

/** Read commands that name a channel only and answer unknown channels with the read error. */
export async function readableChannel(ctx: UserContext, name: string): Promise<Located> {
  const channel = await ctx.store.channels.get(name)
  requireReadable(ctx, channel)
  return { target: { channel: channel.name, thread_id: null }, channel }
}
