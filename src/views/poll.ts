import type { Packet } from '../protocol/errors.ts'
import type { PollRecord, Store, UserRepo } from '../store/types.ts'
import { usernameOf } from './message.ts'

/** The embed of a poll's message (commands.md §7.1) with `poll.id`, which clients match live updates on. */
export function pollEmbed(poll: Pick<PollRecord, 'id' | 'question' | 'options' | 'allow_multiselect' | 'expires_at'>) {
  const { id, question, options, allow_multiselect, expires_at } = poll
  return { type: 'poll', poll: { id, question, options, allow_multiselect, expires_at }, title: question }
}

/**
 * The results object of data.md §7. Voters are never user IDs: `[]` while the poll is open (a
 * vote is secret until the end), usernames once it has ended. `votedBy`, the caller's options,
 * adds `voted` to each option (poll_results).
 */
export async function pollResults(store: Store, poll: PollRecord, votedBy?: string[]) {
  const tally = await store.polls.results(poll.id, poll.ended)
  const results = []
  for (const option of poll.options) {
    const result: Record<string, unknown> = {
      id: option.id,
      text: option.text,
      emoji: option.emoji ?? null,
      votes: tally.counts[option.id] ?? 0,
      voters: await knownNames(tally.voters[option.id] ?? [], store.users),
    }
    if (votedBy) result.voted = votedBy.includes(option.id)
    results.push(result)
  }
  const total = Object.values(tally.counts).reduce((sum, n) => sum + n, 0)
  return {
    poll_id: poll.id,
    question: poll.question,
    allow_multiselect: poll.allow_multiselect,
    ended: poll.ended,
    ended_at: poll.ended_at,
    total_votes: total,
    results,
  }
}

const isPollEmbed = (embed: unknown): embed is { type: 'poll'; poll: { id: string } } =>
  typeof embed === 'object' && embed !== null && (embed as { type?: unknown }).type === 'poll' && typeof (embed as { poll?: { id?: unknown } }).poll?.id === 'string'

/**
 * History for `userId`: each poll message's embed carries the poll's state as the live updates
 * leave it in a client (the results object merged into `poll`, plus `user_votes`), so a poll
 * shows its counts, the reader's choice and its end after a reload too (upstream sent the bare
 * options). The views are changed in place and returned.
 */
export async function withPollState(store: Store, userId: string, views: Array<Record<string, unknown>>): Promise<Array<Record<string, unknown>>> {
  for (const view of views) {
    if (!Array.isArray(view.embeds)) continue
    view.embeds = await Promise.all(
      view.embeds.map(async (embed: unknown) => {
        if (!isPollEmbed(embed)) return embed
        const poll = await store.polls.get(embed.poll.id)
        if (!poll) return embed
        const mine = await store.polls.votesOf(poll.id, userId)
        return { ...embed, poll: { ...embed.poll, ...(await pollResults(store, poll)), user_votes: mine } }
      }),
    )
  }
  return views
}

/** What every viewer of the poll's channel hears when it ends, by hand or at its end time. */
export async function pollEndPacket(store: Store, poll: PollRecord): Promise<Packet> {
  return {
    cmd: 'poll_end',
    poll_id: poll.id,
    message_id: poll.message_id,
    channel: poll.channel,
    thread_id: poll.thread_id,
    results: await pollResults(store, poll),
  }
}

/** poll_get's `poll`: the stored poll with the creator's username and the caller's options. */
export async function pollView(poll: PollRecord, users: UserRepo, userVotes: string[]) {
  return { ...poll, created_by: await usernameOf(poll.created_by, users), user_votes: userVotes }
}

/** Usernames of accounts that still exist: a deleted account's vote still counts, unnamed. */
async function knownNames(userIds: string[], users: UserRepo): Promise<string[]> {
  const names: string[] = []
  for (const id of userIds) {
    const user = await users.get(id)
    if (user) names.push(user.username)
  }
  return names
}
