import { inOptionOrder, POLL_COLUMNS, pollFromRow, type PollRow } from '../poll-row.ts'
import { TargetGoneError, type PollRecord, type PollRepo, type PollTally, type PollVote, type VoteOutcome } from '../types.ts'
import type { Database } from './db.ts'

export class PostgresPolls implements PollRepo {
  constructor(private readonly db: Database) {}

  async get(id: string) {
    const row = await this.db.one<PollRow>(`SELECT ${POLL_COLUMNS} FROM polls WHERE id = $1`, [id])
    return row && pollFromRow(row)
  }

  async getByMessage(messageId: string) {
    const row = await this.db.one<PollRow>(`SELECT ${POLL_COLUMNS} FROM polls WHERE message_id = $1`, [messageId])
    return row && pollFromRow(row)
  }

  /** The poll takes the message's place as it is at this moment, or is not stored at all. */
  async insert(poll: Omit<PollRecord, 'ended' | 'ended_at'>) {
    const row = await this.db.one<PollRow>(
      `INSERT INTO polls (id, message_id, channel, thread, question, options, allow_multiselect, expires_at, created_by, created_at)
       SELECT $1, id, channel, thread, $2, $3, $4, $5, $6, $7 FROM messages WHERE id = $8 RETURNING ${POLL_COLUMNS}`,
      [poll.id, poll.question, JSON.stringify(poll.options), poll.allow_multiselect, poll.expires_at, poll.created_by, poll.created_at, poll.message_id],
    )
    if (!row) throw new TargetGoneError({ channel: poll.channel, thread_id: poll.thread_id })
    return pollFromRow(row)
  }

  /** The poll's row stays locked from the checks to the votes, so an ending cannot slip in between. */
  async vote(pollId: string, userId: string, optionIds: string[], now: number): Promise<VoteOutcome> {
    return this.db.transaction(async (tx): Promise<VoteOutcome> => {
      const row = await tx.one<PollRow>(`SELECT ${POLL_COLUMNS} FROM polls WHERE id = $1 FOR UPDATE`, [pollId])
      if (!row) return { status: 'missing' }
      if (row.ended) return { status: 'ended' }
      if (row.expires_at !== null && now > row.expires_at) return { status: 'expired' }
      const chosen = [...new Set(optionIds)]
      await tx.run('DELETE FROM poll_votes WHERE poll_id = $1 AND user_id = $2 AND NOT (option_id = ANY($3::text[]))', [pollId, userId, chosen])
      if (chosen.length > 0) {
        await tx.run(
          `INSERT INTO poll_votes (poll_id, option_id, user_id, voted_at)
           SELECT $1, o, $2, $3 FROM unnest($4::text[]) WITH ORDINALITY AS x(o, ord) ORDER BY ord ON CONFLICT DO NOTHING`,
          [pollId, userId, now, chosen],
        )
      }
      return { status: 'voted', option_ids: inOptionOrder(pollFromRow(row).options, new Set(chosen)) }
    })
  }

  async votesOf(pollId: string, userId: string) {
    const poll = await this.get(pollId)
    if (!poll) return []
    const mine = await this.db.all<{ option_id: string }>('SELECT option_id FROM poll_votes WHERE poll_id = $1 AND user_id = $2', [pollId, userId])
    return inOptionOrder(poll.options, new Set(mine.map((v) => v.option_id)))
  }

  async end(pollId: string, at: number) {
    const row = await this.db.one<PollRow>(`UPDATE polls SET ended = true, ended_at = $1 WHERE id = $2 AND NOT ended RETURNING ${POLL_COLUMNS}`, [at, pollId])
    return row && pollFromRow(row)
  }

  async results(pollId: string, withVoters: boolean): Promise<PollTally> {
    const counts: Record<string, number> = {}
    const rows = await this.db.all<{ option_id: string; n: number }>('SELECT option_id, COUNT(*)::int AS n FROM poll_votes WHERE poll_id = $1 GROUP BY option_id', [pollId])
    for (const { option_id, n } of rows) counts[option_id] = n
    const voters: Record<string, string[]> = {}
    if (withVoters) {
      const votes = await this.db.all<{ option_id: string; user_id: string }>('SELECT option_id, user_id FROM poll_votes WHERE poll_id = $1 ORDER BY voted_at, seq', [pollId])
      for (const { option_id, user_id } of votes) (voters[option_id] ??= []).push(user_id)
    }
    return { counts, voters }
  }

  async listDue(now: number, limit: number) {
    const rows = await this.db.all<PollRow>(
      `SELECT ${POLL_COLUMNS} FROM polls WHERE NOT ended AND expires_at IS NOT NULL AND expires_at <= $1 ORDER BY expires_at LIMIT $2`,
      [now, limit],
    )
    return rows.map(pollFromRow)
  }

  async nextExpiry() {
    const row = await this.db.one<{ at: number | null }>('SELECT MIN(expires_at) AS at FROM polls WHERE NOT ended AND expires_at IS NOT NULL')
    return row?.at ?? undefined
  }

  async importMany(polls: PollRecord[], votes: PollVote[]) {
    return this.db.transaction(async (tx) => {
      const added = { polls: 0, votes: 0 }
      for (const p of polls) {
        added.polls += await tx.run(
          `INSERT INTO polls (id, message_id, channel, thread, question, options, allow_multiselect, expires_at, created_by, created_at, ended, ended_at)
           SELECT $1, id, channel, thread, $2, $3, $4, $5, $6, $7, $8, $9 FROM messages WHERE id = $10 ON CONFLICT DO NOTHING`,
          [p.id, p.question, JSON.stringify(p.options), p.allow_multiselect, p.expires_at, p.created_by, p.created_at, p.ended, p.ended_at, p.message_id],
        )
      }
      for (const v of votes) {
        added.votes += await tx.run(
          'INSERT INTO poll_votes (poll_id, option_id, user_id, voted_at) SELECT id, $2, $3, $4 FROM polls WHERE id = $1 ON CONFLICT DO NOTHING',
          [v.poll_id, v.option_id, v.user_id, v.voted_at],
        )
      }
      return added
    })
  }
}
