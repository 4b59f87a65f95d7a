import { Type as T } from '@sinclair/typebox'
import { defineCommand } from '../protocol/command.ts'
import { visibleChannels } from '../views/channels.ts'

export const channelsGet = defineCommand({
  cmd: 'channels_get',
  schema: T.Object({}),
  run: async (ctx) => ({ reply: { cmd: 'channels_get', val: await visibleChannels(ctx.store, ctx.user.roles) } }),
})

export const channelCommands = [channelsGet]
