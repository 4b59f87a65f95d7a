import { Type as T } from '@sinclair/typebox'
import { hasPermission } from '../auth/permissions.ts'
import { topics } from '../net/topics.ts'
import { defineCommand, type Broadcast, type UserContext } from '../protocol/command.ts'
import { E, fail } from '../protocol/errors.ts'
import type { ThreadRecord } from '../store/types.ts'
import { messageViews } from '../views/message.ts'
import { withPollState } from '../views/poll.ts'
import { threadView } from '../views/threads.ts'
import { allows, locate, type Located } from './access.ts'
import { UNPRINTABLE } from './channels.ts'
import { historyPage, Limit, Start } from './history.ts'

/**
 * Threads of forum channels (commands.md §6). A thread is visible exactly to those who may view
 * its forum, so every thread packet goes to the forum's channel topic; upstream sent
 * `thread_update`/`thread_join`/`thread_leave` to everyone, without `channel` (compat-notes §3.11).
 */

const Str = T.Optional(T.Union([T.String(), T.Null()]))
const ThreadId = { thread_id: Str }

export const THREAD_NAME_MAX = 100

/** A new or changed thread name: trimmed, non-empty, bounded, printable. */
function threadName(value: string | null | undefined): string {
  const name = (value ?? '').trim()
  if (name === '') fail('Thread name cannot be empty')
  if ([...name].length > THREAD_NAME_MAX) fail(`Thread name must be at most ${THREAD_NAME_MAX} characters`)
  if (UNPRINTABLE.test(name)) fail('Thread name contains invalid characters')
  return name
}

/** The thread a request names (upstream's "thread access"); with `view`, its forum must be viewable. */
async function threadAccess(ctx: UserContext, threadId: string | null | undefined, view: boolean): Promise<Located & { thread: ThreadRecord }> {
  if (!threadId) fail('Thread ID is required')
  const located = await locate(ctx, { thread_id: threadId })
  if (view && !allows(ctx, located.channel, 'view')) fail(E.threadViewDenied)
  return located as Located & { thread: ThreadRecord }
}

/** Only the creator and holders of `manage_threads` change or delete a thread. */
async function requireModerator(ctx: UserContext, thread: ThreadRecord) {
  if (thread.created_by !== ctx.user.id && !hasPermission(ctx.user.roles, 'manage_threads', await ctx.roles())) {
    fail('You do not have permission to modify this thread')
  }
}

const toForum = (thread: ThreadRecord) => topics.channel(thread.parent_channel)

async function updatePacket(ctx: UserContext, thread: ThreadRecord) {
  return { cmd: 'thread_update', thread: await threadView(thread, ctx.store), channel: thread.parent_channel, global: true }
}

/** A message posted into an archived thread un-archives it; everyone who sees the forum is told. */
export async function unarchived(ctx: UserContext, thread: ThreadRecord): Promise<Broadcast> {
  const updated = (await ctx.store.threads.update(thread.id, { archived: false })) ?? thread
  return { topic: toForum(updated), packet: await updatePacket(ctx, updated) }
}

export const threadCreate = defineCommand({
  cmd: 'thread_create',
  throttle: true,
  schema: T.Object({ channel: Str, name: Str }),
  invalid: 'Channel and thread name are required',
  validate(_ctx, p) {
    if (!p.channel || typeof p.name !== 'string') fail('Channel and thread name are required')
  },
  async run(ctx, p) {
    const channel = (await ctx.store.channels.get(p.channel!)) ?? fail(E.channelNotFound)
    if (channel.type !== 'forum') fail('Threads can only be created in forum channels')
    if (!allows(ctx, channel, 'create_thread') || !allows(ctx, channel, 'view')) fail('You do not have permission to create threads in this channel')
    const name = threadName(p.name)
    const thread = await ctx.store.threads.insert({
      id: crypto.randomUUID(),
      name,
      parent_channel: channel.name,
      created_by: ctx.user.id,
      created_at: Date.now() / 1000,
      locked: false,
      archived: false,
    })
    return {
      broadcast: { topic: toForum(thread), packet: { cmd: 'thread_create', thread: await threadView(thread, ctx.store), channel: channel.name, global: true } },
      audit: [{ action: 'thread_create', target_id: thread.id, target_name: name, details: { channel: channel.name } }],
    }
  },
})

export const threadGet = defineCommand({
  cmd: 'thread_get',
  schema: T.Object(ThreadId),
  async run(ctx, p) {
    const { thread } = await threadAccess(ctx, p.thread_id, true)
    return { reply: { cmd: 'thread_get', thread: await threadView(thread, ctx.store) } }
  },
})

/** History of a thread, locked and archived ones too; a `null` start is the newest page (upstream: nothing). */
export const threadMessages = defineCommand({
  cmd: 'thread_messages',
  schema: T.Object({ ...ThreadId, start: Start, limit: Limit }),
  async run(ctx, p) {
    const { target } = await threadAccess(ctx, p.thread_id, true)
    const { messages } = await historyPage(ctx, target, p.start, p.limit)
    const views = await withPollState(ctx.store, ctx.user.id, await messageViews(messages, ctx.store.users))
    return { reply: { cmd: 'thread_messages', thread_id: target.thread_id, messages: views } }
  },
})

export const threadUpdate = defineCommand({
  cmd: 'thread_update',
  throttle: true,
  schema: T.Object({ ...ThreadId, name: Str, locked: T.Optional(T.Union([T.Boolean(), T.Null()])), archived: T.Optional(T.Union([T.Boolean(), T.Null()])) }),
  async run(ctx, p) {
    const { thread } = await threadAccess(ctx, p.thread_id, true)
    await requireModerator(ctx, thread)
    const patch: Partial<Pick<ThreadRecord, 'name' | 'locked' | 'archived'>> = {}
    if (p.name != null) patch.name = threadName(p.name)
    // Locking is for moderators only; from the creator it is ignored, as upstream does.
    if (p.locked != null && hasPermission(ctx.user.roles, 'manage_threads', await ctx.roles())) patch.locked = p.locked
    if (p.archived != null) patch.archived = p.archived
    const updated = (await ctx.store.threads.update(thread.id, patch)) ?? fail(E.threadNotFound)
    return {
      broadcast: { topic: toForum(updated), packet: await updatePacket(ctx, updated) },
      audit: [{ action: 'thread_update', target_id: updated.id, target_name: updated.name, details: patch }],
    }
  },
})

export const threadDelete = defineCommand({
  cmd: 'thread_delete',
  throttle: true,
  schema: T.Object(ThreadId),
  async run(ctx, p) {
    const { thread } = await threadAccess(ctx, p.thread_id, true)
    await requireModerator(ctx, thread)
    if (!(await ctx.store.threads.delete(thread.id))) fail(E.threadNotFound)
    // The thread's messages went with it; uploads they alone listed go too.
    ctx.services.attachmentCleanup.soon()
    return {
      broadcast: { topic: toForum(thread), packet: { cmd: 'thread_delete', thread_id: thread.id, channel: thread.parent_channel, global: true } },
      audit: [{ action: 'thread_delete', target_id: thread.id, target_name: thread.name, details: { channel: thread.parent_channel } }],
    }
  },
})

/** Joining and leaving share every step but the store call and the lock check. */
function membership(cmd: 'thread_join' | 'thread_leave') {
  return defineCommand({
    cmd,
    throttle: true,
    schema: T.Object(ThreadId),
    async run(ctx, p) {
      // Leaving needs no view: someone who lost sight of a forum may still drop out of its threads.
      const { thread } = await threadAccess(ctx, p.thread_id, cmd === 'thread_join')
      if (cmd === 'thread_join' && thread.locked) fail(E.threadLocked)
      const changed =
        (cmd === 'thread_join' ? await ctx.store.threads.join(thread.id, ctx.user.id) : await ctx.store.threads.leave(thread.id, ctx.user.id)) ??
        fail(E.threadNotFound)
      const packet = { cmd, thread: await threadView(changed, ctx.store), thread_id: changed.id, user: ctx.user.username, channel: changed.parent_channel, global: true }
      return { broadcast: { topic: toForum(changed), packet } }
    },
  })
}

export const threadJoin = membership('thread_join')
export const threadLeave = membership('thread_leave')

export const threadCommands = [threadCreate, threadGet, threadMessages, threadUpdate, threadDelete, threadJoin, threadLeave]
