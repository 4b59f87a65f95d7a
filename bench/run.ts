#!/usr/bin/env bun
/**
 * The originchats benchmark (docs/BENCHMARKS.md): fan-out throughput and latency against a
 * bare Bun pub/sub reference server, message_new round trips on an empty vs a full database,
 * unreads_get / pings_get round trips with 1,000 vs 1,000,000 stored messages, a fan-out's
 * deliveries/s with and without 1 MiB uploads running beside it, and two nodes sharing
 * PostgreSQL and Redis against one node on SQLite and one on PostgreSQL (cluster).
 *
 *   bun run bench [--scenario fanout|history|unreads|uploads|cluster|all] [--quick]
 *                 [--clients C --senders S --messages M] [--rate R] [--workers K] [--window W] [--concurrency N]
 *                 [--repeat R] [--no-pin] [--rounds N] [--prefill P] [--stored N] [--timeout SECONDS]
 *                 [--json FILE] [--keep] [--profile DIR]
 *
 * --rate R: the cluster scenario's paced round, in messages/s per sender.
 * --profile DIR writes a CPU profile (.cpuprofile and markdown) of every originchats server run.
 *
 * Everything runs on loopback; servers and client workers are child processes, killed on exit.
 */
import { Database } from 'bun:sqlite'
import type { Server, Subprocess } from 'bun'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { readdirSync, readFileSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { Command, Done, Reply } from './clients.ts'
import { type UploadResult, uploadLoad } from './uploads.ts'
import * as clusterStore from './cluster-store.ts'

const ROOT = resolve(import.meta.dir, '..')
const DATABASE_FILE = 'originchats.db'

// ---------------------------------------------------------------------------------------------
// Options

const { values: flags } = parseArgs({
  args: process.argv.slice(2),
  options: {
    scenario: { type: 'string', default: 'all' },
    quick: { type: 'boolean', default: false },
    clients: { type: 'string' },
    senders: { type: 'string' },
    messages: { type: 'string' },
    rate: { type: 'string' },
    workers: { type: 'string' },
    window: { type: 'string', default: '50' },
    concurrency: { type: 'string', default: '32' },
    repeat: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    rounds: { type: 'string' },
    prefill: { type: 'string' },
    stored: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'string' },
    keep: { type: 'boolean', default: false },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
})

if (flags.help) {
  console.log(readFileSync(import.meta.path, 'utf8').split('*/')[0]!.replace(/^#!.*\n\/\*\*\n/, '').replace(/^ \* ?/gm, ''))
  process.exit(0)
}

function integer(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback
  const n = Number(value)
  if (!Number.isInteger(n) || n < min) fail(`--${name}: expected an integer ≥ ${min}, got ${value}`)
  return n
}

/** The CPUs this process may run on (`taskset -cp`), e.g. "0-3,8" → [0, 1, 2, 3, 8]. */
function cpuList(tool: string | null): number[] | undefined {
  if (!tool) return undefined
  const out = Bun.spawnSync({ cmd: [tool, '-cp', String(process.pid)], stderr: 'ignore' }).stdout.toString()
  const list = /list:\s*([\d,\-]+)/.exec(out)?.[1]
  if (!list) return undefined
  return list.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map(Number)
    return Array.from({ length: to! - from! + 1 }, (_, i) => from! + i)
  })
}

function fail(message: string): never {
  console.error(`bench: ${message}`)
  process.exit(1)
}

interface FanoutParams {
  clients: number
  senders: number
  messages: number
}

const scenario = flags.scenario!
if (!['fanout', 'history', 'unreads', 'uploads', 'cluster', 'all'].includes(scenario)) fail(`--scenario: fanout, history, unreads, uploads, cluster or all, not ${scenario}`)
const runs = (name: string) => scenario === 'all' || scenario === name
const quick = flags.quick!
const explicit = flags.clients !== undefined || flags.senders !== undefined || flags.messages !== undefined
const fanouts: FanoutParams[] = explicit
  ? [{ clients: integer('clients', flags.clients, 100, 1), senders: integer('senders', flags.senders, 10, 1), messages: integer('messages', flags.messages, 200, 1) }]
  : quick
    ? [{ clients: 20, senders: 4, messages: 25 }]
    : [
        { clients: 100, senders: 10, messages: 200 },
        { clients: 1000, senders: 5, messages: 100 },
      ]
for (const f of fanouts) if (f.senders > f.clients) fail('--senders cannot exceed --clients')
const taskset = Bun.which('taskset')
const allowedCpus = cpuList(taskset)
const cores = allowedCpus?.length ?? cpus().length
// One JS thread per worker on the cores the server does not use. Measured choice: docs/BENCHMARKS.md.
const workerCount = integer('workers', flags.workers, Math.max(1, Math.min(4, cores - 1)), 1)
const windowSize = integer('window', flags.window, 50, 1)
const concurrency = integer('concurrency', flags.concurrency, 32, 1)
const repeat = integer('repeat', flags.repeat, quick ? 1 : 3, 1)
// The server gets one CPU to itself and the client workers share the rest, so neither steals the
// other's core and "who is the bottleneck" shows in the CPU columns.
const pinned = !flags['no-pin'] && taskset !== null && allowedCpus !== undefined && allowedCpus.length >= 2
const serverCpus = pinned ? [taskset!, '-c', String(allowedCpus![0])] : []
const clientCpus = pinned ? [taskset!, '-c', allowedCpus!.slice(1).join(',')] : []
// The bench process itself (fake Rotur, history probes) stays off the server's core too.
if (pinned) Bun.spawnSync({ cmd: [taskset!, '-a', '-p', '-c', allowedCpus!.slice(1).join(','), String(process.pid)], stdout: 'ignore', stderr: 'ignore' })
const rounds = integer('rounds', flags.rounds, quick ? 200 : 2000, 1)
const prefill = integer('prefill', flags.prefill, quick ? 5000 : 100_000, 0)
// The unreads scenario compares a small database with this large one.
const SMALL_STORE = 1000
const stored = integer('stored', flags.stored, quick ? 20_000 : 1_000_000, SMALL_STORE)
const warmup = Math.min(200, Math.ceil(rounds / 10))
const overallSeconds = integer('timeout', flags.timeout, quick ? 180 : 1200, 10)

// ---------------------------------------------------------------------------------------------
// Child processes: every one is tracked and killed when the bench exits, however it exits.

const children = new Set<Subprocess>()
const serverPids = new Set<number>()

const tempDirs = new Set<string>()

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'originchats-bench-'))
  tempDirs.add(dir)
  return dir
}

async function removeDir(dir: string) {
  if (flags.keep) return
  await rm(dir, { recursive: true, force: true })
  tempDirs.delete(dir)
}

/** PostgreSQL schemas and Redis key prefixes the cluster scenario has made and not yet removed. */
const leftovers: clusterStore.Leftovers = { schemas: [], prefixes: [] }

function killChildren() {
  for (const pid of serverPids) tryKill(pid)
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  if (!flags.keep) for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
  // No promise can be awaited in an exit handler: a short-lived helper process removes them.
  if (!flags.keep && leftovers.schemas.length + leftovers.prefixes.length > 0) {
    Bun.spawnSync({ cmd: [process.execPath, 'bench/cluster-store.ts', JSON.stringify(leftovers)], cwd: ROOT, stdout: 'inherit', stderr: 'inherit', timeout: 15_000 })
  }
}

function tryKill(pid: number) {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
}

process.on('exit', killChildren)
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => {
    console.error(`bench: ${signal}, stopping`)
    process.exit(130)
  })
}
setTimeout(() => {
  console.error(`bench: the whole run exceeded --timeout ${overallSeconds}s; giving up`)
  process.exit(3)
}, overallSeconds * 1000).unref()

const runDeadline = Date.now() + overallSeconds * 1000

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${(ms / 1000).toFixed(0)}s`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

// ---------------------------------------------------------------------------------------------
// Fake Rotur: any validator is valid and names its user (v = username = id).

const rotur: Server<undefined> = Bun.serve({
  hostname: '127.0.0.1',
  port: 0,
  fetch(request) {
    const url = new URL(request.url)
    if (url.pathname !== '/validate') return new Response('not found', { status: 404 })
    const name = url.searchParams.get('v') ?? ''
    return Response.json(name ? { valid: true, id: name, username: name } : { valid: false })
  },
})
const roturUrl = `http://127.0.0.1:${rotur.port}/validate`

// ---------------------------------------------------------------------------------------------
// Servers under test

interface RunningServer {
  url: string
  pid: number
  /** Settles when the server process ends. */
  exited: Promise<number>
  /** Graceful stop (SIGTERM), escalating to SIGKILL. */
  stop(): Promise<void>
}

function ourConfig() {
  return {
    auth_mode: 'cracked',
    rate_limiting: { enabled: false },
    security: {
      max_connections_per_ip: 100_000,
      registrations_per_hour: 1_000_000,
      auth_failures_per_minute: 1_000_000,
      // unreads_get and pings_get count against the action limiter; the probes send thousands.
      actions_per_minute: 1_000_000,
      actions_burst: 1_000_000,
    },
    logging: { level: 'warn' },
    websocket: { host: '127.0.0.1', port: 0, backpressure_limit: 64 * 1024 * 1024 },
    rotur: { validate_url: roturUrl, timeout_ms: 30_000 },
    server: { name: 'Bench', owner: { name: 'nobody-owns-the-bench' } },
    // Welcomes would add a message per new user to the channel being measured.
    plugins: { builtin: { welcome: { enabled: false } } },
    // The uploads scenario uploads as fast as it can, as one user.
    attachments: { uploads_per_minute: 0, max_storage_per_user: -1 },
  }
}

async function spawnServer(cmd: string[], banner: RegExp, label: string): Promise<RunningServer> {
  // `timeout` bounds the server's life even if this process is SIGKILLed; it forwards SIGTERM.
  const lifetime = Math.max(10, Math.ceil((runDeadline - Date.now()) / 1000) + 30)
  const wrapper = Bun.which('timeout')
  const proc = Bun.spawn({
    cmd: [...(wrapper ? [wrapper, '-k', '5', String(lifetime)] : []), ...serverCpus, ...cmd],
    cwd: ROOT,
    stdout: 'pipe',
    stderr: 'pipe',
    stdin: 'ignore',
  })
  children.add(proc)
  let stderrText = ''
  void (async () => {
    for await (const chunk of proc.stderr) if (stderrText.length < 20_000) stderrText += new TextDecoder().decode(chunk)
  })()
  const reader = proc.stdout.getReader()
  let buffered = ''
  const url = await within(
    (async () => {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) throw new Error(`${label} exited before listening (code ${await proc.exited}): ${stderrText.trim()}`)
        buffered += new TextDecoder().decode(value)
        const match = banner.exec(buffered)
        if (match) return `ws://${match[1]}:${match[2]}/`
      }
    })(),
    30_000,
    `${label} start`,
  )
  // Keep draining stdout so the child never blocks on a full pipe.
  void (async () => {
    for (;;) if ((await reader.read()).done) return
  })()
  const pid = wrapper ? childPid(proc.pid) : proc.pid
  serverPids.add(pid)
  return {
    url,
    pid,
    exited: proc.exited,
    async stop() {
      proc.kill('SIGTERM')
      try {
        await within(proc.exited, 15_000, `${label} stop`)
      } catch {
        tryKill(pid)
        proc.kill('SIGKILL')
        await proc.exited
      }
      serverPids.delete(pid)
      children.delete(proc)
      if (stderrText.trim()) console.error(`${label} stderr:\n${stderrText.trim().split('\n').slice(-10).join('\n')}`)
    },
  }
}

function alive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function childPid(parent: number): number {
  const text = readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim()
  const pid = Number(text.split(/\s+/)[0])
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`no child process under ${parent}`)
  return pid
}

const profiling = flags.profile ? ['--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${resolve(flags.profile)}`] : []

/** `extra` adds top-level config sections (storage, cluster). */
async function startOurs(dir: string, extra: Record<string, unknown> = {}, label = 'originchats'): Promise<RunningServer> {
  const config = join(dir, 'config.json')
  await writeFile(config, JSON.stringify({ ...ourConfig(), ...extra }, null, 2))
  return spawnServer(
    [process.execPath, ...profiling, 'src/cli.ts', 'serve', '--config', config, '--data', dir, '--port', '0'],
    /serving on ws:\/\/([^:/\s]+):(\d+)\//,
    label,
  )
}

function startReference(): Promise<RunningServer> {
  return spawnServer(
    [process.execPath, 'bench/reference-server.ts', '--port', '0', '--backpressure', String(64 * 1024 * 1024)],
    /reference serving on ws:\/\/([^:/\s]+):(\d+)\//,
    'reference',
  )
}

interface ProcStats {
  rssKiB: number
  peakKiB: number
  cpuSeconds: number
}

function procStats(pid: number): ProcStats {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN)
  return { rssKiB: field('VmRSS'), peakKiB: field('VmHWM'), cpuSeconds: cpuSeconds(pid) }
}

/** On-CPU time of all live threads, in nanoseconds from schedstat (clock ticks are too coarse). */
function cpuSeconds(pid: number): number {
  let ns = 0
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0])
    } catch {}
  }
  return ns / 1e9
}

// ---------------------------------------------------------------------------------------------
// Client workers

interface Worker {
  proc: Subprocess
  next(type: Reply['type']): Promise<Reply>
  send(command: Command): void
}

function spawnWorker(): Worker {
  const inbox: Reply[] = []
  let waiter: { type: Reply['type']; resolve(r: Reply): void; reject(e: Error): void } | undefined
  const settle = () => {
    if (!waiter) return
    const index = inbox.findIndex((r) => r.type === waiter!.type || r.type === 'failed')
    if (index === -1) return
    const [reply] = inbox.splice(index, 1)
    const w = waiter
    waiter = undefined
    if (reply!.type === 'failed') w.reject(new Error(reply!.error))
    else w.resolve(reply!)
  }
  const lifetime = Math.max(10_000, runDeadline - Date.now() + 10_000)
  const proc = Bun.spawn({
    cmd: [...clientCpus, process.execPath, 'bench/clients.ts', String(lifetime)],
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    ipc(message: Reply) {
      inbox.push(message)
      settle()
    },
  })
  children.add(proc)
  proc.exited.then((code) => {
    if (waiter) waiter.reject(new Error(`client worker exited (${code})`))
    waiter = undefined
  })
  return {
    proc,
    send: (command) => proc.send(command),
    next(type) {
      return new Promise((resolve, reject) => {
        waiter = { type, resolve, reject }
        settle()
      })
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Fan-out

interface FanoutResult {
  target: 'originchats' | 'reference'
  params: FanoutParams
  workers: number
  connectMs: number
  expected: number
  received: number
  complete: boolean
  sendPhaseMs: number
  deliveriesPerSecond: number
  latency: Summary
  server: ProcStats & { sendCpuSeconds: number }
  /** CPU used by all client workers together over the send phase, in % of one core. */
  clientCpuPercent: number
  closedEarly: number
  stored?: number
  /** Uploads made during the send phase (the `uploads` scenario). */
  uploads?: UploadResult
  error?: string
}

interface Summary {
  p50: number
  p99: number
  mean: number
  max: number
  n: number
}

function summarize(samples: Float64Array): Summary {
  if (samples.length === 0) return { p50: NaN, p99: NaN, mean: NaN, max: NaN, n: 0 }
  const sorted = samples.slice().sort()
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
  let sum = 0
  for (const v of sorted) sum += v
  return { p50: at(0.5), p99: at(0.99), mean: sum / sorted.length, max: sorted[sorted.length - 1]!, n: sorted.length }
}

/** `alongside` is a load started with the send phase and told when every delivery has arrived. */
async function fanout(
  target: FanoutResult['target'],
  params: FanoutParams,
  alongside?: (url: string, delivered: Promise<unknown>) => Promise<UploadResult>,
): Promise<FanoutResult> {
  const { clients, senders, messages } = params
  const dir = await tempDir()
  const workers: Worker[] = []
  let server: RunningServer | undefined
  const result: FanoutResult = {
    target,
    params,
    workers: Math.min(workerCount, clients),
    connectMs: NaN,
    expected: senders * messages * clients,
    received: 0,
    complete: false,
    sendPhaseMs: NaN,
    deliveriesPerSecond: NaN,
    latency: summarize(new Float64Array(0)),
    server: { rssKiB: NaN, peakKiB: NaN, cpuSeconds: NaN, sendCpuSeconds: NaN },
    clientCpuPercent: NaN,
    closedEarly: 0,
  }
  try {
    server = target === 'originchats' ? await startOurs(dir) : await startReference()
    for (let i = 0; i < result.workers; i++) workers.push(spawnWorker())
    // Round-robin, so the senders (clients 0..S-1) spread over the workers.
    const shares = workers.map((_, w) => Array.from({ length: clients }, (_, i) => i).filter((i) => i % workers.length === w))

    const connectStart = performance.now()
    workers.forEach((worker, w) => worker.send({ type: 'connect', url: server!.url, ids: shares[w]!, senders, messages, window: windowSize, concurrency }))
    await within(Promise.all(workers.map((w) => w.next('connected'))), 30_000 + clients * 100, `${target}: connect+auth of ${clients} clients`)
    result.connectMs = performance.now() - connectStart

    const cpuBefore = procStats(server.pid).cpuSeconds
    const deliveryBudget = 30_000 + result.expected / 5
    for (const worker of workers) worker.send({ type: 'send' })
    const delivered = Promise.all(workers.map((w) => w.next('done')))
    const sideLoad = alongside?.(server.url, delivered)
    let reports: Done[]
    try {
      const died = server.exited.then((code) => Promise.reject(new Error(`${target} server exited (${code}) during the send phase`)))
      reports = (await within(Promise.race([delivered, died]), deliveryBudget, `${target}: deliveries`)) as Done[]
    } catch (error) {
      result.error = (error as Error).message
      for (const worker of workers) worker.send({ type: 'report' })
      reports = (await within(Promise.all(workers.map((w) => w.next('done'))), 10_000, `${target}: partial report`)) as Done[]
    }
    const stats = alive(server.pid) ? procStats(server.pid) : { rssKiB: NaN, peakKiB: NaN, cpuSeconds: NaN }
    result.server = { ...stats, sendCpuSeconds: stats.cpuSeconds - cpuBefore }

    result.received = reports.reduce((sum, r) => sum + r.received, 0)
    result.complete = result.received === result.expected && reports.every((r) => r.complete)
    const firstSend = Math.min(...reports.filter((r) => r.firstSend > 0).map((r) => r.firstSend))
    const lastDelivery = Math.max(...reports.map((r) => r.lastDelivery))
    result.sendPhaseMs = lastDelivery - firstSend
    result.deliveriesPerSecond = result.received / (result.sendPhaseMs / 1000)
    const all = new Float64Array(reports.reduce((sum, r) => sum + r.latencies.length, 0))
    let offset = 0
    for (const r of reports) {
      all.set(r.latencies, offset)
      offset += r.latencies.length
    }
    result.latency = summarize(all)
    result.clientCpuPercent = (100 * reports.reduce((sum, r) => sum + r.cpuMs, 0)) / Math.max(...reports.map((r) => r.wallMs))
    result.closedEarly = reports.reduce((sum, r) => sum + r.closedEarly, 0)
    if (sideLoad) result.uploads = await within(sideLoad, 120_000, `${target}: uploads`)

    for (const worker of workers) worker.send({ type: 'close' })
    await within(Promise.all(workers.map((w) => w.proc.exited)), 10_000, 'client workers exit').catch(() => {})
    await server.stop()
    server = undefined
    if (target === 'originchats') result.stored = countStored(join(dir, DATABASE_FILE))
  } catch (error) {
    result.error = (error as Error).message
  } finally {
    for (const worker of workers) {
      if (worker.proc.exitCode === null) worker.proc.kill('SIGKILL')
      children.delete(worker.proc)
    }
    await server?.stop()
    await removeDir(dir)
  }
  return result
}

function countStored(path: string): number {
  const db = new Database(path, { readonly: true })
  try {
    return db.query<{ n: number }, []>(`SELECT COUNT(*) AS n FROM messages WHERE channel = 'general' AND user GLOB 'bench*'`).get()!.n
  } finally {
    db.close()
  }
}

// ---------------------------------------------------------------------------------------------
// Cluster: two nodes on PostgreSQL + Redis against one node on SQLite and one on PostgreSQL

interface ClusterParams extends FanoutParams {
  /** Messages/s per sender in the paced round. */
  rate: number
}

type Setup = 'sqlite' | 'postgres' | 'cluster'

const SETUP_LABELS: Record<Setup, string> = {
  sqlite: 'SQLite, 1 node',
  postgres: 'PostgreSQL, 1 node',
  cluster: 'PostgreSQL + Redis, 2 nodes',
}

interface RoundResult {
  expected: number
  received: number
  complete: boolean
  deliveriesPerSecond: number
  latency: Summary
  /** CPU of all originchats nodes together over the round, in % of one core. */
  serverCpuPercent: number
}

interface ClusterResult {
  setup: Setup
  nodes: number
  connectMs: number
  flood?: RoundResult
  paced?: RoundResult
  stored?: number
  error?: string
}

function combine(reports: Done[]): Omit<RoundResult, 'serverCpuPercent'> {
  const received = reports.reduce((sum, r) => sum + r.received, 0)
  const expected = reports.reduce((sum, r) => sum + r.expected, 0)
  const firstSend = Math.min(...reports.filter((r) => r.firstSend > 0).map((r) => r.firstSend))
  const lastDelivery = Math.max(...reports.map((r) => r.lastDelivery))
  const all = new Float64Array(reports.reduce((sum, r) => sum + r.latencies.length, 0))
  let offset = 0
  for (const r of reports) {
    all.set(r.latencies, offset)
    offset += r.latencies.length
  }
  return {
    expected,
    received,
    complete: received === expected && reports.every((r) => r.complete),
    deliveriesPerSecond: received / ((lastDelivery - firstSend) / 1000),
    latency: summarize(all),
  }
}

/** One round on connected workers: a flood (window) when `rate` is undefined, else paced. */
async function round(workers: Worker[], servers: RunningServer[], budgetMs: number, what: string, rate?: number): Promise<RoundResult & { error?: string }> {
  const cpu = () => servers.reduce((sum, s) => sum + (alive(s.pid) ? cpuSeconds(s.pid) : NaN), 0)
  const cpuBefore = cpu()
  const wallBefore = performance.now()
  for (const worker of workers) worker.send({ type: 'send', rate })
  const delivered = Promise.all(workers.map((w) => w.next('done')))
  let error: string | undefined
  let reports: Done[]
  try {
    const died = Promise.race(servers.map((s) => s.exited)).then((code) => Promise.reject(new Error(`a node exited (${code}) during the ${what}`)))
    reports = (await within(Promise.race([delivered, died]), budgetMs, what)) as Done[]
  } catch (e) {
    error = (e as Error).message
    for (const worker of workers) worker.send({ type: 'report' })
    reports = (await within(Promise.all(workers.map((w) => w.next('done'))), 10_000, `${what}: partial report`)) as Done[]
  }
  const serverCpuPercent = (100 * (cpu() - cpuBefore)) / ((performance.now() - wallBefore) / 1000)
  return { ...combine(reports), serverCpuPercent, error }
}

/**
 * C clients on one setup's node(s) (client i on node i mod nodes, so senders 0..S-1 alternate),
 * then two rounds on the same connections: a paced round (every sender sends `rate` messages/s
 * whatever the echoes do: latency at a realistic load) and a flood (every sender keeps `window`
 * messages in flight: deliveries/s). Then the nodes stop and the stored messages are counted.
 */
async function clusterSetup(setup: Setup, params: ClusterParams): Promise<ClusterResult> {
  const { clients, senders, messages, rate } = params
  const nodes = setup === 'cluster' ? 2 : 1
  const result: ClusterResult = { setup, nodes, connectMs: NaN }
  const dirs: string[] = []
  const servers: RunningServer[] = []
  const workers: Worker[] = []
  const schema = setup === 'sqlite' ? undefined : clusterStore.randomName('bench_')
  const prefix = setup === 'cluster' ? `${clusterStore.randomName('bench')}:` : undefined
  try {
    if (schema) {
      leftovers.schemas.push(schema)
      await within(clusterStore.createSchema(schema), 15_000, `create schema ${schema}`)
    }
    if (prefix) leftovers.prefixes.push(prefix)
    const extra: Record<string, unknown> = {}
    if (schema) extra.storage = { driver: 'postgres', url: clusterStore.schemaUrl(schema) }
    if (prefix) extra.cluster = { redis_url: clusterStore.REDIS_URL, key_prefix: prefix }
    // One node first: it creates (migrates) the schema, so the second does not wait on its lock.
    for (let node = 0; node < nodes; node++) {
      const dir = await tempDir()
      dirs.push(dir)
      servers.push(await startOurs(dir, prefix ? { ...extra, cluster: { ...(extra.cluster as object), node_id: `bench-node-${node + 1}` } } : extra, `${setup} node ${node + 1}`))
    }
    const urls = servers.map((s) => s.url)
    const workerTotal = Math.min(workerCount, clients)
    for (let i = 0; i < workerTotal; i++) workers.push(spawnWorker())
    const shares = workers.map((_, w) => Array.from({ length: clients }, (_, i) => i).filter((i) => i % workers.length === w))
    const connectStart = performance.now()
    workers.forEach((worker, w) => worker.send({ type: 'connect', url: urls[0]!, urls, ids: shares[w]!, senders, messages, window: windowSize, concurrency }))
    await within(Promise.all(workers.map((w) => w.next('connected'))), 30_000 + clients * 100, `${setup}: connect+auth of ${clients} clients`)
    result.connectMs = performance.now() - connectStart

    const expected = senders * messages * clients
    // Paced first, so whatever work a flood leaves behind (on the nodes, in PostgreSQL) cannot delay it.
    const { error: pacedError, ...paced } = await round(workers, servers, 30_000 + (messages / rate) * 1000 * 2, `${setup}: paced round`, rate)
    result.paced = paced
    if (pacedError) throw new Error(pacedError)
    const { error: floodError, ...flood } = await round(workers, servers, 30_000 + expected / 5, `${setup}: flood`)
    result.flood = flood
    if (floodError) throw new Error(floodError)

    for (const worker of workers) worker.send({ type: 'close' })
    await within(Promise.all(workers.map((w) => w.proc.exited)), 10_000, 'client workers exit').catch(() => {})
    for (const server of servers.splice(0)) await server.stop()
    result.stored = schema ? await within(clusterStore.countMessages(schema), 15_000, 'count rows') : countStored(join(dirs[0]!, DATABASE_FILE))
  } catch (error) {
    result.error = (error as Error).message
  } finally {
    for (const worker of workers) {
      if (worker.proc.exitCode === null) worker.proc.kill('SIGKILL')
      children.delete(worker.proc)
    }
    for (const server of servers) await server.stop()
    for (const dir of dirs) await removeDir(dir)
    if (!flags.keep && (schema || prefix)) {
      const mine = { schemas: schema ? [schema] : [], prefixes: prefix ? [prefix] : [] }
      try {
        await within(clusterStore.removeLeftovers(mine), 30_000, `remove ${JSON.stringify(mine)}`)
        leftovers.schemas = leftovers.schemas.filter((s) => s !== schema)
        leftovers.prefixes = leftovers.prefixes.filter((p) => p !== prefix)
      } catch (e) {
        result.error ??= (e as Error).message
      }
    }
  }
  return result
}

// ---------------------------------------------------------------------------------------------
// History: sequential round trips from one in-process client

class Probe {
  private waiting: { match: string; resolve(data: string): void } | undefined

  private constructor(private readonly ws: WebSocket) {}

  static open(url: string, name: string): Promise<Probe> {
    return within(
      new Promise<Probe>((resolve, reject) => {
        const ws = new WebSocket(url)
        const probe = new Probe(ws)
        let ready = false
        ws.onmessage = (event) => {
          const data = event.data as string
          if (ready) return probe.received(data)
          const packet = JSON.parse(data) as { cmd?: string; val?: unknown }
          if (packet.cmd === 'handshake') ws.send(JSON.stringify({ cmd: 'auth', validator: name }))
          else if (packet.cmd === 'ready') {
            ready = true
            resolve(probe)
          } else if (packet.cmd === 'auth_error') reject(new Error(`auth_error ${JSON.stringify(packet.val)}`))
        }
        ws.onclose = () => reject(new Error('probe closed before ready'))
      }),
      30_000,
      'probe login',
    )
  }

  private received(data: string) {
    if (this.waiting && data.includes(this.waiting.match)) {
      const { resolve } = this.waiting
      this.waiting = undefined
      resolve(data)
    }
  }

  /** Milliseconds from send until a frame containing `match` arrives. */
  async roundTrip(frame: string, match: string): Promise<number> {
    const start = performance.now()
    await this.request(frame, match)
    return performance.now() - start
  }

  /** The first frame containing `match` after sending `frame`. */
  request(frame: string, match: string): Promise<string> {
    const answered = new Promise<string>((resolve) => {
      this.waiting = { match, resolve }
    })
    this.ws.send(frame)
    return within(answered, 10_000, 'round trip')
  }

  close() {
    this.ws.close(1000)
  }
}

interface HistoryResult {
  stored: number
  messageNew: Summary
  /** message_new into a forum thread (the thread itself holds no earlier messages). */
  threadNew: Summary
  messagesGet: Summary
  prefillMs?: number
}

/**
 * Two servers side by side, one on an empty database and one on a pre-filled one, probed in
 * alternation (A then B, then B then A, …) so drift on the machine hits both equally.
 */
async function history(preload: number): Promise<{ empty: HistoryResult; full: HistoryResult; error?: string }> {
  const dirs = [await tempDir(), await tempDir()] as const
  const none = summarize(new Float64Array(0))
  const empty: HistoryResult = { stored: 0, messageNew: none, threadNew: none, messagesGet: none }
  const full: HistoryResult = { stored: preload, messageNew: none, threadNew: none, messagesGet: none }
  const servers: RunningServer[] = []
  const probes: Probe[] = []
  let error: string | undefined
  try {
    // The first start creates and migrates the databases; then fill them behind the servers' backs.
    for (const dir of dirs) {
      await (await startOurs(dir)).stop()
      addForumThread(join(dir, DATABASE_FILE))
    }
    const start = performance.now()
    fillMessages(join(dirs[1], DATABASE_FILE), preload)
    full.prefillMs = performance.now() - start
    for (const dir of dirs) servers.push(await startOurs(dir))
    for (const server of servers) probes.push(await Probe.open(server.url, 'historian'))
    const send = (i: number) => JSON.stringify({ cmd: 'message_new', channel: 'general', content: `round trip ${i}` })
    const get = JSON.stringify({ cmd: 'messages_get', channel: 'general', limit: 100 })
    const sendInThread = (i: number) => JSON.stringify({ cmd: 'message_new', thread_id: BENCH_THREAD, content: `thread round trip ${i}` })
    const alternate = async (n: number, frame: (i: number) => string, match: string, into?: [Float64Array, Float64Array]) => {
      for (let i = 0; i < n; i++) {
        for (const which of i % 2 === 0 ? [0, 1] : [1, 0]) {
          const took = await probes[which]!.roundTrip(frame(i), match)
          if (into) into[which]![i] = took
        }
      }
    }
    await alternate(warmup, send, '"cmd":"message_new"')
    const news: [Float64Array, Float64Array] = [new Float64Array(rounds), new Float64Array(rounds)]
    await alternate(rounds, send, '"cmd":"message_new"', news)
    const gets: [Float64Array, Float64Array] = [new Float64Array(Math.max(1, Math.floor(rounds / 10))), new Float64Array(Math.max(1, Math.floor(rounds / 10)))]
    await alternate(gets[0].length, () => get, '"cmd":"messages_get"', gets)
    empty.messageNew = summarize(news[0])
    full.messageNew = summarize(news[1])
    empty.messagesGet = summarize(gets[0])
    full.messagesGet = summarize(gets[1])
    const threads: [Float64Array, Float64Array] = [new Float64Array(rounds), new Float64Array(rounds)]
    await alternate(rounds, sendInThread, `"thread_id":"${BENCH_THREAD}"`, threads)
    empty.threadNew = summarize(threads[0])
    full.threadNew = summarize(threads[1])
  } catch (e) {
    error = (e as Error).message
  } finally {
    for (const probe of probes) probe.close()
    for (const server of servers) await server.stop()
    for (const dir of dirs) await removeDir(dir)
  }
  return { empty, full, error }
}

const BENCH_THREAD = 'bench-thread'

/** A forum everyone may post in, holding one empty thread, for the thread round trips. */
function addForumThread(path: string) {
  withDatabase(path, (db) => {
    const forum = { name: 'forum', type: 'forum', permissions: { view: ['user'], send: ['user'], create_thread: ['user'] } }
    db.run('INSERT INTO channels (name, position, data) VALUES (?, 1, ?)', ['forum', JSON.stringify(forum)])
    db.run('INSERT INTO threads (id, channel, name, created_by, created_at) VALUES (?, ?, ?, ?, ?)', [BENCH_THREAD, 'forum', 'Bench', 'historian', Date.now() / 1000])
  })
}

const WORDS = 'the quick brown fox jumps over lazy dogs while chat servers fan out messages to many clients at once'.split(' ')

/**
 * Writes messages straight into a stopped server's database, in one transaction, the way the
 * server stores them: each with the next ordinal of its channel, the channels' counters at the
 * end (see src/store/sqlite/migrations/006-unreads.ts). The FTS triggers index the content.
 */
class BulkMessages {
  private readonly insert
  private readonly deletion
  private readonly ping
  private readonly targets = new Map<string, { next: number; live: number }>()

  constructor(private readonly db: Database) {
    this.insert = db.prepare("INSERT INTO messages (id, channel, thread, user, content, timestamp, n) VALUES (?, ?, '', ?, ?, ?, ?)")
    this.deletion = db.prepare("INSERT INTO message_deletions (channel, thread, n) VALUES (?, '', ?)")
    this.ping = db.prepare("INSERT INTO pings (mention, seq, channel, thread) VALUES (?, ?, ?, '')")
  }

  private target(channel: string) {
    let target = this.targets.get(channel)
    if (!target) this.targets.set(channel, (target = { next: 1, live: 0 }))
    return target
  }

  /** Stores a message; `pinged` user IDs get a ping row. Returns its ID and ordinal. */
  add(channel: string, user: string, content: string, timestamp: number, pinged: string[] = []) {
    const target = this.target(channel)
    const id = crypto.randomUUID()
    const n = target.next++
    target.live++
    const seq = this.insert.run(id, channel, user, content, timestamp, n).lastInsertRowid
    for (const userId of pinged) this.ping.run(`u:${userId}`, seq, channel)
    return { id, n }
  }

  /** A message that was stored and deleted: its ordinal is used up. */
  deleted(channel: string) {
    this.deletion.run(channel, this.target(channel).next++)
  }

  /** Writes the counters; call last. */
  finish() {
    const upsert = this.db.prepare(
      "INSERT INTO target_stats (channel, thread, next_n, live) VALUES (?, '', ?, ?) ON CONFLICT DO UPDATE SET next_n = excluded.next_n, live = excluded.live",
    )
    for (const [channel, { next, live }] of this.targets) upsert.run(channel, next, live)
  }
}

function withDatabase(path: string, fill: (db: Database) => void) {
  const db = new Database(path)
  try {
    db.run('PRAGMA journal_mode = WAL')
    db.transaction(() => fill(db))()
  } finally {
    db.close()
  }
}

function fillMessages(path: string, n: number) {
  withDatabase(path, (db) => {
    const bulk = new BulkMessages(db)
    const base = Date.now() / 1000 - n
    for (let i = 0; i < n; i++) {
      const words = Array.from({ length: 4 + (i % 12) }, (_, k) => WORDS[(i * 7 + k * 13) % WORDS.length])
      bulk.add('general', `filler${i % 50}`, `${words.join(' ')} #${i}`, base + i)
    }
    bulk.finish()
  })
}

// ---------------------------------------------------------------------------------------------
// Unreads: unreads_get and pings_get round trips with few vs many stored messages

const UNREAD_CHANNELS = 50
const READER = 'reader'
/** The reader is mentioned this many times in either database, so pings_get compares history sizes only. */
const PINGS = 200
/** One message in this many was deleted. */
const DELETED_EVERY = 100

interface UnreadsPlan {
  /** What unreads_get must report, summed over the channels. */
  unread: number
  total: number
  pings: number
}

/**
 * `n` messages spread round-robin over #general and 49 more channels everyone may view. The reader
 * has read every other channel up to 90% of it and never opened the rest; PINGS messages spread
 * evenly mention them, and one in DELETED_EVERY was deleted.
 */
function fillUnreads(path: string, n: number): UnreadsPlan {
  const plan: UnreadsPlan = { unread: 0, total: 0, pings: 0 }
  withDatabase(path, (db) => {
    const channels = Array.from({ length: UNREAD_CHANNELS }, (_, i) => (i === 0 ? 'general' : `bench-${String(i).padStart(2, '0')}`))
    const channel = db.prepare('INSERT INTO channels (name, position, data) VALUES (?, ?, ?)')
    channels.slice(1).forEach((name, i) => channel.run(name, i + 1, JSON.stringify({ type: 'text', name, permissions: { view: ['user'], send: ['user'] } })))
    const bulk = new BulkMessages(db)
    const perChannel = channels.map(() => [] as Array<{ id: string; n: number }>)
    const base = Date.now() / 1000 - n
    const pingEvery = Math.max(1, Math.floor(n / PINGS))
    for (let i = 0; i < n; i++) {
      const c = i % UNREAD_CHANNELS
      if (i % DELETED_EVERY === DELETED_EVERY - 1) {
        bulk.deleted(channels[c]!)
        continue
      }
      const pinged = i % pingEvery === 0 && plan.pings < PINGS ? [READER] : []
      const content = `${pinged.length > 0 ? `@${READER} ` : ''}${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]} #${i}`
      perChannel[c]!.push(bulk.add(channels[c]!, `filler${i % 50}`, content, base + i, pinged))
      plan.pings += pinged.length
    }
    bulk.finish()
    const position = db.prepare('INSERT INTO unreads (user_id, key, last_read, last_n) VALUES (?, ?, ?, ?)')
    perChannel.forEach((messages, c) => {
      plan.total += messages.length
      const read = c % 2 === 0 ? Math.floor(messages.length * 0.9) : 0
      if (read > 0) position.run(READER, channels[c]!, messages[read - 1]!.id, messages[read - 1]!.n)
      plan.unread += messages.length - read
    })
  })
  return plan
}

interface UnreadsResult {
  stored: number
  prefillMs: number
  plan: UnreadsPlan
  unreadsGet: Summary
  pingsGet: Summary
}

/** Checks one reply against the plan, so the timings are of right answers. */
function checkUnreads(reply: string, plan: UnreadsPlan, label: string) {
  const entries = Object.values((JSON.parse(reply) as { unreads: Record<string, { unread_count: number; total_messages: number }> }).unreads)
  const unread = entries.reduce((sum, e) => sum + e.unread_count, 0)
  const total = entries.reduce((sum, e) => sum + e.total_messages, 0)
  if (entries.length !== UNREAD_CHANNELS || unread !== plan.unread || total !== plan.total) {
    throw new Error(`${label}: unreads_get reported ${entries.length} channels, ${unread} unread of ${total}; expected ${UNREAD_CHANNELS}, ${plan.unread} of ${plan.total}`)
  }
}

/** Two servers side by side, probed in alternation like the history scenario. */
async function unreads(sizes: [number, number]): Promise<{ results: UnreadsResult[]; error?: string }> {
  const dirs = [await tempDir(), await tempDir()]
  const none = summarize(new Float64Array(0))
  const results: UnreadsResult[] = sizes.map((size) => ({ stored: size, prefillMs: NaN, plan: { unread: 0, total: 0, pings: 0 }, unreadsGet: none, pingsGet: none }))
  const servers: RunningServer[] = []
  const probes: Probe[] = []
  let error: string | undefined
  try {
    for (const [i, dir] of dirs.entries()) {
      await (await startOurs(dir)).stop()
      const start = performance.now()
      results[i]!.plan = fillUnreads(join(dir, DATABASE_FILE), sizes[i]!)
      results[i]!.prefillMs = performance.now() - start
      console.log(`(pre-fill of ${count(sizes[i]!)} messages took ${ms(results[i]!.prefillMs)} ms)`)
    }
    for (const dir of dirs) servers.push(await startOurs(dir))
    for (const server of servers) probes.push(await Probe.open(server.url, READER))
    for (const [i, probe] of probes.entries()) checkUnreads(await probe.request('{"cmd":"unreads_get"}', '"cmd":"unreads_get"'), results[i]!.plan, `${count(sizes[i]!)} messages`)
    const n = Math.max(1, Math.floor(rounds / 4))
    const alternate = async (frame: string, match: string, into?: [Float64Array, Float64Array]) => {
      for (let i = 0; i < (into?.[0].length ?? warmup); i++) {
        for (const which of i % 2 === 0 ? [0, 1] : [1, 0]) {
          const took = await probes[which]!.roundTrip(frame, match)
          if (into) into[which]![i] = took
        }
      }
    }
    const gets: [Float64Array, Float64Array] = [new Float64Array(n), new Float64Array(n)]
    const pings: [Float64Array, Float64Array] = [new Float64Array(n), new Float64Array(n)]
    await alternate('{"cmd":"unreads_get"}', '"cmd":"unreads_get"')
    await alternate('{"cmd":"unreads_get"}', '"cmd":"unreads_get"', gets)
    await alternate('{"cmd":"pings_get","limit":50}', '"cmd":"pings_get"')
    await alternate('{"cmd":"pings_get","limit":50}', '"cmd":"pings_get"', pings)
    results.forEach((result, i) => {
      result.unreadsGet = summarize(gets[i]!)
      result.pingsGet = summarize(pings[i]!)
    })
  } catch (e) {
    error = (e as Error).message
  } finally {
    for (const probe of probes) probe.close()
    for (const server of servers) await server.stop()
    for (const dir of dirs) await removeDir(dir)
  }
  return { results, error }
}

// ---------------------------------------------------------------------------------------------
// Report

const ms = (v: number) => (Number.isFinite(v) ? (v >= 100 ? v.toFixed(0) : v.toFixed(2)) : '—')
const count = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '—')
const mib = (kib: number) => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(0)} MiB` : '—')

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')
  return [line(header), ...rows.map(line)].join('\n')
}

const percent = (v: number) => (Number.isFinite(v) ? `${(100 * v).toFixed(0)}%` : '—')

/** The run with the median deliveries/s (the lower middle one for an even count). */
function median(runs: FanoutResult[]): FanoutResult {
  const sorted = [...runs].sort((a, b) => (a.deliveriesPerSecond || 0) - (b.deliveriesPerSecond || 0))
  return sorted[Math.floor((sorted.length - 1) / 2)]!
}

const cpuPerDelivery = (r: FanoutResult) => r.server.sendCpuSeconds / r.received

function fanoutTargetRatio(p: FanoutParams): number | undefined {
  if (p.clients === 100 && p.senders === 10 && p.messages === 200) return 0.5
  if (p.clients === 1000 && p.senders === 5 && p.messages === 100) return 0.8
  return undefined
}

function bunRevision() {
  return `${Bun.version}${Bun.revision ? ` (${Bun.revision.slice(0, 9)})` : ''}`
}

async function main() {
  const model = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU'
  const placement = pinned ? `server on CPU ${allowedCpus![0]}, clients on CPU ${allowedCpus!.slice(1).join(',')}` : 'not pinned'
  console.log(`originchats bench — ${cores} cores (${model}), bun ${bunRevision()}, ${workerCount} client worker(s), window ${windowSize}, ${placement}`)
  let failed = false
  const output: Record<string, unknown> = { machine: { cores, model, bun: Bun.version }, workers: workerCount, window: windowSize, pinned }

  if (runs('fanout')) {
    const outcomes: Array<{ params: FanoutParams; ours: FanoutResult[]; reference: FanoutResult[] }> = []
    for (const params of fanouts) {
      const label = `C=${params.clients} S=${params.senders} M=${params.messages}`
      const outcome = { params, ours: [] as FanoutResult[], reference: [] as FanoutResult[] }
      for (let run = 0; run < repeat; run++) {
        // Alternate which server goes first, so neither always gets the warmer machine.
        const order = run % 2 === 0 ? (['originchats', 'reference'] as const) : (['reference', 'originchats'] as const)
        for (const target of order) {
          console.log(`fan-out ${label} run ${run + 1}/${repeat}: ${target}…`)
          const r = await fanout(target, params)
          if (r.error) console.log(`  ${target}: ERROR ${r.error}`)
          if (!r.complete) failed = true
          if (r.stored !== undefined && r.stored !== params.senders * params.messages) failed = true
          ;(target === 'originchats' ? outcome.ours : outcome.reference).push(r)
        }
      }
      outcomes.push(outcome)
    }
    console.log('\nFan-out (deliveries = message_new frames received by all clients; latency = send → receive)')
    if (repeat > 1) console.log(`Each row is the median of ${repeat} runs by deliveries/s; "range" spans all runs.`)
    const rows = outcomes.flatMap(({ ours, reference }) =>
      [ours, reference].map((runs) => {
        const r = median(runs)
        return [
          `C=${r.params.clients} S=${r.params.senders} M=${r.params.messages}`,
          r.target,
          ms(r.connectMs),
          `${count(r.received)}/${count(r.expected)}${runs.every((x) => x.complete) ? '' : ' ✗'}`,
          count(r.deliveriesPerSecond),
          `${count(Math.min(...runs.map((x) => x.deliveriesPerSecond)))}–${count(Math.max(...runs.map((x) => x.deliveriesPerSecond)))}`,
          ms(r.latency.p50),
          ms(r.latency.p99),
          mib(r.server.rssKiB),
          mib(r.server.peakKiB),
          percent(r.server.sendCpuSeconds / (r.sendPhaseMs / 1000)),
          ((r.server.sendCpuSeconds * 1e6) / r.received).toFixed(2),
          percent(r.clientCpuPercent / 100),
          r.stored === undefined ? '—' : runs.map((x) => `${count(x.stored ?? NaN)}`).join(','),
        ]
      }),
    )
    console.log(
      table(
        ['params', 'server', 'connect+auth ms', 'received/expected', 'deliveries/s', 'range', 'p50 ms', 'p99 ms', 'RSS', 'peak RSS', 'srv CPU', 'srv µs/deliv', 'client CPU', 'stored'],
        rows,
      ),
    )
    console.log('')
    for (const { params, ours, reference } of outcomes) {
      const ratio = median(ours).deliveriesPerSecond / median(reference).deliveriesPerSecond
      const cpuRatio = cpuPerDelivery(median(reference)) / cpuPerDelivery(median(ours))
      const target = fanoutTargetRatio(params)
      const verdict = target === undefined ? '' : ` (target ≥ ${target}×: ${ratio >= target ? 'met' : 'MISSED'})`
      console.log(
        `C=${params.clients} S=${params.senders} M=${params.messages}: originchats/reference deliveries/s = ${Number.isFinite(ratio) ? ratio.toFixed(2) : '—'}×${verdict}; ` +
          `server CPU per delivery, reference ÷ originchats = ${Number.isFinite(cpuRatio) ? cpuRatio.toFixed(2) : '—'}×`,
      )
    }
    output.fanout = outcomes.map(({ params, ours, reference }) => ({
      params,
      ratio: median(ours).deliveriesPerSecond / median(reference).deliveriesPerSecond,
      ours,
      reference,
    }))
  }

  if (runs('history')) {
    console.log(`\nhistory: ${rounds} sequential message_new round trips (after ${warmup} warm-up) each on an empty and a ${count(prefill)}-message database, alternating…`)
    const { empty, full, error } = await history(prefill)
    if (error) {
      console.log(`  history: ERROR ${error}`)
      failed = true
    }
    if (full.prefillMs !== undefined) console.log(`(pre-fill took ${ms(full.prefillMs)} ms)`)
    console.log('\nHistory (one client; round trip = send → own echo / reply)')
    // Each column: a heading and the figure it shows; the ratio row divides full by empty.
    const columns: Array<[string, (r: HistoryResult) => number]> = [
      ['message_new p50', (r) => r.messageNew.p50],
      ['p99', (r) => r.messageNew.p99],
      ['mean', (r) => r.messageNew.mean],
      ['in a thread p50', (r) => r.threadNew.p50],
      ['mean', (r) => r.threadNew.mean],
      ['messages_get(100) p50', (r) => r.messagesGet.p50],
      ['p99', (r) => r.messagesGet.p99],
      ['mean', (r) => r.messagesGet.mean],
    ]
    const row = (label: string, r: HistoryResult) => [label, ...columns.map(([, figure]) => ms(figure(r)))]
    const ratios = ['ratio', ...columns.map(([, figure]) => `${(figure(full) / figure(empty)).toFixed(2)}×`)]
    console.log(table(['stored messages', ...columns.map(([heading]) => heading)], [row(count(empty.stored), empty), row(count(full.stored), full), ratios]))
    const meanRatio = full.messageNew.mean / empty.messageNew.mean
    const p50Ratio = full.messageNew.p50 / empty.messageNew.p50
    if (prefill >= 100_000) {
      console.log(`\nmessage_new at ${count(prefill)} vs empty: p50 ${p50Ratio.toFixed(2)}×, mean ${meanRatio.toFixed(2)}× (target ≤ 1.2×: ${Math.max(p50Ratio, meanRatio) <= 1.2 ? 'met' : 'MISSED'})`)
    }
    output.history = { empty, full, rounds, warmup, prefill }
  }

  if (runs('unreads')) {
    const trips = Math.max(1, Math.floor(rounds / 4))
    console.log(
      `\nunreads: ${count(SMALL_STORE)} and ${count(stored)} messages over ${UNREAD_CHANNELS} channels; ${trips} sequential unreads_get and pings_get round trips each (after ${warmup} warm-up), alternating…`,
    )
    const { results, error } = await unreads([SMALL_STORE, stored])
    if (error) {
      console.log(`  unreads: ERROR ${error}`)
      failed = true
    }
    const [small, large] = results as [UnreadsResult, UnreadsResult]
    console.log(`\nUnreads (one client; the reader has positions in ${UNREAD_CHANNELS / 2} of ${UNREAD_CHANNELS} channels; round trip = send → reply)`)
    const row = (r: UnreadsResult) => [
      count(r.stored),
      `${count(r.plan.unread)}/${count(r.plan.total)}`,
      ms(r.unreadsGet.p50),
      ms(r.unreadsGet.p99),
      ms(r.unreadsGet.mean),
      count(r.plan.pings),
      ms(r.pingsGet.p50),
      ms(r.pingsGet.p99),
      ms(r.pingsGet.mean),
    ]
    const ratio = (f: (r: UnreadsResult) => number) => `${(f(large) / f(small)).toFixed(2)}×`
    console.log(
      table(
        ['stored messages', 'unread/total', 'unreads_get p50', 'p99', 'mean', 'pings', 'pings_get(50) p50', 'p99', 'mean'],
        [
          row(small),
          row(large),
          [
            'ratio',
            '',
            ratio((r) => r.unreadsGet.p50),
            ratio((r) => r.unreadsGet.p99),
            ratio((r) => r.unreadsGet.mean),
            '',
            ratio((r) => r.pingsGet.p50),
            ratio((r) => r.pingsGet.p99),
            ratio((r) => r.pingsGet.mean),
          ],
        ],
      ),
    )
    output.unreads = { results, trips, warmup, channels: UNREAD_CHANNELS }
  }

  if (runs('uploads')) {
    const params: FanoutParams = quick ? { clients: 20, senders: 4, messages: 200 } : { clients: 100, senders: 10, messages: 1000 }
    const uploads = { count: quick ? 20 : 1000, concurrency: 2, size: 1_048_576 }
    const label = `C=${params.clients} S=${params.senders} M=${params.messages}`
    console.log(`\nuploads: fan-out ${label} alone and with ${uploads.concurrency} uploaders of 1 MiB files beside it (until it ends, at most ${uploads.count}), alternating…`)
    const alone: FanoutResult[] = []
    const loaded: FanoutResult[] = []
    for (let run = 0; run < repeat; run++) {
      const order = run % 2 === 0 ? (['alone', 'loaded'] as const) : (['loaded', 'alone'] as const)
      for (const kind of order) {
        console.log(`uploads run ${run + 1}/${repeat}: fan-out ${kind === 'alone' ? 'alone' : 'with uploads'}…`)
        const r = await fanout('originchats', params, kind === 'loaded' ? (url, delivered) => uploadLoad(url, uploads, delivered) : undefined)
        if (r.error) console.log(`  ERROR ${r.error}`)
        if (r.uploads?.error) console.log(`  upload ERROR ${r.uploads.error}`)
        if (!r.complete || r.stored !== params.senders * params.messages || (r.uploads && (r.uploads.failed > 0 || r.uploads.uploaded === 0))) failed = true
        ;(kind === 'alone' ? alone : loaded).push(r)
      }
    }
    console.log('\nUploads beside a fan-out (deliveries as in the fan-out table; uploads = 201 answers)')
    const row = (name: string, runs: FanoutResult[]) => {
      const r = median(runs)
      return [
        name,
        `${count(r.received)}/${count(r.expected)}${runs.every((x) => x.complete) ? '' : ' ✗'}`,
        count(r.deliveriesPerSecond),
        `${count(Math.min(...runs.map((x) => x.deliveriesPerSecond)))}–${count(Math.max(...runs.map((x) => x.deliveriesPerSecond)))}`,
        ms(r.latency.p50),
        ms(r.latency.p99),
        r.uploads ? `${r.uploads.uploaded}${r.uploads.failed ? ` (${r.uploads.failed} failed)` : ''}` : '—',
        r.uploads ? r.uploads.perSecond.toFixed(1) : '—',
        r.uploads ? r.uploads.mibPerSecond.toFixed(1) : '—',
        mib(r.server.peakKiB),
      ]
    }
    console.log(
      table(['fan-out ' + label, 'received/expected', 'deliveries/s', 'range', 'p50 ms', 'p99 ms', 'uploads', 'uploads/s', 'MiB/s', 'peak RSS'], [
        row('alone', alone),
        row('with uploads', loaded),
      ]),
    )
    const ratio = median(loaded).deliveriesPerSecond / median(alone).deliveriesPerSecond
    console.log(`\ndeliveries/s with uploads ÷ alone = ${Number.isFinite(ratio) ? ratio.toFixed(2) : '—'}×`)
    output.uploads = { params, uploads, ratio, alone, loaded }
  }

  if (runs('cluster')) {
    const why = await clusterStore.unreachable()
    if (why) {
      console.log(`\ncluster: skipped (${why})`)
      if (scenario === 'cluster') failed = true
    } else {
      const params: ClusterParams = {
        clients: integer('clients', flags.clients, quick ? 20 : 1000, 1),
        senders: integer('senders', flags.senders, quick ? 4 : 10, 1),
        messages: integer('messages', flags.messages, quick ? 25 : 100, 1),
        rate: integer('rate', flags.rate, quick ? 20 : 5, 1),
      }
      if (params.senders > params.clients) fail('--senders cannot exceed --clients')
      const clusterRepeat = integer('repeat', flags.repeat, 1, 1)
      const label = `C=${params.clients} S=${params.senders} M=${params.messages}`
      console.log(
        `\ncluster: ${label} on each setup: a paced round ` +
          `(${params.rate} messages/s per sender, ${params.rate * params.senders} messages/s in all, ${count(params.rate * params.senders * params.clients)} deliveries/s offered), then a flood (window ${windowSize}) on the same connections…`,
      )
      const setups: Setup[] = ['sqlite', 'postgres', 'cluster']
      const results = new Map<Setup, ClusterResult[]>(setups.map((s) => [s, []]))
      for (let run = 0; run < clusterRepeat; run++) {
        for (const setup of run % 2 === 0 ? setups : [...setups].reverse()) {
          console.log(`cluster run ${run + 1}/${clusterRepeat}: ${SETUP_LABELS[setup]}…`)
          const r = await clusterSetup(setup, params)
          if (r.error) console.log(`  ${setup}: ERROR ${r.error}`)
          // Everything sent in both rounds must have reached every client and be stored.
          if (!r.flood?.complete || !r.paced?.complete || r.stored !== 2 * params.senders * params.messages || r.error) failed = true
          results.get(setup)!.push(r)
        }
      }
      const pick = (runs: ClusterResult[]) => [...runs].sort((a, b) => (a.flood?.deliveriesPerSecond || 0) - (b.flood?.deliveriesPerSecond || 0))[Math.floor((runs.length - 1) / 2)]!
      console.log(`\nCluster (flood: deliveries/s and latency with every sender keeping ${windowSize} in flight; paced: latency at the offered rate; stored = rows after both rounds)`)
      if (clusterRepeat > 1) console.log(`Each row is the median of ${clusterRepeat} runs by flood deliveries/s.`)
      const fraction = (r?: RoundResult) => (r ? `${count(r.received)}/${count(r.expected)}${r.complete ? '' : ' ✗'}` : '—')
      console.log(
        table(
          ['setup', 'connect+auth ms', 'flood received', 'deliveries/s', 'p50 ms', 'p99 ms', 'srv CPU', 'paced received', 'p50 ms', 'p99 ms', 'max ms', 'srv CPU', 'stored'],
          setups.map((setup) => {
            const r = pick(results.get(setup)!)
            return [
              SETUP_LABELS[setup],
              ms(r.connectMs),
              fraction(r.flood),
              count(r.flood?.deliveriesPerSecond ?? NaN),
              ms(r.flood?.latency.p50 ?? NaN),
              ms(r.flood?.latency.p99 ?? NaN),
              percent((r.flood?.serverCpuPercent ?? NaN) / 100),
              fraction(r.paced),
              ms(r.paced?.latency.p50 ?? NaN),
              ms(r.paced?.latency.p99 ?? NaN),
              ms(r.paced?.latency.max ?? NaN),
              percent((r.paced?.serverCpuPercent ?? NaN) / 100),
              `${count(r.stored ?? NaN)}/${count(2 * params.senders * params.messages)}`,
            ]
          }),
        ),
      )
      const two = pick(results.get('cluster')!)
      const ratio = (two.flood?.deliveriesPerSecond ?? NaN) / (pick(results.get('sqlite')!).flood?.deliveriesPerSecond ?? NaN)
      const p99 = two.paced?.latency.p99 ?? NaN
      const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED')
      console.log(`\n2 nodes ÷ 1 SQLite node, flood deliveries/s = ${Number.isFinite(ratio) ? ratio.toFixed(2) : '—'}× (target ≥ 0.5×: ${verdict(ratio >= 0.5)})`)
      const latencyTarget = params.clients === 1000 ? ` (target < 50 ms at C=1000: ${verdict(p99 < 50)})` : ''
      console.log(`2 nodes, paced p99 latency = ${ms(p99)} ms${latencyTarget}`)
      output.cluster = { params, repeat: clusterRepeat, ratio, results: Object.fromEntries(results) }
    }
  }

  if (flags.json) await writeFile(flags.json, JSON.stringify(output, (_, v) => (v instanceof Float64Array ? undefined : v), 2))
  return failed ? 1 : 0
}

main().then(
  (code) => {
    rotur.stop(true)
    process.exit(code)
  },
  (error) => {
    console.error(`bench: ${(error as Error)?.stack ?? error}`)
    process.exit(1)
  },
)
