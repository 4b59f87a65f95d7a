import { expect, test } from 'bun:test'
import { parseConfig } from '../../src/config/load.ts'
import type { Logger } from '../../src/log.ts'
import type { PushOutcome } from '../../src/push/send.ts'
import { PushService, UNUSED_LIFETIME_SECONDS } from '../../src/push/service.ts'
import { createSqliteStore } from '../../src/store/sqlite/index.ts'

const channel = { name: 'general', type: 'text', permissions: { view: ['user'] } }

async function setup(pushSettings: Record<string, unknown>) {
  const store = createSqliteStore(':memory:')
  await store.users.insert({ id: 'bob', username: 'bob', roles: ['user'], status: { status: 'online', text: '' }, extra: {} })
  await store.push.save({ user_id: 'bob', endpoint: 'https://p/bob', p256dh: 'p', auth: 'a', device_fingerprint: null, last_used: Math.floor(Date.now() / 1000) }, 10)
  const warnings: string[] = []
  const log: Logger = { debug() {}, info() {}, warn: (line) => warnings.push(line), error: (line) => warnings.push(line) }
  const sent: Array<{ payload: string; answer: (outcome: PushOutcome) => void }> = []
  const waiters: Array<() => void> = []
  const settings = parseConfig({ push: pushSettings }).push
  const push = new PushService({
    store,
    keys: { publicKey: 'k', privateKey: 'k', subject: 'mailto:' },
    fingerprintSecret: 's',
    settings: () => settings,
    isOnline: () => false,
    log,
    send: (_target, payload, _keys, _timeout, signal) =>
      new Promise((answer) => {
        sent.push({ payload, answer })
        signal.addEventListener('abort', () => answer({ status: 0 }))
        waiters.splice(0).forEach((wake) => wake())
      }),
  })
  /** Resolves once `count` pushes have been handed to the push service. */
  const sentCount = async (count: number) => {
    while (sent.length < count) await new Promise<void>((wake) => waiters.push(wake))
  }
  const notify = (content: string) => push.notify({ senderId: 'alice', senderName: 'alice', channel, content, userIds: ['bob'], roles: [] })
  return { store, push, sent, sentCount, notify, warnings }
}

const bodies = (sent: Array<{ payload: string }>) => sent.map((s) => JSON.parse(s.payload).body)

test('a full queue drops its oldest message with a log line; pushes go out `concurrency` at a time', async () => {
  const { store, push, sent, sentCount, notify, warnings } = await setup({ concurrency: 1, queue_size: 2 })
  notify('one')
  notify('two')
  notify('three')
  notify('four')
  await sentCount(1)
  expect(warnings).toEqual(['push: queue full, dropped the oldest message'])
  // `one` is still unanswered, so nothing else is in flight.
  expect(bodies(sent)).toEqual(['one'])
  sent[0]!.answer({ status: 201 })
  await sentCount(2)
  sent[1]!.answer({ status: 201 })
  await sentCount(3)
  expect(bodies(sent)).toEqual(['one', 'three', 'four'])
  // Stopping aborts the push still in flight instead of waiting for it.
  await push.stop()
  store.close()
})

test('purge (at startup, then daily) deletes subscriptions unused for 180 days', async () => {
  const { store, push } = await setup({})
  const old = Math.floor(Date.now() / 1000) - UNUSED_LIFETIME_SECONDS - 10
  await store.push.save({ user_id: 'bob', endpoint: 'https://p/old', p256dh: 'p', auth: 'a', device_fingerprint: 'old', last_used: old }, 10)
  expect(await push.purge()).toBe(1)
  expect((await store.push.listByUser('bob')).map((s) => s.endpoint)).toEqual(['https://p/bob'])
  await push.stop()
  store.close()
})
