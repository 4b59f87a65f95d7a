import type { Store, ThreadRecord } from '../store/types.ts'
import { usernameOf } from './message.ts'

/**
 * The wire form of a thread (data.md §6): creator and participants as usernames, plus the
 * newest message's timestamp and ID (or null). Storage keeps user IDs (compat-notes §3.13).
 */
export async function threadView(thread: ThreadRecord, store: Store) {
  const newest = await store.messages.newest({ channel: thread.parent_channel, thread_id: thread.id })
  return {
    id: thread.id,
    name: thread.name,
    parent_channel: thread.parent_channel,
    created_by: await usernameOf(thread.created_by, store.users),
    created_at: thread.created_at,
    locked: thread.locked,
    archived: thread.archived,
    participants: await Promise.all(thread.participants.map((id) => usernameOf(id, store.users))),
    last_message: newest?.timestamp ?? null,
    last_message_id: newest?.id ?? null,
  }
}
