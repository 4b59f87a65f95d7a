import type { TSchema } from '@sinclair/typebox'
import { closest } from '../suggest.ts'
import { Config } from './schema.ts'

/** The keys allowed at one level of config.json: `null` marks a value not looked into. */
interface Level {
  keys: Map<string, Level | null>
  /** Other keys are allowed too (they are not reported), the known ones still checked. */
  open: boolean
}

/** Upstream keys this server accepts without reading them (upstream config.md §1–2). */
const UPSTREAM_ONLY = [
  'attachments.compression.enabled',
  'attachments.compression.max_width',
  'attachments.compression.max_height',
  'attachments.compression.jpeg_quality',
  'attachments.compression.webp_quality',
  'attachments.compression.png_compression',
  'DB.channels',
  'DB.users.file',
  'cracked.default_roles',
  'rotur.validate_key',
]

/**
 * Objects whose extra keys are intentional, so nothing inside is reported: `server` and `limits`
 * are echoed in the handshake, `DB.users.default` is the template of new users, `service` is
 * upstream's informational block (its `version` is not this server's version).
 */
const UNCHECKED = ['server', 'limits', 'DB.users.default', 'service']

/** Any other key of `plugins` is the config slice of a folder plugin; `plugins.builtin.*` is checked. */
const OPEN = ['plugins']

function levelOf(schema: TSchema): Level | null {
  if (schema.type !== 'object' || !schema.properties) return null
  const keys = new Map<string, Level | null>()
  for (const [key, property] of Object.entries(schema.properties as Record<string, TSchema>)) keys.set(key, levelOf(property))
  return { keys, open: false }
}

/** The level at `path`, created (closed, empty) where missing. */
function at(root: Level, path: string[]): Level {
  let level = root
  for (const key of path) {
    let next = level.keys.get(key)
    if (!next) level.keys.set(key, (next = { keys: new Map(), open: false }))
    level = next
  }
  return level
}

function knownKeys(): Level {
  const root = levelOf(Config)!
  for (const path of [...UPSTREAM_ONLY, ...UNCHECKED]) {
    const parts = path.split('.')
    at(root, parts.slice(0, -1)).keys.set(parts.at(-1)!, null)
  }
  for (const path of OPEN) at(root, path.split('.')).open = true
  return root
}

const KNOWN = knownKeys()

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** A key as written in a message: plain, or as a JSON string when it holds anything unusual. */
const segment = (key: string) => (/^[\w-]+$/.test(key) ? key : JSON.stringify(key))

/**
 * One message per key of `raw` that this server neither reads nor accepts from upstream, with
 * the closest known key at the same level when one is close:
 * `websocket.prot: unknown key; did you mean 'port'?`. Inside an unknown key nothing more is reported.
 */
export function unknownKeys(raw: unknown): string[] {
  const messages: string[] = []
  const visit = (value: unknown, level: Level, path: string) => {
    if (!isObject(value)) return
    for (const [key, child] of Object.entries(value)) {
      const name = `${path}${segment(key)}`
      if (level.keys.has(key)) {
        const inner = level.keys.get(key)
        if (inner) visit(child, inner, `${name}.`)
        continue
      }
      if (level.open) continue
      const suggestion = closest(key, level.keys.keys())
      messages.push(`${name}: unknown key${suggestion === undefined ? '' : `; did you mean '${suggestion}'?`}`)
    }
  }
  visit(raw, KNOWN, '')
  return messages
}
