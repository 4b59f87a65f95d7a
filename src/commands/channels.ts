import { Type as T } from '@sinclair/typebox'
import { canSeeInList } from '../auth/permissions.ts'
import { defineCommand } from '../protocol/command.ts'

/**
 * Each channel the caller may see, in display order, enriched per type (commands.md §5.1).
 * Voice channels and forums have no participants or threads until those features land.
 */
export const channelsGet = defineCommand({
  cmd: 'channels_get',
  schema: T.Object({}),
  async run(ctx) {
    const val = []
    for (const channel of await ctx.store.channels.list()) {
      if (!canSeeInList(channel, ctx.user.roles)) continue
      if (channel.type === 'text') {
        const newest = await ctx.store.messages.newest({ channel: channel.name, thread_id: null })
        val.push({ ...channel, last_message: newest?.timestamp ?? null, last_message_id: newest?.id ?? null })
      } else if (channel.type === 'voice') {
        val.push({ ...channel, voice_state: [] })
      } else if (channel.type === 'forum') {
        val.push({ ...channel, threads: [] })
      } else {
        val.push(channel)
      }
    }
    return { reply: { cmd: 'channels_get', val } }
  },
})

export const channelCommands = [channelsGet]
