import { describe, expect, test } from 'bun:test'
import { pollEmbed } from '../../src/views/poll.ts'
import type { Packet, TestClient } from '../helpers/client.ts'
import { customRole } from '../helpers/fixtures.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

/** Only the owner may see or post here. */
const STAFF = { name: 'staff', type: 'text', permissions: { view: ['owner'], send: ['owner'] } }

const YES_NO = [
  { id: '0', text: 'Yes' },
  { id: '1', text: 'No' },
]

let created = 0

/** Creates a poll and waits for its reply (told apart by a listener). */
async function createPoll(client: TestClient, fields: Record<string, unknown> = {}): Promise<Packet> {
  const listener = `poll-${++created}`
  client.send({ cmd: 'poll_create', channel: 'general', question: 'Pizza?', options: ['Yes', 'No'], ...fields, listener })
  const { listener: _listener, ...reply } = await client.next('poll_create', (p) => p.listener === listener)
  return reply as Packet
}

/** The results object of an open poll: voters stay hidden until it ends. */
const openResults = (pollId: string, votes: number[], extra: Record<string, unknown> = {}) => ({
  poll_id: pollId,
  question: 'Pizza?',
  allow_multiselect: false,
  ended: false,
  ended_at: null,
  total_votes: votes.reduce((a, b) => a + b, 0),
  results: YES_NO.map((option, i) => ({ ...option, emoji: null, votes: votes[i], voters: [] })),
  ...extra,
})

describe('poll_create', () => {
  test.concurrent('the caller hears the standard message_new (with poll.id), then its reply; only viewers hear of it', async () => {
    await using server = await startServer()
    await server.addChannel(STAFF)
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const owner = await server.login('owner')

    const reply = await createPoll(alice)
    // message_new came first: it is already waiting when the reply arrives.
    expect(alice.inbox.map((p) => p.cmd)).toContain('message_new')
    const announced = await alice.next('message_new')
    expect(reply).toEqual({
      cmd: 'poll_create', poll_id: expect.any(String), message_id: announced.message.id, channel: 'general', thread_id: null,
      question: 'Pizza?', options: YES_NO, allow_multiselect: false, expires_at: null,
    })
    expect(announced).toEqual({
      cmd: 'message_new',
      message: {
        user: 'alice', content: '', timestamp: expect.any(Number), id: reply.message_id,
        embeds: [{ type: 'poll', poll: { id: reply.poll_id, question: 'Pizza?', options: YES_NO, allow_multiselect: false, expires_at: null }, title: 'Pizza?' }],
        pinned: false, type: 'message', interaction: null, pings: { users: [], roles: [], replies: [] },
      },
      channel: 'general',
      thread_id: null,
      global: true,
    })
    expect(await bob.next('message_new')).toEqual(announced)
    expect(await owner.next('message_new')).toEqual(announced)

    await createPoll(owner, { channel: 'staff', question: 'Secret?' })
    expect((await owner.next('message_new')).channel).toBe('staff')
    await alice.expectNone('message_new')
    await bob.expectNone('message_new')

    // History holds the poll message as stored (no pings), its embed with the poll's state for
    // the reader: counts, end, the reader's own votes, as the live updates leave it in a client.
    const { pings: _pings, ...stored } = announced.message
    bob.send({ cmd: 'poll_vote', poll_id: reply.poll_id, option_id: '1' })
    await bob.next('poll_vote')
    const [history] = (await bob.request({ cmd: 'messages_get', channel: 'general' })).messages
    const { embeds: _embeds, ...rest } = stored
    expect({ ...history, embeds: undefined }).toEqual({ ...rest, embeds: undefined })
    expect(history.embeds[0].poll).toEqual({
      ...stored.embeds[0].poll,
      poll_id: reply.poll_id,
      ended: false,
      ended_at: null,
      total_votes: 1,
      results: [
        { id: '0', text: 'Yes', emoji: null, votes: 0, voters: [] },
        { id: '1', text: 'No', emoji: null, votes: 1, voters: [] },
      ],
      user_votes: ['1'],
    })
    // Each reader sees their own choice.
    expect((await alice.request({ cmd: 'message_get', channel: 'general', id: stored.id })).message.embeds[0].poll.user_votes).toEqual([])
  })

  test.concurrent('option objects keep their ids and emojis; duration_hours sets the end time; multiselect is kept', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const before = Date.now() / 1000
    const reply = await createPoll(alice, {
      question: '  Lunch?  ',
      options: [{ text: ' Soup ', emoji: '🍲' }, { id: 'b', text: 'Bread', emoji: '' }, 'Cake'],
      allow_multiselect: true,
      duration_hours: 2,
    })
    expect(reply).toMatchObject({
      question: 'Lunch?',
      options: [{ id: '0', text: 'Soup', emoji: '🍲' }, { id: 'b', text: 'Bread' }, { id: '2', text: 'Cake' }],
      allow_multiselect: true,
    })
    expect(reply.expires_at).toBeGreaterThanOrEqual(before + 7200)
    expect(reply.expires_at).toBeLessThanOrEqual(Date.now() / 1000 + 7200)
    const explicit = await createPoll(alice, { expires_at: before + 60, duration_hours: 5 })
    expect(explicit.expires_at).toBe(before + 60)
    expect((await alice.request({ cmd: 'poll_get', poll_id: explicit.poll_id })).poll.expires_at).toBe(before + 60)
  })

  test.concurrent('bad input, unknown targets and missing permissions answer the spec strings', async () => {
    await using server = await startServer()
    await server.addChannel(STAFF)
    await server.addChannel({ name: 'lobby', type: 'voice', permissions: { view: ['user'], send: ['user'] } })
    await server.addChannel({ name: 'news', type: 'text', permissions: { view: ['user'], send: ['owner'] } })
    await server.app.store.roles.insert(customRole('muted', [], 9))
    const alice = await server.login('alice')
    const owner = await server.login('owner')
    const now = Date.now() / 1000
    const base = { cmd: 'poll_create', channel: 'general', question: 'Q?', options: ['a', 'b'] }
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ channel: null }, 'Channel or thread_id is required'],
      [{ question: '   ' }, 'Question is required'],
      [{ question: undefined }, 'Question is required'],
      [{ question: 'q'.repeat(301) }, 'Question must be at most 300 characters'],
      [{ options: ['only'] }, 'At least 2 options are required'],
      [{ options: 'ab' }, 'At least 2 options are required'],
      [{ options: Array.from({ length: 11 }, (_, i) => `o${i}`) }, 'Cannot have more than 10 options'],
      [{ options: ['a', { id: 'x' }] }, "Option 1 must have 'text'"],
      [{ options: ['a', 5] }, "Option 1 must have 'text'"],
      [{ options: ['t'.repeat(101), 'b'] }, 'Option 0 text must be at most 100 characters'],
      [{ options: [{ id: '', text: 'a' }, 'b'] }, 'Option 0 id must be 1 to 50 characters'],
      [{ options: ['a', { id: 'i'.repeat(51), text: 'b' }] }, 'Option 1 id must be 1 to 50 characters'],
      [{ options: [{ id: 7, text: 'a' }, 'b'] }, 'Option 0 id must be 1 to 50 characters'],
      [{ options: [{ text: 'a', emoji: '😀'.repeat(65) }, 'b'] }, 'Option 0 emoji must be at most 64 characters'],
      [{ options: [{ id: '1', text: 'a' }, 'b'] }, 'Duplicate option id: 1'],
      [{ expires_at: now - 1 }, 'Poll end time must be in the future'],
      [{ duration_hours: -1 }, 'Poll end time must be in the future'],
      [{ expires_at: now + 366 * 86_400 }, 'Poll end time must be at most 365 days away'],
      [{ question: 5 }, "Invalid field 'question': expected string or null"],
      [{ channel: 'nope' }, 'Channel not found'],
      [{ channel: null, thread_id: 'nope' }, 'Thread not found'],
      [{ channel: 'staff' }, 'You do not have permission to send messages in this channel'],
      [{ channel: 'news' }, 'You do not have permission to send messages in this channel'],
    ]
    for (const [fields, val] of cases) {
      expect(await alice.error({ ...base, ...fields })).toEqual({ cmd: 'error', src: 'poll_create', val })
    }
    expect(await owner.error({ ...base, channel: 'lobby' })).toEqual({ cmd: 'error', src: 'poll_create', val: 'Cannot send messages in this channel type' })
    await server.setRoles('alice', ['muted'])
    expect(await alice.error(base)).toEqual({ cmd: 'error', src: 'poll_create', val: "Access denied: 'send_messages' permission required" })
    // Nothing above was stored or announced.
    expect((await owner.request({ cmd: 'messages_get', channel: 'general' })).messages).toEqual([])
    await owner.expectNone('message_new')
  })
})

describe('poll_vote', () => {
  test.concurrent('single choice: a new vote replaces the old, [] withdraws; viewers hear each change', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const poll = await createPoll(alice)
    const id = poll.poll_id

    const voted = await bob.request({ cmd: 'poll_vote', poll_id: id, option_id: '0' })
    expect(voted).toEqual({ cmd: 'poll_vote', poll_id: id, option_ids: ['0'], results: openResults(id, [1, 0]) })
    expect(await alice.next('poll_vote_update')).toEqual({
      cmd: 'poll_vote_update', poll_id: id, message_id: poll.message_id, channel: 'general', thread_id: null,
      user: 'bob', option_ids: ['0'], results: openResults(id, [1, 0]),
    })
    // The voter hears the broadcast too (it views the channel), before its reply.
    expect((await bob.next('poll_vote_update')).user).toBe('bob')

    const changed = await bob.request({ cmd: 'poll_vote', message_id: poll.message_id, option_ids: ['1'] })
    expect(changed).toEqual({ cmd: 'poll_vote', poll_id: id, option_ids: ['1'], results: openResults(id, [0, 1]) })
    expect((await alice.next('poll_vote_update')).results).toEqual(openResults(id, [0, 1]))
    // Voting again for the same option changes nothing.
    expect((await bob.request({ cmd: 'poll_vote', poll_id: id, option_ids: '1' })).results).toEqual(openResults(id, [0, 1]))
    expect((await alice.request({ cmd: 'poll_vote', poll_id: id, option_ids: ['0', '0'] })).results).toEqual(openResults(id, [1, 1]))

    const withdrawn = await bob.request({ cmd: 'poll_vote', poll_id: id, option_ids: [] })
    expect(withdrawn).toEqual({ cmd: 'poll_vote', poll_id: id, option_ids: [], results: openResults(id, [1, 0]) })
    expect((await bob.request({ cmd: 'poll_get', poll_id: id })).poll.user_votes).toEqual([])
  })

  test.concurrent('multiple choice: the list is the whole choice, added and removed at once', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const poll = await createPoll(alice, { options: ['A', 'B', 'C'], allow_multiselect: true })
    const vote = async (option_ids: unknown) => (await alice.request({ cmd: 'poll_vote', poll_id: poll.poll_id, option_ids })) as Packet
    const counts = (packet: Packet) => packet.results.results.map((r: Packet) => r.votes)

    const both = await vote(['2', '0'])
    expect(both.option_ids).toEqual(['0', '2'])
    expect(counts(both)).toEqual([1, 0, 1])
    expect(both.results.total_votes).toBe(2)
    const swapped = await vote(['1', '2'])
    expect(swapped.option_ids).toEqual(['1', '2'])
    expect(counts(swapped)).toEqual([0, 1, 1])
    // A bad option anywhere in the list changes nothing.
    expect(await alice.error({ cmd: 'poll_vote', poll_id: poll.poll_id, option_ids: ['0', 'x'] })).toEqual({ cmd: 'error', src: 'poll_vote', val: 'Invalid option: x' })
    expect((await alice.request({ cmd: 'poll_get', poll_id: poll.poll_id })).poll.user_votes).toEqual(['1', '2'])
    expect(counts(await vote([]))).toEqual([0, 0, 0])
  })

  test.concurrent('bad requests, hidden, ended and expired polls answer the spec strings', async () => {
    await using server = await startServer()
    await server.addChannel(STAFF)
    const alice = await server.login('alice')
    const owner = await server.login('owner')
    const poll = await createPoll(alice)
    const staffPoll = await createPoll(owner, { channel: 'staff' })
    const vote = (fields: Record<string, unknown>) => alice.error({ cmd: 'poll_vote', poll_id: poll.poll_id, ...fields })
    const refused = (val: string) => ({ cmd: 'error', src: 'poll_vote', val })

    expect(await alice.error({ cmd: 'poll_vote', option_id: '0' })).toEqual(refused('poll_id or message_id is required'))
    expect(await vote({ poll_id: 'nope', option_id: '0' })).toEqual(refused('Poll not found'))
    expect(await vote({ poll_id: null, message_id: 'nope', option_id: '0' })).toEqual(refused('Poll not found'))
    expect(await vote({})).toEqual(refused('option_id or option_ids is required'))
    expect(await vote({ option_id: '' })).toEqual(refused('option_id or option_ids is required'))
    expect(await vote({ option_id: '9' })).toEqual(refused('Invalid option: 9'))
    expect(await vote({ option_ids: ['0', '1'] })).toEqual(refused('This poll allows only one option'))
    expect(await vote({ option_ids: [0] })).toEqual(refused("Invalid field 'option_ids': expected array or string or null"))
    expect(await vote({ poll_id: staffPoll.poll_id, option_id: '0' })).toEqual(refused('You do not have permission to view this poll'))

    // A poll past its end time that has not been ended yet refuses votes (stored straight, so no timer ends it).
    const message = await server.app.store.messages.insert({ channel: 'general', thread_id: null, user: 'someone', content: '' })
    const past = { id: 'expired-poll', question: 'Late?', options: YES_NO, allow_multiselect: false, expires_at: Date.now() / 1000 - 60 }
    await server.app.store.polls.insert({ ...past, message_id: message.id, channel: 'general', thread_id: null, created_by: 'someone', created_at: 1 })
    expect(await vote({ poll_id: 'expired-poll', option_id: '0' })).toEqual(refused('Poll has expired'))
    // Ended by hand before the timer came round, it still ended at its end time.
    expect((await owner.request({ cmd: 'poll_end', poll_id: 'expired-poll' })).results.ended_at).toBe(past.expires_at)

    await alice.request({ cmd: 'poll_end', poll_id: poll.poll_id })
    expect(await vote({ option_id: '0' })).toEqual(refused('Poll has ended'))
    expect(await vote({ option_ids: [] })).toEqual(refused('Poll has ended'))
  })
})

describe('poll_end', () => {
  test.concurrent('the creator or a manage_messages holder ends it; viewers hear it with the voters named', async () => {
    await using server = await startServer()
    await server.addChannel(STAFF)
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const carol = await server.login('carol')
    await server.setRoles('carol', ['moderator', 'user'])
    const owner = await server.login('owner')
    const first = await createPoll(alice)
    const second = await createPoll(alice)
    await bob.request({ cmd: 'poll_vote', poll_id: first.poll_id, option_id: '1' })
    await alice.request({ cmd: 'poll_vote', poll_id: first.poll_id, option_id: '1' })
    for (const client of [alice, bob, carol, owner]) client.drain()

    expect(await bob.error({ cmd: 'poll_end', poll_id: first.poll_id })).toEqual({
      cmd: 'error', src: 'poll_end', val: "Access denied: 'manage_messages' permission required",
    })
    const ended = {
      poll_id: first.poll_id, question: 'Pizza?', allow_multiselect: false, ended: true, ended_at: expect.any(Number), total_votes: 2,
      results: [
        { id: '0', text: 'Yes', emoji: null, votes: 0, voters: [] },
        { id: '1', text: 'No', emoji: null, votes: 2, voters: ['bob', 'alice'] },
      ],
    }
    alice.send({ cmd: 'poll_end', poll_id: first.poll_id })
    // A viewing caller gets the broadcast, then the reply: two poll_end packets.
    const broadcast = await alice.next('poll_end')
    expect(broadcast).toEqual({ cmd: 'poll_end', poll_id: first.poll_id, message_id: first.message_id, channel: 'general', thread_id: null, results: ended })
    expect(await alice.next('poll_end')).toEqual({ cmd: 'poll_end', poll_id: first.poll_id, results: broadcast.results })
    expect(await bob.next('poll_end')).toEqual(broadcast)
    expect(await alice.error({ cmd: 'poll_end', message_id: first.message_id })).toEqual({ cmd: 'error', src: 'poll_end', val: 'Poll has already ended' })

    carol.send({ cmd: 'poll_end', message_id: second.message_id })
    expect((await bob.next('poll_end')).poll_id).toBe(second.poll_id)

    // manage_messages does not reach into a channel its holder cannot see.
    const staffPoll = await createPoll(owner, { channel: 'staff' })
    expect(await carol.error({ cmd: 'poll_end', poll_id: staffPoll.poll_id })).toEqual({ cmd: 'error', src: 'poll_end', val: 'You do not have permission to view this poll' })
    expect(await carol.error({ cmd: 'poll_end' })).toEqual({ cmd: 'error', src: 'poll_end', val: 'poll_id or message_id is required' })
    expect(await carol.error({ cmd: 'poll_end', poll_id: 'nope' })).toEqual({ cmd: 'error', src: 'poll_end', val: 'Poll not found' })
    owner.send({ cmd: 'poll_end', poll_id: staffPoll.poll_id })
    await owner.next('poll_end')
    await bob.expectNone('poll_end')
  })
})

describe('poll_results and poll_get', () => {
  test.concurrent('voters stay [] while open and are usernames once ended; voted and user_votes are the caller’s', async () => {
    await using server = await startServer()
    await server.addChannel(STAFF)
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const owner = await server.login('owner')
    const poll = await createPoll(alice, { options: [{ text: 'Yes', emoji: '👍' }, 'No'] })
    await bob.request({ cmd: 'poll_vote', poll_id: poll.poll_id, option_id: '0' })

    const open = await bob.request({ cmd: 'poll_results', message_id: poll.message_id })
    expect(open).toEqual({
      cmd: 'poll_results', poll_id: poll.poll_id, message_id: poll.message_id,
      results: {
        poll_id: poll.poll_id, question: 'Pizza?', allow_multiselect: false, ended: false, ended_at: null, total_votes: 1,
        results: [
          { id: '0', text: 'Yes', emoji: '👍', votes: 1, voters: [], voted: true },
          { id: '1', text: 'No', emoji: null, votes: 0, voters: [], voted: false },
        ],
      },
    })
    expect((await alice.request({ cmd: 'poll_results', poll_id: poll.poll_id })).results.results.map((r: Packet) => r.voted)).toEqual([false, false])

    expect(await bob.request({ cmd: 'poll_get', poll_id: poll.poll_id })).toEqual({
      cmd: 'poll_get',
      poll: {
        id: poll.poll_id, message_id: poll.message_id, channel: 'general', thread_id: null, question: 'Pizza?',
        options: [{ id: '0', text: 'Yes', emoji: '👍' }, { id: '1', text: 'No' }], allow_multiselect: false, expires_at: null,
        created_by: 'alice', created_at: expect.any(Number), ended: false, ended_at: null, user_votes: ['0'],
      },
    })

    await alice.request({ cmd: 'poll_end', poll_id: poll.poll_id })
    const closed = await alice.request({ cmd: 'poll_results', poll_id: poll.poll_id })
    expect(closed.results.results.map((r: Packet) => r.voters)).toEqual([['bob'], []])
    expect(closed.results.ended_at).toEqual(expect.any(Number))
    expect((await alice.request({ cmd: 'poll_get', poll_id: poll.poll_id })).poll).toMatchObject({ ended: true, ended_at: closed.results.ended_at, user_votes: [] })

    const staffPoll = await createPoll(owner, { channel: 'staff' })
    for (const cmd of ['poll_results', 'poll_get']) {
      expect(await bob.error({ cmd, poll_id: staffPoll.poll_id })).toEqual({ cmd: 'error', src: cmd, val: 'You do not have permission to view this poll' })
      expect(await bob.error({ cmd, message_id: 'nope' })).toEqual({ cmd: 'error', src: cmd, val: 'Poll not found' })
      expect(await bob.error({ cmd, poll_id: '' })).toEqual({ cmd: 'error', src: cmd, val: 'poll_id or message_id is required' })
      expect(await bob.error({ cmd, poll_id: 5 })).toEqual({ cmd: 'error', src: cmd, val: "Invalid field 'poll_id': expected string or null" })
    }
  })
})

describe('polls over time', () => {
  test.concurrent('polls and votes survive a restart; a rename moves a poll, deleting its message or channel removes it', async () => {
    await using server = await startServer()
    await server.addChannel({ name: 'lounge', type: 'text', permissions: { view: ['user'], send: ['user'] } })
    const alice = await server.login('alice')
    const poll = await createPoll(alice, { allow_multiselect: true })
    const moving = await createPoll(alice, { channel: 'lounge' })
    await alice.request({ cmd: 'poll_vote', poll_id: poll.poll_id, option_ids: ['0', '1'] })
    await alice.request({ cmd: 'poll_vote', poll_id: moving.poll_id, option_id: '1' })
    const before = await alice.request({ cmd: 'poll_get', poll_id: poll.poll_id })

    await server.restart()
    const owner = await server.login('owner')
    const author = await server.login('alice')
    const bob = await server.login('bob')
    expect(await bob.request({ cmd: 'poll_get', poll_id: poll.poll_id })).toEqual({ ...before, poll: { ...before.poll, user_votes: [] } })
    const after = await bob.request({ cmd: 'poll_vote', poll_id: poll.poll_id, option_id: '1' })
    expect(after.results.results.map((r: Packet) => r.votes)).toEqual([1, 2])

    await owner.request({ cmd: 'channel_update', current_name: 'lounge', updates: { name: 'hall' } })
    expect((await bob.request({ cmd: 'poll_get', poll_id: moving.poll_id })).poll.channel).toBe('hall')
    bob.drain('poll_vote_update')
    await bob.request({ cmd: 'poll_vote', message_id: moving.message_id, option_id: '0' })
    expect((await bob.next('poll_vote_update')).channel).toBe('hall')

    await author.request({ cmd: 'message_delete', channel: 'general', id: poll.message_id })
    expect(await bob.error({ cmd: 'poll_get', poll_id: poll.poll_id })).toEqual({ cmd: 'error', src: 'poll_get', val: 'Poll not found' })
    await owner.request({ cmd: 'channel_delete', name: 'hall' })
    expect(await bob.error({ cmd: 'poll_results', poll_id: moving.poll_id })).toEqual({ cmd: 'error', src: 'poll_results', val: 'Poll not found' })
  })

  test.concurrent('a poll whose end time passed while the server was down is ended at start-up, at its end time, once', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const poll = await createPoll(alice, { duration_hours: 1 })
    await bob.request({ cmd: 'poll_vote', poll_id: poll.poll_id, option_id: '0' })
    await server.app.stop()
    // The hour "passes" while the server is down.
    const endedAt = Date.now() / 1000 - 5
    await server.runStatement('UPDATE polls SET expires_at = ? WHERE id = ?', [endedAt, poll.poll_id])

    await server.restart()
    const carol = await server.login('carol')
    expect((await carol.request({ cmd: 'poll_get', poll_id: poll.poll_id })).poll).toMatchObject({ ended: true, ended_at: endedAt, expires_at: endedAt })
    expect((await carol.request({ cmd: 'poll_results', poll_id: poll.poll_id })).results.results[0].voters).toEqual(['bob'])
    expect(await carol.error({ cmd: 'poll_vote', poll_id: poll.poll_id, option_id: '1' })).toEqual({ cmd: 'error', src: 'poll_vote', val: 'Poll has ended' })

    // Started again, the server finds nothing left to end: the poll keeps its first ending.
    await server.restart()
    const dave = await server.login('dave')
    expect((await dave.request({ cmd: 'poll_get', poll_id: poll.poll_id })).poll.ended_at).toBe(endedAt)
    await dave.expectNone('poll_end')
  })

  test.concurrent('a running server ends an overdue poll once the timer looks, and tells only its viewers', async () => {
    await using server = await startServer()
    await server.addChannel(STAFF)
    const alice = await server.login('alice')
    const owner = await server.login('owner')
    const overdue = await insertOverduePoll(server, 'staff')
    // The poll was stored behind the timer's back; the next poll with an end time makes it look again.
    await createPoll(alice, { duration_hours: 1 })
    const ended = await owner.next('poll_end')
    expect(ended).toEqual({
      cmd: 'poll_end', poll_id: overdue.id, message_id: overdue.message_id, channel: 'staff', thread_id: null,
      results: expect.objectContaining({ ended: true, ended_at: overdue.expires_at }),
    })
    expect(await owner.error({ cmd: 'poll_end', poll_id: overdue.id })).toEqual({ cmd: 'error', src: 'poll_end', val: 'Poll has already ended' })
    await alice.expectNone('poll_end')
    await owner.expectNone('poll_end')
  })
})

/** A poll whose end time is already past, stored straight through the store (no command tells the timer). */
async function insertOverduePoll(server: TestServer, channel: string) {
  const draft = { id: crypto.randomUUID(), question: 'Late?', options: YES_NO, allow_multiselect: false, expires_at: Date.now() / 1000 - 30 }
  const message = await server.app.store.messages.insert({ channel, thread_id: null, user: 'owner', content: '', embeds: [pollEmbed(draft)] })
  return server.app.store.polls.insert({ ...draft, message_id: message.id, channel, thread_id: null, created_by: 'owner', created_at: message.timestamp })
}
