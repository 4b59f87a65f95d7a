import { Type as T } from '@sinclair/typebox'
import { hasPermission } from '../auth/permissions.ts'
import { topics } from '../net/topics.ts'
import { defineCommand, type UserContext } from '../protocol/command.ts'
import { embedsError } from '../protocol/embeds.ts'
import { E, fail } from '../protocol/errors.ts'
import { TargetGoneError, type PollOption, type PollRecord } from '../store/types.ts'
import { messageView } from '../views/message.ts'
import { pollEmbed, pollEndPacket, pollResults, pollView } from '../views/poll.ts'
import { allows, locate } from './access.ts'
import { unarchived } from './threads.ts'
import { findMentions, wirePings } from './mentions.ts'

/** data.md §3.5 documents these; upstream never enforced them. Emojis and the end time are bounded here too. */
const POLL_LIMITS = { question: 300, minOptions: 2, maxOptions: 10, text: 100, id: 50, emoji: 64, days: 365 } as const

const Str = T.Union([T.String(), T.Null()])
const Num = T.Union([T.Number(), T.Null()])
/** How poll_vote, poll_end, poll_results and poll_get name a poll: `poll_id` wins over `message_id`. */
const PollRef = { poll_id: T.Optional(Str), message_id: T.Optional(Str) }

const nowSeconds = () => Date.now() / 1000
const codePoints = (text: string) => [...text].length
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** String options get their index as ID; so do objects without one (commands.md §7.1). */
function parseOption(item: unknown, i: number): PollOption {
  const given = typeof item === 'string' ? { text: item } : isObject(item) ? item : {}
  const text = typeof given.text === 'string' ? given.text.trim() : ''
  if (text === '') fail(`Option ${i} must have 'text'`)
  if (codePoints(text) > POLL_LIMITS.text) fail(`Option ${i} text must be at most ${POLL_LIMITS.text} characters`)
  const id = given.id ?? String(i)
  if (typeof id !== 'string' || id.length < 1 || id.length > POLL_LIMITS.id) fail(`Option ${i} id must be 1 to ${POLL_LIMITS.id} characters`)
  const emoji = given.emoji ?? ''
  if (typeof emoji !== 'string' || codePoints(emoji) > POLL_LIMITS.emoji) fail(`Option ${i} emoji must be at most ${POLL_LIMITS.emoji} characters`)
  return emoji === '' ? { id, text } : { id, text, emoji }
}

function parseOptions(raw: unknown): PollOption[] {
  if (!Array.isArray(raw) || raw.length < POLL_LIMITS.minOptions) fail('At least 2 options are required')
  if (raw.length > POLL_LIMITS.maxOptions) fail(`Cannot have more than ${POLL_LIMITS.maxOptions} options`)
  const seen = new Set<string>()
  return raw.map((item, i) => {
    const option = parseOption(item, i)
    if (seen.has(option.id)) fail(`Duplicate option id: ${option.id}`)
    seen.add(option.id)
    return option
  })
}

/** `expires_at` wins; a zero or absent `duration_hours` means no end time, as upstream. */
function parseEnd(p: { expires_at?: number | null; duration_hours?: number | null }, now: number): number | null {
  const at = p.expires_at ?? (p.duration_hours ? now + p.duration_hours * 3600 : null)
  if (at === null) return null
  if (!(at > now)) fail('Poll end time must be in the future')
  if (at > now + POLL_LIMITS.days * 86_400) fail(`Poll end time must be at most ${POLL_LIMITS.days} days away`)
  return at
}

const targetGone = (error: unknown) => (error instanceof TargetGoneError ? fail(E.channelNotFound) : Promise.reject(error))

export const pollCreate = defineCommand({
  cmd: 'poll_create',
  throttle: true,
  requires: { permission: 'send_messages' },
  schema: T.Object({
    channel: T.Optional(Str),
    thread_id: T.Optional(Str),
    question: T.Optional(Str),
    options: T.Optional(T.Unknown()),
    allow_multiselect: T.Optional(T.Union([T.Boolean(), T.Null()])),
    expires_at: T.Optional(Num),
    duration_hours: T.Optional(Num),
  }),
  async run(ctx, p) {
    if (!p.channel && !p.thread_id) fail('Channel or thread_id is required')
    const question = (p.question ?? '').trim()
    if (question === '') fail('Question is required')
    if (codePoints(question) > POLL_LIMITS.question) fail(`Question must be at most ${POLL_LIMITS.question} characters`)
    const options = parseOptions(p.options)
    const now = nowSeconds()
    const expires_at = parseEnd(p, now)
    const { target, channel, thread } = await locate(ctx, p)
    // A poll is a message: a locked thread takes none, and one posted into an archived thread revives it.
    if (thread?.locked) fail(E.threadLocked)
    const where = target.thread_id ? 'thread' : 'channel'
    if (!allows(ctx, channel, 'send') || !allows(ctx, channel, 'view')) fail(`You do not have permission to send messages in this ${where}`)
    if (!target.thread_id && channel.type !== 'text') fail('Cannot send messages in this channel type')
    const draft = { id: crypto.randomUUID(), question, options, allow_multiselect: p.allow_multiselect ?? false, expires_at }
    const embed = pollEmbed(draft)
    // Long texts in many-byte characters can still outgrow a message's embed budget: refused like any message's.
    const tooBig = embedsError([embed])
    if (tooBig) fail(tooBig)
    const inserted = ctx.store.messages.insert({ channel: target.channel, thread_id: target.thread_id, user: ctx.user.id, content: '', embeds: [embed] })
    ctx.release()
    const stored = await inserted.catch(targetGone)
    const poll = await ctx.store.polls
      .insert({ ...draft, message_id: stored.id, channel: target.channel, thread_id: target.thread_id, created_by: ctx.user.id, created_at: stored.timestamp })
      .catch(targetGone)
    if (poll.expires_at !== null) ctx.services.pollExpiry.changed()
    const message = { ...(await messageView(stored, ctx.store.users)), pings: wirePings(await findMentions(stored.content, ctx.store.users)) }
    return {
      // The message first, then the reply that refers to it (clients add the poll from message_new).
      announce: [
        {
          topic: topics.channel(poll.channel),
          packet: { cmd: 'message_new', message, channel: poll.channel, thread_id: poll.thread_id, global: true },
        },
        ...(thread?.archived ? [await unarchived(ctx, thread)] : []),
      ],
      reply: {
        cmd: 'poll_create',
        poll_id: poll.id,
        message_id: poll.message_id,
        channel: poll.channel,
        thread_id: poll.thread_id,
        question: poll.question,
        options: poll.options,
        allow_multiselect: poll.allow_multiselect,
        expires_at: poll.expires_at,
      },
    }
  },
})

async function findPoll(ctx: UserContext, p: { poll_id?: string | null; message_id?: string | null }): Promise<PollRecord> {
  if (!p.poll_id && !p.message_id) fail('poll_id or message_id is required')
  const poll = p.poll_id ? await ctx.store.polls.get(p.poll_id) : await ctx.store.polls.getByMessage(p.message_id!)
  if (!poll) return fail('Poll not found')
  return poll
}

/** A thread poll's channel is the thread's parent, whose viewers see the thread. */
async function requireViewer(ctx: UserContext, poll: PollRecord) {
  if (!allows(ctx, await ctx.store.channels.get(poll.channel), 'view')) fail('You do not have permission to view this poll')
}

/**
 * The caller's whole choice. `option_id` or a string `option_ids` is a choice of one; an empty
 * `option_ids` (with no `option_id`) withdraws every vote, where upstream answered that nothing
 * was given.
 */
function requestedOptions(p: { option_ids?: string[] | string | null; option_id?: string | null }): string[] {
  const { option_ids: ids, option_id: id } = p
  if (Array.isArray(ids) && ids.length > 0) return [...new Set(ids)]
  if (typeof ids === 'string' && ids !== '') return [ids]
  if (id) return [id]
  if (Array.isArray(ids)) return []
  return fail('option_id or option_ids is required')
}

const VOTE_REFUSED = { missing: 'Poll not found', ended: 'Poll has ended', expired: 'Poll has expired' } as const

const isExpired = (poll: PollRecord, now: number) => poll.expires_at !== null && now > poll.expires_at

export const pollVote = defineCommand({
  cmd: 'poll_vote',
  throttle: true,
  schema: T.Object({
    ...PollRef,
    option_ids: T.Optional(T.Union([T.Array(T.String()), T.String(), T.Null()])),
    option_id: T.Optional(Str),
  }),
  async run(ctx, p) {
    const poll = await findPoll(ctx, p)
    const chosen = requestedOptions(p)
    await requireViewer(ctx, poll)
    const now = nowSeconds()
    if (poll.ended) fail('Poll has ended')
    if (isExpired(poll, now)) fail('Poll has expired')
    const known = new Set(poll.options.map((o) => o.id))
    const invalid = chosen.find((id) => !known.has(id))
    if (invalid !== undefined) fail(`Invalid option: ${invalid}`)
    if (!poll.allow_multiselect && chosen.length > 1) fail('This poll allows only one option')
    // Checked again inside the write: the poll may have ended since it was read.
    const outcome = await ctx.store.polls.vote(poll.id, ctx.user.id, chosen, now)
    if (outcome.status !== 'voted') return fail(VOTE_REFUSED[outcome.status])
    const { option_ids } = outcome
    const results = await pollResults(ctx.store, poll)
    return {
      announce: [
        {
          topic: topics.channel(poll.channel),
          packet: {
            cmd: 'poll_vote_update',
            poll_id: poll.id,
            message_id: poll.message_id,
            channel: poll.channel,
            thread_id: poll.thread_id,
            user: ctx.user.username,
            option_ids,
            results,
          },
        },
      ],
      reply: { cmd: 'poll_vote', poll_id: poll.id, option_ids, results },
    }
  },
})

export const pollEnd = defineCommand({
  cmd: 'poll_end',
  throttle: true,
  schema: T.Object(PollRef),
  async run(ctx, p) {
    const poll = await findPoll(ctx, p)
    if (poll.ended) fail('Poll has already ended')
    if (poll.created_by !== ctx.user.id && !hasPermission(ctx.user.roles, 'manage_messages', await ctx.roles())) {
      fail(E.permissionRequired('manage_messages'))
    }
    // Beyond upstream: nobody ends a poll in a channel they cannot see.
    await requireViewer(ctx, poll)
    // A poll past its end time (the timer not there yet) ended then, as the timer would record it.
    const ended = await ctx.store.polls.end(poll.id, Math.min(nowSeconds(), poll.expires_at ?? Infinity))
    if (!ended) return fail('Failed to end poll')
    if (ended.expires_at !== null) ctx.services.pollExpiry.changed()
    const packet = await pollEndPacket(ctx.store, ended)
    return {
      // A viewing caller hears the broadcast, then gets its reply (commands.md §7.3).
      announce: [{ topic: topics.channel(ended.channel), packet }],
      reply: { cmd: 'poll_end', poll_id: ended.id, results: packet.results },
    }
  },
})

export const pollResultsCommand = defineCommand({
  cmd: 'poll_results',
  // Once a poll has ended, its results name every voter.
  throttle: true,
  schema: T.Object(PollRef),
  async run(ctx, p) {
    const poll = await findPoll(ctx, p)
    await requireViewer(ctx, poll)
    const mine = await ctx.store.polls.votesOf(poll.id, ctx.user.id)
    return { reply: { cmd: 'poll_results', poll_id: poll.id, message_id: poll.message_id, results: await pollResults(ctx.store, poll, mine) } }
  },
})

export const pollGet = defineCommand({
  cmd: 'poll_get',
  schema: T.Object(PollRef),
  async run(ctx, p) {
    const poll = await findPoll(ctx, p)
    await requireViewer(ctx, poll)
    const mine = await ctx.store.polls.votesOf(poll.id, ctx.user.id)
    return { reply: { cmd: 'poll_get', poll: await pollView(poll, ctx.store.users, mine) } }
  },
})

export const pollCommands = [pollCreate, pollVote, pollEnd, pollResultsCommand, pollGet]
