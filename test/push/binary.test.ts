import { afterAll, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary } from '../../build.ts'
import { TestClient } from '../helpers/client.ts'
import { authenticate, killAll, ServerProcess } from '../helpers/process.ts'
import { browserSubscription, startFakePushService, vapidClaims } from '../helpers/push-service.ts'

afterAll(killAll)

test('the compiled binary sends Web Push (web-push is bundled in)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'originchats-push-binary-'))
  const service = startFakePushService()
  try {
    const binary = await buildBinary(join(dir, 'originchats'))
    const owner = join(dir, 'owner')
    await mkdir(owner, { recursive: true })
    const config = { websocket: { host: '127.0.0.1', port: 0 }, auth_mode: 'cracked', logging: { level: 'info' }, push: { allow_http_loopback: true } }
    await Bun.write(join(owner, 'config.json'), JSON.stringify(config))
    await using server = await ServerProcess.start([binary, 'serve', '--config', join(owner, 'config.json')], owner)
    await using alice = await TestClient.connect(server.url)
    await authenticate(alice, { cmd: 'register', username: 'alice', password: 'password123' })
    const { key } = await alice.request({ cmd: 'push_get_vapid' }, 'push_vapid')
    const browser = browserSubscription(service, '/binary/bob')
    const bob = await TestClient.connect(server.url)
    await authenticate(bob, { cmd: 'register', username: 'bob', password: 'password123' })
    await bob.request({ cmd: 'push_subscribe', subscription: browser.subscription }, 'push_subscribed')
    await bob.close()
    await alice.next('user_disconnect', (p) => p.username === 'USR:local_bob')
    alice.send({ cmd: 'message_new', channel: 'general', content: '@bob from the binary' })

    const request = await service.next('/binary/bob')
    expect((await vapidClaims(request.headers.get('authorization'), key)).aud).toBe(service.origin)
    expect(browser.decrypt(request.body)).toEqual({ title: '#general \u2014 USR:local_alice', body: '@bob from the binary', channelName: 'general' })
  } finally {
    await killAll()
    await service.stop()
    await rm(dir, { recursive: true, force: true })
  }
})
