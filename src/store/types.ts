/**
 * Storage seams. Commands only see these interfaces; `sqlite/` implements them today and a
 * Postgres driver (Bun.sql) can implement them later without touching a command. Methods
 * return Promises even where bun:sqlite is synchronous, so that swap stays mechanical.
 * Records use the protocol's field names; users are referenced by user ID, never username.
 */

export interface Status {
  status: string
  text: string
}

export interface UserRecord {
  id: string
  username: string
  roles: string[]
  status: Status
  nickname?: string | null
  pfp_url?: string | null
  password_hash?: string
  /**
   * Holds `owner` because `server.owner.name` named this account; when the configuration names
   * someone else, the role goes at this account's next login. Never sent to clients.
   */
  config_owner?: boolean
  validator?: string
  /** Keys copied from `DB.users.default` that the server does not interpret; echoed in `ready`. */
  extra: Record<string, unknown>
}

export interface RoleRecord {
  name: string
  id: string
  description: string
  color: string | null
  hoisted: boolean
  permissions: string[]
  self_assignable: boolean
  category: string | null
  position: number
}

/** A channel as stored and sent: known keys plus whatever an owner added (icon, wallpaper…). */
export interface ChannelRecord {
  name: string
  type: string
  permissions?: Record<string, string[]>
  [key: string]: unknown
}

/** A forum thread as stored: users by ID (usernames only on the wire). */
export interface ThreadRecord {
  id: string
  name: string
  /** The forum channel the thread belongs to. */
  parent_channel: string
  /** User ID of the creator, who is always a participant. */
  created_by: string
  created_at: number
  locked: boolean
  archived: boolean
  /** User IDs, creator first, then in joining order. */
  participants: string[]
}

/** Where a message lives: a channel, or a thread (whose parent is `channel`). */
export interface Target {
  channel: string
  thread_id: string | null
}

export interface MessageRecord {
  id: string
  channel: string
  thread_id: string | null
  /** Author user ID, or a fixed system author such as `originChats`. */
  user: string
  content: string
  timestamp: number
  reply_to?: { id: string; user: string }
  ping?: boolean
  edited?: boolean
  pinned?: boolean
  embeds?: unknown[]
  attachments?: unknown[]
  interaction?: unknown
  webhook?: unknown
  /** emoji → user IDs in reaction order. */
  reactions?: Record<string, string[]>
}

export type NewMessage = Omit<MessageRecord, 'id' | 'timestamp' | 'reactions' | 'edited' | 'pinned'>

/** Who a message pings, as stored for `pings_get`: user IDs (mentioned or replied to) and mentioned role names. */
export interface PingTargets {
  users: string[]
  roles: string[]
}

export interface MessagePage {
  messages: MessageRecord[]
  /** 0-based index of the first returned message, oldest first. */
  first: number
}

export interface UserRepo {
  get(id: string): Promise<UserRecord | undefined>
  /** Case-insensitive; stored spelling is kept. */
  getByUsername(username: string): Promise<UserRecord | undefined>
  /** By username first, then as an ID — how the protocol resolves a "user" field. */
  resolve(nameOrId: string): Promise<UserRecord | undefined>
  /** Every user in creation order. */
  list(): Promise<UserRecord[]>
  count(): Promise<number>
  insert(user: UserRecord): Promise<void>
  update(id: string, patch: Partial<Omit<UserRecord, 'id'>>): Promise<UserRecord | undefined>
  /**
   * Atomic read-modify-write: `change` sees the current record and returns the patch to apply
   * (undefined: leave it as it is). Anything derived from a record read before an `await` must be
   * written this way, or a concurrent change (a ban, a role edit) would be overwritten.
   * Resolves with the record as stored afterwards; undefined when the user does not exist.
   */
  updateWith(id: string, change: (current: UserRecord) => Partial<Omit<UserRecord, 'id'>> | undefined): Promise<UserRecord | undefined>
  /** Deletes the user, their read positions and their pings. */
  delete(id: string): Promise<boolean>
}

export interface RoleRepo {
  get(name: string): Promise<RoleRecord | undefined>
  /** In rank order (position ascending). */
  list(): Promise<RoleRecord[]>
  count(): Promise<number>
  insert(role: RoleRecord): Promise<void>
  /**
   * Changes a role; a new `name` renames it in every user's role list too, in one transaction.
   * Returns the updated role, or undefined when `name` is unknown.
   */
  update(name: string, patch: Partial<RoleRecord>): Promise<RoleRecord | undefined>
  /** Deletes the role and removes it from every user, in one transaction. */
  delete(name: string): Promise<boolean>
  /** Gives each listed role its index as position, all or nothing. False if a name is unknown. */
  reorder(names: string[]): Promise<boolean>
}

export interface ChannelRepo {
  get(name: string): Promise<ChannelRecord | undefined>
  /** In display order. */
  list(): Promise<ChannelRecord[]>
  count(): Promise<number>
  /** Appends at the end of the display order. */
  insert(channel: ChannelRecord): Promise<void>
  /**
   * Replaces the stored channel. When `channel.name` differs from `name` the channel is renamed
   * and its history, pins, polls, pings, counts and read positions move with it, in one
   * transaction. Messages already accepted for the old name are stored first, so they move too.
   */
  update(name: string, channel: ChannelRecord): Promise<void>
  /** Moves the channel to `position` (clamped to the end) in the display order. */
  move(name: string, position: number): Promise<boolean>
  /**
   * Deletes the channel with its messages (and so their polls), pings, counts and read positions
   * (its threads' too), in one transaction.
   */
  delete(name: string): Promise<boolean>
}

/** The read-position key of a target (data.md §12): the channel's name, or `thread/<id>`. */
export const readPositionKey = (target: Target) => (target.thread_id ? `thread/${target.thread_id}` : target.channel)

/** A write named a channel (or thread) that no longer exists when the write happened. */
export class TargetGoneError extends Error {
  constructor(readonly target: Target) {
    super(`${target.thread_id ? `thread ${JSON.stringify(target.thread_id)} of ` : ''}channel ${JSON.stringify(target.channel)} no longer exists`)
  }
}

export interface MessageRepo {
  /**
   * Commits before resolving: a message is only published once it is durable. Rejects with
   * TargetGoneError when its channel was deleted or renamed before the write: a message is
   * never stored under a channel name that does not exist. `pings` are stored with it, in the
   * same transaction.
   */
  insert(message: NewMessage, pings?: PingTargets): Promise<MessageRecord>
  get(target: Target, id: string): Promise<MessageRecord | undefined>
  /** `limit` messages ending `offset` messages before the newest, oldest first. */
  listLatest(target: Target, offset: number, limit: number): Promise<MessageRecord[]>
  /** Up to `limit` messages older than `beforeId`, oldest first; undefined when the ID is unknown. */
  listBefore(target: Target, beforeId: string, limit: number): Promise<MessagePage | undefined>
  /**
   * The message `id` with up to `below` older and `above` newer messages, oldest first, and the
   * 0-based index of the first; undefined when the ID is unknown.
   */
  listAround(target: Target, id: string, above: number, below: number): Promise<MessagePage | undefined>
  /** Messages replying to `id`, oldest first. */
  listReplies(target: Target, id: string, limit: number): Promise<MessageRecord[]>
  /** Pinned messages, newest first. */
  listPinned(target: Target): Promise<MessageRecord[]>
  /** Case-insensitive substring search on content, newest first. */
  search(target: Target, query: string, limit: number): Promise<MessageRecord[]>
  newest(target: Target): Promise<MessageRecord | undefined>
  /** With `pings`, the message's stored pings are replaced by them. */
  edit(target: Target, id: string, content: string, embeds?: unknown[], pings?: PingTargets): Promise<MessageRecord | undefined>
  /** Also forgets the message's pings; the target's counts stay exact. */
  delete(target: Target, id: string): Promise<boolean>
  /**
   * `failed` when the message is missing or the user already reacted with that emoji; `full`
   * when the emoji is new on the message and it already has `maxEmojis` different ones.
   */
  addReaction(target: Target, id: string, emoji: string, userId: string, maxEmojis: number): Promise<'added' | 'failed' | 'full'>
  /** False when the message is missing or the user had not reacted with that emoji. */
  removeReaction(target: Target, id: string, emoji: string, userId: string): Promise<boolean>
  /** False when the message is missing. */
  setPinned(target: Target, id: string, pinned: boolean): Promise<boolean>
  /**
   * Stores complete records as they are (ID, timestamp, reactions, pins, edits), skipping IDs
   * already stored; returns how many were new. For importing another server's history. Unread
   * counts include them; they ping nobody.
   */
  importMany(messages: MessageRecord[]): Promise<number>
}

export interface ThreadRepo {
  get(id: string): Promise<ThreadRecord | undefined>
  /** The newest `limit` threads of a forum, newest first. */
  listByChannel(channel: string, limit: number): Promise<ThreadRecord[]>
  /** Stores a new thread with its creator as the first participant. */
  insert(thread: Omit<ThreadRecord, 'participants'>): Promise<ThreadRecord>
  update(id: string, patch: Partial<Pick<ThreadRecord, 'name' | 'locked' | 'archived'>>): Promise<ThreadRecord | undefined>
  /**
   * Deletes the thread with its messages, participants and read positions, in one transaction;
   * messages already accepted for it are stored first and go with it.
   */
  delete(id: string): Promise<boolean>
  /** Adds (or, for `leave`, removes) a participant; the creator never leaves. Undefined when the thread is gone. */
  join(id: string, userId: string): Promise<ThreadRecord | undefined>
  leave(id: string, userId: string): Promise<ThreadRecord | undefined>
}

/** One answer of a poll as stored and sent; `emoji` is absent when unset. */
export interface PollOption {
  id: string
  text: string
  emoji?: string
}

/** A poll as stored (data.md §7): the creator by user ID; `channel` is the thread's parent for thread polls. */
export interface PollRecord {
  id: string
  message_id: string
  channel: string
  thread_id: string | null
  question: string
  options: PollOption[]
  allow_multiselect: boolean
  /** Unix seconds; null: open until someone ends it. */
  expires_at: number | null
  created_by: string
  created_at: number
  ended: boolean
  ended_at: number | null
}

/** How a vote went: `voted` carries the voter's options afterwards, in the poll's option order. */
export type VoteOutcome = { status: 'voted'; option_ids: string[] } | { status: 'missing' | 'ended' | 'expired' }

export interface PollTally {
  /** Vote records per option ID; options nobody chose are absent. */
  counts: Record<string, number>
  /** User IDs per option ID in voting order; filled only when asked for. */
  voters: Record<string, string[]>
}

/**
 * Polls and their votes, one row per (poll, user, option). A poll lives as long as its message:
 * deleting the message (or its channel or thread) deletes the poll and its votes, and a channel
 * rename moves it.
 */
export interface PollRepo {
  get(id: string): Promise<PollRecord | undefined>
  getByMessage(messageId: string): Promise<PollRecord | undefined>
  /**
   * Stores a poll for a message already stored; `channel` and `thread_id` are taken from the
   * message as it is now. Rejects with TargetGoneError when the message is gone.
   */
  insert(poll: Omit<PollRecord, 'ended' | 'ended_at'>): Promise<PollRecord>
  /**
   * Makes `optionIds` the user's whole choice in one transaction: votes for other options go,
   * new ones are added, unchanged ones keep their time. An empty list withdraws every vote.
   * Refused, changing nothing, when the poll is gone, ended, or past `expires_at` at `now`.
   */
  vote(pollId: string, userId: string, optionIds: string[], now: number): Promise<VoteOutcome>
  /** The user's options in `pollId`, in the poll's option order. */
  votesOf(pollId: string, userId: string): Promise<string[]>
  /**
   * Marks the poll ended at `at`. Only the call that ended it gets the ended record; every other
   * call (already ended, unknown poll) gets undefined, so an ending is announced exactly once.
   */
  end(pollId: string, at: number): Promise<PollRecord | undefined>
  /** Vote counts per option, and with `withVoters` who voted for each. */
  results(pollId: string, withVoters: boolean): Promise<PollTally>
  /** Up to `limit` open polls whose `expires_at` is at or before `now`, earliest first. */
  listDue(now: number, limit: number): Promise<PollRecord[]>
  /** The earliest `expires_at` of any open poll; undefined when none has one. */
  nextExpiry(): Promise<number | undefined>
  /**
   * Stores complete polls (ended ones too) and votes as they are, for importing another server's:
   * polls whose ID is stored or whose message is not are skipped, so are votes already stored or
   * for unknown polls. Returns how many of each were new.
   */
  importMany(polls: PollRecord[], votes: PollVote[]): Promise<{ polls: number; votes: number }>
}

/** One vote: one option of one user. */
export interface PollVote {
  poll_id: string
  option_id: string
  user_id: string
  voted_at: number
}

export interface ModlogEntry {
  /** `<ms since epoch>-<actor user id>`. */
  id: string
  action: string
  category: string
  actor_id: string
  actor_name: string
  target_id: string | null
  target_name: string | null
  details: Record<string, unknown>
  timestamp: number
}

export interface ModlogQuery {
  limit: number
  offset: number
  /** Only entries strictly newer than this (Unix seconds). */
  after?: number
  category?: string
  actor?: string
  target?: string
  action?: string
}

export interface ModlogRepo {
  insert(entry: ModlogEntry): Promise<void>
  /** Newest first, with the number of entries matching the query. */
  list(query: ModlogQuery): Promise<{ entries: ModlogEntry[]; total: number }>
  /** Counts per `category.action` and per category over the newest `window` entries, and the total stored. */
  summary(window: number): Promise<{ action_counts: Record<string, number>; category_totals: Record<string, number>; total: number }>
  /** Deletes entries older than `cutoff[category]` (Unix seconds; `fallback` for other categories). */
  prune(cutoff: Record<string, number>, fallback: number): Promise<number>
}

/** One target's read position and counts, as `unreads_get` and `unreads_count` report them. */
export interface UnreadCount {
  last_read: string | null
  unread_count: number
  total_messages: number
}

/**
 * Read positions: per user, the last read message of each channel or thread (key: `readPositionKey`).
 * Counting costs the same however long the history is.
 */
export interface UnreadRepo {
  /** `messageId` is stored as given, also when it is not a message of `target` (then everything counts as unread). */
  set(userId: string, target: Target, messageId: string): Promise<void>
  get(userId: string, target: Target): Promise<string | undefined>
  /** Exact counts for each target, in the order given. */
  count(userId: string, targets: Target[]): Promise<UnreadCount[]>
}

export interface PingQuery {
  userId: string
  /** The user's current roles: mentions of any of them count. */
  roles: readonly string[]
  /** Only messages in these channels (for threads: their parent channels). */
  channels: readonly string[]
  limit: number
  offset: number
}

/** Messages that ping a user (see PingTargets), newest first. */
export interface PingRepo {
  list(query: PingQuery): Promise<{ messages: MessageRecord[]; total: number }>
}

/** A custom emoji (data.md §8); its image is `<emoji folder>/<fileName>`, `fileName` = `<id>.<ext>`. */
export interface EmojiRecord {
  /** Decimal string; never reused, also after the emoji with the highest ID is deleted. */
  id: string
  name: string
  fileName: string
}

/**
 * Custom emojis. Names are unique case-insensitively. Writes that come with an image take a
 * `place` callback that moves the image into place inside the write's transaction: when it
 * throws, nothing is stored, so a record never names a file that was not put there.
 */
export interface EmojiRepo {
  /** In ID order. */
  list(): Promise<EmojiRecord[]>
  get(id: string): Promise<EmojiRecord | undefined>
  /** Case-insensitive. */
  getByName(name: string): Promise<EmojiRecord | undefined>
  getByFileName(fileName: string): Promise<EmojiRecord | undefined>
  /** A new emoji with the next ID and file `<id>.<extension>`; refused when the name is taken or `maxCount` emojis exist. */
  insert(name: string, extension: string, maxCount: number, place: (record: EmojiRecord) => void): Promise<EmojiRecord | 'taken' | 'full'>
  /** A new name and/or a new image (file `<id>.<extension>`); the record before and after. */
  update(
    id: string,
    changes: { name?: string; extension?: string },
    place: (record: EmojiRecord) => void,
  ): Promise<{ before: EmojiRecord; after: EmojiRecord } | 'missing' | 'taken'>
  /** The record removed, if there was one. */
  delete(id: string): Promise<EmojiRecord | undefined>
  /** For imports: stores `record` with its own ID unless that ID or its name is taken (false then). */
  importOne(record: EmojiRecord, place: (record: EmojiRecord) => void): Promise<boolean>
}

/** A webhook as stored and sent (data.md §10), without its token: only the token's digest is kept. */
export interface WebhookRecord {
  id: string
  channel: string
  name: string
  /** User ID of the creator. */
  created_by: string
  created_at: number
  /** Any JSON value a manager set (upstream stores it as given); null when unset. */
  avatar: unknown
}

/**
 * Webhooks, found for a post by the digest of their token (`tokenHash`: SHA-256, hex). A channel
 * rename moves its webhooks; deleting the channel deletes them.
 */
export interface WebhookRepo {
  get(id: string): Promise<WebhookRecord | undefined>
  /** In creation order; only those of `channel` when given. */
  list(channel?: string): Promise<WebhookRecord[]>
  /** False when the channel no longer exists. */
  insert(webhook: WebhookRecord, tokenHash: string): Promise<boolean>
  update(id: string, patch: Partial<Pick<WebhookRecord, 'name' | 'avatar'>>): Promise<WebhookRecord | undefined>
  /** Replaces the token: the old one stops working at once. */
  setTokenHash(id: string, tokenHash: string): Promise<WebhookRecord | undefined>
  delete(id: string): Promise<boolean>
  /** The webhook whose token has this digest, with the digest as stored (for a constant-time comparison). */
  findByTokenHash(tokenHash: string): Promise<{ webhook: WebhookRecord; tokenHash: string } | undefined>
  /**
   * Stores webhooks of another server as they are, skipping IDs and token digests already stored
   * and webhooks of unknown channels; returns how many were new.
   */
  importMany(webhooks: Array<{ webhook: WebhookRecord; tokenHash: string }>): Promise<number>
}

/** A browser's Web Push subscription (data.md §13); `last_used` in Unix seconds. */
export interface PushSubscriptionRecord {
  user_id: string
  endpoint: string
  p256dh: string
  auth: string
  device_fingerprint: string | null
  last_used: number
}

export interface PushRepo {
  /**
   * Stores a subscription for its user: it replaces the user's subscription from the same device
   * (fingerprint) and any subscription with the same endpoint (whoever held it), then drops the
   * user's least recently used ones beyond `maxPerUser`, all in one transaction.
   */
  save(subscription: PushSubscriptionRecord, maxPerUser: number): Promise<void>
  /** Removes the user's subscription with this endpoint; false when there was none. */
  remove(userId: string, endpoint: string): Promise<boolean>
  /** Removes the subscription with this endpoint, whoever holds it (the push service says it is gone). */
  removeEndpoint(endpoint: string): Promise<void>
  listByUser(userId: string): Promise<PushSubscriptionRecord[]>
  /** Marks a subscription used at `at`. */
  touch(endpoint: string, at: number): Promise<void>
  /** Marks the user's subscription from this device used at `at` (they signed in on it). */
  touchDevice(userId: string, fingerprint: string, at: number): Promise<void>
  /** Deletes subscriptions last used before `cutoff`; returns how many. */
  purge(cutoff: number): Promise<number>
  count(): Promise<number>
  /** Stores subscriptions of users that exist, skipping endpoints already stored; returns how many were added. */
  importMany(subscriptions: PushSubscriptionRecord[]): Promise<number>
}

export interface Store {
  users: UserRepo
  roles: RoleRepo
  channels: ChannelRepo
  threads: ThreadRepo
  messages: MessageRepo
  polls: PollRepo
  unreads: UnreadRepo
  pings: PingRepo
  modlog: ModlogRepo
  attachments: AttachmentRepo
  emojis: EmojiRepo
  webhooks: WebhookRepo
  push: PushRepo
  /** Server settings shared by every node (the PostgreSQL driver only; alone, config.json holds them). */
  serverSettings?: ServerSettingsRepo
  /** Writes a consistent copy of the whole database to `path` while others keep using it. */
  backup(path: string): Promise<void>
  /** Resolves once the database answers a trivial query; rejects when it cannot (health checks). */
  ping(): Promise<void>
  /** Writes what is still waiting, then lets go of the database (a pool closes asynchronously). */
  close(): void | Promise<void>
  /** A store that caches reads (the shared-database driver) forgets what another node changed (see `StoreChanges`). */
  invalidate?(scope: string): void
}

/**
 * Told after each committed write that other nodes' caches must forget, by scope: `user:<id>`,
 * `users`, `roles`, `channels`. A cluster sends them to the other nodes' `Store.invalidate`.
 */
export type StoreChanges = (scope: string) => void

/** An uploaded file's metadata (data.md §9, stored form); the bytes are in the attachments folder under `filename`. */
export interface AttachmentRecord {
  id: string
  /** `<id>.<extension>`: never anything the client sent. */
  filename: string
  original_name: string
  mime_type: string
  size: number
  /** SHA-256 hex of the stored bytes. */
  hash: string
  uploader_id: string
  uploader_name: string
  /** The channel named at upload. */
  channel: string
  /** Unix seconds. */
  created_at: number
  expires_at: number
  permanent: boolean
  /** A message has listed it at least once. */
  referenced: boolean
  width?: number
  height?: number
}

/** What a re-upload of the same bytes by the same uploader changes (data.md §9, deduplication). */
export type AttachmentRenewal = Pick<AttachmentRecord, 'expires_at' | 'permanent' | 'original_name'>

export interface AttachmentRepo {
  get(id: string): Promise<AttachmentRecord | undefined>
  /** Those of `ids` that exist, in no particular order. */
  getMany(ids: string[]): Promise<AttachmentRecord[]>
  /** The uploader's unexpired attachment with these bytes, if any. */
  findByHash(uploaderId: string, hash: string, now: number): Promise<AttachmentRecord | undefined>
  insert(record: AttachmentRecord): Promise<void>
  renew(id: string, renewal: AttachmentRenewal): Promise<AttachmentRecord | undefined>
  /** Records that message `messageId` lists these attachments (marks them referenced). */
  reference(ids: string[], messageId: string): Promise<void>
  /** Deletes the row; resolves with it, or undefined when there was none. */
  delete(id: string): Promise<AttachmentRecord | undefined>
  /** The uploader's unexpired attachments: how many and their total size in bytes. */
  usage(uploaderId: string, now: number): Promise<{ count: number; bytes: number }>
  /** The uploader's unexpired attachments, oldest first, at most `limit`. */
  oldest(uploaderId: string, now: number, limit: number): Promise<AttachmentRecord[]>
  /**
   * What cleanup removes, at most `limit`: expired ones, never-referenced ones created before
   * `unreferencedBefore`, and referenced ones whose every message is gone.
   */
  listDoomed(now: number, unreferencedBefore: number, limit: number): Promise<AttachmentRecord[]>
  /** Of `ids`, those that were referenced and no longer have any message (after a message deletion). */
  listOrphaned(ids: string[]): Promise<AttachmentRecord[]>
  /** Those of `ids` that have a row, for matching files on disk to rows. */
  existing(ids: string[]): Promise<Set<string>>
}

/** `server.name`, `server.icon`, `server.banner` as `server_update` set them; null: cleared (config.json's value no longer applies). */
export type ServerOverrides = Partial<Record<'name' | 'icon' | 'banner', string | null>>

/** Server settings stored in a database several nodes share, so a change made on one applies on all. */
export interface ServerSettingsRepo {
  get(): Promise<ServerOverrides>
  /** Merges `updates` into what is stored. */
  update(updates: ServerOverrides): Promise<void>
}
