/**
 * What an uploaded emoji image must be (commands.md §12.1): a base64 data URI whose bytes are a
 * PNG, GIF, JPEG or WebP by their signature, of a format the config allows, declared as that
 * format, and within the size limit. No image library is at hand, so the bytes are stored as
 * uploaded, never re-encoded; the signature check is what keeps anything else (HTML, SVG,
 * scripts) out of the public emoji folder.
 */

const EMOJI_FORMATS = ['png', 'gif', 'jpeg', 'webp'] as const
export type EmojiFormat = (typeof EMOJI_FORMATS)[number]

export const CONTENT_TYPES: Record<EmojiFormat, string> = {
  png: 'image/png',
  gif: 'image/gif',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
}

/** `uploads.emoji_allowed_file_types` when the config leaves it empty (config.md). */
const DEFAULT_EMOJI_TYPES = ['gif', 'jpg', 'jpeg', 'png']

/** The subtypes a data URI may declare for each format. */
const DECLARED: Record<string, EmojiFormat> = { png: 'png', gif: 'gif', jpeg: 'jpeg', jpg: 'jpeg', pjpeg: 'jpeg', webp: 'webp' }

export interface DecodedImage {
  bytes: Uint8Array
  format: EmojiFormat
}

export interface ImageRules {
  allowed: readonly string[]
  maxSize: number
}

const startsWith = (bytes: Uint8Array, signature: number[], at = 0) => signature.every((byte, i) => bytes[at + i] === byte)
const ascii = (text: string) => [...text].map((c) => c.charCodeAt(0))

/** The format the bytes are, by their leading signature; undefined for anything else. */
export function sniffFormat(bytes: Uint8Array): EmojiFormat | undefined {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png'
  if (startsWith(bytes, ascii('GIF87a')) || startsWith(bytes, ascii('GIF89a'))) return 'gif'
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg'
  if (startsWith(bytes, ascii('RIFF')) && startsWith(bytes, ascii('WEBP'), 8)) return 'webp'
  return undefined
}

/** The config's list as compared: lower case, without leading dots; empty means the defaults. */
export function allowedTypes(configured: readonly string[]): string[] {
  const types = configured.map((type) => type.trim().toLowerCase().replace(/^\.+/, '')).filter((type) => type !== '')
  return types.length > 0 ? types : DEFAULT_EMOJI_TYPES
}

/** Whether a file extension or format is allowed; `jpg` and `jpeg` stand for each other. */
export function isAllowedType(type: string, configured: readonly string[]): boolean {
  const allowed = allowedTypes(configured)
  const lower = type.toLowerCase()
  return allowed.includes(lower) || ((lower === 'jpeg' || lower === 'jpg') && (allowed.includes('jpeg') || allowed.includes('jpg')))
}

/** The format an extension names (`jpg` is JPEG); undefined for anything else. */
export const formatOfExtension = (extension: string): EmojiFormat | undefined => DECLARED[extension.toLowerCase()]

const DATA_URI = /^data:image\/([A-Za-z0-9.+-]+);base64,/
/** Strict base64: the alphabet, whole quanta, padding only at the end. Checked as a single class, so it runs in linear time. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** The decoded image, or why it is refused (for the server log; clients get one fixed string). */
export function decodeEmojiImage(uri: string, rules: ImageRules): DecodedImage | { refused: string } {
  const header = DATA_URI.exec(uri)
  if (!header) return { refused: 'not a data:image/<type>;base64 URI' }
  const declared = DECLARED[header[1]!.toLowerCase()]
  if (!declared) return { refused: `unsupported declared type image/${header[1]}` }
  const data = uri.slice(header[0].length)
  if (data.length === 0 || data.length % 4 !== 0 || !BASE64.test(data)) return { refused: 'invalid base64' }
  // Refused before decoding: the decoded size is known from the length.
  const size = (data.length / 4) * 3 - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0)
  if (size > rules.maxSize) return { refused: `${size} bytes, more than ${rules.maxSize}` }
  const bytes = new Uint8Array(Buffer.from(data, 'base64'))
  const format = sniffFormat(bytes)
  if (!format) return { refused: 'not a PNG, GIF, JPEG or WebP image' }
  if (format !== declared) return { refused: `a ${format} image declared as image/${header[1]}` }
  if (!isAllowedType(format, rules.allowed)) return { refused: `${format} is not in uploads.emoji_allowed_file_types` }
  return { bytes, format }
}

const NAME = /^[A-Za-z0-9_]{1,64}$/

/** The name as stored (trimmed), or undefined when it breaks `[A-Za-z0-9_]{1,64}`. */
export function emojiName(raw: string): string | undefined {
  const name = raw.trim()
  return NAME.test(name) ? name : undefined
}
