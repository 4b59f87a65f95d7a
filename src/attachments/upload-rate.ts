const WINDOW_MS = 60_000

/**
 * `attachments.uploads_per_minute` per user over a sliding minute. Each user keeps at most that
 * many timestamps, and users with none left in the window are forgotten.
 */
export class UploadRate {
  private readonly recent = new Map<string, number[]>()

  constructor(private readonly perMinute: () => number) {}

  /** Counts an upload by `userId` at `now` (ms); false when the limit is reached (not counted then). */
  take(userId: string, now = Date.now()): boolean {
    const limit = this.perMinute()
    if (limit === 0) return true
    const times = (this.recent.get(userId) ?? []).filter((t) => t > now - WINDOW_MS)
    if (times.length >= limit) {
      this.recent.set(userId, times)
      return false
    }
    times.push(now)
    this.recent.set(userId, times)
    this.forgetIdle(now)
    return true
  }

  /** Seconds until `userId` may upload again (0 when now). */
  retryAfter(userId: string, now = Date.now()): number {
    const oldest = this.recent.get(userId)?.[0]
    return oldest === undefined ? 0 : Math.max(0, Math.ceil((oldest + WINDOW_MS - now) / 1000))
  }

  private forgetIdle(now: number) {
    if (this.recent.size < 1024) return
    for (const [user, times] of this.recent) if (times.every((t) => t <= now - WINDOW_MS)) this.recent.delete(user)
  }
}
