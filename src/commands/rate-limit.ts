import { Type as T } from '@sinclair/typebox'
import { defineCommand, type Context } from '../protocol/command.ts'
import { E, fail } from '../protocol/errors.ts'

const requireLimiter = (ctx: Context) => {
  if (!ctx.config.rate_limiting.enabled) fail('Rate limiter not available or disabled')
}

export const rateLimitStatus = defineCommand({
  cmd: 'rate_limit_status',
  schema: T.Object({ user: T.Optional(T.Union([T.String(), T.Null()])) }),
  async run(ctx, p) {
    const target = p.user ? await ctx.store.users.resolve(p.user) : ctx.user
    if (target?.id !== ctx.user.id && !ctx.user.roles.includes('owner')) fail('Access denied: can only check your own rate limit status')
    requireLimiter(ctx)
    if (!target) return fail(E.userNotFound)
    return { reply: { cmd: 'rate_limit_status', user: target.username, status: await ctx.limiter.status(target.id) } }
  },
})

/** Also lifts a timeout (upstream left timeouts in place, with no way to end them early). */
export const rateLimitReset = defineCommand({
  cmd: 'rate_limit_reset',
  schema: T.Object({ user: T.Optional(T.Union([T.String(), T.Null()])) }),
  requires: { permission: 'manage_server' },
  validate(_ctx, p) {
    if (!p.user) fail('User parameter is required')
  },
  async run(ctx, p) {
    requireLimiter(ctx)
    const target = await ctx.store.users.resolve(p.user!)
    if (!target) return fail(E.userNotFound)
    await ctx.limiter.reset(target.id)
    return { reply: { cmd: 'rate_limit_reset', user: p.user, val: `Rate limit reset for user ${p.user}` } }
  },
})

export const rateLimitCommands = [rateLimitStatus, rateLimitReset]
