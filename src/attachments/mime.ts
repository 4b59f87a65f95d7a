/**
 * What the server accepts about an upload's type (data.md §9, config.md `attachments.*`).
 * Images are stored as uploaded (no image library is available to re-encode them), so what is
 * checked is that the bytes really are the declared image format, and the header's size is read.
 */

const EXTENSIONS: Record<string, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/svg+xml': 'svg',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'audio/mpeg': 'mp3',
  'audio/wav': 'wav',
  'audio/ogg': 'ogg',
  'application/pdf': 'pdf',
}

/** The stored file's extension for a MIME type; anything unmapped is `bin`. */
export const extensionFor = (mimeType: string) => EXTENSIONS[mimeType] ?? 'bin'

/** `type/*` matches the whole family, `*` everything, and an empty list allows all (config.md). */
export function typeAllowed(mimeType: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true
  const type = mimeType.toLowerCase()
  return allowed.some((entry) => {
    const rule = entry.trim().toLowerCase()
    if (rule === '*' || rule === '*/*') return true
    if (rule.endsWith('/*')) return type.startsWith(rule.slice(0, -1))
    return rule === type
  })
}

/**
 * Downloads a browser may show in place. Everything else, SVG included (it can carry script),
 * is served as a download, so no uploaded file is ever rendered as a page of this origin.
 */
export function inlineSafe(mimeType: string): boolean {
  const type = mimeType.toLowerCase()
  if (type === 'image/svg+xml') return false
  return type.startsWith('image/') || type.startsWith('video/') || type.startsWith('audio/')
}

/**
 * A MIME type as a client may declare it: `type/subtype` in the RFC 6838 token characters,
 * no parameters. Anything else (spaces, `;`, newlines) could smuggle content into the header.
 */
export const MIME_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/i
