import { Type as T, type Static, type TSchema } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'

/**
 * Reading an upstream OriginChats server's files (data.md §16) in either layout:
 * seed (users keyed by lower-cased username, channel files as JSON arrays, usernames in
 * messages) or latest (users keyed by user ID, channel files as JSON Lines, user IDs in
 * messages). Each reader parses and checks a whole file before returning anything, and throws
 * InvalidFile when any part of it is malformed, so a bad file is skipped as a whole.
 */

export class InvalidFile extends Error {}

const Strings = T.Array(T.String())
const OrNull = <S extends TSchema>(schema: S) => T.Union([schema, T.Null()])
const Open = { additionalProperties: true } as const

/** Latest: keyed by user ID. `validator` is dropped on import (tokens of the old server). */
const LatestUser = T.Object(
  {
    username: T.String({ minLength: 1 }),
    roles: T.Optional(Strings),
    status: T.Optional(T.Object({ status: T.String(), text: T.Optional(T.String()) }, Open)),
    nickname: T.Optional(OrNull(T.String())),
    pfp_url: T.Optional(OrNull(T.String())),
    password_hash: T.Optional(T.String()),
  },
  Open,
)
/** Seed: keyed by lower-cased username; a copy of `DB.users.default`. */
const SeedUser = T.Object({ roles: T.Optional(Strings) }, Open)
const AnyObject = T.Object({}, Open)

const Role = T.Object(
  {
    id: T.Optional(T.String()),
    description: T.Optional(T.String()),
    color: T.Optional(OrNull(T.String())),
    hoisted: T.Optional(T.Boolean()),
    permissions: T.Optional(Strings),
    self_assignable: T.Optional(T.Boolean()),
    category: T.Optional(OrNull(T.String())),
    position: T.Optional(T.Number()),
  },
  Open,
)

const Channel = T.Object(
  { name: T.String({ minLength: 1 }), type: T.Optional(T.String()), permissions: T.Optional(T.Record(T.String(), Strings)) },
  Open,
)

const Message = T.Object(
  {
    id: T.String({ minLength: 1 }),
    user: T.String(),
    content: T.String(),
    timestamp: T.Number(),
    reply_to: T.Optional(OrNull(T.Object({ id: T.String(), user: T.Optional(T.String()) }, Open))),
    ping: T.Optional(T.Boolean()),
    edited: T.Optional(T.Boolean()),
    pinned: T.Optional(T.Boolean()),
    embeds: T.Optional(T.Array(T.Unknown())),
    attachments: T.Optional(T.Array(T.Unknown())),
    interaction: T.Optional(T.Unknown()),
    webhook: T.Optional(T.Unknown()),
    reactions: T.Optional(T.Record(T.String(), Strings)),
  },
  Open,
)

export type UpstreamLatestUser = Static<typeof LatestUser>
export type UpstreamSeedUser = Static<typeof SeedUser>
export type UpstreamRole = Static<typeof Role> & { name: string }
export type UpstreamChannel = Static<typeof Channel>
export type UpstreamMessage = Static<typeof Message>

export type UpstreamUser = { layout: 'latest'; key: string; record: UpstreamLatestUser } | { layout: 'seed'; key: string; record: UpstreamSeedUser }

const checkers = {
  latestUser: TypeCompiler.Compile(LatestUser),
  seedUser: TypeCompiler.Compile(SeedUser),
  object: TypeCompiler.Compile(AnyObject),
  role: TypeCompiler.Compile(Role),
  channel: TypeCompiler.Compile(Channel),
  message: TypeCompiler.Compile(Message),
}

/** `pointer` locates `value` in its file (`/alice`); `label` names the line of a JSON Lines file. */
function check<S extends TSchema>(checker: ReturnType<typeof TypeCompiler.Compile<S>>, value: unknown, pointer: string, label = ''): Static<S> {
  if (checker.Check(value)) return value
  const error = checker.Errors(value).First()!
  throw new InvalidFile(`${label}${pointer}${error.path || (pointer ? '' : '/')}: ${error.message}`)
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text)
  } catch (error) {
    throw new InvalidFile(`${where}not valid JSON (${(error as Error).message})`)
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The folder holding users.json & co: `<folder>/db` when there is one, else `<folder>` itself. */
export function findDataFolder(folder: string): string | undefined {
  const candidates = [join(folder, 'db'), folder]
  return candidates.find(
    (dir) => isDirectory(dir) && ['users.json', 'roles.json', 'channels.json', 'channels'].some((name) => existsSync(join(dir, name))),
  )
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** users.json: each entry is read as latest when it has a `username`, else as seed. */
export function parseUsers(text: string): UpstreamUser[] {
  const raw = parseJson(text, '')
  if (!isObject(raw)) throw new InvalidFile('expected an object keyed by user ID or username')
  return Object.entries(raw).map(([key, value]) => {
    const where = `/${key}`
    const entry = check(checkers.object, value, where)
    if ('username' in entry) return { layout: 'latest', key, record: check(checkers.latestUser, entry, where) }
    return { layout: 'seed', key, record: check(checkers.seedUser, entry, where) }
  })
}

/** roles.json, in rank order: by `position` (latest), else in file order (seed). */
export function parseRoles(text: string): UpstreamRole[] {
  const raw = parseJson(text, '')
  if (!isObject(raw)) throw new InvalidFile('expected an object keyed by role name')
  const roles = Object.entries(raw).map(([name, value], index) => ({ ...check(checkers.role, value, `/${name}`), name, index }))
  roles.sort((a, b) => (a.position ?? a.index) - (b.position ?? b.index) || a.index - b.index)
  return roles.map(({ index: _index, ...role }) => role)
}

/** channels.json: the channel list in display order. A repeated name keeps its first entry. */
export function parseChannels(text: string): UpstreamChannel[] {
  const raw = parseJson(text, '')
  if (!Array.isArray(raw)) throw new InvalidFile('expected an array of channels')
  const seen = new Set<string>()
  return raw
    .map((value, index) => check(checkers.channel, value, `/${index}`))
    .filter((channel) => !seen.has(channel.name) && seen.add(channel.name))
}

/**
 * channels/<name>.json: JSON Lines (latest; each line padded with spaces so edits fit in
 * place), or one JSON array (seed, and latest's legacy form). Upstream silently drops a line it
 * cannot parse; an import reports the file instead, so nothing is lost without a word.
 */
export function parseMessages(text: string): UpstreamMessage[] {
  const trimmed = text.trim()
  if (trimmed === '') return []
  if (trimmed.startsWith('[')) {
    const raw = parseJson(trimmed, '')
    if (!Array.isArray(raw)) throw new InvalidFile('expected a JSON array of messages')
    return raw.map((value, index) => check(checkers.message, value, `/${index}`))
  }
  const messages: UpstreamMessage[] = []
  text.split('\n').forEach((line, index) => {
    const content = line.trim()
    if (content === '') return
    const label = `line ${index + 1}: `
    messages.push(check(checkers.message, parseJson(content, label), '', label))
  })
  return messages
}

const Thread = T.Object(
  {
    id: T.String({ minLength: 1 }),
    name: T.String(),
    parent_channel: T.String({ minLength: 1 }),
    created_by: T.String(),
    created_at: T.Number(),
    locked: T.Optional(T.Boolean()),
    archived: T.Optional(T.Boolean()),
    participants: T.Optional(Strings),
  },
  Open,
)

const PollOption = T.Object({ id: T.String({ minLength: 1 }), text: T.String(), emoji: T.Optional(OrNull(T.String())) }, Open)
const Poll = T.Object(
  {
    id: T.String({ minLength: 1 }),
    message_id: T.String({ minLength: 1 }),
    question: T.String(),
    options: T.Array(PollOption),
    allow_multiselect: T.Optional(T.Boolean()),
    expires_at: T.Optional(OrNull(T.Number())),
    created_by: T.String(),
    created_at: T.Number(),
    ended: T.Optional(T.Boolean()),
    ended_at: T.Optional(OrNull(T.Number())),
  },
  Open,
)
const Vote = T.Object({ poll_id: T.String({ minLength: 1 }), option_id: T.String(), user_id: T.String(), voted_at: T.Optional(T.Number()) }, Open)
const Positions = T.Record(T.String(), T.String())

export type UpstreamThread = Static<typeof Thread>
export type UpstreamPoll = Static<typeof Poll>
export type UpstreamVote = Static<typeof Vote>

const more = {
  thread: TypeCompiler.Compile(Thread),
  poll: TypeCompiler.Compile(Poll),
  vote: TypeCompiler.Compile(Vote),
  positions: TypeCompiler.Compile(Positions),
}

/** threads/<id>.json: one thread (data.md §6), users by ID. */
export function parseThread(text: string): UpstreamThread {
  return check(more.thread, parseJson(text, ''), '')
}

/**
 * polls.json: the container is not documented upstream (data.md §16); both an object keyed by
 * poll ID and an array of polls are read.
 */
export function parsePolls(text: string): UpstreamPoll[] {
  const raw = parseJson(text, '')
  const entries = Array.isArray(raw) ? raw.map((value, index) => [String(index), value] as const) : isObject(raw) ? Object.entries(raw) : undefined
  if (!entries) throw new InvalidFile('expected an object keyed by poll ID, or an array of polls')
  return entries.map(([key, value]) => check(more.poll, value, `/${key}`))
}

/** poll_votes.json: an array of votes, or (per data.md §7, "a list per poll") an object of such lists by poll ID. */
export function parseVotes(text: string): UpstreamVote[] {
  const raw = parseJson(text, '')
  if (Array.isArray(raw)) return raw.map((value, index) => check(more.vote, value, `/${index}`))
  if (!isObject(raw)) throw new InvalidFile('expected an array of votes, or an object of vote lists by poll ID')
  return Object.entries(raw).flatMap(([pollId, list]) => {
    if (!Array.isArray(list)) throw new InvalidFile(`/${pollId}: expected an array of votes`)
    return list.map((value, index) => check(more.vote, { poll_id: pollId, ...(isObject(value) ? value : {}) }, `/${pollId}/${index}`))
  })
}

/** unreads.json: per user ID, the last read message ID per key (`<channel>` or `thread/<id>`). */
export function parseUnreads(text: string): Array<{ userId: string; key: string; messageId: string }> {
  const raw = parseJson(text, '')
  if (!isObject(raw)) throw new InvalidFile('expected an object keyed by user ID')
  return Object.entries(raw).flatMap(([userId, value]) =>
    Object.entries(check(more.positions, value, `/${userId}`)).map(([key, messageId]) => ({ userId, key, messageId })),
  )
}

const Webhook = T.Object(
  {
    channel: T.String({ minLength: 1 }),
    name: T.String(),
    token: T.String({ minLength: 1 }),
    created_by: T.Optional(T.String()),
    created_at: T.Optional(T.Number()),
    avatar: T.Optional(T.Unknown()),
  },
  Open,
)
const webhookChecker = TypeCompiler.Compile(Webhook)

export type UpstreamWebhook = Static<typeof Webhook> & { id: string }

/** webhooks.json: an object keyed by webhook ID (data.md §10), each with its plain token. */
export function parseWebhooks(text: string): UpstreamWebhook[] {
  const raw = parseJson(text, '')
  if (!isObject(raw)) throw new InvalidFile('expected an object keyed by webhook ID')
  return Object.entries(raw).map(([id, value]) => ({ ...check(webhookChecker, value, `/${id}`), id }))
}
