/** Counts attempts per key in fixed windows; in memory here, in Redis across nodes (cluster/limits.ts). */
export interface AddressCounter {
  /** `now` is for tests of the in-memory counter; a shared one keeps its own clock (Redis TIME). */
  retryAfter(address: string, now?: number): number | Promise<number>
  record(address: string, now?: number): void | Promise<void>
}

/**
 * Fixed-window counters per client address, for what upstream leaves open: registration floods
 * and password guessing. Windows are dropped once they expire so the map stays small.
 */
export class AddressLimiter implements AddressCounter {
  private readonly windows = new Map<string, { start: number; count: number }>()

  constructor(
    private readonly limit: () => number,
    private readonly windowMs: number,
  ) {}

  /** Seconds until `address` may try again, or 0 if it is under its limit now. */
  retryAfter(address: string, now = Date.now()): number {
    const window = this.windows.get(address)
    if (!window || now - window.start >= this.windowMs) return 0
    return window.count >= this.limit() ? Math.ceil((window.start + this.windowMs - now) / 1000) : 0
  }

  record(address: string, now = Date.now()) {
    const window = this.windows.get(address)
    if (!window || now - window.start >= this.windowMs) {
      if (this.windows.size > 10_000) this.sweep(now)
      this.windows.set(address, { start: now, count: 1 })
    } else {
      window.count++
    }
  }

  private sweep(now: number) {
    for (const [address, window] of this.windows) if (now - window.start >= this.windowMs) this.windows.delete(address)
  }
}
