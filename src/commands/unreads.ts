import { Type as T } from '@sinclair/typebox'
import { topics } from '../net/topics.ts'
import { defineCommand, type Broadcast, type UserContext } from '../protocol/command.ts'
import { fail } from '../protocol/errors.ts'
import type { ChannelRecord, Store, Target } from '../store/types.ts'
import { LISTED_THREADS } from '../views/channels.ts'
import { messageView } from '../views/message.ts'
import { allows, locate, readableChannel, requireReadableTarget, type Located } from './access.ts'

const Text = T.Union([T.String(), T.Null()])

/** Read positions name any message ID the client sends (commands.md §18.1), so its length is bounded. */
const MAX_MESSAGE_ID = 128

const DEFAULT_PINGS = 50
const MAX_PINGS = 100

/** How unread packets name a target: `channel` for a channel, `thread_id` for a thread. */
const named = (target: Target) => (target.thread_id === null ? { channel: target.channel } : { thread_id: target.thread_id })

/** `unreads_update`, for every connection of the user whose read position moved (commands.md §18). */
export function positionMoved(userId: string, target: Target, messageId: string): Broadcast {
  return { topic: topics.user(userId), packet: { cmd: 'unreads_update', last_read: messageId, ...named(target) } }
}

/**
 * A thread's key in `unreads_get`. The spec shows `thread/<id>` (the storage key; upstream never
 * sent thread entries), but the web client keeps thread counts under `thread:<id>` and would
 * never clear the other form, so this is the one clients read. The entry names the thread too.
 */
const threadEntryKey = (threadId: string) => `thread:${threadId}`

/** The IDs of a forum channel's threads, for `unreads_get`: those `channels_get` lists. */
async function forumThreads(store: Store, forum: ChannelRecord): Promise<string[]> {
  return (await store.threads.listByChannel(forum.name, LISTED_THREADS)).map((thread) => thread.id)
}

/** A thread the caller may view, locked or archived too (compat-notes bug 3). */
async function viewableThread(ctx: UserContext, threadId: string): Promise<Located> {
  const located = await locate(ctx, { thread_id: threadId })
  requireReadableTarget(ctx, located)
  return located
}

export const unreadsAck = defineCommand({
  cmd: 'unreads_ack',
  schema: T.Object({ channel: T.Optional(Text), thread_id: T.Optional(Text), message_id: T.Optional(Text) }),
  validate(_ctx, p) {
    if (!p.channel && !p.thread_id) fail('Channel or thread_id is required')
    if (p.message_id && p.message_id.length > MAX_MESSAGE_ID) fail(`Message ID too long (max ${MAX_MESSAGE_ID} characters)`)
  },
  async run(ctx, p) {
    let target: Target
    if (p.thread_id) target = (await viewableThread(ctx, p.thread_id)).target
    else {
      // Upstream checked existence only; a channel the caller cannot view is as good as absent.
      const channel = await ctx.store.channels.get(p.channel!)
      if (!channel || !allows(ctx, channel, 'view')) return fail('Channel or thread not found')
      target = { channel: channel.name, thread_id: null }
    }
    const lastRead = p.message_id || (await ctx.store.messages.newest(target))?.id
    const reply = { cmd: 'unreads_ack', ...named(target), last_read: lastRead ?? null }
    if (!lastRead) return { reply }
    await ctx.store.unreads.set(ctx.user.id, target, lastRead)
    return { reply, publish: [positionMoved(ctx.user.id, target, lastRead)] }
  },
})

export const unreadsGet = defineCommand({
  cmd: 'unreads_get',
  schema: T.Object({}),
  throttle: true,
  async run(ctx) {
    const targets: Target[] = []
    for (const channel of await ctx.store.channels.list()) {
      if (!allows(ctx, channel, 'view')) continue
      if (channel.type === 'text') targets.push({ channel: channel.name, thread_id: null })
      if (channel.type === 'forum') for (const id of await forumThreads(ctx.store, channel)) targets.push({ channel: channel.name, thread_id: id })
    }
    const counts = await ctx.store.unreads.count(ctx.user.id, targets)
    // fromEntries, so that a channel named `__proto__` is a key like any other.
    const unreads = Object.fromEntries(
      targets.map((target, i) =>
        target.thread_id === null
          ? [target.channel, counts[i]]
          : [threadEntryKey(target.thread_id), { ...counts[i], thread_id: target.thread_id, parent_channel: target.channel }],
      ),
    )
    return { reply: { cmd: 'unreads_get', unreads } }
  },
})

export const unreadsCount = defineCommand({
  cmd: 'unreads_count',
  schema: T.Object({ channel: T.Optional(Text), thread_id: T.Optional(Text) }),
  validate(_ctx, p) {
    if (!p.channel && !p.thread_id) fail('Channel or thread_id is required')
  },
  async run(ctx, p) {
    const { target } = p.thread_id ? await viewableThread(ctx, p.thread_id) : await readableChannel(ctx, p.channel!)
    const [count] = await ctx.store.unreads.count(ctx.user.id, [target])
    const { unread_count, last_read, total_messages } = count!
    return { reply: { cmd: 'unreads_count', ...named(target), unread_count, last_read, total_messages } }
  },
})

const PingPage = T.Object({ limit: T.Optional(T.Unknown()), offset: T.Optional(T.Unknown()) })

/** `limit` and `offset` of `pings_get`: whole numbers (not booleans, strings or fractions), defaults when absent. */
function pingPage(p: typeof PingPage.static) {
  const limit = p.limit ?? DEFAULT_PINGS
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_PINGS) fail(`Limit must be a number between 1 and ${MAX_PINGS}`)
  const offset = p.offset ?? 0
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) fail('Offset must be a non-negative number')
  return { limit, offset }
}

export const pingsGet = defineCommand({
  cmd: 'pings_get',
  schema: PingPage,
  throttle: true,
  validate(_ctx, p) {
    pingPage(p)
  },
  async run(ctx, p) {
    const { limit, offset } = pingPage(p)
    // Where the caller may look now: text channels, and forums for their threads' messages.
    const channels = (await ctx.store.channels.list())
      .filter((channel) => (channel.type === 'text' || channel.type === 'forum') && allows(ctx, channel, 'view'))
      .map((channel) => channel.name)
    const { messages, total } = await ctx.store.pings.list({ userId: ctx.user.id, roles: ctx.user.roles, channels, limit, offset })
    const views = await Promise.all(
      messages.map(async (message) => ({
        ...(await messageView(message, ctx.store.users)),
        channel: message.channel,
        ...(message.thread_id === null ? {} : { thread_id: message.thread_id }),
      })),
    )
    return { reply: { cmd: 'pings_get', messages: views, offset, limit, total } }
  },
})

export const unreadCommands = [unreadsAck, unreadsGet, unreadsCount, pingsGet]
