import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { importFolder } from '../../src/cli/import.ts'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let root = ''
const TOKEN = 'b6a1f0c2-5d7e-4f3a-9c1b-2e8d4a6f0b13c4d5e6f7a8b94c0d8e1f2a3b4c5d6e7f80'
const ORPHAN_TOKEN = '11111111-2222-4333-8444-555555555555aaaaaaaabbbbccccddddeeeeffff0000'

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'originchats-import-webhooks-'))
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

async function upstream(name: string, files: Record<string, unknown>) {
  const folder = join(root, name)
  await mkdir(join(folder, 'db'), { recursive: true })
  for (const [file, value] of Object.entries(files)) await writeFile(join(folder, 'db', file), typeof value === 'string' ? value : JSON.stringify(value, null, 2))
  return folder
}

/** An upstream server with a webhook on #builds, one on a forum and one whose channel is gone. */
const LATEST = {
  'users.json': { 'USR:9': { username: 'Carol', roles: ['owner', 'user'] } },
  'channels.json': [
    { name: 'general', type: 'text', permissions: { view: ['user'], send: ['user'] } },
    { name: 'builds', type: 'text', permissions: { view: ['user'], send: ['user'] } },
    { name: 'ideas', type: 'forum', permissions: { view: ['user'] } },
  ],
  'webhooks.json': {
    'wh-1': { id: 'wh-1', channel: 'builds', name: 'CI', token: TOKEN, created_by: 'USR:9', created_at: 1745280000.2, avatar: 'https://img.example/ci.png' },
    'wh-2': { id: 'wh-2', channel: 'ideas', name: 'Forum hook', token: ORPHAN_TOKEN.replace('0000', '1111'), created_by: 'USR:9', created_at: 1745280001 },
    'wh-3': { id: 'wh-3', channel: 'gone', name: 'Old', token: ORPHAN_TOKEN, created_by: 'USR:9', created_at: 1745280002, avatar: null },
  },
}

async function importInto(server: TestServer, folder: string) {
  await server.app.stop()
  const report = await importFolder(folder, server.dir, server.config)
  await server.restart()
  return report
}

const httpUrl = (server: TestServer, path: string) => new URL(path, server.url.replace(/^ws/, 'http')).href
const post = (server: TestServer, token: string, content: string) =>
  fetch(httpUrl(server, `/webhooks?token=${token}`), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ content }) })

test.concurrent('upstream webhooks come through once, keep their tokens working, and are stored hashed', async () => {
  await using server = await startServer()
  const folder = await upstream('latest', LATEST)
  const report = await importInto(server, folder)
  expect({ webhooks: report.webhooks, notes: report.notes, invalid: report.invalid }).toEqual({
    webhooks: { imported: 1, skipped: 2 },
    notes: ["webhook wh-2: no text channel named 'ideas'; it was not imported", "webhook wh-3: no text channel named 'gone'; it was not imported"],
    invalid: [],
  })
  const again = await importInto(server, folder)
  expect(again.webhooks).toEqual({ imported: 0, skipped: 3 })

  const owner = await server.login('owner')
  expect(await owner.request({ cmd: 'webhook_list' })).toEqual({
    cmd: 'webhook_list',
    webhooks: [{ id: 'wh-1', channel: 'builds', name: 'CI', created_by: 'USR:9', created_at: 1745280000.2, avatar: 'https://img.example/ci.png' }],
  })

  // The integration keeps posting with the URL it was given upstream.
  expect((await post(server, TOKEN, 'deployed')).status).toBe(204)
  expect((await owner.next('message_new')).message).toMatchObject({
    user: 'originChats',
    content: 'deployed',
    webhook: { id: 'wh-1', name: 'CI', avatar: 'https://img.example/ci.png' },
  })
  expect((await post(server, ORPHAN_TOKEN, 'nowhere')).status).toBe(401)

  await server.app.stop()
  // The database and its write-ahead log, whichever holds the row.
  const path = join(server.dir, DATABASE_FILE)
  const files = await Promise.all([path, `${path}-wal`].map((file) => readFile(file).catch(() => Buffer.alloc(0))))
  const bytes = Buffer.concat(files).toString('latin1')
  expect({ token: bytes.includes(TOKEN), digest: bytes.includes(new Bun.CryptoHasher('sha256').update(TOKEN).digest('hex')) }).toEqual({ token: false, digest: true })
  await server.restart()
})

test.concurrent('a malformed webhooks.json is reported and skipped as a whole', async () => {
  await using server = await startServer()
  const folder = await upstream('malformed', {
    ...LATEST,
    'webhooks.json': { 'wh-1': LATEST['webhooks.json']['wh-1'], 'wh-4': { channel: 'builds', name: 'No token' } },
  })
  const report = await importInto(server, folder)
  expect(report.webhooks).toEqual({ imported: 0, skipped: 0 })
  expect(report.invalid).toEqual([{ path: join(folder, 'db', 'webhooks.json'), reason: expect.stringContaining('/wh-4/token') }])
  expect((await post(server, TOKEN, 'x')).status).toBe(401)
})
