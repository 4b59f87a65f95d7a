import { expect, test } from 'bun:test'
import type { Packet, TestClient } from '../helpers/client.ts'
import { startServer, type ConfigOverrides, type TestServer } from '../helpers/server.ts'

const error = (src: string, val: string) => ({ cmd: 'error', src, val })

/** alice, bob and carol may view the voice channels; dave may not (his only role is not on their view lists). */
async function voiceServer(overrides: ConfigOverrides = {}): Promise<TestServer & { alice: TestClient; bob: TestClient; carol: TestClient; dave: TestClient }> {
  const server = await startServer(overrides)
  await server.addChannel({ name: 'lounge', type: 'voice', permissions: { view: ['user'] } })
  await server.addChannel({ name: 'den', type: 'voice', permissions: { view: ['user'] } })
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  const carol = await server.login('carol')
  const dave = await server.login('dave')
  await server.setRoles('dave', ['outsider'])
  return Object.assign(server, { alice, bob, carol, dave })
}

type VoiceUser = { id: string; username: string; muted: boolean; peer_id?: string }

const joined = (channel: string, user: VoiceUser) => ({ cmd: 'voice_user_joined', channel, user })
const left = (channel: string, username: string) => ({ cmd: 'voice_user_left', channel, username })
const updated = (channel: string, user: VoiceUser) => ({ cmd: 'voice_user_updated', channel, user })

async function idOf(server: TestServer, username: string): Promise<string> {
  return (await server.app.store.users.getByUsername(username))!.id
}

test.concurrent('joining: participants get peer IDs, viewers do not, those who cannot view get nothing', async () => {
  await using server = await voiceServer()
  const { alice, bob, carol, dave } = server
  const aliceId = await idOf(server, 'alice')
  const bobId = await idOf(server, 'bob')

  const reply = await alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a' })
  expect(reply).toEqual({ cmd: 'voice_join', channel: 'lounge', participants: [] })
  // The broadcast went out before the reply, so it is already waiting.
  expect(alice.inbox.map((p) => p.cmd)).toContain('voice_user_joined')
  // The joiner hears its own join as the viewers do: the web client would call a peer ID it is told of, its own included.
  expect(await alice.next('voice_user_joined')).toEqual(joined('lounge', { id: aliceId, username: 'alice', muted: false }))
  expect(await bob.next('voice_user_joined')).toEqual(joined('lounge', { id: aliceId, username: 'alice', muted: false }))
  expect(await carol.next('voice_user_joined')).toEqual(joined('lounge', { id: aliceId, username: 'alice', muted: false }))

  expect(await bob.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-b' })).toEqual({
    cmd: 'voice_join', channel: 'lounge', participants: [{ username: 'alice', peer_id: 'peer-a', muted: false }],
  })
  const bobFull = { id: bobId, username: 'bob', muted: false, peer_id: 'peer-b' }
  expect(await alice.next('voice_user_joined')).toEqual(joined('lounge', bobFull))
  expect(await bob.next('voice_user_joined')).toEqual(joined('lounge', { id: bobId, username: 'bob', muted: false }))
  expect(await carol.next('voice_user_joined')).toEqual(joined('lounge', { id: bobId, username: 'bob', muted: false }))

  expect(await bob.request({ cmd: 'voice_mute' })).toEqual({ cmd: 'voice_mute', channel: 'lounge', muted: true })
  expect(await alice.next('voice_user_updated')).toEqual(updated('lounge', { ...bobFull, muted: true }))
  expect(await bob.next('voice_user_updated')).toEqual(updated('lounge', { ...bobFull, muted: true }))
  expect(await carol.next('voice_user_updated')).toEqual(updated('lounge', { id: bobId, username: 'bob', muted: true }))

  expect(await alice.request({ cmd: 'voice_state', channel: 'lounge' })).toEqual({
    cmd: 'voice_state',
    channel: 'lounge',
    participants: [
      { id: aliceId, username: 'alice', muted: false, peer_id: 'peer-a' },
      { id: bobId, username: 'bob', muted: true, peer_id: 'peer-b' },
    ],
  })
  expect(await carol.request({ cmd: 'voice_state', channel: 'lounge' })).toEqual({
    cmd: 'voice_state',
    channel: 'lounge',
    participants: [
      { id: aliceId, username: 'alice', muted: false },
      { id: bobId, username: 'bob', muted: true },
    ],
  })
  const lounge = (await carol.request({ cmd: 'channels_get' })).val.find((c: Packet) => c.name === 'lounge')
  expect(lounge.voice_state).toEqual([{ username: 'alice', muted: false }, { username: 'bob', muted: true }])

  expect(await bob.request({ cmd: 'voice_unmute' })).toEqual({ cmd: 'voice_unmute', channel: 'lounge', muted: false })
  expect(await alice.next('voice_user_updated')).toEqual(updated('lounge', bobFull))
  expect(await bob.next('voice_user_updated')).toEqual(updated('lounge', bobFull))
  expect(await carol.next('voice_user_updated')).toEqual(updated('lounge', { id: bobId, username: 'bob', muted: false }))

  expect(await bob.request({ cmd: 'voice_leave' })).toEqual({ cmd: 'voice_leave', channel: 'lounge' })
  for (const client of [alice, bob, carol]) expect(await client.next('voice_user_left')).toEqual(left('lounge', 'bob'))

  // Nobody got a second copy through both audiences, and dave heard nothing at all.
  for (const client of [alice, bob, carol]) {
    await client.expectNone('voice_user_joined')
    await client.expectNone('voice_user_updated')
    await client.expectNone('voice_user_left')
  }
  for (const cmd of ['voice_user_joined', 'voice_user_updated', 'voice_user_left']) await dave.expectNone(cmd)
  expect(await dave.error({ cmd: 'voice_state', channel: 'lounge' })).toEqual(error('voice_state', 'You do not have permission to access this voice channel'))
  expect(await dave.error({ cmd: 'voice_join', channel: 'lounge', peer_id: 'p' })).toEqual(error('voice_join', 'You do not have permission to access this voice channel'))
})

test.concurrent('the last participant to leave is still announced, and the channel is then empty', async () => {
  await using server = await voiceServer()
  const { alice, carol } = server
  await alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a' })
  await carol.next('voice_user_joined')
  await alice.request({ cmd: 'voice_leave' })
  expect(await carol.next('voice_user_left')).toEqual(left('lounge', 'alice'))
  expect(await alice.next('voice_user_left')).toEqual(left('lounge', 'alice'))
  expect((await carol.request({ cmd: 'voice_state', channel: 'lounge' })).participants).toEqual([])
  expect(await alice.error({ cmd: 'voice_leave' })).toEqual(error('voice_leave', 'You are not in a voice channel'))
})

test.concurrent('switching channels leaves the old one first, then joins the new one', async () => {
  await using server = await voiceServer()
  const { alice, bob, carol } = server
  const aliceId = await idOf(server, 'alice')
  await alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a' })
  await bob.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-b' })
  for (const client of [alice, bob, carol]) await client.next('voice_user_joined', (p) => p.user.username === 'bob')
  for (const client of [alice, bob, carol]) client.drain()

  expect(await alice.request({ cmd: 'voice_join', channel: 'den', peer_id: 'peer-a2' })).toEqual({ cmd: 'voice_join', channel: 'den', participants: [] })
  const viewer = { id: aliceId, username: 'alice', muted: false }
  // bob is in lounge's call, not den's: a viewer there; alice hears her own join as a viewer too.
  for (const [client, user] of [[alice, viewer], [bob, viewer], [carol, viewer]] as const) {
    expect(await client.next('voice_user_joined')).toEqual(joined('den', user))
    // Same socket, so the left packet sent first is already here.
    expect(client.inbox.filter((p) => p.cmd.startsWith('voice_user_'))).toEqual([left('lounge', 'alice')])
  }
  expect((await carol.request({ cmd: 'voice_state', channel: 'lounge' })).participants.map((p: Packet) => p.username)).toEqual(['bob'])
})

test.concurrent('closing the joining socket leaves; another connection of the same user takes the call over', async () => {
  await using server = await voiceServer()
  const { alice, bob, carol } = server
  const alice2 = await server.login('alice')
  await bob.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-b' })
  await alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a' })
  await carol.next('voice_user_joined', (p) => p.user.username === 'alice')
  expect((await bob.next('voice_user_joined', (p) => p.user.username === 'alice')).user.peer_id).toBe('peer-a')
  // alice's other connection is a viewer, not a participant: no peer IDs, no membership.
  expect((await alice2.next('voice_user_joined', (p) => p.user.username === 'alice')).user.peer_id).toBeUndefined()
  expect(await alice2.error({ cmd: 'voice_mute' })).toEqual(error('voice_mute', 'You are not in a voice channel'))
  bob.drain()

  // The second connection joins: the first one's membership ends first.
  alice2.send({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a2' })
  expect(await bob.next('voice_user_left')).toEqual(left('lounge', 'alice'))
  expect((await bob.next('voice_user_joined', (p) => p.user.username === 'alice')).user.peer_id).toBe('peer-a2')
  expect(await alice.next('voice_user_left')).toEqual(left('lounge', 'alice'))
  expect(await alice.error({ cmd: 'voice_leave' })).toEqual(error('voice_leave', 'You are not in a voice channel'))
  expect((await carol.request({ cmd: 'voice_state', channel: 'lounge' })).participants.map((p: Packet) => p.username)).toEqual(['bob', 'alice'])

  // Closing the connection that is no longer in the call changes nothing; closing the one in it
  // does. Once alice's user_disconnect arrives both closes were handled, whatever their order.
  carol.drain()
  bob.drain()
  await alice.close()
  await alice2.close()
  await carol.next('user_disconnect', (p) => p.username === 'alice')
  expect(await bob.next('voice_user_left')).toEqual(left('lounge', 'alice'))
  expect(await carol.next('voice_user_left')).toEqual(left('lounge', 'alice'))
  await bob.expectNone('voice_user_left')
  await bob.close()
  expect(await carol.next('voice_user_left')).toEqual(left('lounge', 'bob'))
  expect((await carol.request({ cmd: 'voice_state', channel: 'lounge' })).participants).toEqual([])
})

test.concurrent('deleting or renaming a voice channel ends its call; participants are told', async () => {
  await using server = await voiceServer()
  const { alice, bob, carol } = server
  const owner = await server.login('owner')
  await alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a' })
  await bob.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-b' })
  await carol.request({ cmd: 'voice_join', channel: 'den', peer_id: 'peer-c' })

  await owner.request({ cmd: 'channel_delete', name: 'lounge' })
  expect(await alice.next('voice_user_left', (p) => p.username === 'alice')).toEqual(left('lounge', 'alice'))
  expect(await bob.next('voice_user_left', (p) => p.username === 'bob')).toEqual(left('lounge', 'bob'))
  expect(await alice.error({ cmd: 'voice_leave' })).toEqual(error('voice_leave', 'You are not in a voice channel'))
  expect(await bob.error({ cmd: 'voice_mute' })).toEqual(error('voice_mute', 'You are not in a voice channel'))
  expect(await owner.error({ cmd: 'voice_state', channel: 'lounge' })).toEqual(error('voice_state', 'This is not a voice channel'))

  // A new channel of the old name starts with an empty call.
  await owner.request({ cmd: 'channel_create', name: 'lounge', type: 'voice', permissions: { view: ['user'] } })
  expect((await alice.request({ cmd: 'voice_state', channel: 'lounge' })).participants).toEqual([])

  await owner.request({ cmd: 'channel_update', current_name: 'den', updates: { name: 'study' } })
  // (carol may also have heard lounge's call end, as a viewer not yet resubscribed.)
  expect(await carol.next('voice_user_left', (p) => p.channel === 'den')).toEqual(left('den', 'carol'))
  expect(await carol.error({ cmd: 'voice_leave' })).toEqual(error('voice_leave', 'You are not in a voice channel'))
  expect((await carol.request({ cmd: 'voice_state', channel: 'study' })).participants).toEqual([])
  carol.drain('channels_get')
  const study = (await carol.request({ cmd: 'channels_get' })).val.find((c: Packet) => c.name === 'study')
  expect(study.voice_state).toEqual([])
})

test.concurrent('losing view of the channel ends the call; gaining it makes a socket a viewer', async () => {
  await using server = await voiceServer()
  const { alice, bob, dave } = server
  await alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a' })
  await bob.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-b' })
  alice.drain()

  await server.setRoles('bob', ['outsider'])
  expect(await alice.next('voice_user_left')).toEqual(left('lounge', 'bob'))
  expect((await alice.request({ cmd: 'voice_state', channel: 'lounge' })).participants.map((p: Packet) => p.username)).toEqual(['alice'])

  await server.setRoles('dave', ['user'])
  await alice.request({ cmd: 'voice_mute' })
  expect(await dave.next('voice_user_updated')).toEqual(updated('lounge', { id: await idOf(server, 'alice'), username: 'alice', muted: true }))
  await bob.expectNone('voice_user_updated')
})

test.concurrent('voice_join and voice_state refuse what is not a viewable voice channel', async () => {
  await using server = await voiceServer()
  const { alice } = server
  const owner = await server.login('owner')
  const join = (fields: Record<string, unknown>) => alice.error({ cmd: 'voice_join', ...fields })

  expect(await join({ channel: 'general', peer_id: 'p' })).toEqual(error('voice_join', 'This is not a voice channel'))
  expect(await join({ channel: 'nowhere', peer_id: 'p' })).toEqual(error('voice_join', 'You do not have permission to access this voice channel'))
  expect(await owner.error({ cmd: 'voice_join', channel: 'nowhere', peer_id: 'p' })).toEqual(error('voice_join', 'This is not a voice channel'))
  expect(await alice.error({ cmd: 'voice_state', channel: 'general' })).toEqual(error('voice_state', 'This is not a voice channel'))
  expect(await alice.error({ cmd: 'voice_state' })).toEqual(error('voice_state', 'Channel name is required'))

  expect(await join({})).toEqual(error('voice_join', 'Peer ID is required'))
  expect(await join({ channel: 'lounge', peer_id: '' })).toEqual(error('voice_join', 'Peer ID is required'))
  expect(await join({ channel: 'lounge', peer_id: '  ' })).toEqual(error('voice_join', 'Peer ID is required'))
  expect(await join({ channel: 'lounge', peer_id: 5 })).toEqual(error('voice_join', "Invalid field 'peer_id': expected string"))
  expect(await join({ channel: 'lounge', peer_id: ['p'] })).toEqual(error('voice_join', "Invalid field 'peer_id': expected string"))
  expect(await join({ channel: 'lounge', peer_id: 'p'.repeat(129) })).toEqual(error('voice_join', 'Peer ID must be at most 128 characters'))
  expect(await join({ channel: 'lounge', peer_id: 'p\n1' })).toEqual(error('voice_join', 'Peer ID contains invalid characters'))
  expect(await join({ peer_id: 'p' })).toEqual(error('voice_join', 'Channel name is required'))
  expect(await join({ channel: 7, peer_id: 'p' })).toEqual(error('voice_join', "Invalid field 'channel': expected string"))

  for (const cmd of ['voice_leave', 'voice_mute', 'voice_unmute']) {
    expect(await alice.error({ cmd })).toEqual(error(cmd, 'You are not in a voice channel'))
  }
  // Nothing above joined anyone; the server still works and a valid join goes through.
  expect(await alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'p'.repeat(128) })).toEqual({ cmd: 'voice_join', channel: 'lounge', participants: [] })
})

test.concurrent('voice state lives in memory only: empty after a restart', async () => {
  await using server = await voiceServer()
  await server.alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a' })
  await server.restart()
  const carol = await server.login('carol')
  expect((await carol.request({ cmd: 'voice_state', channel: 'lounge' })).participants).toEqual([])
  const lounge = (await carol.request({ cmd: 'channels_get' })).val.find((c: Packet) => c.name === 'lounge')
  expect(lounge.voice_state).toEqual([])
})

test.concurrent('channel lists pushed after a channel change carry the live voice_state', async () => {
  await using server = await voiceServer()
  const { alice, bob } = server
  const owner = await server.login('owner')
  await alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a' })
  await alice.request({ cmd: 'voice_mute' })
  bob.drain('channels_get')
  await owner.request({ cmd: 'channel_create', name: 'news', type: 'text', permissions: { view: ['user'] } })
  const pushed = await bob.next('channels_get')
  expect(pushed.val.find((c: Packet) => c.name === 'lounge').voice_state).toEqual([{ username: 'alice', muted: true }])
})

test.concurrent('joining and muting count against the action limiter', async () => {
  await using server = await voiceServer({ security: { actions_burst: 2 } })
  const { alice, bob } = server
  await alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a' })
  await alice.request({ cmd: 'voice_mute' })
  const limited = await alice.request({ cmd: 'voice_unmute' }, 'rate_limit')
  expect(limited.cmd).toBe('rate_limit')
  // The refused unmute changed nothing: alice is still muted for everyone.
  expect((await bob.request({ cmd: 'voice_state', channel: 'lounge' })).participants[0].muted).toBe(true)
})

test.concurrent('no voice packet tells a connection its own peer ID, which the web client would call', async () => {
  await using server = await voiceServer()
  const { alice, bob } = server
  await alice.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-a' })
  await bob.next('voice_user_joined')
  bob.drain()
  alice.drain()

  expect(await bob.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-b' })).toEqual({
    cmd: 'voice_join', channel: 'lounge', participants: [{ username: 'alice', peer_id: 'peer-a', muted: false }],
  })
  expect((await alice.next('voice_user_joined')).user.peer_id).toBe('peer-b')
  // Joining the same call again (a reconnecting client does) leaves it first, then joins.
  expect((await bob.request({ cmd: 'voice_join', channel: 'lounge', peer_id: 'peer-b2' })).participants).toEqual([
    { username: 'alice', peer_id: 'peer-a', muted: false },
  ])
  expect((await alice.next('voice_user_joined', (p) => p.user.peer_id === 'peer-b2')).user.username).toBe('bob')
  const joins = bob.inbox.filter((p) => p.cmd === 'voice_user_joined')
  expect(joins.map((p) => p.user)).toEqual([
    { id: await idOf(server, 'bob'), username: 'bob', muted: false },
    { id: await idOf(server, 'bob'), username: 'bob', muted: false },
  ])
})
