import type { Packet, TestClient } from './client.ts'
import type { TestServer } from './server.ts'

/** The smallest headers the server reads: real signatures and sizes, no pixel data needed. */
export function png(width: number, height: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(33)
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52])
  const view = new DataView(bytes.buffer)
  view.setUint32(16, width)
  view.setUint32(20, height)
  bytes.set([8, 6, 0, 0, 0], 24)
  return bytes
}

export function gif(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(13)
  bytes.set(new TextEncoder().encode('GIF89a'))
  const view = new DataView(bytes.buffer)
  view.setUint16(6, width, true)
  view.setUint16(8, height, true)
  return bytes
}

/** SOI, an APP0 segment to walk past, then a baseline SOF0 with the size. */
export function jpeg(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array([
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
    0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 0xff, width >> 8, width & 0xff, 0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01,
    0xff, 0xd9,
  ])
  return bytes
}

/** RIFF/WEBP with a VP8X chunk (24-bit width − 1 and height − 1). */
export function webp(width: number, height: number): Uint8Array {
  const bytes = new Uint8Array(30)
  const text = (at: number, s: string) => bytes.set(new TextEncoder().encode(s), at)
  text(0, 'RIFF')
  text(8, 'WEBP')
  text(12, 'VP8X')
  const view = new DataView(bytes.buffer)
  view.setUint32(4, 22, true)
  view.setUint32(16, 10, true)
  const w = width - 1
  const h = height - 1
  bytes.set([w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], 24)
  return bytes
}

export const dataUri = (type: string, bytes: Uint8Array) => `data:${type};base64,${Buffer.from(bytes).toString('base64')}`

export const httpUrl = (server: TestServer, path: string) => new URL(path, server.url.replace(/^ws/, 'http')).href

export interface Answer {
  status: number
  body: any
  headers: Headers
}

/** POSTs `fields` as JSON to the upload route. */
export async function upload(server: TestServer, fields: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(httpUrl(server, '/attachments/upload'), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof fields === 'string' ? fields : JSON.stringify(fields),
  })
  return { status: response.status, body: await response.json(), headers: response.headers }
}

/** The Rotur credentials a client on `client`'s connection would send (minted for its handshake key). */
export function roturCredentials(server: TestServer, client: TestClient, username: string) {
  const validator_key = client.handshake.val.validator_key as string
  return { validator_key, validator: server.rotur.issue(username, validator_key) }
}

export const bearer = (client: TestClient & { ready: Packet }) => ({ Authorization: `Bearer ${client.ready.validator}` })

/** A PNG upload body for #general, without credentials. */
export const pngFile = (width = 4, height = 3, extra: Record<string, unknown> = {}) => ({
  file: dataUri('image/png', png(width, height)),
  name: 'shot.png',
  mime_type: 'image/png',
  channel: 'general',
  ...extra,
})
