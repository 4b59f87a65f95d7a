import { expect, test } from 'bun:test'
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AttachmentFiles } from '../../src/attachments/files.ts'
import { AttachmentService } from '../../src/attachments/service.ts'
import { parseConfig } from '../../src/config/load.ts'
import { createLogger } from '../../src/log.ts'
import { createSqliteStore, DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import type { Store } from '../../src/store/types.ts'
import { png } from '../helpers/attachments.ts'

const HOUR = 3600
const DAY = 86_400
const silent = createLogger(() => ({ level: 'silent', format: 'text' }))

/** A store and service on a temporary data folder, with the clock in the test's hands. */
async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'originchats-attachments-'))
  let now = 1_000_000
  const open = () => {
    const store = createSqliteStore(join(dir, DATABASE_FILE))
    const files = new AttachmentFiles(join(dir, 'attachments'))
    const service = new AttachmentService({ store, files, config: () => parseConfig({}), log: silent, now: () => now })
    return { store, files, service }
  }
  return {
    dir,
    open,
    setNow: (value: number) => (now = value),
    [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }),
  }
}

const save = (service: AttachmentService, n: number, extra: { requestedDays?: number } = {}) =>
  service.save({ bytes: png(n, n), name: `${n}.png`, mimeType: 'image/png', channel: 'general', uploader: { id: 'u1', username: 'alice' }, permanent: false, ...extra })

async function post(store: Store, ids: string[]) {
  const message = await store.messages.insert({ channel: 'general', thread_id: null, user: 'u1', content: '' })
  await store.attachments.reference(ids, message.id)
  return message
}

test('cleanup removes expired, hour-old unreferenced and message-less attachments, by stored times, across a restart', async () => {
  await using env = await setup()
  let { store, service } = env.open()
  const expiring = await save(service, 1, { requestedDays: 1 })
  const used = await save(service, 2)
  const unused = await save(service, 3)
  const orphan = await save(service, 4)
  await post(store, [expiring.id, used.id])
  const orphanMessage = await post(store, [orphan.id])
  await store.messages.delete({ channel: 'general', thread_id: null }, orphanMessage.id)

  // Within the hour: only the attachment whose last message is gone.
  env.setNow(1_000_000 + HOUR / 2)
  expect(await service.cleanup()).toBe(1)
  expect(await store.attachments.get(orphan.id)).toBeUndefined()

  // The server stops; nothing about what is due lives in memory.
  store.close()
  ;({ store, service } = env.open())
  expect(await service.cleanup(1_000_000 + HOUR + 1)).toBe(1)
  expect(await store.attachments.get(unused.id)).toBeUndefined()
  expect(await service.cleanup(1_000_000 + DAY + 1)).toBe(1)
  expect(await store.attachments.get(expiring.id)).toBeUndefined()
  expect(await store.attachments.get(used.id)).toBeDefined()
  expect(await readdir(join(env.dir, 'attachments'))).toEqual([`${used.id}.png`])
  expect(await service.cleanup(1_000_000 + 8 * DAY)).toBe(1)
  expect(await readdir(join(env.dir, 'attachments'))).toEqual([])
  store.close()
})

test('stray files: partial writes and files without rows go once an hour old; fresh ones and foreign names stay', async () => {
  await using env = await setup()
  const { store, service } = env.open()
  const kept = await save(service, 5)
  const folder = join(env.dir, 'attachments')
  const strayId = crypto.randomUUID()
  for (const name of [`${strayId}.png`, `${crypto.randomUUID()}.png.partial`, 'README.txt', `${crypto.randomUUID()}.jpg`]) await writeFile(join(folder, name), 'x')
  const old = new Date(Date.now() - 2 * HOUR * 1000)
  for (const name of [`${strayId}.png`, 'README.txt']) await utimes(join(folder, name), old, old)
  const partial = (await readdir(folder)).find((name) => name.endsWith('.partial'))!
  await utimes(join(folder, partial), old, old)
  expect(await service.removeStrayFiles(Date.now())).toBe(2)
  const left = await readdir(folder)
  expect(left).toContain(`${kept.id}.png`)
  expect(left).toContain('README.txt')
  expect(left).not.toContain(`${strayId}.png`)
  expect(left).not.toContain(partial)
  expect(left).toHaveLength(3)
  store.close()
})

test('a failed insert leaves no file behind; a failed write leaves no row', async () => {
  await using env = await setup()
  const { store, files, service } = env.open()
  const insert = store.attachments.insert
  store.attachments.insert = async () => {
    throw new Error('disk full')
  }
  await expect(save(service, 6)).rejects.toThrow('Failed to save attachment')
  expect(await readdir(join(env.dir, 'attachments'))).toEqual([])
  store.attachments.insert = insert
  files.write = async () => {
    throw new Error('no space')
  }
  await expect(save(service, 7)).rejects.toThrow('Failed to save attachment')
  expect(await store.attachments.usage('u1', 0)).toEqual({ count: 0, bytes: 0 })
  store.close()
})

test('a message listing an upload marks it used in its own insert, so the unused-upload cleanup never takes it', async () => {
  await using env = await setup()
  const { store, service } = env.open()
  const listed = await save(service, 5)
  const view = { id: listed.id, name: listed.original_name }
  await store.messages.insert({ channel: 'general', thread_id: null, user: 'u1', content: 'see', attachments: [view] })
  expect((await store.attachments.get(listed.id))?.referenced).toBe(true)
  // Two hours on: an upload no message listed would be gone by now.
  expect(await service.cleanup(1_000_000 + 2 * HOUR)).toBe(0)
  expect(await store.attachments.get(listed.id)).toBeDefined()
  store.close()
})
