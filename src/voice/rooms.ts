import type { Bus } from '../bus/types.ts'
import type { Session } from '../net/session.ts'
import { topics } from '../net/topics.ts'
import type { Broadcast } from '../protocol/command.ts'
import type { Packet } from '../protocol/errors.ts'
import type { ChannelRecord } from '../store/types.ts'
import type { VoiceState } from '../views/channels.ts'

/** One user in a voice channel's call, through the connection that joined (data.md §14). */
export interface Participant {
  channel: string
  userId: string
  username: string
  peerId: string
  muted: boolean
  /** When they joined (ms): the order of the call's list, across nodes too. */
  since: number
  session: Session
}

/** A participant as every node sees it: without the connection, which lives on one node only. */
export type ParticipantView = Omit<Participant, 'session'>

/** A participant whose connection is on another node of the cluster. */
export interface RemoteParticipant extends ParticipantView {
  node: string
}

/**
 * Cluster mode: tells the other nodes of this node's participants (joined, muted, left) and keeps
 * them where a node that starts later finds them (docs/cluster.md, Voice).
 */
export interface VoiceSync {
  changed(userId: string, participant: ParticipantView | null): void
  /** A dead node's participant left (told by the node that reaped it). */
  gone(node: string, userId: string): void
}

/**
 * Who is in which voice channel's call (commands.md §16), in memory only: after a restart every
 * call is empty and clients join again. A user is in at most one call, through the one
 * connection that joined; the call ends for them when that connection closes or can no longer
 * view the channel (deleted, renamed, no longer a voice channel, roles changed).
 *
 * Voice packets reach "voice viewers": participants' connections through the channel's
 * participants topic, with peer IDs; every other socket that may view the channel through its
 * viewers topic, without them. A connection is subscribed to at most one of the two, so nobody
 * gets a packet twice. Both topics follow the change at once; the packets these methods return
 * are published later (as command effects); joins, and leaves outside commands, are announced
 * at once.
 */
export class VoiceRooms implements VoiceState {
  private readonly rooms = new Map<string, Map<string, Participant>>()
  private readonly byUser = new Map<string, Participant>()
  /** The voice channels each connection may view, as last told by the hub. */
  private readonly viewing = new WeakMap<Session, Set<string>>()
  /** Participants on other nodes, by user ID (cluster mode only). */
  private readonly remote = new Map<string, RemoteParticipant>()

  constructor(
    private readonly bus: Bus,
    private readonly sync?: VoiceSync,
  ) {}

  /** The call this connection is in, if it joined one. */
  of(session: Session): Participant | undefined {
    const participant = session.user ? this.byUser.get(session.user.id) : undefined
    return participant?.session === session ? participant : undefined
  }

  /** In the order they joined (other nodes' participants by their node's clock). */
  participants(channel: string): ParticipantView[] {
    const local = [...(this.rooms.get(channel)?.values() ?? [])]
    const remote = [...this.remote.values()].filter((participant) => participant.channel === channel)
    return remote.length === 0 ? local : [...local, ...remote].sort((a, b) => a.since - b.since)
  }

  /** This node's own participants, as the other nodes see them. */
  localParticipants(): Array<{ userId: string; participant: ParticipantView }> {
    return [...this.byUser.values()].map((participant) => ({ userId: participant.userId, participant: viewOf(participant) }))
  }

  /**
   * Another node's participant joined, changed or (null) left; its packets reach the viewers
   * through the bus. Joining elsewhere ends the user's call here silently: the node they joined
   * through announced its end first (see join).
   */
  remoteChanged(node: string, userId: string, participant: ParticipantView | null) {
    if (!participant) {
      if (this.remote.get(userId)?.node === node) this.remote.delete(userId)
      return
    }
    const local = this.byUser.get(userId)
    if (local) this.remove(local)
    this.remote.set(userId, { ...participant, node })
  }

  /** Nodes found dead (by this node's reaper, so once in the cluster): their participants leave, announced. */
  nodesGone(nodes: string[]) {
    for (const participant of [...this.remote.values()]) {
      if (!nodes.includes(participant.node)) continue
      for (const { topic, packet } of this.leftPackets(participant)) this.bus.publish(topic, packet)
      this.remote.delete(participant.userId)
      this.sync?.gone(participant.node, participant.userId)
    }
  }

  summary(channel: string) {
    return this.participants(channel).map(({ username, muted }) => ({ username, muted }))
  }

  /**
   * Ends whatever call the user was in (on any connection), then joins `channel`, announced at
   * once: left packets first, then joined. The joining connection hears its own join as a viewer
   * does, without its peer ID: the web client calls every peer ID a `voice_user_joined` names,
   * its own included, and PeerJS closes such a self-call, which the client retries. So the
   * packet goes out while that connection is still among the viewers; then it moves over.
   */
  join(session: Session, user: { id: string; username: string }, channel: string, peerId: string) {
    const previous = this.byUser.get(user.id)
    if (previous) this.end(previous)
    // A call through another node ends first too, announced here as it would be alone; that node
    // drops it silently when it hears of this join (remoteChanged), after the left packets.
    const elsewhere = this.remote.get(user.id)
    if (elsewhere) {
      for (const { topic, packet } of this.leftPackets(elsewhere)) this.bus.publish(topic, packet)
      this.remote.delete(user.id)
    }
    const participant: Participant = { channel, userId: user.id, username: user.username, peerId, muted: false, since: Date.now(), session }
    let room = this.rooms.get(channel)
    if (!room) this.rooms.set(channel, (room = new Map()))
    room.set(user.id, participant)
    this.byUser.set(user.id, participant)
    // Ahead of the packets on the stream: whoever hears of the join finds it in voice_state on any node.
    this.sync?.changed(user.id, viewOf(participant))
    for (const { topic, packet } of this.toVoiceViewers(channel, { cmd: 'voice_user_joined', channel, user: userView(participant) })) {
      this.bus.publish(topic, packet)
    }
    this.bus.unsubscribe(session, topics.voiceViewers(channel))
    this.bus.subscribe(session, topics.voiceParticipants(channel))
  }

  /** The left packet is addressed while the leaver is still in the call, so even the last one to leave is announced. */
  leave(participant: Participant): Broadcast[] {
    const packets = this.leftPackets(participant)
    this.remove(participant)
    return packets
  }

  setMuted(participant: Participant, muted: boolean): Broadcast[] {
    participant.muted = muted
    this.sync?.changed(participant.userId, viewOf(participant))
    const { channel } = participant
    return this.toVoiceViewers(channel, { cmd: 'voice_user_updated', channel, user: userView(participant) })
  }

  /** The hub recomputed what this connection may view: follow it, and end its call if it lost the channel. */
  accessChanged(session: Session, visible: ChannelRecord[]) {
    const now = new Set(visible.filter((channel) => channel.type === 'voice').map((channel) => channel.name))
    const before = this.viewing.get(session) ?? new Set<string>()
    const mine = this.of(session)
    for (const name of before) if (!now.has(name)) this.bus.unsubscribe(session, topics.voiceViewers(name))
    for (const name of now) if (!before.has(name) && name !== mine?.channel) this.bus.subscribe(session, topics.voiceViewers(name))
    this.viewing.set(session, now)
    if (mine && !now.has(mine.channel)) this.end(mine)
  }

  /** A connection closed: if it was in a call, the others hear it left (protocol README §2.7). */
  closed(session: Session) {
    const mine = this.of(session)
    if (mine) this.end(mine)
  }

  /**
   * Leaving outside a command: announced at once, while the leaver still hears its own call, and
   * after the other nodes were told, so whoever hears of it finds it in voice_state on any node.
   */
  private end(participant: Participant) {
    this.tellLeft(participant)
    for (const { topic, packet } of this.leftPackets(participant)) this.bus.publish(topic, packet)
    this.detach(participant)
  }

  private leftPackets({ channel, username }: ParticipantView): Broadcast[] {
    return this.toVoiceViewers(channel, { cmd: 'voice_user_left', channel, username })
  }

  private remove(participant: Participant) {
    this.tellLeft(participant)
    this.detach(participant)
  }

  private tellLeft(participant: Participant) {
    if (this.byUser.get(participant.userId) === participant) this.sync?.changed(participant.userId, null)
  }

  private detach(participant: Participant) {
    const { channel, userId, session } = participant
    const room = this.rooms.get(channel)
    room?.delete(userId)
    if (room?.size === 0) this.rooms.delete(channel)
    if (this.byUser.get(userId) === participant) this.byUser.delete(userId)
    this.bus.unsubscribe(session, topics.voiceParticipants(channel))
    if (this.viewing.get(session)?.has(channel)) this.bus.subscribe(session, topics.voiceViewers(channel))
  }

  /** The same event to both audiences; viewers outside the call get no peer ID. */
  private toVoiceViewers(channel: string, packet: Packet): Broadcast[] {
    const user = packet.user as Record<string, unknown> | undefined
    const stripped = user ? { ...packet, user: withoutPeer(user) } : packet
    return [
      { topic: topics.voiceParticipants(channel), packet },
      { topic: topics.voiceViewers(channel), packet: stripped },
    ]
  }
}

const viewOf = ({ session: _, ...view }: Participant): ParticipantView => view

export const userView = (p: ParticipantView) => ({ id: p.userId, username: p.username, muted: p.muted, peer_id: p.peerId })

function withoutPeer({ peer_id: _, ...rest }: Record<string, unknown>) {
  return rest
}
