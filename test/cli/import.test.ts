import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../../src/app.ts'
import { importFolder } from '../../src/cli/import.ts'
import { parseConfig } from '../../src/config/load.ts'
import { ImportError, mergeOrder } from '../../src/import/import.ts'
import { DataLockedError, LOCK_FILE } from '../../src/store/lock.ts'
import { DATABASE_FILE, createSqliteStore } from '../../src/store/sqlite/index.ts'
import { run } from '../helpers/process.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let root = ''
let latest = ''
let seed = ''
const PASSWORD = 'secret-pw'

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'originchats-import-'))
  latest = await latestFixture(join(root, 'latest'))
  seed = await seedFixture(join(root, 'seed'))
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

async function writeDb(folder: string, files: Record<string, string>) {
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(folder, 'db', name, '..'), { recursive: true })
    await writeFile(join(folder, 'db', name), text)
  }
  return folder
}

const json = (value: unknown) => JSON.stringify(value, null, 2)
/** Upstream's JSON Lines: each message padded with spaces (room for in-place edits), `\n` between. */
const jsonLines = (messages: unknown[]) => messages.map((m) => `${JSON.stringify(m)}${' '.repeat(64)}`).join('\n')

/** The latest layout (data.md §16): users by ID, roles with positions, JSON Lines histories. */
async function latestFixture(folder: string) {
  return writeDb(folder, {
    'users.json': json({
      'USR:1': { username: 'Carol', roles: ['helper', 'user'], status: { status: 'dnd', text: 'busy' }, nickname: 'Caz', pfp_url: 'https://img/c.png', validator: 'old-token' },
      'USR:local_dave': {
        username: 'USR:local_dave',
        roles: ['user'],
        status: { status: 'online', text: '' },
        nickname: 'dave',
        pfp_url: null,
        password_hash: await Bun.password.hash(PASSWORD, { algorithm: 'bcrypt', cost: 4 }),
      },
    }),
    'roles.json': json({
      owner: { id: 'r0', description: 'Server owner with ultimate permissions.', color: '#9400D3', hoisted: true, permissions: ['administrator'], self_assignable: false, category: null, position: 0 },
      admin: { id: 'r1', description: 'Administrator', color: '#FF0000', hoisted: true, permissions: ['administrator'], self_assignable: false, category: null, position: 1 },
      user: { id: 'r4', description: 'Regular user', color: null, hoisted: false, permissions: ['send_messages'], self_assignable: false, category: null, position: 4 },
      helper: { id: 'r3', description: 'Helps out', color: '#00AAFF', hoisted: true, permissions: ['manage_messages'], self_assignable: true, category: 'Staff', position: 3 },
      moderator: { id: 'r2', description: 'Moderator', color: '#FFFF00', hoisted: true, permissions: ['kick_members'], self_assignable: false, category: null, position: 2 },
    }),
    'channels.json': json([
      { name: 'announcements', type: 'text', description: 'News', permissions: { view: ['user'], send: ['admin'], react: ['user'] } },
      { name: 'general', type: 'text', description: 'Upstream general', permissions: { view: ['user'], send: ['user'] } },
      { name: 'off-topic', type: 'text', display_name: 'Off topic', permissions: { view: ['user'], send: ['user'] } },
      { name: 'divider', type: 'separator', size: 10, permissions: { view: ['user'] } },
    ]),
    'channels/announcements.json': `${jsonLines([
      { user: 'USR:1', content: 'Welcome', timestamp: 1745280000.123456, id: 'a1' },
      {
        user: 'USR:local_dave',
        content: 'thanks (edited)',
        timestamp: 1745280010.5,
        id: 'a2',
        reply_to: { id: 'a1', user: 'USR:1' },
        ping: false,
        edited: true,
        pinned: true,
        reactions: { '🎉': ['USR:local_dave', 'USR:1'], '👀': [] },
        embeds: [{ title: 'Notes', description: 'see above' }],
      },
      { user: 'originChats', content: 'Server notice', timestamp: 1745280020, id: 'a3' },
    ])}\n`,
    // The legacy array form latest still reads (and converts) on load.
    'channels/general.json': json([{ user: 'USR:1', content: 'old general message', timestamp: 1745270000, id: 'g1' }]),
    // The second line is cut short: the whole file is reported and skipped, its first line included.
    'channels/off-topic.json': `${jsonLines([{ user: 'USR:1', content: 'never imported', timestamp: 1745280030, id: 'o1' }])}\n{"user":"USR:1","content":"cut`,
  })
}

/** The seed layout: users by lower-cased username, roles {description, color}, JSON arrays with usernames. */
async function seedFixture(folder: string) {
  return writeDb(folder, {
    'users.json': json({ alice: { roles: ['vip', 'user'] }, bob: { roles: ['user'] } }),
    'roles.json': json({
      owner: { description: 'Owner', color: '#9400D3' },
      vip: { description: 'Very important', color: '#00FF00' },
      user: { description: 'User', color: '#FFFFFF' },
    }),
    'channels.json': json([
      { type: 'text', name: 'general', description: 'General chat channel for everyone', permissions: { view: ['user'], send: ['user'], delete: ['admin', 'moderator'] } },
      { type: 'text', name: 'random', permissions: { view: ['user'], send: ['user'] } },
    ]),
    'channels/general.json': json([
      { user: 'Alice', content: 'hi all', timestamp: 1700000000.5, type: 'message', pinned: true, id: 's1' },
      {
        user: 'bob',
        content: 'hey alice',
        timestamp: 1700000001.25,
        type: 'message',
        pinned: false,
        id: 's2',
        reply_to: { id: 's1', user: 'Alice' },
        edited: true,
        reactions: { '👍': ['Alice', 'bob'] },
      },
    ]),
    'channels/random.json': json([{ user: 'alice', content: 'random thought', timestamp: 1700000002, type: 'message', pinned: false, id: 's3' }]),
    'channels/ghost.json': json([{ user: 'alice', content: 'in a channel that is gone', timestamp: 1700000003, id: 's4' }]),
  })
}

/** Stops the server, imports into its data folder, and starts it again on the imported data. */
async function importInto(server: TestServer, upstream: string) {
  await server.app.stop()
  const report = await importFolder(upstream, server.dir, server.config)
  await server.restart()
  return report
}

const counts = (imported: number, skipped: number) => ({ imported, skipped })

test.concurrent('latest layout: users, roles, channels and messages come through and read back over the protocol', async () => {
  await using server = await startServer()
  await server.app.stop()
  const report = await importFolder(latest, server.dir, server.config)
  expect(report).toEqual({
    folder: join(latest, 'db'),
    users: counts(2, 0),
    roles: counts(1, 4),
    channels: counts(3, 1),
    messages: counts(4, 0),
    threads: counts(0, 0),
    polls: counts(0, 0),
    votes: counts(0, 0),
    unreads: counts(0, 0),
    attachments: counts(0, 0),
    emojis: counts(0, 0),
    webhooks: counts(0, 0),
    push: counts(0, 0),
    invalid: [{ path: join(latest, 'db', 'channels', 'off-topic.json'), reason: expect.stringContaining('line 2: not valid JSON') }],
    notes: [],
  })
  // Running it again adds nothing and still reports the malformed file.
  const again = await importFolder(latest, server.dir, server.config)
  expect(again).toEqual({ ...report, users: counts(0, 2), roles: counts(0, 5), channels: counts(0, 4), messages: counts(0, 4) })
  await server.restart()

  // The new role sits where upstream ranked it; existing roles are left as they were.
  const roles = await server.app.store.roles.list()
  expect(roles.map((role) => role.name)).toEqual(['owner', 'admin', 'moderator', 'helper', 'user'])
  expect(roles[3]).toEqual({ name: 'helper', id: 'r3', description: 'Helps out', color: '#00AAFF', hoisted: true, permissions: ['manage_messages'], self_assignable: true, category: 'Staff', position: 3 })
  expect(roles[0]!.description).toBe('Server owner with ultimate permissions.')

  // The bcrypt hash from upstream still logs the local account in.
  const dave = await server.connect()
  dave.send({ cmd: 'login', username: 'dave', password: PASSWORD })
  expect((await dave.next('ready')).user).toEqual({
    username: 'USR:local_dave',
    roles: ['user'],
    status: { status: 'online', text: '' },
    nickname: 'dave',
    pfp_url: null,
    cracked: true,
  })
  const owner = await server.login('owner')

  expect((await owner.request({ cmd: 'users_list' })).users).toEqual([
    { username: 'Carol', nickname: 'Caz', roles: ['helper', 'user'], color: '#00AAFF', status: { status: 'offline', text: 'busy' }, cracked: false, pfp: 'https://img/c.png' },
    { username: 'USR:local_dave', nickname: 'dave', roles: ['user'], color: null, status: { status: 'online', text: '' }, cracked: true, pfp: null },
    { username: 'owner', nickname: null, roles: ['owner', 'user'], color: '#9400D3', status: { status: 'online', text: '' }, cracked: false, pfp: null },
  ])

  // Upstream's order; #general existed, so it keeps its own definition.
  const channels = (await owner.request({ cmd: 'channels_get' })).val
  expect(channels.map((c: { name: string }) => c.name)).toEqual(['announcements', 'general', 'off-topic', 'divider'])
  expect(channels[0]).toEqual({
    name: 'announcements',
    type: 'text',
    description: 'News',
    permissions: { view: ['user'], send: ['admin'], react: ['user'] },
    last_message: 1745280020,
    last_message_id: 'a3',
  })
  expect(channels[1].description).toBe('General chat channel for everyone')
  expect(channels[3]).toEqual({ name: 'divider', type: 'separator', size: 10, permissions: { view: ['user'] } })

  const announcements = await owner.request({ cmd: 'messages_get', channel: 'announcements' })
  expect(announcements.messages).toEqual([
    { id: 'a1', user: 'Carol', content: 'Welcome', timestamp: 1745280000.123456, pinned: false, type: 'message', interaction: null },
    {
      id: 'a2',
      user: 'USR:local_dave',
      content: 'thanks (edited)',
      timestamp: 1745280010.5,
      reply_to: { id: 'a1', user: 'Carol' },
      ping: false,
      edited: true,
      pinned: true,
      reactions: { '🎉': ['USR:local_dave', 'Carol'] },
      embeds: [{ title: 'Notes', description: 'see above' }],
      type: 'message',
      interaction: null,
    },
    { id: 'a3', user: 'originChats', content: 'Server notice', timestamp: 1745280020, pinned: false, type: 'message', interaction: null },
  ])
  expect((await owner.request({ cmd: 'messages_pinned', channel: 'announcements' })).messages.map((m: { id: string }) => m.id)).toEqual(['a2'])
  expect((await owner.request({ cmd: 'messages_get', channel: 'general' })).messages.map((m: { id: string }) => m.id)).toEqual(['g1'])
  // Nothing of the malformed file, not even its good first line.
  expect((await owner.request({ cmd: 'messages_get', channel: 'off-topic' })).messages).toEqual([])
})

test.concurrent('seed layout: usernames become user IDs, and seed users already known here are merged', async () => {
  await using server = await startServer()
  // bob already used this server (Rotur ID rotur-bob): his seed messages become his.
  const bob = await server.login('bob')
  await bob.close()
  const report = await importInto(server, seed)
  expect(report).toEqual({
    folder: join(seed, 'db'),
    users: counts(1, 1),
    roles: counts(1, 2),
    channels: counts(1, 1),
    messages: counts(3, 0),
    threads: counts(0, 0),
    polls: counts(0, 0),
    votes: counts(0, 0),
    unreads: counts(0, 0),
    attachments: counts(0, 0),
    emojis: counts(0, 0),
    webhooks: counts(0, 0),
    push: counts(0, 0),
    invalid: [],
    notes: [`${join(seed, 'db', 'channels', 'ghost.json')}: no channel named 'ghost'; its messages were not imported`],
  })
  expect((await server.app.store.users.get('alice'))).toEqual({ id: 'alice', username: 'alice', roles: ['vip', 'user'], status: { status: 'online', text: '' }, extra: {} })
  expect((await server.app.store.roles.list()).map((role) => role.name)).toEqual(['owner', 'admin', 'moderator', 'vip', 'user'])

  const reader = await server.login('reader')
  const general = await reader.request({ cmd: 'messages_get', channel: 'general' })
  expect(general.messages).toEqual([
    { id: 's1', user: 'alice', content: 'hi all', timestamp: 1700000000.5, pinned: true, type: 'message', interaction: null },
    {
      id: 's2',
      user: 'bob',
      content: 'hey alice',
      timestamp: 1700000001.25,
      reply_to: { id: 's1', user: 'alice' },
      edited: true,
      pinned: false,
      reactions: { '👍': ['alice', 'bob'] },
      type: 'message',
      interaction: null,
    },
  ])
  // Stored by user ID: the seed name 'Alice' is the new user 'alice', 'bob' the existing Rotur user.
  const stored = await server.app.store.messages.get({ channel: 'general', thread_id: null }, 's2')
  expect([stored?.user, stored?.reply_to, stored?.reactions]).toEqual(['rotur-bob', { id: 's1', user: 'alice' }, { '👍': ['alice', 'rotur-bob'] }])
  expect((await reader.request({ cmd: 'messages_get', channel: 'random' })).messages.map((m: { content: string }) => m.content)).toEqual(['random thought'])
})

/** The latest layout's conversation files: a forum with a thread and its messages, a poll with votes. */
async function conversationFixture(folder: string) {
  const pollEmbed = { type: 'poll', title: 'Pizza?', poll: { question: 'Pizza?', options: [{ id: '0', text: 'Yes' }, { id: '1', text: 'No' }], allow_multiselect: false, expires_at: null } }
  return writeDb(folder, {
    'users.json': json({ 'USR:1': { username: 'Carol', roles: ['user'] }, 'USR:2': { username: 'Ed', roles: ['user'] } }),
    'channels.json': json([
      { name: 'general', type: 'text', permissions: { view: ['user'], send: ['user'] } },
      { name: 'ideas', type: 'forum', permissions: { view: ['user'], send: ['user'], create_thread: ['user'] } },
    ]),
    'channels/general.json': `${jsonLines([{ user: 'USR:1', content: '', timestamp: 1745280100, id: 'p1', embeds: [pollEmbed] }])}\n`,
    'threads/t1.json': json({ id: 't1', name: 'Toppings', parent_channel: 'ideas', created_by: 'USR:1', created_at: 1745280000.5, locked: false, archived: true, participants: ['USR:1', 'USR:2'] }),
    'threads/t2.json': json({ id: 't2', name: 'Lost', parent_channel: 'gone', created_by: 'USR:1', created_at: 1745280001, participants: ['USR:1'] }),
    'threadMessages/t1.jsonl': `${jsonLines([
      { user: 'USR:1', content: 'pineapple?', timestamp: 1745280010, id: 'tm1' },
      { user: 'USR:2', content: 'never', timestamp: 1745280011, id: 'tm2', reply_to: { id: 'tm1', user: 'USR:1' } },
    ])}\n`,
    'polls.json': json({
      poll1: { id: 'poll1', message_id: 'p1', channel: 'general', thread_id: null, question: 'Pizza?', options: [{ id: '0', text: 'Yes', emoji: '🍕' }, { id: '1', text: 'No' }], allow_multiselect: false, expires_at: null, created_by: 'USR:1', created_at: 1745280100, ended: true, ended_at: 1745280200 },
    }),
    'unreads.json': json({ 'USR:2': { general: 'p1', 'thread/t1': 'tm1', 'thread/nope': 'x' } }),
    'poll_votes.json': json({
      poll1: [
        { option_id: '0', user_id: 'USR:1', voted_at: 1745280101 },
        { option_id: '1', user_id: 'USR:2', voted_at: 1745280102 },
      ],
    }),
  })
}

test.concurrent('latest layout: forum threads with their messages, and polls with their votes, come through once', async () => {
  await using server = await startServer()
  const upstream = await conversationFixture(join(root, 'conversation'))
  const report = await importInto(server, upstream)
  expect({ threads: report.threads, polls: report.polls, votes: report.votes, unreads: report.unreads, messages: report.messages, notes: report.notes }).toEqual({
    threads: counts(1, 0),
    polls: counts(1, 0),
    votes: counts(2, 0),
    unreads: counts(2, 1),
    messages: counts(3, 0),
    notes: [`${join(upstream, 'db', 'threads', 't2.json')}: no forum channel named 'gone'; the thread was not imported`],
  })
  const again = await importInto(server, upstream)
  expect({ threads: again.threads, polls: again.polls, votes: again.votes, unreads: again.unreads, messages: again.messages }).toEqual({
    threads: counts(0, 1),
    polls: counts(0, 1),
    votes: counts(0, 2),
    unreads: counts(0, 3),
    messages: counts(0, 3),
  })

  const carol = await server.login('reader')
  expect((await carol.request({ cmd: 'thread_get', thread_id: 't1' })).thread).toEqual({
    id: 't1',
    name: 'Toppings',
    parent_channel: 'ideas',
    created_by: 'Carol',
    created_at: 1745280000.5,
    locked: false,
    archived: true,
    participants: ['Carol', 'Ed'],
    last_message: 1745280011,
    last_message_id: 'tm2',
  })
  const thread = await carol.request({ cmd: 'thread_messages', thread_id: 't1' })
  expect(thread.messages.map((m: { content: string; user: string }) => [m.user, m.content])).toEqual([['Carol', 'pineapple?'], ['Ed', 'never']])
  const results = await carol.request({ cmd: 'poll_results', poll_id: 'poll1' })
  expect(results.results).toMatchObject({
    ended: true,
    ended_at: 1745280200,
    total_votes: 2,
    results: [
      { id: '0', text: 'Yes', emoji: '🍕', votes: 1, voters: ['Carol'] },
      { id: '1', text: 'No', emoji: null, votes: 1, voters: ['Ed'] },
    ],
  })
  expect((await carol.request({ cmd: 'poll_get', message_id: 'p1' })).poll).toMatchObject({ id: 'poll1', channel: 'general', thread_id: null, created_by: 'Carol' })
  // Ed's read positions came along: #general is read, one message of the thread is not.
  const ed = await server.app.store.unreads.count('USR:2', [{ channel: 'general', thread_id: null }, { channel: 'ideas', thread_id: 't1' }])
  expect(ed.map(({ last_read, unread_count }) => [last_read, unread_count])).toEqual([['p1', 0], ['tm1', 1]])
})

test.concurrent('import (and a second server) is refused while a server uses the data folder; a stale lock is ignored', async () => {
  await using server = await startServer()
  // The in-process server holds it: the lock names this very process.
  const refused = await importFolder(seed, server.dir, server.config).catch((error: unknown) => error)
  expect(refused).toBeInstanceOf(DataLockedError)
  expect((refused as DataLockedError).pid).toBe(process.pid)
  // A second server on the same folder is refused too.
  expect(() => createApp({ config: server.config, databasePath: join(server.dir, DATABASE_FILE), port: 0 })).toThrow(DataLockedError)
  await server.app.stop()
  expect(await Bun.file(join(server.dir, LOCK_FILE)).exists()).toBe(false)
  // Another live process (our parent) holding the lock: refused as well.
  await writeFile(join(server.dir, LOCK_FILE), `${process.ppid}\n`)
  expect(await importFolder(seed, server.dir, server.config).catch((error: DataLockedError) => error.pid)).toBe(process.ppid)
  // A lock left by a process that is gone does not count.
  await writeFile(join(server.dir, LOCK_FILE), '2147483646\n')
  expect((await importFolder(seed, server.dir, server.config)).users).toEqual(counts(2, 0))
  expect(await Bun.file(join(server.dir, LOCK_FILE)).exists()).toBe(false)
})

test.concurrent('a folder without OriginChats data is refused before anything is written', async () => {
  const empty = await mkdtemp(join(root, 'empty-'))
  const data = join(empty, 'data')
  await expect(importFolder(empty, data, parseConfig({}))).rejects.toThrow(ImportError)
  expect(await Bun.file(join(data, DATABASE_FILE)).exists()).toBe(false)
})

test.concurrent('the CLI prints counts per kind, names the malformed file and exits 2', async () => {
  const folder = await mkdtemp(join(root, 'cli-'))
  const config = join(folder, 'config.json')
  await writeFile(config, '{}')
  const data = join(folder, 'data')
  const result = await run([process.execPath, 'src/cli.ts', 'import', latest, '--config', config, '--data', data])
  expect(result).toEqual({
    code: 2,
    stdout: [
      `imported ${join(latest, 'db')} into ${join(data, DATABASE_FILE)}`,
      'users     2 imported, 0 skipped (already there)',
      'roles     1 imported, 4 skipped (already there)',
      'channels  3 imported, 1 skipped (already there)',
      'messages  4 imported, 0 skipped (already there)',
      'threads   0 imported, 0 skipped (already there)',
      'polls     0 imported, 0 skipped (already there)',
      'votes     0 imported, 0 skipped (already there)',
      'unreads   0 imported, 0 skipped (already there)',
      'attachments 0 imported, 0 skipped (already there)',
      'emojis    0 imported, 0 skipped (already there)',
      'webhooks  0 imported, 0 skipped (already there)',
      'push      0 imported, 0 skipped (already there)',
      '',
    ].join('\n'),
    stderr: expect.stringMatching(new RegExp(`^skipped malformed file ${join(latest, 'db', 'channels', 'off-topic.json')}: line 2: not valid JSON`)),
  })
  const store = createSqliteStore(join(data, DATABASE_FILE))
  try {
    expect((await store.users.list()).map((user) => user.username)).toEqual(['Carol', 'USR:local_dave'])
  } finally {
    store.close()
  }
})

test('mergeOrder places new names before their upstream successor, existing names keep their order', () => {
  expect(mergeOrder(['general'], ['news', 'general', 'random', 'art'])).toEqual(['news', 'general', 'random', 'art'])
  // A new role never lands above one that upstream ranked higher.
  expect(mergeOrder(['owner', 'admin', 'user', 'local'], ['owner', 'vip', 'user'])).toEqual(['owner', 'admin', 'vip', 'user', 'local'])
  expect(mergeOrder(['a', 'b'], ['b', 'a'])).toEqual(['a', 'b'])
  expect(mergeOrder(['x', 'y'], ['c', 'y', 'l', 'x'])).toEqual(['l', 'x', 'c', 'y'])
})
