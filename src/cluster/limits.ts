import type { AddressCounter } from '../auth/address-limit.ts'
import { type RateDecision, type RateLimiter, type RateLimitSettings, type RateLimitStatus, oneDecimal } from '../auth/rate-limit.ts'
import type { Logger } from '../log.ts'
import type { RedisConnection } from './connection.ts'
import { Script } from './scripts.ts'

/**
 * The message limiter of protocol README §5.2 (auth/rate-limit.ts) on Redis, one atomic script
 * per call with Redis TIME as the clock, so a user's budget is the same whichever node they
 * write to. KEYS: the stamps list, the state hash. ARGV: per minute, burst, cooldown.
 * Returns {kind, wait}: 0 allowed, 1 timeout, 2 cooldown, 3 per-minute, 4 burst.
 */
const CHECK = new Script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local perMinute, burst, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local timeoutUntil = tonumber(redis.call('HGET', KEYS[2], 'timeout') or '0')
if timeoutUntil > now then return {1, tostring(timeoutUntil - now)} end
for _ = 1, perMinute + 1 do
  local first = redis.call('LINDEX', KEYS[1], 0)
  if not first or now - tonumber(first) <= 60 then break end
  redis.call('LPOP', KEYS[1])
end
local lastBurst = tonumber(redis.call('HGET', KEYS[2], 'burst') or '0')
if lastBurst > 0 and now - lastBurst < cooldown then return {2, tostring(cooldown - (now - lastBurst))} end
local n = redis.call('LLEN', KEYS[1])
if n >= perMinute then return {3, tostring(60 - (now - tonumber(redis.call('LINDEX', KEYS[1], 0))))} end
local keep = math.max(120, cooldown + 60, timeoutUntil - now + 60)
if burst <= n and now - tonumber(redis.call('LINDEX', KEYS[1], n - burst)) <= 10 then
  redis.call('HSET', KEYS[2], 'burst', tostring(now))
  redis.call('EXPIRE', KEYS[2], math.ceil(keep))
  return {4, tostring(cooldown)}
end
redis.call('RPUSH', KEYS[1], string.format('%.6f', now))
redis.call('EXPIRE', KEYS[1], 120)
return {0, '0'}`)

/** KEYS as CHECK; ARGV: seconds (0 lifts it). */
const TIMEOUT = new Script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local seconds = tonumber(ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[2], 'timeout', seconds > 0 and string.format('%.6f', now + seconds) or '0')
redis.call('EXPIRE', KEYS[2], math.ceil(math.max(seconds, 0) + 120))
return 1`)

/** KEYS as CHECK. Returns {stamps in the minute, in the last 10 s, seconds since the burst as a string or false}. */
const STATUS = new Script(`
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local stamps = redis.call('LRANGE', KEYS[1], 0, -1)
local minute, recent = 0, 0
for _, s in ipairs(stamps) do
  local age = now - tonumber(s)
  if age <= 60 then minute = minute + 1 end
  if age <= 10 then recent = recent + 1 end
end
local lastBurst = tonumber(redis.call('HGET', KEYS[2], 'burst') or '0')
return {minute, recent, lastBurst > 0 and tostring(now - lastBurst) or false}`)

/** Says once per outage that limits are counted per node meanwhile, not at every refused call. */
class Outage {
  private told = false

  constructor(private readonly log: Logger) {}

  failed(error: unknown) {
    if (this.told) return
    this.told = true
    this.log.warn(`redis limiter unavailable, this node counts alone meanwhile: ${(error as Error)?.message ?? error}`)
  }

  succeeded() {
    this.told = false
  }
}

/** Per-key limiter state shared by every node; when Redis is away each node falls back to its own memory. */
export class RedisRateLimiter implements RateLimiter {
  private readonly outage: Outage

  constructor(
    private readonly redis: RedisConnection,
    /** Key prefix of this limiter (`…limit:messages:`), the user ID follows. */
    private readonly prefix: string,
    private readonly settings: () => RateLimitSettings,
    private readonly fallback: RateLimiter,
    log: Logger,
  ) {
    this.outage = new Outage(log)
  }

  async check(userId: string): Promise<RateDecision> {
    const { messages_per_minute, burst_limit, cooldown_seconds } = this.settings()
    let kind: number, wait: number
    try {
      const [code, seconds] = (await CHECK.run(this.redis, this.keys(userId), [String(messages_per_minute), String(burst_limit), String(cooldown_seconds)])) as [number, string]
      ;[kind, wait] = [code, Number(seconds)]
      this.outage.succeeded()
    } catch (error) {
      this.outage.failed(error)
      return this.fallback.check(userId)
    }
    switch (kind) {
      case 0:
        return { allowed: true }
      case 1:
        return { allowed: false, wait, reason: `You are in timeout for ${oneDecimal(wait)} more seconds` }
      case 2:
        return { allowed: false, wait, reason: `You are in cooldown for ${oneDecimal(wait)} more seconds` }
      case 3:
        return { allowed: false, wait, reason: `Rate limit exceeded. Wait ${oneDecimal(wait)} seconds` }
      default:
        return { allowed: false, wait: cooldown_seconds, reason: `Burst limit exceeded. You're in cooldown for ${cooldown_seconds} seconds` }
    }
  }

  async reset(userId: string) {
    await this.fallback.reset(userId)
    await this.redis.send('DEL', this.keys(userId)).catch((error) => this.outage.failed(error))
  }

  async timeout(userId: string, seconds: number) {
    await this.fallback.timeout(userId, seconds)
    await TIMEOUT.run(this.redis, this.keys(userId), [String(seconds)]).catch((error) => this.outage.failed(error))
  }

  async status(userId: string): Promise<RateLimitStatus> {
    const { messages_per_minute, burst_limit, cooldown_seconds } = this.settings()
    try {
      const [minute, recent, sinceBurst] = (await STATUS.run(this.redis, this.keys(userId), [])) as [number, number, string | null]
      const since = sinceBurst === null ? undefined : Number(sinceBurst)
      return {
        messages_this_minute: minute,
        messages_per_minute_limit: messages_per_minute,
        recent_messages: recent,
        burst_limit,
        cooldown_remaining: since !== undefined && since < cooldown_seconds ? cooldown_seconds - since : 0,
      }
    } catch (error) {
      this.outage.failed(error)
      return this.fallback.status(userId)
    }
  }

  private keys(userId: string) {
    return [`${this.prefix}${userId}:stamps`, `${this.prefix}${userId}:state`]
  }
}

/** KEYS: the counter. ARGV: window ms. A fixed window opened by the first count. */
const RECORD = new Script(`
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`)

/** KEYS: the counter. Returns {count, ms left}. */
const PEEK = new Script(`return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1])}`)

/** AddressLimiter's fixed windows, counted in Redis for every node. */
export class RedisAddressCounter implements AddressCounter {
  private readonly outage: Outage

  constructor(
    private readonly redis: RedisConnection,
    private readonly prefix: string,
    private readonly limit: () => number,
    private readonly windowMs: number,
    private readonly fallback: AddressCounter,
    log: Logger,
  ) {
    this.outage = new Outage(log)
  }

  async retryAfter(address: string): Promise<number> {
    try {
      const [count, left] = (await PEEK.run(this.redis, [this.prefix + address], [])) as [number, number]
      this.outage.succeeded()
      return count >= this.limit() && left > 0 ? Math.ceil(left / 1000) : 0
    } catch (error) {
      this.outage.failed(error)
      return this.fallback.retryAfter(address)
    }
  }

  async record(address: string) {
    await this.fallback.record(address)
    await RECORD.run(this.redis, [this.prefix + address], [String(this.windowMs)]).catch((error) => this.outage.failed(error))
  }
}
