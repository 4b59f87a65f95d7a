import { describe, expect, test } from 'bun:test'
import { CloseCode } from '../../src/net/hub.ts'
import type { Packet, TestClient } from '../helpers/client.ts'
import { redisUnavailable, startCluster, until } from '../helpers/cluster.ts'

const unavailable = await redisUnavailable()

const connected = (username: string) => (p: Packet) => p.user?.username === username
const count = (client: TestClient, cmd: string, where: (p: Packet) => boolean = () => true) => client.inbox.filter((p) => p.cmd === cmd && where(p)).length

/** Everything published before this returns has reached `client`: the stream is one ordered log. */
async function settled(sender: TestClient, receivers: TestClient[]) {
  const content = `sentinel-${crypto.randomUUID()}`
  sender.send({ cmd: 'message_new', channel: 'general', content })
  for (const receiver of receivers) await receiver.next('message_new', (p) => p.message?.content === content)
}

describe.skipIf(unavailable !== undefined)('cluster over Redis', () => {
  test.concurrent('users on two nodes see each other online once, and each other\'s messages, typing and reactions', async () => {
    await using cluster = await startCluster(2)
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('alice', 'bob')
    const alice = await a.login('alice')
    const bob = await b.login('bob')
    expect((await alice.next('user_connect', connected('bob'))).user.username).toBe('bob')
    // A second session of bob, on the other node: not a new arrival anywhere.
    const bobAgain = await a.login('bob')
    await settled(alice, [bob, bobAgain])
    expect(count(alice, 'user_connect', connected('bob'))).toBe(0)
    expect(count(bob, 'user_connect', connected('bob'))).toBe(1)

    const online = await bob.request({ cmd: 'users_online' })
    expect(online.users.map((u: Packet) => u.username).sort()).toEqual(['alice', 'bob'])

    const posted = await alice.post('hello from A')
    expect((await bob.next('message_new', (p) => p.message.id === posted.id)).message).toEqual(posted)

    bob.send({ cmd: 'typing', channel: 'general' })
    expect(await alice.next('typing')).toMatchObject({ cmd: 'typing', channel: 'general', user: 'bob' })

    alice.send({ cmd: 'message_react_add', id: posted.id, channel: 'general', emoji: '👋' })
    expect(await bob.next('message_react_add')).toMatchObject({ id: posted.id, emoji: '👋', from: 'alice' })
  })

  test.concurrent('the last session to close, on whichever node, is announced gone once', async () => {
    await using cluster = await startCluster(2)
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('alice', 'bob')
    const alice = await a.login('alice')
    const bobOnA = await a.login('bob')
    const bobOnB = await b.login('bob')
    await bobOnB.close()
    await settled(alice, [bobOnA])
    expect(count(alice, 'user_disconnect')).toBe(0)
    await bobOnA.close()
    expect(await alice.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'bob' })
    const carol = await b.login('carol')
    await settled(carol, [alice])
    expect(count(alice, 'user_disconnect')).toBe(0)
    expect((await carol.request({ cmd: 'users_online' })).users.map((u: Packet) => u.username).sort()).toEqual(['alice', 'carol'])
  })

  test.concurrent('the heartbeat and replies to one connection stay on their node; broadcasts go through the stream as sent', async () => {
    await using cluster = await startCluster(2, { websocket: { host: '127.0.0.1', port: 0, heartbeat_seconds: 0.05 } })
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('alice', 'bob')
    const alice = await a.login('alice')
    await b.login('bob')
    await alice.next('ping')
    expect(await alice.request({ cmd: 'users_online' })).toMatchObject({ cmd: 'users_online' })
    const posted = await alice.post('through the stream')
    const entries: Array<[string, string[]]> = await cluster.redis.send('XRANGE', [`${cluster.prefix}bus`, '-', '+'])
    const frames = entries.map(([, fields]) => fields).filter((fields) => fields.includes('frame'))
    const topicsSent = frames.map((fields) => fields[fields.indexOf('topic') + 1])
    expect(topicsSent).not.toContain('sockets')
    expect(frames.some((fields) => fields.join(' ').includes('users_online'))).toBe(false)
    // The entry carries the broadcast as the publishing node serialized it, for the others to pass on unparsed.
    const message = frames.find((fields) => fields[fields.indexOf('topic') + 1] === 'channel:general')!
    expect(JSON.parse(message[message.indexOf('frame') + 1]!)).toMatchObject({ cmd: 'message_new', message: { id: posted.id, content: 'through the stream' }, channel: 'general' })
  })

  test.concurrent('a ban on one node closes the user\'s sockets on the other', async () => {
    await using cluster = await startCluster(2)
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('owner', 'bob')
    const owner = await a.login('owner')
    const bob = await b.login('bob')
    await owner.next('user_connect', connected('bob'))
    owner.send({ cmd: 'user_ban', user: 'bob' })
    expect(await bob.next('disconnect')).toMatchObject({ cmd: 'disconnect' })
    expect((await bob.closed).code).toBe(CloseCode.normal)
    expect(await owner.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'bob' })
  })

  test.concurrent('a role change on one node resubscribes the user\'s sockets on the other', async () => {
    await using cluster = await startCluster(2)
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('owner', 'bob')
    // Each test node has its own SQLite store: the role and channel go into both, as a shared database would hold them.
    for (const node of cluster.nodes) {
      const user = (await node.app.store.roles.get('user'))!
      await node.app.store.roles.insert({ ...user, name: 'staff', id: 'staff-role', position: (await node.app.store.roles.list()).length })
      await node.app.store.channels.insert({ name: 'staff', type: 'text', permissions: { view: ['staff', 'owner'], send: ['staff', 'owner'] } })
    }
    const owner = await a.login('owner')
    const bob = await b.login('bob')
    await owner.next('user_connect', connected('bob'))
    await b.app.store.users.update('rotur-bob', { roles: ['user', 'staff'] })
    expect(await owner.request({ cmd: 'user_roles_set', user: 'bob', roles: ['user', 'staff'] }, 'user_roles_get')).toMatchObject({ user: 'bob', roles: ['user', 'staff'] })
    const list = await bob.next('channels_get', (p) => p.val.some((channel: Packet) => channel.name === 'staff'))
    expect(list.val.map((channel: Packet) => channel.name)).toContain('staff')
    const posted = await owner.post('for staff', { channel: 'staff' })
    expect((await bob.next('message_new', (p) => p.channel === 'staff')).message).toEqual(posted)
  })

  test.concurrent('a rename and a status set on one node reach the user\'s sessions on the other', async () => {
    await using cluster = await startCluster(2)
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('owner', 'bob')
    const owner = await a.login('owner')
    const bobOnA = await a.login('bob')
    const bobOnB = await b.login('bob')
    bobOnA.send({ cmd: 'status_set', status: 'invisible' })
    expect(await owner.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'bob' })
    // The change reached B, and before it (on the stream) the sessions' new status.
    await bobOnB.next('status_set')
    // B's session knows it is invisible already: setting it there again announces nothing.
    bobOnB.send({ cmd: 'status_set', status: 'invisible' })
    await bobOnB.next('status_set')
    await settled(owner, [bobOnA, bobOnB])
    expect(count(owner, 'user_disconnect')).toBe(0)
    bobOnB.send({ cmd: 'status_set', status: 'online' })
    expect(await owner.next('user_connect', connected('bob'))).toMatchObject({ cmd: 'user_connect' })

    owner.send({ cmd: 'user_update', user: 'bob', updates: { username: 'robert' } })
    await bobOnB.next('user_updated')
    await bobOnA.close()
    await settled(owner, [bobOnB])
    expect(count(owner, 'user_disconnect')).toBe(0)
    // The last session, on the other node, leaves under the new name.
    await bobOnB.close()
    expect(await owner.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'robert' })
  })

  test.concurrent('a node that dies without a goodbye has its users announced gone by another', async () => {
    await using cluster = await startCluster(2)
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('alice', 'bob')
    const alice = await a.login('alice')
    await b.login('bob')
    await alice.next('user_connect', connected('bob'))
    // As SIGKILL would leave it: no heartbeat, no stream reader, bob's session still in Redis.
    await b.app.cluster!.abandon()
    expect(await alice.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'bob' })
    expect((await alice.request({ cmd: 'users_online' })).users.map((u: Packet) => u.username)).toEqual(['alice'])
  })

  test.concurrent('after its Redis connections are killed a node carries on, missing nothing', async () => {
    await using cluster = await startCluster(2)
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('alice', 'bob')
    const alice = await a.login('alice')
    const bob = await b.login('bob')
    await alice.next('user_connect', connected('bob'))
    const ids = [...(await cluster.connectionIds(b, 'stream')), ...(await cluster.connectionIds(b, 'command'))]
    expect(ids).toHaveLength(2)
    for (const id of ids) await cluster.redis.send('CLIENT', ['KILL', 'ID', id])
    // Published while B's reader is reconnecting: it resumes from its offset and gets them all.
    const posted = []
    for (let i = 0; i < 5; i++) posted.push(await alice.post(`during the blip ${i}`))
    for (const message of posted) expect((await bob.next('message_new', (p) => p.message.id === message.id)).message).toEqual(message)
    // B's own publishes reach A after its command connection came back.
    bob.send({ cmd: 'typing', channel: 'general' })
    expect(await alice.next('typing')).toMatchObject({ user: 'bob' })
  })

  test.concurrent('a node whose unread entries were trimmed closes its sockets so clients reload', async () => {
    await using cluster = await startCluster(2)
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('alice', 'bob')
    const alice = await a.login('alice')
    const bob = await b.login('bob')
    await alice.next('user_connect', connected('bob'))
    const [tailer] = await cluster.connectionIds(b, 'stream')
    const stream = `${cluster.prefix}bus`
    // One transaction: B's reader is cut off, entries it never read are added, then trimmed away.
    await cluster.redis.send('MULTI', [])
    await cluster.redis.send('CLIENT', ['KILL', 'ID', tailer!])
    for (let i = 0; i < 3; i++) await cluster.redis.send('XADD', [stream, '*', 'node', 'elsewhere', 'topic', 'users', 'frame', '{"cmd":"lost"}'])
    await cluster.redis.send('XTRIM', [stream, 'MAXLEN', '0'])
    await cluster.redis.send('EXEC', [])
    expect((await bob.closed).code).toBe(CloseCode.resync)
    // Node A's reader was not cut off, so nothing it had to read was lost: its clients stay.
    const again = await b.login('bob')
    await settled(alice, [again])
    expect(alice.ws.readyState).toBe(WebSocket.OPEN)
  })

  test.concurrent('when Redis loses every key, each node writes its sessions again without announcing them', async () => {
    await using cluster = await startCluster(2)
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('alice', 'bob')
    const alice = await a.login('alice')
    const bob = await b.login('bob')
    await alice.next('user_connect', connected('bob'))
    // What a Redis restart without persistence leaves: nothing (the connections are kept here).
    const keys: string[] = await cluster.redis.send('KEYS', [`${cluster.prefix}*`])
    await cluster.redis.send('DEL', keys)
    const online = `${cluster.prefix}online`
    await until('both users are registered again', async () => (await cluster.redis.send('SCARD', [online])) === 2)
    await settled(alice, [bob])
    // Each still has only what arrived before the loss: their own arrival, and for alice bob's (consumed above).
    expect([count(alice, 'user_connect', connected('alice')), count(alice, 'user_connect', connected('bob'))]).toEqual([1, 0])
    expect([count(bob, 'user_connect', connected('alice')), count(bob, 'user_connect', connected('bob'))]).toEqual([0, 1])
    // Registered again for real: bob's leaving is his last session, announced.
    await bob.close()
    expect(await alice.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'bob' })
  })

  test.concurrent('a node stopped cleanly announces its users gone and leaves nothing in Redis', async () => {
    await using cluster = await startCluster(2)
    const [a, b] = cluster.nodes as [(typeof cluster.nodes)[0], (typeof cluster.nodes)[0]]
    await cluster.known('alice', 'bob')
    const alice = await a.login('alice')
    await b.login('bob')
    await alice.next('user_connect', connected('bob'))
    await b.app.stop()
    expect(await alice.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'bob' })
    expect(await cluster.redis.send('ZRANGE', [`${cluster.prefix}nodes`, '0', '-1'])).toEqual([a.name])
    expect(await cluster.redis.send('EXISTS', [`${cluster.prefix}node:${b.name}`, `${cluster.prefix}user:rotur-bob`, `${cluster.prefix}conns:${b.name}`])).toBe(0)
    expect(await cluster.redis.send('SMEMBERS', [`${cluster.prefix}online`])).toEqual(['rotur-alice'])
  })
})
