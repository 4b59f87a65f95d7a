import { describe, expect, test } from 'bun:test'
import { MemoryRateLimiter } from '../../src/auth/rate-limit.ts'
import { RedisConnection } from '../../src/cluster/connection.ts'
import { RedisRateLimiter } from '../../src/cluster/limits.ts'
import { createLogger } from '../../src/log.ts'
import { TestClient } from '../helpers/client.ts'
import { REDIS_URL, redisUnavailable, startCluster, until } from '../helpers/cluster.ts'

const unavailable = await redisUnavailable()

describe.skipIf(unavailable !== undefined)('limits shared over Redis', () => {
  test.concurrent('the message limit counts a user\'s messages on every node together', async () => {
    await using cluster = await startCluster(2, { rate_limiting: { enabled: true, messages_per_minute: 3, burst_limit: 100, cooldown_seconds: 1 } })
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('alice')
    const onA = await a.login('alice')
    const onB = await b.login('alice')
    await onA.post('one')
    await onB.post('two')
    await onA.post('three')
    onB.send({ cmd: 'message_new', channel: 'general', content: 'four' })
    const refused = await onB.next('rate_limit')
    expect(refused.cmd).toBe('rate_limit')
    // The wait is what is left of the shared minute, so under 60 s.
    expect(refused.length).toBeGreaterThan(0)
    expect(refused.length).toBeLessThanOrEqual(60_000)
    expect((await onA.request({ cmd: 'rate_limit_status' })).status).toMatchObject({ messages_this_minute: 3, messages_per_minute_limit: 3 })
  })

  test.concurrent('a timeout set on one node holds on the other, and a reset there lifts it', async () => {
    await using cluster = await startCluster(2, { rate_limiting: { enabled: true, messages_per_minute: 30, burst_limit: 100, cooldown_seconds: 1 } })
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('owner', 'bob')
    const owner = await a.login('owner')
    const bob = await b.login('bob')
    expect(await owner.request({ cmd: 'user_timeout', user: 'bob', timeout: 120 })).toEqual({ cmd: 'user_timeout', user: 'bob', timeout: 120 })
    // Told on the node that holds bob's connection, though the owner acted on the other.
    expect(await bob.next('rate_limit')).toEqual({ cmd: 'rate_limit', reason: 'User timeout set', length: 120_000 })
    bob.send({ cmd: 'message_new', channel: 'general', content: 'muted?' })
    expect((await bob.next('rate_limit', (p) => typeof p.reason === 'string' || p.length > 60_000)).length).toBeGreaterThan(60_000)
    await owner.request({ cmd: 'rate_limit_reset', user: 'bob' })
    expect((await bob.post('free again')).content).toBe('free again')
  })

  test.concurrent('registrations and connections per address are counted over every node', async () => {
    await using cluster = await startCluster(2, { auth_mode: 'cracked', security: { registrations_per_hour: 1, max_connections_per_ip: 3 } })
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const first = await TestClient.connect(a.app.url)
    first.send({ cmd: 'register', username: 'one', password: 'password123' })
    await first.next('ready')
    const second = await TestClient.connect(b.app.url)
    second.send({ cmd: 'register', username: 'two', password: 'password123' })
    expect((await second.next('auth_error')).val).toMatch(/^Too many attempts\. Try again in \d+ seconds$/)
    const third = await TestClient.connect(b.app.url)
    // One from A and two from B: the address is at its limit of 3 on either node.
    await expect(TestClient.connect(a.app.url)).rejects.toThrow('cannot connect')
    await third.close()
    await second.close()
    // B uncounts them in Redis once it handled the closes: then A admits the address again.
    let again: TestClient | undefined
    await until('the closed sockets are no longer counted', async () => {
      again = await TestClient.connect(a.app.url).catch(() => undefined)
      return again !== undefined
    })
    expect(again!.handshake.cmd).toBe('handshake')
    for (const client of [first, again!]) await client.close()
  })

  test.concurrent('failed sign-ins on one node count against the account on the other', async () => {
    await using cluster = await startCluster(2, { auth_mode: 'cracked', security: { auth_failures_per_minute: 2, auth_failures_per_address_per_minute: 100 } })
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const onA = await TestClient.connect(a.app.url)
    const onB = await TestClient.connect(b.app.url)
    const login = async (client: TestClient, username: string) => {
      client.send({ cmd: 'login', username, password: 'wrong-password' })
      return (await client.next('auth_error')).val
    }
    expect(await login(onA, 'alice')).toBe('User not found')
    expect(await login(onA, 'alice')).toBe('User not found')
    expect(await login(onB, 'alice')).toMatch(/^Too many attempts\. Try again in \d+ seconds$/)
    // Only that account: another one from the same address is still checked.
    expect(await login(onB, 'bob')).toBe('User not found')
    for (const client of [onA, onB]) await client.close()
  })

  test.concurrent('the shared limiter answers as the in-memory one: burst, cooldown, timeout, status, reset', async () => {
    const log = createLogger(() => ({ level: 'silent' as const }))
    const redis = await RedisConnection.open(REDIS_URL, 'originchats-test-limiter', log)
    const settings = () => ({ messages_per_minute: 5, burst_limit: 3, cooldown_seconds: 30 })
    const prefix = `originchats-test:${crypto.randomUUID()}:limit:`
    const limiter = new RedisRateLimiter(redis, prefix, settings, new MemoryRateLimiter(settings), log)
    try {
      for (let i = 0; i < 3; i++) expect(await limiter.check('u')).toEqual({ allowed: true })
      expect(await limiter.check('u')).toEqual({ allowed: false, wait: 30, reason: "Burst limit exceeded. You're in cooldown for 30 seconds" })
      // The seconds left depend on how long the calls took; their wording does not.
      expect(await limiter.check('u')).toMatchObject({ allowed: false, reason: expect.stringMatching(/^You are in cooldown for \d+\.\d more seconds$/) })
      expect(await limiter.status('u')).toMatchObject({ messages_this_minute: 3, messages_per_minute_limit: 5, recent_messages: 3, burst_limit: 3 })
      expect((await limiter.status('u')).cooldown_remaining).toBeGreaterThan(0)
      await limiter.timeout('u', 10)
      expect(await limiter.check('u')).toMatchObject({ allowed: false, reason: expect.stringMatching(/^You are in timeout for \d+\.\d more seconds$/) })
      await limiter.reset('u')
      expect(await limiter.check('u')).toEqual({ allowed: true })
      expect(await limiter.check('other')).toEqual({ allowed: true })
    } finally {
      const keys: string[] = await redis.send('KEYS', [`${prefix}*`])
      if (keys.length > 0) await redis.send('DEL', keys)
      redis.close()
    }
  })
})
