import { expect, test } from 'bun:test'
import { FrameQueue, MAX_QUEUED_FRAMES } from '../../src/net/frame-queue.ts'

/** Busy-waits: a frame whose handling really holds the thread, as a costly command does. */
const spin = (ms: number) => {
  const until = performance.now() + ms
  while (performance.now() < until);
}

/** Pushes `count` frames, with a callback queued on the event loop right after the first starts. */
async function run(queue: (start: (frame: number) => Promise<void>) => FrameQueue<number>, count: number, work: (frame: number) => void) {
  const order: string[] = []
  let loopTurn!: Promise<void>
  const frames = queue(async (frame) => {
    if (frame === 0) loopTurn = new Promise((resolve) => setImmediate(() => resolve(void order.push('other socket'))))
    work(frame)
    order.push(`frame ${frame}`)
  })
  for (let i = 0; i < count; i++) expect(frames.push(i)).toBe(true)
  await frames.started
  await loopTurn
  return order
}

test('frames start one at a time in arrival order', async () => {
  const order = await run((start) => new FrameQueue(start), 10, () => {})
  expect(order.filter((entry) => entry.startsWith('frame'))).toEqual(Array.from({ length: 10 }, (_, i) => `frame ${i}`))
})

test('a long backlog of cheap frames lets the event loop in after each slice of frames', async () => {
  const order = await run((start) => new FrameQueue(start, { frames: 8, ms: 60_000 }), 40, () => {})
  // Without yielding, all 40 frames would run in microtasks before any event-loop callback.
  expect(order.indexOf('other socket')).toBe(8)
})

test('costly frames let the event loop in once a slice of time is used up', async () => {
  const order = await run((start) => new FrameQueue(start, { frames: 1000, ms: 5 }), 10, () => spin(6))
  expect(order.indexOf('other socket')).toBe(1)
})

test('a connection that is idle between frames is never delayed', async () => {
  const starts: number[] = []
  const queue = new FrameQueue<number>(async (frame) => void starts.push(frame), { frames: 1, ms: 60_000 })
  for (let i = 0; i < 5; i++) {
    let turned = false
    setImmediate(() => (turned = true))
    queue.push(i)
    await queue.started
    // Started within the same turn: the frame did not wait for the event loop.
    expect(turned).toBe(false)
    await new Promise((resolve) => setImmediate(resolve))
  }
  expect(starts).toEqual([0, 1, 2, 3, 4])
})

test(`at most ${MAX_QUEUED_FRAMES} frames wait to start; beyond that push refuses`, async () => {
  let release!: () => void
  const gate = new Promise<void>((resolve) => (release = resolve))
  const queue = new FrameQueue<number>(() => gate)
  for (let i = 0; i < MAX_QUEUED_FRAMES; i++) expect(queue.push(i)).toBe(true)
  expect(queue.push(-1)).toBe(false)
  // Once the first has started (and holds the queue), there is room for one more.
  await new Promise((resolve) => setImmediate(resolve))
  expect(queue.push(MAX_QUEUED_FRAMES)).toBe(true)
  release()
  await queue.started
})
