import { channelAllows, type ChannelKey } from '../auth/permissions.ts'
import type { UserContext } from '../protocol/command.ts'
import { E, fail, failPlain } from '../protocol/errors.ts'
import type { ChannelRecord, Target, ThreadRecord } from '../store/types.ts'

/**
 * Looking up the channel or thread a request names. The error order and strings differ per
 * command (commands.md lists each), so commands compose these steps; the decisions themselves
 * come from auth/permissions.ts. A thread takes its permissions from its parent forum.
 */

export interface Located {
  target: Target
  /** The channel named, or the thread's parent forum. */
  channel: ChannelRecord
  thread?: ThreadRecord
}

/** `thread_id` wins over `channel`. A thread whose forum is gone counts as not found. */
export async function locate(ctx: UserContext, p: { channel?: string | null; thread_id?: string | null }): Promise<Located> {
  if (p.thread_id) {
    const thread = (await ctx.store.threads.get(p.thread_id)) ?? fail(E.threadNotFound)
    const parent = (await ctx.store.channels.get(thread.parent_channel)) ?? fail(E.threadNotFound)
    return { target: { channel: parent.name, thread_id: thread.id }, channel: parent, thread }
  }
  const channel = p.channel ? await ctx.store.channels.get(p.channel) : undefined
  if (!channel) return fail(E.channelNotFound)
  return { target: { channel: channel.name, thread_id: null }, channel }
}

export const allows = (ctx: UserContext, channel: ChannelRecord | undefined, key: ChannelKey) => channelAllows(channel, key, ctx.user.roles)

/** Upstream's shared read check: the channel must be viewable and of type `text` (no `src`). */
export function requireReadable(ctx: UserContext, channel: ChannelRecord | undefined): asserts channel is ChannelRecord {
  if (!channel || channel.type !== 'text' || !allows(ctx, channel, 'view')) failPlain(E.channelAccessDenied)
}

/** Reading a target: a thread (locked or archived too) needs its forum's `view`; a channel the read check. */
export function requireReadableTarget(ctx: UserContext, located: Located) {
  if (!located.thread) return requireReadable(ctx, located.channel)
  if (!allows(ctx, located.channel, 'view')) fail(E.threadViewDenied)
}

/**
 * Changing what a thread already holds (edits, deletes, reactions, pins): not while it is locked
 * or archived, and only for those who may view its forum. Channels pass.
 */
export function requireChangeable(ctx: UserContext, located: Located) {
  const { thread } = located
  if (!thread) return
  if (thread.locked) fail(E.threadLocked)
  if (thread.archived) fail(E.threadArchived)
  if (!allows(ctx, located.channel, 'view')) fail(E.threadViewDenied)
}

/** "channel" or "thread", for the permission strings that name the kind of target. */
export const placeOf = (located: Located) => (located.thread ? 'thread' : 'channel')

/** `thread_id` on the packets of a thread target (channel packets of these commands have none). */
export const threadField = (target: Target) => (target.thread_id ? { thread_id: target.thread_id } : {})

/** Read commands that name a channel only and answer unknown channels with the read error. */
export async function readableChannel(ctx: UserContext, name: string): Promise<Located> {
  const channel = await ctx.store.channels.get(name)
  requireReadable(ctx, channel)
  return { target: { channel: channel.name, thread_id: null }, channel }
}
