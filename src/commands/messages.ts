import { Type as T } from '@sinclair/typebox'
import { topics } from '../net/topics.ts'
import { attachmentIds } from '../attachments/message.ts'
import { attachmentView } from '../attachments/view.ts'
import { defineCommand, type Context, type UserContext } from '../protocol/command.ts'
import { embedsError } from '../protocol/embeds.ts'
import { E, fail, failPlain } from '../protocol/errors.ts'
import { TargetGoneError, type AttachmentRecord, type NewMessage } from '../store/types.ts'
import { messageView, messageViews, usernameOf } from '../views/message.ts'
import { withPollState } from '../views/poll.ts'
import { allows, locate, placeOf, readableChannel, requireChangeable, requireReadableTarget, threadField } from './access.ts'
import { historyPage, Limit, Start } from './history.ts'
import { findMentions, hasMentions, pingTargets, wirePings } from './mentions.ts'
import { unarchived } from './threads.ts'
import { positionMoved } from './unreads.ts'

const Name = T.Union([T.String(), T.Null()])
const Id = T.Union([T.String(), T.Null()])

const codePoints = (text: string) => [...text].length

function checkLength(ctx: Context, content: string) {
  const max = ctx.config.limits.post_content
  if (codePoints(content) > max) fail(`Message too long. Maximum length is ${max} characters`)
}

function checkEmbeds(embeds: unknown) {
  if (embeds === undefined || embeds === null) return
  const problem = embedsError(embeds)
  if (problem) fail(problem)
}

/**
 * The uploads a message lists (commands.md §3.1 step 10): the sender's own, unexpired. One
 * lookup for the whole list, none for a message without attachments.
 */
async function claimAttachments(ctx: UserContext, attachments: unknown): Promise<AttachmentRecord[]> {
  if (attachments === undefined || attachments === null || (Array.isArray(attachments) && attachments.length === 0)) return []
  if (!ctx.config.attachments.enabled) fail('Attachments are disabled')
  if (!Array.isArray(attachments)) fail('Attachments must be an array')
  const ids: string[] = []
  for (const item of attachments as unknown[]) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) fail('Each attachment must be an object')
    const id = (item as { id?: unknown }).id
    if (id === undefined || id === null || id === '') fail('Attachment ID is required')
    ids.push(String(id))
  }
  const found = new Map((await ctx.store.attachments.getMany(ids)).map((record) => [record.id, record]))
  const now = ctx.services.attachments.now()
  const claimed = new Map<string, AttachmentRecord>()
  for (const id of ids) {
    const record = found.get(id)
    if (!record || record.expires_at <= now) fail(`Attachment ${id} not found or expired`)
    if (record.uploader_id !== ctx.user.id) fail('You can only attach your own uploads')
    claimed.set(id, record)
  }
  return [...claimed.values()]
}

export const messageNew = defineCommand({
  cmd: 'message_new',
  schema: T.Object({
    channel: T.Optional(Name),
    thread_id: T.Optional(Id),
    content: T.Optional(T.Union([T.String(), T.Null()])),
    reply_to: T.Optional(Id),
    ping: T.Optional(T.Union([T.Boolean(), T.Null()])),
    embeds: T.Optional(T.Unknown()),
    attachments: T.Optional(T.Unknown()),
  }),
  rateLimit: 'validated',
  rateLimitReason: true,
  validate(ctx, p) {
    const hasAttachments = Array.isArray(p.attachments) && p.attachments.length > 0
    const missing = [
      ...(p.channel || p.thread_id ? [] : ['channel or thread_id']),
      ...(typeof p.content === 'string' || hasAttachments ? [] : ['content or attachments']),
    ]
    if (missing.length > 0) fail(`Missing fields: ${missing.join(', ')}`)
    const content = (p.content ?? '').trim()
    if (content === '' && !hasAttachments) fail('Message content or attachments cannot be empty')
    checkEmbeds(p.embeds)
    checkLength(ctx, content)
  },
  async run(ctx, p) {
    const located = await locate(ctx, p)
    const { target, channel, thread } = located
    if (thread?.locked) fail(E.threadLocked)
    if (!allows(ctx, channel, 'send') || !allows(ctx, channel, 'view')) fail(`You do not have permission to send messages in this ${placeOf(located)}`)
    // A forum holds threads, not messages of its own.
    if (!thread && channel.type !== 'text') fail('Cannot send messages in this channel type')
    const replied = p.reply_to ? await ctx.store.messages.get(target, p.reply_to) : undefined
    if (p.reply_to && !replied) fail("The message you're trying to reply to was not found")
    const attachments = await claimAttachments(ctx, p.attachments)
    const draft: NewMessage = { channel: target.channel, thread_id: target.thread_id, user: ctx.user.id, content: (p.content ?? '').trim() }
    if (replied) draft.reply_to = { id: replied.id, user: replied.user }
    if (typeof p.ping === 'boolean') draft.ping = p.ping
    if (Array.isArray(p.embeds) && p.embeds.length > 0) draft.embeds = p.embeds
    // Stored as the client objects of send time (data.md §3.4), so reading history needs no lookup.
    if (attachments.length > 0) draft.attachments = attachments.map((record) => attachmentView(record, ctx.config))
    // Worked out before the insert: the ping rows are stored with the message, in its transaction.
    const mentions = await findMentions(draft.content, ctx.store.users)
    const pingsReply = replied && p.ping !== false ? replied.user : undefined
    const inserted = ctx.store.messages.insert(draft, pingTargets(mentions, pingsReply))
    ctx.release()
    // Renamed or deleted since it was looked up: not stored, so not acknowledged either.
    const stored = await inserted.catch((error) => (error instanceof TargetGoneError ? fail(E.channelNotFound) : Promise.reject(error)))
    const repliedName = pingsReply === undefined ? undefined : await usernameOf(pingsReply, ctx.store.users)
    const message = { ...(await messageView(stored, ctx.store.users)), pings: wirePings(mentions, repliedName) }
    return {
      broadcast: {
        topic: topics.channel(target.channel),
        packet: { cmd: 'message_new', message, channel: target.channel, thread_id: target.thread_id, global: true },
      },
      // Posting into an archived thread brings it back (commands.md §3.1 step 8).
      publish: thread?.archived ? [await unarchived(ctx, thread)] : [],
      ...(mentions.userIds.length > 0 || mentions.roles.length > 0 || pingsReply !== undefined
        ? { push: { senderId: ctx.user.id, senderName: ctx.user.username, channel, content: stored.content, userIds: mentions.userIds, roles: mentions.roles, repliedUserId: pingsReply } }
        : {}),
      events: [
        {
          name: 'new_message',
          data: { content: stored.content, channel: target.channel, user_id: ctx.user.id, username: ctx.user.username, message: stored },
        },
      ],
    }
  },
})

export const messageEdit = defineCommand({
  cmd: 'message_edit',
  schema: T.Object({
    id: T.Optional(Id),
    channel: T.Optional(Name),
    thread_id: T.Optional(Id),
    content: T.Optional(T.Union([T.String(), T.Null()])),
    embeds: T.Optional(T.Unknown()),
  }),
  invalid: 'Invalid message edit format',
  rateLimit: 'first',
  validate(ctx, p) {
    if (!p.id || !(p.channel || p.thread_id) || typeof p.content !== 'string' || p.content.trim() === '') fail('Invalid message edit format')
    checkEmbeds(p.embeds)
    checkLength(ctx, p.content.trim())
  },
  async run(ctx, p) {
    const located = await locate(ctx, p)
    const { target, channel } = located
    requireChangeable(ctx, located)
    const message = await ctx.store.messages.get(target, p.id!)
    if (!message) return fail('Message not found or cannot be edited')
    if (message.user !== ctx.user.id) fail('You do not have permission to edit this message')
    // Someone who can no longer see a channel no longer changes what is said there.
    if (!allows(ctx, channel, 'edit_own') || !allows(ctx, channel, 'view')) fail(`You do not have permission to edit your own message in this ${placeOf(located)}`)
    const embeds = Array.isArray(p.embeds) ? p.embeds : undefined
    const content = p.content!.trim()
    const mentions = await findMentions(content, ctx.store.users)
    const pingsReply = message.reply_to && message.ping !== false ? message.reply_to.user : undefined
    const edited = await ctx.store.messages.edit(target, message.id, content, embeds, pingTargets(mentions, pingsReply))
    if (!edited) return fail('Failed to edit message')
    const view = await messageView(edited, ctx.store.users)
    // The edit broadcast names mentions only, as upstream's did.
    const pings = wirePings(mentions)
    return {
      broadcast: {
        topic: topics.channel(target.channel),
        packet: {
          cmd: 'message_edit',
          id: edited.id,
          content: edited.content,
          message: hasMentions(pings) ? { ...view, pings } : view,
          channel: target.channel,
          ...threadField(target),
          global: true,
        },
      },
      events: [
        {
          name: 'message_edit',
          data: { channel: target.channel, thread_id: target.thread_id, id: edited.id, content: edited.content, user_id: ctx.user.id, username: ctx.user.username },
        },
      ],
    }
  },
})

export const messageDelete = defineCommand({
  cmd: 'message_delete',
  throttle: true,
  schema: T.Object({ id: T.Optional(Id), channel: T.Optional(Name), thread_id: T.Optional(Id) }),
  invalid: 'Invalid message delete format',
  validate(_ctx, p) {
    if (!p.id || !(p.channel || p.thread_id)) fail('Invalid message delete format')
  },
  async run(ctx, p) {
    const located = await locate(ctx, p)
    const { target, channel } = located
    requireChangeable(ctx, located)
    const message = await ctx.store.messages.get(target, p.id!)
    if (!message) return fail('Message not found or cannot be deleted')
    if (message.user === ctx.user.id) {
      if (!allows(ctx, channel, 'delete_own') || !allows(ctx, channel, 'view')) {
        fail(`You do not have permission to delete your own message in this ${placeOf(located)}`)
      }
    } else if (!allows(ctx, channel, 'delete') || !allows(ctx, channel, 'view')) {
      fail('You do not have permission to delete this message')
    }
    if (!(await ctx.store.messages.delete(target, message.id))) fail('Failed to delete message')
    await ctx.services.attachments.messagesDeleted(attachmentIds(message.attachments))
    return {
      broadcast: {
        topic: topics.channel(target.channel),
        packet: { cmd: 'message_delete', id: message.id, channel: target.channel, ...threadField(target), global: true },
      },
      audit: [{ action: 'message_delete', target_id: message.id, details: { channel: target.channel, ...threadField(target) } }],
      events: [
        { name: 'message_delete', data: { channel: target.channel, id: message.id, user_id: ctx.user.id, username: ctx.user.username, ...threadField(target) } },
      ],
    }
  },
})

/** `messages_around` bounds: default and most messages on each side of the target. */
const AROUND_DEFAULT = 50
const AROUND_MAX = 200


export const messagesGet = defineCommand({
  cmd: 'messages_get',
  schema: T.Object({ channel: T.Optional(Name), thread_id: T.Optional(Id), start: Start, limit: Limit }),
  validate(_ctx, p) {
    if (!p.channel && !p.thread_id) fail('Channel or thread_id required')
  },
  async run(ctx, p) {
    const located = await locate(ctx, p)
    requireReadableTarget(ctx, located)
    const { target } = located
    const { messages, range, newestPage } = await historyPage(ctx, target, p.start, p.limit)
    const views = await withPollState(ctx.store, ctx.user.id, await messageViews(messages, ctx.store.users))
    const reply = { cmd: 'messages_get', channel: target.channel, ...threadField(target), messages: views, range }
    // Only the newest page marks the channel read (upstream acked whatever page was fetched).
    const newest = messages.at(-1)
    if (!newestPage || !newest) return { reply }
    await ctx.store.unreads.set(ctx.user.id, target, newest.id)
    return { reply, publish: [positionMoved(ctx.user.id, target, newest.id)] }
  },
})

/** A window around a message: `above` newer and `below` older ones, the newest message included (upstream dropped it). */
export const messagesAround = defineCommand({
  cmd: 'messages_around',
  schema: T.Object({
    around: T.Optional(Id),
    channel: T.Optional(Name),
    thread_id: T.Optional(Id),
    bounds: T.Optional(T.Union([T.Object({ above: T.Optional(T.Integer({ minimum: 0 })), below: T.Optional(T.Integer({ minimum: 0 })) }), T.Null()])),
  }),
  validate(_ctx, p) {
    if (!p.around) fail('around (message ID) is required')
    if (!p.channel && !p.thread_id) fail('Channel or thread_id required')
  },
  async run(ctx, p) {
    const located = await locate(ctx, p)
    requireReadableTarget(ctx, located)
    const { target } = located
    const above = Math.min(p.bounds?.above ?? AROUND_DEFAULT, AROUND_MAX)
    const below = Math.min(p.bounds?.below ?? AROUND_DEFAULT, AROUND_MAX)
    const window = (await ctx.store.messages.listAround(target, p.around!, above, below)) ?? fail(E.messageNotFound)
    return {
      reply: {
        cmd: 'messages_around',
        channel: target.channel,
        thread_id: target.thread_id,
        messages: await withPollState(ctx.store, ctx.user.id, await messageViews(window.messages, ctx.store.users)),
        range: { start: window.first, end: window.first + window.messages.length },
      },
    }
  },
})

export const messageGet = defineCommand({
  cmd: 'message_get',
  schema: T.Object({ id: T.Optional(Id), channel: T.Optional(Name), thread_id: T.Optional(Id) }),
  invalid: 'Channel/thread and message ID are required',
  validate(_ctx, p) {
    if (!p.id || !(p.channel || p.thread_id)) fail('Channel/thread and message ID are required')
  },
  async run(ctx, p) {
    const located = await locate(ctx, p)
    requireReadableTarget(ctx, located)
    const { target } = located
    const message = await ctx.store.messages.get(target, p.id!)
    if (!message) return fail(E.messageNotFound)
    const [view] = await withPollState(ctx.store, ctx.user.id, [await messageView(message, ctx.store.users)])
    return { reply: { cmd: 'message_get', channel: target.channel, ...threadField(target), message: view } }
  },
})

/** Upstream has no cap on `limit`; replies are read in one query, so it is bounded like a page. */
const MAX_REPLIES = 200

export const messageReplies = defineCommand({
  cmd: 'message_replies',
  schema: T.Object({ id: T.Optional(Id), channel: T.Optional(Name), thread_id: T.Optional(Id), limit: Limit }),
  invalid: 'Channel name and message ID are required',
  validate(_ctx, p) {
    if (!p.id || !(p.channel || p.thread_id)) fail('Channel name and message ID are required')
  },
  async run(ctx, p) {
    const located = p.thread_id ? await locate(ctx, p) : await readableChannel(ctx, p.channel!)
    requireReadableTarget(ctx, located)
    const { target } = located
    const limit = Math.min(p.limit && p.limit > 0 ? p.limit : 50, MAX_REPLIES)
    const replies = await ctx.store.messages.listReplies(target, p.id!, limit)
    return {
      reply: {
        cmd: 'message_replies',
        channel: target.channel,
        ...threadField(target),
        message_id: p.id,
        replies: await messageViews(replies, ctx.store.users),
      },
    }
  },
})

/** A message's embeds; like upstream's channel path it needs no text-channel check, but it needs `view`. */
export const embedsList = defineCommand({
  cmd: 'embeds_list',
  schema: T.Object({ id: T.Optional(Id), channel: T.Optional(Name), thread_id: T.Optional(Id) }),
  invalid: 'Message ID is required',
  validate(_ctx, p) {
    if (!p.id) fail('Message ID is required')
    if (!p.channel && !p.thread_id) fail('Channel or thread_id is required')
  },
  async run(ctx, p) {
    const located = await locate(ctx, p)
    if (located.thread) requireReadableTarget(ctx, located)
    else if (!allows(ctx, located.channel, 'view')) failPlain(E.channelAccessDenied)
    const message = (await ctx.store.messages.get(located.target, p.id!)) ?? fail(E.messageNotFound)
    return { reply: { cmd: 'embeds_list', id: message.id, embeds: message.embeds ?? [] } }
  },
})

export const typing = defineCommand({
  cmd: 'typing',
  schema: T.Object({ channel: T.Optional(Name), thread_id: T.Optional(Id) }),
  invalid: 'Channel name or thread_id not provided',
  rateLimit: 'first',
  rateLimitReason: true,
  validate(_ctx, p) {
    if (!p.channel && !p.thread_id) fail('Channel name or thread_id not provided')
  },
  async run(ctx, p) {
    const located = await locate(ctx, p)
    const { target, channel } = located
    if (located.thread) {
      if (!allows(ctx, channel, 'send') || !allows(ctx, channel, 'view')) fail('You do not have permission to send messages in this thread')
    } else if (channel.type !== 'text' || !allows(ctx, channel, 'view')) {
      // Unlike the read commands, typing's access error carries `src` (commands.md §3.9).
      fail(E.channelAccessDenied)
    }
    return {
      broadcast: {
        topic: topics.channel(target.channel),
        packet: { cmd: 'typing', channel: target.channel, user: ctx.user.username, thread_id: target.thread_id, global: true },
      },
    }
  },
})

export const messageCommands = [messageNew, messageEdit, messageDelete, messagesGet, messagesAround, messageGet, messageReplies, embedsList, typing]
