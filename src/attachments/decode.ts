/** The `file` field of an upload: a data URI or raw base64 (http.md). */
export interface DecodedFile {
  bytes: Uint8Array
  /** The data URI's own type, lower-cased, without parameters; undefined for raw base64. */
  declaredType?: string
}

const ALPHABET = /^[A-Za-z0-9+/]*$/

/** Standard alphabet only; padding, when present, completes the last quad; no quad of one character. */
function wellFormed(payload: string): boolean {
  const body = payload.replace(/={1,2}$/, '')
  const padding = payload.length - body.length
  if (body.length % 4 === 1 || !ALPHABET.test(body)) return false
  return padding === 0 || (payload.length % 4 === 0 && body.length % 4 !== 0)
}

/**
 * Strict decoding: a character outside the standard alphabet (whitespace included), a bad length
 * or misplaced padding refuses the file, where a lenient decoder would quietly skip it.
 * Undefined when malformed.
 */
export function decodeFile(file: string): DecodedFile | undefined {
  let payload = file
  let declaredType: string | undefined
  if (file.startsWith('data:')) {
    const comma = file.indexOf(',')
    if (comma < 0) return undefined
    const header = file.slice(5, comma).split(';').map((part) => part.trim())
    if (header.length < 2 || header.at(-1)?.toLowerCase() !== 'base64') return undefined
    declaredType = header[0]?.toLowerCase() || undefined
    payload = file.slice(comma + 1)
  }
  if (!wellFormed(payload)) return undefined
  const bytes = Buffer.from(payload, 'base64')
  return { bytes: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), declaredType }
}
