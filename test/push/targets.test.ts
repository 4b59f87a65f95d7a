import { expect, test } from 'bun:test'
import { notifications, type PushJob } from '../../src/push/targets.ts'
import { createSqliteStore } from '../../src/store/sqlite/index.ts'

async function storeWith(users: Array<[string, string[]]>) {
  const store = createSqliteStore(':memory:')
  for (const [id, roles] of users) await store.users.insert({ id, username: id, roles, status: { status: 'online', text: '' }, extra: {} })
  return store
}

const channel = { name: 'general', type: 'text', permissions: { view: ['user'], send: ['user'] } }
const job = (fields: Partial<PushJob>): PushJob => ({ senderId: 'alice', senderName: 'alice', channel, content: 'hi', userIds: [], roles: [], ...fields })
const titles = (list: Array<{ userId: string; payload: string }>) => list.map(({ userId, payload }) => [userId, JSON.parse(payload).title])
const limits = { max_role_members: 100, max_targets_per_message: 200 }
const offline = () => false

test('never the sender, one push per user with the first reason: mention, then role, then reply', async () => {
  const store = await storeWith([['alice', ['user', 'helper']], ['bob', ['user', 'helper']], ['carol', ['user', 'helper']], ['dave', ['user']]])
  const list = await notifications(job({ userIds: ['alice', 'bob'], roles: ['helper'], repliedUserId: 'dave' }), store.users, limits, offline)
  expect(titles(list)).toEqual([
    ['bob', '#general \u2014 alice'],
    ['carol', '#general \u2014 alice mentioned @helper'],
    ['dave', '#general \u2014 alice replied'],
  ])
  expect(titles(await notifications(job({ repliedUserId: 'alice' }), store.users, limits, offline))).toEqual([])
  store.close()
})

test('leaves out who cannot view the channel, the banned, unknown users, the online, and roles above the member cap', async () => {
  const store = await storeWith([['alice', ['user']], ['bob', ['guest']], ['carol', ['user', 'banned']], ['dave', ['user', 'crowd']], ['erin', ['user', 'crowd']]])
  const everyone = job({ userIds: ['bob', 'carol', 'ghost', 'dave'], roles: ['crowd'] })
  expect(titles(await notifications(everyone, store.users, limits, offline))).toEqual([
    ['dave', '#general \u2014 alice'],
    ['erin', '#general \u2014 alice mentioned @crowd'],
  ])
  expect(titles(await notifications(everyone, store.users, limits, (id) => id === 'dave'))).toEqual([['erin', '#general \u2014 alice mentioned @crowd']])
  expect(titles(await notifications(job({ roles: ['crowd'] }), store.users, { ...limits, max_role_members: 1 }, offline))).toEqual([])
  expect(await notifications(everyone, store.users, { ...limits, max_targets_per_message: 1 }, offline)).toHaveLength(0)
  store.close()
})

test('the body is the first 120 characters (code points) of the content', async () => {
  const store = await storeWith([['bob', ['user']]])
  const content = `${'🙂'.repeat(119)}ab`
  const [only] = await notifications(job({ userIds: ['bob'], content }), store.users, limits, offline)
  expect(JSON.parse(only!.payload)).toEqual({ title: '#general \u2014 alice', body: `${'🙂'.repeat(119)}a`, channelName: 'general' })
  store.close()
})
