import { rename, rm } from 'node:fs/promises'
import shippedConfig from '../../config.json'
import { parseConfig } from '../config/load.ts'
import type { Answers } from './questions.ts'

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

/** Every key of the shipped config.json, so the file setup writes documents all of them. */
export function baseConfig(): JsonObject {
  return structuredClone(shippedConfig) as JsonObject
}

/** The answers the shipped config.json amounts to: the defaults shown in brackets. */
export function defaultAnswers(): Answers {
  const config = parseConfig(baseConfig(), 'built-in config')
  const emoji = (shippedConfig as { uploads?: { emoji_allowed_file_types?: string[] } }).uploads?.emoji_allowed_file_types
  return {
    name: config.server.name,
    icon: config.server.icon ?? '',
    url: config.server.url ?? '',
    owner: config.server.owner.name,
    authMode: config.auth_mode,
    registration: config.cracked.allow_registration,
    roturUrl: config.rotur.validate_url,
    host: config.websocket.host,
    port: config.websocket.port,
    maxLength: config.limits.post_content,
    searchResults: config.limits.search_results,
    emojiTypes: emoji ?? ['gif', 'jpg', 'jpeg', 'png'],
    rateLimit: config.rate_limiting.enabled,
    data: config.storage.data_dir,
    tlsCert: '',
    tlsKey: '',
  }
}

function object(parent: JsonObject, key: string): JsonObject {
  const value = parent[key]
  if (value && typeof value === 'object' && !Array.isArray(value)) return value
  return (parent[key] = {})
}

/** The shipped config with the answers applied; optional answers left empty drop their key. */
export function buildConfig(answers: Answers): JsonObject {
  const config = baseConfig()
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
  if (answers.tlsCert !== '') config.tls = { cert: answers.tlsCert, key: answers.tlsKey }
  return config
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
