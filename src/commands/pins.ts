import { Type as T } from '@sinclair/typebox'
import { topics } from '../net/topics.ts'
import { defineCommand, type UserContext } from '../protocol/command.ts'
import { fail } from '../protocol/errors.ts'
import { messageViews } from '../views/message.ts'
import { allows, locate, readableChannel, requireChangeable, requireReadableTarget, threadField, type Located } from './access.ts'

const Str = T.Optional(T.Union([T.String(), T.Null()]))
const Pin = T.Object({ channel: Str, thread_id: Str, id: Str })
type Pin = typeof Pin.static

function checkPin(p: { channel?: string | null; thread_id?: string | null }) {
  if (!p.channel && !p.thread_id) fail('Channel name not provided')
}

/** A thread by its ID, or a channel by name; an unknown channel is for the permission check to refuse. */
async function pinTarget(ctx: UserContext, p: Pin): Promise<Located | { channel: undefined }> {
  if (p.thread_id) {
    const located = await locate(ctx, p)
    requireChangeable(ctx, located)
    return located
  }
  const channel = await ctx.store.channels.get(p.channel!)
  return channel ? { target: { channel: channel.name, thread_id: null }, channel } : { channel }
}

/**
 * `pinned` in the broadcast is whether the operation found the message, not the new state
 * (compat-notes §1.11). A missing message is answered to the caller only, never broadcast.
 */
async function pin(ctx: UserContext, p: Pin, cmd: 'message_pin' | 'message_unpin') {
  const located = await pinTarget(ctx, p)
  if (!allows(ctx, located.channel, 'pin') || !allows(ctx, located.channel, 'view')) {
    fail(`You do not have permission to pin messages in this ${p.thread_id ? 'thread' : 'channel'}`)
  }
  if (!p.id) fail('Message ID is required')
  const { target } = located as Located
  const found = await ctx.store.messages.setPinned(target, p.id, cmd === 'message_pin')
  const packet = { cmd, id: p.id, channel: target.channel, ...threadField(target), pinned: found, global: true }
  return {
    ...(found ? { broadcast: { topic: topics.channel(target.channel), packet } } : { reply: packet }),
    audit: [{ action: cmd, target_id: p.id, details: { channel: target.channel, ...threadField(target) } }],
    events: [{ name: cmd, data: { channel: target.channel, ...threadField(target), id: p.id, pinned: found, user_id: ctx.user.id, username: ctx.user.username } }],
  }
}

export const messagePin = defineCommand({
  cmd: 'message_pin',
  throttle: true,
  schema: Pin,
  invalid: 'Channel name not provided',
  validate: (_ctx, p) => checkPin(p),
  run: (ctx, p) => pin(ctx, p, 'message_pin'),
})

export const messageUnpin = defineCommand({
  cmd: 'message_unpin',
  throttle: true,
  schema: Pin,
  invalid: 'Channel name not provided',
  validate: (_ctx, p) => checkPin(p),
  run: (ctx, p) => pin(ctx, p, 'message_unpin'),
})

export const messagesPinned = defineCommand({
  cmd: 'messages_pinned',
  schema: T.Object({ channel: Str, thread_id: Str }),
  invalid: 'Channel name not provided',
  validate: (_ctx, p) => checkPin(p),
  async run(ctx, p) {
    const located = p.thread_id ? await locate(ctx, p) : await readableChannel(ctx, p.channel!)
    requireReadableTarget(ctx, located)
    const { target } = located
    const messages = await messageViews(await ctx.store.messages.listPinned(target), ctx.store.users)
    return { reply: { cmd: 'messages_pinned', channel: target.channel, ...threadField(target), messages } }
  },
})

export const pinCommands = [messagePin, messageUnpin, messagesPinned]
