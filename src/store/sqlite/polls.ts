import type { Database } from 'bun:sqlite'
import { inOptionOrder, POLL_COLUMNS, pollFromRow, type PollRow } from '../poll-row.ts'
import { TargetGoneError, type PollRecord, type PollRepo, type PollTally, type PollVote, type VoteOutcome } from '../types.ts'

export class SqlitePolls implements PollRepo {
  private readonly q

  constructor(private readonly db: Database) {
    const polls = (where: string) => db.query<PollRow, (string | number)[]>(`SELECT ${POLL_COLUMNS} FROM polls WHERE ${where}`)
    this.q = {
      get: polls('id = ?'),
      getByMessage: polls('message_id = ?'),
      due: polls('ended = 0 AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT ?'),
      next: db.query<{ at: number | null }, []>('SELECT MIN(expires_at) AS at FROM polls WHERE ended = 0 AND expires_at IS NOT NULL'),
      // The poll takes the message's place as it is at this moment, or is not stored at all.
      insert: db.prepare(
        `INSERT INTO polls (id, message_id, channel, thread, question, options, allow_multiselect, expires_at, created_by, created_at)
         SELECT ?, id, channel, thread, ?, ?, ?, ?, ?, ? FROM messages WHERE id = ?`,
      ),
      end: db.prepare('UPDATE polls SET ended = 1, ended_at = ? WHERE id = ? AND ended = 0'),
      mine: db.query<{ option_id: string }, [string, string]>('SELECT option_id FROM poll_votes WHERE poll_id = ? AND user_id = ?'),
      addVote: db.prepare('INSERT OR IGNORE INTO poll_votes (poll_id, option_id, user_id, voted_at) VALUES (?, ?, ?, ?)'),
      removeVote: db.prepare('DELETE FROM poll_votes WHERE poll_id = ? AND user_id = ? AND option_id = ?'),
      counts: db.query<{ option_id: string; n: number }, [string]>('SELECT option_id, COUNT(*) AS n FROM poll_votes WHERE poll_id = ? GROUP BY option_id'),
      voters: db.query<{ option_id: string; user_id: string }, [string]>(
        'SELECT option_id, user_id FROM poll_votes WHERE poll_id = ? ORDER BY voted_at, rowid',
      ),
    }
  }

  async get(id: string) {
    const row = this.q.get.get(id)
    return row ? pollFromRow(row) : undefined
  }

  async getByMessage(messageId: string) {
    const row = this.q.getByMessage.get(messageId)
    return row ? pollFromRow(row) : undefined
  }

  async insert(poll: Omit<PollRecord, 'ended' | 'ended_at'>) {
    const { changes } = this.q.insert.run(
      poll.id,
      poll.question,
      JSON.stringify(poll.options),
      poll.allow_multiselect ? 1 : 0,
      poll.expires_at,
      poll.created_by,
      poll.created_at,
      poll.message_id,
    )
    if (changes === 0) throw new TargetGoneError({ channel: poll.channel, thread_id: poll.thread_id })
    return pollFromRow(this.q.get.get(poll.id)!)
  }

  async vote(pollId: string, userId: string, optionIds: string[], now: number): Promise<VoteOutcome> {
    return this.db.transaction((): VoteOutcome => {
      const row = this.q.get.get(pollId)
      if (!row) return { status: 'missing' }
      if (row.ended) return { status: 'ended' }
      if (row.expires_at !== null && now > row.expires_at) return { status: 'expired' }
      const chosen = new Set(optionIds)
      for (const { option_id } of this.q.mine.all(pollId, userId)) {
        if (!chosen.has(option_id)) this.q.removeVote.run(pollId, userId, option_id)
      }
      for (const optionId of chosen) this.q.addVote.run(pollId, optionId, userId, now)
      return { status: 'voted', option_ids: inOptionOrder(pollFromRow(row).options, chosen) }
    })()
  }

  async votesOf(pollId: string, userId: string) {
    const row = this.q.get.get(pollId)
    if (!row) return []
    return inOptionOrder(pollFromRow(row).options, new Set(this.q.mine.all(pollId, userId).map((v) => v.option_id)))
  }

  async end(pollId: string, at: number) {
    if (this.q.end.run(at, pollId).changes === 0) return undefined
    return pollFromRow(this.q.get.get(pollId)!)
  }

  async results(pollId: string, withVoters: boolean): Promise<PollTally> {
    const counts: Record<string, number> = {}
    for (const { option_id, n } of this.q.counts.all(pollId)) counts[option_id] = n
    const voters: Record<string, string[]> = {}
    if (withVoters) for (const { option_id, user_id } of this.q.voters.all(pollId)) (voters[option_id] ??= []).push(user_id)
    return { counts, voters }
  }

  async listDue(now: number, limit: number) {
    return this.q.due.all(now, limit).map(pollFromRow)
  }

  async nextExpiry() {
    return this.q.next.get()?.at ?? undefined
  }

  async importMany(polls: PollRecord[], votes: PollVote[]) {
    const poll = this.db.prepare(
      `INSERT OR IGNORE INTO polls (id, message_id, channel, thread, question, options, allow_multiselect, expires_at, created_by, created_at, ended, ended_at)
       SELECT ?, id, channel, thread, ?, ?, ?, ?, ?, ?, ?, ? FROM messages WHERE id = ?`,
    )
    const vote = this.db.prepare(
      'INSERT OR IGNORE INTO poll_votes (poll_id, option_id, user_id, voted_at) SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM polls WHERE id = ?)',
    )
    return this.db.transaction(() => {
      const added = { polls: 0, votes: 0 }
      for (const p of polls) {
        const { changes } = poll.run(
          p.id, p.question, JSON.stringify(p.options), p.allow_multiselect ? 1 : 0, p.expires_at, p.created_by, p.created_at,
          p.ended ? 1 : 0, p.ended_at, p.message_id,
        )
        added.polls += changes
      }
      for (const v of votes) added.votes += vote.run(v.poll_id, v.option_id, v.user_id, v.voted_at, v.poll_id).changes
      return added
    })()
  }
}
