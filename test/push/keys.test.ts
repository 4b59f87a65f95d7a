import { afterEach, beforeEach, expect, test } from 'bun:test'
import { generateKeyPairSync } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deviceFingerprint, deviceOf } from '../../src/push/fingerprint.ts'
import { loadOrCreateFingerprintSecret, loadOrCreateVapid } from '../../src/push/keys.ts'

let dir = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'originchats-push-keys-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

test('a key pair is made once and reused', async () => {
  const first = loadOrCreateVapid(dir)
  expect(Buffer.from(first.publicKey, 'base64url')).toHaveLength(65)
  expect(Buffer.from(first.privateKey, 'base64url')).toHaveLength(32)
  expect((await stat(join(dir, 'vapid', 'private_key.pem'))).mode & 0o777).toBe(0o600)
  expect(loadOrCreateVapid(dir)).toEqual(first)
})

test("upstream's files are used as they are: a SEC1 PEM and its claims subject", async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const jwk = publicKey.export({ format: 'jwk' })
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, 'base64url'), Buffer.from(jwk.y!, 'base64url')]).toString('base64url')
  await mkdir(join(dir, 'vapid'))
  await writeFile(join(dir, 'vapid', 'private_key.pem'), privateKey.export({ type: 'sec1', format: 'pem' }))
  await writeFile(join(dir, 'vapid', 'vapid_config.json'), JSON.stringify({ public_key_b64: point, claims_email: 'admin@example.com' }))
  expect(loadOrCreateVapid(dir)).toMatchObject({ publicKey: point, subject: 'mailto:admin@example.com' })
  expect(await Bun.file(join(dir, 'vapid', 'vapid_config.json')).json()).toEqual({ public_key_b64: point, claims_email: 'admin@example.com' })
})

test('a broken or non-P-256 key file stops start-up with one line naming it, and is left as it is', async () => {
  await mkdir(join(dir, 'vapid'))
  const pem = join(dir, 'vapid', 'private_key.pem')
  await writeFile(pem, 'garbage')
  expect(() => loadOrCreateVapid(dir)).toThrow(`${pem}: not a readable PEM private key (`)
  await writeFile(pem, generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }))
  expect(() => loadOrCreateVapid(dir)).toThrow(`${pem}: not a P-256 private key (curve P-384)`)
  expect(await Bun.file(pem).text()).toContain('BEGIN PRIVATE KEY')
})

test('the fingerprint secret is random per data folder, kept, and overridden by the environment', async () => {
  const secret = loadOrCreateFingerprintSecret(dir, undefined)
  expect(secret).not.toBe('originchats-push-secret')
  expect(secret.length).toBeGreaterThanOrEqual(40)
  expect(loadOrCreateFingerprintSecret(dir, undefined)).toBe(secret)
  expect(loadOrCreateFingerprintSecret(dir, 'from-env')).toBe('from-env')
  const other = await mkdtemp(join(tmpdir(), 'originchats-push-keys-'))
  expect(loadOrCreateFingerprintSecret(other, undefined)).not.toBe(secret)
  await rm(other, { recursive: true })
})

test("fingerprints are upstream's HMAC; proxy headers count only behind a trusted proxy", () => {
  const request = new Request('http://x/', {
    headers: { 'user-agent': 'Firefox', 'cf-connecting-ip': '203.0.113.9', 'x-forwarded-for': '198.51.100.1, 10.0.0.1', 'cf-ipcountry': 'NL' },
  })
  expect(deviceOf(request, '10.0.0.2', false)).toEqual({ ip: '10.0.0.2', userAgent: 'Firefox', country: '' })
  expect(deviceOf(request, '10.0.0.2', true)).toEqual({ ip: '203.0.113.9', userAgent: 'Firefox', country: 'NL' })
  const forwarded = new Request('http://x/', { headers: { 'x-forwarded-for': '198.51.100.1, 10.0.0.1' } })
  expect(deviceOf(forwarded, '10.0.0.2', true).ip).toBe('198.51.100.1')
  const expected = new Bun.CryptoHasher('sha256', 'k').update('1.2.3.4|UA|NL').digest('hex').slice(0, 16)
  expect(deviceFingerprint('k', { ip: '1.2.3.4', userAgent: 'UA', country: 'NL' })).toBe(expected)
})

test('nodes starting together on one shared folder agree on one key pair and one fingerprint secret', async () => {
  const script = `const { loadOrCreateVapid, loadOrCreateFingerprintSecret } = await import(${JSON.stringify(join(import.meta.dir, '../../src/push/keys.ts'))})
const dir = process.argv[1]
console.log(JSON.stringify({ key: loadOrCreateVapid(dir).publicKey, secret: loadOrCreateFingerprintSecret(dir, '') }))`
  const nodes = Array.from({ length: 6 }, () => Bun.spawn({ cmd: [process.execPath, '-e', script, dir], stdout: 'pipe', stderr: 'inherit' }))
  const answers = await Promise.all(nodes.map(async (node) => JSON.parse(await new Response(node.stdout).text())))
  expect(new Set(answers.map((a) => a.key)).size).toBe(1)
  expect(new Set(answers.map((a) => a.secret)).size).toBe(1)
  expect(loadOrCreateVapid(dir).publicKey).toBe(answers[0].key)
  expect(loadOrCreateFingerprintSecret(dir, '')).toBe(answers[0].secret)
  // No temporary file is left behind.
  expect((await readdir(join(dir, 'vapid'))).sort()).toEqual(['fingerprint_secret', 'private_key.pem', 'vapid_config.json'])
})
