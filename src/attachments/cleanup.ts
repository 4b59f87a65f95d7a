import type { Logger } from '../log.ts'
import type { AttachmentService } from './service.ts'

/** How often cleanup runs while serving; it also runs at start-up. */
export const CLEANUP_INTERVAL_MS = 3_600_000

/**
 * Runs attachment cleanup at start-up and then hourly. Nothing is kept in the timer: what is
 * due comes from stored timestamps, so stopping or restarting loses nothing. `soon()` asks for
 * an extra pass (after a channel or thread deletion took messages with attachments).
 */
export class AttachmentCleanup {
  private timer: ReturnType<typeof setInterval> | undefined
  private running: Promise<void> = Promise.resolve()
  private stopped = false

  constructor(
    private readonly service: AttachmentService,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.soon(true)
    this.timer = setInterval(() => this.soon(), CLEANUP_INTERVAL_MS)
    this.timer.unref()
  }

  soon(withStrays = false): void {
    if (this.stopped) return
    this.running = this.running.then(() => (this.stopped ? undefined : this.pass(withStrays)))
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.running
  }

  private async pass(withStrays: boolean) {
    try {
      const removed = await this.service.cleanup()
      const strays = withStrays ? await this.service.removeStrayFiles() : 0
      if (removed + strays > 0) this.log.info(`attachment cleanup removed ${removed} attachment(s) and ${strays} stray file(s)`)
    } catch (error) {
      this.log.error(`attachment cleanup failed: ${(error as Error)?.stack ?? error}`)
    }
  }
}
