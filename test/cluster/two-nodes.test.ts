import { afterAll, describe, expect, test } from 'bun:test'
import type { Packet, TestClient } from '../helpers/client.ts'
import { bearer, pngFile } from '../helpers/attachments.ts'
import { until } from '../helpers/cluster.ts'
import { killAll } from '../helpers/process.ts'
import { OWNER, sharedClusterUnavailable, startSharedCluster } from '../helpers/shared-cluster.ts'

const unavailable = await sharedClusterUnavailable()
/** Each test starts two or three nodes, nodes migrate one at a time (the migration lock), and clusters beyond five wait their turn: room for a busy machine. */
const STARTS = 60_000
afterAll(killAll)

const named = (username: string) => (p: Packet) => p.user?.username === username || p.username === username
const count = (client: TestClient, cmd: string, where: (p: Packet) => boolean = () => true) => client.inbox.filter((p) => p.cmd === cmd && where(p)).length

/** Everything published before this returns has reached every receiver: the stream is one ordered log. */
async function settled(sender: TestClient, receivers: TestClient[]) {
  const content = `sentinel-${crypto.randomUUID()}`
  sender.send({ cmd: 'message_new', channel: 'general', content })
  for (const receiver of [sender, ...receivers]) await receiver.next('message_new', (p) => p.message?.content === content)
}

const history = async (client: TestClient, channel = 'general') => (await client.request({ cmd: 'messages_get', channel })).messages as Packet[]
/** The caller's own `channels_get` answer, told apart by a listener from the lists pushed after changes. */
async function channelNames(client: TestClient): Promise<string[]> {
  const listener = `list-${crypto.randomUUID()}`
  client.send({ cmd: 'channels_get', listener })
  return ((await client.next('channels_get', (p) => p.listener === listener)).val as Packet[]).map((c) => c.name)
}

/** Waits for a `channels_get` the server pushed (no listener) whose names pass `check`. */
const pushedList = (client: TestClient, check: (names: string[]) => boolean) =>
  client.next('channels_get', (p) => p.listener === undefined && check((p.val as Packet[]).map((c) => c.name)))

describe.skipIf(unavailable !== undefined)('two nodes, one PostgreSQL schema, one Redis prefix', () => {
  test.concurrent('presence once each; messages live and in history on the other node; reactions, edits, deletes, pins, typing', async () => {
    await using cluster = await startSharedCluster()
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const alice = await a.login('alice')
    const bob = await b.login('bob')
    await alice.next('user_connect', named('bob'))
    await settled(alice, [bob])
    expect(count(alice, 'user_connect', named('bob'))).toBe(0)
    expect(count(bob, 'user_connect', named('alice'))).toBe(0)
    for (const client of [alice, bob]) expect((await client.request({ cmd: 'users_online' })).users.map((u: Packet) => u.username).sort()).toEqual(['alice', 'bob'])

    const posted = await alice.post('hello from A')
    expect((await bob.next('message_new', (p) => p.message.id === posted.id)).message).toEqual(posted)
    expect((await history(bob)).find((m) => m.id === posted.id)).toMatchObject({ content: 'hello from A', user: 'alice' })

    bob.send({ cmd: 'message_react_add', id: posted.id, channel: 'general', emoji: '👋' })
    expect(await alice.next('message_react_add')).toMatchObject({ id: posted.id, emoji: '👋', from: 'bob' })
    await bob.next('message_react_add')
    expect((await history(alice)).find((m) => m.id === posted.id)!.reactions).toEqual({ '👋': ['bob'] })

    alice.send({ cmd: 'message_edit', channel: 'general', id: posted.id, content: 'edited on A' })
    expect(await bob.next('message_edit')).toMatchObject({ id: posted.id })
    expect((await history(bob)).find((m) => m.id === posted.id)!.content).toBe('edited on A')

    bob.send({ cmd: 'typing', channel: 'general' })
    expect(await alice.next('typing')).toMatchObject({ cmd: 'typing', channel: 'general', user: 'bob' })

    const owner = await b.login(OWNER)
    owner.send({ cmd: 'message_pin', id: posted.id, channel: 'general' })
    expect(await alice.next('message_pin')).toMatchObject({ id: posted.id, pinned: true })
    expect((await alice.request({ cmd: 'messages_pinned', channel: 'general' })).messages.map((m: Packet) => m.id)).toEqual([posted.id])

    const second = await bob.post('to be deleted')
    await alice.next('message_new', (p) => p.message.id === second.id)
    bob.send({ cmd: 'message_delete', channel: 'general', id: second.id })
    expect(await alice.next('message_delete')).toMatchObject({ id: second.id })
    expect((await history(alice)).some((m) => m.id === second.id)).toBe(false)
  }, STARTS)

  test.concurrent('a thread and a poll vote across nodes', async () => {
    await using cluster = await startSharedCluster()
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const owner = await a.login(OWNER)
    const bob = await b.login('bob')
    await owner.request({ cmd: 'channel_create', name: 'ideas', type: 'forum', permissions: { view: ['user'], send: ['user'], create_thread: ['user'] } })
    await pushedList(bob, (names) => names.includes('ideas'))

    owner.send({ cmd: 'thread_create', channel: 'ideas', name: 'Pizza' })
    const thread = (await owner.next('thread_create')).thread
    expect((await bob.next('thread_create')).thread).toEqual(thread)
    const inThread = await bob.post('in the thread', { thread_id: thread.id })
    expect((await owner.next('message_new', (p) => p.message.id === inThread.id)).thread_id).toBe(thread.id)
    expect((await owner.request({ cmd: 'thread_messages', thread_id: thread.id })).messages.map((m: Packet) => m.content)).toEqual(['in the thread'])

    owner.send({ cmd: 'poll_create', channel: 'general', question: 'Pizza?', options: ['Yes', 'No'] })
    const poll = await owner.next('poll_create')
    const voted = await bob.request({ cmd: 'poll_vote', poll_id: poll.poll_id, option_id: '1' })
    expect(voted.option_ids).toEqual(['1'])
    expect(await owner.next('poll_vote_update')).toMatchObject({ poll_id: poll.poll_id, user: 'bob', option_ids: ['1'] })
    const seenOnA = (await owner.request({ cmd: 'poll_results', poll_id: poll.poll_id })).results
    expect(seenOnA.results.map((option: Packet) => option.votes)).toEqual([0, 1])
    expect(seenOnA.total_votes).toBe(1)
  }, STARTS)

  test.concurrent('a role change and channel create, rename and delete on A reach B', async () => {
    await using cluster = await startSharedCluster()
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const owner = await a.login(OWNER)
    const bob = await b.login('bob')
    await owner.request({ cmd: 'channel_create', name: 'staff', type: 'text', permissions: { view: ['owner', 'moderator'], send: ['owner'] } })
    expect(await channelNames(bob)).not.toContain('staff')

    owner.send({ cmd: 'user_roles_set', user: 'bob', roles: ['moderator', 'user'] })
    await bob.next('user_roles_get', (p) => p.user === 'bob')
    expect(await channelNames(bob)).toContain('staff')
    // Bob's socket on B now receives staff's messages (resubscribed by the `refresh` event).
    const secret = await owner.post('staff only', { channel: 'staff' })
    expect((await bob.next('message_new', (p) => p.message.id === secret.id)).channel).toBe('staff')

    await owner.request({ cmd: 'channel_create', name: 'news', type: 'text', permissions: { view: ['user'], send: ['user'] } })
    await pushedList(bob, (names) => names.includes('news'))
    expect(await channelNames(bob)).toContain('news')
    await owner.request({ cmd: 'channel_update', current_name: 'news', updates: { name: 'updates' } })
    await pushedList(bob, (names) => names.includes('updates') && !names.includes('news'))
    const renamed = await owner.post('in the renamed channel', { channel: 'updates' })
    expect((await bob.next('message_new', (p) => p.message.id === renamed.id)).channel).toBe('updates')
    // The lists pushed before it would pass the check below as well.
    bob.drain('channels_get')
    await owner.request({ cmd: 'channel_delete', name: 'updates' })
    await pushedList(bob, (names) => !names.includes('updates'))
    expect(await channelNames(bob)).not.toContain('updates')
  }, STARTS)

  test.concurrent('voice: a call is one call across nodes, also for a node that starts later', async () => {
    await using cluster = await startSharedCluster()
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const owner = await a.login(OWNER)
    const alice = await a.login('alice')
    const bob = await b.login('bob')
    await owner.request({ cmd: 'channel_create', name: 'lounge', type: 'voice', permissions: { view: ['user'] } })
    await owner.request({ cmd: 'channel_create', name: 'den', type: 'voice', permissions: { view: ['user'] } })
    await pushedList(bob, (names) => names.includes('den'))
    const aliceId = alice.ready.user.id ?? (await a.app!.store.users.getByUsername('alice'))!.id

    expect(await alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a' })).toEqual({ cmd: 'voice_join', channel: 'lounge', participants: [] })
    expect(await bob.next('voice_user_joined')).toEqual({ cmd: 'voice_user_joined', channel: 'lounge', user: { id: aliceId, username: 'alice', muted: false } })
    // B's viewer sees A's participant in voice_state and in the channel list.
    expect((await bob.request({ cmd: 'voice_state', channel: 'lounge' })).participants).toEqual([{ id: aliceId, username: 'alice', muted: false }])
    const lounge = async (client: TestClient) => {
      const listener = `list-${crypto.randomUUID()}`
      client.send({ cmd: 'channels_get', listener })
      return (await client.next('channels_get', (p) => p.listener === listener)).val.find((c: Packet) => c.name === 'lounge').voice_state
    }
    expect(await lounge(bob)).toEqual([{ username: 'alice', muted: false }])

    // Joining on B: the reply lists A's participant with her peer ID, and she hears bob's.
    expect(await bob.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-b' })).toEqual({
      cmd: 'voice_join', channel: 'lounge', participants: [{ username: 'alice', peer_id: 'peer-a', muted: false }],
    })
    expect((await alice.next('voice_user_joined', (p) => p.user.username === 'bob')).user.peer_id).toBe('peer-b')
    await alice.request({ cmd: 'voice_mute' })
    expect((await bob.next('voice_user_updated')).user).toMatchObject({ username: 'alice', muted: true, peer_id: 'peer-a' })
    expect((await bob.request({ cmd: 'voice_state', channel: 'lounge' })).participants.map((p: Packet) => [p.username, p.muted, p.peer_id])).toEqual([
      ['alice', true, 'peer-a'],
      ['bob', false, 'peer-b'],
    ])

    // A node that starts now sees the call already going on.
    const c = await cluster.addNode()
    const carol = await c.login('carol')
    expect((await carol.request({ cmd: 'voice_state', channel: 'lounge' })).participants.map((p: Packet) => p.username).sort()).toEqual(['alice', 'bob'])

    // Alice joins another call from a second connection on B: her call on A ends, once.
    const aliceOnB = await b.login('alice')
    await aliceOnB.request({ cmd: 'voice_join', channel: 'den', peer_id: 'peer-a2' })
    expect(await carol.next('voice_user_left')).toEqual({ cmd: 'voice_user_left', channel: 'lounge', username: 'alice' })
    await settled(owner, [carol, bob])
    expect((await carol.request({ cmd: 'voice_state', channel: 'lounge' })).participants.map((p: Packet) => p.username)).toEqual(['bob'])
    expect((await owner.request({ cmd: 'voice_state', channel: 'den' })).participants.map((p: Packet) => p.username)).toEqual(['alice'])
    expect(await alice.error({ cmd: 'voice_leave' })).toMatchObject({ val: 'You are not in a voice channel' })

    // Leaving on B reaches A and C.
    await bob.request({ cmd: 'voice_leave' })
    expect(await carol.next('voice_user_left')).toEqual({ cmd: 'voice_user_left', channel: 'lounge', username: 'bob' })
    expect((await owner.request({ cmd: 'voice_state', channel: 'lounge' })).participants).toEqual([])
  }, STARTS)

  test.concurrent('slash commands a connection registers on B are listed and called on A, and the bot\'s answer reaches A', async () => {
    await using cluster = await startSharedCluster()
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const alice = await a.login('alice')
    const bot = await b.login('bot')
    const hello = { name: 'hello', description: 'Say hello', options: [{ name: 'who', description: 'Whom', type: 'str' }] }
    await bot.request({ cmd: 'slash_register', commands: [hello] })
    expect((await alice.next('slash_add')).commands.map((c: Packet) => [c.name, c.registeredBy])).toEqual([['hello', 'bot']])
    const listed = (await alice.request({ cmd: 'slash_list' })).commands.find((c: Packet) => c.name === 'hello')
    expect(listed).toMatchObject({ name: 'hello', registeredBy: 'bot' })
    // A node started later lists it too.
    const c = await cluster.addNode()
    const carol = await c.login('carol')
    expect((await carol.request({ cmd: 'slash_list' })).commands.map((c: Packet) => c.name)).toContain('hello')
    // Another user may not take the name on another node.
    expect(await carol.error({ cmd: 'slash_register', commands: [hello] })).toMatchObject({ val: 'Invalid command schema: /hello is already registered by bot' })

    const call = await alice.request({ cmd: 'slash_call', channel: 'general', command: 'hello', args: { who: 'world' } })
    const received = await bot.next('slash_call')
    expect(received).toEqual(call)
    expect(received).toMatchObject({ val: { command: 'hello', args: { who: 'world' }, commander: 'bot' }, invokerUsername: 'alice', channel: 'general' })
    bot.send({ cmd: 'slash_response', channel: 'general', command: 'hello', invoker: received.invoker, response: 'Hello, world' })
    const answer = await alice.next('message_new', (p) => p.message.content === 'Hello, world')
    expect(answer.message.interaction).toEqual({ command: 'hello', username: 'alice' })

    // The bot's connection closes: its command goes on every node.
    await bot.close()
    expect(await alice.next('slash_remove')).toEqual({ cmd: 'slash_remove', commands: ['hello'] })
    await carol.next('slash_remove')
    expect(await carol.error({ cmd: 'slash_call', channel: 'general', command: 'hello', args: { who: 'x' } })).toMatchObject({ val: 'Unknown slash command: /hello' })
  }, STARTS)

  test.concurrent('a ban on A closes the user\'s socket on B, and B refuses their next login', async () => {
    await using cluster = await startSharedCluster()
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const owner = await a.login(OWNER)
    const bob = await b.login('bob')
    await owner.request({ cmd: 'user_ban', user: 'bob' })
    await bob.closed
    await expect(b.login('bob')).rejects.toThrow(/banned/i)
  }, STARTS)

  test.concurrent('an upload may reach either node: the connection that vouches for it may be on the other one', async () => {
    await using cluster = await startSharedCluster()
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const alice = await b.login('alice')
    const key = alice.handshake.val.validator_key as string
    const viaA = async (fields: Record<string, unknown>, headers: Record<string, string> = {}) =>
      (await fetch(`${a.url.replace(/^ws/, 'http')}attachments/upload`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(fields) })).status
    const roturFor = (username: string) => ({ validator_key: key, validator: cluster.rotur.issue(username, key) })
    expect(await viaA(pngFile(5, 5), bearer(alice))).toBe(201)
    expect(await viaA({ ...pngFile(6, 6), ...roturFor('alice') })).toBe(201)
    // Rotur vouching for someone else with alice's key is refused, across nodes too.
    await a.login('mallory')
    expect(await viaA({ ...pngFile(7, 7), ...roturFor('mallory') })).toBe(401)
    await alice.close()
    await until('the closed connection no longer vouches on A', async () => (await viaA({ ...pngFile(8, 8), ...roturFor('alice') })) === 401)
    expect(await viaA(pngFile(9, 9), bearer(alice))).toBe(401)
  }, STARTS)

  test.concurrent("a timeout's notice goes to the user's first connection in the cluster, whichever node holds it", async () => {
    await using cluster = await startSharedCluster([{}, {}], { rate_limiting: { enabled: true, messages_per_minute: 60, burst_limit: 10, cooldown_seconds: 30 } })
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const owner = await a.login(OWNER)
    const first = await b.login('carol')
    const second = await a.login('carol')
    expect(await owner.request({ cmd: 'user_timeout', user: 'carol', timeout: 60 })).toMatchObject({ cmd: 'user_timeout', user: 'carol' })
    expect(await first.next('rate_limit')).toEqual({ cmd: 'rate_limit', reason: 'User timeout set', length: 60000 })
    expect(count(second, 'rate_limit')).toBe(0)
    await first.close()
    await until('the closed connection left Redis', async () => (await cluster.redis.send('ZCARD', [`${cluster.prefix}sessions:rotur-carol`])) === 1)
    // Now the connection on A is the first: it hears of the next timeout, given on B.
    const ownerOnB = await b.login(OWNER)
    await ownerOnB.request({ cmd: 'user_timeout', user: 'carol', timeout: 30 })
    expect(await second.next('rate_limit')).toEqual({ cmd: 'rate_limit', reason: 'User timeout set', length: 30000 })
  }, STARTS)

  test.concurrent('the message rate limit is shared by both nodes', async () => {
    await using cluster = await startSharedCluster([{}, {}], { rate_limiting: { enabled: true, messages_per_minute: 3, burst_limit: 100, cooldown_seconds: 1 } })
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const onA = await a.login('alice')
    const onB = await b.login('alice')
    for (let i = 0; i < 3; i++) await (i % 2 ? onB : onA).post(`m${i}`)
    onB.send({ cmd: 'message_new', channel: 'general', content: 'one too many' })
    expect((await onB.next('rate_limit')).cmd).toBe('rate_limit')
    expect((await history(onA)).map((m) => m.content)).not.toContain('one too many')
  }, STARTS)
})

describe.skipIf(unavailable !== undefined)('two nodes: faults', () => {
  test.concurrent('when Redis loses every key, calls and slash commands go back in, so a node started later sees them', async () => {
    await using cluster = await startSharedCluster()
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const owner = await a.login(OWNER)
    await owner.request({ cmd: 'channel_create', name: 'lounge', type: 'voice', permissions: { view: ['user'] } })
    const alice = await b.login('alice')
    await alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a' })
    const hello = { name: 'hello', description: 'Say hello', options: [] }
    await alice.request({ cmd: 'slash_register', commands: [hello] })
    // What a Redis restart without persistence leaves: nothing (the connections are kept here).
    await cluster.redis.send('DEL', await cluster.redis.send('KEYS', [`${cluster.prefix}*`]))
    await until('B wrote its call and its slash command again', async () => {
      const [voice, slash] = await Promise.all([cluster.redis.send('HLEN', [`${cluster.prefix}voice`]), cluster.redis.send('HLEN', [`${cluster.prefix}slash`])])
      return voice === 1 && slash === 1
    })
    const c = await cluster.addNode()
    const carol = await c.login('carol')
    expect((await carol.request({ cmd: 'voice_state', channel: 'lounge' })).participants.map((p: Packet) => p.username)).toEqual(['alice'])
    expect((await carol.request({ cmd: 'slash_list' })).commands.map((command: Packet) => command.name)).toContain('hello')
  }, STARTS)

  test.concurrent('SIGKILL of node B: A\'s clients hear B\'s users leave within the node timeout, and A keeps working', async () => {
    await using cluster = await startSharedCluster([{}, { process: true }])
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const owner = await a.login(OWNER)
    await owner.request({ cmd: 'channel_create', name: 'lounge', type: 'voice', permissions: { view: ['user'] } })
    const alice = await a.login('alice')
    const bob = await b.login('bob')
    await alice.next('user_connect', named('bob'))
    await bob.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-b' })
    await alice.next('voice_user_joined')
    await bob.request({ cmd: 'slash_register', commands: [{ name: 'hello', description: 'Say hello' }] })
    await alice.next('slash_add')
    const posted = await bob.post('before the crash')
    b.process!.kill()
    await b.process!.exited
    const killedAt = Date.now()
    expect(await alice.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'bob' })
    // node_timeout_ms is 1500, and the reaper runs every 300 ms: allow a generous margin for a loaded machine.
    expect(Date.now() - killedAt).toBeLessThan(10_000)
    expect(await alice.next('voice_user_left')).toEqual({ cmd: 'voice_user_left', channel: 'lounge', username: 'bob' })
    expect((await alice.request({ cmd: 'voice_state', channel: 'lounge' })).participants).toEqual([])
    expect(await alice.next('slash_remove')).toEqual({ cmd: 'slash_remove', commands: ['hello'] })
    expect((await alice.request({ cmd: 'users_online' })).users.map((u: Packet) => u.username).sort()).toEqual(['alice', OWNER])
    expect((await history(alice)).map((m) => m.id)).toContain(posted.id)
    const carol = await a.login('carol')
    const after = await alice.post('after the crash')
    expect((await carol.next('message_new', (p) => p.message.id === after.id)).message.content).toBe('after the crash')
  }, STARTS)

  test.concurrent('Redis connection blip: no acknowledged message missing, live delivery resumes, presence right', async () => {
    await using cluster = await startSharedCluster()
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const alice = await a.login('alice')
    const bob = await b.login('bob')
    await alice.next('user_connect', named('bob'))
    const acked: string[] = []
    for (let i = 0; i < 5; i++) acked.push((await alice.post(`before ${i}`)).id)
    const ids = [...(await cluster.connectionIds(a, 'command')), ...(await cluster.connectionIds(a, 'stream'))]
    expect(ids.length).toBeGreaterThan(0)
    for (const id of ids) await cluster.redis.send('CLIENT', ['KILL', 'ID', id])
    for (let i = 0; i < 5; i++) acked.push((await alice.post(`during ${i}`)).id)
    // Live delivery resumes: everything A acknowledged reaches B, in order.
    for (const id of acked) await bob.next('message_new', (p) => p.message.id === id)
    const stored = (await history(bob)).map((m) => m.id)
    for (const id of acked) expect(stored).toContain(id)
    const fromB = await bob.post('from B after the blip')
    await alice.next('message_new', (p) => p.message.id === fromB.id)
    for (const client of [alice, bob]) expect((await client.request({ cmd: 'users_online' })).users.map((u: Packet) => u.username).sort()).toEqual(['alice', 'bob'])
    expect(count(alice, 'user_disconnect')).toBe(0)
    expect(count(bob, 'user_disconnect')).toBe(0)
  }, STARTS)

  test.concurrent('PostgreSQL outage for one node: its requests get a clear error, and it serves again by itself', async () => {
    await using cluster = await startSharedCluster([{ proxy: true }, {}])
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    const alice = await a.login('alice')
    const bob = await b.login('bob')
    a.proxy!.cut()
    const refused = await alice.error({ cmd: 'message_new', channel: 'general', content: 'during the outage' })
    expect(refused).toMatchObject({ cmd: 'error', val: 'Internal server error' })
    // The other node is unaffected.
    const fromB = await bob.post('B still works')
    await alice.next('message_new', (p) => p.message.id === fromB.id)
    a.proxy!.resume()
    let back: Packet | undefined
    await until('node A stores messages again', async () => {
      const listener = `retry-${crypto.randomUUID()}`
      alice.send({ cmd: 'message_new', channel: 'general', content: 'after the outage', listener })
      const reply = await Promise.race([alice.next('message_new', (p) => p.listener === listener), alice.next('error')])
      if (reply.cmd === 'message_new') back = reply.message
      return reply.cmd === 'message_new'
    })
    expect((await history(bob)).map((m) => m.id)).toContain(back!.id)
    expect((await history(bob)).map((m) => m.content)).not.toContain('during the outage')
  }, STARTS)
})
