import { describe, expect, test } from 'bun:test'
import { X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:tls'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../../src/app.ts'
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.ts'
import type { Logger } from '../../src/log.ts'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import type { Packet } from '../helpers/client.ts'
import { run } from '../helpers/process.ts'

/** A fresh self-signed certificate for localhost in `dir`/`name`.crt and .key; its SHA-256 fingerprint. */
async function selfSigned(dir: string, name: string): Promise<{ cert: string; key: string; fingerprint: string }> {
  const cert = join(dir, `${name}.crt`)
  const key = join(dir, `${name}.key`)
  const made = await run(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', key, '-out', cert])
  if (made.code !== 0) throw new Error(`openssl failed: ${made.stderr}`)
  return { cert, key, fingerprint: new X509Certificate(await readFile(cert)).fingerprint256 }
}

/** The SHA-256 fingerprint of the certificate a new TLS connection to `port` is given. */
function peerFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256)
      socket.end()
    })
    socket.on('error', reject)
  })
}

/** A wss:// client that accepts the self-signed certificate; `next(cmd)` as in TestClient. */
class SecureClient {
  private inbox: Packet[] = []
  private waiters: Array<{ match: (p: Packet) => boolean; resolve: (p: Packet) => void }> = []

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener('message', (event) => {
      const packet = JSON.parse(String(event.data)) as Packet
      const waiter = this.waiters.find((w) => w.match(packet))
      if (!waiter) return void this.inbox.push(packet)
      this.waiters.splice(this.waiters.indexOf(waiter), 1)
      waiter.resolve(packet)
    })
  }

  static async connect(url: string): Promise<SecureClient> {
    const ws = new WebSocket(url, { tls: { rejectUnauthorized: false } })
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve, { once: true })
      ws.addEventListener('error', () => reject(new Error(`cannot connect to ${url}`)), { once: true })
    })
    return new SecureClient(ws)
  }

  send(packet: Packet) {
    this.ws.send(JSON.stringify(packet))
  }

  next(cmd: string, where: (p: Packet) => boolean = () => true): Promise<Packet> {
    const match = (p: Packet) => p.cmd === cmd && where(p)
    const index = this.inbox.findIndex(match)
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]!)
    return new Promise((resolve) => this.waiters.push({ match, resolve }))
  }

  /** The answer to a ping sent now comes after everything already due to this socket. */
  async settle(): Promise<Packet[]> {
    const listener = crypto.randomUUID()
    this.send({ cmd: 'ping', listener })
    await this.next('pong', (p) => p.listener === listener)
    return this.inbox.splice(0)
  }

  async register(username: string) {
    await this.next('handshake')
    this.send({ cmd: 'register', username, password: 'password123' })
    await this.next('ready')
    await this.next('auth_success')
  }

  close() {
    this.ws.close()
  }
}

/** A server started from config.json with `tls` naming cert.pem/key.pem beside it (relative paths). */
async function serveTls() {
  const dir = await mkdtemp(join(tmpdir(), 'originchats-tls-'))
  const first = await selfSigned(dir, 'first')
  await rename(first.cert, join(dir, 'cert.pem'))
  await rename(first.key, join(dir, 'key.pem'))
  const path = join(dir, 'config.json')
  await writeFile(
    path,
    JSON.stringify({
      websocket: { host: '127.0.0.1', port: 0 },
      auth_mode: 'cracked',
      server: { name: 'Secure', owner: { name: 'owner' } },
      tls: { cert: 'cert.pem', key: 'key.pem' },
      // Only the tests' own messages, no welcomes.
      plugins: { builtin: { welcome: { enabled: false } } },
    }),
  )
  const lines: string[] = []
  const waiters = new Set<() => void>()
  const record = (line: string) => {
    lines.push(line)
    for (const waiter of [...waiters]) waiter()
  }
  const log: Logger = { debug() {}, info: record, warn: record, error: record }
  const app = createApp({ config: await loadConfigFile(path), configPath: path, databasePath: join(dir, DATABASE_FILE), port: 0, log })
  const clients: SecureClient[] = []
  return {
    app,
    dir,
    first,
    lines,
    /** Resolves once a log line containing `text` has been written. */
    logged: (text: string) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (!lines.some((line) => line.includes(text))) return
          waiters.delete(check)
          resolve()
        }
        waiters.add(check)
        check()
      }),
    async connect() {
      const client = await SecureClient.connect(app.url)
      clients.push(client)
      return client
    },
    async [Symbol.asyncDispose]() {
      for (const client of clients) client.close()
      await app.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** Posts to `general` and returns the echo. */
async function post(client: SecureClient, content: string): Promise<Packet> {
  const listener = crypto.randomUUID()
  client.send({ cmd: 'message_new', channel: 'general', content, listener })
  return (await client.next('message_new', (p) => p.listener === listener)).message
}

describe('native TLS', () => {
  test.concurrent('serves wss:// and https:// with the configured certificate', async () => {
    await using served = await serveTls()
    expect(served.app.url).toBe(`wss://127.0.0.1:${served.app.port}/`)
    expect(await peerFingerprint(served.app.port)).toBe(served.first.fingerprint)

    const alice = await served.connect()
    await alice.register('alice')
    expect(await post(alice, 'over TLS')).toMatchObject({ user: 'USR:local_alice', content: 'over TLS' })

    const info = await fetch(`https://127.0.0.1:${served.app.port}/info`, { tls: { rejectUnauthorized: false } })
    expect(info.status).toBe(200)
    expect(((await info.json()) as { server: { name: string } }).server.name).toBe('Secure')
  })

  test.concurrent('a renewed certificate reaches new connections while open ones carry on', async () => {
    await using served = await serveTls()
    const alice = await served.connect()
    await alice.register('alice')

    // A renewal as certbot-like tools do it: new files renamed over the old ones.
    const second = await selfSigned(served.dir, 'second')
    await rename(second.key, join(served.dir, 'key.pem'))
    await rename(second.cert, join(served.dir, 'cert.pem'))
    await served.logged('TLS certificate reloaded')
    expect(await peerFingerprint(served.app.port)).toBe(second.fingerprint)
    // Only a half-replaced pair may have been refused on the way (if the watcher looked in between).
    for (const line of served.lines.filter((line) => line.includes('TLS certificate not reloaded'))) expect(line).toContain('KEY_VALUES_MISMATCH')

    // Alice is still on the first listener, Bob on the new one: broadcasts cross both ways.
    const bob = await served.connect()
    await bob.register('bob')
    const fromAlice = await post(alice, 'from the old listener')
    expect((await bob.next('message_new', (p) => p.message.id === fromAlice.id)).message).toEqual(fromAlice)
    const fromBob = await post(bob, 'from the new listener')
    expect((await alice.next('message_new', (p) => p.message.id === fromBob.id)).message).toEqual(fromBob)
    // Each poster got its own message once, not once per listener.
    expect((await alice.settle()).filter((p) => p.cmd === 'message_new')).toEqual([])
    expect((await bob.settle()).filter((p) => p.cmd === 'message_new' && p.message.id === fromBob.id)).toEqual([])

    const info = await fetch(`https://127.0.0.1:${served.app.port}/info`, { tls: { rejectUnauthorized: false } })
    expect(info.status).toBe(200)
  })

  test.concurrent('a missing, partial or unusable certificate is refused at start-up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'originchats-tls-'))
    try {
      const pair = await selfSigned(dir, 'pair')
      const other = await selfSigned(dir, 'other')
      const start = (tls: Record<string, string>) => () =>
        createApp({ config: parseConfig({ websocket: { port: 0 }, tls }), configPath: join(dir, 'config.json'), databasePath: join(dir, DATABASE_FILE), port: 0 })
      expect(start({ cert: 'missing.crt', key: 'pair.key' })).toThrow(new ConfigError(`tls.cert: cannot read ${join(dir, 'missing.crt')} (ENOENT)`))
      expect(start({ cert: pair.cert })).toThrow(new ConfigError('tls: set both tls.cert and tls.key (only tls.cert is set)'))
      expect(start({ cert: pair.cert, key: other.key })).toThrow(ConfigError)
      expect(start({ cert: pair.key, key: pair.key })).toThrow(/are not a usable certificate and key/)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  test.concurrent('serve exits with an error naming a missing certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'originchats-tls-'))
    try {
      const config = join(dir, 'config.json')
      await writeFile(config, JSON.stringify({ websocket: { port: 0 }, tls: { cert: 'live/fullchain.pem', key: 'live/privkey.pem' } }))
      const result = await run(['bun', 'src/cli.ts', 'serve', '--config', config])
      expect(result.code).not.toBe(0)
      expect(result.stderr).toBe(`tls.cert: cannot read ${join(dir, 'live/fullchain.pem')} (ENOENT)\n`)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
