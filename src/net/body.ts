/** A request body read whole, or why it could not be: larger than allowed, or the read failed. */
export type BodyRead = { bytes: Uint8Array } | { error: 'too_large' | 'unreadable' }

/**
 * Reads a request body of at most `max` bytes without ever holding more: a declared
 * Content-Length over the limit is refused before reading, and a body without one (chunked) is
 * counted as it streams and abandoned as soon as it passes the limit.
 */
export async function readBoundedBody(request: Request, max: number): Promise<BodyRead> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > max) return { error: 'too_large' }
  if (!request.body) return { bytes: new Uint8Array() }
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > max) {
        void reader.cancel().catch(() => {})
        return { error: 'too_large' }
      }
      chunks.push(value)
    }
  } catch {
    return { error: 'unreadable' }
  }
  return { bytes: Buffer.concat(chunks, size) }
}
