import type { Database } from 'bun:sqlite'

interface Pending<T> {
  item: T
  resolve: (item: T) => void
  reject: (error: unknown) => void
}

/** Told after each group commit: how long it took and how many items it stored. */
export type CommitObserver = (seconds: number, stored: number) => void

/**
 * Group commit: writes requested during one event-loop turn share a single transaction, and
 * each caller's promise settles only once that transaction is committed. A commit (and its
 * WAL and full-text index writes) costs far more than a row, so under load this divides the
 * per-message cost by the batch size, while every acknowledged write is still durable.
 */
export class GroupCommit<T> {
  private pending: Pending<T>[] = []

  constructor(
    private readonly db: Database,
    /** Stores one item; may run several statements, which commit or roll back together. */
    private readonly write: (item: T) => void,
    private readonly committed?: CommitObserver,
  ) {}

  add(item: T): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.pending.push({ item, resolve, reject }) === 1) setImmediate(() => this.flush())
    })
  }

  /** Commits everything waiting now; also called before the database closes. */
  flush() {
    const batch = this.pending
    if (batch.length === 0) return
    this.pending = []
    const started = performance.now()
    try {
      this.db.transaction(() => batch.forEach(({ item }) => this.write(item)))()
    } catch {
      // One bad row must not fail its neighbours: retry each on its own, still all or nothing.
      let stored = 0
      for (const { item, resolve, reject } of batch) {
        try {
          this.db.transaction(() => this.write(item))()
          stored++
          resolve(item)
        } catch (error) {
          reject(error)
        }
      }
      this.committed?.((performance.now() - started) / 1000, stored)
      return
    }
    this.committed?.((performance.now() - started) / 1000, batch.length)
    for (const { item, resolve } of batch) resolve(item)
  }
}
