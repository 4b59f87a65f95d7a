import type { Queries } from './db.ts'

/**
 * What is kept per message target besides its messages (counters, deletions, ping rows, read
 * positions) follows its channel; these run inside the caller's transaction.
 */

/** Renames a channel in its messages and everything kept for them, its threads' included. */
export async function renameTargets(tx: Queries, from: string, to: string) {
  await tx.run('UPDATE messages SET channel = $1 WHERE channel = $2', [to, from])
  // What a former channel of the new name left behind gives way, as SQLite's UPDATE OR REPLACE does.
  await tx.run('DELETE FROM target_stats WHERE channel = $1', [to])
  await tx.run('UPDATE target_stats SET channel = $1 WHERE channel = $2', [to, from])
  await tx.run('DELETE FROM message_deletions WHERE channel = $1', [to])
  await tx.run('UPDATE message_deletions SET channel = $1 WHERE channel = $2', [to, from])
  await tx.run('UPDATE pings SET channel = $1 WHERE channel = $2', [to, from])
  await tx.run('DELETE FROM unreads WHERE key = $1', [to])
  await tx.run('UPDATE unreads SET key = $1 WHERE key = $2', [to, from])
}

/**
 * Deletes a channel's messages and everything kept for them, its threads' included; given
 * `thread`, only that thread's (for deleting a thread).
 */
export async function deleteTargets(tx: Queries, channel: string, thread?: string) {
  const scope = thread === undefined ? 'channel = $1' : 'channel = $1 AND thread = $2'
  const args = thread === undefined ? [channel] : [channel, thread]
  if (thread === undefined) {
    await tx.run(`DELETE FROM unreads WHERE key = $1 OR key IN (SELECT 'thread/' || id FROM threads WHERE channel = $1)`, [channel])
  } else {
    await tx.run('DELETE FROM unreads WHERE key = $1', [`thread/${thread}`])
  }
  for (const table of ['messages', 'target_stats', 'message_deletions', 'pings']) await tx.run(`DELETE FROM ${table} WHERE ${scope}`, args)
}
