import { expect, test } from 'bun:test'
import type { Bus } from '../../src/bus/types.ts'
import type { Session } from '../../src/net/session.ts'
import { topics } from '../../src/net/topics.ts'
import type { Packet } from '../../src/protocol/errors.ts'
import type { ChannelRecord } from '../../src/store/types.ts'
import { VoiceRooms } from '../../src/voice/rooms.ts'

/** Records subscriptions per session, what was published where, and who was on the topic then. */
class FakeBus implements Bus {
  readonly subscribed = new Map<Session, Set<string>>()
  readonly published: Array<{ topic: string; packet: Packet }> = []
  readonly audiences: Session[][] = []
  publish(topic: string, packet: Packet) {
    this.published.push({ topic, packet })
    this.audiences.push([...this.subscribed].filter(([, topics]) => topics.has(topic)).map(([session]) => session))
    return JSON.stringify(packet)
  }
  subscribe(session: Session, topic: string) {
    if (!this.subscribed.has(session)) this.subscribed.set(session, new Set())
    this.subscribed.get(session)!.add(topic)
  }
  unsubscribe(session: Session, topic: string) {
    this.subscribed.get(session)?.delete(topic)
  }
  topicsOf(session: Session) {
    return [...(this.subscribed.get(session) ?? [])].sort()
  }
}

let ids = 0
const session = (userId: string) => ({ id: ++ids, user: { id: userId, username: userId, cracked: true } }) as unknown as Session
const voiceChannel = (name: string): ChannelRecord => ({ name, type: 'voice', permissions: { view: ['user'] } })

test('a connection is in exactly one of a channel’s two audiences, and follows join, leave and access changes', () => {
  const bus = new FakeBus()
  const rooms = new VoiceRooms(bus)
  const alice = session('alice')
  rooms.accessChanged(alice, [voiceChannel('lounge'), voiceChannel('den'), { name: 'general', type: 'text' }])
  expect(bus.topicsOf(alice)).toEqual([topics.voiceViewers('den'), topics.voiceViewers('lounge')].sort())

  rooms.join(alice, { id: 'alice', username: 'alice' }, 'lounge', 'peer-a')
  expect(bus.topicsOf(alice)).toEqual([topics.voiceParticipants('lounge'), topics.voiceViewers('den')].sort())
  // A recomputation while in the call keeps the connection out of the viewers of its own call.
  rooms.accessChanged(alice, [voiceChannel('lounge'), voiceChannel('den')])
  expect(bus.topicsOf(alice)).toEqual([topics.voiceParticipants('lounge'), topics.voiceViewers('den')].sort())

  rooms.join(alice, { id: 'alice', username: 'alice' }, 'den', 'peer-a')
  expect(bus.topicsOf(alice)).toEqual([topics.voiceParticipants('den'), topics.voiceViewers('lounge')].sort())

  rooms.leave(rooms.of(alice)!)
  expect(bus.topicsOf(alice)).toEqual([topics.voiceViewers('den'), topics.voiceViewers('lounge')].sort())
  expect(rooms.participants('den')).toEqual([])
})

test('joined and updated packets carry the peer ID for participants only', () => {
  const bus = new FakeBus()
  const rooms = new VoiceRooms(bus)
  const bob = session('bob')
  rooms.join(bob, { id: 'bob', username: 'bob' }, 'lounge', 'peer-b')
  expect(bus.published).toEqual([
    { topic: topics.voiceParticipants('lounge'), packet: { cmd: 'voice_user_joined', channel: 'lounge', user: { id: 'bob', username: 'bob', muted: false, peer_id: 'peer-b' } } },
    { topic: topics.voiceViewers('lounge'), packet: { cmd: 'voice_user_joined', channel: 'lounge', user: { id: 'bob', username: 'bob', muted: false } } },
  ])
  expect(rooms.setMuted(rooms.of(bob)!, true).map((b) => b.packet.user)).toEqual([
    { id: 'bob', username: 'bob', muted: true, peer_id: 'peer-b' },
    { id: 'bob', username: 'bob', muted: true },
  ])
  expect(rooms.summary('lounge')).toEqual([{ username: 'bob', muted: true }])
})

test('losing view ends the call at once, announced while the leaver still hears it', () => {
  const bus = new FakeBus()
  const rooms = new VoiceRooms(bus)
  const carol = session('carol')
  rooms.accessChanged(carol, [voiceChannel('lounge')])
  rooms.join(carol, { id: 'carol', username: 'carol' }, 'lounge', 'peer-c')
  bus.published.length = 0
  rooms.accessChanged(carol, [])
  expect(bus.published).toEqual([
    { topic: topics.voiceParticipants('lounge'), packet: { cmd: 'voice_user_left', channel: 'lounge', username: 'carol' } },
    { topic: topics.voiceViewers('lounge'), packet: { cmd: 'voice_user_left', channel: 'lounge', username: 'carol' } },
  ])
  expect(rooms.of(carol)).toBeUndefined()
  expect(bus.topicsOf(carol)).toEqual([].sort())
})

test('only the connection that joined ends the call by closing', () => {
  const rooms = new VoiceRooms(new FakeBus())
  const first = session('dave')
  const second = session('dave')
  rooms.join(first, { id: 'dave', username: 'dave' }, 'lounge', 'peer-1')
  rooms.closed(second)
  expect(rooms.summary('lounge')).toEqual([{ username: 'dave', muted: false }])
  expect(rooms.of(second)).toBeUndefined()
  rooms.closed(first)
  expect(rooms.summary('lounge')).toEqual([])
})

test('the joining connection hears its own join among the viewers, without its peer ID', () => {
  const bus = new FakeBus()
  const rooms = new VoiceRooms(bus)
  const alice = session('alice')
  const bob = session('bob')
  for (const who of [alice, bob]) rooms.accessChanged(who, [voiceChannel('lounge')])
  rooms.join(alice, { id: 'alice', username: 'alice' }, 'lounge', 'peer-a')
  bus.published.length = 0
  bus.audiences.length = 0
  rooms.join(bob, { id: 'bob', username: 'bob' }, 'lounge', 'peer-b')
  // The web client calls every peer ID it is told of: told its own, it would call itself.
  expect(bus.published.map((p) => p.packet.user)).toEqual([
    { id: 'bob', username: 'bob', muted: false, peer_id: 'peer-b' },
    { id: 'bob', username: 'bob', muted: false },
  ])
  expect(bus.audiences).toEqual([[alice], [bob]])
  expect(bus.topicsOf(bob)).toEqual([topics.voiceParticipants('lounge')])
})
