/** Every pub/sub topic name. Nothing else builds topic strings. */
export const topics = {
  /** Sockets whose user may view the channel. */
  channel: (name: string) => `channel:${name}`,
  /** All sockets of one user. */
  user: (userId: string) => `user:${userId}`,
  /** Every authenticated socket. */
  users: 'users',
  /** Every open socket, authenticated or not: the heartbeat. */
  sockets: 'sockets',
} as const
