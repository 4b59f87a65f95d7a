import { Type as T } from '@sinclair/typebox'
import { defineCommand } from '../protocol/command.ts'
import { fail } from '../protocol/errors.ts'
import { subscriptionProblem } from '../push/subscription.ts'

/** The pre-auth gate answers unauthenticated sockets, so commands.md §17's `Not authenticated` is never reached. */
const NOT_CONFIGURED = 'VAPID keys not configured on this server'
const MISSING_SUBSCRIPTION = 'Missing subscription object'
const INCOMPLETE = 'subscription must include endpoint, keys.p256dh and keys.auth'
const SAVE_FAILED = 'Failed to save subscription'

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const text = (value: unknown) => (typeof value === 'string' && value !== '' ? value : undefined)

export const pushGetVapid = defineCommand({
  cmd: 'push_get_vapid',
  schema: T.Object({}),
  run(ctx) {
    const key = ctx.services.push.publicKey() ?? fail(NOT_CONFIGURED)
    return { reply: { cmd: 'push_vapid', key } }
  },
})

export const pushSubscribe = defineCommand({
  cmd: 'push_subscribe',
  throttle: true,
  // Extra fields (the web client's `vapid_public_key`) are ignored (compat-notes §4).
  schema: T.Object({ subscription: T.Optional(T.Unknown()) }),
  validate(_ctx, p) {
    if (!isObject(p.subscription)) fail(MISSING_SUBSCRIPTION)
    const keys = p.subscription.keys
    if (!text(p.subscription.endpoint) || !isObject(keys) || !text(keys.p256dh) || !text(keys.auth)) fail(INCOMPLETE)
  },
  async run(ctx, p) {
    const push = ctx.services.push
    const subscription = p.subscription as { endpoint: string; keys: { p256dh: string; auth: string } }
    const keys = { endpoint: subscription.endpoint, p256dh: subscription.keys.p256dh, auth: subscription.keys.auth }
    // Push turned off, or an endpoint or key no push could be sent with: nothing is stored.
    if (!push.publicKey() || subscriptionProblem(keys, ctx.config.push.allow_http_loopback)) fail(SAVE_FAILED)
    const fingerprint = push.fingerprint(ctx.session.device)
    try {
      await ctx.store.push.save(
        { user_id: ctx.user.id, ...keys, device_fingerprint: fingerprint, last_used: Math.floor(Date.now() / 1000) },
        ctx.config.push.max_subscriptions_per_user,
      )
    } catch (error) {
      ctx.log.error(`push: saving a subscription failed: ${(error as Error)?.stack ?? error}`)
      fail(SAVE_FAILED)
    }
    return { reply: { cmd: 'push_subscribed', success: true, device_fingerprint: fingerprint } }
  },
})

export const pushUnsubscribe = defineCommand({
  cmd: 'push_unsubscribe',
  throttle: true,
  schema: T.Object({ endpoint: T.Optional(T.Unknown()) }),
  validate(_ctx, p) {
    if (!text(p.endpoint)) fail('Missing endpoint')
  },
  async run(ctx, p) {
    try {
      await ctx.store.push.remove(ctx.user.id, p.endpoint as string)
    } catch (error) {
      ctx.log.error(`push: removing a subscription failed: ${(error as Error)?.stack ?? error}`)
      fail('Failed to remove subscription')
    }
    return { reply: { cmd: 'push_unsubscribed', success: true } }
  },
})

export const pushCommands = [pushGetVapid, pushSubscribe, pushUnsubscribe]
