import { RedisClient } from 'bun'
import type { Logger } from '../log.ts'

/**
 * A connection that comes back by itself: Bun reconnects after a drop, but gives up after its
 * retries and then stays closed, so each give-up schedules a new `connect()` until `close()`.
 */
export class RedisConnection {
  readonly client: RedisClient
  private closed = false
  private retry: Timer | undefined

  private constructor(
    url: string,
    private readonly name: string,
    private readonly log: Logger,
  ) {
    // No offline queue: a command sent while disconnected fails at once, and its caller decides.
    this.client = new RedisClient(url, { enableOfflineQueue: false, maxRetries: 1_000_000, connectionTimeout: 2000 })
    // Named, so an operator (or a test) can tell the connections apart in CLIENT LIST.
    this.client.onconnect = () => void this.client.send('CLIENT', ['SETNAME', name]).catch(() => {})
    this.client.onclose = (error) => {
      if (this.closed) return
      this.log.warn(`redis ${this.name} connection lost: ${error?.message ?? error}`)
      this.retry ??= setTimeout(() => this.reconnect(), 500)
    }
  }

  /** `name` has no spaces: it becomes the connection's CLIENT SETNAME. */
  static async open(url: string, name: string, log: Logger): Promise<RedisConnection> {
    const connection = new RedisConnection(url, name, log)
    // Bun's connect() neither settles nor keeps the process alive while the server refuses, so a timer decides.
    let timer: Timer | undefined
    const unreachable = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`cannot reach Redis at ${redacted(url)} within ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS)
    })
    try {
      await Promise.race([connection.client.connect(), unreachable])
      return connection
    } catch (error) {
      connection.close()
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  send(command: string, args: string[]): Promise<any> {
    return this.client.send(command, args)
  }

  close() {
    this.closed = true
    clearTimeout(this.retry)
    this.client.close()
  }

  private reconnect() {
    this.retry = undefined
    if (this.closed || this.client.connected) return
    this.client.connect().catch(() => (this.retry ??= setTimeout(() => this.reconnect(), 1000)))
  }
}

const OPEN_TIMEOUT_MS = 5000

/** The URL without its password, for log lines and errors. */
const redacted = (url: string) => url.replace(/\/\/[^@/]*@/, '//***@')

/** Resolves after `ms`; what the retry loops wait between attempts while Redis is away. */
export const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
