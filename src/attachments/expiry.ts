import type { Config } from '../config/schema.ts'

const DAY = 86_400
const MB = 1024 * 1024

/**
 * Base lifetime in days by size (data.md §9): 49 up to 5 MB, falling to 7 at 25 MB, then to 1
 * at 100 MB. Upstream counts MB as MiB.
 */
export function baseDays(size: number): number {
  const s = size / MB
  if (s <= 5) return 49
  if (s <= 25) return 7 + (25 - s) * 2.1
  if (s < 100) return 7 - (s - 25) * 0.08
  return 1
}

/**
 * `expires_at` in Unix seconds: free uploads capped at `free_tier_max_expiration_days`, permanent
 * ones at `permanent_expiration_days`; the client's `expires_in_days` only ever shortens it.
 */
export function expiresAt(size: number, permanent: boolean, requestedDays: number | undefined, config: Config['attachments'], now: number): number {
  const days = permanent ? config.permanent_expiration_days : Math.min(baseDays(size), config.free_tier_max_expiration_days)
  return now + Math.min(days, requestedDays ?? Infinity) * DAY
}
