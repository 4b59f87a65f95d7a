import { describe, expect, test } from 'bun:test'
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, type App } from '../../src/app.ts'
import { LiveConfig } from '../../src/config/live.ts'
import { loadConfigFile, parseConfig } from '../../src/config/load.ts'
import type { Config } from '../../src/config/schema.ts'
import { watchConfig, type ReloadOutcome } from '../../src/config/watch.ts'
import type { Logger } from '../../src/log.ts'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import { TestClient, type Packet } from '../helpers/client.ts'
import { authenticate } from '../helpers/process.ts'
import { startFakeRotur } from '../helpers/rotur.ts'

type Raw = Record<string, any>

/**
 * A server started from a real config.json in a temporary folder, as `serve` starts it, so the
 * file can be edited under it. Every applied configuration and every warning is recorded;
 * `until` waits for them (the watcher's own timing is never assumed).
 */
async function serveFile(extra: Raw = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'originchats-watch-'))
  const path = join(dir, 'config.json')
  const rotur = startFakeRotur()
  let raw: Raw = {
    websocket: { host: '127.0.0.1', port: 0 },
    rotur: { validate_url: rotur.url, timeout_ms: 2000 },
    auth_mode: 'cracked',
    server: { name: 'Before', owner: { name: 'owner' } },
    security: { max_connections_per_ip: 1000, auth_failures_per_minute: 1000, registrations_per_hour: 1000 },
    ...extra,
  }
  const text = (value: Raw) => `${JSON.stringify(value, null, 4)}\n`
  await writeFile(path, text(raw))

  const warnings: string[] = []
  const errors: string[] = []
  const applied: Config[] = []
  const waiters = new Set<() => void>()
  const poke = () => {
    for (const waiter of [...waiters]) waiter()
  }
  const until = (ready: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!ready()) return
        waiters.delete(check)
        resolve()
      }
      waiters.add(check)
      check()
    })
  const log: Logger = {
    debug() {},
    info() {},
    warn(message) {
      warnings.push(message)
      poke()
    },
    error(message) {
      errors.push(message)
      poke()
    },
  }
  const app: App = createApp({ config: await loadConfigFile(path), configPath: path, databasePath: join(dir, DATABASE_FILE), port: 0, log })
  app.settings.onChange((next) => {
    applied.push(next)
    poke()
  })
  const clients: TestClient[] = []
  const connect = async () => {
    const client = await TestClient.connect(app.url)
    clients.push(client)
    return client
  }

  return {
    app,
    dir,
    path,
    warnings,
    applied,
    until,
    text,
    connect,
    async login(name: string) {
      const client = await connect()
      await authenticate(client, { cmd: 'auth', validator: rotur.issue(name, client.handshake.val.validator_key) })
      return client
    },
    /** Rewrites config.json in place with `change` applied and waits until that reload is applied. */
    async edit(change: (raw: Raw) => void): Promise<Config> {
      const count = applied.length
      raw = structuredClone(raw)
      change(raw)
      await writeFile(path, text(raw))
      await until(() => applied.length > count)
      return applied.at(-1)!
    },
    /** The configuration as last written by `edit`, to build other saves from. */
    get raw() {
      return structuredClone(raw)
    },
    async [Symbol.asyncDispose]() {
      await Promise.all(clients.map((client) => client.close()))
      await app.stop()
      await rotur.stop()
      await rm(dir, { recursive: true, force: true })
      expect(errors).toEqual([])
    },
  }
}

/** Posts to `general` and waits for the echo or the refusal. */
async function post(client: TestClient, content: string): Promise<Packet> {
  const listener = crypto.randomUUID()
  client.send({ cmd: 'message_new', channel: 'general', content, listener })
  return Promise.race([
    client.next('message_new', (p) => p.listener === listener),
    client.next('error', (p) => p.listener === listener),
    client.next('rate_limit', (p) => p.listener === listener),
  ])
}

describe('config.json live reload', () => {
  test.concurrent('a new server name reaches connected clients, new handshakes and /info', async () => {
    await using served = await serveFile()
    const alice = await served.login('alice')

    await served.edit((raw) => (raw.server.name = 'After'))
    expect(await alice.next('server_update')).toEqual({ cmd: 'server_update', name: 'After', icon: '', banner: '' })
    const fresh = await served.connect()
    expect(fresh.handshake.val.server).toEqual({ name: 'After', owner: { name: 'owner' } })
    const info = (await (await fetch(served.app.url.replace('ws://', 'http://') + 'info')).json()) as { server: { name: string } }
    expect(info.server.name).toBe('After')
  })

  test.concurrent('limits.post_content and rate limiting apply from the next message', async () => {
    await using served = await serveFile()
    const alice = await served.login('alice')
    expect((await post(alice, 'x'.repeat(20))).cmd).toBe('message_new')

    await served.edit((raw) => (raw.limits = { post_content: 10 }))
    expect(await post(alice, 'x'.repeat(20))).toMatchObject({
      cmd: 'error', src: 'message_new', val: 'Message too long. Maximum length is 10 characters',
    })
    expect((await served.connect()).handshake.val.limits).toEqual({ post_content: 10, search_results: 30 })

    await served.edit((raw) => (raw.limits = { post_content: 100 }))
    expect((await post(alice, 'x'.repeat(20))).cmd).toBe('message_new')

    // The limiter reads its settings per check; counting starts once it is on.
    await served.edit((raw) => (raw.rate_limiting = { enabled: true, messages_per_minute: 100, burst_limit: 1, cooldown_seconds: 30 }))
    expect((await post(alice, 'one')).cmd).toBe('message_new')
    expect(await post(alice, 'two')).toMatchObject({
      cmd: 'rate_limit', reason: "Burst limit exceeded. You're in cooldown for 30 seconds", length: 30000,
    })
    await served.edit((raw) => (raw.rate_limiting = { enabled: false }))
    expect((await post(alice, 'three')).cmd).toBe('message_new')
  })

  test.concurrent('a save that is not valid JSON or fails the schema keeps the running config and warns once', async () => {
    await using served = await serveFile()
    const alice = await served.login('alice')

    await writeFile(served.path, '{ "server": { "name": "Broken" ')
    await served.until(() => served.warnings.length === 1)
    expect(served.warnings[0]).toStartWith(`config not reloaded, keeping the running configuration: ${served.path}: not valid JSON (`)
    expect((await served.connect()).handshake.val.server.name).toBe('Before')

    await writeFile(served.path, served.text({ ...served.raw, server: { name: 'Typo' }, limits: { post_content: 'lots' }, auth_mode: 'open' }))
    await served.until(() => served.warnings.length === 2)
    expect(served.warnings[1]).toStartWith(`config not reloaded, keeping the running configuration: ${served.path} is invalid: /limits/post_content: `)
    expect(served.warnings[1]).toContain('; /auth_mode: ')
    expect(served.warnings[1]).not.toContain('\n')
    expect(served.app.settings.current.server.name).toBe('Before')

    // A good save afterwards applies; the bad ones produced exactly one line each and no update.
    await served.edit((raw) => (raw.server.name = 'Fixed'))
    expect(served.warnings).toHaveLength(2)
    expect(served.applied.map((config) => config.server.name)).toEqual(['Fixed'])
    expect(await alice.next('server_update')).toEqual({ cmd: 'server_update', name: 'Fixed', icon: '', banner: '' })
    await alice.expectNone('server_update')
  })

  test.concurrent('a save that adds a key this server does not know warns once for it, suggesting the closest', async () => {
    await using served = await serveFile()
    const prot = `${served.path}: websocket.prot: unknown key; did you mean 'port'?`
    await served.edit((raw) => (raw.websocket.prot = 5613))
    expect(served.warnings).toEqual([prot])
    // The next save keeps that key: only the key it adds is new.
    await served.edit((raw) => {
      raw.server.name = 'After'
      raw.logging = { formt: 'json' }
    })
    expect(served.warnings).toEqual([prot, `${served.path}: logging.formt: unknown key; did you mean 'format'?`])
    expect(served.app.settings.current.server.name).toBe('After')
  })

  test.concurrent('editor save patterns reload exactly once per save', async () => {
    await using served = await serveFile()
    const alice = await served.login('alice')
    const renamed = served.text({ ...served.raw, server: { name: 'Renamed', owner: { name: 'owner' } } })

    // vim/VS Code style: write a temporary file and rename it over config.json, then the same
    // content written again and a truncate-then-write: many events, one configuration.
    const temporary = join(served.dir, '.config.json.swp')
    await writeFile(temporary, renamed)
    await rename(temporary, served.path)
    await writeFile(served.path, renamed)
    await writeFile(served.path, '')
    await writeFile(served.path, renamed)
    await served.until(() => served.applied.length === 1)

    // Delete then recreate (some editors and deploy tools) is one more save.
    await unlink(served.path)
    const recreated = served.text({ ...served.raw, server: { name: 'Recreated', owner: { name: 'owner' } } })
    await writeFile(served.path, recreated)
    await served.until(() => served.applied.length === 2)

    // A later save is the sentinel: anything the bursts above still triggered came before it.
    await served.edit((raw) => (raw.server.name = 'Sentinel'))
    expect(served.applied.map((config) => config.server.name)).toEqual(['Renamed', 'Recreated', 'Sentinel'])
    for (const name of ['Renamed', 'Recreated', 'Sentinel']) {
      expect(await alice.next('server_update')).toEqual({ cmd: 'server_update', name, icon: '', banner: '' })
    }
    await alice.expectNone('server_update')
    expect(served.warnings).toEqual([])
  })

  test.concurrent('auth mode and registration switch for new attempts', async () => {
    await using served = await serveFile()

    await served.edit((raw) => (raw.auth_mode = 'cracked-only'))
    const guest = await served.connect()
    expect(guest.handshake.val.auth_mode).toBe('cracked-only')
    guest.send({ cmd: 'auth', validator: 'anything' })
    expect(await guest.next('auth_error')).toEqual({ cmd: 'auth_error', val: 'Rotur authentication is disabled. Use login or register commands.' })

    await served.edit((raw) => (raw.cracked = { allow_registration: false }))
    guest.send({ cmd: 'register', username: 'newcomer', password: 'password123' })
    expect(await guest.next('auth_error')).toEqual({ cmd: 'auth_error', val: 'Registration is disabled' })

    await served.edit((raw) => (raw.auth_mode = 'rotur'))
    const bob = await served.login('bob')
    expect(bob.handshake.val.auth_mode).toBe('rotur')
    guest.send({ cmd: 'login', username: 'newcomer', password: 'password123' })
    expect(await guest.next('auth_error')).toEqual({ cmd: 'auth_error', val: 'Authentication required' })
  })

  test.concurrent('keys read at start-up are reported as needing a restart; the rest applies', async () => {
    await using served = await serveFile()
    const port = served.app.port
    const next = await served.edit((raw) => {
      raw.websocket = { host: '127.0.0.1', port: 1, max_payload: 2048 }
      raw.server.name = 'Moved'
    })
    expect(next.server.name).toBe('Moved')
    expect(served.warnings).toEqual([`${served.path}: websocket.port, websocket.max_payload changed; restart the server to apply them`])
    const fresh = await served.connect()
    expect(new URL(fresh.ws.url).port).toBe(String(port))
    expect(fresh.handshake.val.server.name).toBe('Moved')
  })
})

/**
 * The watcher alone, with a short settling delay: nearly every file event leads to a look at the
 * file, so one reload per save rests on the watcher recognising what it has already seen or
 * applied. (Not 0: see SETTLE_MS on the events Bun drops within a millisecond.)
 */
async function watchedFile() {
  const dir = await mkdtemp(join(tmpdir(), 'originchats-watch-'))
  const path = join(dir, 'config.json')
  const text = (name: string) => `${JSON.stringify({ server: { name } }, null, 4)}\n`
  await writeFile(path, text('Before'))
  const settings = new LiveConfig(parseConfig(JSON.parse(text('Before'))), path)
  const applied: string[] = []
  const outcomes: ReloadOutcome[] = []
  const warnings: string[] = []
  const waiters = new Set<() => void>()
  const poke = () => {
    for (const waiter of [...waiters]) waiter()
  }
  settings.onChange((next) => applied.push(next.server.name))
  const log: Logger = { debug() {}, info() {}, warn: (message) => void warnings.push(message), error: (message) => void warnings.push(message) }
  const watcher = watchConfig(path, {
    settings,
    log,
    settleMs: 10,
    report(outcome) {
      outcomes.push(outcome)
      poke()
    },
  })
  const until = (ready: () => boolean) =>
    new Promise<void>((resolve) => {
      const check = () => {
        if (!ready()) return
        waiters.delete(check)
        resolve()
      }
      waiters.add(check)
      check()
    })
  return {
    dir,
    path,
    text,
    settings,
    applied,
    outcomes,
    warnings,
    until,
    /** Writes a last save and waits until it is applied: whatever earlier saves triggered came first. */
    async sentinel() {
      await writeFile(path, text('Sentinel'))
      await until(() => applied.at(-1) === 'Sentinel')
    },
    async [Symbol.asyncDispose]() {
      await watcher.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

describe('watchConfig', () => {
  test.concurrent('a rename-over save, rewrites of the same text and a truncate-then-write apply once', async () => {
    await using watched = await watchedFile()
    const temporary = join(watched.dir, 'config.json~')
    await writeFile(temporary, watched.text('Renamed'))
    await rename(temporary, watched.path)
    await watched.until(() => watched.applied.length === 1)

    let from = watched.outcomes.length
    await writeFile(watched.path, watched.text('Renamed'))
    await watched.until(() => watched.outcomes.length > from)

    // The truncation is looked at on its own: an empty file is a save in progress, not an error.
    from = watched.outcomes.length
    await writeFile(watched.path, '')
    await watched.until(() => watched.outcomes.slice(from).some((outcome) => outcome === 'incomplete' || outcome === 'refused'))
    expect(watched.outcomes.slice(from)).not.toContain('refused')
    await writeFile(watched.path, watched.text('Renamed'))

    await watched.sentinel()
    expect(watched.applied).toEqual(['Renamed', 'Sentinel'])
    expect(watched.warnings).toEqual([])
  })

  test.concurrent('an invalid save warns once however many events it causes', async () => {
    await using watched = await watchedFile()
    await writeFile(watched.path, '{"server": ')
    await watched.until(() => watched.outcomes.includes('refused'))
    // Written again (a second save of the same broken text): looked at, not reported again.
    const from = watched.outcomes.length
    await writeFile(watched.path, '{"server": ')
    await watched.until(() => watched.outcomes.length > from)
    await watched.sentinel()
    expect(watched.warnings).toEqual([`config not reloaded, keeping the running configuration: ${watched.path}: not valid JSON (JSON Parse error: Unexpected EOF)`])
    expect(watched.applied).toEqual(['Sentinel'])
  })

  test.concurrent("the server's own edits (server_update) are seen but not applied again", async () => {
    await using watched = await watchedFile()
    await watched.settings.edit((raw) => (raw.server.name = 'Edited'))
    await watched.until(() => watched.outcomes.some((outcome) => outcome === 'unchanged' || outcome === 'applied'))
    expect(watched.outcomes).not.toContain('applied')
    expect(watched.applied).toEqual(['Edited'])
    await watched.sentinel()
    expect(watched.applied).toEqual(['Edited', 'Sentinel'])
  })

  test.concurrent('other files in the folder are ignored', async () => {
    await using watched = await watchedFile()
    await writeFile(join(watched.dir, 'notes.json'), '{')
    await watched.sentinel()
    expect(watched.outcomes).not.toContain('refused')
    expect(watched.warnings).toEqual([])
  })
})
