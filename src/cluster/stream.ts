import type { Logger } from '../log.ts'
import { pause, type RedisConnection } from './connection.ts'

/** One stream entry from another node: a frame for a topic, or a control event. */
export type Entry = { node: string; topic: string; frame: string } | { node: string; event: string }

/** Entries waiting for Redis while it is away; beyond this the oldest are dropped (docs/cluster.md, Faults). */
export const OUTBOX_LIMIT = 10_000
const BATCH = 256

/**
 * Appends this node's entries to the stream, in order. While Redis is unreachable they wait in
 * a bounded queue and go out once it is back, so a blip delays broadcasts instead of losing them.
 */
export class StreamWriter {
  private readonly queue: string[][] = []
  private pumping = false
  private dropped = 0
  private stopped = false

  constructor(
    private readonly redis: RedisConnection,
    private readonly stream: string,
    private readonly node: string,
    private readonly maxLength: number,
    private readonly log: Logger,
  ) {}

  frame(topic: string, frame: string) {
    this.push(['topic', topic, 'frame', frame])
  }

  event(event: object) {
    this.push(['event', JSON.stringify(event)])
  }

  /** Resolves once everything queued has reached Redis, the writer stopped, or two seconds passed (Redis away at shutdown). */
  async flushed(): Promise<void> {
    for (let i = 0; i < 400 && this.queue.length > 0 && !this.stopped; i++) await pause(5)
  }

  stop() {
    this.stopped = true
  }

  private push(fields: string[]) {
    if (this.queue.length >= OUTBOX_LIMIT) {
      this.queue.shift()
      if (this.dropped++ === 0) this.log.warn(`redis unreachable: outbox full, dropping the oldest broadcasts`)
    }
    this.queue.push(['MAXLEN', '~', String(this.maxLength), '*', 'node', this.node, ...fields])
    if (!this.pumping) void this.pump()
  }

  private async pump() {
    this.pumping = true
    let failures = 0
    while (this.queue.length > 0 && !this.stopped) {
      const batch = this.queue.slice(0, BATCH)
      // Pipelined on one connection, so Redis appends them in queue order.
      const results = await Promise.allSettled(batch.map((args) => this.redis.send('XADD', [this.stream, ...args])))
      const failed = results.findIndex((result) => result.status === 'rejected')
      this.queue.splice(0, failed === -1 ? batch.length : failed)
      if (failed === -1) {
        if (failures > 0 || this.dropped > 0) this.log.info(`redis reachable again: outbox flushed${this.dropped ? ` (${this.dropped} dropped)` : ''}`)
        failures = 0
        this.dropped = 0
        continue
      }
      if (failures++ === 0) this.log.warn(`redis unreachable: ${this.queue.length} broadcasts held until it is back`)
      await pause(Math.min(50 * failures, 1000))
    }
    this.pumping = false
  }
}

/** Where a tailer stands: the last entry it read, and how many entries the stream had held up to it. */
interface Offset {
  id: string
  ordinal: number
  /** The Redis server's run_id when the offset was taken: another one means Redis restarted. */
  runId: string
}

export interface TailerHandlers {
  entry(entry: Entry): void | Promise<void>
  /** Entries this node had not read were trimmed away: its sockets must start over. */
  lost(): void | Promise<void>
  /** Redis restarted (its stream and keys are gone): what this node holds must be written again. */
  restarted(): void | Promise<void>
}

/**
 * Reads the stream on its own connection with a blocking XREAD, from the last entry read, so
 * after a dropped connection it carries on where it stopped. Before reading again after any
 * failure, and whenever it may have fallen behind, it checks that nothing it has not read was
 * trimmed: entries ever added less entries still held is how many were trimmed, to compare with
 * how many it has consumed.
 */
export class StreamTailer {
  private offset!: Offset
  private running = true
  private done: Promise<void> | undefined
  private readonly batch: number

  constructor(
    private readonly redis: RedisConnection,
    private readonly stream: string,
    private readonly node: string,
    maxLength: number,
    private readonly handlers: TailerHandlers,
    private readonly log: Logger,
  ) {
    // A full batch is the only way to have fallen behind by more than the stream keeps.
    this.batch = Math.min(512, maxLength)
  }

  /** Starts at the stream's end: a node sees what is published after it joined. */
  async start() {
    const [runId, info] = await Promise.all([this.runId(), this.info()])
    this.offset = { id: info.lastId, ordinal: info.added, runId }
    this.done = this.loop()
  }

  async stop() {
    this.running = false
    this.redis.close()
    await this.done
  }

  private async loop() {
    let failures = 0
    while (this.running) {
      try {
        if (failures > 0) await this.check()
        const reply = await this.redis.send('XREAD', ['COUNT', String(this.batch), 'BLOCK', '2000', 'STREAMS', this.stream, this.offset.id])
        failures = 0
        const entries: Array<[string, string[]]> = reply?.[this.stream] ?? []
        for (const [id, fields] of entries) {
          this.offset.id = id
          this.offset.ordinal++
          const entry = parse(fields)
          if (entry && entry.node !== this.node) await this.handle(entry, id)
        }
        if (entries.length >= this.batch) await this.check()
      } catch (error) {
        if (!this.running) return
        if (failures++ === 0) this.log.warn(`redis stream read failed, retrying: ${(error as Error)?.message ?? error}`)
        await pause(Math.min(100 * failures, 1000))
      }
    }
  }

  /** One entry's failure is logged and passed over: it must not stall or replay the stream. */
  private async handle(entry: Entry, id: string) {
    try {
      await this.handlers.entry(entry)
    } catch (error) {
      this.log.error(`stream entry ${id} from node ${entry.node} failed: ${(error as Error)?.stack ?? error}`)
    }
  }

  private async check() {
    const [runId, info] = await Promise.all([this.runId(), this.info()])
    if (runId !== this.offset.runId) {
      // A fresh Redis: every entry of its new stream came after the restart, so read them all.
      this.log.warn('redis restarted: re-asserting this node and reading its new stream from the start')
      this.offset = { id: '0-0', ordinal: 0, runId }
      await this.handlers.restarted()
      return
    }
    const trimmed = info.added - info.length
    // Fewer entries ever added than read: the stream was deleted and made anew, what was in between is unknown.
    if (trimmed > this.offset.ordinal || info.added < this.offset.ordinal) {
      this.log.warn(`entries this node had not read are gone from the stream: closing sockets so clients reload`)
      this.offset = { id: info.lastId, ordinal: info.added, runId }
      await this.handlers.lost()
    }
  }

  private async info(): Promise<{ lastId: string; added: number; length: number }> {
    try {
      const info = await this.redis.send('XINFO', ['STREAM', this.stream])
      return { lastId: info['last-generated-id'], added: Number(info['entries-added']), length: Number(info.length) }
    } catch (error) {
      if (String((error as Error)?.message).includes('no such key')) return { lastId: '0-0', added: 0, length: 0 }
      throw error
    }
  }

  private async runId(): Promise<string> {
    const text: string = await this.redis.send('INFO', ['server'])
    return /run_id:(\w+)/.exec(text)?.[1] ?? ''
  }
}

function parse(fields: string[]): Entry | undefined {
  const map = new Map<string, string>()
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i]!, fields[i + 1]!)
  const node = map.get('node')
  if (node === undefined) return undefined
  const event = map.get('event')
  if (event !== undefined) return { node, event }
  const topic = map.get('topic')
  const frame = map.get('frame')
  return topic !== undefined && frame !== undefined ? { node, topic, frame } : undefined
}
