import { Type as T } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { defaultChannelPermissions } from '../auth/permissions.ts'
import { defineCommand, type Effects, type UserContext } from '../protocol/command.ts'
import { E, fail } from '../protocol/errors.ts'
import { describeSchemaError } from '../protocol/schema-errors.ts'
import type { ChannelRecord } from '../store/types.ts'
import { visibleChannels } from '../views/channels.ts'

/**
 * The channel list and its management (commands.md §5). None of the management commands
 * broadcasts by itself: `channelsChanged` sends every online user their own filtered
 * `channels_get` and resubscribes their sockets, which upstream's file watcher never did (§5.0).
 */

export const channelsGet = defineCommand({
  cmd: 'channels_get',
  schema: T.Object({}),
  run: async (ctx) => ({ reply: { cmd: 'channels_get', val: await visibleChannels(ctx.store, ctx.user.roles, ctx.services.voice) } }),
})

/** `forum` is creatable too (compat-notes §3.10); the error strings still name the old three. */
const TYPES: readonly unknown[] = ['text', 'voice', 'separator', 'forum']


/** Channel names are free-form (never paths), but bounded and printable (compat-notes §3.38). */
export const CHANNEL_NAME_MAX = 100
// C0/C1 controls, lone surrogates, line/paragraph separators and bidi embeddings/overrides/isolates.
export const UNPRINTABLE = /[\p{Cc}\p{Cs}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u

const AnyField = T.Optional(T.Unknown())
const RoleLists = TypeCompiler.Compile(T.Record(T.String(), T.Union([T.Array(T.String()), T.Null()])))

type RoleListInput = Record<string, string[] | null>

/** Python's `not value`: what upstream's "… is required" checks reject. */
function missing(value: unknown): boolean {
  if (value === undefined || value === null || value === '' || value === 0 || value === false) return true
  if (Array.isArray(value)) return value.length === 0
  return typeof value === 'object' && Object.keys(value).length === 0
}

/** A name that names an existing channel: only required and a string. */
function lookupName(value: unknown, field: string, requiredError: string): string {
  if (missing(value)) fail(requiredError)
  if (typeof value !== 'string') fail(`Invalid field '${field}': expected string`)
  return value
}

/** A name a channel is about to get. */
function newName(value: unknown, field: string): string {
  const name = lookupName(value, field, 'Channel name is required')
  if (name.trim() === '') fail('Channel name is required')
  if ([...name].length > CHANNEL_NAME_MAX) fail(`Channel name must be at most ${CHANNEL_NAME_MAX} characters`)
  if (UNPRINTABLE.test(name)) fail('Channel name contains invalid characters')
  return name
}

function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') fail(`Invalid field '${field}': expected string`)
  return value
}

/** Role lists with the empty (or null) ones dropped, as upstream's `_normalize_permissions`. */
function roleLists(value: unknown, field: string): Record<string, string[]> {
  if (value === undefined || value === null) return {}
  if (!RoleLists.Check(value)) {
    const error = RoleLists.Errors(value).First()
    fail(describeSchemaError(error && { ...error, path: `/${field.replaceAll('.', '/')}${error.path}` }))
  }
  const lists: Record<string, string[]> = {}
  for (const [key, list] of Object.entries(value as RoleListInput)) if (list && list.length > 0) lists[key] = list
  return lists
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value)

/** Exact name first, then the first case-insensitive match (commands.md §5.5). */
async function findForDelete(ctx: UserContext, name: string): Promise<ChannelRecord | undefined> {
  const exact = await ctx.store.channels.get(name)
  if (exact) return exact
  const lower = name.toLowerCase()
  return (await ctx.store.channels.list()).find((channel) => channel.name.toLowerCase() === lower)
}

export const channelCreate = defineCommand({
  cmd: 'channel_create',
  throttle: true,
  schema: T.Object({ name: AnyField, type: AnyField, description: AnyField, display_name: AnyField, permissions: AnyField, size: AnyField }),
  requires: { permission: 'manage_channels' },
  async run(ctx, p): Promise<Effects> {
    const name = newName(p.name, 'name')
    if (missing(p.type)) fail('Channel type is required (text, voice, or separator)')
    if (!TYPES.includes(p.type)) fail('Invalid channel type, must be text, voice, or separator')
    const type = p.type as string
    const description = optionalString(p.description, 'description')
    const displayName = optionalString(p.display_name, 'display_name')
    if (p.size !== undefined && p.size !== null && !Number.isInteger(p.size)) fail("Invalid field 'size': expected integer")
    const lists = roleLists(p.permissions, 'permissions')
    if (await ctx.store.channels.get(name)) fail('Channel already exists')

    // Lists that end up empty fall back to the defaults, so a new channel is never invisible to all.
    const channel: ChannelRecord = { name, type, permissions: Object.keys(lists).length > 0 ? lists : defaultChannelPermissions() }
    if (description) channel.description = description
    if (displayName) channel.display_name = displayName
    if (type === 'separator' && p.size) channel.size = p.size
    try {
      await ctx.store.channels.insert(channel)
    } catch (error) {
      // Another connection may have created the same name since the check above.
      if (await ctx.store.channels.get(name)) fail('Channel already exists')
      ctx.log.error(`channel_create ${JSON.stringify(name)} failed: ${(error as Error)?.stack ?? error}`)
      fail('Failed to create channel')
    }
    const stored = (await ctx.store.channels.get(name)) ?? channel
    return {
      reply: { cmd: 'channel_create', channel: stored, created: true },
      channelsChanged: true,
      audit: [{ action: 'channel_create', target_id: name, target_name: name, details: { type } }],
      events: [{ name: 'channel_create', data: { channel: stored } }],
    }
  },
})

export const channelUpdate = defineCommand({
  cmd: 'channel_update',
  throttle: true,
  schema: T.Object({ current_name: AnyField, updates: AnyField }),
  requires: { permission: 'manage_channels' },
  async run(ctx, p): Promise<Effects> {
    const currentName = lookupName(p.current_name, 'current_name', 'current_name is required')
    if (missing(p.updates) || !isObject(p.updates)) fail('updates object is required')
    const updates = p.updates
    const current = await ctx.store.channels.get(currentName)
    if (!current) fail(E.channelNotFound)
    if (Object.hasOwn(updates, 'type') && !TYPES.includes(updates.type)) fail('Invalid channel type')
    const name = Object.hasOwn(updates, 'name') ? newName(updates.name, 'updates.name') : currentName
    if (name !== currentName && (await ctx.store.channels.get(name))) fail('Channel with new name already exists')

    // A shallow merge with no whitelist; `permissions` replaces the whole object.
    const channel = { ...current, ...updates, name } as ChannelRecord
    if (Object.hasOwn(updates, 'permissions')) channel.permissions = roleLists(updates.permissions, 'updates.permissions')
    try {
      // A rename moves the history, pins and read positions with the channel (compat-notes §3.8).
      await ctx.store.channels.update(currentName, channel)
    } catch (error) {
      if (name !== currentName && (await ctx.store.channels.get(name))) fail('Channel with new name already exists')
      ctx.log.error(`channel_update ${JSON.stringify(currentName)} failed: ${(error as Error)?.stack ?? error}`)
      fail('Failed to update channel')
    }
    const stored = (await ctx.store.channels.get(name)) ?? channel
    return {
      reply: { cmd: 'channel_update', channel: stored, updated: true },
      channelsChanged: true,
      audit: [{ action: 'channel_update', target_id: currentName, target_name: name, details: updates }],
      events: [{ name: 'channel_update', data: { old_name: currentName, channel: stored } }],
    }
  },
})

export const channelMove = defineCommand({
  cmd: 'channel_move',
  throttle: true,
  schema: T.Object({ name: AnyField, position: AnyField }),
  requires: { permission: 'manage_channels' },
  async run(ctx, p): Promise<Effects> {
    const name = lookupName(p.name, 'name', 'Channel name is required')
    if (p.position === undefined || p.position === null) fail('Position is required')
    if (typeof p.position !== 'number' || !Number.isInteger(p.position) || p.position < 0) fail('Position must be a non-negative integer')
    const position = p.position
    // An unknown channel is not an error upstream: the reply just says `moved: false` (compat-notes §3.9).
    const moved = await ctx.store.channels.move(name, position)
    const reply = { cmd: 'channel_move', name, position, moved }
    if (!moved) return { reply }
    return {
      reply,
      channelsChanged: true,
      audit: [{ action: 'channel_move', target_id: name, target_name: name, details: { position } }],
      events: [{ name: 'channel_move', data: { channel: await ctx.store.channels.get(name), position } }],
    }
  },
})

export const channelDelete = defineCommand({
  cmd: 'channel_delete',
  throttle: true,
  schema: T.Object({ name: AnyField }),
  requires: { permission: 'manage_channels' },
  async run(ctx, p): Promise<Effects> {
    const requested = lookupName(p.name, 'name', 'Channel name is required')
    const channel = await findForDelete(ctx, requested)
    // Deleting takes the channel's messages and read positions with it.
    if (!channel || !(await ctx.store.channels.delete(channel.name))) fail(E.channelNotFound)
    ctx.services.attachmentCleanup.soon()
    const name = channel.name
    return {
      reply: { cmd: 'channel_delete', name, deleted: true },
      channelsChanged: true,
      audit: [{ action: 'channel_delete', target_id: name, target_name: name }],
      events: [{ name: 'channel_delete', data: { channel_name: name } }],
    }
  },
})

export const channelCommands = [channelsGet, channelCreate, channelUpdate, channelMove, channelDelete]
