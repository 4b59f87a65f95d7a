import { describe, expect, test } from 'bun:test'
import type { ModlogEntry } from '../../src/store/types.ts'
import type { TestClient } from '../helpers/client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { customRole } from '../helpers/fixtures.ts'

const denied = (src: string) => ({ cmd: 'error', src, val: "Access denied: 'view_audit_log' or 'manage_users' permission required" })
const invalid = (val: string) => ({ cmd: 'error', src: 'modlog_get', val })
const EMPTY = { cmd: 'modlog_get', entries: [], total: 0, offset: 0, limit: 100 }
const DAY = 86_400


const idOf = async (server: TestServer, username: string) => (await server.app.store.users.getByUsername(username))!.id

/** Every earlier frame of this connection, its modlog writes included, is done once this returns. */
const settled = (client: TestClient) => client.expectNone('error')

async function post(client: TestClient, content: string) {
  const listener = `post-${content}`
  client.send({ cmd: 'message_new', channel: 'general', content, listener })
  return (await client.next('message_new', (p) => p.listener === listener)).message.id as string
}

/** A stored entry as `modlog_get` returns it; the id and time are the server's. */
const entry = (fields: Partial<ModlogEntry> & Pick<ModlogEntry, 'action' | 'category' | 'actor_id' | 'actor_name'>) => ({
  id: expect.stringMatching(new RegExp(`^\\d+-${fields.actor_id}$`)),
  target_id: null,
  target_name: null,
  details: {},
  timestamp: expect.any(Number),
  ...fields,
})

const stored = (fields: Partial<ModlogEntry> & Pick<ModlogEntry, 'action' | 'category' | 'timestamp'>): ModlogEntry => ({
  id: `${Math.round(fields.timestamp * 1000)}-someone`,
  actor_id: 'someone',
  actor_name: 'someone',
  target_id: null,
  target_name: null,
  details: {},
  ...fields,
})

describe('modlog access', () => {
  test.concurrent("needs 'view_audit_log' or 'manage_users', before any validation", async () => {
    await using server = await startServer()
    await server.app.store.roles.insert(customRole('auditor', ['view_audit_log'], 4))
    await server.app.store.roles.insert(customRole('usher', ['manage_users'], 5))
    const owner = await server.login('owner')
    const admin = await server.login('ada')
    const auditor = await server.login('audrey')
    const usher = await server.login('ush')
    const mod = await server.login('mo')
    const alice = await server.login('alice')
    await server.setRoles('ada', ['admin', 'user'])
    await server.setRoles('audrey', ['auditor', 'user'])
    await server.setRoles('ush', ['usher', 'user'])
    await server.setRoles('mo', ['moderator', 'user'])

    for (const client of [owner, admin, auditor, usher]) {
      expect(await client.request({ cmd: 'modlog_get' })).toEqual(EMPTY)
      expect(await client.request({ cmd: 'modlog_summary' })).toEqual({ cmd: 'modlog_summary', action_counts: {}, category_totals: {}, total: 0 })
    }
    for (const client of [mod, alice]) {
      expect(await client.error({ cmd: 'modlog_get' })).toEqual(denied('modlog_get'))
      expect(await client.error({ cmd: 'modlog_get', limit: 0 })).toEqual(denied('modlog_get'))
      expect(await client.error({ cmd: 'modlog_summary' })).toEqual(denied('modlog_summary'))
    }
  })
})

describe('modlog recording and modlog_get', () => {
  test.concurrent('records the core moderation actions with actor and target; filters and pages them', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const mod = await server.login('mo')
    const alice = await server.login('alice')
    await server.login('bob')
    await server.setRoles('mo', ['moderator', 'user'])
    const [ownerId, modId, aliceId, bobId] = await Promise.all(['owner', 'mo', 'alice', 'bob'].map((name) => idOf(server, name)))

    expect(await owner.request({ cmd: 'user_ban', user: 'bob' })).toMatchObject({ banned: true })
    expect(await owner.request({ cmd: 'user_unban', user: 'bob' })).toMatchObject({ unbanned: true })
    expect(await owner.request({ cmd: 'user_timeout', user: 'alice', timeout: 60 })).toMatchObject({ timeout: 60 })
    const byAlice = await post(alice, 'spam')
    mod.send({ cmd: 'message_delete', channel: 'general', id: byAlice })
    await mod.next('message_delete')
    await settled(mod)
    const own = await post(alice, 'oops')
    alice.send({ cmd: 'message_delete', channel: 'general', id: own })
    await alice.next('message_delete', (p) => p.id === own)
    await settled(alice)
    const pinned = await post(owner, 'rules')
    owner.send({ cmd: 'message_pin', channel: 'general', id: pinned })
    await owner.next('message_pin')
    owner.send({ cmd: 'message_unpin', channel: 'general', id: pinned })
    await owner.next('message_unpin')
    expect(await owner.request({ cmd: 'plugins_reload' })).toMatchObject({ val: 'All plugins reloaded successfully' })

    const ownerActor = { actor_id: ownerId, actor_name: 'owner' }
    const all = [
      entry({ action: 'plugins_reload', category: 'server_management', ...ownerActor, details: { plugin: 'all' } }),
      entry({ action: 'message_unpin', category: 'message_moderation', ...ownerActor, target_id: pinned, details: { channel: 'general' } }),
      entry({ action: 'message_pin', category: 'message_moderation', ...ownerActor, target_id: pinned, details: { channel: 'general' } }),
      entry({ action: 'message_delete', category: 'message_moderation', actor_id: aliceId!, actor_name: 'alice', target_id: own, details: { channel: 'general' } }),
      entry({ action: 'message_delete', category: 'message_moderation', actor_id: modId!, actor_name: 'mo', target_id: byAlice, details: { channel: 'general' } }),
      entry({ action: 'user_timeout', category: 'user_moderation', ...ownerActor, target_id: aliceId, target_name: 'alice', details: { timeout: 60 } }),
      entry({ action: 'user_unban', category: 'user_moderation', ...ownerActor, target_id: bobId, target_name: 'bob' }),
      entry({ action: 'user_ban', category: 'user_moderation', ...ownerActor, target_id: bobId, target_name: 'bob' }),
    ]
    const everything = await owner.request({ cmd: 'modlog_get' })
    expect(everything).toEqual({ cmd: 'modlog_get', entries: all, total: 8, offset: 0, limit: 100 })

    const get = (query: Record<string, unknown>) => owner.request({ cmd: 'modlog_get', ...query })
    expect(await get({ category: 'message_moderation' })).toEqual({ cmd: 'modlog_get', entries: all.slice(1, 5), total: 4, offset: 0, limit: 100 })
    expect(await get({ actor: modId })).toEqual({ cmd: 'modlog_get', entries: [all[4]], total: 1, offset: 0, limit: 100 })
    expect(await get({ target: bobId })).toEqual({ cmd: 'modlog_get', entries: all.slice(6), total: 2, offset: 0, limit: 100 })
    expect(await get({ action: 'message_delete', actor: aliceId })).toEqual({ cmd: 'modlog_get', entries: [all[3]], total: 1, offset: 0, limit: 100 })
    expect(await get({ category: 'user_moderation', limit: 1, offset: 1 })).toEqual({ cmd: 'modlog_get', entries: [all[6]], total: 3, offset: 1, limit: 1 })
    expect(await get({ limit: 3, offset: 6 })).toEqual({ cmd: 'modlog_get', entries: all.slice(6), total: 8, offset: 6, limit: 3 })
    expect(await get({ offset: 8 })).toEqual({ cmd: 'modlog_get', entries: [], total: 8, offset: 8, limit: 100 })
    // Empty and null filters filter nothing.
    expect(await get({ category: '', actor: null, limit: 200 })).toEqual({ cmd: 'modlog_get', entries: all, total: 8, offset: 0, limit: 200 })
    expect(await get({ action: 'role_create' })).toEqual({ cmd: 'modlog_get', entries: [], total: 0, offset: 0, limit: 100 })

    // `after` keeps entries strictly newer than the given time.
    const oldest = everything.entries.at(-1).timestamp as number
    const newer = (await get({ after: oldest })).entries as ModlogEntry[]
    expect(newer.length).toBeGreaterThan(0)
    expect(newer.every((e) => e.timestamp > oldest)).toBe(true)
    expect(newer.some((e) => e.action === 'user_ban')).toBe(false)
    expect(await get({ after: 0 })).toEqual({ cmd: 'modlog_get', entries: all, total: 8, offset: 0, limit: 100 })
    expect(await get({ after: Date.now() / 1000 + 60 })).toEqual({ cmd: 'modlog_get', entries: [], total: 0, offset: 0, limit: 100 })

    expect(await owner.request({ cmd: 'modlog_summary' })).toEqual({
      cmd: 'modlog_summary',
      action_counts: {
        'user_moderation.user_ban': 1,
        'user_moderation.user_unban': 1,
        'user_moderation.user_timeout': 1,
        'message_moderation.message_delete': 2,
        'message_moderation.message_pin': 1,
        'message_moderation.message_unpin': 1,
        'server_management.plugins_reload': 1,
      },
      category_totals: { user_moderation: 3, message_moderation: 4, server_management: 1 },
      total: 8,
    })
  })

  test.concurrent('limit, offset and after are checked in that order with exact errors', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const limit = invalid('Limit must be between 1 and 200')
    const offset = invalid('Offset must be a non-negative integer')
    const after = invalid('After must be a valid Unix timestamp')
    for (const value of [0, -1, 201, 1.5, '10', true, [5]]) expect(await owner.error({ cmd: 'modlog_get', limit: value })).toEqual(limit)
    for (const value of [-1, 0.5, '0', false]) expect(await owner.error({ cmd: 'modlog_get', offset: value })).toEqual(offset)
    for (const value of [-1, 'yesterday', true, {}]) expect(await owner.error({ cmd: 'modlog_get', after: value })).toEqual(after)
    expect(await owner.error({ cmd: 'modlog_get', limit: 0, offset: -1, after: 'x' })).toEqual(limit)
    expect(await owner.error({ cmd: 'modlog_get', offset: -1, after: 'x' })).toEqual(offset)
    for (const query of [{ limit: 1 }, { limit: 200 }, { offset: 0 }, { after: 0 }, { after: 1745280000.5 }, { limit: null, offset: null, after: null }]) {
      expect(await owner.request({ cmd: 'modlog_get', ...query })).toMatchObject({ cmd: 'modlog_get', entries: [], total: 0 })
    }
  })

  test.concurrent('records nothing when modlog.enabled is false', async () => {
    await using server = await startServer({ modlog: { enabled: false } })
    const owner = await server.login('owner')
    await server.login('bob')
    expect(await owner.request({ cmd: 'user_ban', user: 'bob' })).toMatchObject({ banned: true })
    expect(await owner.request({ cmd: 'user_timeout', user: 'bob', timeout: 5 })).toMatchObject({ timeout: 5 })
    expect(await owner.request({ cmd: 'server_update', name: 'Quiet' }, 'server_update')).toMatchObject({ name: 'Quiet' })
    await settled(owner)
    expect(await owner.request({ cmd: 'modlog_get' })).toEqual(EMPTY)
    expect(await server.app.store.modlog.list({ limit: 10, offset: 0 })).toEqual({ entries: [], total: 0 })
  })
})

describe('modlog retention', () => {
  test.concurrent('reads purge entries older than their category retention (or the default)', async () => {
    await using server = await startServer({ modlog: { retention: { message_moderation: 1, default: 30 } } })
    const owner = await server.login('owner')
    const now = Date.now() / 1000
    const keptMessage = stored({ action: 'message_delete', category: 'message_moderation', timestamp: now - DAY / 2 })
    const keptUser = stored({ action: 'user_ban', category: 'user_moderation', timestamp: now - 200 * DAY })
    const keptOther = stored({ action: 'custom_thing', category: 'other', timestamp: now - 20 * DAY })
    for (const e of [
      keptUser,
      stored({ action: 'message_pin', category: 'message_moderation', timestamp: now - 2 * DAY }),
      stored({ action: 'custom_thing', category: 'other', timestamp: now - 40 * DAY }),
      stored({ action: 'user_ban', category: 'user_moderation', timestamp: now - 400 * DAY }),
      keptOther,
      keptMessage,
    ]) {
      await server.app.store.modlog.insert(e)
    }
    expect(await owner.request({ cmd: 'modlog_get' })).toEqual({ cmd: 'modlog_get', entries: [keptMessage, keptOther, keptUser], total: 3, offset: 0, limit: 100 })

    // modlog_summary purges too.
    await server.app.store.modlog.insert(stored({ action: 'message_unpin', category: 'message_moderation', timestamp: now - 3 * DAY }))
    expect(await owner.request({ cmd: 'modlog_summary' })).toEqual({
      cmd: 'modlog_summary',
      action_counts: { 'message_moderation.message_delete': 1, 'other.custom_thing': 1, 'user_moderation.user_ban': 1 },
      category_totals: { message_moderation: 1, other: 1, user_moderation: 1 },
      total: 3,
    })
  })

  test.concurrent('a retention of 0 purges the whole category', async () => {
    await using server = await startServer({ modlog: { retention: { message_moderation: 0 } } })
    const owner = await server.login('owner')
    const kept = stored({ action: 'user_ban', category: 'user_moderation', timestamp: Date.now() / 1000 - 10 })
    await server.app.store.modlog.insert(kept)
    await server.app.store.modlog.insert(stored({ action: 'message_delete', category: 'message_moderation', timestamp: Date.now() / 1000 - 10 }))
    expect(await owner.request({ cmd: 'modlog_get' })).toEqual({ cmd: 'modlog_get', entries: [kept], total: 1, offset: 0, limit: 100 })
  })

  test.concurrent('expired entries are also purged without any read, when the server starts', async () => {
    await using server = await startServer()
    const now = Date.now() / 1000
    const kept = stored({ action: 'channel_create', category: 'channel_management', timestamp: now - 100 * DAY })
    await server.app.store.modlog.insert(stored({ action: 'channel_delete', category: 'channel_management', timestamp: now - 181 * DAY }))
    await server.app.store.modlog.insert(kept)
    await server.restart()
    await server.app.modlogPruned
    expect(await server.app.store.modlog.list({ limit: 10, offset: 0 })).toEqual({ entries: [kept], total: 1 })
  })
})
