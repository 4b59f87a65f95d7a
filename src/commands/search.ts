import { Type as T } from '@sinclair/typebox'
import { defineCommand } from '../protocol/command.ts'
import { fail } from '../protocol/errors.ts'
import { messageViews } from '../views/message.ts'
import { locate, readableChannel, requireReadableTarget, threadField } from './access.ts'

/** Upstream scans at most 50 hits, then cuts to `limits.search_results` (values below 1 become 1). */
const SCAN_LIMIT = 50

/** Upstream has no bound; a long query costs index work per character, so it is bounded. */
export const MAX_QUERY = 200
const CONTROL = /[\p{Cc}\p{Cs}]/u

export const messagesSearch = defineCommand({
  cmd: 'messages_search',
  schema: T.Object({
    channel: T.Optional(T.Union([T.String(), T.Null()])),
    thread_id: T.Optional(T.Union([T.String(), T.Null()])),
    query: T.Optional(T.Union([T.String(), T.Null()])),
  }),
  invalid: 'Channel name and query are required',
  throttle: true,
  validate(_ctx, p) {
    if (!(p.channel || p.thread_id) || !p.query) fail('Channel name and query are required')
    if ([...p.query].length > MAX_QUERY) fail(`Search query too long (max ${MAX_QUERY} characters)`)
    if (CONTROL.test(p.query)) fail('Search query contains invalid characters')
  },
  async run(ctx, p) {
    const located = p.thread_id ? await locate(ctx, p) : await readableChannel(ctx, p.channel!)
    requireReadableTarget(ctx, located)
    const { target } = located
    const limit = Math.min(SCAN_LIMIT, Math.max(1, ctx.config.limits.search_results))
    const results = await messageViews(await ctx.store.messages.search(target, p.query!, limit), ctx.store.users)
    return { reply: { cmd: 'messages_search', channel: target.channel, ...threadField(target), query: p.query, results } }
  },
})

export const searchCommands = [messagesSearch]
