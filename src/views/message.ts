import type { MessageRecord, UserRepo } from '../store/types.ts'

/**
 * The client form of a stored message (data.md §3.2): user IDs become usernames (unknown IDs,
 * such as the system author `originChats`, pass through) and `pinned`, `type` and
 * `interaction` are always present.
 */
export async function messageView(message: MessageRecord, users: UserRepo): Promise<Record<string, unknown>> {
  const { channel: _channel, thread_id: _thread, reactions, reply_to, ...rest } = message
  const view: Record<string, unknown> = { ...rest, user: await usernameOf(message.user, users) }
  if (reply_to) view.reply_to = { id: reply_to.id, user: await usernameOf(reply_to.user, users) }
  if (reactions) {
    const named: Record<string, string[]> = {}
    for (const [emoji, ids] of Object.entries(reactions)) named[emoji] = await Promise.all(ids.map((id) => usernameOf(id, users)))
    view.reactions = named
  }
  view.pinned = message.pinned ?? false
  view.type = 'message'
  view.interaction = message.interaction ?? null
  return view
}

export async function messageViews(messages: MessageRecord[], users: UserRepo) {
  return Promise.all(messages.map((m) => messageView(m, users)))
}

export async function usernameOf(userId: string, users: UserRepo): Promise<string> {
  return (await users.get(userId))?.username ?? userId
}
