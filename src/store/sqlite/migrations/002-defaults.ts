import type { Database } from 'bun:sqlite'

/** Upstream's first-start data: the four default roles and #general (data.md §4.1, §5.1). */
export const roles = [
  {
    name: 'owner',
    description: 'Server owner with ultimate permissions.',
    color: '#9400D3',
    permissions: ['administrator'],
  },
  {
    name: 'admin',
    description: 'Administrator role with full permissions.',
    color: '#FF0000',
    permissions: [
      'administrator', 'manage_roles', 'manage_channels', 'manage_users', 'manage_server', 'manage_messages',
      'manage_threads', 'manage_nicknames', 'kick_members', 'ban_members', 'create_invite', 'manage_invites',
      'mention_everyone', 'use_slash_commands',
    ],
  },
  {
    name: 'moderator',
    description: 'Moderator role with elevated permissions.',
    color: '#FFFF00',
    permissions: [
      'manage_messages', 'manage_threads', 'kick_members', 'manage_nicknames', 'mute_members', 'deafen_members',
      'move_members', 'create_invite', 'use_slash_commands',
    ],
  },
  {
    name: 'user',
    description: 'Regular user role with standard permissions.',
    color: null,
    permissions: [
      'send_messages', 'read_message_history', 'add_reactions', 'attach_files', 'embed_links', 'external_emojis',
      'connect', 'speak', 'stream', 'use_voice_activity', 'change_nickname', 'create_invite', 'use_slash_commands',
    ],
  },
]

export const general = {
  type: 'text',
  name: 'general',
  description: 'General chat channel for everyone',
  permissions: { view: ['user'], send: ['user'], delete: ['admin', 'moderator'], create_thread: ['user'] },
}

export default function seedDefaults(db: Database): void {
  const role = db.prepare('INSERT INTO roles (name, position, data) VALUES (?, ?, ?)')
  roles.forEach(({ name, ...rest }, position) => {
    const data = { id: crypto.randomUUID(), ...rest, hoisted: name !== 'user', self_assignable: false, category: null, position }
    role.run(name, position, JSON.stringify(data))
  })
  db.prepare('INSERT INTO channels (name, position, data) VALUES (?, 0, ?)').run(general.name, JSON.stringify(general))
}
