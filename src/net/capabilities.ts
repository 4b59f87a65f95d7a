import type { Config } from '../config/schema.ts'

/**
 * Names advertised in the handshake that are not WebSocket commands (commands.md §1.2), each
 * something this server does and clients gate features on: the slash-command broadcasts
 * (`events`) and nickname broadcasts.
 */
const FEATURES = ['events', 'nickname_update', 'nickname_remove'] as const

/**
 * The handshake's `capabilities`: every dispatched command and feature, sorted by code point.
 * `attachment_upload` is the HTTP upload route; the web client uploads over HTTP when it is listed.
 */
export function capabilityNames(commands: readonly string[], config: Config): string[] {
  const names = new Set([...commands, ...FEATURES, ...(config.attachments.enabled ? ['attachment_upload'] : [])])
  return [...names].sort()
}
