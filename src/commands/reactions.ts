import { Type as T } from '@sinclair/typebox'
import { topics } from '../net/topics.ts'
import { defineCommand, type UserContext } from '../protocol/command.ts'
import { E, fail } from '../protocol/errors.ts'
import { allows, locate, requireChangeable, threadField } from './access.ts'

const MAX_EMOJI = 200
/** Different emojis on one message (upstream: unbounded); each reaction rewrites the message's set. */
export const MAX_REACTION_EMOJIS = 20

const Reaction = T.Object({
  id: T.Optional(T.Union([T.String(), T.Null()])),
  emoji: T.Optional(T.Union([T.String(), T.Null()])),
  channel: T.Optional(T.Union([T.String(), T.Null()])),
  thread_id: T.Optional(T.Union([T.String(), T.Null()])),
})
type Reaction = typeof Reaction.static

function checkReaction(p: Reaction) {
  if (!p.id || !p.emoji) fail('Message ID and emoji are required')
  if ([...p.emoji].length > MAX_EMOJI) fail('Invalid emoji')
  if (!p.channel && !p.thread_id) fail('Channel or thread_id required')
}

/** Add and remove share every step but the store call, the denial text and the failure text. */
async function react(ctx: UserContext, p: Reaction, cmd: 'message_react_add' | 'message_react_remove') {
  const adding = cmd === 'message_react_add'
  const located = await locate(ctx, p)
  const { target, channel } = located
  requireChangeable(ctx, located)
  // Upstream checks only `react`; reading a channel's messages needs `view` as well.
  if (!allows(ctx, channel, 'react') || !allows(ctx, channel, 'view')) {
    fail(adding ? 'You do not have permission to add reactions to this message' : 'You do not have permission to remove reactions from this message')
  }
  // In a thread a missing message is named as such (commands.md §4.1); in a channel it is the store's failure.
  if (located.thread && !(await ctx.store.messages.get(target, p.id!))) fail(E.messageNotFound)
  if (adding) {
    const outcome = await ctx.store.messages.addReaction(target, p.id!, p.emoji!, ctx.user.id, MAX_REACTION_EMOJIS)
    if (outcome === 'full') fail(`This message already has ${MAX_REACTION_EMOJIS} different reactions`)
    if (outcome === 'failed') fail('Failed to add reaction')
  } else if (!(await ctx.store.messages.removeReaction(target, p.id!, p.emoji!, ctx.user.id))) {
    fail('Failed to remove reaction')
  }
  return {
    broadcast: {
      topic: topics.channel(target.channel),
      packet: { cmd, id: p.id, emoji: p.emoji, channel: target.channel, ...threadField(target), from: ctx.user.username, global: true },
    },
  }
}

export const messageReactAdd = defineCommand({
  cmd: 'message_react_add',
  throttle: true,
  schema: Reaction,
  invalid: 'Message ID and emoji are required',
  validate: (_ctx, p) => checkReaction(p),
  run: (ctx, p) => react(ctx, p, 'message_react_add'),
})

export const messageReactRemove = defineCommand({
  cmd: 'message_react_remove',
  throttle: true,
  schema: Reaction,
  invalid: 'Message ID and emoji are required',
  validate: (_ctx, p) => checkReaction(p),
  run: (ctx, p) => react(ctx, p, 'message_react_remove'),
})

export const reactionCommands = [messageReactAdd, messageReactRemove]
