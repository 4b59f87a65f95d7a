import { Type as T } from '@sinclair/typebox'
import type { UserContext } from '../protocol/command.ts'
import type { Target } from '../store/types.ts'

const DEFAULT_PAGE = 100
const MAX_PAGE = 200

/** `start`: a count back from the newest message, or a message ID. */
export const Start = T.Optional(T.Union([T.Integer(), T.String(), T.Null()]))
export const Limit = T.Optional(T.Union([T.Integer(), T.Null()]))

/**
 * A page of history (commands.md §3.4): a numeric `start` counts back from the newest, a message
 * ID as `start` gives the page just older than it (its `range` then holds the slice's indices,
 * oldest = 0). Shared by `messages_get` and `thread_messages`.
 */
export async function historyPage(ctx: UserContext, target: Target, start: number | string | null | undefined, limit: number | null | undefined) {
  const requested = limit && limit > 0 ? limit : DEFAULT_PAGE
  const size = Math.min(requested, MAX_PAGE)
  if (typeof start === 'string') {
    const page = (await ctx.store.messages.listBefore(target, start, size)) ?? { messages: [], first: 0 }
    return { messages: page.messages, range: { start: page.first, end: page.first + page.messages.length }, newestPage: false }
  }
  const from = Math.max(0, start ?? 0)
  const messages = await ctx.store.messages.listLatest(target, from, size)
  return { messages, range: { start: start ?? 0, end: (start ?? 0) + requested }, newestPage: from === 0 }
}

