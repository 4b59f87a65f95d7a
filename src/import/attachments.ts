import { Type as T, type Static } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { AttachmentFiles } from '../attachments/files.ts'
import { extensionFor, MIME_TYPE } from '../attachments/mime.ts'
import type { AttachmentRecord, Store } from '../store/types.ts'
import { InvalidFile, isDirectory } from './upstream.ts'

/** One entry of upstream's attachments.json (data.md §9, stored form); unknown keys are ignored. */
const Entry = T.Object(
  {
    filename: T.String({ minLength: 1 }),
    original_name: T.Optional(T.String()),
    mime_type: T.String(),
    uploader_id: T.String({ minLength: 1 }),
    uploader_name: T.Optional(T.String()),
    channel: T.Optional(T.String()),
    created_at: T.Number(),
    expires_at: T.Optional(T.Union([T.Number(), T.Null()])),
    permanent: T.Optional(T.Boolean()),
    referenced: T.Optional(T.Boolean()),
    width: T.Optional(T.Union([T.Integer(), T.Null()])),
    height: T.Optional(T.Union([T.Integer(), T.Null()])),
  },
  { additionalProperties: true },
)
type Entry = Static<typeof Entry>
const checkEntry = TypeCompiler.Compile(Entry)

/** IDs become file names here, so only the UUIDs upstream generates are taken. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
/** A bare file name inside upstream's attachments folder: no directory part, not hidden. */
const BARE_NAME = /^[^/\\\0.][^/\\\0]*$/

/** attachments.json: an object keyed by attachment ID. */
export function parseAttachments(text: string): Array<{ id: string; entry: Entry }> {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new InvalidFile(`not valid JSON (${(error as Error).message})`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidFile('expected an object keyed by attachment ID')
  return Object.entries(raw).map(([id, value]) => {
    if (checkEntry.Check(value)) return { id, entry: value }
    const error = checkEntry.Errors(value).First()!
    throw new InvalidFile(`/${id}${error.path}: ${error.message}`)
  })
}

export interface AttachmentImport {
  imported: number
  skipped: number
  notes: string[]
}

/**
 * Copies each unexpired upstream attachment's file into `files` (under this server's name for
 * it) and stores its row; one already stored (same ID) is skipped, so a second run adds nothing.
 * An entry without `expires_at` gets upstream's default lifetime, 7 days from its creation.
 */
export async function importAttachments(
  store: Store,
  files: AttachmentFiles,
  folder: string,
  entries: Array<{ id: string; entry: Entry }>,
  resolveUser: (user: string) => string,
  now: number,
): Promise<AttachmentImport> {
  const result: AttachmentImport = { imported: 0, skipped: 0, notes: [] }
  const source = join(folder, 'attachments')
  for (const { id, entry } of entries) {
    if (await store.attachments.get(id)) {
      result.skipped++
      continue
    }
    const expires_at = entry.expires_at ?? entry.created_at + 7 * 86_400
    const path = join(source, entry.filename)
    const refusal = !UUID.test(id)
      ? 'its ID is not a UUID'
      : !MIME_TYPE.test(entry.mime_type)
        ? 'its mime_type is malformed'
        : expires_at <= now
          ? 'it has expired'
          : !BARE_NAME.test(entry.filename) || !isDirectory(source) || !existsSync(path)
            ? `no file ${path}`
            : undefined
    if (refusal) {
      result.notes.push(`attachment ${id}: not imported, ${refusal}`)
      continue
    }
    const bytes = new Uint8Array(await Bun.file(path).arrayBuffer())
    const mime_type = entry.mime_type.toLowerCase()
    const record: AttachmentRecord = {
      id,
      filename: `${id}.${extensionFor(mime_type)}`,
      original_name: entry.original_name ?? entry.filename,
      mime_type,
      size: bytes.byteLength,
      hash: new Bun.CryptoHasher('sha256').update(bytes).digest('hex'),
      uploader_id: resolveUser(entry.uploader_id),
      uploader_name: entry.uploader_name ?? entry.uploader_id,
      channel: entry.channel ?? '',
      created_at: entry.created_at,
      expires_at,
      permanent: entry.permanent ?? false,
      referenced: entry.referenced ?? false,
      ...(typeof entry.width === 'number' && typeof entry.height === 'number' ? { width: entry.width, height: entry.height } : {}),
    }
    await files.write(record.filename, bytes)
    try {
      await store.attachments.insert(record)
    } catch (error) {
      await files.remove(record.filename).catch(() => {})
      throw error
    }
    result.imported++
  }
  return result
}
