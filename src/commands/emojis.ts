import { Type as T } from '@sinclair/typebox'
import { decodeEmojiImage, emojiName, type DecodedImage } from '../emojis/image.ts'
import { quote } from '../log.ts'
import { topics } from '../net/topics.ts'
import { defineCommand, type UserContext } from '../protocol/command.ts'
import { fail } from '../protocol/errors.ts'
import type { EmojiRecord } from '../store/types.ts'

const MANAGE_SERVER = { permission: 'manage_server' }
const scheme = (cmd: string) => (detail: string) => `Invalid ${cmd} command scheme: ${detail}`
const OptionalString = T.Optional(T.Union([T.String(), T.Null()]))

/** The web client reads `name` and `fileName` from add and update packets (compat-notes §4). */
const shown = (record: EmojiRecord) => ({ name: record.name, fileName: record.fileName })

/**
 * Changes reach every signed-in client as the packet the caller gets (the web client applies
 * `emoji_add`/`emoji_update`/`emoji_delete` to its list whoever sent them); upstream told no one.
 */
const everyone = (packet: { cmd: string; [key: string]: unknown }) => ({ broadcast: { topic: topics.users, packet } })

function decode(ctx: UserContext, cmd: string, uri: string): DecodedImage | undefined {
  const { emoji_allowed_file_types, emoji_max_size } = ctx.config.uploads
  const image = decodeEmojiImage(uri, { allowed: emoji_allowed_file_types, maxSize: emoji_max_size })
  if ('refused' in image) {
    ctx.log.info(`${cmd} by ${quote(ctx.user.username)} refused: image ${image.refused}`)
    return undefined
  }
  return image
}

export const emojiAdd = defineCommand({
  cmd: 'emoji_add',
  throttle: true,
  requires: MANAGE_SERVER,
  schema: T.Object({ name: T.String(), image: T.String() }),
  invalid: scheme('emoji_add'),
  async run(ctx, p) {
    // One string for every refusal, as upstream (commands.md §12.1); the reason goes to the log.
    const refuse = (reason: string) => {
      ctx.log.info(`emoji_add by ${quote(ctx.user.username)} refused: ${reason}`)
      return fail('Error adding emoji')
    }
    const name = emojiName(p.name) ?? refuse('bad name')
    const image = decode(ctx, 'emoji_add', p.image) ?? fail('Error adding emoji')
    const added = await ctx.services.emojis.add(name, image, ctx.config.uploads.emoji_max_count)
    if (added === 'taken') refuse(`name ${quote(name)} is taken`)
    if (added === 'full') refuse(`the server holds uploads.emoji_max_count (${ctx.config.uploads.emoji_max_count}) emojis`)
    const record = added as EmojiRecord
    return {
      ...everyone({ cmd: 'emoji_add', id: record.id, added: true, ...shown(record) }),
      audit: [{ action: 'emoji_add', target_id: record.id, target_name: record.name, details: {} }],
    }
  },
})

export const emojiDelete = defineCommand({
  cmd: 'emoji_delete',
  throttle: true,
  requires: MANAGE_SERVER,
  schema: T.Object({ emoji_id: T.Integer() }),
  invalid: scheme('emoji_delete'),
  async run(ctx, p) {
    const removed = await ctx.services.emojis.delete(String(p.emoji_id))
    const packet = { cmd: 'emoji_delete', id: p.emoji_id, deleted: removed !== undefined }
    return {
      ...(removed ? everyone(packet) : { reply: packet }),
      // Recorded also when nothing was deleted, as upstream (commands.md §12.2).
      audit: [{ action: 'emoji_delete', target_id: String(p.emoji_id), target_name: removed?.name ?? null, details: {} }],
    }
  },
})

export const emojiUpdate = defineCommand({
  cmd: 'emoji_update',
  throttle: true,
  requires: MANAGE_SERVER,
  schema: T.Object({ emoji_id: T.Integer(), name: OptionalString, image: OptionalString }),
  invalid: scheme('emoji_update'),
  validate(_ctx, p) {
    if (!p.name && !p.image) fail('At least one field to update is required (name or image)')
  },
  async run(ctx, p) {
    const unchanged = { reply: { cmd: 'emoji_update', id: p.emoji_id, updated: false } }
    const name = p.name ? emojiName(p.name) : undefined
    if (p.name && !name) return unchanged
    const image = p.image ? decode(ctx, 'emoji_update', p.image) : undefined
    if (p.image && !image) return unchanged
    const outcome = await ctx.services.emojis.update(String(p.emoji_id), { name, image })
    if (typeof outcome !== 'object') return unchanged
    const { after } = outcome
    const details = { ...(name ? { name } : {}), ...(image ? { fileName: after.fileName } : {}) }
    return {
      ...everyone({ cmd: 'emoji_update', id: p.emoji_id, updated: true, ...shown(after) }),
      audit: [{ action: 'emoji_update', target_id: after.id, target_name: after.name, details }],
    }
  },
})

export const emojiGetAll = defineCommand({
  cmd: 'emoji_get_all',
  schema: T.Object({}),
  invalid: scheme('emoji_get_all'),
  async run(ctx) {
    const emojis = Object.fromEntries((await ctx.store.emojis.list()).map((record) => [record.id, shown(record)]))
    return { reply: { cmd: 'emoji_get_all', emojis } }
  },
})

export const emojiGetFilename = defineCommand({
  cmd: 'emoji_get_filename',
  schema: T.Object({ name: T.String() }),
  invalid: scheme('emoji_get_filename'),
  async run(ctx, p) {
    const record = (await ctx.store.emojis.getByName(p.name.trim())) ?? fail('Emoji not found')
    if (!ctx.services.emojis.hasFile(record)) fail('Emoji file not found')
    return { reply: { cmd: 'emoji_get_filename', name: p.name, filepath: record.fileName } }
  },
})

export const emojiGetId = defineCommand({
  cmd: 'emoji_get_id',
  schema: T.Object({ name: T.String() }),
  invalid: scheme('emoji_get_id'),
  async run(ctx, p) {
    const record = (await ctx.store.emojis.getByName(p.name.trim())) ?? fail('Emoji not found')
    return { reply: { cmd: 'emoji_get_id', name: p.name, id: record.id } }
  },
})

export const emojiCommands = [emojiAdd, emojiDelete, emojiUpdate, emojiGetAll, emojiGetFilename, emojiGetId]
