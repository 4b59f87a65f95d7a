import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import type { EmojiCatalog } from '../emojis/catalog.ts'
import { emojiName, formatOfExtension, isAllowedType, sniffFormat } from '../emojis/image.ts'
import { InvalidFile } from './upstream.ts'

/** Where imported emojis go and the rules they must meet (those of `emoji_add`). */
export interface EmojiImportTarget {
  catalog: EmojiCatalog
  allowed: readonly string[]
  maxSize: number
  maxCount: number
}

export interface EmojiImportResult {
  imported: number
  skipped: number
  /** Entries refused (bad ID, name, file name or image), by the path of what was wrong. */
  invalid: Array<{ path: string; reason: string }>
  notes: string[]
}

interface Entry {
  id: string
  name: string
  fileName: string
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)
const ID = /^(0|[1-9]\d{0,15})$/
const BARE = /^[^/\\\0]+$/

/** serverEmojis.json (data.md §8): `{"<id>": {"name", "fileName"}}`; entries as found, checked one by one later. */
export function parseEmojiIndex(text: string): Array<{ key: string; value: unknown }> {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (error) {
    throw new InvalidFile(`not valid JSON (${(error as Error).message})`)
  }
  if (!isObject(raw)) throw new InvalidFile('expected an object of emojis keyed by ID')
  return Object.entries(raw).map(([key, value]) => ({ key, value }))
}

/** The entry as it will be stored, or why it is refused. */
function checkEntry(key: string, value: unknown): Entry | string {
  if (!ID.test(key)) return 'the ID is not a decimal number'
  if (!isObject(value) || typeof value.name !== 'string' || typeof value.fileName !== 'string') return 'expected {"name": string, "fileName": string}'
  const name = emojiName(value.name)
  if (!name) return `bad name ${JSON.stringify(value.name)} (1-64 letters, digits or underscores)`
  return { id: key, name, fileName: value.fileName }
}

/**
 * Imports upstream emojis with their images (`serverEmojis/<fileName>`), each checked as
 * `emoji_add` checks an upload: name, allowed type, size, and bytes that are the image type the
 * extension names. Kept: the ID (so clients' cached `/emojis/<id>` stay right) and the extension
 * (`<id>.<ext>`). An ID already stored is skipped, so running the import again adds nothing.
 */
export async function importEmojis(folder: string, entries: Array<{ key: string; value: unknown }>, target: EmojiImportTarget): Promise<EmojiImportResult> {
  const result: EmojiImportResult = { imported: 0, skipped: 0, invalid: [], notes: [] }
  const index = join(folder, 'serverEmojis.json')
  const ordered = [...entries].sort((a, b) => Number(a.key) - Number(b.key) || a.key.localeCompare(b.key))
  for (const { key, value } of ordered) {
    const entry = checkEntry(key, value)
    if (typeof entry === 'string') {
      result.invalid.push({ path: `${index}#${key}`, reason: entry })
      continue
    }
    if (await target.catalog.repo.get(entry.id)) {
      result.skipped++
      continue
    }
    const path = join(folder, 'serverEmojis', entry.fileName)
    const image = await readImage(path, entry.fileName, target)
    if (typeof image === 'string') {
      result.invalid.push({ path, reason: image })
      continue
    }
    if ((await target.catalog.repo.list()).length >= target.maxCount) {
      result.notes.push(`${index}#${key}: not imported, the server already holds uploads.emoji_max_count (${target.maxCount}) emojis`)
      result.skipped++
      continue
    }
    const record = { id: entry.id, name: entry.name, fileName: `${entry.id}.${image.extension}` }
    if (await target.catalog.importOne(record, image.bytes)) result.imported++
    else {
      result.notes.push(`${index}#${key}: not imported, an emoji named '${entry.name}' exists`)
      result.skipped++
    }
  }
  return result
}

async function readImage(path: string, fileName: string, target: EmojiImportTarget): Promise<{ bytes: Uint8Array; extension: string } | string> {
  const dot = fileName.lastIndexOf('.')
  const extension = fileName.slice(dot + 1).toLowerCase()
  const format = formatOfExtension(extension)
  if (!BARE.test(fileName) || fileName.startsWith('.') || dot < 0 || !format) return `bad file name ${JSON.stringify(fileName)}`
  if (!isAllowedType(extension, target.allowed)) return `${extension} is not in uploads.emoji_allowed_file_types`
  if (!existsSync(path) || !statSync(path).isFile()) return 'the image file is missing'
  const size = statSync(path).size
  if (size > target.maxSize) return `${size} bytes, more than uploads.emoji_max_size (${target.maxSize})`
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer())
  const actual = sniffFormat(bytes)
  if (actual !== format) return actual ? `a ${actual} image named .${extension}` : 'not a PNG, GIF, JPEG or WebP image'
  return { bytes, extension }
}
