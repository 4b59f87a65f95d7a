/**
 * Names advertised in the handshake that are not WebSocket commands (commands.md §1.2), each
 * something this server does and clients gate features on: the slash-command broadcasts
 * (`events`) and nickname broadcasts.
 */
const FEATURES = ['events', 'nickname_update', 'nickname_remove'] as const

/** The handshake's `capabilities`: every dispatched command and feature, sorted by code point. */
export function capabilityNames(commands: readonly string[]): string[] {
  const names = new Set([...commands, ...FEATURES])
  return [...names].sort()
}
