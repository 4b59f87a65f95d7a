import type { RoleRecord } from '../../src/store/types.ts'

/** A role record to insert straight into the store, for tests that need a permission holder. */
export const customRole = (name: string, permissions: string[], position: number): RoleRecord => ({
  name,
  id: `${name}-id`,
  description: '',
  color: null,
  hoisted: false,
  permissions,
  self_assignable: false,
  category: null,
  position,
})

/** What upstream's setup wizard (config_builder.py DEFAULT_CONFIG) writes, indented by 4. */
export const UPSTREAM_CONFIG = {
  limits: { post_content: 2000, search_results: 30 },
  uploads: { emoji_allowed_file_types: ['gif', 'jpg', 'jpeg', 'png'] },
  attachments: {
    enabled: true,
    max_size: 104857600,
    permanent_expiration_days: 365,
    permanent_tiers: ['pro', 'max'],
    allowed_types: ['image/*', 'video/*', 'audio/*', 'application/pdf'],
    uploads_per_minute: 10,
    subscription_cache_ttl: 300,
    max_attachments_per_user: -1,
    free_tier_max_expiration_days: 7,
    compression: { enabled: true, max_width: 1920, max_height: 1920, jpeg_quality: 85, webp_quality: 85, png_compression: 6 },
  },
  rate_limiting: { enabled: true, messages_per_minute: 60, burst_limit: 10, cooldown_seconds: 30 },
  modlog: {
    enabled: true,
    retention: { default: 90, user_moderation: 365, role_management: 365, channel_management: 180, message_moderation: 90, server_management: 180 },
  },
  DB: { channels: 'db/channels.json', users: { file: 'db/users.json', default: { roles: ['user'] } } },
  websocket: { host: '127.0.0.1', port: 5613 },
  service: { name: 'OriginChats', version: '1.0.0' },
  server: { name: 'My OriginChats Server', owner: { name: 'Admin' }, icon: 'icon.png', url: 'chat.example.com' },
}
