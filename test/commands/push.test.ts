import { describe, expect, test } from 'bun:test'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createECDH } from 'node:crypto'
import { startServer, type ConfigOverrides } from '../helpers/server.ts'

const PUSH: ConfigOverrides = { push: { allow_http_loopback: true } }
const p256dh = () => {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  return ecdh.getPublicKey().toString('base64url')
}
const auth = () => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url')
const subscription = (endpoint: string) => ({ endpoint, keys: { p256dh: p256dh(), auth: auth() }, vapid_public_key: 'ignored' })

describe('push_get_vapid', () => {
  test.concurrent('answers the public key: 65 bytes, uncompressed, base64url without padding; kept across a restart', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const reply = await alice.request({ cmd: 'push_get_vapid' }, 'push_vapid')
    expect(Object.keys(reply).sort()).toEqual(['cmd', 'key'])
    expect(reply.key).toMatch(/^[A-Za-z0-9_-]{87}$/)
    expect(Buffer.from(reply.key, 'base64url')[0]).toBe(4)
    // The private key is readable by the server's user only.
    expect((await stat(join(server.dir, 'vapid', 'private_key.pem'))).mode & 0o777).toBe(0o600)
    expect(await Bun.file(join(server.dir, 'vapid', 'vapid_config.json')).json()).toEqual({ public_key_b64: reply.key, claims_email: 'mailto:' })

    await server.restart()
    const again = await server.login('alice')
    expect(await again.request({ cmd: 'push_get_vapid' }, 'push_vapid')).toEqual(reply)
  })

  test.concurrent('with push turned off the key is not configured, and subscribing fails', async () => {
    await using server = await startServer({ push: { enabled: false } })
    const alice = await server.login('alice')
    expect(await alice.error({ cmd: 'push_get_vapid' })).toEqual({ cmd: 'error', src: 'push_get_vapid', val: 'VAPID keys not configured on this server' })
    expect(await alice.error({ cmd: 'push_subscribe', subscription: subscription('https://push.example/a') })).toEqual({
      cmd: 'error',
      src: 'push_subscribe',
      val: 'Failed to save subscription',
    })
  })

  test.concurrent('needs authentication', async () => {
    await using server = await startServer()
    const guest = await server.connect()
    for (const cmd of ['push_get_vapid', 'push_subscribe', 'push_unsubscribe']) {
      expect(await guest.request({ cmd }, 'auth_error')).toEqual({ cmd: 'auth_error', val: 'Authentication required' })
    }
  })
})

describe('push_subscribe / push_unsubscribe', () => {
  test.concurrent('subscribes with a device fingerprint; the same device replaces its subscription; kept across a restart', async () => {
    await using server = await startServer(PUSH)
    const alice = await server.login('alice')
    const first = await alice.request({ cmd: 'push_subscribe', subscription: subscription('https://push.example/one') }, 'push_subscribed')
    expect(first).toEqual({ cmd: 'push_subscribed', success: true, device_fingerprint: expect.stringMatching(/^[0-9a-f]{16}$/) })
    const aliceId = (await server.app.store.users.getByUsername('alice'))!.id
    // Another socket of the same browser (same address, same user agent): the same device.
    const again = await server.login('alice')
    const second = subscription('https://push.example/two')
    expect(await again.request({ cmd: 'push_subscribe', subscription: second }, 'push_subscribed')).toEqual(first)
    const stored = await server.app.store.push.listByUser(aliceId)
    expect(stored).toEqual([
      { user_id: aliceId, endpoint: second.endpoint, p256dh: second.keys.p256dh, auth: second.keys.auth, device_fingerprint: first.device_fingerprint, last_used: expect.any(Number) },
    ])

    await server.restart()
    expect(await server.app.store.push.listByUser(aliceId)).toEqual(stored)
    const back = await server.login('alice')
    expect(await back.request({ cmd: 'push_unsubscribe', endpoint: second.endpoint }, 'push_unsubscribed')).toEqual({ cmd: 'push_unsubscribed', success: true })
    expect(await server.app.store.push.listByUser(aliceId)).toEqual([])
    // Nothing to remove is no error.
    expect(await back.request({ cmd: 'push_unsubscribe', endpoint: second.endpoint }, 'push_unsubscribed')).toEqual({ cmd: 'push_unsubscribed', success: true })
  })

  test.concurrent('an endpoint belongs to one user: subscribing it moves it; others cannot unsubscribe it', async () => {
    await using server = await startServer(PUSH)
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const shared = subscription('https://push.example/shared')
    await alice.request({ cmd: 'push_subscribe', subscription: shared }, 'push_subscribed')
    const [aliceId, bobId] = await Promise.all(['alice', 'bob'].map(async (name) => (await server.app.store.users.getByUsername(name))!.id))
    await bob.request({ cmd: 'push_unsubscribe', endpoint: shared.endpoint }, 'push_unsubscribed')
    expect(await server.app.store.push.listByUser(aliceId!)).toHaveLength(1)
    await bob.request({ cmd: 'push_subscribe', subscription: shared }, 'push_subscribed')
    expect(await server.app.store.push.listByUser(aliceId!)).toEqual([])
    expect((await server.app.store.push.listByUser(bobId!)).map((s) => s.endpoint)).toEqual([shared.endpoint])
  })

  test.concurrent('exact errors for missing or malformed input, and the server keeps working', async () => {
    await using server = await startServer(PUSH)
    const alice = await server.login('alice')
    const error = (val: string, src = 'push_subscribe') => ({ cmd: 'error', src, val })
    const good = subscription('https://push.example/x')
    const missing = 'Missing subscription object'
    const incomplete = 'subscription must include endpoint, keys.p256dh and keys.auth'
    const failed = 'Failed to save subscription'
    const cases: Array<[unknown, string]> = [
      [undefined, missing],
      [null, missing],
      ['https://push.example/x', missing],
      [[good], missing],
      [{}, incomplete],
      [{ endpoint: good.endpoint }, incomplete],
      [{ endpoint: good.endpoint, keys: { p256dh: good.keys.p256dh } }, incomplete],
      [{ endpoint: 5, keys: good.keys }, incomplete],
      [{ endpoint: good.endpoint, keys: { p256dh: 1, auth: good.keys.auth } }, incomplete],
      [{ endpoint: '', keys: good.keys }, incomplete],
      // Values no push could be sent with are not stored.
      [{ endpoint: 'not a url', keys: good.keys }, failed],
      [{ endpoint: 'http://push.example/x', keys: good.keys }, failed],
      [{ endpoint: 'ftp://push.example/x', keys: good.keys }, failed],
      [{ endpoint: `https://push.example/${'a'.repeat(3000)}`, keys: good.keys }, failed],
      [{ endpoint: good.endpoint, keys: { p256dh: good.keys.p256dh.slice(0, 40), auth: good.keys.auth } }, failed],
      [{ endpoint: good.endpoint, keys: { p256dh: good.keys.p256dh, auth: 'c2hvcnQ' } }, failed],
      [{ endpoint: good.endpoint, keys: { p256dh: good.keys.p256dh, auth: '!!!!!!!!!!!!!!!!!!!!!!' } }, failed],
    ]
    for (const [sub, val] of cases) expect(await alice.error({ cmd: 'push_subscribe', subscription: sub })).toEqual(error(val))
    for (const endpoint of [undefined, null, '', 7]) {
      expect(await alice.error({ cmd: 'push_unsubscribe', endpoint })).toEqual(error('Missing endpoint', 'push_unsubscribe'))
    }
    expect(await server.app.store.push.listByUser((await server.app.store.users.getByUsername('alice'))!.id)).toEqual([])
    // Plain http is accepted for a loopback push service only when configured (as here).
    const local = subscription('http://127.0.0.1:9/push')
    expect((await alice.request({ cmd: 'push_subscribe', subscription: local }, 'push_subscribed')).success).toBe(true)
    expect(await alice.request({ cmd: 'push_subscribe', subscription: good }, 'push_subscribed')).toMatchObject({ success: true })
  })

  test.concurrent('plain http to loopback is refused unless allow_http_loopback is set', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    expect(await alice.error({ cmd: 'push_subscribe', subscription: subscription('http://127.0.0.1:9/push') })).toEqual({
      cmd: 'error',
      src: 'push_subscribe',
      val: 'Failed to save subscription',
    })
  })

  test.concurrent("signing in again on the same device marks its subscription used, so it is not purged", async () => {
    await using server = await startServer(PUSH)
    const alice = await server.login('alice')
    const endpoint = 'https://push.example/device'
    await alice.request({ cmd: 'push_subscribe', subscription: subscription(endpoint) }, 'push_subscribed')
    await server.app.store.push.touch(endpoint, 1)
    const aliceId = (await server.app.store.users.getByUsername('alice'))!.id
    // The subscription is marked before the sign-in completes.
    await server.login('alice')
    const [stored] = await server.app.store.push.listByUser(aliceId)
    expect(stored!.last_used).toBeGreaterThan(Date.now() / 1000 - 3600)
  })

  test.concurrent('deleting a user deletes their subscriptions', async () => {
    await using server = await startServer(PUSH)
    const alice = await server.login('alice')
    await alice.request({ cmd: 'push_subscribe', subscription: subscription('https://push.example/gone') }, 'push_subscribed')
    const aliceId = (await server.app.store.users.getByUsername('alice'))!.id
    await alice.close()
    await server.app.store.users.delete(aliceId)
    expect(await server.app.store.push.listByUser(aliceId)).toEqual([])
  })
})
