import { describe, expect, test } from 'bun:test'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { bearer, httpUrl, pngFile, roturCredentials, upload } from '../helpers/attachments.ts'
import type { Packet, TestClient } from '../helpers/client.ts'
import { LogRecorder } from '../helpers/log.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

type Local = TestClient & { ready: Packet }

/** Uploads a distinct PNG (sized `n`×`n`) as `client`'s local account; returns the client attachment object. */
async function uploaded(server: TestServer, client: Local, n: number, extra: Record<string, unknown> = {}) {
  const answer = await upload(server, pngFile(n, n, extra), bearer(client))
  expect(answer.status).toBe(201)
  return answer.body.attachment
}

/** The stored upload files (a cluster's nodes also leave hidden marker files there). */
const files = async (server: TestServer) => (await readdir(join(server.dir, 'attachments'))).filter((name) => !name.startsWith('.originchats-node-'))
const status = async (server: TestServer, id: string) => (await fetch(httpUrl(server, `/attachments/${id}`))).status

describe('message_new with attachments', () => {
  test.concurrent('the message carries full attachment objects to everyone in the channel; content may be empty', async () => {
    await using server = await startServer({ server: { url: 'https://chat.example.com' } })
    const bob = await server.register('bob')
    const alice = await server.login('alice')
    const attachment = await uploaded(server, bob, 3)
    const posted = await bob.post('', { attachments: [{ id: attachment.id }] })
    expect(posted).toMatchObject({ user: 'USR:local_bob', content: '', attachments: [attachment] })
    expect(attachment.url).toBe(`https://chat.example.com/attachments/${attachment.id}`)
    const heard = await alice.next('message_new')
    expect(heard.message.attachments).toEqual([attachment])

    // History, message_get and the download all agree.
    const history = await alice.request({ cmd: 'messages_get', channel: 'general' })
    expect(history.messages.at(-1).attachments).toEqual([attachment])
    const single = await alice.request({ cmd: 'message_get', channel: 'general', id: posted.id })
    expect(single.message.attachments).toEqual([attachment])
    expect(await status(server, attachment.id)).toBe(200)
  })

  test.concurrent("commands.md §3.1 check 10: each refusal, exactly; someone else's upload is refused", async () => {
    await using server = await startServer()
    const bob = await server.register('bob')
    const carol = await server.register('carol')
    const carols = await uploaded(server, carol, 4)
    const send = (attachments: unknown, content = 'hi') => bob.error({ cmd: 'message_new', channel: 'general', content, attachments })
    const error = (val: string) => ({ cmd: 'error', src: 'message_new', val })
    expect(await send('nope')).toEqual(error('Attachments must be an array'))
    expect(await send(['x'])).toEqual(error('Each attachment must be an object'))
    expect(await send([{}])).toEqual(error('Attachment ID is required'))
    expect(await send([{ id: 'missing' }])).toEqual(error('Attachment missing not found or expired'))
    expect(await send([{ id: carols.id }])).toEqual(error('You can only attach your own uploads'))
    // Nothing was posted by any of those.
    await carol.expectNone('message_new')
  })

  test.concurrent('with attachments disabled, a listed attachment is refused', async () => {
    await using server = await startServer({ attachments: { enabled: false } })
    const bob = await server.register('bob')
    expect(await bob.error({ cmd: 'message_new', channel: 'general', content: 'hi', attachments: [{ id: 'x' }] })).toEqual({
      cmd: 'error',
      src: 'message_new',
      val: 'Attachments are disabled',
    })
  })

  test.concurrent('in a thread: the thread history carries the attachment', async () => {
    await using server = await startServer()
    await server.addChannel({ name: 'ideas', type: 'forum', permissions: { view: ['user'], send: ['user'], create_thread: ['user'] } })
    const bob = await server.register('bob')
    const thread = (await bob.request({ cmd: 'thread_create', channel: 'ideas', name: 'pics' })).thread
    const attachment = await uploaded(server, bob, 5, { channel: 'ideas' })
    await bob.post('look', { thread_id: thread.id, attachments: [{ id: attachment.id }] })
    const history = await bob.request({ cmd: 'messages_get', thread_id: thread.id })
    expect(history.messages.at(-1).attachments).toEqual([attachment])
  })

  test.concurrent('deleting the message deletes its attachments (row and file); a channel deletion takes them too', async () => {
    const recorder = new LogRecorder()
    await using server = await startServer({}, recorder.log)
    await server.addChannel({ name: 'scratch', type: 'text', permissions: { view: ['user'], send: ['user'] } })
    const bob = await server.register('bob')
    const owner = await server.login('owner')
    const gone = await uploaded(server, bob, 6)
    const kept = await uploaded(server, bob, 7)
    const posted = await bob.post('bye', { attachments: [{ id: gone.id }] })
    await bob.post('stay', { attachments: [{ id: kept.id }] })
    await bob.request({ cmd: 'message_delete', channel: 'general', id: posted.id })
    expect(await status(server, gone.id)).toBe(404)
    expect(await status(server, kept.id)).toBe(200)
    expect(await files(server)).toEqual([`${kept.id}.png`])

    const scratch = await uploaded(server, bob, 8, { channel: 'scratch' })
    await bob.post('here', { channel: 'scratch', attachments: [{ id: scratch.id }] })
    await owner.request({ cmd: 'channel_delete', name: 'scratch' })
    // The deletion queued a cleanup pass beside the server: wait for its report.
    await recorder.waitFor(/attachment cleanup removed 1 attachment/)
    expect(await server.app.store.attachments.get(scratch.id)).toBeUndefined()
    expect(await status(server, scratch.id)).toBe(404)
  })
})

describe('attachment_get and attachment_delete', () => {
  test.concurrent('attachment_get answers attachment_info to anyone authenticated; errors exactly', async () => {
    await using server = await startServer()
    const bob = await server.register('bob')
    const alice = await server.login('alice')
    const attachment = await uploaded(server, bob, 3)
    expect(await alice.request({ cmd: 'attachment_get', attachment_id: ` ${attachment.id} ` }, 'attachment_info')).toEqual({ cmd: 'attachment_info', attachment })
    expect(await alice.error({ cmd: 'attachment_get', attachment_id: 'nope' })).toEqual({ cmd: 'error', src: 'attachment_get', val: 'Attachment not found or expired' })
    expect((await alice.error({ cmd: 'attachment_get' })).val).toStartWith('Invalid attachment_get command: ')
    expect((await alice.error({ cmd: 'attachment_get', attachment_id: 5 })).val).toStartWith('Invalid attachment_get command: ')
    const guest = await server.connect()
    expect(await guest.request({ cmd: 'attachment_get', attachment_id: attachment.id }, 'auth_error')).toEqual({ cmd: 'auth_error', val: 'Authentication required' })
  })

  test.concurrent('attachment_delete: the uploader, or an owner/admin by current roles; others refused; the file goes', async () => {
    await using server = await startServer()
    const bob = await server.register('bob')
    const carol = await server.register('carol')
    const mine = await uploaded(server, bob, 3)
    const other = await uploaded(server, bob, 4)
    expect(await carol.error({ cmd: 'attachment_delete', attachment_id: mine.id })).toEqual({
      cmd: 'error',
      src: 'attachment_delete',
      val: 'You can only delete your own attachments',
    })
    expect(await bob.request({ cmd: 'attachment_delete', attachment_id: mine.id }, 'attachment_deleted')).toEqual({
      cmd: 'attachment_deleted',
      attachment_id: mine.id,
      deleted: true,
    })
    expect(await status(server, mine.id)).toBe(404)
    expect(await files(server)).toEqual([`${other.id}.png`])
    expect(await bob.error({ cmd: 'attachment_delete', attachment_id: mine.id })).toEqual({ cmd: 'error', src: 'attachment_delete', val: 'Attachment not found' })
    // Made admin after signing in: the current roles count (upstream used the login-time ones).
    await server.setRoles('USR:local_carol', ['admin', 'user'])
    expect((await carol.request({ cmd: 'attachment_delete', attachment_id: other.id }, 'attachment_deleted')).deleted).toBe(true)
    expect(await files(server)).toEqual([])
    expect((await carol.error({ cmd: 'attachment_delete', attachment_id: [] })).val).toStartWith('Invalid attachment_delete command: ')
  })

  test.concurrent('upload, post and restart: the download, attachment_get and history still work', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const answer = await upload(server, { ...roturCredentials(server, alice, 'alice'), ...pngFile(12, 34) })
    const attachment = answer.body.attachment
    await alice.post('kept', { attachments: [{ id: attachment.id }] })
    await server.restart()
    const again = await server.login('alice')
    expect(await again.request({ cmd: 'attachment_get', attachment_id: attachment.id }, 'attachment_info')).toEqual({ cmd: 'attachment_info', attachment })
    const history = await again.request({ cmd: 'messages_get', channel: 'general' })
    expect(history.messages.at(-1).attachments).toEqual([attachment])
    const download = await fetch(httpUrl(server, `/attachments/${attachment.id}`))
    expect([download.status, download.headers.get('content-type')]).toEqual([200, 'image/png'])
  })
})
