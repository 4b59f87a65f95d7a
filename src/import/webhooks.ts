import type { Store } from '../store/types.ts'
import { tokenDigest } from '../webhooks/token.ts'
import type { ImportCounts } from './import.ts'
import type { UpstreamWebhook } from './upstream.ts'

/**
 * Upstream webhooks with their tokens: the plain token is hashed here like any new one, so
 * integrations keep posting with the URL they have. A webhook whose ID or token is already
 * stored is skipped (so a second import adds nothing), so is one whose channel is unknown.
 */
export async function importWebhooks(store: Store, webhooks: UpstreamWebhook[], resolveUser: (user: string) => string, notes: string[]): Promise<ImportCounts> {
  const known = new Set((await store.channels.list()).filter((channel) => channel.type === 'text').map((channel) => channel.name))
  for (const webhook of webhooks) {
    if (!known.has(webhook.channel)) notes.push(`webhook ${webhook.id}: no text channel named '${webhook.channel}'; it was not imported`)
  }
  const imported = await store.webhooks.importMany(
    webhooks
      .filter((webhook) => known.has(webhook.channel))
      .map((webhook) => ({
        webhook: {
          id: webhook.id,
          channel: webhook.channel,
          name: webhook.name,
          created_by: resolveUser(webhook.created_by ?? ''),
          created_at: webhook.created_at ?? 0,
          avatar: webhook.avatar ?? null,
        },
        tokenHash: tokenDigest(webhook.token),
      })),
  )
  return { imported, skipped: webhooks.length - imported }
}
