import pkg from '../../package.json'
import type { Hub } from '../net/hub.ts'
import type { Session } from '../net/session.ts'
import { Counter, Gauge, Histogram, Registry } from './registry.ts'
import { SlowReaders } from './slow-readers.ts'

/** Seconds; most commands answer well under a millisecond, a slow database shows in the upper buckets. */
const COMMAND_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
/** Seconds; a commit is one WAL append, slower with `storage.synchronous: "full"` or a busy disk. */
const COMMIT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]

/** How often event-loop lag and slow readers are sampled. */
const SAMPLE_MS = 500
/** Lag samples kept: the gauge shows the worst of the last 10 seconds, so a scrape cannot miss a stall. */
const LAG_SAMPLES = 20

/** Label value of frames that named no known command; keeps the `cmd` label to the command table. */
const UNKNOWN_COMMAND = 'unknown'

/**
 * Everything `/metrics` reports. The message path only adds numbers (counters, histogram
 * buckets); live counts are read from the hub when scraped.
 */
export class ServerMetrics {
  private readonly registry = new Registry()
  private readonly started = performance.now()
  private hub?: Hub
  private slowReaders?: SlowReaders
  private readonly lag = new Float64Array(LAG_SAMPLES)
  private lagNext = 0

  private readonly messages: Counter
  private readonly deliveries: Counter
  private readonly commands: Histogram
  private readonly commits: Histogram
  private readonly batches: Histogram
  private readonly backpressureCloses: Counter

  constructor() {
    const registry = this.registry
    registry.add(new Gauge('originchats_build_info', 'The running version; always 1.', () => 1, { version: pkg.version }))
    registry.add(new Gauge('originchats_uptime_seconds', 'Seconds since the server started.', () => this.uptimeSeconds()))
    registry.add(new Gauge('originchats_connections', 'Open WebSocket connections, authenticated or not.', () => this.hub?.sockets.size ?? 0))
    registry.add(
      new Gauge('originchats_authenticated_connections', 'Open WebSocket connections that are logged in.', () => this.authenticatedConnections()),
    )
    registry.add(
      new Gauge('originchats_online_users', 'Distinct users with at least one authenticated connection.', () => this.hub?.onlineUserIds().length ?? 0),
    )
    this.messages = registry.add(new Counter('originchats_messages_total', 'Messages stored (from users, bots and plugins).'))
    this.deliveries = registry.add(
      new Counter(
        'originchats_deliveries_total',
        "Frames broadcast to sockets: one per receiving socket and publish (a sender's own copy of its message is its answer, not counted here).",
      ),
    )
    this.commands = registry.add(
      new Histogram(
        'originchats_command_duration_seconds',
        'Time from a frame starting to its answers being sent, by command ("unknown" for frames naming no known command).',
        COMMAND_BUCKETS,
        'cmd',
      ),
    )
    this.commits = registry.add(
      new Histogram('originchats_store_commit_duration_seconds', 'Duration of each group-commit transaction of new messages.', COMMIT_BUCKETS),
    )
    this.batches = registry.add(
      new Histogram('originchats_store_commit_batch_size', 'Messages written by each group-commit transaction.', BATCH_BUCKETS),
    )
    this.backpressureCloses = registry.add(
      new Counter(
        'originchats_backpressure_closes_total',
        'Connections dropped for reading too slowly: closed abnormally while over half of websocket.backpressure_limit was queued (checked twice a second).',
      ),
    )
    registry.add(
      new Gauge('originchats_event_loop_lag_seconds', 'Largest event-loop delay in the last 10 seconds (lateness of a 500 ms timer).', () => Math.max(...this.lag)),
    )
    registry.add(new Gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => process.memoryUsage.rss()))
    registry.add(new Counter('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', () => cpuSeconds()))
    registry.add(
      new Gauge('process_start_time_seconds', 'Start time of the process since the Unix epoch, in seconds.', () => Math.floor(performance.timeOrigin / 1000)),
    )
  }

  /** A frame's answers are out; `cmd` is its command when the frame named a known one. */
  commandAnswered(cmd: string | undefined, seconds: number) {
    this.commands.observe(seconds, cmd ?? UNKNOWN_COMMAND)
  }

  /** One publish reached `frames` sockets. */
  delivered(frames: number) {
    this.deliveries.inc(frames)
  }

  /** A group commit of new messages finished. */
  messagesCommitted(seconds: number, count: number) {
    this.messages.inc(count)
    this.commits.observe(seconds)
    this.batches.observe(count)
  }

  /** A socket closed (from the WebSocket close handler). */
  socketClosed(session: Session, code: number) {
    if (this.slowReaders?.droppedSlow(session, code)) this.backpressureCloses.inc()
  }

  uptimeSeconds(): number {
    return (performance.now() - this.started) / 1000
  }

  /**
   * Reads live counts from `hub` from now on, and samples event-loop lag and slow readers
   * (buffers against `backpressureLimit`) until stopped.
   */
  watch(hub: Hub, backpressureLimit: () => number): { stop(): void } {
    this.hub = hub
    const slowReaders = (this.slowReaders = new SlowReaders(() => hub.sockets, backpressureLimit))
    let due = performance.now() + SAMPLE_MS
    const sample = () => {
      const now = performance.now()
      this.lag[this.lagNext] = Math.max(0, now - due) / 1000
      this.lagNext = (this.lagNext + 1) % LAG_SAMPLES
      slowReaders.check()
      due = performance.now() + SAMPLE_MS
      timer = setTimeout(sample, SAMPLE_MS).unref()
    }
    let timer = setTimeout(sample, SAMPLE_MS).unref()
    return { stop: () => clearTimeout(timer) }
  }

  /** The Prometheus text exposition of every metric. */
  render(): string {
    this.slowReaders?.check()
    return this.registry.render()
  }

  private authenticatedConnections(): number {
    let count = 0
    for (const session of this.hub?.sockets ?? []) if (session.user) count++
    return count
  }
}

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1e6
}
