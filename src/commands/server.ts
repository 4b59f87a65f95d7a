import { Type as T } from '@sinclair/typebox'
import { defineCommand } from '../protocol/command.ts'
import { fail } from '../protocol/errors.ts'

/** Name, icon and banner read from the configuration in force at request time. */
export const serverInfoCommand = defineCommand({
  cmd: 'server_info',
  schema: T.Object({}),
  run: (ctx) => ({ reply: { cmd: 'server_info', ...ctx.services.assets.info(ctx.config) } }),
})

const FIELDS = [
  ['name', 'Name must be a string or null'],
  ['icon', 'Icon must be a string or null'],
  ['banner', 'Banner must be a string or null'],
] as const

type Updates = Partial<Record<(typeof FIELDS)[number][0], string | null>>

/**
 * Writes `server.*` in config.json (keeping keys this server does not know) and applies it at
 * once: the new details reach every authenticated socket (app.ts broadcasts `server_update` on
 * the config change, the caller included, then the caller gets its reply: twice, as upstream),
 * new handshakes and `GET /info`. `null` clears a field (compat-notes §3.41); a cleared name
 * falls back to the default name.
 */
export const serverUpdate = defineCommand({
  cmd: 'server_update',
  throttle: true,
  schema: T.Object({ name: T.Optional(T.Unknown()), icon: T.Optional(T.Unknown()), banner: T.Optional(T.Unknown()) }),
  requires: { permission: 'manage_server' },
  validate(_ctx, p) {
    for (const [field, error] of FIELDS) {
      if (field in p && p[field] !== null && typeof p[field] !== 'string') fail(error)
    }
    if (!FIELDS.some(([field]) => field in p)) fail('No updates provided')
  },
  async run(ctx, p) {
    const updates: Updates = {}
    for (const [field] of FIELDS) if (field in p) updates[field] = p[field] as string | null
    await ctx.services.settings.edit((raw) => {
      const server = (raw.server ??= {})
      for (const [field, value] of Object.entries(updates)) {
        if (value === null) delete server[field]
        else server[field] = value
      }
    })
    return {
      reply: { cmd: 'server_update', ...ctx.services.assets.info(ctx.services.settings.current) },
      audit: [{ action: 'server_update', details: updates }],
    }
  },
})

export const serverCommands = [serverInfoCommand, serverUpdate]
