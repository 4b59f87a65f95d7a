import { expect, test } from 'bun:test'
import { createSqliteStore } from '../../src/store/sqlite/index.ts'
import type { PushSubscriptionRecord } from '../../src/store/types.ts'

async function store() {
  const s = createSqliteStore(':memory:')
  for (const id of ['alice', 'bob']) await s.users.insert({ id, username: id, roles: ['user'], status: { status: 'online', text: '' }, extra: {} })
  return s
}
const sub = (user_id: string, endpoint: string, device_fingerprint: string | null, last_used: number): PushSubscriptionRecord => ({
  user_id,
  endpoint,
  p256dh: 'p',
  auth: 'a',
  device_fingerprint,
  last_used,
})

test('a user keeps at most the cap, the least recently used going first', async () => {
  const s = await store()
  for (let i = 0; i < 5; i++) await s.push.save(sub('alice', `https://p/${i}`, `device${i}`, 100 + i), 3)
  expect((await s.push.listByUser('alice')).map((x) => x.endpoint)).toEqual(['https://p/2', 'https://p/3', 'https://p/4'])
  s.close()
})

test('without a fingerprint, one subscription per endpoint', async () => {
  const s = await store()
  await s.push.save(sub('alice', 'https://p/1', null, 1), 10)
  await s.push.save(sub('alice', 'https://p/1', null, 2), 10)
  await s.push.save(sub('alice', 'https://p/2', null, 3), 10)
  expect((await s.push.listByUser('alice')).map((x) => [x.endpoint, x.last_used])).toEqual([
    ['https://p/1', 2],
    ['https://p/2', 3],
  ])
  s.close()
})

test('purge deletes what was unused since the cutoff; touch keeps one alive; import adds only new endpoints of known users', async () => {
  const s = await store()
  await s.push.save(sub('alice', 'https://p/old', 'a', 10), 10)
  await s.push.save(sub('alice', 'https://p/kept', 'b', 10), 10)
  await s.push.touch('https://p/kept', 500)
  expect(await s.push.purge(100)).toBe(1)
  expect((await s.push.listByUser('alice')).map((x) => x.endpoint)).toEqual(['https://p/kept'])
  const added = await s.push.importMany([sub('alice', 'https://p/kept', 'c', 1), sub('bob', 'https://p/bob', null, 1), sub('ghost', 'https://p/ghost', null, 1)])
  expect(added).toBe(1)
  expect((await s.push.listByUser('bob')).map((x) => x.endpoint)).toEqual(['https://p/bob'])
  s.close()
})
