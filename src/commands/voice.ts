import { Type as T } from '@sinclair/typebox'
import { defineCommand, type Effects, type UserContext } from '../protocol/command.ts'
import { fail } from '../protocol/errors.ts'
import type { ChannelRecord } from '../store/types.ts'
import type { Participant } from '../voice/rooms.ts'
import { userView } from '../voice/rooms.ts'
import { allows } from './access.ts'
import { UNPRINTABLE } from './channels.ts'

/**
 * Voice signalling (commands.md §16): the server relays who is in a call and their WebRTC peer
 * IDs; media flows peer to peer. Voice events reach the channel's voice viewers before the reply.
 */

/** WebRTC peer IDs (PeerJS and the like) are short tokens; anything longer is not one. */
export const PEER_ID_MAX = 128

const AnyField = T.Optional(T.Unknown())

function peerId(value: unknown): string {
  if (value === undefined || value === null || value === '') fail('Peer ID is required')
  if (typeof value !== 'string') fail("Invalid field 'peer_id': expected string")
  if (value.trim() === '') fail('Peer ID is required')
  if (value.length > PEER_ID_MAX) fail(`Peer ID must be at most ${PEER_ID_MAX} characters`)
  if (UNPRINTABLE.test(value)) fail('Peer ID contains invalid characters')
  return value
}

/** The checks `voice_join` and `voice_state` share, in upstream's order: view before type. */
async function voiceChannel(ctx: UserContext, value: unknown): Promise<ChannelRecord> {
  if (value === undefined || value === null || value === '') fail('Channel name is required')
  if (typeof value !== 'string') fail("Invalid field 'channel': expected string")
  const channel = await ctx.store.channels.get(value)
  // An unknown channel falls back to the owner-only defaults, so only owners learn it is not a voice channel.
  if (!allows(ctx, channel, 'view')) fail('You do not have permission to access this voice channel')
  if (!channel || channel.type !== 'voice') fail('This is not a voice channel')
  return channel
}

/** The call this connection is in (voice_leave, voice_mute, voice_unmute). */
async function membership(ctx: UserContext): Promise<Participant> {
  const voice = ctx.services.voice
  const mine = voice.of(ctx.session) ?? fail('You are not in a voice channel')
  const channel = await ctx.store.channels.get(mine.channel)
  if (!channel || channel.type !== 'voice') {
    // Access changes end calls as they happen, so this is a race with a deletion: drop the stale entry.
    voice.leave(mine)
    fail('Voice channel no longer exists')
  }
  return mine
}

export const voiceJoin = defineCommand({
  cmd: 'voice_join',
  throttle: true,
  schema: T.Object({ channel: AnyField, peer_id: AnyField }),
  async run(ctx, p): Promise<Effects> {
    const peer = peerId(p.peer_id)
    const channel = await voiceChannel(ctx, p.channel)
    // A socket that closed meanwhile has had its leave hook run: joining now would never end.
    if (!ctx.hub.sockets.has(ctx.session)) fail('Connection closed')
    const voice = ctx.services.voice
    voice.join(ctx.session, ctx.user, channel.name, peer)
    const participants = voice
      .participants(channel.name)
      .filter((other) => other.userId !== ctx.user.id)
      .map(({ username, peerId, muted }) => ({ username, peer_id: peerId, muted }))
    return { reply: { cmd: 'voice_join', channel: channel.name, participants } }
  },
})

export const voiceLeave = defineCommand({
  cmd: 'voice_leave',
  schema: T.Object({}),
  async run(ctx): Promise<Effects> {
    const mine = await membership(ctx)
    return { announce: ctx.services.voice.leave(mine), reply: { cmd: 'voice_leave', channel: mine.channel } }
  },
})

const mute = (cmd: 'voice_mute' | 'voice_unmute', muted: boolean) =>
  defineCommand({
    cmd,
    throttle: true,
    schema: T.Object({}),
    async run(ctx): Promise<Effects> {
      const mine = await membership(ctx)
      return { announce: ctx.services.voice.setMuted(mine, muted), reply: { cmd, channel: mine.channel, muted } }
    },
  })

export const voiceState = defineCommand({
  cmd: 'voice_state',
  schema: T.Object({ channel: AnyField }),
  async run(ctx, p): Promise<Effects> {
    const channel = await voiceChannel(ctx, p.channel)
    const voice = ctx.services.voice
    const inCall = voice.of(ctx.session)?.channel === channel.name
    const participants = voice.participants(channel.name).map((participant) => {
      const { peer_id, ...rest } = userView(participant)
      return inCall ? { ...rest, peer_id } : rest
    })
    return { reply: { cmd: 'voice_state', channel: channel.name, participants } }
  },
})

export const voiceCommands = [voiceJoin, voiceLeave, mute('voice_mute', true), mute('voice_unmute', false), voiceState]
