import { expect, test } from 'bun:test'
import type { Logger } from '../../src/log.ts'
import { MAX_WAIT_MS, PollExpiry } from '../../src/polls/expiry.ts'
import type { Packet } from '../../src/protocol/errors.ts'
import { createSqliteStore } from '../../src/store/sqlite/index.ts'
import type { PollRecord, Store } from '../../src/store/types.ts'

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} }

/** Hands out events in arrival order; `next()` waits for one that has not come yet. */
class Queue<T> {
  private readonly items: T[] = []
  private readonly waiting: Array<(item: T) => void> = []
  push(item: T) {
    const waiter = this.waiting.shift()
    if (waiter) waiter(item)
    else this.items.push(item)
  }
  next(): Promise<T> {
    const item = this.items.shift()
    return item !== undefined ? Promise.resolve(item) : new Promise((resolve) => this.waiting.push(resolve))
  }
  get length() {
    return this.items.length
  }
}

interface FakeAlarm {
  ms: number
  cancelled: boolean
  fire(): void
}

/**
 * A scheduler on an in-memory store with a clock and alarms the test moves by hand: no test
 * waits for real time to pass.
 */
function setup() {
  const store = createSqliteStore(':memory:')
  const clock = { now: 1000 }
  const published = new Queue<{ topic: string; packet: Packet }>()
  const alarms = new Queue<FakeAlarm>()
  const expiry = new PollExpiry({
    store,
    log: silent,
    now: () => clock.now,
    publish: (topic, packet) => published.push({ topic, packet }),
    setAlarm: (fire, ms) => {
      const alarm: FakeAlarm = { ms, cancelled: false, fire }
      alarms.push(alarm)
      return { cancel: () => (alarm.cancelled = true) }
    },
  })
  return {
    store,
    clock,
    published,
    alarms,
    expiry,
    async [Symbol.asyncDispose]() {
      await expiry.stop()
      store.close()
    },
  }
}

async function addPoll(store: Store, expires_at: number | null): Promise<PollRecord> {
  const message = await store.messages.insert({ channel: 'general', thread_id: null, user: 'creator', content: '' })
  return store.polls.insert({
    id: crypto.randomUUID(), message_id: message.id, channel: 'general', thread_id: null, question: 'Q?',
    options: [{ id: '0', text: 'Yes' }, { id: '1', text: 'No' }], allow_multiselect: false, expires_at,
    created_by: 'creator', created_at: message.timestamp,
  })
}

test('at start-up a poll already past its end ends at once, at its end time, then the alarm waits for the next', async () => {
  await using t = setup()
  const overdue = await addPoll(t.store, 900)
  const later = await addPoll(t.store, 1030)
  await addPoll(t.store, null)
  t.expiry.start()
  const ended = await t.published.next()
  expect(ended.topic).toBe('channel:general')
  expect(ended.packet).toEqual({
    cmd: 'poll_end', poll_id: overdue.id, message_id: overdue.message_id, channel: 'general', thread_id: null,
    results: expect.objectContaining({ poll_id: overdue.id, ended: true, ended_at: 900 }),
  })
  const alarm = await t.alarms.next()
  expect(alarm.ms).toBe(30_000)

  t.clock.now = 1030
  alarm.fire()
  expect((await t.published.next()).packet.poll_id).toBe(later.id)
  expect((await t.store.polls.get(later.id))?.ended_at).toBe(1030)
  // Nothing is left to wait for: stopping settles with no alarm armed and nothing more published.
  await t.expiry.stop()
  expect(t.alarms.length).toBe(0)
  expect(t.published.length).toBe(0)
})

test('an end time beyond what setTimeout can wait is reached in capped steps', async () => {
  await using t = setup()
  const far = await addPoll(t.store, 1000 + 30 * 86_400)
  t.expiry.start()
  const first = await t.alarms.next()
  expect(first.ms).toBe(MAX_WAIT_MS)
  t.clock.now += MAX_WAIT_MS / 1000
  first.fire()
  const second = await t.alarms.next()
  expect(second.ms).toBe(Math.ceil((far.expires_at! - t.clock.now) * 1000))
  expect(t.published.length).toBe(0)
})

test('a new earlier poll re-arms the alarm; a poll ended by hand is not announced again', async () => {
  await using t = setup()
  await addPoll(t.store, 2000)
  t.expiry.start()
  const forLater = await t.alarms.next()
  expect(forLater.ms).toBe(1_000_000)

  const sooner = await addPoll(t.store, 1500)
  t.expiry.changed()
  const forSooner = await t.alarms.next()
  expect(forSooner.ms).toBe(500_000)
  expect(forLater.cancelled).toBe(true)

  expect(await t.store.polls.end(sooner.id, 1200)).toBeDefined()
  t.clock.now = 1500
  forSooner.fire()
  // The pass finds nothing due (the sooner poll already ended) and waits for the later one.
  expect((await t.alarms.next()).ms).toBe(500_000)
  expect(t.published.length).toBe(0)
  expect((await t.store.polls.get(sooner.id))?.ended_at).toBe(1200)
})

test('after stop nothing is armed or published', async () => {
  await using t = setup()
  await addPoll(t.store, 1100)
  t.expiry.start()
  const alarm = await t.alarms.next()
  await t.expiry.stop()
  expect(alarm.cancelled).toBe(true)
  t.expiry.changed()
  t.expiry.start()
  await t.expiry.stop()
  expect(t.alarms.length).toBe(0)
  expect(t.published.length).toBe(0)
})
