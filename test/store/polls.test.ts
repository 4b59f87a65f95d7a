import { describe, expect, test } from 'bun:test'
import { TargetGoneError, type PollRecord, type Store } from '../../src/store/types.ts'
import { storeDrivers, withFreshStore } from '../helpers/stores.ts'

const OPTIONS = [
  { id: 'a', text: 'A' },
  { id: 'b', text: 'B', emoji: '🍕' },
  { id: 'c', text: 'C' },
]

/** A poll on a fresh message in `channel`, stored the way poll_create stores it. */
async function addPoll(store: Store, changes: Partial<PollRecord> = {}, channel = 'general'): Promise<PollRecord> {
  const message = await store.messages.insert({ channel, thread_id: null, user: 'creator', content: '' })
  return store.polls.insert({
    id: crypto.randomUUID(),
    message_id: message.id,
    channel,
    thread_id: null,
    question: 'Which?',
    options: OPTIONS,
    allow_multiselect: true,
    expires_at: null,
    created_by: 'creator',
    created_at: message.timestamp,
    ...changes,
  })
}

for (const driver of storeDrivers) {
  describe.skipIf(driver.skip !== undefined)(driver.name, () => {
    const withStore = withFreshStore(driver)

    describe('poll votes', () => {
      test(
        'a vote makes the list the whole choice: others go, unchanged ones keep their time, [] withdraws',
        withStore(async (store) => {
          const poll = await addPoll(store)
          expect(await store.polls.vote(poll.id, 'u1', ['c', 'a'], 10)).toEqual({ status: 'voted', option_ids: ['a', 'c'] })
          expect(await store.polls.vote(poll.id, 'u2', ['a'], 11)).toEqual({ status: 'voted', option_ids: ['a'] })
          expect(await store.polls.vote(poll.id, 'u1', ['b', 'a'], 12)).toEqual({ status: 'voted', option_ids: ['a', 'b'] })
          // u1's vote for `a` kept its first time, so u1 still comes before u2 there.
          expect(await store.polls.results(poll.id, true)).toEqual({ counts: { a: 2, b: 1 }, voters: { a: ['u1', 'u2'], b: ['u1'] } })
          expect(await store.polls.votesOf(poll.id, 'u1')).toEqual(['a', 'b'])
          expect(await store.polls.vote(poll.id, 'u1', [], 13)).toEqual({ status: 'voted', option_ids: [] })
          expect(await store.polls.results(poll.id, false)).toEqual({ counts: { a: 1 }, voters: {} })
        }),
      )

      test(
        'ended, expired and unknown polls refuse votes and keep what they had',
        withStore(async (store) => {
          const expiring = await addPoll(store, { expires_at: 100 })
          expect(await store.polls.vote(expiring.id, 'u1', ['a'], 100)).toEqual({ status: 'voted', option_ids: ['a'] })
          expect(await store.polls.vote(expiring.id, 'u1', ['b'], 100.5)).toEqual({ status: 'expired' })
          const ended = await addPoll(store)
          await store.polls.vote(ended.id, 'u1', ['c'], 1)
          await store.polls.end(ended.id, 2)
          expect(await store.polls.vote(ended.id, 'u1', [], 3)).toEqual({ status: 'ended' })
          expect(await store.polls.vote('nope', 'u1', ['a'], 3)).toEqual({ status: 'missing' })
          expect(await store.polls.votesOf(expiring.id, 'u1')).toEqual(['a'])
          expect(await store.polls.votesOf(ended.id, 'u1')).toEqual(['c'])
        }),
      )
    })

    describe('poll ending', () => {
      test(
        'only the first end call gets the ended poll',
        withStore(async (store) => {
          const poll = await addPoll(store)
          // Two at once: whichever reaches the database first (on PostgreSQL, over two pooled connections) wins alone.
          const answers = await Promise.all([store.polls.end(poll.id, 5), store.polls.end(poll.id, 6)])
          const won = answers.filter((answer) => answer !== undefined)
          expect(won).toHaveLength(1)
          const endedAt = won[0]!.ended_at
          expect(won[0]).toEqual({ ...poll, ended: true, ended_at: endedAt })
          expect([5, 6]).toContain(endedAt!)
          expect(await store.polls.end(poll.id, 8)).toBeUndefined()
          expect(await store.polls.end('nope', 7)).toBeUndefined()
          expect(await store.polls.get(poll.id)).toEqual({ ...poll, ended: true, ended_at: endedAt })
        }),
      )

      test(
        'due polls come earliest first, bounded; open polls without an end time are never due',
        withStore(async (store) => {
          const late = await addPoll(store, { expires_at: 30 })
          const early = await addPoll(store, { expires_at: 10 })
          await addPoll(store)
          const ended = await addPoll(store, { expires_at: 5 })
          await store.polls.end(ended.id, 1)
          expect(await store.polls.nextExpiry()).toBe(10)
          expect((await store.polls.listDue(9, 10)).map((p) => p.id)).toEqual([])
          expect((await store.polls.listDue(30, 10)).map((p) => p.id)).toEqual([early.id, late.id])
          expect((await store.polls.listDue(30, 1)).map((p) => p.id)).toEqual([early.id])
          await store.polls.end(early.id, 10)
          await store.polls.end(late.id, 30)
          expect(await store.polls.nextExpiry()).toBeUndefined()
        }),
      )
    })

    describe('a poll lives with its message', () => {
      test(
        'deleting the message, or its channel, deletes the poll and its votes; a rename moves it',
        withStore(async (store) => {
          await store.channels.insert({ name: 'lounge', type: 'text' })
          const byMessage = await addPoll(store)
          await store.polls.vote(byMessage.id, 'u1', ['a'], 1)
          expect(await store.messages.delete({ channel: 'general', thread_id: null }, byMessage.message_id)).toBe(true)
          expect(await store.polls.get(byMessage.id)).toBeUndefined()
          expect(await store.polls.results(byMessage.id, true)).toEqual({ counts: {}, voters: {} })

          const moving = await addPoll(store, {}, 'lounge')
          await store.polls.vote(moving.id, 'u1', ['b'], 1)
          await store.channels.update('lounge', { name: 'hall', type: 'text' })
          expect(await store.polls.getByMessage(moving.message_id)).toEqual({ ...moving, channel: 'hall' })
          expect(await store.polls.votesOf(moving.id, 'u1')).toEqual(['b'])
          await store.channels.delete('hall')
          expect(await store.polls.get(moving.id)).toBeUndefined()
          expect(await store.polls.results(moving.id, true)).toEqual({ counts: {}, voters: {} })
        }),
      )

      test(
        'a poll for a message that is gone is not stored',
        withStore(async (store) => {
          const message = await store.messages.insert({ channel: 'general', thread_id: null, user: 'creator', content: '' })
          await store.messages.delete({ channel: 'general', thread_id: null }, message.id)
          const insert = store.polls.insert({
            id: 'p1', message_id: message.id, channel: 'general', thread_id: null, question: 'Q', options: OPTIONS,
            allow_multiselect: false, expires_at: null, created_by: 'creator', created_at: 1,
          })
          await expect(insert).rejects.toBeInstanceOf(TargetGoneError)
          expect(await store.polls.get('p1')).toBeUndefined()
        }),
      )
    })
  })
}
