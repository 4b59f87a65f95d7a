import { Type as T } from '@sinclair/typebox'
import { hasPermission } from '../auth/permissions.ts'
import { defineCommand, type UserContext } from '../protocol/command.ts'
import { E, fail } from '../protocol/errors.ts'
import type { WebhookRecord } from '../store/types.ts'
import { newWebhookToken, tokenDigest } from '../webhooks/token.ts'
import { allows } from './access.ts'

/**
 * Webhook management (commands.md §14). The token is shown by webhook_create and
 * webhook_regenerate only; the store keeps its digest (webhooks/token.ts). Anyone may read
 * webhooks, but only those of channels they can view (managers see all), so a hidden channel's
 * integrations stay hidden.
 */

const MANAGER = { permission: 'manage_server' } as const
const Field = T.Optional(T.Unknown())
const ById = T.Object({ id: Field })

const requireId = (id: unknown): string => (typeof id === 'string' && id !== '' ? id : fail('Webhook ID is required'))

/** Whether the caller may see the webhooks of a channel: managers always, others where they may view. */
async function channelWatcher(ctx: UserContext): Promise<(channel: string) => Promise<boolean>> {
  const manager = hasPermission(ctx.user.roles, 'manage_server', await ctx.roles())
  return async (channel) => manager || allows(ctx, await ctx.store.channels.get(channel), 'view')
}

async function visibleWebhook(ctx: UserContext, id: string): Promise<WebhookRecord> {
  const webhook = await ctx.store.webhooks.get(id)
  if (!webhook || !(await (await channelWatcher(ctx))(webhook.channel))) return fail('Webhook not found')
  return webhook
}

/** The one shape that carries the token, in data.md's key order. */
const withToken = ({ id, channel, name, created_by, created_at, avatar }: WebhookRecord, token: string) => ({
  id,
  channel,
  name,
  token,
  created_by,
  created_at,
  avatar,
})

async function managedWebhook(ctx: UserContext, id: unknown): Promise<WebhookRecord> {
  return (await ctx.store.webhooks.get(requireId(id))) ?? fail('Webhook not found')
}

export const webhookCreate = defineCommand({
  cmd: 'webhook_create',
  throttle: true,
  schema: T.Object({ channel: Field, name: Field }),
  requires: MANAGER,
  validate(_ctx, p) {
    if (typeof p.channel !== 'string' || p.channel === '') fail('Channel is required')
    if (typeof p.name !== 'string' || p.name.trim() === '') fail('Webhook name is required')
  },
  async run(ctx, p) {
    const channel = (await ctx.store.channels.get(p.channel as string)) ?? fail(E.channelNotFound)
    if (channel.type !== 'text') fail('Webhooks can only be created for text channels')
    const token = newWebhookToken()
    const webhook: WebhookRecord = {
      id: crypto.randomUUID(),
      channel: channel.name,
      name: (p.name as string).trim(),
      created_by: ctx.user.id,
      created_at: Date.now() / 1000,
      avatar: null,
    }
    if (!(await ctx.store.webhooks.insert(webhook, tokenDigest(token)))) fail('Failed to create webhook')
    return {
      reply: { cmd: 'webhook_create', webhook: withToken(webhook, token) },
      audit: [{ action: 'webhook_create', target_id: webhook.id, target_name: webhook.name, details: { channel: webhook.channel } }],
    }
  },
})

export const webhookGet = defineCommand({
  cmd: 'webhook_get',
  schema: ById,
  validate: (_ctx, p) => void requireId(p.id),
  run: async (ctx, p) => ({ reply: { cmd: 'webhook_get', webhook: await visibleWebhook(ctx, p.id as string) } }),
})

export const webhookList = defineCommand({
  cmd: 'webhook_list',
  schema: T.Object({ channel: Field }),
  async run(ctx, p) {
    const filter = p.channel === undefined || p.channel === null || p.channel === '' ? undefined : p.channel
    const visible = await channelWatcher(ctx)
    if (filter !== undefined && (typeof filter !== 'string' || !(await ctx.store.channels.get(filter)) || !(await visible(filter)))) fail(E.channelNotFound)
    const all = await ctx.store.webhooks.list(filter as string | undefined)
    const seen = await Promise.all(all.map((webhook) => visible(webhook.channel)))
    return { reply: { cmd: 'webhook_list', webhooks: all.filter((_, i) => seen[i]) } }
  },
})

export const webhookUpdate = defineCommand({
  cmd: 'webhook_update',
  throttle: true,
  schema: T.Object({ id: Field, name: Field, avatar: Field }),
  requires: MANAGER,
  validate: (_ctx, p) => void requireId(p.id),
  async run(ctx, p) {
    const webhook = await managedWebhook(ctx, p.id)
    const updates: { name?: string; avatar?: unknown } = {}
    if ('name' in p) {
      // Whitespace-only names are refused too (upstream stored them as ""), compatibly.
      if (typeof p.name !== 'string' || p.name.trim() === '') fail('Webhook name must be a non-empty string')
      updates.name = p.name.trim()
    }
    if ('avatar' in p) updates.avatar = p.avatar ?? null
    if (Object.keys(updates).length === 0) fail('No updates provided')
    const updated = (await ctx.store.webhooks.update(webhook.id, updates)) ?? fail('Failed to update webhook')
    return {
      reply: { cmd: 'webhook_update', webhook: updated },
      audit: [{ action: 'webhook_update', target_id: updated.id, target_name: updated.name, details: updates }],
    }
  },
})

export const webhookDelete = defineCommand({
  cmd: 'webhook_delete',
  throttle: true,
  schema: ById,
  requires: MANAGER,
  validate: (_ctx, p) => void requireId(p.id),
  async run(ctx, p) {
    const webhook = await managedWebhook(ctx, p.id)
    if (!(await ctx.store.webhooks.delete(webhook.id))) fail('Failed to delete webhook')
    return {
      reply: { cmd: 'webhook_delete', id: webhook.id, deleted: true },
      audit: [{ action: 'webhook_delete', target_id: webhook.id, target_name: webhook.name }],
    }
  },
})

/** A new token replaces the old one at once (upstream never changed it, compat-notes §30). */
export const webhookRegenerate = defineCommand({
  cmd: 'webhook_regenerate',
  throttle: true,
  schema: ById,
  requires: MANAGER,
  validate: (_ctx, p) => void requireId(p.id),
  async run(ctx, p) {
    const webhook = await managedWebhook(ctx, p.id)
    const token = newWebhookToken()
    const updated = (await ctx.store.webhooks.setTokenHash(webhook.id, tokenDigest(token))) ?? fail('Failed to regenerate webhook token')
    return {
      reply: { cmd: 'webhook_regenerate', webhook: withToken(updated, token) },
      audit: [{ action: 'webhook_regenerate', target_id: updated.id, target_name: updated.name }],
    }
  },
})

export const webhookCommands = [webhookCreate, webhookGet, webhookList, webhookUpdate, webhookDelete, webhookRegenerate]
