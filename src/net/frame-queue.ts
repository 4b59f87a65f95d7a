/** Frames a single connection may have waiting; beyond it the client is flooding and is closed. */
export const MAX_QUEUED_FRAMES = 256

/** How much of one connection's backlog runs before the event loop gets a turn. */
export interface SliceLimits {
  frames: number
  ms: number
}

const SLICE: SliceLimits = { frames: 64, ms: 2 }

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * One connection's frames, started one at a time in arrival order. Frames a client pipelines
 * would otherwise run back to back in microtasks, holding the event loop until the whole backlog
 * is done; after a slice of frames or milliseconds the queue yields, so other connections,
 * timers and I/O get their turn.
 */
export class FrameQueue<F> {
  private tail: Promise<void> = Promise.resolve()
  /** Frames pushed that have not started yet. */
  private waiting = 0
  /** Frames pushed whose start has not resolved yet; 0 means the connection is idle. */
  private busy = 0
  private sliceStart = 0
  private sliceFrames = 0

  constructor(
    /** Resolves once the next frame may start (the command released the connection or finished). */
    private readonly start: (frame: F) => Promise<void>,
    private readonly slice: SliceLimits = SLICE,
  ) {}

  /** Queues `frame`; false (nothing queued) when MAX_QUEUED_FRAMES are already waiting. */
  push(frame: F): boolean {
    if (this.waiting >= MAX_QUEUED_FRAMES) return false
    // A frame reaching an idle connection comes from its own event-loop callback: a fresh slice.
    if (this.busy === 0) this.sliceFrames = 0
    this.waiting++
    this.busy++
    this.tail = this.tail.then(async () => {
      await this.takeTurn()
      this.waiting--
      await this.start(frame).finally(() => this.busy--)
    })
    return true
  }

  /** Settles once every frame pushed so far has started. */
  get started(): Promise<void> {
    return this.tail
  }

  private async takeTurn() {
    const now = performance.now()
    if (this.sliceFrames === 0) this.sliceStart = now
    if (++this.sliceFrames <= this.slice.frames && now - this.sliceStart < this.slice.ms) return
    await nextTurn()
    this.sliceFrames = 1
    this.sliceStart = performance.now()
  }
}
