import { afterAll, beforeAll, expect, test } from 'bun:test'
import { createECDH, generateKeyPairSync } from 'node:crypto'
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { importFolder } from '../../src/cli/import.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let root = ''
let upstream = ''
let upstreamKey = ''
const p256dh = () => {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  return ecdh.getPublicKey().toString('base64url')
}
const carolSubscription = { endpoint: 'https://push.example/carol', p256dh: p256dh(), auth: 'AAAAAAAAAAAAAAAAAAAAAA', device_fingerprint: '0123456789abcdef', last_used: 1_900_000_000 }

/** An upstream folder (latest layout) with VAPID keys in py_vapid's SEC1 PEM and two users' subscriptions. */
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'originchats-import-push-'))
  upstream = join(root, 'upstream')
  const db = join(upstream, 'db')
  await mkdir(join(db, 'vapid'), { recursive: true })
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const jwk = publicKey.export({ format: 'jwk' })
  upstreamKey = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]).toString('base64url')
  await writeFile(join(db, 'vapid', 'private_key.pem'), privateKey.export({ type: 'sec1', format: 'pem' }))
  await writeFile(join(db, 'vapid', 'vapid_config.json'), JSON.stringify({ public_key_b64: upstreamKey, claims_email: 'mailto:ops@example.com' }))
  await writeFile(join(db, 'users.json'), JSON.stringify({ 'USR:1': { username: 'Carol', roles: ['user'] } }))
  await writeFile(join(db, 'push_subscriptions.json'), JSON.stringify({ carol: [carolSubscription], ghost: [{ ...carolSubscription, endpoint: 'https://push.example/ghost' }] }))
})
afterAll(() => rm(root, { recursive: true, force: true }))

async function importInto(server: TestServer) {
  await server.app.stop()
  const report = await importFolder(upstream, server.dir, server.config)
  await server.restart()
  return report
}

test.concurrent("upstream's VAPID keys replace a key nobody subscribed with, its subscriptions come along; twice adds nothing", async () => {
  await using server = await startServer()
  const first = await importInto(server)
  expect(first.push).toEqual({ imported: 1, skipped: 1 })
  expect(first.notes).toContain('VAPID keys imported: browsers subscribed upstream keep receiving pushes')
  expect(await server.app.store.push.listByUser('USR:1')).toEqual([{ user_id: 'USR:1', ...carolSubscription }])
  expect((await stat(join(server.dir, 'vapid', 'private_key.pem'))).mode & 0o777).toBe(0o600)
  const alice = await server.login('alice')
  expect(await alice.request({ cmd: 'push_get_vapid' }, 'push_vapid')).toEqual({ cmd: 'push_vapid', key: upstreamKey })

  const second = await importInto(server)
  expect(second.push).toEqual({ imported: 0, skipped: 2 })
  expect(second.notes).toEqual([])
  expect(await server.app.store.push.listByUser('USR:1')).toHaveLength(1)
})

test.concurrent("once someone subscribed with this server's key, it is kept and upstream's subscriptions are left out", async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const own = (await alice.request({ cmd: 'push_get_vapid' }, 'push_vapid')).key
  await alice.request({ cmd: 'push_subscribe', subscription: { endpoint: 'https://push.example/alice', keys: { p256dh: p256dh(), auth: 'AAAAAAAAAAAAAAAAAAAAAA' } } }, 'push_subscribed')
  const report = await importInto(server)
  expect(report.push).toEqual({ imported: 0, skipped: 0 })
  expect(report.notes).toEqual([expect.stringContaining('push_subscriptions.json: not imported')])
  expect(await server.app.store.push.listByUser('USR:1')).toEqual([])
  const back = await server.login('alice')
  expect(await back.request({ cmd: 'push_get_vapid' }, 'push_vapid')).toEqual({ cmd: 'push_vapid', key: own })
})

test.concurrent('a malformed push_subscriptions.json is reported and skipped, the rest still imports', async () => {
  const folder = join(root, 'broken')
  await mkdir(join(folder, 'db'), { recursive: true })
  await writeFile(join(folder, 'db', 'users.json'), JSON.stringify({ 'USR:2': { username: 'Dan' } }))
  await writeFile(join(folder, 'db', 'push_subscriptions.json'), JSON.stringify({ dan: [{ endpoint: 5 }] }))
  await mkdir(join(folder, 'db', 'vapid'))
  await writeFile(join(folder, 'db', 'vapid', 'private_key.pem'), generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }))
  await using server = await startServer()
  await server.app.stop()
  const report = await importFolder(folder, server.dir, server.config)
  await server.restart()
  expect(report.users).toEqual({ imported: 1, skipped: 0 })
  expect(report.invalid).toEqual([{ path: join(folder, 'db', 'push_subscriptions.json'), reason: expect.stringContaining('/dan/0/endpoint') }])
})
