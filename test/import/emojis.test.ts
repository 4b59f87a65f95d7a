import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { importFolder } from '../../src/cli/import.ts'
import { GIF, HTML, JPEG, PNG, WEBP } from '../helpers/images.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

let root = ''

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'originchats-import-emojis-'))
})

afterAll(async () => {
  await rm(root, { recursive: true, force: true })
})

/** An upstream data folder with `channels.json` (so it is recognised), serverEmojis.json and images. */
async function upstreamWith(name: string, index: unknown, images: Record<string, Uint8Array>) {
  const db = join(root, name, 'db')
  await mkdir(join(db, 'serverEmojis'), { recursive: true })
  await writeFile(join(db, 'channels.json'), '[]')
  await writeFile(join(db, 'serverEmojis.json'), typeof index === 'string' ? index : JSON.stringify(index))
  for (const [file, bytes] of Object.entries(images)) await writeFile(join(db, 'serverEmojis', file), bytes)
  return join(root, name)
}

async function importInto(server: TestServer, upstream: string) {
  await server.app.stop()
  const report = await importFolder(upstream, server.dir, server.config)
  await server.restart()
  return report
}

const httpUrl = (server: TestServer, path: string) => new URL(path, server.url.replace(/^ws/, 'http')).href

test.concurrent('serverEmojis.json and its images come through with their IDs, bad entries are reported, and a second run adds nothing', async () => {
  const upstream = await upstreamWith(
    'latest',
    {
      '0': { name: 'wave', fileName: '0.gif' },
      '3': { name: 'photo', fileName: '3.jpg' },
      '4': { name: 'bad/name', fileName: '4.png' },
      '5': { name: 'liar', fileName: '5.png' },
      '6': { name: 'page', fileName: '6.png' },
      '7': { name: 'missing', fileName: '7.png' },
      '8': { name: 'escape', fileName: '../../users.json' },
      '9': { name: 'webp', fileName: '9.webp' },
      x: { name: 'odd', fileName: 'x.png' },
      '10': { name: 'WAVE', fileName: '10.png' },
    },
    { '0.gif': GIF, '3.jpg': JPEG, '4.png': PNG, '5.png': GIF, '6.png': HTML, '9.webp': WEBP, '10.png': PNG },
  )
  await using server = await startServer()
  const report = await importInto(server, upstream)
  const db = join(upstream, 'db')
  expect(report.emojis).toEqual({ imported: 2, skipped: 1 })
  expect(report.invalid).toEqual([
    { path: join(db, 'serverEmojis.json#4'), reason: 'bad name "bad/name" (1-64 letters, digits or underscores)' },
    { path: join(db, 'serverEmojis', '5.png'), reason: 'a gif image named .png' },
    { path: join(db, 'serverEmojis', '6.png'), reason: 'not a PNG, GIF, JPEG or WebP image' },
    { path: join(db, 'serverEmojis', '7.png'), reason: 'the image file is missing' },
    { path: join(db, 'serverEmojis', '../../users.json'), reason: 'bad file name "../../users.json"' },
    { path: join(db, 'serverEmojis', '9.webp'), reason: 'webp is not in uploads.emoji_allowed_file_types' },
    { path: join(db, 'serverEmojis.json#x'), reason: 'the ID is not a decimal number' },
  ])
  expect(report.notes).toEqual([`${join(db, 'serverEmojis.json')}#10: not imported, an emoji named 'WAVE' exists`])

  const owner = await server.login('owner')
  expect((await owner.request({ cmd: 'emoji_get_all' })).emojis).toEqual({ '0': { name: 'wave', fileName: '0.gif' }, '3': { name: 'photo', fileName: '3.jpg' } })
  const served = await fetch(httpUrl(server, '/emojis/3.jpg'))
  expect(served.headers.get('content-type')).toBe('image/jpeg')
  expect(Buffer.from(await served.arrayBuffer())).toEqual(JPEG)
  // New emojis continue after the highest imported ID.
  expect(await owner.request({ cmd: 'emoji_add', name: 'fresh', image: `data:image/png;base64,${PNG.toString('base64')}` })).toMatchObject({ id: '4' })

  const again = await importInto(server, upstream)
  expect(again.emojis).toEqual({ imported: 0, skipped: 3 })
  const owner2 = await server.login('owner')
  expect(Object.keys((await owner2.request({ cmd: 'emoji_get_all' })).emojis)).toEqual(['0', '3', '4'])
})

test.concurrent('a malformed serverEmojis.json is skipped as a whole', async () => {
  const upstream = await upstreamWith('broken', '["not", "an", "object"]', {})
  await using server = await startServer()
  const report = await importInto(server, upstream)
  expect(report.emojis).toEqual({ imported: 0, skipped: 0 })
  expect(report.invalid).toEqual([{ path: join(upstream, 'db', 'serverEmojis.json'), reason: 'expected an object of emojis keyed by ID' }])
})

test.concurrent('the size and count limits apply to imports too', async () => {
  const upstream = await upstreamWith('limits', { '0': { name: 'a', fileName: '0.png' }, '1': { name: 'b', fileName: '1.png' }, '2': { name: 'big', fileName: '2.png' } }, {
    '0.png': PNG,
    '1.png': PNG,
    '2.png': Buffer.concat([PNG, Buffer.alloc(1)]),
  })
  await using server = await startServer({ uploads: { emoji_max_size: PNG.length, emoji_max_count: 1 } })
  const report = await importInto(server, upstream)
  expect(report.emojis).toEqual({ imported: 1, skipped: 1 })
  expect(report.invalid).toEqual([{ path: join(upstream, 'db', 'serverEmojis', '2.png'), reason: `${PNG.length + 1} bytes, more than uploads.emoji_max_size (${PNG.length})` }])
  expect(report.notes).toEqual([`${join(upstream, 'db', 'serverEmojis.json')}#1: not imported, the server already holds uploads.emoji_max_count (1) emojis`])
})
