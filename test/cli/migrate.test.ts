import { Database } from 'bun:sqlite'
import { expect, test } from 'bun:test'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, type App } from '../../src/app.ts'
import { COPIED_KINDS, type CopyReport } from '../../src/store/copy/sqlite-to-postgres.ts'
import { migrateToPostgres } from '../../src/store/copy/migrate.ts'
import { DataLockedError } from '../../src/store/lock.ts'
import { preparePostgresStore } from '../../src/store/postgres/index.ts'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import { bearer, httpUrl, pngFile, upload } from '../helpers/attachments.ts'
import { TestClient, type Packet } from '../helpers/client.ts'
import { PNG, dataUri } from '../helpers/images.ts'
import { run } from '../helpers/process.ts'
import { POSTGRES_TEST_URL, freshSchema, storeDrivers } from '../helpers/stores.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

const postgresSkip = storeDrivers.find((d) => d.name === 'postgres')!.skip
// The source is the SQLite database a test server writes; on ORIGINCHATS_TEST_STORAGE=postgres there is none.
const skip = postgresSkip ?? (process.env.ORIGINCHATS_TEST_STORAGE === 'postgres' ? 'migrate tests skipped: they need test servers on SQLite' : undefined)
if (skip && !postgresSkip) console.warn(skip)

const FORUM = { name: 'ideas', type: 'forum', permissions: { view: ['user'], send: ['user'], create_thread: ['user'] } }

interface Filled {
  threadId: string
  pollId: string
  attachmentId: string
  webhookToken: string
}

/** Everything the store keeps, written through a real server on SQLite. */
async function fill(server: TestServer): Promise<Filled> {
  await server.addChannel(FORUM)
  const owner = await server.login('owner')
  const alice = await server.register('alice', 'alice-password')
  const bob = await server.register('bob', 'bob-password')
  const first = await alice.post('hello @bob')
  await bob.post('hi alice', { reply_to: first.id })
  const edited = await alice.post('typo')
  await alice.request({ cmd: 'message_edit', channel: 'general', id: edited.id, content: 'fixed' }, 'message_edit')
  const gone = await bob.post('to delete')
  await bob.request({ cmd: 'message_delete', channel: 'general', id: gone.id }, 'message_delete')
  await owner.request({ cmd: 'message_pin', channel: 'general', id: first.id }, 'message_pin')
  await bob.request({ cmd: 'message_react_add', channel: 'general', id: first.id, emoji: '👍' })
  await owner.request({ cmd: 'message_react_add', channel: 'general', id: first.id, emoji: '👍' })
  await owner.request({ cmd: 'message_react_add', channel: 'general', id: first.id, emoji: '🎉' })
  const { poll_id: pollId } = await alice.request({ cmd: 'poll_create', channel: 'general', question: 'Pizza?', options: ['Yes', 'No'] })
  await bob.request({ cmd: 'poll_vote', poll_id: pollId, option_ids: ['0'] })
  const { thread } = await alice.request({ cmd: 'thread_create', channel: 'ideas', name: 'Toppings' })
  await bob.post('pineapple', { thread_id: thread.id })
  await owner.request({ cmd: 'emoji_add', name: 'wave', image: dataUri(PNG) })
  const { webhook } = await owner.request({ cmd: 'webhook_create', channel: 'general', name: 'CI' })
  const uploaded = await upload(server, pngFile(4, 3), bearer(alice))
  expect(uploaded.status).toBe(201)
  await alice.post('see file', { attachments: [{ id: uploaded.body.attachment.id }] })
  await bob.request({ cmd: 'unreads_ack', channel: 'general', message_id: first.id })
  await Promise.all([owner, alice, bob].map((c) => c.close()))
  return { threadId: thread.id, pollId, attachmentId: uploaded.body.attachment.id, webhookToken: webhook.token }
}

/** What three users see of the server: it must read the same before and after the move. */
async function snapshot(clients: Record<'owner' | 'alice' | 'bob', TestClient>, filled: Filled) {
  const { owner, alice, bob } = clients
  const seen: Record<string, Packet> = {}
  for (const [name, client] of Object.entries(clients)) {
    seen[`${name} general`] = await client.request({ cmd: 'messages_get', channel: 'general' })
    seen[`${name} thread`] = await client.request({ cmd: 'messages_get', thread_id: filled.threadId })
    seen[`${name} unreads`] = await client.request({ cmd: 'unreads_get' })
    seen[`${name} pings`] = await client.request({ cmd: 'pings_get' })
    seen[`${name} poll`] = await client.request({ cmd: 'poll_results', poll_id: filled.pollId })
  }
  seen.pins = await alice.request({ cmd: 'messages_pinned', channel: 'general' }, 'messages_pinned')
  seen.emojis = await bob.request({ cmd: 'emoji_get_all' })
  seen.webhooks = await owner.request({ cmd: 'webhook_list', channel: 'general' })
  seen.attachment = await alice.request({ cmd: 'attachment_get', attachment_id: filled.attachmentId }, 'attachment_info')
  seen.users = await owner.request({ cmd: 'users_list' })
  seen.roles = await owner.request({ cmd: 'roles_list' })
  seen.channels = await owner.request({ cmd: 'channels_get' })
  seen.modlog = await owner.request({ cmd: 'modlog_get' })
  return seen
}

async function signIn(url: string, server: TestServer) {
  const owner = await TestClient.connect(url)
  owner.send({ cmd: 'auth', validator: server.rotur.issue('owner', owner.handshake.val.validator_key) })
  await owner.next('ready')
  const local = async (name: string) => {
    const client = await TestClient.connect(url)
    client.send({ cmd: 'login', username: name, password: `${name}-password` })
    await client.next('ready')
    return client
  }
  return { owner, alice: await local('alice'), bob: await local('bob') }
}

const copiedAll = (report: CopyReport) => Object.fromEntries(COPIED_KINDS.map((kind) => [kind, report[kind]!.copied + report[kind]!.skipped]))

test.skipIf(skip !== undefined)('migrate copies a SQLite data folder into PostgreSQL: a server on it shows the same, and a second run adds nothing', async () => {
  const server = await startServer()
  const { schema, drop } = await freshSchema()
  let pgApp: App | undefined
  try {
    const filled = await fill(server)
    // Refused while the server holds the data folder.
    await expect(migrateToPostgres({ dataDir: server.dir, url: POSTGRES_TEST_URL, schema })).rejects.toBeInstanceOf(DataLockedError)

    const before = await signIn(server.url, server)
    const expected = await snapshot(before, filled)
    await Promise.all(Object.values(before).map((c) => c.close()))
    // What the comparison below covers, as the SQLite server showed it.
    const [hello] = expected['bob general']!.messages
    expect(hello).toMatchObject({ content: 'hello @bob', pinned: true, reactions: { '👍': ['USR:local_bob', 'owner'], '🎉': ['owner'] } })
    expect(expected['bob general']!.messages.find((m: Packet) => m.content === 'fixed').edited).toBe(true)
    expect(expected['bob poll']!.results.total_votes).toBe(1)
    expect(expected['bob pings']!.total).toBe(1)
    expect(expected['alice thread']!.messages.map((m: Packet) => m.content)).toEqual(['pineapple'])
    await server.app.stop()

    const report = await migrateToPostgres({ dataDir: server.dir, url: POSTGRES_TEST_URL, schema })
    expect(Object.values(report).every((c) => c.skipped === 0)).toBe(true)
    expect(report.users!.copied).toBe(3)
    expect(report.messages!.copied).toBe(6)
    expect(report.reactions!.copied).toBe(3)
    expect(report.threads!.copied).toBe(1)
    expect(report.polls!.copied).toBe(1)
    expect(report.votes!.copied).toBe(1)
    expect(report.emojis!.copied).toBe(1)
    expect(report.webhooks!.copied).toBe(1)
    expect(report.attachments!.copied).toBe(1)
    expect(report.deletions!.copied).toBe(1)
    expect(report.unreads!.copied).toBeGreaterThan(0)
    expect(report.pings!.copied).toBeGreaterThan(0)
    expect(report.modlog!.copied).toBeGreaterThan(0)

    const again = await migrateToPostgres({ dataDir: server.dir, url: POSTGRES_TEST_URL, schema })
    expect(Object.values(again).every((c) => c.copied === 0)).toBe(true)
    expect(copiedAll(again)).toEqual(copiedAll(report))

    pgApp = createApp({
      config: server.config,
      databasePath: join(server.dir, DATABASE_FILE),
      port: 0,
      store: await preparePostgresStore({ url: POSTGRES_TEST_URL, schema, max: 4 }),
    })
    const after = await signIn(pgApp.url, server)
    expect(await snapshot(after, filled)).toEqual(expected)

    // The same passwords only.
    const intruder = await TestClient.connect(pgApp.url)
    intruder.send({ cmd: 'login', username: 'alice', password: 'wrong-password' })
    expect((await intruder.next('auth_error')).cmd).toBe('auth_error')
    await intruder.close()

    // The webhook's token still posts; the emoji ID counter carries on after the copied ones.
    const hook = await fetch(`${httpUrl({ url: pgApp.url } as TestServer, '/webhooks')}?token=${encodeURIComponent(filled.webhookToken)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ content: 'from CI' }),
    })
    expect(hook.status).toBe(204)
    expect((await after.bob.next('message_new', (p) => p.message.content === 'from CI')).message.webhook.name).toBe('CI')
    expect((await after.owner.request({ cmd: 'emoji_add', name: 'second', image: dataUri(PNG) })).id).toBe('1')

    // New messages take the next ordinals: bob's unread count grows by one.
    const unread = (packet: Packet) => packet.unreads.general.unread_count
    const countBefore = unread(expected['bob unreads']!)
    await after.alice.post('after the move')
    expect(unread(await after.bob.request({ cmd: 'unreads_get' }))).toBe(countBefore + 2)
    await Promise.all(Object.values(after).map((c) => c.close()))
  } finally {
    await pgApp?.stop()
    await server.rotur.stop()
    await rm(server.dir, { recursive: true, force: true })
    await drop()
  }
})

test.skipIf(skip !== undefined)('originchats migrate prints its counts, says where the files stay, and refuses without a target', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'originchats-migrate-'))
  const { schema, drop } = await freshSchema()
  try {
    const server = await startServer()
    await server.register('carol', 'carol-password')
    await server.app.stop()
    const data = server.dir
    const config = join(dir, 'config.json')
    // A password, which the output must not show (the test server trusts loopback, so any does).
    const url = new URL(POSTGRES_TEST_URL)
    url.password ||= 'hunter2'
    url.search = `?options=-c%20search_path%3D${schema}%2Cpublic`
    await writeFile(config, JSON.stringify({ storage: { url: url.href } }))

    const usage = await run([process.execPath, 'src/cli.ts', 'migrate', '--config', config, '--data', data])
    expect(usage).toMatchObject({ code: 1, stdout: '' })
    expect(usage.stderr).toStartWith('usage: originchats migrate --to postgres')

    const done = await run([process.execPath, 'src/cli.ts', 'migrate', '--to', 'postgres', '--config', config, '--data', data])
    expect(done.stderr).toBe('')
    expect(done.code).toBe(0)
    expect(done.stdout).toContain('users           1 copied, 0 skipped (already there)\n')
    expect(done.stdout).toContain(`note: files stay in ${data} (attachments/, emojis/, serverAssets/, vapid/)`)
    expect(done.stdout).not.toContain(url.password)

    const twice = await run([process.execPath, 'src/cli.ts', 'migrate', '--to', 'postgres', '--config', config, '--data', data])
    expect(twice.stdout).toContain('users           0 copied, 1 skipped (already there)\n')

    // A database from a newer binary: one line, nothing copied.
    const future = new Database(join(data, DATABASE_FILE))
    future.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)")
    future.close()
    const newer = await run([process.execPath, 'src/cli.ts', 'migrate', '--to', 'postgres', '--config', config, '--data', data])
    expect(newer).toMatchObject({ code: 1, stdout: '' })
    expect(newer.stderr).toStartWith(`originchats: ${join(data, DATABASE_FILE)} has database schema version 999, but this originchats knows versions up to `)

    const none = await run([process.execPath, 'src/cli.ts', 'migrate', '--to', 'postgres', '--data', join(dir, 'empty')])
    expect(none.code).toBe(1)
    await server.rotur.stop()
    await rm(data, { recursive: true, force: true })
  } finally {
    await rm(dir, { recursive: true, force: true })
    await drop()
  }
})
