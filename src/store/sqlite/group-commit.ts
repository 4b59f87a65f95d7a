import type { Database } from 'bun:sqlite'

interface Pending<T> {
  item: T
  resolve: (item: T) => void
  reject: (error: unknown) => void
}

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
    private readonly write: (item: T) => void,
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
    try {
      this.db.transaction(() => batch.forEach(({ item }) => this.write(item)))()
    } catch {
      // One bad row must not fail its neighbours: retry each on its own.
      for (const { item, resolve, reject } of batch) {
        try {
          this.write(item)
          resolve(item)
        } catch (error) {
          reject(error)
        }
      }
      return
    }
    for (const { item, resolve } of batch) resolve(item)
  }
}
