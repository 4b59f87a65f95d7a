import type { Logger } from '../log.ts'
import type { ParticipantView, VoiceSync } from '../voice/rooms.ts'
import type { RedisConnection } from './connection.ts'
import type { ClusterSettings } from './settings.ts'
import type { StreamWriter } from './stream.ts'

/** What VoiceRooms does with other nodes' participants. */
export interface VoiceMirror {
  remoteChanged(node: string, userId: string, participant: ParticipantView | null): void
  nodesGone(nodes: string[]): void
  localParticipants(): Array<{ userId: string; participant: ParticipantView }>
}

/** The stream's voice event: node `n`'s participant `u` joined or changed (`v`), or left (null). */
export interface VoiceEvent {
  t: 'voice'
  n: string
  u: string
  v: ParticipantView | null
}

/**
 * Voice calls across nodes: each node announces its own participants on the stream (in order
 * with the voice broadcasts) and keeps them in the hash `<prefix>voice` (field `<node>\t<user>`),
 * which a node reads when it starts, so it sees the calls already going on.
 */
export class RedisVoice implements VoiceSync {
  constructor(
    private readonly redis: RedisConnection,
    private readonly settings: ClusterSettings,
    private readonly writer: StreamWriter,
    private readonly log: Logger,
  ) {}

  changed(userId: string, participant: ParticipantView | null) {
    this.tell(this.settings.nodeId, userId, participant)
  }

  gone(node: string, userId: string) {
    this.tell(node, userId, null)
  }

  /** Other nodes' participants now, from the hash; this node's own (left over from a crash under the same node ID) are dropped. */
  async load(mirror: VoiceMirror) {
    // Bun's client answers HGETALL with an object (RESP3 map).
    const fields: Record<string, string> = (await this.redis.send('HGETALL', [this.key])) ?? {}
    const stale: string[] = []
    for (const [field, value] of Object.entries(fields)) {
      const [node, userId] = field.split('\t') as [string, string]
      if (node === this.settings.nodeId) stale.push(field)
      else mirror.remoteChanged(node, userId, JSON.parse(value) as ParticipantView)
    }
    if (stale.length > 0) await this.redis.send('HDEL', [this.key, ...stale])
  }

  /**
   * Makes the hash hold exactly this node's participants again (after Redis lost its keys or
   * restarted), without telling the other nodes: their mirrors never lost them.
   */
  async rewrite(mirror: VoiceMirror) {
    const node = this.settings.nodeId
    const fields: Record<string, string> = (await this.redis.send('HGETALL', [this.key])) ?? {}
    const mine = Object.keys(fields).filter((field) => field.split('\t')[0] === node)
    if (mine.length > 0) await this.redis.send('HDEL', [this.key, ...mine])
    const held = mirror.localParticipants().flatMap(({ userId, participant }) => [`${node}\t${userId}`, JSON.stringify(participant)])
    if (held.length > 0) await this.redis.send('HSET', [this.key, ...held])
  }

  private tell(node: string, userId: string, participant: ParticipantView | null) {
    const event: VoiceEvent = { t: 'voice', n: node, u: userId, v: participant }
    this.writer.event(event)
    const field = `${node}\t${userId}`
    const write = participant ? this.redis.send('HSET', [this.key, field, JSON.stringify(participant)]) : this.redis.send('HDEL', [this.key, field])
    write.catch((error) => this.log.warn(`redis: could not record a voice participant: ${(error as Error)?.message ?? error}`))
  }

  private get key() {
    return `${this.settings.prefix}voice`
  }
}
