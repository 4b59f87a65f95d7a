import type { CommitObserver } from '../sqlite/group-commit.ts'

interface Pending<T, R> {
  item: T
  resolve: (result: R) => void
  reject: (error: unknown) => void
}

/**
 * Writes one batch atomically; per item, its result or the error that refused it alone (the
 * others still commit).
 */
export type BatchWriter<T, R> = (items: T[]) => Promise<Array<R | Error>>

/**
 * Group commit, as the SQLite driver's: writes requested during one event-loop turn share one
 * atomic write (for messages, one statement), and each caller is answered only once it committed.
 * This node's batches commit one after the other, so their order is the order of the turns; the
 * writes requested while one commits wait for it and then go together, so under load a batch
 * grows with the round trips a commit takes instead of each turn queueing one of its own.
 */
export class GroupCommit<T, R> {
  private pending: Pending<T, R>[] = []
  private tail: Promise<void> = Promise.resolve()
  private committing = false

  constructor(
    private readonly write: BatchWriter<T, R>,
    private readonly committed?: CommitObserver,
  ) {}

  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ item, resolve, reject }) === 1 && !this.committing) setImmediate(() => void this.flush())
    })
  }

  /** Starts committing what is waiting now; resolves once every batch of this node committed or failed. */
  flush(): Promise<void> {
    if (!this.committing && this.pending.length > 0) this.tail = this.drain()
    return this.tail
  }

  /** Commits batch after batch until nothing waits; what arrives meanwhile joins the next one. */
  private async drain() {
    this.committing = true
    try {
      while (this.pending.length > 0) {
        const batch = this.pending
        this.pending = []
        await this.commit(batch)
      }
    } finally {
      this.committing = false
      // A batch that threw leaves the writes behind it waiting: they get a commit of their own.
      if (this.pending.length > 0) setImmediate(() => void this.flush())
    }
  }

  private async commit(batch: Pending<T, R>[]) {
    const started = performance.now()
    let results: Array<R | Error>
    try {
      results = await this.write(batch.map((p) => p.item))
    } catch {
      // One bad row must not fail its neighbours: retry each on its own, still all or nothing.
      results = []
      for (const { item } of batch) {
        try {
          results.push((await this.write([item]))[0]!)
        } catch (error) {
          results.push(error instanceof Error ? error : new Error(String(error)))
        }
      }
    }
    this.committed?.((performance.now() - started) / 1000, results.filter((r) => !(r instanceof Error)).length)
    batch.forEach(({ resolve, reject }, i) => {
      const result = results[i]!
      if (result instanceof Error) reject(result)
      else resolve(result)
    })
  }
}
