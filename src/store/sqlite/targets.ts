import type { Database } from 'bun:sqlite'

/**
 * What is kept per message target besides its messages: the counters, the deletions, the ping
 * rows and the read positions. They follow their channel; these run inside the caller's transaction.
 */

/** Renames a channel in its messages and everything kept for them, its threads' included. */
export function renameTargets(db: Database, from: string, to: string) {
  db.run('UPDATE messages SET channel = ? WHERE channel = ?', [to, from])
  db.run('UPDATE OR REPLACE target_stats SET channel = ? WHERE channel = ?', [to, from])
  db.run('UPDATE OR REPLACE message_deletions SET channel = ? WHERE channel = ?', [to, from])
  db.run('UPDATE pings SET channel = ? WHERE channel = ?', [to, from])
  db.run('UPDATE OR REPLACE unreads SET key = ? WHERE key = ?', [to, from])
}

/**
 * Deletes a channel's messages and everything kept for them, its threads' included; given
 * `thread`, only that thread's (for deleting a thread).
 */
export function deleteTargets(db: Database, channel: string, thread?: string) {
  const scope = thread === undefined ? 'channel = ?' : 'channel = ? AND thread = ?'
  const args = thread === undefined ? [channel] : [channel, thread]
  if (thread === undefined) {
    db.run(
      `DELETE FROM unreads WHERE key = ? OR key IN (SELECT 'thread/' || id FROM threads WHERE channel = ?)`,
      [channel, channel],
    )
  } else {
    db.run('DELETE FROM unreads WHERE key = ?', [`thread/${thread}`])
  }
  for (const table of ['messages', 'target_stats', 'message_deletions', 'pings']) db.run(`DELETE FROM ${table} WHERE ${scope}`, args)
}
