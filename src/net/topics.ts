/** Every pub/sub topic name. Nothing else builds topic strings. */
export const topics = {
  /** Sockets whose user may view the channel. */
  channel: (name: string) => `channel:${name}`,
  /** The connections taking part in a voice channel's call (they get peer IDs). */
  voiceParticipants: (name: string) => `voice:${name}`,
  /** Sockets that may view a voice channel but are not in its call (voice packets without peer IDs). */
  voiceViewers: (name: string) => `voice-viewers:${name}`,
  /** All sockets of one user. */
  user: (userId: string) => `user:${userId}`,
  /** Every authenticated socket. */
  users: 'users',
  /** Every open socket, authenticated or not: the heartbeat. */
  sockets: 'sockets',
} as const
