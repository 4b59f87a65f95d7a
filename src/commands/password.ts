import { Type as T } from '@sinclair/typebox'
import { LOCAL_PREFIX, MAX_PASSWORD, hashPassword, verifyPassword } from '../auth/local.ts'
import { defineCommand } from '../protocol/command.ts'
import { E, fail } from '../protocol/errors.ts'

/**
 * `password_change` (an extension; upstream has none): a local account changes its own password,
 * proving the current one. Wrong guesses count like failed logins for that account and address.
 */
export const passwordChange = defineCommand({
  cmd: 'password_change',
  throttle: true,
  schema: T.Object({ current_password: T.Optional(T.Unknown()), new_password: T.Optional(T.Unknown()) }),
  async run(ctx, p) {
    if (!ctx.user.id.startsWith(LOCAL_PREFIX)) fail('Only local accounts have a password here; Rotur accounts change it on Rotur')
    const { current_password: current, new_password: next } = p
    if (typeof current !== 'string' || typeof next !== 'string' || current === '' || next.trim() === '') fail('Current and new password required')
    const throttle = ctx.services.loginThrottle
    const wait = await throttle.retryAfter(ctx.session.address, ctx.user.id)
    if (wait > 0) fail(E.tooManyAttempts(wait))
    if (!(await verifyPassword(current, ctx.user.password_hash))) {
      await throttle.record(ctx.session.address, ctx.user.id)
      fail(E.invalidPassword)
    }
    const min = ctx.config.security.min_password_length
    const length = [...next].length
    if (length < min || length > MAX_PASSWORD) fail(E.passwordLength(min))
    await ctx.store.users.update(ctx.user.id, { password_hash: await hashPassword(next) })
    return {
      reply: { cmd: 'password_change', changed: true },
      audit: [{ action: 'password_change', target_id: ctx.user.id, target_name: ctx.user.username }],
    }
  },
})

export const passwordCommands = [passwordChange]
