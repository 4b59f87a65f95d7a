import { afterAll, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { TestClient, type Packet } from './helpers/client.ts'
import { authenticate, killAll, ServerProcess } from './helpers/process.ts'
import { startServer } from './helpers/server.ts'

afterAll(killAll)

/**
 * A WebSocket client written on a bare TCP socket, so a test can do what browsers never do:
 * stop reading, or vanish without a close frame. It speaks just enough RFC 6455: the upgrade,
 * masked text frames out, unfragmented text/close/ping frames in.
 */
class RawSocket {
  readonly packets: Packet[] = []
  /** Resolves when the TCP connection is gone (closed by either side). */
  readonly closed: Promise<void>
  private waiters: Array<{ match: (p: Packet) => boolean; resolve: (p: Packet) => void; reject: (e: Error) => void }> = []
  private buffer = Buffer.alloc(0)
  private isClosed = false

  private constructor(readonly socket: Socket) {
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true
        for (const waiter of this.waiters) waiter.reject(new Error('raw socket closed while waiting'))
        this.waiters = []
        resolve()
      })
    })
    socket.on('error', () => {})
  }

  /** Connects, upgrades and waits for the server's `handshake` packet. */
  static async open(url: string): Promise<RawSocket & { handshake: Packet }> {
    const { hostname, port } = new URL(url)
    const socket = connect({ host: hostname, port: Number(port) })
    const raw = new RawSocket(socket)
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64')
    let head = Buffer.alloc(0)
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk])
        const end = head.indexOf('\r\n\r\n')
        if (end < 0) return
        socket.off('data', onData)
        const status = head.subarray(0, head.indexOf('\r\n')).toString()
        if (!status.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${status}`))
        socket.on('data', (data: Buffer) => raw.receive(data))
        raw.receive(head.subarray(end + 4))
        resolve()
      }
      socket.on('data', onData)
      socket.once('error', reject)
      socket.once('connect', () =>
        socket.write(
          `GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        ),
      )
    })
    return Object.assign(raw, { handshake: await raw.next('handshake') })
  }

  send(packet: Packet) {
    this.frame(0x1, Buffer.from(JSON.stringify(packet)))
  }

  next(cmd: string, where: (p: Packet) => boolean = () => true): Promise<Packet> {
    const match = (p: Packet) => p.cmd === cmd && where(p)
    const index = this.packets.findIndex(match)
    if (index >= 0) return Promise.resolve(this.packets.splice(index, 1)[0]!)
    if (this.isClosed) return Promise.reject(new Error(`raw socket closed; no ${cmd} arrived`))
    return new Promise((resolve, reject) => this.waiters.push({ match, resolve, reject }))
  }

  /** Masked frame, as RFC 6455 requires of clients. */
  private frame(opcode: number, payload: Buffer) {
    const length = payload.length
    const header = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length]) : Buffer.alloc(4)
    if (length >= 126) {
      if (length > 0xffff) throw new Error('frame too large for this test client')
      header.writeUInt8(0x80 | opcode, 0)
      header.writeUInt8(0x80 | 126, 1)
      header.writeUInt16BE(length, 2)
    }
    const mask = Buffer.from(crypto.getRandomValues(new Uint8Array(4)))
    const body = Buffer.from(payload)
    for (let i = 0; i < body.length; i++) body[i]! ^= mask[i % 4]!
    this.socket.write(Buffer.concat([header, mask, body]))
  }

  private receive(data: Buffer) {
    this.buffer = Buffer.concat([this.buffer, data])
    while (this.buffer.length >= 2) {
      const opcode = this.buffer[0]! & 0x0f
      let length = this.buffer[1]! & 0x7f
      let offset = 2
      if (length === 126) {
        if (this.buffer.length < 4) return
        length = this.buffer.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (this.buffer.length < 10) return
        length = Number(this.buffer.readBigUInt64BE(2))
        offset = 10
      }
      if (this.buffer.length < offset + length) return
      const payload = this.buffer.subarray(offset, offset + length)
      this.buffer = this.buffer.subarray(offset + length)
      if (opcode === 0x1) this.deliver(JSON.parse(payload.toString()) as Packet)
      else if (opcode === 0x9) this.frame(0xa, Buffer.from(payload))
    }
  }

  private deliver(packet: Packet) {
    const waiter = this.waiters.find((w) => w.match(packet))
    if (!waiter) return void this.packets.push(packet)
    this.waiters.splice(this.waiters.indexOf(waiter), 1)
    waiter.resolve(packet)
  }
}

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
