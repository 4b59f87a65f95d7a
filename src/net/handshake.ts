import { PERMISSIONS } from '../auth/permissions.ts'
import type { Config } from '../config/schema.ts'
import type { Packet } from '../protocol/errors.ts'

/** The protocol version clients check; upstream never changed it. */
export const PROTOCOL_VERSION = '1.1.0'

/** `server` is `config.server` as clients see it (local icon/banner names rewritten to URLs). */
export function handshakePacket(config: Config, validatorKey: string, capabilities: readonly string[], server = config.server): Packet {
  const { enabled, max_size, allowed_types, max_attachments_per_user, permanent_tiers } = config.attachments
  return {
    cmd: 'handshake',
    val: {
      server,
      limits: config.limits,
      attachments: { enabled, max_size, allowed_types, max_attachments_per_user, permanent_tiers },
      version: PROTOCOL_VERSION,
      validator_key: validatorKey,
      capabilities,
      permissions: PERMISSIONS,
      auth_mode: config.auth_mode,
    },
  }
}
