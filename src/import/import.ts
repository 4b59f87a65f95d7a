import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { attachmentIds } from '../attachments/message.ts'
import { AttachmentFiles } from '../attachments/files.ts'
import { importAttachments, parseAttachments } from './attachments.ts'
import { importEmojis, parseEmojiIndex, type EmojiImportTarget } from './emojis.ts'
import type { ChannelRecord, MessageRecord, PollRecord, RoleRecord, Store, Target, UserRecord } from '../store/types.ts'
import {
  InvalidFile,
  findDataFolder,
  isDirectory,
  parseChannels,
  parseMessages,
  parsePolls,
  parseRoles,
  parseThread,
  parseUnreads,
  parseUsers,
  parseVotes,
  parseWebhooks,
  type UpstreamChannel,
  type UpstreamMessage,
  type UpstreamPoll,
  type UpstreamRole,
  type UpstreamThread,
  type UpstreamUser,
} from './upstream.ts'
import { importWebhooks } from './webhooks.ts'
import { importVapid, parsePushSubscriptions, type VapidImport } from './push.ts'

/**
 * Imports an upstream OriginChats server's data (seed or latest layout) into the store.
 *
 * Merge rule — the import only ever adds, so running it twice adds nothing:
 * - a user is skipped when its ID exists; a seed user (keyed by username, no ID) gets the
 *   lower-cased username as ID, and is skipped when a user with that ID or username exists,
 *   its messages then going to that user;
 * - a role or channel is skipped when one with that name exists (its definition is left as it
 *   is); new ones are placed before the upstream role/channel that follows them (see
 *   mergeOrder), so a fresh database ends up in upstream's order;
 * - a message is skipped when its ID exists; new ones keep ID, timestamp, reply, reactions,
 *   pin and edit flag, and are appended to their channel's history.
 * - an emoji is skipped when its ID exists; new ones keep ID, name and file extension, each
 *   checked as an upload is (src/import/emojis.ts).
 * Message authors, reply authors and reactors that are seed usernames (or any known username
 * that is not a user ID) become that user's ID; anything else (`originChats`…) is kept as is.
 */

export interface ImportCounts {
  imported: number
  skipped: number
}

export interface ImportReport {
  /** The folder the files were read from (`<upstream>/db` or the upstream folder itself). */
  folder: string
  users: ImportCounts
  roles: ImportCounts
  channels: ImportCounts
  messages: ImportCounts
  threads: ImportCounts
  polls: ImportCounts
  votes: ImportCounts
  /** Read positions (a user's last read message in a channel or thread). */
  unreads: ImportCounts
  /** Uploaded files (attachments.json and the attachments/ folder). */
  attachments: ImportCounts
  /** Custom emojis with their images (serverEmojis.json, serverEmojis/). */
  emojis: ImportCounts
  webhooks: ImportCounts
  /** Web Push subscriptions (they need upstream's VAPID key, see importVapid). */
  push: ImportCounts
  /** Malformed files, skipped as a whole. */
  invalid: Array<{ path: string; reason: string }>
  /** Things left out that are not errors (messages of unknown channels, unsupported files). */
  notes: string[]
}

export interface ImportOptions {
  /** Roles of an imported user whose record has none (`DB.users.default.roles`). */
  defaultRoles?: string[]
  /** Where attachment files go (`<data folder>/attachments`); without it attachments are not imported. */
  attachmentsDir?: string
  /** Where emojis go; without it serverEmojis.json is left out (and named in the notes). */
  emojis?: EmojiImportTarget
  /** The data folder, where upstream's VAPID keys go; without it keys and subscriptions are left out. */
  dataDir?: string
}

export class ImportError extends Error {}

/** Upstream files this importer does not read yet; named in the report when present. */
const UNSUPPORTED = [
  'modlog.json',
]

/** The folder holding the upstream files, or ImportError when `upstream` has none. */
export function locateUpstream(upstream: string): string {
  const folder = findDataFolder(upstream)
  if (!folder) throw new ImportError(`${upstream}: no OriginChats data here (expected db/users.json, db/channels.json, db/channels/)`)
  return folder
}

export async function importUpstream(store: Store, upstream: string, options: ImportOptions = {}): Promise<ImportReport> {
  const folder = locateUpstream(upstream)
  const report: ImportReport = {
    folder,
    users: { imported: 0, skipped: 0 },
    roles: { imported: 0, skipped: 0 },
    channels: { imported: 0, skipped: 0 },
    messages: { imported: 0, skipped: 0 },
    threads: { imported: 0, skipped: 0 },
    polls: { imported: 0, skipped: 0 },
    votes: { imported: 0, skipped: 0 },
    unreads: { imported: 0, skipped: 0 },
    attachments: { imported: 0, skipped: 0 },
    emojis: { imported: 0, skipped: 0 },
    webhooks: { imported: 0, skipped: 0 },
    push: { imported: 0, skipped: 0 },
    invalid: [],
    notes: [],
  }
  /** Reads and parses one file; a missing file is undefined, a malformed one is reported and undefined. */
  const read = async <T>(path: string, parse: (text: string) => T): Promise<T | undefined> => {
    if (!existsSync(path)) return undefined
    try {
      return parse(await Bun.file(path).text())
    } catch (error) {
      if (!(error instanceof InvalidFile)) throw error
      report.invalid.push({ path, reason: error.message })
      return undefined
    }
  }

  const roles = await read(join(folder, 'roles.json'), parseRoles)
  if (roles) report.roles = await importRoles(store, roles)
  const users = await read(join(folder, 'users.json'), parseUsers)
  const names = new Map<string, string>()
  if (users) report.users = await importUsers(store, users, options.defaultRoles ?? ['user'], names)
  const channels = await read(join(folder, 'channels.json'), parseChannels)
  if (channels) report.channels = await importChannels(store, channels)

  const resolveUser = await userResolver(store, names)
  /** Attachment ID → the imported messages that list it, linked once the attachments are in. */
  const listed: Array<{ attachmentId: string; messageId: string }> = []
  const channelsDir = join(folder, 'channels')
  for (const file of jsonFiles(channelsDir)) {
    const name = file.slice(0, -'.json'.length)
    const path = join(channelsDir, file)
    if (!(await store.channels.get(name))) {
      report.notes.push(`${path}: no channel named '${name}'; its messages were not imported`)
      continue
    }
    const messages = await read(path, parseMessages)
    if (!messages) continue
    await importMessages(store, report, toMessageRecords({ channel: name, thread_id: null }, messages, resolveUser), listed)
  }

  const threadsDir = join(folder, 'threads')
  for (const file of jsonFiles(threadsDir)) {
    const path = join(threadsDir, file)
    const thread = await read(path, parseThread)
    if (!thread) continue
    const parent = await store.channels.get(thread.parent_channel)
    if (parent?.type !== 'forum') {
      report.notes.push(`${path}: no forum channel named '${thread.parent_channel}'; the thread was not imported`)
      continue
    }
    report.threads[(await importThread(store, thread, resolveUser)) ? 'imported' : 'skipped']++
  }
  const threadMessagesDir = join(folder, 'threadMessages')
  const threadFiles = isDirectory(threadMessagesDir) ? readdirSync(threadMessagesDir).filter((file) => file.endsWith('.jsonl')).sort() : []
  for (const file of threadFiles) {
    const path = join(threadMessagesDir, file)
    const thread = await store.threads.get(file.slice(0, -'.jsonl'.length))
    if (!thread) {
      report.notes.push(`${path}: no thread with that ID; its messages were not imported`)
      continue
    }
    const messages = await read(path, parseMessages)
    if (messages) await importMessages(store, report, toMessageRecords({ channel: thread.parent_channel, thread_id: thread.id }, messages, resolveUser), listed)
  }

  const polls = await read(join(folder, 'polls.json'), parsePolls)
  const votes = (await read(join(folder, 'poll_votes.json'), parseVotes)) ?? []
  if (polls) {
    const added = await store.polls.importMany(
      polls.map((poll) => toPollRecord(poll, resolveUser)),
      votes.map((vote) => ({ poll_id: vote.poll_id, option_id: vote.option_id, user_id: resolveUser(vote.user_id), voted_at: vote.voted_at ?? 0 })),
    )
    report.polls = { imported: added.polls, skipped: polls.length - added.polls }
    report.votes = { imported: added.votes, skipped: votes.length - added.votes }
  }

  const positions = await read(join(folder, 'unreads.json'), parseUnreads)
  for (const { userId, key, messageId } of positions ?? []) {
    const user = resolveUser(userId)
    const target = await readTarget(store, key)
    // Only adds: a position this server already holds is newer than the upstream one.
    if (!target || !(await store.users.get(user)) || (await store.unreads.get(user, target)) !== undefined) {
      report.unreads.skipped++
      continue
    }
    await store.unreads.set(user, target, messageId)
    report.unreads.imported++
  }

  const attachments = await read(join(folder, 'attachments.json'), parseAttachments)
  if (attachments && options.attachmentsDir) {
    const result = await importAttachments(store, new AttachmentFiles(options.attachmentsDir), folder, attachments, resolveUser, Date.now() / 1000)
    report.attachments = { imported: result.imported, skipped: result.skipped }
    report.notes.push(...result.notes)
  }
  // Links only to attachments that exist here (the store ignores the others); a second run adds nothing.
  for (const { attachmentId, messageId } of listed) await store.attachments.reference([attachmentId], messageId)
  const emojiIndex = await read(join(folder, 'serverEmojis.json'), parseEmojiIndex)
  if (emojiIndex && options.emojis) {
    const { imported, skipped, invalid, notes } = await importEmojis(folder, emojiIndex, options.emojis)
    report.emojis = { imported, skipped }
    report.invalid.push(...invalid)
    report.notes.push(...notes)
  } else if (emojiIndex) report.notes.push('serverEmojis.json: not imported (no emoji folder given)')
  const webhooks = await read(join(folder, 'webhooks.json'), parseWebhooks)
  if (webhooks) report.webhooks = await importWebhooks(store, webhooks, resolveUser, report.notes)
  if (options.dataDir) await importPush(store, report, [folder, upstream], options.dataDir, read, resolveUser)

  const unsupported = UNSUPPORTED.filter((name) => existsSync(join(folder, name)))
  if (unsupported.length > 0) report.notes.push(`not imported (not supported yet): ${unsupported.join(', ')}`)
  return report
}

/** Upstream's VAPID keys, then its subscriptions when the keys in force are upstream's. */
async function importPush(
  store: Store,
  report: ImportReport,
  upstreamDirs: string[],
  dataDir: string,
  read: <T>(path: string, parse: (text: string) => T) => Promise<T | undefined>,
  resolveUser: (user: string) => string,
) {
  let vapid: VapidImport
  try {
    vapid = await importVapid(store, upstreamDirs, dataDir)
  } catch (error) {
    if (!(error instanceof InvalidFile)) throw error
    report.invalid.push({ path: join(upstreamDirs[0]!, 'vapid'), reason: error.message })
    return
  }
  if (vapid === 'imported') report.notes.push('VAPID keys imported: browsers subscribed upstream keep receiving pushes')
  const path = join(upstreamDirs[0]!, 'push_subscriptions.json')
  if (vapid === 'kept' || vapid === 'absent') {
    if (existsSync(path)) report.notes.push(`${path}: not imported, these subscriptions only work with upstream's VAPID keys, which ${vapid === 'kept' ? 'would replace the key this server\'s subscribers use' : 'were not found'}`)
    return
  }
  const entries = await read(path, parsePushSubscriptions)
  if (!entries) return
  const added = await store.push.importMany(entries.map(({ username, subscription }) => ({ ...subscription, user_id: resolveUser(username) })))
  report.push = { imported: added, skipped: entries.length - added }
}

/**
 * The order after adding `upstream`'s new names to `existing`: each new name goes right before
 * the nearest upstream name after it that is already placed, or last when there is none. (So a
 * new role never outranks a role that upstream ranked above it.)
 */
export function mergeOrder(existing: string[], upstream: string[]): string[] {
  const order = [...existing]
  upstream.forEach((name, index) => {
    if (order.includes(name)) return
    const next = upstream.slice(index + 1).find((following) => order.includes(following))
    order.splice(next === undefined ? order.length : order.indexOf(next), 0, name)
  })
  return order
}

async function importRoles(store: Store, roles: UpstreamRole[]): Promise<ImportCounts> {
  const existing = (await store.roles.list()).map((role) => role.name)
  const fresh = roles.filter((role) => !existing.includes(role.name))
  for (const role of fresh) {
    const record: RoleRecord = {
      name: role.name,
      id: role.id ?? crypto.randomUUID(),
      description: role.description ?? '',
      color: role.color ?? null,
      hoisted: role.hoisted ?? false,
      permissions: role.permissions ?? [],
      self_assignable: role.self_assignable ?? false,
      category: role.category ?? null,
      position: existing.length,
    }
    await store.roles.insert(record)
  }
  if (fresh.length > 0) await store.roles.reorder(mergeOrder(existing, roles.map((role) => role.name)))
  return { imported: fresh.length, skipped: roles.length - fresh.length }
}

/** `names` collects lower-cased username → user ID for resolving authors in message files. */
async function importUsers(store: Store, users: UpstreamUser[], defaultRoles: string[], names: Map<string, string>): Promise<ImportCounts> {
  const counts = { imported: 0, skipped: 0 }
  for (const user of users) {
    const record = toUserRecord(user, defaultRoles)
    const existing = (await store.users.get(record.id)) ?? (user.layout === 'seed' ? await store.users.getByUsername(record.username) : undefined)
    if (!names.has(record.username.toLowerCase())) names.set(record.username.toLowerCase(), existing?.id ?? record.id)
    if (existing) {
      counts.skipped++
      continue
    }
    await store.users.insert(record)
    counts.imported++
  }
  return counts
}

function toUserRecord(user: UpstreamUser, defaultRoles: string[]): UserRecord {
  const status = { status: 'online', text: '' }
  if (user.layout === 'seed') {
    const { roles, ...extra } = user.record
    const id = user.key.trim().toLowerCase()
    return { id, username: id, roles: roles ?? [...defaultRoles], status, extra }
  }
  const { username, roles, status: stored, nickname, pfp_url, password_hash, ...rest } = user.record
  const { validator: _validator, ...extra } = rest as Record<string, unknown>
  const record: UserRecord = {
    id: user.key,
    username,
    roles: roles ?? [...defaultRoles],
    status: stored ? { status: stored.status, text: stored.text ?? '' } : status,
    extra,
  }
  if (nickname !== undefined) record.nickname = nickname
  if (pfp_url !== undefined) record.pfp_url = pfp_url
  if (password_hash !== undefined) record.password_hash = password_hash
  return record
}

async function importChannels(store: Store, channels: UpstreamChannel[]): Promise<ImportCounts> {
  const existing = (await store.channels.list()).map((channel) => channel.name)
  const fresh = channels.filter((channel) => !existing.includes(channel.name))
  for (const channel of fresh) {
    const record: ChannelRecord = { ...channel, type: channel.type ?? 'text' }
    await store.channels.insert(record)
  }
  if (fresh.length > 0) {
    const order = mergeOrder(existing, channels.map((channel) => channel.name))
    for (const [position, name] of order.entries()) await store.channels.move(name, position)
  }
  return { imported: fresh.length, skipped: channels.length - fresh.length }
}

/** A message's `user` as stored here: user IDs stay, usernames become IDs, system authors stay. */
async function userResolver(store: Store, names: Map<string, string>): Promise<(user: string) => string> {
  const users = await store.users.list()
  const ids = new Set(users.map((user) => user.id))
  for (const user of users) if (!names.has(user.username.toLowerCase())) names.set(user.username.toLowerCase(), user.id)
  return (user) => (ids.has(user) ? user : (names.get(user.toLowerCase()) ?? user))
}

/** The channel or thread a read-position key (`<channel>` or `thread/<id>`) names here, if it exists. */
async function readTarget(store: Store, key: string): Promise<Target | undefined> {
  if (key.startsWith('thread/')) {
    const thread = await store.threads.get(key.slice('thread/'.length))
    return thread && { channel: thread.parent_channel, thread_id: thread.id }
  }
  return (await store.channels.get(key)) ? { channel: key, thread_id: null } : undefined
}

const jsonFiles = (dir: string) => (isDirectory(dir) ? readdirSync(dir).filter((file) => file.endsWith('.json')).sort() : [])

async function importMessages(store: Store, report: ImportReport, records: MessageRecord[], listed: Array<{ attachmentId: string; messageId: string }>) {
  const added = await store.messages.importMany(records)
  for (const record of records) for (const attachmentId of attachmentIds(record.attachments)) listed.push({ attachmentId, messageId: record.id })
  report.messages.imported += added
  report.messages.skipped += records.length - added
}

/** A thread, its creator and participants as user IDs here; false when its ID is already stored. */
async function importThread(store: Store, thread: UpstreamThread, resolveUser: (user: string) => string): Promise<boolean> {
  if (await store.threads.get(thread.id)) return false
  const creator = resolveUser(thread.created_by)
  await store.threads.insert({
    id: thread.id,
    name: thread.name,
    parent_channel: thread.parent_channel,
    created_by: creator,
    created_at: thread.created_at,
    locked: thread.locked ?? false,
    archived: thread.archived ?? false,
  })
  for (const participant of thread.participants ?? []) await store.threads.join(thread.id, resolveUser(participant))
  return true
}

function toPollRecord(poll: UpstreamPoll, resolveUser: (user: string) => string): PollRecord {
  return {
    id: poll.id,
    message_id: poll.message_id,
    // Where the poll lives is taken from its message when stored (PollRepo.importMany).
    channel: '',
    thread_id: null,
    question: poll.question,
    options: poll.options.map(({ id, text, emoji }) => (emoji ? { id, text, emoji } : { id, text })),
    allow_multiselect: poll.allow_multiselect ?? false,
    expires_at: poll.expires_at ?? null,
    created_by: resolveUser(poll.created_by),
    created_at: poll.created_at,
    ended: poll.ended ?? false,
    ended_at: poll.ended_at ?? null,
  }
}

function toMessageRecords(target: Target, messages: UpstreamMessage[], resolveUser: (user: string) => string): MessageRecord[] {
  const authors = new Map(messages.map((message) => [message.id, message.user]))
  return messages.map((message) => {
    const record: MessageRecord = {
      id: message.id,
      ...target,
      user: resolveUser(message.user),
      content: message.content,
      timestamp: message.timestamp,
    }
    if (message.reply_to) {
      record.reply_to = { id: message.reply_to.id, user: resolveUser(message.reply_to.user ?? authors.get(message.reply_to.id) ?? '') }
    }
    for (const key of ['ping', 'embeds', 'attachments', 'interaction', 'webhook'] as const) {
      if (message[key] !== undefined && message[key] !== null) Object.assign(record, { [key]: message[key] })
    }
    if (message.edited) record.edited = true
    if (message.pinned) record.pinned = true
    if (message.reactions) {
      const reactions = Object.entries(message.reactions)
        .map(([emoji, users]): [string, string[]] => [emoji, [...new Set(users.map(resolveUser))]])
        .filter(([, users]) => users.length > 0)
      if (reactions.length > 0) record.reactions = Object.fromEntries(reactions)
    }
    return record
  })
}
