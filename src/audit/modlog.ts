import type { Config } from '../config/schema.ts'
import { quote, type Logger } from '../log.ts'
import type { ModlogEntry, ModlogRepo } from '../store/types.ts'

/** Which modlog category each action belongs to (data.md §11). */
const CATEGORY: Record<string, string> = {
  user_ban: 'user_moderation',
  user_unban: 'user_moderation',
  user_timeout: 'user_moderation',
  user_roles_set: 'user_moderation',
  user_update: 'user_moderation',
  user_delete: 'user_moderation',
  password_change: 'user_moderation',
  user_create: 'user_moderation',
  role_create: 'role_management',
  role_update: 'role_management',
  role_delete: 'role_management',
  role_reorder: 'role_management',
  role_permissions_set: 'role_management',
  self_role_add: 'role_management',
  self_role_remove: 'role_management',
  channel_create: 'channel_management',
  channel_update: 'channel_management',
  channel_move: 'channel_management',
  channel_delete: 'channel_management',
  thread_create: 'channel_management',
  thread_update: 'channel_management',
  thread_delete: 'channel_management',
  message_delete: 'message_moderation',
  message_pin: 'message_moderation',
  message_unpin: 'message_moderation',
  server_update: 'server_management',
  emoji_add: 'server_management',
  emoji_update: 'server_management',
  emoji_delete: 'server_management',
  webhook_create: 'server_management',
  webhook_update: 'server_management',
  webhook_delete: 'server_management',
  webhook_regenerate: 'server_management',
  plugins_reload: 'server_management',
}

export const categoryOf = (action: string) => CATEGORY[action] ?? 'other'

/** What a command asks to have recorded; the actor is always the caller. */
export interface Audit {
  action: string
  target_id?: string | null
  target_name?: string | null
  details?: Record<string, unknown>
}

export async function record(modlog: ModlogRepo, config: Config, actor: { id: string; username: string }, audit: Audit, now = Date.now()) {
  if (!config.modlog.enabled) return
  const entry: ModlogEntry = {
    id: `${now}-${actor.id}`,
    action: audit.action,
    category: categoryOf(audit.action),
    actor_id: actor.id,
    actor_name: actor.username,
    target_id: audit.target_id ?? null,
    target_name: audit.target_name ?? null,
    details: audit.details ?? {},
    timestamp: now / 1000,
  }
  await modlog.insert(entry)
}

/**
 * One info line per action, whether or not the modlog is enabled:
 * `moderation: "alice" user_ban "bob" {"reason":"spam"}` (actor, action, target, details).
 */
export function logAction(log: Logger, actor: { id: string; username: string }, audit: Audit) {
  const target = audit.target_name ?? audit.target_id
  const details = audit.details && Object.keys(audit.details).length > 0 ? audit.details : undefined
  const parts = ['moderation:', quote(actor.username), audit.action]
  if (target != null) parts.push(quote(target))
  if (details) parts.push(JSON.stringify(details))
  log.info(parts.join(' '), {
    actor: actor.username,
    actor_id: actor.id,
    action: audit.action,
    target: target ?? null,
    target_id: audit.target_id ?? null,
    details: details ?? {},
  })
}

/** Drops entries older than their category's retention (`modlog.retention`, days). */
export async function prune(modlog: ModlogRepo, config: Config, now = Date.now()) {
  const { default: fallbackDays, ...days } = config.modlog.retention
  const cutoff = (d: number) => now / 1000 - d * 86_400
  const perCategory: Record<string, number> = {}
  for (const [category, d] of Object.entries(days)) if (typeof d === 'number') perCategory[category] = cutoff(d)
  return modlog.prune(perCategory, cutoff(fallbackDays))
}
