import { copyFile, rename, rm } from 'node:fs/promises'
import { resolve } from 'node:path'
import shippedConfig from '../../config.json'
import { fileTime } from '../backup/backup.ts'
import { ConfigError, parseConfig } from '../config/load.ts'
import type { Answers } from './questions.ts'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

/**
 * What setup edits: the existing config.json with every key as it is (unknown keys and hand edits
 * included), or on a first run the shipped one, which lists every key.
 */
export function startingConfig(existing: JsonObject | undefined): JsonObject {
  return structuredClone(existing ?? shippedConfig) as JsonObject
}

/** The existing config file's JSON, or undefined when there is none. */
export async function readConfigFile(path: string): Promise<JsonObject | undefined> {
  const file = Bun.file(path)
  if (!(await file.exists())) return undefined
  let raw: unknown
  try {
    raw = JSON.parse(await file.text())
  } catch (error) {
    throw new ConfigError(`${path}: not valid JSON (${(error as Error).message}); fix it, or move it away to start from scratch`)
  }
  if (!isObject(raw)) throw new ConfigError(`${path}: must be a JSON object; fix it, or move it away to start from scratch`)
  return raw
}

/**
 * The answers `config` amounts to, shown in brackets and kept by Enter or `--yes`. A first run
 * (`fresh`) has no owner: whoever gets that role must be chosen.
 */
export function currentAnswers(config: JsonObject, source: string, configDir: string, fresh: boolean): Answers {
  const parsed = parseConfig(config, source)
  const emoji = (config as { uploads?: { emoji_allowed_file_types?: unknown } }).uploads?.emoji_allowed_file_types
  const tls = (path: string | undefined) => (path === undefined ? '' : resolve(configDir, path))
  return {
    name: parsed.server.name,
    icon: parsed.server.icon ?? '',
    url: parsed.server.url ?? '',
    // The raw value: a missing key means no owner chosen yet, whatever the schema's default.
    owner: fresh ? '' : String((config as { server?: { owner?: { name?: unknown } } }).server?.owner?.name ?? ''),
    authMode: parsed.auth_mode,
    registration: parsed.cracked.allow_registration,
    roturUrl: parsed.rotur.validate_url,
    host: parsed.websocket.host,
    port: parsed.websocket.port,
    maxLength: parsed.limits.post_content,
    searchResults: parsed.limits.search_results,
    emojiTypes: Array.isArray(emoji) && emoji.every((type) => typeof type === 'string') ? emoji : ['gif', 'jpg', 'jpeg', 'png'],
    rateLimit: parsed.rate_limiting.enabled,
    data: parsed.storage.data_dir,
    tlsCert: tls(parsed.tls.cert),
    tlsKey: tls(parsed.tls.key),
  }
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function object(parent: JsonObject, key: string): JsonObject {
  const value = parent[key]
  if (isObject(value)) return value
  return (parent[key] = {})
}

/** `base` with the answers applied; optional answers left empty drop their key. */
export function buildConfig(base: JsonObject, answers: Answers): JsonObject {
  const config = structuredClone(base)
  const server = object(config, 'server')
  server.name = answers.name
  object(server, 'owner').name = answers.owner
  for (const key of ['icon', 'url'] as const) {
    if (answers[key] === '') delete server[key]
    else server[key] = answers[key]
  }
  Object.assign(object(config, 'websocket'), { host: answers.host, port: answers.port })
  config.auth_mode = answers.authMode
  object(config, 'cracked').allow_registration = answers.registration
  object(config, 'rotur').validate_url = answers.roturUrl
  Object.assign(object(config, 'limits'), { post_content: answers.maxLength, search_results: answers.searchResults })
  object(config, 'uploads').emoji_allowed_file_types = answers.emojiTypes
  object(config, 'rate_limiting').enabled = answers.rateLimit
  object(config, 'storage').data_dir = answers.data
  if (answers.tlsCert !== '') Object.assign(object(config, 'tls'), { cert: answers.tlsCert, key: answers.tlsKey })
  else if (isObject(config.tls)) {
    delete config.tls.cert
    delete config.tls.key
    if (Object.keys(config.tls).length === 0) delete config.tls
  }
  return config
}

/** Copies `path` to `<path>.<time>.bak` beside it, byte for byte; returns the copy's path. */
export async function backUpConfigFile(path: string): Promise<string> {
  const copy = `${path}.${fileTime(new Date())}.bak`
  await copyFile(path, copy)
  return copy
}

/** JSON with 4-space indents, like upstream's wizard; short lists of plain values stay on one line. */
export function formatJson(value: Json, indent = ''): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  const inner = `${indent}    `
  if (Array.isArray(value)) {
    if (value.every((item) => item === null || typeof item !== 'object')) return `[${value.map((item) => JSON.stringify(item)).join(', ')}]`
    if (value.length === 0) return '[]'
    return `[\n${value.map((item) => inner + formatJson(item, inner)).join(',\n')}\n${indent}]`
  }
  const entries = Object.entries(value)
  if (entries.length === 0) return '{}'
  return `{\n${entries.map(([key, item]) => `${inner}${JSON.stringify(key)}: ${formatJson(item, inner)}`).join(',\n')}\n${indent}}`
}

/** Checks the result against the schema, then replaces `path` in one rename (a live server never reads half a file). */
export async function writeConfigFile(path: string, config: JsonObject): Promise<void> {
  parseConfig(config, path)
  const temporary = `${path}.setup-${process.pid}.tmp`
  try {
    await Bun.write(temporary, `${formatJson(config)}\n`)
    await rename(temporary, path)
  } finally {
    await rm(temporary, { force: true })
  }
}
