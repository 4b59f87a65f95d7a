/**
 * Every error-like packet the server sends is built here. Handlers throw with `fail` (the error
 * carries `src`) or `failPlain` (no `src`): whether an error has `src` is part of the protocol
 * (protocol README §4), so each call site picks the one the spec lists.
 */
export class ProtocolError extends Error {
  constructor(
    message: string,
    readonly withSource: boolean,
  ) {
    super(message)
  }
}

export function fail(val: string): never {
  throw new ProtocolError(val, true)
}

export function failPlain(val: string): never {
  throw new ProtocolError(val, false)
}

export type Packet = { cmd: string; [key: string]: unknown }

export const errorPacket = (val: string, src?: string): Packet => (src === undefined ? { cmd: 'error', val } : { cmd: 'error', src, val })

export const authError = (val: string): Packet => ({ cmd: 'auth_error', val })

/** Told to every session of a user before it is closed for a ban. */
export const BANNED_REASON = 'You have been banned from this server'

export const disconnectPacket = (reason: string): Packet => ({ cmd: 'disconnect', reason })

/** `length` is whole milliseconds (truncated), `reason` only where the command's spec sends one. */
export const rateLimitPacket = (waitSeconds: number, reason?: string): Packet =>
  reason === undefined
    ? { cmd: 'rate_limit', length: Math.trunc(waitSeconds * 1000) }
    : { cmd: 'rate_limit', reason, length: Math.trunc(waitSeconds * 1000) }

/** Strings clients match on; byte-identical to upstream. */
export const E = {
  authRequired: 'Authentication required',
  notAuthenticated: 'User not authenticated',
  invalidAuth: 'Invalid authentication',
  banned: 'Access denied: You are banned from this server',
  roturDisabled: 'Rotur authentication is disabled. Use login or register commands.',
  registrationDisabled: 'Registration is disabled',
  credentialsRequired: 'Username and password required',
  usernameLength: 'Username must be 2-32 characters',
  passwordLength: (min: number) => `Password must be ${min}-72 characters`,
  usernameCharset: 'Username can only contain letters, numbers, hyphens, and underscores',
  usernameTaken: 'Username already taken',
  invalidPassword: 'Invalid password',
  roturAccount: 'This account uses Rotur authentication',
  userNotFound: 'User not found',
  unknownCommand: (cmd: string) => `Unknown command: ${cmd}`,
  notAnObject: (type: string) => `Invalid message format: expected a dictionary, got ${type}`,
  invalidJson: 'Invalid message format: expected JSON',
  binaryFrame: 'Invalid message format: binary frames are not supported',
  rolesNotFound: 'User roles not found',
  roleRequired: (role: string) => `Access denied: '${role}' role required`,
  permissionRequired: (permission: string) => `Access denied: '${permission}' permission required`,
  channelAccessDenied: 'Access denied to this channel',
  channelNotFound: 'Channel not found',
  threadNotFound: 'Thread not found',
  threadLocked: 'This thread is locked',
  threadArchived: 'This thread is archived',
  threadViewDenied: 'You do not have permission to view this thread',
  messageNotFound: 'Message not found',
  tooManyAttempts: (seconds: number) => `Too many attempts. Try again in ${seconds} seconds`,
  internal: 'Internal server error',
} as const
