import { describe, expect, test } from 'bun:test'
import { MemoryRateLimiter, type RateLimitSettings } from '../../src/auth/rate-limit.ts'

// Every call passes an explicit `now` (seconds); T is an arbitrary non-zero start, since 0 means "never".
const T = 1000

const limiter = (settings: Partial<RateLimitSettings> = {}) =>
  new MemoryRateLimiter(() => ({ messages_per_minute: 60, burst_limit: 3, cooldown_seconds: 30, ...settings }))

const allow = (l: MemoryRateLimiter, ...times: number[]) => {
  for (const now of times) expect(l.check('alice', now)).toEqual({ allowed: true })
}

describe('burst (protocol README §5.2 step 5)', () => {
  test('the (burst_limit+1)th action within 10 s is denied with the configured cooldown', () => {
    const l = limiter()
    allow(l, T, T + 1, T + 2)
    expect(l.check('alice', T + 3)).toEqual({
      allowed: false,
      wait: 30,
      reason: "Burst limit exceeded. You're in cooldown for 30 seconds",
    })
  })

  test('the cooldown seconds are printed as configured', () => {
    const l = limiter({ cooldown_seconds: 2.5 })
    allow(l, T, T + 1, T + 2)
    expect(l.check('alice', T + 3)).toEqual({ allowed: false, wait: 2.5, reason: "Burst limit exceeded. You're in cooldown for 2.5 seconds" })
  })

  test('the burst window includes entries exactly 10 s old', () => {
    const l = limiter()
    allow(l, T, T + 5, T + 10)
    expect(l.check('alice', T + 10)).toMatchObject({ allowed: false, wait: 30 })
  })

  test('entries more than 10 s old do not count towards the burst', () => {
    const l = limiter()
    allow(l, T, T + 5, T + 10, T + 10.5)
  })
})

describe('cooldown (step 3)', () => {
  test('after a burst every action is denied until cooldown_seconds have passed', () => {
    const l = limiter()
    allow(l, T, T + 1, T + 2)
    l.check('alice', T + 3)
    expect(l.check('alice', T + 13)).toEqual({ allowed: false, wait: 20, reason: 'You are in cooldown for 20.0 more seconds' })
    // Exactly cooldown_seconds later the cooldown is over (strict <), and the old burst is out of the 10 s window.
    allow(l, T + 33)
  })

  test('the wait is printed with one decimal, ties rounded to even as Python does', () => {
    const l = limiter()
    allow(l, T, T + 1, T + 2)
    l.check('alice', T + 3)
    expect(l.check('alice', T + 10.75)).toEqual({ allowed: false, wait: 22.25, reason: 'You are in cooldown for 22.2 more seconds' })
    expect(l.check('alice', T + 32.25)).toEqual({ allowed: false, wait: 0.75, reason: 'You are in cooldown for 0.8 more seconds' })
  })
})

describe('per-minute limit (steps 2 and 4)', () => {
  test('the limit counts accepted actions of the last 60 s and reports when the oldest expires', () => {
    const l = limiter({ messages_per_minute: 5, burst_limit: 100 })
    allow(l, T, T + 10, T + 20, T + 30, T + 40)
    expect(l.check('alice', T + 50)).toEqual({ allowed: false, wait: 10, reason: 'Rate limit exceeded. Wait 10.0 seconds' })
    // An entry exactly 60 s old is still in the window (pruning is strict >).
    expect(l.check('alice', T + 60)).toEqual({ allowed: false, wait: 0, reason: 'Rate limit exceeded. Wait 0.0 seconds' })
    allow(l, T + 60.5)
  })

  test('the per-minute check comes before the burst check and starts no cooldown', () => {
    const l = limiter({ messages_per_minute: 3, burst_limit: 3 })
    allow(l, T, T + 1, T + 2)
    expect(l.check('alice', T + 3)).toEqual({ allowed: false, wait: 57, reason: 'Rate limit exceeded. Wait 57.0 seconds' })
    expect(l.status('alice', T + 3).cooldown_remaining).toBe(0)
  })

  test('denied attempts are not recorded', () => {
    const l = limiter({ messages_per_minute: 2, burst_limit: 100 })
    allow(l, T, T + 1)
    for (let i = 0; i < 5; i++) expect(l.check('alice', T + 2 + i).allowed).toBe(false)
    expect(l.status('alice', T + 7)).toMatchObject({ messages_this_minute: 2, recent_messages: 2 })
    // Once the first two expire the user may act again: the five denials left no trace.
    allow(l, T + 61.5)
  })
})

describe('timeout', () => {
  test('denies everything until it ends, before any other check', () => {
    const l = limiter()
    allow(l, T, T + 1, T + 2)
    l.check('alice', T + 3) // burst: cooldown until T + 33
    l.timeout('alice', 20, T + 5)
    expect(l.check('alice', T + 10)).toEqual({ allowed: false, wait: 15, reason: 'You are in timeout for 15.0 more seconds' })
    expect(l.check('alice', T + 24.75)).toEqual({ allowed: false, wait: 0.25, reason: 'You are in timeout for 0.2 more seconds' })
    // The timeout is over at T + 25; the burst cooldown set earlier still runs.
    expect(l.check('alice', T + 25)).toMatchObject({ allowed: false, reason: 'You are in cooldown for 8.0 more seconds' })
  })

  test('clears the queue of accepted actions', () => {
    const l = limiter()
    allow(l, T, T + 1)
    l.timeout('alice', 5, T + 2)
    expect(l.status('alice', T + 8)).toMatchObject({ messages_this_minute: 0, recent_messages: 0 })
    allow(l, T + 8, T + 9, T + 10)
  })

  test('a timeout of 0 lifts the current one', () => {
    const l = limiter()
    l.timeout('alice', 600, T)
    expect(l.check('alice', T + 1).allowed).toBe(false)
    l.timeout('alice', 0, T + 2)
    allow(l, T + 2)
  })
})

describe('reset', () => {
  test('clears counters, cooldown and timeout', () => {
    const l = limiter()
    allow(l, T, T + 1, T + 2)
    l.check('alice', T + 3)
    l.timeout('alice', 600, T + 4)
    l.reset('alice')
    expect(l.status('alice', T + 5)).toEqual({
      messages_this_minute: 0,
      messages_per_minute_limit: 60,
      recent_messages: 0,
      burst_limit: 3,
      cooldown_remaining: 0,
    })
    allow(l, T + 5)
  })
})

describe('status', () => {
  test('reports the last minute, the last 10 s and the limits, without consuming', () => {
    const l = limiter({ messages_per_minute: 10, burst_limit: 5 })
    allow(l, T, T + 55, T + 58)
    const status = { messages_this_minute: 2, messages_per_minute_limit: 10, recent_messages: 2, burst_limit: 5, cooldown_remaining: 0 }
    expect(l.status('alice', T + 62)).toEqual(status)
    expect(l.status('alice', T + 62)).toEqual(status)
  })

  test('reports the seconds left of a burst cooldown', () => {
    const l = limiter()
    allow(l, T, T + 1, T + 2)
    l.check('alice', T + 3)
    expect(l.status('alice', T + 15.5)).toEqual({
      messages_this_minute: 3,
      messages_per_minute_limit: 60,
      recent_messages: 0,
      burst_limit: 3,
      cooldown_remaining: 17.5,
    })
    expect(l.status('alice', T + 33).cooldown_remaining).toBe(0)
  })

  test('an unknown user has empty counters', () => {
    expect(limiter().status('nobody', T)).toEqual({
      messages_this_minute: 0,
      messages_per_minute_limit: 60,
      recent_messages: 0,
      burst_limit: 3,
      cooldown_remaining: 0,
    })
  })
})

test('state is per user', () => {
  const l = limiter()
  allow(l, T, T + 1, T + 2)
  expect(l.check('alice', T + 3).allowed).toBe(false)
  expect(l.check('bob', T + 3)).toEqual({ allowed: true })
})

test('settings are read on every check, so a config reload applies at once', () => {
  let settings: RateLimitSettings = { messages_per_minute: 60, burst_limit: 3, cooldown_seconds: 30 }
  const l = new MemoryRateLimiter(() => settings)
  allow(l, T, T + 1, T + 2)
  settings = { ...settings, burst_limit: 10 }
  expect(l.check('alice', T + 3)).toEqual({ allowed: true })
})
