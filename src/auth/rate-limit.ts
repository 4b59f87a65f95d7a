/**
 * The per-user message limiter of protocol README §5.2, reproduced exactly: a 60-second window,
 * a 10-second burst check that triggers a cooldown, and owner-imposed timeouts. State is per
 * user ID, shared by all of a user's connections, in memory (lost on restart, as upstream).
 */
export interface RateLimitSettings {
  messages_per_minute: number
  burst_limit: number
  cooldown_seconds: number
}

export type RateDecision = { allowed: true } | { allowed: false; wait: number; reason: string }

export interface RateLimitStatus {
  messages_this_minute: number
  messages_per_minute_limit: number
  recent_messages: number
  burst_limit: number
  cooldown_remaining: number
}

/** In memory the answers are immediate; shared across nodes (cluster/limits.ts) they are promises. */
export interface RateLimiter {
  check(userId: string, now?: number): RateDecision | Promise<RateDecision>
  /** Clears counters, cooldown and any timeout. */
  reset(userId: string): void | Promise<void>
  timeout(userId: string, seconds: number, now?: number): void | Promise<void>
  status(userId: string, now?: number): RateLimitStatus | Promise<RateLimitStatus>
}

interface Bucket {
  stamps: number[]
  lastBurst: number
  timeoutUntil: number
}

const WINDOW = 60
const BURST_WINDOW = 10
/**
 * Python's `{x:.1f}`. toFixed rounds exact ties up (0.25 → "0.3") where Python rounds them to
 * even ("0.2"); the only exact ties at one decimal are odd multiples of 0.25.
 */
export const oneDecimal = (x: number) => {
  if (!Number.isInteger(x * 4) || Number.isInteger(x * 2)) return x.toFixed(1)
  const down = Math.floor(x * 10)
  return ((down % 2 === 0 ? down : down + 1) / 10).toFixed(1)
}
const nowSeconds = () => Date.now() / 1000

export class MemoryRateLimiter implements RateLimiter {
  private readonly buckets = new Map<string, Bucket>()

  /** `settings` is read on every call so a config reload applies at once. */
  constructor(private readonly settings: () => RateLimitSettings) {}

  check(userId: string, now = nowSeconds()): RateDecision {
    const { messages_per_minute, burst_limit, cooldown_seconds } = this.settings()
    const bucket = this.bucket(userId)
    if (bucket.timeoutUntil > now) {
      const wait = bucket.timeoutUntil - now
      return { allowed: false, wait, reason: `You are in timeout for ${oneDecimal(wait)} more seconds` }
    }
    prune(bucket, now)
    if (bucket.lastBurst && now - bucket.lastBurst < cooldown_seconds) {
      const wait = cooldown_seconds - (now - bucket.lastBurst)
      return { allowed: false, wait, reason: `You are in cooldown for ${oneDecimal(wait)} more seconds` }
    }
    if (bucket.stamps.length >= messages_per_minute) {
      const wait = WINDOW - (now - bucket.stamps[0]!)
      return { allowed: false, wait, reason: `Rate limit exceeded. Wait ${oneDecimal(wait)} seconds` }
    }
    if (recent(bucket, now) >= burst_limit) {
      bucket.lastBurst = now
      return {
        allowed: false,
        wait: cooldown_seconds,
        reason: `Burst limit exceeded. You're in cooldown for ${cooldown_seconds} seconds`,
      }
    }
    bucket.stamps.push(now)
    return { allowed: true }
  }

  reset(userId: string) {
    this.buckets.delete(userId)
  }

  timeout(userId: string, seconds: number, now = nowSeconds()) {
    const bucket = this.bucket(userId)
    bucket.timeoutUntil = seconds > 0 ? now + seconds : 0
    bucket.stamps = []
  }

  status(userId: string, now = nowSeconds()): RateLimitStatus {
    const { messages_per_minute, burst_limit, cooldown_seconds } = this.settings()
    const bucket = this.bucket(userId)
    prune(bucket, now)
    const sinceBurst = now - bucket.lastBurst
    return {
      messages_this_minute: bucket.stamps.length,
      messages_per_minute_limit: messages_per_minute,
      recent_messages: recent(bucket, now),
      burst_limit,
      cooldown_remaining: bucket.lastBurst && sinceBurst < cooldown_seconds ? cooldown_seconds - sinceBurst : 0,
    }
  }

  private bucket(userId: string): Bucket {
    let bucket = this.buckets.get(userId)
    if (!bucket) {
      bucket = { stamps: [], lastBurst: 0, timeoutUntil: 0 }
      this.buckets.set(userId, bucket)
    }
    return bucket
  }
}

function prune(bucket: Bucket, now: number) {
  let drop = 0
  while (drop < bucket.stamps.length && now - bucket.stamps[drop]! > WINDOW) drop++
  if (drop > 0) bucket.stamps.splice(0, drop)
}

function recent(bucket: Bucket, now: number) {
  let count = 0
  for (let i = bucket.stamps.length - 1; i >= 0 && now - bucket.stamps[i]! <= BURST_WINDOW; i--) count++
  return count
}
