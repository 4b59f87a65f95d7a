import { expect, test } from 'bun:test'
import { allCommands } from '../../src/commands/index.ts'
import { startServer } from '../helpers/server.ts'

const PERMISSIONS = [
  'administrator', 'manage_server', 'view_audit_log', 'manage_roles', 'manage_channels', 'manage_threads',
  'manage_users', 'manage_messages', 'read_message_history', 'send_messages', 'embed_links', 'attach_files',
  'add_reactions', 'external_emojis', 'connect', 'speak', 'stream', 'use_voice_activity', 'mention_everyone',
  'use_slash_commands',
]

const VALIDATOR_KEY = /^originChats-[A-Za-z0-9_-]{32}$/

test.concurrent('the handshake describes the server', async () => {
  // Operator-added keys, unknown to the schema.
  const overrides = {
    server: { name: 'Handshake Test', icon: 'https://example.com/icon.png', url: 'chat.example.com', motto: 'extra keys leak' },
    limits: { post_content: 500, custom_limit: 7 },
  }
  await using server = await startServer(overrides)
  const client = await server.connect()
  expect(client.handshake).toEqual({
    cmd: 'handshake',
    val: {
      // The config's server and limits objects verbatim, operator-added keys included.
      server: {
        name: 'Handshake Test',
        owner: { name: 'owner' },
        icon: 'https://example.com/icon.png',
        url: 'chat.example.com',
        motto: 'extra keys leak',
      },
      limits: { post_content: 500, search_results: 30, custom_limit: 7 },
      attachments: {
        enabled: true,
        max_size: 104857600,
        allowed_types: ['image/*', 'video/*', 'audio/*', 'application/pdf'],
        max_attachments_per_user: -1,
        permanent_tiers: ['pro', 'max'],
      },
      version: '1.1.0',
      validator_key: expect.stringMatching(VALIDATOR_KEY),
      capabilities: [...allCommands.map((c) => c.cmd), 'attachment_upload', 'events', 'nickname_remove', 'nickname_update'].sort(),
      permissions: PERMISSIONS,
      auth_mode: 'cracked',
    },
  })
  expect(client.handshake.val.server).toEqual(server.config.server)
  expect(client.handshake.val.limits).toEqual(server.config.limits)
})

test.concurrent('capabilities are the command table and the features of commands.md §1.2, sorted by code point, without duplicates', async () => {
  await using server = await startServer()
  const { capabilities } = (await server.connect()).handshake.val
  const sorted = [...capabilities].sort((a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0))
  expect(capabilities).toEqual(sorted)
  expect(new Set(capabilities).size).toBe(capabilities.length)
  expect(new Set(capabilities)).toEqual(new Set([...allCommands.map((c) => c.cmd), 'attachment_upload', 'events', 'nickname_update', 'nickname_remove']))
  for (const name of ['auth', 'ping', 'message_new', 'messages_get']) expect(capabilities).toContain(name)
})

test.concurrent('attachments and auth_mode follow the config', async () => {
  const attachments = { enabled: false, max_size: 1024, allowed_types: ['*'], max_attachments_per_user: 3, permanent_tiers: [], compression: { enabled: false } }
  await using server = await startServer({ auth_mode: 'cracked-only', attachments })
  const { val } = (await server.connect()).handshake
  expect(val.attachments).toEqual({ enabled: false, max_size: 1024, allowed_types: ['*'], max_attachments_per_user: 3, permanent_tiers: [] })
  expect(val.auth_mode).toBe('cracked-only')
})

test.concurrent('the validator key is fresh for every connection', async () => {
  await using server = await startServer()
  const clients = await Promise.all(Array.from({ length: 5 }, () => server.connect()))
  const keys = clients.map((c) => c.handshake.val.validator_key)
  for (const key of keys) expect(key).toMatch(VALIDATOR_KEY)
  expect(new Set(keys).size).toBe(keys.length)
})

test.concurrent('every socket gets heartbeat pings, authenticated or not', async () => {
  await using server = await startServer({ websocket: { heartbeat_seconds: 0.05 } })
  const guest = await server.connect()
  const alice = await server.login('alice')
  expect(await guest.next('ping')).toEqual({ cmd: 'ping' })
  expect(await alice.next('ping')).toEqual({ cmd: 'ping' })
  // They keep coming.
  expect(await guest.next('ping')).toEqual({ cmd: 'ping' })
})
