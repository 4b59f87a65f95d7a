import { describe, expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer } from '../helpers/server.ts'

// Small limits so a few requests reach them; the 60-per-minute limit stays out of the way.
const LIMITED = { rate_limiting: { enabled: true, messages_per_minute: 60, burst_limit: 3, cooldown_seconds: 30 } }
const BURST = { cmd: 'rate_limit', reason: "Burst limit exceeded. You're in cooldown for 30 seconds", length: 30000 }

const fresh = { messages_this_minute: 0, messages_per_minute_limit: 60, recent_messages: 0, burst_limit: 3, cooldown_remaining: 0 }

/** Sends a message and waits for its own echo, so it was accepted. */
const say = async (client: TestClient, content: string) => {
  client.send({ cmd: 'message_new', channel: 'general', content })
  return client.next('message_new', (p) => p.message.content === content)
}

describe('rate_limit_status', () => {
  test.concurrent('reports the caller by default, and others only to the owner', async () => {
    await using server = await startServer(LIMITED)
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    await say(alice, 'one')
    await say(alice, 'two')

    const own = { cmd: 'rate_limit_status', user: 'alice', status: { ...fresh, messages_this_minute: 2, recent_messages: 2 } }
    expect(await alice.request({ cmd: 'rate_limit_status' })).toEqual(own)
    expect(await alice.request({ cmd: 'rate_limit_status', user: 'alice' })).toEqual(own)
    expect(await owner.request({ cmd: 'rate_limit_status', user: 'alice' })).toEqual(own)
    expect(await alice.error({ cmd: 'rate_limit_status', user: 'owner' })).toEqual({
      cmd: 'error',
      src: 'rate_limit_status',
      val: 'Access denied: can only check your own rate limit status',
    })
  })

  test.concurrent('is refused when the limiter is disabled, after the access check', async () => {
    await using server = await startServer()
    await server.login('owner')
    const alice = await server.login('alice')
    expect(await alice.error({ cmd: 'rate_limit_status' })).toEqual({ cmd: 'error', src: 'rate_limit_status', val: 'Rate limiter not available or disabled' })
    expect(await alice.error({ cmd: 'rate_limit_status', user: 'owner' })).toEqual({
      cmd: 'error',
      src: 'rate_limit_status',
      val: 'Access denied: can only check your own rate limit status',
    })
  })
})

describe('rate_limit_reset', () => {
  test.concurrent('needs manage_server and a user', async () => {
    await using server = await startServer(LIMITED)
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    expect(await alice.error({ cmd: 'rate_limit_reset', user: 'alice' })).toEqual({
      cmd: 'error',
      src: 'rate_limit_reset',
      val: "Access denied: 'manage_server' permission required",
    })
    expect(await owner.error({ cmd: 'rate_limit_reset' })).toEqual({ cmd: 'error', src: 'rate_limit_reset', val: 'User parameter is required' })
  })

  test.concurrent('is refused when the limiter is disabled', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    expect(await owner.error({ cmd: 'rate_limit_reset', user: 'owner' })).toEqual({
      cmd: 'error',
      src: 'rate_limit_reset',
      val: 'Rate limiter not available or disabled',
    })
  })

  test.concurrent('ends a burst cooldown and a timeout', async () => {
    await using server = await startServer(LIMITED)
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    for (const n of [1, 2, 3]) await say(alice, `m${n}`)
    expect(await alice.request({ cmd: 'message_new', channel: 'general', content: 'm4' }, 'rate_limit')).toEqual(BURST)

    const reset = { cmd: 'rate_limit_reset', user: 'alice', val: 'Rate limit reset for user alice' }
    expect(await owner.request({ cmd: 'rate_limit_reset', user: 'alice' })).toEqual(reset)
    expect(await alice.request({ cmd: 'rate_limit_status' })).toEqual({ cmd: 'rate_limit_status', user: 'alice', status: fresh })
    await say(alice, 'after reset')

    await owner.request({ cmd: 'user_timeout', user: 'alice', timeout: 300 })
    await alice.next('rate_limit')
    expect(await alice.request({ cmd: 'message_new', channel: 'general', content: 'muted' }, 'rate_limit')).toMatchObject({
      reason: expect.stringMatching(/^You are in timeout for /),
    })
    expect(await owner.request({ cmd: 'rate_limit_reset', user: 'alice' })).toEqual(reset)
    await say(alice, 'after timeout')
  })
})

describe('limits over the wire', () => {
  test.concurrent('the (burst_limit+1)th message_new gets a rate_limit packet instead of a reply', async () => {
    await using server = await startServer(LIMITED)
    const bob = await server.login('bob')
    const alice = await server.login('alice')
    for (const n of [1, 2, 3]) await say(alice, `m${n}`)
    await bob.next('message_new', (p) => p.message.content === 'm3')
    bob.drain('message_new')

    alice.send({ cmd: 'message_new', channel: 'general', content: 'm4', listener: 'L' })
    expect(await alice.next('rate_limit')).toEqual({ ...BURST, listener: 'L' })
    await alice.expectNone('error')
    await bob.expectNone('message_new')

    const { status } = await alice.request({ cmd: 'rate_limit_status' })
    expect(status).toEqual({ ...fresh, messages_this_minute: 3, recent_messages: 3, cooldown_remaining: expect.any(Number) })
    expect(status.cooldown_remaining).toBeGreaterThan(0)
    expect(status.cooldown_remaining).toBeLessThanOrEqual(30)
  })

  test.concurrent('message_edit is limited too, and its rate_limit packet has no reason', async () => {
    await using server = await startServer(LIMITED)
    const alice = await server.login('alice')
    for (const n of [1, 2, 3]) await say(alice, `m${n}`)
    await alice.request({ cmd: 'message_new', channel: 'general', content: 'm4' }, 'rate_limit')

    // Counted before any validation: even a malformed edit gets the packet, not an error.
    const packet = await alice.request({ cmd: 'message_edit', id: 'nope' }, 'rate_limit')
    expect(packet).toEqual({ cmd: 'rate_limit', length: expect.any(Number) })
    expect(packet.length).toBeGreaterThan(0)
    expect(packet.length).toBeLessThanOrEqual(30000)
    await alice.expectNone('error')
  })

  test.concurrent('typing consumes the same budget as messages', async () => {
    await using server = await startServer(LIMITED)
    const alice = await server.login('alice')
    for (let n = 0; n < 3; n++) await alice.request({ cmd: 'typing', channel: 'general' })
    expect(await alice.request({ cmd: 'message_new', channel: 'general', content: 'hi' }, 'rate_limit')).toEqual(BURST)
    expect(await alice.request({ cmd: 'typing', channel: 'general' }, 'rate_limit')).toEqual({
      cmd: 'rate_limit',
      reason: expect.stringMatching(/^You are in cooldown for \d+\.\d more seconds$/),
      length: expect.any(Number),
    })
  })

  test.concurrent('limits are per user', async () => {
    await using server = await startServer(LIMITED)
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    for (const n of [1, 2, 3]) await say(alice, `m${n}`)
    await alice.request({ cmd: 'message_new', channel: 'general', content: 'm4' }, 'rate_limit')
    await say(bob, 'bob is fine')
    expect(await bob.request({ cmd: 'rate_limit_status' })).toEqual({
      cmd: 'rate_limit_status',
      user: 'bob',
      status: { ...fresh, messages_this_minute: 1, recent_messages: 1 },
    })
  })
})
