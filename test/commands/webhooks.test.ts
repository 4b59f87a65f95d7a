import { expect, test } from 'bun:test'
import type { Packet, TestClient } from '../helpers/client.ts'
import { customRole } from '../helpers/fixtures.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const error = (src: string, val: string) => ({ cmd: 'error', src, val })
const denied = (src: string) => error(src, "Access denied: 'manage_server' permission required")
const TOKEN = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}[0-9a-f]{32}$/

/** Only the owner may view it. */
const STAFF = { name: 'staff', type: 'text', permissions: { view: ['owner'], send: ['owner'] } }

type Fields = Record<string, any>

async function create(client: TestClient, channel = 'general', name = 'CI'): Promise<Fields> {
  return (await client.request({ cmd: 'webhook_create', channel, name })).webhook
}

/** The webhook as every reply but create/regenerate shows it. */
const withoutToken = ({ token: _token, ...webhook }: Fields) => webhook

const userId = async (server: TestServer, username: string) => (await server.app.store.users.getByUsername(username))!.id

test.concurrent('webhook_create answers the whole webhook with its 68-character token, once', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const before = Date.now() / 1000
  const webhook = await create(owner, 'general', '  CI  ')
  expect(webhook).toEqual({
    id: expect.stringMatching(/^[0-9a-f-]{36}$/),
    channel: 'general',
    name: 'CI',
    token: expect.stringMatching(TOKEN),
    created_by: await userId(server, 'owner'),
    created_at: expect.any(Number),
    avatar: null,
  })
  expect(webhook.token).toHaveLength(68)
  expect(webhook.created_at).toBeGreaterThanOrEqual(before - 1)
  expect(Object.keys(webhook)).toEqual(['id', 'channel', 'name', 'token', 'created_by', 'created_at', 'avatar'])

  // get and list never show it again.
  expect(await owner.request({ cmd: 'webhook_get', id: webhook.id })).toEqual({ cmd: 'webhook_get', webhook: withoutToken(webhook) })
  expect(await owner.request({ cmd: 'webhook_list' })).toEqual({ cmd: 'webhook_list', webhooks: [withoutToken(webhook)] })
  expect(await owner.request({ cmd: 'webhook_list', channel: 'general' })).toEqual({ cmd: 'webhook_list', webhooks: [withoutToken(webhook)] })
})

test.concurrent('webhook_create errors, in the spec order', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'forum', type: 'forum', permissions: { view: ['user'] } })
  const owner = await server.login('owner')
  const cases: Array<[Fields, string]> = [
    [{ name: 'CI' }, 'Channel is required'],
    [{ channel: '', name: 'CI' }, 'Channel is required'],
    [{ channel: 42, name: 'CI' }, 'Channel is required'],
    [{ channel: 'general' }, 'Webhook name is required'],
    [{ channel: 'general', name: '   ' }, 'Webhook name is required'],
    [{ channel: 'general', name: ['x'] }, 'Webhook name is required'],
    [{ channel: 'nowhere', name: 'CI' }, 'Channel not found'],
    [{ channel: 'forum', name: 'CI' }, 'Webhooks can only be created for text channels'],
  ]
  for (const [fields, val] of cases) expect(await owner.error({ cmd: 'webhook_create', ...fields })).toEqual(error('webhook_create', val))
  expect(await owner.request({ cmd: 'webhook_list' })).toEqual({ cmd: 'webhook_list', webhooks: [] })
})

test.concurrent('only manage_server holders create, update, delete and regenerate; the permission is checked first', async () => {
  await using server = await startServer()
  await server.app.store.roles.insert(customRole('ops', ['manage_server'], 4))
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  const ops = await server.login('olga')
  await server.setRoles('olga', ['ops', 'user'])
  const webhook = await create(owner)

  for (const packet of [
    { cmd: 'webhook_create', channel: 'general', name: 'mine' },
    { cmd: 'webhook_create' },
    { cmd: 'webhook_update', id: webhook.id, name: 'mine' },
    { cmd: 'webhook_delete', id: webhook.id },
    { cmd: 'webhook_regenerate', id: webhook.id },
    { cmd: 'webhook_regenerate' },
  ]) {
    expect(await bob.error(packet)).toEqual(denied(packet.cmd))
  }
  // Nothing changed, and bob never saw a token.
  expect(await bob.request({ cmd: 'webhook_get', id: webhook.id })).toEqual({ cmd: 'webhook_get', webhook: withoutToken(webhook) })
  expect(JSON.stringify(bob.inbox)).not.toContain(webhook.token)

  // A role with manage_server is enough.
  const made = await create(ops, 'general', 'Deploys')
  expect(made.token).toMatch(TOKEN)
  expect((await ops.request({ cmd: 'webhook_delete', id: made.id })).deleted).toBe(true)
})

test.concurrent('webhook_get and webhook_list: any user, without tokens, and only for channels they can view', async () => {
  await using server = await startServer()
  await server.addChannel(STAFF)
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  const open = await create(owner, 'general', 'Open')
  const hidden = await create(owner, 'staff', 'Hidden')

  expect(await bob.request({ cmd: 'webhook_list' })).toEqual({ cmd: 'webhook_list', webhooks: [withoutToken(open)] })
  expect(await bob.error({ cmd: 'webhook_get', id: hidden.id })).toEqual(error('webhook_get', 'Webhook not found'))
  expect(await bob.error({ cmd: 'webhook_list', channel: 'staff' })).toEqual(error('webhook_list', 'Channel not found'))
  expect(await owner.request({ cmd: 'webhook_list' })).toEqual({ cmd: 'webhook_list', webhooks: [withoutToken(open), withoutToken(hidden)] })
  expect(await owner.request({ cmd: 'webhook_list', channel: 'staff' })).toEqual({ cmd: 'webhook_list', webhooks: [withoutToken(hidden)] })

  expect(await bob.error({ cmd: 'webhook_get' })).toEqual(error('webhook_get', 'Webhook ID is required'))
  expect(await bob.error({ cmd: 'webhook_get', id: 7 })).toEqual(error('webhook_get', 'Webhook ID is required'))
  expect(await bob.error({ cmd: 'webhook_get', id: 'nope' })).toEqual(error('webhook_get', 'Webhook not found'))
  expect(await bob.error({ cmd: 'webhook_list', channel: 'nowhere' })).toEqual(error('webhook_list', 'Channel not found'))
  expect(await bob.error({ cmd: 'webhook_list', channel: 3 })).toEqual(error('webhook_list', 'Channel not found'))
  for (const client of [owner, bob]) {
    const text = JSON.stringify(client.inbox)
    expect(text).not.toContain(open.token)
    expect(text).not.toContain(hidden.token)
  }
})

test.concurrent('webhook_update changes name and avatar, never shows the token, and records the updates', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const webhook = await create(owner)

  const renamed = await owner.request({ cmd: 'webhook_update', id: webhook.id, name: '  Builds ', avatar: 'https://img.example/ci.png' })
  expect(renamed).toEqual({ cmd: 'webhook_update', webhook: { ...withoutToken(webhook), name: 'Builds', avatar: 'https://img.example/ci.png' } })
  // Any avatar value is stored as given; null clears it.
  const odd = await owner.request({ cmd: 'webhook_update', id: webhook.id, avatar: { url: 'x' } })
  expect(odd.webhook.avatar).toEqual({ url: 'x' })
  expect((await owner.request({ cmd: 'webhook_update', id: webhook.id, avatar: null })).webhook.avatar).toBeNull()

  const cases: Array<[Fields, string]> = [
    [{}, 'Webhook ID is required'],
    [{ id: 'nope', name: 'x' }, 'Webhook not found'],
    [{ id: webhook.id, name: '' }, 'Webhook name must be a non-empty string'],
    [{ id: webhook.id, name: '  ' }, 'Webhook name must be a non-empty string'],
    [{ id: webhook.id, name: 5 }, 'Webhook name must be a non-empty string'],
    [{ id: webhook.id, name: null }, 'Webhook name must be a non-empty string'],
    [{ id: webhook.id }, 'No updates provided'],
  ]
  for (const [fields, val] of cases) expect(await owner.error({ cmd: 'webhook_update', ...fields })).toEqual(error('webhook_update', val))
  expect(JSON.stringify(owner.inbox)).not.toContain(webhook.token)

  const log = await owner.request({ cmd: 'modlog_get', category: 'server_management' })
  expect(log.entries.map((e: Packet) => [e.action, e.target_id, e.details])).toEqual([
    ['webhook_update', webhook.id, { avatar: null }],
    ['webhook_update', webhook.id, { avatar: { url: 'x' } }],
    ['webhook_update', webhook.id, { name: 'Builds', avatar: 'https://img.example/ci.png' }],
    ['webhook_create', webhook.id, { channel: 'general' }],
  ])
  expect(JSON.stringify(log)).not.toContain(webhook.token)
})

test.concurrent('webhook_delete and webhook_regenerate: replies, errors and modlog', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const webhook = await create(owner)

  const regenerated = await owner.request({ cmd: 'webhook_regenerate', id: webhook.id })
  expect(regenerated).toEqual({ cmd: 'webhook_regenerate', webhook: { ...webhook, token: expect.stringMatching(TOKEN) } })
  expect(regenerated.webhook.token).not.toBe(webhook.token)

  for (const cmd of ['webhook_delete', 'webhook_regenerate']) {
    expect(await owner.error({ cmd })).toEqual(error(cmd, 'Webhook ID is required'))
    expect(await owner.error({ cmd, id: 'nope' })).toEqual(error(cmd, 'Webhook not found'))
  }
  expect(await owner.request({ cmd: 'webhook_delete', id: webhook.id })).toEqual({ cmd: 'webhook_delete', id: webhook.id, deleted: true })
  expect(await owner.error({ cmd: 'webhook_delete', id: webhook.id })).toEqual(error('webhook_delete', 'Webhook not found'))
  expect(await owner.error({ cmd: 'webhook_get', id: webhook.id })).toEqual(error('webhook_get', 'Webhook not found'))

  const log = await owner.request({ cmd: 'modlog_get', category: 'server_management' })
  expect(log.entries.map((e: Packet) => [e.action, e.category, e.target_id, e.target_name, e.details])).toEqual([
    ['webhook_delete', 'server_management', webhook.id, 'CI', {}],
    ['webhook_regenerate', 'server_management', webhook.id, 'CI', {}],
    ['webhook_create', 'server_management', webhook.id, 'CI', { channel: 'general' }],
  ])
  expect(JSON.stringify(log)).not.toContain(webhook.token)
  expect(JSON.stringify(log)).not.toContain(regenerated.webhook.token)
})

test.concurrent('webhooks follow a channel rename, go with a deleted channel, and survive a restart', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'builds', type: 'text', permissions: { view: ['user'], send: ['user'] } })
  let owner = await server.login('owner')
  const kept = await create(owner, 'general', 'Kept')
  const doomed = await create(owner, 'builds', 'Doomed')

  await owner.request({ cmd: 'channel_update', current_name: 'general', updates: { name: 'lounge' } })
  expect(await owner.request({ cmd: 'webhook_get', id: kept.id })).toEqual({ cmd: 'webhook_get', webhook: { ...withoutToken(kept), channel: 'lounge' } })
  expect((await owner.request({ cmd: 'webhook_list', channel: 'lounge' })).webhooks.map((w: Packet) => w.id)).toEqual([kept.id])

  await owner.request({ cmd: 'channel_delete', name: 'builds' })
  expect(await owner.error({ cmd: 'webhook_get', id: doomed.id })).toEqual(error('webhook_get', 'Webhook not found'))
  // A new channel of the same name does not bring it back.
  await server.addChannel({ name: 'builds', type: 'text', permissions: { view: ['user'], send: ['user'] } })
  expect((await owner.request({ cmd: 'webhook_list' })).webhooks.map((w: Packet) => w.id)).toEqual([kept.id])

  await server.restart()
  owner = await server.login('owner')
  expect(await owner.request({ cmd: 'webhook_list' })).toEqual({ cmd: 'webhook_list', webhooks: [{ ...withoutToken(kept), channel: 'lounge' }] })
})
