#!/usr/bin/env bun
/**
 * A bench worker: holds a share of the fan-out clients, driven by bench/run.ts over Bun IPC.
 * Splitting clients over a few processes keeps one JavaScript thread from becoming the
 * bottleneck that both servers are measured against.
 *
 * Parent → worker: connect, send, report, close (see the Command type).
 * Worker → parent: connected | failed, then done (when every client here has all its
 * deliveries, or on `report` with whatever arrived). `send` may come again after `done`: each
 * round starts its counts afresh on the same connections.
 *
 * Client i connects to `urls[i % urls.length]` when `urls` is given (clients spread over nodes).
 *
 * Clients only string-scan delivered frames (no JSON.parse) after `ready`, so the client side
 * costs as little as it can per delivery. Latency = receive time − the send time embedded in
 * the content, both `performance.timeOrigin + performance.now()` (ms, wall-clock based).
 */

export type Command =
  | { type: 'connect'; url: string; ids: number[]; senders: number; messages: number; window: number; concurrency: number; urls?: string[] }
  /** A round of M messages per sender; `rate` (messages/s per sender) paces it instead of the window. */
  | { type: 'send'; rate?: number }
  | { type: 'report' }
  | { type: 'close' }

export interface Done {
  type: 'done'
  complete: boolean
  clients: number
  received: number
  expected: number
  /** Epoch ms (fractional) of this worker's first send, 0 if it sent nothing. */
  firstSend: number
  /** Epoch ms of this worker's last delivery, 0 if none. */
  lastDelivery: number
  latencies: Float64Array
  /** Worker CPU time (ms) and wall time (ms) from `send` until done. */
  cpuMs: number
  wallMs: number
  closedEarly: number
}

export type Reply = { type: 'connected'; clients: number } | { type: 'failed'; error: string } | Done

export const clientName = (index: number) => `bench${index}`

const now = () => performance.timeOrigin + performance.now()
const MARKER = '"cmd":"message_new"'
const CONTENT = '"content":"'

interface Client {
  index: number
  ws: WebSocket
  sender: boolean
  sent: number
  inflight: number
  received: number
}

let clients: Client[] = []
let expectedEach = 0
let messages = 0
let window = 0
let latencies = new Float64Array(0)
let count = 0
let finished = 0
let firstSend = 0
let lastDelivery = 0
let sending = false
let closing = false
let closedEarly = 0
let reported = false
let sendStartCpu = process.cpuUsage()
let sendStartWall = 0
let paced = false
let pacing: Timer[] = []

function reply(message: Reply) {
  process.send!(message)
}

function pump(client: Client) {
  while (client.inflight < window && client.sent < messages) send(client)
}

function deliver(client: Client, data: string) {
  if (data.indexOf(MARKER) === -1) return
  const at = now()
  const start = data.indexOf(CONTENT) + CONTENT.length
  const space = data.indexOf(' ', start)
  const sentAt = Number(data.slice(start, space))
  const from = Number(data.slice(space + 1, data.indexOf('"', space)))
  if (count < latencies.length) latencies[count++] = at - sentAt
  lastDelivery = at
  client.received++
  if (from === client.index && client.sender) {
    client.inflight--
    if (sending && !paced) pump(client)
  }
  if (client.received === expectedEach && ++finished === clients.length) report(true)
}

/**
 * Sender k sends its j-th message at k/S + j periods after the start, whatever the echoes do (an
 * open loop, like real users typing). Each send is scheduled from the start time, so a late timer
 * does not push the rest of the schedule back.
 */
function pace(rate: number) {
  const period = 1000 / rate
  const senders = clients.filter((c) => c.sender)
  const start = performance.now()
  const total = senders.length
  senders.forEach((client, k) => {
    const offset = (period * k) / Math.max(1, total)
    const tick = () => {
      send(client)
      if (client.sent < messages) pacing.push(setTimeout(tick, Math.max(0, start + offset + client.sent * period - performance.now())))
    }
    pacing.push(setTimeout(tick, offset))
  })
}

function send(client: Client) {
  const at = now()
  if (firstSend === 0) firstSend = at
  client.ws.send(`{"cmd":"message_new","channel":"general","content":"${at.toFixed(3)} ${client.index}"}`)
  client.sent++
  client.inflight++
}

function startRound() {
  for (const client of clients) Object.assign(client, { sent: 0, inflight: 0, received: 0 })
  count = 0
  finished = 0
  firstSend = 0
  lastDelivery = 0
  reported = false
  pacing = []
}

function report(complete: boolean) {
  if (reported) return
  reported = true
  for (const timer of pacing) clearTimeout(timer)
  const cpu = process.cpuUsage(sendStartCpu)
  const received = clients.reduce((sum, c) => sum + c.received, 0)
  reply({
    type: 'done',
    complete,
    clients: clients.length,
    received,
    expected: expectedEach * clients.length,
    firstSend,
    lastDelivery,
    latencies: latencies.slice(0, count),
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: performance.now() - sendStartWall,
    closedEarly,
  })
}

function connectOne(index: number, url: string, senders: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const client: Client = { index, ws, sender: index < senders, sent: 0, inflight: 0, received: 0 }
    let ready = false
    ws.onmessage = (event) => {
      const data = event.data as string
      if (ready) return deliver(client, data)
      const packet = JSON.parse(data) as { cmd?: string; val?: { validator_key?: string } }
      if (packet.cmd === 'handshake') ws.send(JSON.stringify({ cmd: 'auth', validator: clientName(index) }))
      else if (packet.cmd === 'ready') {
        ready = true
        resolve(client)
      } else if (packet.cmd === 'auth_error') reject(new Error(`client ${index}: auth_error ${JSON.stringify(packet.val)}`))
    }
    ws.onclose = (event) => {
      if (!ready) reject(new Error(`client ${index}: closed before ready (${event.code} ${event.reason})`))
      else if (!closing) {
        closedEarly++
        // A dropped client can never complete; say so now rather than at the deadline.
        if (sending) report(false)
      }
    }
  })
}

async function connectAll(command: Extract<Command, { type: 'connect' }>) {
  messages = command.messages
  window = command.window
  expectedEach = command.senders * command.messages
  latencies = new Float64Array(expectedEach * command.ids.length)
  const queue = [...command.ids]
  const connected: Client[] = []
  const runner = async () => {
    for (let index = queue.shift(); index !== undefined; index = queue.shift()) connected.push(await connectOne(index, command.urls?.[index % command.urls.length] ?? command.url, command.senders))
  }
  await Promise.all(Array.from({ length: Math.max(1, command.concurrency) }, runner))
  clients = connected
}

process.on('message', (command: Command) => {
  switch (command.type) {
    case 'connect':
      connectAll(command).then(
        () => reply({ type: 'connected', clients: clients.length }),
        (error) => reply({ type: 'failed', error: String(error?.message ?? error) }),
      )
      break
    case 'send':
      startRound()
      paced = (command.rate ?? 0) > 0
      sendStartCpu = process.cpuUsage()
      sendStartWall = performance.now()
      sending = true
      if (expectedEach === 0 || clients.length === 0) report(true)
      else if (paced) pace(command.rate!)
      else for (const client of clients) if (client.sender) pump(client)
      break
    case 'report':
      report(false)
      break
    case 'close':
      closing = true
      for (const client of clients) client.ws.close(1000)
      // Give the close frames a moment to leave, then go regardless.
      setTimeout(() => process.exit(0), 200)
      break
  }
})

// Never outlive the bench: the parent's IPC channel closing means it is gone.
process.on('disconnect', () => process.exit(0))
const lifetime = Number(process.argv[2] ?? 0)
if (lifetime > 0) setTimeout(() => process.exit(2), lifetime).unref()
