import { describe, expect, test } from 'bun:test'
import { allowedTypes, decodeEmojiImage, emojiName, isAllowedType, sniffFormat } from '../../src/emojis/image.ts'
import { GIF, HTML, JPEG, PNG, WEBP, dataUri } from '../helpers/images.ts'

const DEFAULTS = { allowed: ['gif', 'jpg', 'jpeg', 'png'], maxSize: 1024 }

describe('emoji images', () => {
  test('formats come from the bytes’ signature', () => {
    expect([PNG, GIF, JPEG, WEBP, HTML].map((bytes) => sniffFormat(bytes))).toEqual(['png', 'gif', 'jpeg', 'webp', undefined])
    expect(sniffFormat(new Uint8Array())).toBeUndefined()
  })

  test('a valid data URI decodes to its bytes and format; jpg declares a JPEG too', () => {
    expect(decodeEmojiImage(dataUri(PNG), DEFAULTS)).toEqual({ bytes: new Uint8Array(PNG), format: 'png' })
    expect(decodeEmojiImage(dataUri(JPEG, 'jpg'), DEFAULTS)).toEqual({ bytes: new Uint8Array(JPEG), format: 'jpeg' })
    expect(decodeEmojiImage(dataUri(GIF, 'GIF'), DEFAULTS)).toEqual({ bytes: new Uint8Array(GIF), format: 'gif' })
  })

  test('each refusal names its reason', () => {
    const refused = (uri: string, rules = DEFAULTS) => (decodeEmojiImage(uri, rules) as { refused: string }).refused
    expect(refused('https://example.com/a.png')).toBe('not a data:image/<type>;base64 URI')
    expect(refused('data:image/svg+xml;base64,PHN2Zz4=')).toBe('unsupported declared type image/svg+xml')
    expect(refused('data:image/png;base64,')).toBe('invalid base64')
    expect(refused('data:image/png;base64,iVBORw0KGgo')).toBe('invalid base64')
    expect(refused('data:image/png;base64,iVBO Rw0K')).toBe('invalid base64')
    expect(refused('data:image/png;base64,iVBORw0K====')).toBe('invalid base64')
    expect(refused('data:image/png;base64,iV=ORw0K')).toBe('invalid base64')
    expect(refused(dataUri(PNG, 'gif'))).toBe('a png image declared as image/gif')
    expect(refused(dataUri(HTML, 'png'))).toBe('not a PNG, GIF, JPEG or WebP image')
    expect(refused(dataUri(WEBP, 'webp'))).toBe('webp is not in uploads.emoji_allowed_file_types')
    expect(refused(dataUri(PNG), { ...DEFAULTS, maxSize: PNG.length - 1 })).toBe(`${PNG.length} bytes, more than ${PNG.length - 1}`)
    expect(decodeEmojiImage(dataUri(PNG), { ...DEFAULTS, maxSize: PNG.length })).toHaveProperty('format', 'png')
  })

  test('allowed types are compared lower-case without dots; jpg and jpeg are one; empty means the defaults', () => {
    expect(allowedTypes(['.PNG', ' Gif '])).toEqual(['png', 'gif'])
    expect(allowedTypes([])).toEqual(['gif', 'jpg', 'jpeg', 'png'])
    expect(isAllowedType('jpeg', ['jpg'])).toBe(true)
    expect(isAllowedType('JPG', ['jpeg'])).toBe(true)
    expect(isAllowedType('webp', ['png'])).toBe(false)
    expect(isAllowedType('webp', ['.WEBP'])).toBe(true)
  })

  test('names are trimmed and must be 1–64 of letters, digits and underscores', () => {
    expect(emojiName('  party_parrot2 ')).toBe('party_parrot2')
    expect(emojiName('x'.repeat(64))).toBe('x'.repeat(64))
    for (const bad of ['', '   ', 'a/b', '..', 'a\0b', 'a\nb', 'a\u0007', 'x'.repeat(65), 'émoji', 'a-b', 'a b']) expect(emojiName(bad)).toBeUndefined()
  })
})
