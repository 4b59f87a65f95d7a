import { expect, test } from 'bun:test'
import pkg from '../../package.json'
import { RawSocket } from '../helpers/raw-socket.ts'
import { startServer, type ConfigOverrides, type TestServer } from '../helpers/server.ts'

/** No heartbeat during a test: its publish would move the delivery counter. */
const QUIET: ConfigOverrides = { websocket: { heartbeat_seconds: 3600 } }

const httpUrl = (server: TestServer, path: string) => new URL(path, server.url.replace(/^ws/, 'http')).href

/** Every sample of an exposition, keyed by name and label set as written (`name{a="b"}`). */
function samples(text: string): Map<string, number> {
  const values = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const at = line.lastIndexOf(' ')
    values.set(line.slice(0, at), Number(line.slice(at + 1)))
  }
  return values
}

async function scrape(server: TestServer): Promise<Map<string, number>> {
  const response = await fetch(httpUrl(server, '/metrics'))
  expect(response.status).toBe(200)
  return samples(await response.text())
}

test.concurrent('GET /metrics is Prometheus text with the live counts', async () => {
  await using server = await startServer(QUIET)
  const alice = await server.login('alice')
  await server.login('alice')
  await server.login('bob')
  await server.connect()
  await alice.next('user_connect', (p) => p.user.username === 'bob')

  const response = await fetch(httpUrl(server, '/metrics'))
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
  expect(response.headers.get('access-control-allow-origin')).toBe('*')
  const text = await response.text()
  // Every family is introduced by HELP then TYPE, and every sample belongs to the family above it.
  let family = ''
  for (const line of text.trimEnd().split('\n')) {
    const help = line.match(/^# HELP (\S+) ./)
    if (help) {
      family = help[1]!
      continue
    }
    if (line.startsWith('# TYPE ')) {
      expect(line).toMatch(new RegExp(`^# TYPE ${family} (counter|gauge|histogram)$`))
      continue
    }
    expect(line).toMatch(/^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? \S+$/)
    expect(line.startsWith(family)).toBe(true)
  }
  const values = samples(text)
  expect({
    connections: values.get('originchats_connections'),
    authenticated: values.get('originchats_authenticated_connections'),
    online: values.get('originchats_online_users'),
    build: values.get(`originchats_build_info{version="${pkg.version}"}`),
  }).toEqual({ connections: 4, authenticated: 3, online: 2, build: 1 })
  for (const name of ['originchats_event_loop_lag_seconds', 'originchats_uptime_seconds', 'process_resident_memory_bytes', 'process_start_time_seconds']) {
    expect(values.get(name)).toBeGreaterThanOrEqual(0)
  }
})

test.concurrent('messages, deliveries and command latencies move by exactly what happened', async () => {
  await using server = await startServer(QUIET)
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  const carol = await server.login('carol')
  // Carol's user_connect is the last publish of the logins; once Alice has it, all are counted.
  await alice.next('user_connect', (p) => p.user.username === 'carol')
  const before = await scrape(server)

  const MESSAGES = 5
  for (let n = 0; n < MESSAGES; n++) {
    alice.send({ cmd: 'message_new', channel: 'general', content: `hello ${n}` })
    await alice.next('message_new')
  }
  for (const reader of [bob, carol]) for (let n = 0; n < MESSAGES; n++) await reader.next('message_new')
  alice.send({ cmd: 'no_such_command' })
  alice.send({ cmd: 'evil"} 1\nx' })
  await alice.next('error')
  await alice.next('error')
  // The sentinel's answer leaves only after every earlier frame's answers, which are timed just before.
  await alice.expectNone('message_new')
  const after = await scrape(server)

  const moved = (name: string) => (after.get(name) ?? 0) - (before.get(name) ?? 0)
  expect({
    messages: moved('originchats_messages_total'),
    // Each message reached Bob and Carol through the channel topic; Alice's copy is her answer.
    deliveries: moved('originchats_deliveries_total'),
    messageNew: moved('originchats_command_duration_seconds_count{cmd="message_new"}'),
    // Two unknown commands, and the sentinel ping is a known one.
    unknown: moved('originchats_command_duration_seconds_count{cmd="unknown"}'),
    ping: moved('originchats_command_duration_seconds_count{cmd="ping"}'),
    commitBatches: moved('originchats_store_commit_batch_size_sum'),
  }).toEqual({ messages: MESSAGES, deliveries: MESSAGES * 2, messageNew: MESSAGES, unknown: 2, ping: 1, commitBatches: MESSAGES })
  expect(moved('originchats_store_commit_duration_seconds_count')).toBeGreaterThanOrEqual(1)
  expect(moved('originchats_store_commit_duration_seconds_count')).toBeLessThanOrEqual(MESSAGES)
  // Whatever a client names as a command, only the command table's names become label values.
  expect([...after.keys()].filter((key) => key.includes('evil') || key.includes('no_such'))).toEqual([])

  // The message_new series is a proper histogram: ascending bounds, cumulative counts, +Inf = count.
  const buckets = [...after].filter(([key]) => key.startsWith('originchats_command_duration_seconds_bucket{cmd="message_new",'))
  const bounds = buckets.map(([key]) => key.match(/le="([^"]+)"/)![1]!)
  expect(bounds.at(-1)).toBe('+Inf')
  const finite = bounds.slice(0, -1).map(Number)
  expect(finite).toEqual([...finite].sort((a, b) => a - b))
  const counts = buckets.map(([, value]) => value)
  expect(counts).toEqual([...counts].sort((a, b) => a - b))
  expect(counts.at(-1)).toBe(after.get('originchats_command_duration_seconds_count{cmd="message_new"}')!)
  expect(after.get('originchats_command_duration_seconds_sum{cmd="message_new"}')).toBeGreaterThan(0)
})

test.concurrent('metrics.enabled false hides /metrics', async () => {
  await using server = await startServer({ metrics: { enabled: false } })
  const response = await fetch(httpUrl(server, '/metrics'))
  expect(response.status).toBe(404)
  expect(await response.json()).toEqual({ error: 'Not found' })
})

test.concurrent('a reader dropped for backpressure is counted; a client that vanishes is not', async () => {
  const LIMIT = 65536
  await using server = await startServer({ ...QUIET, websocket: { ...QUIET.websocket, backpressure_limit: LIMIT }, limits: { post_content: 8000 } })
  const sender = await server.login('sender')
  const closes = async () => (await scrape(server)).get('originchats_backpressure_closes_total')

  // A socket gone without a close frame is a 1006 close too, but its buffer was empty.
  const vanishing = await RawSocket.open(server.url)
  vanishing.send({ cmd: 'auth', validator: server.rotur.issue('vanishing', vanishing.handshake.val.validator_key) })
  await vanishing.next('ready')
  await scrape(server)
  vanishing.socket.destroy()
  await sender.next('user_disconnect', (p) => p.username === 'vanishing')
  expect(await closes()).toBe(0)

  const slow = await RawSocket.open(server.url)
  slow.send({ cmd: 'auth', validator: server.rotur.issue('slow', slow.handshake.val.validator_key) })
  await slow.next('ready')
  // From here on the slow client never reads again: its kernel buffers fill, then the server's.
  slow.socket.pause()
  const session = [...server.app.hub.sockets].find((s) => s.user?.username === 'slow')!
  const content = 'x'.repeat(8000)
  const gone = sender.next('user_disconnect', (p) => p.username === 'slow')
  let closed = false
  gone.then(() => (closed = true))
  // One 8 kB frame at a time, its buffer passes half the limit before it can pass the limit.
  // Scrapes check the buffers (as the sampler does twice a second), so the last check before
  // the close sees it over half.
  const MAX_MESSAGES = 5000
  let sent = 0
  let checkedOverHalf = 0
  while (!closed && sent < MAX_MESSAGES) {
    sender.send({ cmd: 'message_new', channel: 'general', content })
    await sender.next('message_new')
    sender.drain('message_new')
    sent++
    if (!closed && session.ws.getBufferedAmount() > LIMIT / 2) {
      await scrape(server)
      checkedOverHalf++
    }
  }
  await gone
  expect(sent).toBeLessThan(MAX_MESSAGES)
  expect(checkedOverHalf).toBeGreaterThan(0)
  expect(await closes()).toBe(1)
  slow.socket.destroy()
})
