import { Type as T } from '@sinclair/typebox'
import { topics } from '../net/topics.ts'
import { defineCommand, type UserContext } from '../protocol/command.ts'
import { fail } from '../protocol/errors.ts'
import { messageViews } from '../views/message.ts'
import { allows, readableChannel } from './access.ts'

const Pin = T.Object({ channel: T.Optional(T.Union([T.String(), T.Null()])), id: T.Optional(T.Union([T.String(), T.Null()])) })
type Pin = typeof Pin.static

function checkPin(p: Pin) {
  if (!p.channel) fail('Channel name not provided')
}

/**
 * `pinned` in the broadcast is whether the operation found the message, not the new state
 * (compat-notes §1.11). A missing message is answered to the caller only, never broadcast.
 */
async function pin(ctx: UserContext, p: Pin, cmd: 'message_pin' | 'message_unpin') {
  const channel = await ctx.store.channels.get(p.channel!)
  if (!allows(ctx, channel, 'pin') || !allows(ctx, channel, 'view')) fail('You do not have permission to pin messages in this channel')
  if (!p.id) fail('Message ID is required')
  const target = { channel: channel!.name, thread_id: null }
  const found = await ctx.store.messages.setPinned(target, p.id, cmd === 'message_pin')
  const packet = { cmd, id: p.id, channel: target.channel, pinned: found, global: true }
  return {
    ...(found ? { broadcast: { topic: topics.channel(target.channel), packet } } : { reply: packet }),
    audit: [{ action: cmd, target_id: p.id, details: { channel: target.channel } }],
    events: [{ name: cmd, data: { channel: target.channel, id: p.id, pinned: found, user_id: ctx.user.id, username: ctx.user.username } }],
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
  schema: T.Object({ channel: T.Optional(T.Union([T.String(), T.Null()])) }),
  invalid: 'Channel name not provided',
  validate: (_ctx, p) => checkPin(p),
  async run(ctx, p) {
    const { target } = await readableChannel(ctx, p.channel!)
    const messages = await messageViews(await ctx.store.messages.listPinned(target), ctx.store.users)
    return { reply: { cmd: 'messages_pinned', channel: target.channel, messages } }
  },
})

export const pinCommands = [messagePin, messageUnpin, messagesPinned]
