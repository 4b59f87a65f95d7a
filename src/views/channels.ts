import { canSeeInList } from '../auth/permissions.ts'
import type { Store } from '../store/types.ts'
import { threadView } from './threads.ts'

/** Who is in a voice channel's call, as `channels_get` lists them. */
export interface VoiceState {
  summary(channel: string): Array<{ username: string; muted: boolean }>
}

/** A forum lists its newest threads only, so the channel list stays small however busy a forum gets. */
export const LISTED_THREADS = 100

/**
 * The `channels_get` list for a user with these roles: each channel they may see, in display
 * order, enriched per type (commands.md §5.1): text channels with their newest message, forums
 * with their newest threads, voice channels with everyone in their call.
 */
export async function visibleChannels(store: Store, roles: readonly string[], voice?: VoiceState) {
  const val = []
  for (const channel of await store.channels.list()) {
    if (!canSeeInList(channel, roles)) continue
    if (channel.type === 'text') {
      const newest = await store.messages.newest({ channel: channel.name, thread_id: null })
      val.push({ ...channel, last_message: newest?.timestamp ?? null, last_message_id: newest?.id ?? null })
    } else if (channel.type === 'voice') {
      val.push({ ...channel, voice_state: voice?.summary(channel.name) ?? [] })
    } else if (channel.type === 'forum') {
      const threads = await store.threads.listByChannel(channel.name, LISTED_THREADS)
      val.push({ ...channel, threads: await Promise.all(threads.map((thread) => threadView(thread, store))) })
    } else {
      val.push(channel)
    }
  }
  return val
}
