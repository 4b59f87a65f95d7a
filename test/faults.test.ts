import { afterAll, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TestClient, type Packet } from './helpers/client.ts'
import { authenticate, killAll, ServerProcess } from './helpers/process.ts'
import { RawSocket } from './helpers/raw-socket.ts'
import { startServer } from './helpers/server.ts'

afterAll(killAll)

/** Collects `user_connect`/`user_disconnect` per username as an observer sees them. */
function presenceLog(observer: TestClient) {
  const connects: string[] = []
  const disconnects: string[] = []
  observer.ws.addEventListener('message', (event) => {
    const packet = JSON.parse(String(event.data)) as Packet
    if (packet.cmd === 'user_connect') connects.push(packet.user.username)
    if (packet.cmd === 'user_disconnect') disconnects.push(packet.username)
  })
  return { connects, disconnects }
}

test.concurrent('SIGKILL under load loses no acknowledged message', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'originchats-faults-'))
  try {
    const config = join(dir, 'config.json')
    await Bun.write(
      config,
      JSON.stringify({
        websocket: { host: '127.0.0.1', port: 0 },
        auth_mode: 'cracked',
        rate_limiting: { enabled: false },
        security: { max_connections_per_ip: 1000, registrations_per_hour: 1000 },
        logging: { level: 'warn' },
      }),
    )
    const command = [process.execPath, 'src/cli.ts', 'serve', '--config', config, '--data', join(dir, 'data')]
    const SENDERS = 3
    const PER_SENDER = 300
    const WINDOW = 16 // well under the server's per-connection frame queue
    const KILL_AFTER = 200
    const acked: string[] = []
    const errors: Packet[] = []
    {
      await using server = await ServerProcess.start(command)
      const senders = await Promise.all(
        Array.from({ length: SENDERS }, async (_, n) => {
          const client = await TestClient.connect(server.url)
          const ready = await authenticate(client, { cmd: 'register', username: `sender${n}`, password: 'password123' })
          return { client, username: ready.user.username as string }
        }),
      )
      const allClosed = senders.map(({ client, username }) => {
        let sent = 0
        const sendOne = () => client.send({ cmd: 'message_new', channel: 'general', content: `${username} #${++sent}` })
        client.ws.addEventListener('message', (event) => {
          const packet = JSON.parse(String(event.data)) as Packet
          // A refused message would stall this sender's window: record it and end the run.
          if (packet.cmd === 'error') {
            errors.push(packet)
            server.kill()
          }
          // Only the sender's own echo is its acknowledgement: the message is stored by then.
          if (packet.cmd !== 'message_new' || packet.message.user !== username) return
          acked.push(packet.message.id)
          if (acked.length === KILL_AFTER) server.kill()
          if (sent < PER_SENDER) sendOne()
        })
        for (let i = 0; i < WINDOW; i++) sendOne()
        return client.closed
      })
      await Promise.all(allClosed)
      expect(await server.exited).not.toBe(0)
    }
    expect(errors).toEqual([])
    // At most a window per sender was in flight when the kill landed: it really was mid-load.
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER)
    expect(acked.length).toBeLessThan(SENDERS * PER_SENDER)

    await using again = await ServerProcess.start(command)
    await using reader = await TestClient.connect(again.url)
    await authenticate(reader, { cmd: 'login', username: 'sender0', password: 'password123' })
    const stored = new Set<string>()
    let page = await reader.request({ cmd: 'messages_get', channel: 'general', limit: 200 })
    for (let pages = 0; page.messages.length > 0 && pages <= SENDERS * PER_SENDER; pages++) {
      for (const message of page.messages) stored.add(message.id)
      page = await reader.request({ cmd: 'messages_get', channel: 'general', limit: 200, start: page.messages[0].id })
    }
    expect(acked.filter((id) => !stored.has(id))).toEqual([])
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

test.concurrent('a client that stops reading is dropped and never holds the others back', async () => {
  await using server = await startServer({ websocket: { backpressure_limit: 65536 }, limits: { post_content: 8000 } })
  const sender = await server.login('sender')
  const reader = await server.login('reader')
  const presence = presenceLog(reader)
  const slow = await RawSocket.open(server.url)
  slow.send({ cmd: 'auth', validator: server.rotur.issue('slow', slow.handshake.val.validator_key) })
  await slow.next('ready')
  // From here on the slow client never reads again: its kernel buffers fill, then the server's.
  slow.socket.pause()

  const MAX_MESSAGES = 10_000
  const WINDOW = 32
  const content = 'x'.repeat(8000)
  const slowGone = Promise.withResolvers<void>()
  let sent = 0
  let acked = 0
  let received = 0
  const allDelivered = Promise.withResolvers<void>()
  // Should the server ever drop a client that keeps reading, fail instead of waiting forever.
  for (const client of [sender, reader]) client.closed.then(({ code }) => allDelivered.reject(new Error(`a reading client was closed (${code})`)))
  let stopped = false
  const settle = () => {
    if (stopped && acked === sent && received === sent) allDelivered.resolve()
  }
  reader.ws.addEventListener('message', (event) => {
    const packet = JSON.parse(String(event.data)) as Packet
    if (packet.cmd === 'user_disconnect' && packet.username === 'slow') {
      stopped = true
      slowGone.resolve()
    }
    if (packet.cmd === 'message_new' && packet.message.user === 'sender') received++
    reader.drain('message_new')
    settle()
  })
  const sendOne = () => {
    if (sent >= MAX_MESSAGES) {
      stopped = true
      return
    }
    sent++
    sender.send({ cmd: 'message_new', channel: 'general', content })
  }
  sender.ws.addEventListener('message', (event) => {
    const packet = JSON.parse(String(event.data)) as Packet
    if (packet.cmd === 'error') allDelivered.reject(new Error(`message refused: ${packet.val}`))
    if (packet.cmd !== 'message_new' || packet.message.user !== 'sender') return
    acked++
    sender.drain('message_new')
    if (!stopped) sendOne()
    settle()
  })
  for (let i = 0; i < WINDOW; i++) sendOne()
  await allDelivered.promise

  // The flood ended because the server dropped the slow reader, not because it hit the cap.
  expect(sent).toBeLessThan(MAX_MESSAGES)
  await slowGone.promise
  expect(presence.disconnects).toEqual(['slow'])
  expect({ acked, received }).toEqual({ acked: sent, received: sent })
  // Once resumed, the slow socket reads what the kernel still held, then finds the connection closed.
  slow.socket.resume()
  await slow.closed
  expect(server.app.hub.sockets.size).toBe(2)
})

test.concurrent('a storm of connections dropped without a close frame leaves no ghosts', async () => {
  await using server = await startServer()
  const observer = await server.login('observer')
  const presence = presenceLog(observer)
  const hub = server.app.hub
  const baseline = hub.sockets.size
  const STORM = 50
  const names = Array.from({ length: STORM }, (_, n) => `storm${n}`)
  const storm = await Promise.all(
    names.map(async (name) => {
      const raw = await RawSocket.open(server.url)
      raw.send({ cmd: 'auth', validator: server.rotur.issue(name, raw.handshake.val.validator_key) })
      await raw.next('ready')
      return raw
    }),
  )
  expect(hub.sockets.size).toBe(baseline + STORM)
  // Half vanish with a FIN, half with a RST; none sends a WebSocket close frame.
  storm.forEach((raw, n) => (n % 2 === 0 ? raw.socket.destroy() : raw.socket.resetAndDestroy()))
  for (const name of names) await observer.next('user_disconnect', (p) => p.username === name)
  // The sentinel ping proves no further user_disconnect was on its way.
  await observer.expectNone('user_disconnect')
  const stormConnects = presence.connects.filter((name) => name !== 'observer')
  const sorted = [...names].sort()
  expect({ connects: stormConnects.sort(), disconnects: presence.disconnects.sort() }).toEqual({ connects: sorted, disconnects: sorted })
  // Each user_disconnect comes from its socket's close handler, so every slot is released by now.
  expect(hub.onlineUserIds()).toEqual(['rotur-observer'])
  const info = (await (await fetch(`${server.url.replace('ws:', 'http:')}info`)).json()) as { stats: Record<string, number> }
  expect(info.stats).toMatchObject({ connected_users: baseline, online_users: 1 })
  expect(hub.sockets.size).toBe(baseline)
  expect(hub.connectionsFrom('127.0.0.1')).toBe(baseline)
})

test.concurrent('password hashing never blocks: pings are answered while registrations run', async () => {
  await using server = await startServer()
  const pinger = await server.login('pinger')
  const REGISTRATIONS = 20
  const PINGS = 20
  const events: string[] = []
  const clients = await Promise.all(Array.from({ length: REGISTRATIONS }, () => server.connect()))
  const readies = clients.map((client, n) =>
    authenticate(client, { cmd: 'register', username: `newcomer${n}`, password: 'password123' }).then(() => void events.push(`ready ${n}`)),
  )
  for (let n = 0; n < PINGS; n++) pinger.send({ cmd: 'ping', listener: `p${n}` })
  const pongs = Array.from({ length: PINGS }, (_, n) => pinger.next('pong', (p) => p.listener === `p${n}`).then(() => void events.push(`pong ${n}`)))
  await Promise.all([...pongs, ...readies])
  // Twenty hashes take far longer than twenty pings: if hashing held the event loop, the pings
  // (sent after every registration) would be answered only after most registrations completed.
  expect(events.filter((e) => e.startsWith('pong'))).toHaveLength(PINGS)
  expect(events.at(-1)).toStartWith('ready')
})
