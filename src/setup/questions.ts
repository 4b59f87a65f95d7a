import { readFileSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { createSecureContext } from 'node:tls'
import { LOCAL_PREFIX, localNameError } from '../auth/local.ts'
import type { AuthMode } from '../config/schema.ts'

/** Everything `originchats setup` asks; each becomes one or more config.json keys (see config-file.ts). */
export interface Answers {
  name: string
  icon: string
  url: string
  owner: string
  authMode: AuthMode
  registration: boolean
  roturUrl: string
  host: string
  port: number
  maxLength: number
  searchResults: number
  emojiTypes: string[]
  rateLimit: boolean
  data: string
  tlsCert: string
  tlsKey: string
}

/** What a question's default and checks may look at. */
export interface AskContext {
  answers: Partial<Answers>
  /** The values in brackets: the existing config.json's, or the shipped one's on a first run (no owner). */
  defaults: Answers
  /** Where relative paths the owner types are resolved (the shell's folder). */
  cwd: string
  /** Folder of the config file; the data folder is relative to it. */
  configDir: string
}

export class InvalidAnswer extends Error {}

export interface Question<K extends keyof Answers = keyof Answers> {
  key: K
  /** `--flag` of the non-interactive form. */
  flag: string
  prompt: string
  /** Printed once before the prompt. */
  help?(ctx: AskContext): string
  /** The text shown in brackets and used for an empty answer ('' = none). */
  shown(ctx: AskContext): string
  /** The answer's value, or throws InvalidAnswer with the reason. */
  parse(text: string, ctx: AskContext): Answers[K]
  /** Not asked interactively when it cannot matter (a flag still sets it). */
  skip?(ctx: AskContext): boolean
}

const invalid = (reason: string): never => {
  throw new InvalidAnswer(reason)
}

const AUTH_MODES: Record<AuthMode, string> = {
  rotur: 'people sign in with their Rotur account only',
  cracked: 'Rotur accounts plus local username/password accounts made on this server',
  'cracked-only': 'local username/password accounts only; Rotur is not used',
}

function onOff(text: string): boolean {
  const word = text.toLowerCase()
  if (['on', 'yes', 'y', 'true'].includes(word)) return true
  if (['off', 'no', 'n', 'false'].includes(word)) return false
  return invalid(`answer on or off, not "${text}"`)
}

function required(what: string) {
  return (text: string) => (text === '' ? invalid(`${what} cannot be empty`) : text)
}

function positiveInteger(text: string): number {
  const value = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) invalid(`not a whole number of at least 1: ${text}`)
  return value
}

/** What an optional answer takes to remove a value kept from an existing config.json. */
export const NONE = '-'

function url(schemes: string[]) {
  return (text: string) => {
    if (text === '' || text === NONE) return ''
    let parsed: URL | undefined
    try {
      parsed = new URL(text)
    } catch {}
    if (!parsed || !schemes.includes(parsed.protocol.slice(0, -1))) invalid(`not a ${schemes.join('/')} URL: ${text}`)
    return text
  }
}

/** A PEM file the server will be able to read; written to config as an absolute path. */
function pemFile(text: string, ctx: AskContext): string {
  if (text === '' || text === NONE) return ''
  const path = resolve(ctx.cwd, text)
  let content: string
  try {
    content = readFileSync(path, 'utf8')
  } catch (error) {
    return invalid(`cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
  }
  if (!content.includes('-----BEGIN ')) invalid(`${path} is not a PEM file (no -----BEGIN line)`)
  return path
}

const ROTUR_NAME_MAX = 64

/** Rotur usernames as the owner's: one word; a local account ID would never match a Rotur sign-in. */
function roturNameError(name: string): string | undefined {
  if (/\s/.test(name)) return 'a Rotur username has no spaces'
  if ([...name].length > ROTUR_NAME_MAX) return `a Rotur username is at most ${ROTUR_NAME_MAX} characters`
  if (name.toLowerCase().startsWith(LOCAL_PREFIX.toLowerCase())) return `${name} is a local account ID, not a Rotur username`
  return undefined
}

/**
 * Why `name` cannot sign in as the owner in `mode`: a Rotur account when Rotur is on, a local
 * account in cracked-only mode. Without a mode yet (a flag checked before the questions), only
 * names that could sign in in no mode are refused.
 */
function ownerNameError(name: string, mode: AuthMode | undefined): string | undefined {
  if (name === '') return 'there is no default owner'
  const rotur = roturNameError(name)
  const local = localNameError(name)
  if (mode === undefined) return rotur !== undefined && local !== undefined ? rotur : undefined
  if (mode === 'cracked-only') return local && `in cracked-only mode the owner is a local account: ${local}`
  return rotur && `in ${mode} mode the owner is a Rotur account: ${rotur}`
}

export const QUESTIONS: Question[] = [
  question({
    key: 'name',
    flag: 'name',
    prompt: 'Server name',
    shown: (ctx) => ctx.defaults.name,
    parse: required('the server name'),
  }),
  question({
    key: 'icon',
    flag: 'icon',
    prompt: 'Server icon URL (optional)',
    shown: (ctx) => ctx.defaults.icon,
    parse: url(['http', 'https']),
  }),
  question({
    key: 'url',
    flag: 'url',
    prompt: 'Public URL of this server (optional, e.g. wss://chat.example.com)',
    shown: (ctx) => ctx.defaults.url,
    parse: url(['http', 'https', 'ws', 'wss']),
  }),
  question({
    key: 'authMode',
    flag: 'auth-mode',
    prompt: 'Auth mode',
    help: () =>
      `How people sign in:\n${Object.entries(AUTH_MODES)
        .map(([mode, meaning]) => `  ${mode.padEnd(13)} ${meaning}`)
        .join('\n')}`,
    shown: (ctx) => ctx.defaults.authMode,
    parse: (text) => (text in AUTH_MODES ? (text as AuthMode) : invalid(`unknown auth mode "${text}"; choose rotur, cracked or cracked-only`)),
  }),
  question({
    key: 'owner',
    flag: 'owner',
    prompt: 'Owner username',
    help: (ctx) => {
      if (ctx.answers.authMode === 'cracked-only') {
        return 'The owner is a local account on this server: whoever logs in with this name (and its password) gets the owner role.'
      }
      const roturOwner = 'The owner is a Rotur account: whoever signs in with Rotur as this user gets the owner role'
      return ctx.answers.authMode === 'cracked' ? `${roturOwner} (a local account of the same name does not).` : `${roturOwner}.`
    },
    shown: (ctx) => ctx.defaults.owner,
    parse: (text, ctx) => {
      const reason = ownerNameError(text, ctx.answers.authMode)
      return reason === undefined ? text : invalid(reason)
    },
  }),
  question({
    key: 'registration',
    flag: 'registration',
    prompt: 'Allow new local accounts to register (on/off)',
    shown: (ctx) => (ctx.defaults.registration ? 'on' : 'off'),
    parse: onOff,
    skip: (ctx) => ctx.answers.authMode === 'rotur',
  }),
  question({
    key: 'roturUrl',
    flag: 'rotur-url',
    prompt: 'Rotur validate URL',
    shown: (ctx) => ctx.defaults.roturUrl,
    parse: (text) => url(['http', 'https'])(required('the Rotur validate URL')(text)),
    skip: (ctx) => ctx.answers.authMode === 'cracked-only',
  }),
  question({
    key: 'host',
    flag: 'host',
    prompt: 'Listen address (0.0.0.0 for every interface)',
    shown: (ctx) => ctx.defaults.host,
    parse: (text) => (/\s/.test(text) ? invalid(`not a host name or address: ${text}`) : required('the listen address')(text)),
  }),
  question({
    key: 'port',
    flag: 'port',
    prompt: 'Port',
    shown: (ctx) => String(ctx.defaults.port),
    parse: (text) => {
      const port = Number(text)
      return /^\d+$/.test(text) && port <= 65535 ? port : invalid(`not a port number (0-65535): ${text}`)
    },
  }),
  question({
    key: 'maxLength',
    flag: 'max-length',
    prompt: 'Maximum message length (characters)',
    shown: (ctx) => String(ctx.defaults.maxLength),
    parse: positiveInteger,
  }),
  question({
    key: 'searchResults',
    flag: 'search-results',
    prompt: 'Search results limit',
    shown: (ctx) => String(ctx.defaults.searchResults),
    parse: positiveInteger,
  }),
  question({
    key: 'emojiTypes',
    flag: 'emoji-types',
    prompt: 'Custom emoji file extensions, comma-separated',
    shown: (ctx) => ctx.defaults.emojiTypes.join(','),
    parse: (text, ctx) => {
      // Upstream's normalization: lower-case, leading dot dropped, empty list → defaults.
      const types = text.split(',').map((type) => type.trim().toLowerCase().replace(/^\.+/, '')).filter(Boolean)
      const bad = types.find((type) => !/^[a-z0-9]+$/.test(type))
      if (bad !== undefined) invalid(`not a file extension: ${bad}`)
      return types.length > 0 ? [...new Set(types)] : ctx.defaults.emojiTypes
    },
  }),
  question({
    key: 'rateLimit',
    flag: 'rate-limit',
    prompt: 'Rate limiting (on/off)',
    shown: (ctx) => (ctx.defaults.rateLimit ? 'on' : 'off'),
    parse: onOff,
  }),
  question({
    key: 'data',
    flag: 'data',
    prompt: "Data folder (relative to the config file's folder)",
    shown: (ctx) => ctx.defaults.data,
    parse: (text, ctx) => {
      required('the data folder')(text)
      const path = resolve(ctx.configDir, text)
      const stat = statSync(path, { throwIfNoEntry: false })
      if (stat && !stat.isDirectory()) invalid(`${path} exists and is not a folder`)
      return text
    },
  }),
  question({
    key: 'tlsCert',
    flag: 'tls-cert',
    prompt: 'TLS certificate file, PEM (optional; serves https:// and wss://)',
    shown: (ctx) => ctx.defaults.tlsCert,
    parse: pemFile,
  }),
  question({
    key: 'tlsKey',
    flag: 'tls-key',
    prompt: 'TLS private key file, PEM',
    // A certificate removed on this run takes its key along.
    shown: (ctx) => (ctx.answers.tlsCert ? ctx.defaults.tlsKey : ''),
    parse: (text, ctx) => {
      const none = text === '' || text === NONE
      if (!ctx.answers.tlsCert) return none ? '' : invalid('a TLS key needs a TLS certificate too')
      if (none) invalid('a TLS certificate needs its private key file')
      const key = pemFile(text, ctx)
      try {
        createSecureContext({ cert: readFileSync(ctx.answers.tlsCert), key: readFileSync(key) })
      } catch (error) {
        invalid(`${ctx.answers.tlsCert} and ${key} are not a matching certificate and key (${(error as Error).message})`)
      }
      return key
    },
    skip: (ctx) => !ctx.answers.tlsCert,
  }),
]

/** Keeps each question's key and value types tied together while the list holds them all. */
function question<K extends keyof Answers>(q: Question<K>): Question {
  return q as unknown as Question
}
