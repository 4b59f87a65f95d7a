import type { Config } from '../config/schema.ts'
import { CORS, textResponse } from '../net/http.ts'
import type { EmojiRecord } from '../store/types.ts'
import type { EmojiCatalog } from './catalog.ts'
import { CONTENT_TYPES, formatOfExtension, isAllowedType } from './image.ts'

const notFound = () => textResponse('Emoji not found', 404)

/** A bare file name: no directory part, not hidden, with an extension. */
const isBareFileName = (name: string) => !/[/\\\0]/.test(name) && !name.startsWith('.') && name.includes('.')

/**
 * `GET /emojis/{file}` (http.md): `{file}` is a stored file name with an allowed extension, or an
 * emoji ID. Only names the database knows are resolved, so no request reaches another file.
 */
export async function serveEmoji(catalog: EmojiCatalog, config: Config, raw: string): Promise<Response> {
  let requested: string
  try {
    requested = decodeURIComponent(raw).trim()
  } catch {
    return notFound()
  }
  let record: EmojiRecord | undefined
  if (isBareFileName(requested) && isAllowedType(requested.slice(requested.lastIndexOf('.') + 1), config.uploads.emoji_allowed_file_types)) {
    record = await catalog.repo.getByFileName(requested)
  }
  record ??= await catalog.repo.get(requested)
  if (!record) return notFound()
  const file = Bun.file(catalog.pathOf(record))
  if (!(await file.exists())) return notFound()
  const format = formatOfExtension(record.fileName.slice(record.fileName.lastIndexOf('.') + 1))
  return new Response(file, {
    headers: {
      ...CORS,
      'Content-Type': format ? CONTENT_TYPES[format] : 'application/octet-stream',
      'Cache-Control': 'public, max-age=3600',
      'X-Content-Type-Options': 'nosniff',
    },
  })
}
