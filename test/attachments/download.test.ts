import { describe, expect, test } from 'bun:test'
import { unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { bearer, dataUri, httpUrl, png, pngFile, upload } from '../helpers/attachments.ts'
import { startServer } from '../helpers/server.ts'

describe('GET /attachments/{id}', () => {
  test.concurrent('serves the bytes with the stored type, caching, nosniff, inline for images; HEAD and ranges', async () => {
    await using server = await startServer()
    const bob = await server.register('bob')
    const bytes = png(640, 480)
    const { body } = await upload(server, { ...pngFile(), file: dataUri('image/png', bytes) }, bearer(bob))
    const url = httpUrl(server, `/attachments/${body.attachment.id}`)

    const response = await fetch(url)
    expect(response.status).toBe(200)
    expect(Object.fromEntries(['content-type', 'cache-control', 'x-content-type-options', 'content-disposition', 'access-control-allow-origin'].map((h) => [h, response.headers.get(h)]))).toEqual({
      'content-type': 'image/png',
      'cache-control': 'public, max-age=3600',
      'x-content-type-options': 'nosniff',
      'content-disposition': `inline; filename="shot.png"; filename*=UTF-8''shot.png`,
      'access-control-allow-origin': '*',
    })
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes)

    const head = await fetch(url, { method: 'HEAD' })
    expect([head.status, head.headers.get('content-length'), head.headers.get('content-type')]).toEqual([200, String(bytes.length), 'image/png'])
    expect(await head.text()).toBe('')

    const range = await fetch(url, { headers: { Range: 'bytes=1-3' } })
    expect(range.status).toBe(206)
    expect(range.headers.get('content-range')).toBe(`bytes 1-3/${bytes.length}`)
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(bytes.slice(1, 4))
    const beyond = await fetch(url, { headers: { Range: `bytes=${bytes.length + 10}-` } })
    expect([beyond.status, beyond.headers.get('content-range')]).toEqual([416, `bytes */${bytes.length}`])
  })

  test.concurrent('types a browser could render (PDF, HTML, SVG) are served as downloads, never inline', async () => {
    await using server = await startServer({ attachments: { allowed_types: ['application/pdf', 'text/html', 'image/svg+xml'] } })
    const bob = await server.register('bob')
    const files = [
      { mime_type: 'application/pdf', name: 'doc.pdf', text: '%PDF-1.4 fake' },
      { mime_type: 'text/html', name: 'page.html', text: '<script>alert(document.cookie)</script>' },
      { mime_type: 'image/svg+xml', name: 'pic.svg', text: '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>' },
    ]
    for (const file of files) {
      const bytes = new TextEncoder().encode(file.text)
      const answer = await upload(server, { file: dataUri(file.mime_type, bytes), name: file.name, mime_type: file.mime_type, channel: 'general' }, bearer(bob))
      expect(answer.status).toBe(201)
      expect(answer.body.attachment).not.toHaveProperty('width')
      const response = await fetch(httpUrl(server, `/attachments/${answer.body.attachment.id}`))
      expect(response.headers.get('content-type')).toBe(file.mime_type)
      expect(response.headers.get('content-disposition')).toStartWith(`attachment; filename="${file.name}"`)
      expect(response.headers.get('x-content-type-options')).toBe('nosniff')
      expect(response.headers.get('content-security-policy')).toContain('sandbox')
      expect(await response.text()).toBe(file.text)
    }
  })

  test.concurrent('unknown, empty and fileless ids', async () => {
    await using server = await startServer()
    const bob = await server.register('bob')
    const { body } = await upload(server, pngFile(), bearer(bob))
    const get = async (path: string) => {
      const response = await fetch(httpUrl(server, path))
      return [response.status, await response.json()]
    }
    expect(await get('/attachments/')).toEqual([400, { error: 'Attachment ID required' }])
    expect(await get('/attachments/%20')).toEqual([400, { error: 'Attachment ID required' }])
    expect(await get('/attachments/no-such-id')).toEqual([404, { error: 'Attachment not found or expired' }])
    expect(await get('/attachments/..%2F..%2Foriginchats.db')).toEqual([404, { error: 'Attachment not found or expired' }])
    await unlink(join(server.dir, 'attachments', `${body.attachment.id}.png`))
    expect(await get(`/attachments/${body.attachment.id}`)).toEqual([404, { error: 'Attachment file not found' }])
  })
})
