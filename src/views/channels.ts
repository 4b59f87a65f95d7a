import { canSeeInList } from '../auth/permissions.ts'
import type { Store } from '../store/types.ts'

/**
 * The `channels_get` list for a user with these roles: each channel they may see, in display
 * order, enriched per type (commands.md §5.1). Voice channels and forums show no participants
 * or threads until those features exist.
 */
export async function visibleChannels(store: Store, roles: readonly string[]) {
  const val = []
  for (const channel of await store.channels.list()) {
    if (!canSeeInList(channel, roles)) continue
    if (channel.type === 'text') {
      const newest = await store.messages.newest({ channel: channel.name, thread_id: null })
      val.push({ ...channel, last_message: newest?.timestamp ?? null, last_message_id: newest?.id ?? null })
    } else if (channel.type === 'voice') {
      val.push({ ...channel, voice_state: [] })
    } else if (channel.type === 'forum') {
      val.push({ ...channel, threads: [] })
    } else {
      val.push(channel)
    }
  }
  return val
}
