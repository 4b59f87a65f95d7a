import { describe, expect, test } from 'bun:test'
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { bearer, dataUri, httpUrl, png, pngFile, roturCredentials, upload } from '../helpers/attachments.ts'
import { startServer } from '../helpers/server.ts'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const DAY = 86_400

describe('POST /attachments/upload', () => {
  test.concurrent('a Rotur user on a live connection uploads; 201 with the client object, file named by id', async () => {
    await using server = await startServer({ server: { url: 'https://chat.example.com/' } })
    const alice = await server.login('alice')
    const before = Date.now() / 1000
    const answer = await upload(server, { ...roturCredentials(server, alice, 'alice'), ...pngFile(800, 600) })
    expect(answer.status).toBe(201)
    expect(answer.headers.get('access-control-allow-origin')).toBe('*')
    const { attachment } = answer.body
    expect(answer.body).toEqual({
      attachment: {
        id: expect.stringMatching(UUID),
        name: 'shot.png',
        mime_type: 'image/png',
        size: 33,
        url: `https://chat.example.com/attachments/${attachment.id}`,
        expires_at: expect.any(Number),
        permanent: false,
        width: 800,
        height: 600,
      },
      permanent: false,
    })
    // Small files get 49 days, capped at free_tier_max_expiration_days (7).
    expect(attachment.expires_at - before).toBeGreaterThan(7 * DAY - 60)
    expect(attachment.expires_at - before).toBeLessThanOrEqual(7 * DAY + 60)
    expect(await readdir(join(server.dir, 'attachments'))).toEqual([`${attachment.id}.png`])
  })

  test.concurrent('a local account uploads with Authorization: Bearer <ready.validator> while connected', async () => {
    await using server = await startServer()
    const bob = await server.register('bob')
    const answer = await upload(server, pngFile(5, 5), bearer(bob))
    expect(answer.status).toBe(201)
    expect(answer.body.attachment.url).toBe(`/attachments/${answer.body.attachment.id}`)
    // Once bob's last connection closes, the same token no longer works.
    await bob.close()
    expect(await upload(server, pngFile(6, 6), bearer(bob))).toMatchObject({ status: 401, body: { error: 'Invalid credentials' } })
    expect((await upload(server, pngFile(6, 6), { Authorization: 'Bearer not-a-validator' })).status).toBe(401)
  })

  test.concurrent("a validator minted for another user's connection, or for no live connection, is refused", async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    await server.login('mallory')
    // Rotur vouches that mallory holds this validator, but the key is alice's connection.
    const stolen = { validator_key: alice.handshake.val.validator_key, validator: server.rotur.issue('mallory', alice.handshake.val.validator_key) }
    expect(await upload(server, { ...stolen, ...pngFile() })).toMatchObject({ status: 401, body: { error: 'Invalid credentials' } })
    // A key no connection was handed (upstream accepted any key Rotur signed for).
    const made = { validator_key: 'originChats-invented', validator: server.rotur.issue('alice', 'originChats-invented') }
    expect(await upload(server, { ...made, ...pngFile() })).toMatchObject({ status: 401, body: { error: 'Invalid credentials' } })
    // An unauthenticated connection's key does not vouch either.
    const guest = await server.connect()
    const unauthenticated = { validator_key: guest.handshake.val.validator_key, validator: server.rotur.issue('alice', guest.handshake.val.validator_key) }
    expect(await upload(server, { ...unauthenticated, ...pngFile() })).toMatchObject({ status: 401, body: { error: 'Invalid credentials' } })
    // The real thing still works.
    expect((await upload(server, { ...roturCredentials(server, alice, 'alice'), ...pngFile() })).status).toBe(201)
  })

  test.concurrent("every refusal of http.md's table, with its status and body", async () => {
    await using server = await startServer({ attachments: { max_size: 4096, uploads_per_minute: 0 } })
    await server.addChannel({ name: 'readonly', type: 'text', permissions: { view: ['user'], send: ['owner'] } })
    const alice = await server.login('alice')
    const creds = () => roturCredentials(server, alice, 'alice')
    const url = httpUrl(server, '/attachments/upload')

    const wrongType = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' })
    expect([wrongType.status, await wrongType.json()]).toEqual([415, { error: 'Content-Type must be application/json' }])
    // Prefix match: a charset parameter is fine.
    expect((await upload(server, { ...creds(), ...pngFile() }, { 'Content-Type': 'application/json; charset=utf-8' })).status).toBe(201)
    expect(await upload(server, '{"validator_key": ')).toMatchObject({ status: 400, body: { error: 'Invalid JSON body' } })
    expect(await upload(server, pngFile())).toMatchObject({ status: 401, body: { error: 'validator_key and validator are required for authentication' } })
    expect(await upload(server, { validator_key: 'k', validator: 'bogus', ...pngFile() })).toMatchObject({ status: 401, body: { error: 'Invalid credentials' } })
    server.rotur.answer('no-id', { valid: true, username: 'alice' })
    expect(await upload(server, { validator_key: 'k', validator: 'no-id', ...pngFile() })).toMatchObject({
      status: 401,
      body: { error: 'User ID not found in authentication response' },
    })
    server.rotur.answer('ghost', { valid: true, id: 'rotur-ghost', username: 'ghost' })
    expect(await upload(server, { validator_key: 'k', validator: 'ghost', ...pngFile() })).toMatchObject({ status: 401, body: { error: 'User not found' } })
    for (const missing of ['file', 'name', 'mime_type', 'channel']) {
      const fields: Record<string, unknown> = { ...creds(), ...pngFile() }
      delete fields[missing]
      expect(await upload(server, fields)).toMatchObject({ status: 400, body: { error: 'Missing required fields: file, name, mime_type, channel' } })
    }
    expect(await upload(server, { ...creds(), ...pngFile(), channel: 'nowhere' })).toMatchObject({ status: 404, body: { error: 'Channel does not exist' } })
    expect(await upload(server, { ...creds(), ...pngFile(), channel: 'readonly' })).toMatchObject({
      status: 403,
      body: { error: "You don't have permission to send in this channel" },
    })
    for (const days of [0, -1, 366, 'soon']) {
      expect(await upload(server, { ...creds(), ...pngFile(9, 9), expires_in_days: days })).toMatchObject({
        status: 400,
        body: { error: 'expires_in_days must be a number greater than 0 and at most 365' },
      })
    }
    const saveFailed = { status: 500, body: { error: 'Failed to save attachment' } }
    // Not in allowed_types (the default allows images, video, audio and PDF).
    expect(await upload(server, { ...creds(), file: dataUri('text/html', new TextEncoder().encode('<script>x</script>')), name: 'a.html', mime_type: 'text/html', channel: 'general' })).toMatchObject(saveFailed)
    // HTML declared as a PNG: the bytes are not a PNG.
    const html = new TextEncoder().encode('<html><script>alert(1)</script></html>')
    expect(await upload(server, { ...creds(), file: Buffer.from(html).toString('base64'), name: 'x.png', mime_type: 'image/png', channel: 'general' })).toMatchObject(saveFailed)
    // A data URI that says it is something else than mime_type.
    expect(await upload(server, { ...creds(), ...pngFile(), file: dataUri('image/gif', png(2, 2)) })).toMatchObject(saveFailed)
    // Broken base64 is refused, not skipped over.
    expect(await upload(server, { ...creds(), ...pngFile(), file: 'data:image/png;base64,iVBO!!!RK' })).toMatchObject(saveFailed)
    expect(await upload(server, { ...creds(), ...pngFile(), file: 'iVBORw0KGgo=A' })).toMatchObject(saveFailed)
    // A MIME type with a header-splitting payload.
    expect(await upload(server, { ...creds(), ...pngFile(), mime_type: 'image/png\r\nX-Evil: 1' })).toMatchObject(saveFailed)
    // The server keeps working, and nothing half-written was left behind.
    expect((await upload(server, { ...creds(), ...pngFile(7, 7) })).status).toBe(201)
    const files = await readdir(join(server.dir, 'attachments'))
    expect(files.every((name) => /^[0-9a-f-]{36}\.png$/.test(name))).toBe(true)
  })

  test.concurrent('503 when attachments are disabled, and no attachment_upload capability', async () => {
    await using server = await startServer({ attachments: { enabled: false } })
    const alice = await server.login('alice')
    expect(alice.handshake.val.capabilities).not.toContain('attachment_upload')
    expect(await upload(server, { ...roturCredentials(server, alice, 'alice'), ...pngFile() })).toMatchObject({ status: 503, body: { error: 'Attachments are disabled' } })
    const download = await fetch(httpUrl(server, '/attachments/anything'))
    expect([download.status, await download.json()]).toEqual([503, { error: 'Attachments are disabled' }])
  })

  test.concurrent('Rotur unreachable is 502', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const creds = roturCredentials(server, alice, 'alice')
    server.rotur.mode = 'error'
    // A 500 from Rotur is a refusal (non-200), not a network failure.
    expect(await upload(server, { ...creds, ...pngFile() })).toMatchObject({ status: 401, body: { error: 'Invalid credentials' } })
    await server.rotur.stop()
    expect(await upload(server, { ...creds, ...pngFile() })).toMatchObject({ status: 502, body: { error: 'Failed to validate credentials' } })
  })

  test.concurrent('an oversize body is 413 with the limit, before reading it (Content-Length) or as soon as it passes it (streamed)', async () => {
    await using server = await startServer({ attachments: { max_size: 2048 } })
    const alice = await server.login('alice')
    const tooLarge = { status: 413, body: { error: 'Request body too large (max 2048 bytes)' } }
    const big = { ...roturCredentials(server, alice, 'alice'), ...pngFile(), file: 'A'.repeat(4000) }
    expect(await upload(server, big)).toMatchObject(tooLarge)
    // No Content-Length: a stream that never ends on its own would otherwise be buffered forever.
    let sent = 0
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 1024
        if (sent > 1024 * 1024) return controller.close()
        controller.enqueue(new Uint8Array(1024).fill(0x41))
      },
    })
    const streamed = await fetch(httpUrl(server, '/attachments/upload'), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: endless })
    expect([streamed.status, await streamed.json()]).toEqual([413, tooLarge.body])
    // A decoded file over max_size inside a body under it is a save failure (upstream's order).
    expect((await upload(server, { ...roturCredentials(server, alice, 'alice'), ...pngFile(3, 3) })).status).toBe(201)
  })

  test.concurrent('names with path parts or NUL are stored as the display name only; the file is named by id', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    for (const [i, name] of ['../../x', 'a\u0000b.png', '/etc/passwd'].entries()) {
      const answer = await upload(server, { ...roturCredentials(server, alice, 'alice'), ...pngFile(10 + i, 1), name })
      expect(answer.status).toBe(201)
      expect(answer.body.attachment.name).toBe(name)
      const download = await fetch(httpUrl(server, `/attachments/${answer.body.attachment.id}`))
      expect(download.status).toBe(200)
      expect(download.headers.get('content-disposition')).toStartWith('inline; filename="')
      expect(download.headers.get('content-disposition')).not.toContain('\u0000')
    }
    const files = await readdir(join(server.dir, 'attachments'))
    expect(files).toHaveLength(3)
    for (const file of files) expect(file).toMatch(/^[0-9a-f-]{36}\.png$/)
    expect(await readdir(server.dir)).not.toContain('x')
  })

  test.concurrent('uploads_per_minute is enforced per user: 429 past it, others unaffected', async () => {
    await using server = await startServer({ attachments: { uploads_per_minute: 2 } })
    const alice = await server.login('alice')
    const bob = await server.register('bob')
    for (const size of [1, 2]) expect((await upload(server, { ...roturCredentials(server, alice, 'alice'), ...pngFile(size, size) })).status).toBe(201)
    const limited = await upload(server, { ...roturCredentials(server, alice, 'alice'), ...pngFile(3, 3) })
    expect(limited).toMatchObject({ status: 429, body: { error: 'Too many uploads, try again later' } })
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await upload(server, pngFile(4, 4), bearer(bob))).status).toBe(201)
  })

  test.concurrent('max_storage_per_user refuses with 507; re-uploading the same bytes costs nothing and keeps one copy', async () => {
    await using server = await startServer({ attachments: { max_storage_per_user: 70 } })
    const alice = await server.login('alice')
    const creds = () => roturCredentials(server, alice, 'alice')
    const first = await upload(server, { ...creds(), ...pngFile(1, 1) })
    const again = await upload(server, { ...creds(), ...pngFile(1, 1), name: 'renamed.png', expires_in_days: 1 })
    expect(again.status).toBe(201)
    expect(again.body.attachment).toMatchObject({ id: first.body.attachment.id, name: 'renamed.png' })
    expect(again.body.attachment.expires_at).toBeLessThan(first.body.attachment.expires_at)
    expect((await upload(server, { ...creds(), ...pngFile(2, 2) })).status).toBe(201)
    expect(await upload(server, { ...creds(), ...pngFile(3, 3) })).toMatchObject({ status: 507, body: { error: 'Storage quota exceeded' } })
    expect(await readdir(join(server.dir, 'attachments'))).toHaveLength(2)
  })

  test.concurrent('dedupe is per uploader: the same bytes from two users are two attachments, each attachable by its owner', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.register('bob')
    const a = await upload(server, { ...roturCredentials(server, alice, 'alice'), ...pngFile(8, 8) })
    const b = await upload(server, pngFile(8, 8), bearer(bob))
    expect(a.body.attachment.id).not.toBe(b.body.attachment.id)
    const posted = await bob.post('', { attachments: [{ id: b.body.attachment.id }] })
    expect(posted.attachments).toEqual([b.body.attachment])
  })

  test.concurrent('max_attachments_per_user: 0 blocks uploads; n > 0 removes the oldest beyond n', async () => {
    await using blocked = await startServer({ attachments: { max_attachments_per_user: 0 } })
    const carol = await blocked.register('carol')
    expect(await upload(blocked, pngFile(), bearer(carol))).toMatchObject({ status: 500, body: { error: 'Failed to save attachment' } })

    await using server = await startServer({ attachments: { max_attachments_per_user: 2 } })
    const bob = await server.register('bob')
    const ids: string[] = []
    for (const size of [1, 2, 3]) ids.push((await upload(server, pngFile(size, size), bearer(bob))).body.attachment.id)
    expect((await fetch(httpUrl(server, `/attachments/${ids[0]}`))).status).toBe(404)
    for (const id of ids.slice(1)) expect((await fetch(httpUrl(server, `/attachments/${id}`))).status).toBe(200)
    expect((await readdir(join(server.dir, 'attachments'))).sort()).toEqual(ids.slice(1).map((id) => `${id}.png`).sort())
  })

  test.concurrent('permanent uploads: a Rotur subscription in permanent_tiers (any case), only in rotur mode', async () => {
    await using server = await startServer({ auth_mode: 'rotur', attachments: { permanent_expiration_days: 365 } })
    server.rotur.subscriptions.set('alice', 'Pro')
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const before = Date.now() / 1000
    const pro = await upload(server, { ...roturCredentials(server, alice, 'alice'), ...pngFile() })
    expect(pro.body.permanent).toBe(true)
    expect(pro.body.attachment.permanent).toBe(true)
    expect(pro.body.attachment.expires_at - before).toBeGreaterThan(364 * DAY)
    const shortened = await upload(server, { ...roturCredentials(server, alice, 'alice'), ...pngFile(2, 2), expires_in_days: 2 })
    expect(shortened.body.attachment.expires_at - before).toBeLessThan(2 * DAY + 60)
    expect((await upload(server, { ...roturCredentials(server, bob, 'bob'), ...pngFile() })).body.permanent).toBe(false)

    // In the cracked modes nobody gets permanent uploads.
    await using cracked = await startServer()
    cracked.rotur.subscriptions.set('alice', 'pro')
    const again = await cracked.login('alice')
    expect((await upload(cracked, { ...roturCredentials(cracked, again, 'alice'), ...pngFile() })).body.permanent).toBe(false)
  })
})
