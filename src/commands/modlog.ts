import { Type as T } from '@sinclair/typebox'
import { prune } from '../audit/modlog.ts'
import { defineCommand } from '../protocol/command.ts'
import { fail } from '../protocol/errors.ts'

const AUDIT_ACCESS = { anyPermission: ['view_audit_log', 'manage_users'] }

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 200
/** `modlog_summary` counts over this many newest entries. */
const SUMMARY_WINDOW = 10_000

const Filter = T.Optional(T.Union([T.String(), T.Null()]))

/** The paging fields with their defaults; `null` counts as absent. */
const paging = (p: { limit?: unknown; offset?: unknown; after?: unknown }) => ({
  limit: p.limit ?? DEFAULT_LIMIT,
  offset: p.offset ?? 0,
  after: p.after ?? undefined,
})

/** Newest first, filtered; expired entries are purged first. */
export const modlogGet = defineCommand({
  cmd: 'modlog_get',
  schema: T.Object({
    limit: T.Optional(T.Unknown()),
    offset: T.Optional(T.Unknown()),
    after: T.Optional(T.Unknown()),
    category: Filter,
    actor: Filter,
    target: Filter,
    action: Filter,
  }),
  requires: AUDIT_ACCESS,
  validate(_ctx, p) {
    const { limit, offset, after } = paging(p)
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) fail('Limit must be between 1 and 200')
    if (typeof offset !== 'number' || !Number.isInteger(offset) || offset < 0) fail('Offset must be a non-negative integer')
    if (after !== undefined && (typeof after !== 'number' || !Number.isFinite(after) || after < 0)) fail('After must be a valid Unix timestamp')
  },
  async run(ctx, p) {
    await prune(ctx.store.modlog, ctx.config)
    const { limit, offset, after } = paging(p) as { limit: number; offset: number; after?: number }
    // Empty filters filter nothing, as upstream's truthiness checks do.
    const { entries, total } = await ctx.store.modlog.list({
      limit,
      offset,
      after,
      category: p.category || undefined,
      actor: p.actor || undefined,
      target: p.target || undefined,
      action: p.action || undefined,
    })
    return { reply: { cmd: 'modlog_get', entries, total, offset, limit } }
  },
})

/** Counts per `category.action` and per category over the newest entries, and the stored total. */
export const modlogSummary = defineCommand({
  cmd: 'modlog_summary',
  schema: T.Object({}),
  requires: AUDIT_ACCESS,
  async run(ctx) {
    await prune(ctx.store.modlog, ctx.config)
    return { reply: { cmd: 'modlog_summary', ...(await ctx.store.modlog.summary(SUMMARY_WINDOW)) } }
  },
})

export const modlogCommands = [modlogGet, modlogSummary]
