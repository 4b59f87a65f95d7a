import type { Static, TSchema } from '@sinclair/typebox'
import type { AttachmentCleanup } from '../attachments/cleanup.ts'
import type { AttachmentService } from '../attachments/service.ts'
import type { AddressCounter } from '../auth/address-limit.ts'
import type { LoginThrottle } from '../auth/login-throttle.ts'
import type { RateLimiter } from '../auth/rate-limit.ts'
import type { RoturClient } from '../auth/rotur.ts'
import type { Config } from '../config/schema.ts'
import type { Logger } from '../log.ts'
import type { Hub } from '../net/hub.ts'
import type { ServerAssets } from '../net/server-assets.ts'
import type { Session } from '../net/session.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import type { PollExpiry } from '../polls/expiry.ts'
import type { PushService } from '../push/service.ts'
import type { PushJob } from '../push/targets.ts'
import type { SlashRegistry } from '../slash/registry.ts'
import type { VoiceRooms } from '../voice/rooms.ts'
import type { RoleRecord, Store, UserRecord } from '../store/types.ts'
import type { Audit } from '../audit/modlog.ts'
import type { EmojiCatalog } from '../emojis/catalog.ts'
import type { LiveConfig } from '../config/live.ts'
import type { Packet } from './errors.ts'

/** What a command may read. It never writes to a socket: it returns Effects instead. */
export interface Context {
  config: Config
  store: Store
  session: Session
  hub: Hub
  /** The message limiter of protocol README §5 (`rate_limiting`). */
  limiter: RateLimiter
  /** The limiter of other costly or broadcasting commands (`security.actions_*`), always on. */
  actions: RateLimiter
  plugins: PluginRegistry
  services: Services
  log: Logger
  /** Current roles by name, for server-permission checks and colours. */
  roles(): Promise<Map<string, RoleRecord>>
  /**
   * Lets this connection's next frame start before this command finishes (its answers still go
   * out in order). Called once a command's write is queued, so a client's pipelined messages
   * share one group commit instead of waiting for each other's.
   */
  release(): void
}

/** Authentication helpers shared by every connection. */
export interface Services {
  rotur: RoturClient
  /** Failed sign-ins per (address, account) and per address. */
  loginThrottle: LoginThrottle
  /** Accounts created per address. */
  registrations: AddressCounter
  /** The configuration in force, for commands that change it (`server_update`). */
  settings: LiveConfig
  /** Local icon/banner files and the URLs clients see for them. */
  assets: ServerAssets
  /** Ends polls at their end time; told when a poll with one is created or ended. */
  pollExpiry: PollExpiry
  /** The slash commands: built-ins and those registered by connections and plugins. */
  slash: SlashRegistry
  /** Who is in which voice channel (in memory only). */
  voice: VoiceRooms
  /** Uploaded files: rows and files kept in step. */
  attachments: AttachmentService
  /** Asked for an extra pass after deletions that may have left attachments without messages. */
  attachmentCleanup: AttachmentCleanup
  /** Custom emoji records and their image files. */
  emojis: EmojiCatalog
  /** Web Push: the VAPID key, device fingerprints, and the delivery queue. */
  push: PushService
}

/** Context of an authenticated command: the caller's current stored record. */
export interface UserContext extends Context {
  user: UserRecord
}

export interface Login {
  user: UserRecord
  cracked: boolean
  isNew: boolean
}

export interface Broadcast {
  topic: string
  packet: Packet
}

/** Everything a command wants done, applied by the router in this order. */
export interface Effects {
  /** Completes authentication: auth_success, ready, then presence broadcasts. */
  login?: Login
  /** Packets to topics that must arrive before the reply (presence changes a status reply depends on). */
  announce?: Broadcast[]
  /** To the caller only (with its `listener`). */
  reply?: Packet
  /** A `global` reply: everyone on the topic but the caller, then the caller's own copy. */
  broadcast?: Broadcast
  /** Further packets to topics (the caller gets them only through its own subscriptions). */
  publish?: Broadcast[]
  /** Packets for one user's first live connection. */
  toFirstConnection?: Array<{ userId: string; packet: Packet }>
  /** Packets for one particular connection (the bot that registered a slash command). */
  toSession?: Array<{ session: Session; packet: Packet }>
  /** Users whose roles changed: recompute their channel subscriptions. */
  refreshAccess?: string[]
  /** Send each listed user's sockets `packet` (if any), then close them. */
  disconnect?: Array<{ userId: string; packet?: Packet }>
  /** The channel list changed: resubscribe everyone and send each user their new `channels_get`. */
  channelsChanged?: boolean
  /** Moderation-log entries, recorded with the caller as actor (when `modlog.enabled`). */
  audit?: Audit[]
  /** A stored message that may notify offline users by Web Push; queued, never waited for. */
  push?: PushJob
  /** Plugin events (plugins.md §2), fired once everything else is applied. */
  events?: Array<{ name: string; data: Record<string, unknown> }>
}

/**
 * Who may call a command, checked by the router before the schema (upstream checks these
 * first). `role` is a literal role name (no administrator bypass); `permission` is a server
 * permission (owner and administrator pass); `anyPermission` passes with any one of them.
 */
export type Requirement = { role: 'owner' } | { permission: string } | { anyPermission: string[] }

export interface CommandSpec<S extends TSchema = TSchema> {
  cmd: string
  schema: S
  /** 'guest' commands run only before authentication (auth, login, register). Default 'user'. */
  auth?: 'guest' | 'user'
  requires?: Requirement
  /**
   * Where the message rate limiter runs, per protocol README §5.1: 'first' (before anything),
   * 'validated' (after `validate`). `rateLimitReason` adds the `reason` key to the packet.
   */
  rateLimit?: 'first' | 'validated'
  rateLimitReason?: boolean
  /**
   * Counts against the action limiter before anything else: commands that broadcast or cost
   * real work (reactions, pins, status, search, management), which upstream left unlimited.
   */
  throttle?: boolean
  /**
   * The error `val` when the schema check fails; default names the first bad field. A function
   * gets that default text (`Invalid emoji_add command scheme: <detail>`).
   */
  invalid?: string | ((detail: string) => string)
  /** Input rules beyond types (required-ness, lengths), in the order the spec checks them. */
  validate?(ctx: Context, packet: Static<S>): void | Promise<void>
  run(ctx: UserContext, packet: Static<S>): Effects | Promise<Effects>
}

export interface GuestCommandSpec<S extends TSchema = TSchema> extends Omit<CommandSpec<S>, 'run' | 'auth'> {
  auth: 'guest'
  run(ctx: Context, packet: Static<S>): Effects | Promise<Effects>
}

export type AnyCommand = CommandSpec<any> | GuestCommandSpec<any>

export const defineCommand = <S extends TSchema>(spec: CommandSpec<S>): CommandSpec<S> => spec
export const defineGuestCommand = <S extends TSchema>(spec: GuestCommandSpec<S>): GuestCommandSpec<S> => spec
