/** How long a cached read is trusted without hearing of a change: bounds the staleness a lost invalidation can cause. */
export const CACHE_TTL_MS = 5_000

/**
 * Reads of one repository kept in this node's memory. Every write of this node forgets what it
 * changed once it committed, and so does every invalidation another node sends after its own
 * writes (cluster mode); entries also expire after `ttlMs`, so a change whose invalidation was
 * lost (Redis down at that moment) is seen within that time anyway.
 */
export class ReadCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>()
  /** Changes with every forget: a read that started before one must not be kept after it. */
  private generation = 0

  constructor(
    private readonly ttlMs = CACHE_TTL_MS,
    private readonly maxEntries = 10_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  async read(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.entries.get(key)
    if (hit && hit.expires > this.now()) return hit.value
    const generation = this.generation
    const value = await load()
    // A write committed while this read was on its way: the value may predate it.
    if (generation !== this.generation) return value
    this.entries.delete(key)
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!)
    this.entries.set(key, { value, expires: this.now() + this.ttlMs })
    return value
  }

  /** Forgets one key, or everything. */
  forget(key?: string) {
    this.generation++
    if (key === undefined) this.entries.clear()
    else this.entries.delete(key)
  }
}
