import { expect, test } from 'bun:test'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { importFolder } from '../../src/cli/import.ts'
import { httpUrl, png } from '../helpers/attachments.ts'
import { startServer } from '../helpers/server.ts'

const DAY = 86_400
const LIVE = crypto.randomUUID()
const EXPIRED = crypto.randomUUID()
const MISSING = crypto.randomUUID()

/** An upstream data folder (data.md §16) with attachments.json, the files, and a message that lists one. */
async function upstreamFolder(root: string) {
  const now = Date.now() / 1000
  const db = join(root, 'db')
  await mkdir(join(db, 'channels'), { recursive: true })
  await mkdir(join(db, 'attachments'), { recursive: true })
  const stored = (id: string, extra: Record<string, unknown>) => ({
    id, filename: `${id}.png`, original_name: 'cat.png', mime_type: 'image/png', size: 33, hash: 'x', uploader_id: 'USR:1',
    uploader_name: 'Carol', channel: 'general', created_at: now - DAY, expires_at: now + 3 * DAY, permanent: false, referenced: true, width: 7, height: 9, ...extra,
  })
  await writeFile(join(db, 'users.json'), JSON.stringify({ 'USR:1': { username: 'Carol', roles: ['user'] } }))
  await writeFile(join(db, 'channels.json'), JSON.stringify([{ name: 'pics', type: 'text', permissions: { view: ['user'], send: ['user'], delete: ['owner'] } }]))
  const attachment = { id: LIVE, name: 'cat.png', mime_type: 'image/png', size: 33, url: `/attachments/${LIVE}`, expires_at: now + 3 * DAY, permanent: false, width: 7, height: 9 }
  await writeFile(join(db, 'channels', 'pics.json'), JSON.stringify({ user: 'USR:1', content: '', timestamp: now - DAY, id: 'm-1', attachments: [attachment] }))
  await writeFile(
    join(db, 'attachments.json'),
    JSON.stringify({
      [LIVE]: stored(LIVE, {}),
      [EXPIRED]: stored(EXPIRED, { expires_at: now - 60 }),
      [MISSING]: stored(MISSING, {}),
      '../../escape': stored(LIVE, { filename: '../../../etc/passwd' }),
    }),
  )
  await writeFile(join(db, 'attachments', `${LIVE}.png`), png(7, 9))
  await writeFile(join(db, 'attachments', `${EXPIRED}.png`), png(1, 1))
  return { root, attachment }
}

test('import brings unexpired attachments with their files, links them to their messages, and is idempotent', async () => {
  const root = await mkdtemp(join(tmpdir(), 'originchats-import-attachments-'))
  try {
    const { attachment } = await upstreamFolder(root)
    await using server = await startServer()
    await server.app.stop()
    const first = await importFolder(root, server.dir, server.config)
    expect(first.attachments).toEqual({ imported: 1, skipped: 0 })
    expect(first.notes).toEqual(
      expect.arrayContaining([
        `attachment ${EXPIRED}: not imported, it has expired`,
        `attachment ${MISSING}: not imported, no file ${join(root, 'db', 'attachments', `${MISSING}.png`)}`,
        'attachment ../../escape: not imported, its ID is not a UUID',
      ]),
    )
    const again = await importFolder(root, server.dir, server.config)
    expect(again.attachments).toEqual({ imported: 0, skipped: 1 })
    expect(await readdir(join(server.dir, 'attachments'))).toEqual([`${LIVE}.png`])

    await server.restart()
    const download = await fetch(httpUrl(server, `/attachments/${LIVE}`))
    expect([download.status, download.headers.get('content-type')]).toEqual([200, 'image/png'])
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(png(7, 9))
    const alice = await server.login('alice')
    const info = await alice.request({ cmd: 'attachment_get', attachment_id: LIVE }, 'attachment_info')
    expect(info.attachment).toEqual({ ...attachment, expires_at: expect.any(Number) })
    const history = await alice.request({ cmd: 'messages_get', channel: 'pics' })
    expect(history.messages[0].attachments).toEqual([attachment])

    // Linked to its message: deleting the message (as the owner) deletes the attachment.
    const owner = await server.login('owner')
    await owner.request({ cmd: 'message_delete', channel: 'pics', id: 'm-1' })
    expect((await fetch(httpUrl(server, `/attachments/${LIVE}`))).status).toBe(404)
  } finally {
    await rm(root, { recursive: true, force: true })
  }
})
