import { describe, expect, test } from 'bun:test'
import { decodeFile } from '../../src/attachments/decode.ts'
import { baseDays, expiresAt } from '../../src/attachments/expiry.ts'
import { imageDimensions, sniffImage } from '../../src/attachments/image.ts'
import { extensionFor, inlineSafe, typeAllowed } from '../../src/attachments/mime.ts'
import { parseConfig } from '../../src/config/load.ts'
import { gif, jpeg, png, webp } from '../helpers/attachments.ts'

describe('image headers', () => {
  test('each checked format is recognised by its signature and its size read', () => {
    for (const [type, bytes] of [
      ['image/png', png(800, 600)],
      ['image/gif', gif(800, 600)],
      ['image/jpeg', jpeg(800, 600)],
      ['image/webp', webp(800, 600)],
    ] as const) {
      expect(sniffImage(bytes)).toBe(type)
      expect(imageDimensions(bytes, type)).toEqual({ width: 800, height: 600 })
    }
  })

  test('text, truncated headers and other formats give no type or size', () => {
    expect(sniffImage(new TextEncoder().encode('<svg/>'))).toBeUndefined()
    expect(imageDimensions(png(1, 1).slice(0, 18), 'image/png')).toBeUndefined()
    expect(imageDimensions(jpeg(5, 5).slice(0, 22), 'image/jpeg')).toBeUndefined()
    expect(imageDimensions(png(0, 10), 'image/png')).toBeUndefined()
  })
})

describe('decodeFile', () => {
  test('data URIs and raw base64, padded or not', () => {
    expect(decodeFile('data:image/png;base64,aGk=')).toEqual({ bytes: new Uint8Array([104, 105]), declaredType: 'image/png' })
    expect(decodeFile('aGk')?.bytes).toEqual(new Uint8Array([104, 105]))
    expect(decodeFile('aGVsbG8=')?.declaredType).toBeUndefined()
  })

  test('strict: anything a lenient decoder would skip is refused', () => {
    for (const bad of ['aGk==', 'a', 'aG k=', 'aGk=aGk=', 'aG-k', 'data:image/png,aGk=', 'data:image/png;base64', '====']) expect(decodeFile(bad)).toBeUndefined()
  })
})

describe('types', () => {
  test('allowed_types: exact, type/* families, * and an empty list', () => {
    expect(typeAllowed('image/png', ['image/*'])).toBe(true)
    expect(typeAllowed('imagex/png', ['image/*'])).toBe(false)
    expect(typeAllowed('application/pdf', ['application/pdf'])).toBe(true)
    expect(typeAllowed('text/html', ['image/*', 'application/pdf'])).toBe(false)
    expect(typeAllowed('text/html', ['*'])).toBe(true)
    expect(typeAllowed('text/html', [])).toBe(true)
  })

  test('extension map and what is shown inline', () => {
    expect(['image/jpeg', 'image/svg+xml', 'audio/mpeg', 'application/zip'].map(extensionFor)).toEqual(['jpg', 'svg', 'mp3', 'bin'])
    expect(['image/png', 'video/mp4', 'audio/ogg'].every(inlineSafe)).toBe(true)
    expect(['image/svg+xml', 'text/html', 'application/pdf'].some(inlineSafe)).toBe(false)
  })
})

describe('expiry (data.md §9)', () => {
  const MB = 1024 * 1024
  const settings = parseConfig({}).attachments

  test('base days by size', () => {
    expect([baseDays(1 * MB), baseDays(5 * MB), baseDays(15 * MB), baseDays(25 * MB), baseDays(50 * MB), baseDays(100 * MB)]).toEqual([49, 49, 28, 7, 5, 1])
  })

  test('capped at free_tier_max_expiration_days; permanent uses permanent_expiration_days; a client value only shortens', () => {
    const DAY = 86_400
    expect(expiresAt(MB, false, undefined, settings, 0)).toBe(7 * DAY)
    expect(expiresAt(MB, false, undefined, { ...settings, free_tier_max_expiration_days: 100 }, 0)).toBe(49 * DAY)
    expect(expiresAt(60 * MB, false, undefined, settings, 0)).toBeCloseTo(4.2 * DAY, 3)
    expect(expiresAt(MB, true, undefined, settings, 0)).toBe(365 * DAY)
    expect(expiresAt(MB, true, 30, settings, 0)).toBe(30 * DAY)
    expect(expiresAt(MB, false, 30, settings, 0)).toBe(7 * DAY)
    expect(expiresAt(MB, false, 0.5, settings, 1000)).toBe(1000 + DAY / 2)
  })
})
