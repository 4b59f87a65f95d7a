import { Type as T } from '@sinclair/typebox'
import { defineCommand } from '../protocol/command.ts'
import { fail } from '../protocol/errors.ts'

export const pluginsList = defineCommand({
  cmd: 'plugins_list',
  schema: T.Object({}),
  requires: { role: 'owner' },
  run: (ctx) => ({ reply: { cmd: 'plugins_list', plugins: ctx.plugins.list() } }),
})

export const pluginsReload = defineCommand({
  cmd: 'plugins_reload',
  schema: T.Object({ plugin: T.Optional(T.Union([T.String(), T.Null()])) }),
  requires: { role: 'owner' },
  async run(ctx, p) {
    const name = p.plugin || undefined
    if (!(await ctx.plugins.reload(name))) fail(`Failed to reload plugin '${name}'`)
    return {
      reply: { cmd: 'plugins_reload', val: name === undefined ? 'All plugins reloaded successfully' : `Plugin '${name}' reloaded successfully` },
      audit: [{ action: 'plugins_reload', details: { plugin: name ?? 'all' } }],
    }
  },
})

export const pluginCommands = [pluginsList, pluginsReload]
