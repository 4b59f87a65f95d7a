import { Type as T } from '@sinclair/typebox'
import { defineCommand } from '../protocol/command.ts'
import { fail } from '../protocol/errors.ts'
import { messageViews } from '../views/message.ts'
import { readableChannel } from './access.ts'

/** Upstream scans at most 50 hits, then cuts to `limits.search_results` (values below 1 become 1). */
const SCAN_LIMIT = 50

export const messagesSearch = defineCommand({
  cmd: 'messages_search',
  schema: T.Object({ channel: T.Optional(T.Union([T.String(), T.Null()])), query: T.Optional(T.Union([T.String(), T.Null()])) }),
  invalid: 'Channel name and query are required',
  validate(_ctx, p) {
    if (!p.channel || !p.query) fail('Channel name and query are required')
  },
  async run(ctx, p) {
    const { target } = await readableChannel(ctx, p.channel!)
    const limit = Math.min(SCAN_LIMIT, Math.max(1, ctx.config.limits.search_results))
    const results = await messageViews(await ctx.store.messages.search(target, p.query!, limit), ctx.store.users)
    return { reply: { cmd: 'messages_search', channel: target.channel, query: p.query, results } }
  },
})

export const searchCommands = [messagesSearch]
