import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { browserSubscription, startFakePushService, vapidClaims, type FakePushService } from '../helpers/push-service.ts'
import { startServer, type ConfigOverrides, type TestServer } from '../helpers/server.ts'

let service: FakePushService
beforeAll(() => {
  service = startFakePushService()
})
afterAll(() => service.stop())

let paths = 0
/** One push in flight at a time: pushes then reach the service in the order they were queued. */
const PUSH: ConfigOverrides = { push: { allow_http_loopback: true, concurrency: 1 } }

/** Logs `username` in, subscribes them at a fresh path, logs them out; resolves once `witness` saw them leave. */
async function offlineSubscriber(server: TestServer, username: string, witness: TestClient) {
  const path = `/push/${username}-${++paths}`
  const browser = browserSubscription(service, path)
  const client = await server.login(username)
  await client.request({ cmd: 'push_subscribe', subscription: browser.subscription }, 'push_subscribed')
  await client.close()
  await witness.next('user_disconnect', (p) => p.username === username)
  return { path, ...browser }
}

async function storedMessage(server: TestServer, author: string, content: string) {
  const user = await server.app.store.users.getByUsername(author)
  return server.app.store.messages.insert({ channel: 'general', thread_id: null, user: user!.id, content })
}

describe('Web Push delivery', () => {
  test.concurrent('a mention reaches an offline user: VAPID-signed for the push service, decryptable with their keys', async () => {
    await using server = await startServer(PUSH)
    const alice = await server.login('alice')
    const { key } = await alice.request({ cmd: 'push_get_vapid' }, 'push_vapid')
    const bob = await offlineSubscriber(server, 'bob', alice)
    await alice.post(`hi @bob ${'x'.repeat(200)}`)

    const request = await service.next(bob.path)
    expect(request.headers.get('content-encoding')).toBe('aes128gcm')
    expect(request.headers.get('ttl')).toBe('86400')
    const claims = await vapidClaims(request.headers.get('authorization'), key)
    expect(claims.aud).toBe(service.origin)
    expect(claims.sub).toBe('mailto:')
    expect(Number(claims.exp)).toBeGreaterThan(Date.now() / 1000)
    // The body is the first 120 characters of the content.
    expect(bob.decrypt(request.body)).toEqual({ title: '#general \u2014 alice', body: `hi @bob ${'x'.repeat(112)}`, channelName: 'general' })
  })

  test.concurrent('role mentions and replies have their own titles; thread messages name the parent channel', async () => {
    await using server = await startServer(PUSH)
    await server.addChannel({ name: 'ideas', type: 'forum', permissions: { view: ['user'], send: ['user'], create_thread: ['user'] } })
    const alice = await server.login('alice')
    const bob = await offlineSubscriber(server, 'bob', alice)
    const carol = await offlineSubscriber(server, 'carol', alice)
    await server.setRoles('carol', ['user', 'helper'])

    await alice.post('anyone from @&helper around?')
    expect(carol.decrypt((await service.next(carol.path)).body)).toEqual({
      title: '#general \u2014 alice mentioned @helper',
      body: 'anyone from @&helper around?',
      channelName: 'general',
    })

    const original = await storedMessage(server, 'bob', 'first')
    await alice.post('agreed', { reply_to: original.id })
    expect(bob.decrypt((await service.next(bob.path)).body)).toEqual({ title: '#general \u2014 alice replied', body: 'agreed', channelName: 'general' })

    alice.send({ cmd: 'thread_create', channel: 'ideas', name: 'plans' })
    const thread = (await alice.next('thread_create')).thread
    await alice.post('@bob see this', { thread_id: thread.id })
    expect(bob.decrypt((await service.next(bob.path)).body)).toEqual({ title: '#ideas \u2014 alice', body: '@bob see this', channelName: 'ideas' })
  })

  test.concurrent('no push for a reply with ping:false nor for users with a live connection', async () => {
    await using server = await startServer(PUSH)
    const alice = await server.login('alice')
    const carol = await offlineSubscriber(server, 'carol', alice)
    const davePath = `/push/dave-${++paths}`
    const dave = await server.login('dave')
    await dave.request({ cmd: 'push_subscribe', subscription: browserSubscription(service, davePath).subscription }, 'push_subscribed')

    const answer = await storedMessage(server, 'carol', 'answer')
    await alice.post('thanks, quietly', { reply_to: answer.id, ping: false })
    await alice.post('@dave hello')
    // The witness: pushes go out one at a time in queue order, so a push for either message
    // above would have reached the service before this one.
    await alice.post('@carol last')
    expect(carol.decrypt((await service.next(carol.path)).body)).toEqual({ title: '#general \u2014 alice', body: '@carol last', channelName: 'general' })
    expect([service.count(carol.path), service.count(davePath)]).toEqual([1, 0])
  })

  test.concurrent('a 410 from the push service deletes the subscription', async () => {
    await using server = await startServer(PUSH)
    const alice = await server.login('alice')
    const bob = await offlineSubscriber(server, 'bob', alice)
    const carol = await offlineSubscriber(server, 'carol', alice)
    service.answers.set(bob.path, 410)
    const bobId = (await server.app.store.users.getByUsername('bob'))!.id
    expect(await server.app.store.push.listByUser(bobId)).toHaveLength(1)
    await alice.post('@bob gone?')
    await service.next(bob.path)
    // Queued behind bob's push: once it arrives, the 410 has been handled.
    await alice.post('@carol witness')
    await service.next(carol.path)
    expect(await server.app.store.push.listByUser(bobId)).toEqual([])
  })

  test.concurrent('a push service that never answers does not hold up message_new for others', async () => {
    await using server = await startServer({ push: { allow_http_loopback: true } })
    const alice = await server.login('alice')
    const bob = await offlineSubscriber(server, 'bob', alice)
    service.answers.set(bob.path, 'hang')
    const carol = await server.login('carol')
    await alice.post('@bob first')
    // The push request is now open and unanswered...
    await service.next(bob.path)
    await alice.post('@bob second')
    // ...and both broadcasts still arrive while it hangs.
    expect((await carol.next('message_new')).message.content).toBe('@bob first')
    expect((await carol.next('message_new')).message.content).toBe('@bob second')
    expect(service.count(bob.path)).toBeGreaterThanOrEqual(1)
  })
})
