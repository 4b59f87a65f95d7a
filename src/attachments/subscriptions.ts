import type { RoturClient } from '../auth/rotur.ts'
import type { Logger } from '../log.ts'

/**
 * Rotur subscription tiers, lower-cased, each reused for `subscription_cache_ttl` seconds. A
 * lookup that fails is not cached and counts as no subscription: the upload is not permanent.
 */
export class SubscriptionCache {
  private readonly cache = new Map<string, { tier: string; until: number }>()

  constructor(
    private readonly rotur: RoturClient,
    private readonly ttlSeconds: () => number,
    private readonly log: Logger,
  ) {}

  async tier(username: string, now = Date.now()): Promise<string> {
    const key = username.toLowerCase()
    const cached = this.cache.get(key)
    if (cached && cached.until > now) return cached.tier
    let tier: string
    try {
      tier = ((await this.rotur.subscription(username)) ?? '').toLowerCase()
    } catch (error) {
      this.log.warn(`Rotur subscription lookup for ${JSON.stringify(username)} failed: ${(error as Error)?.message ?? error}`)
      return ''
    }
    this.cache.delete(key)
    if (this.ttlSeconds() > 0) this.cache.set(key, { tier, until: now + this.ttlSeconds() * 1000 })
    this.forgetExpired(now)
    return tier
  }

  private forgetExpired(now: number) {
    if (this.cache.size < 1024) return
    for (const [key, entry] of this.cache) if (entry.until <= now) this.cache.delete(key)
  }
}
