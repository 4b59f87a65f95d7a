import { findUserByName } from '../../auth/accounts.ts'
import { BANNED_ROLE, colorOf, defaultChannelPermissions, isBanned, roleAssignmentError, roleManagementError, SYSTEM_ROLES } from '../../auth/permissions.ts'
import { banEffects, banUser, unbanEffects, unbanUser } from '../../commands/moderation.ts'
import { quote } from '../../log.ts'
import { topics } from '../../net/topics.ts'
import type { Session } from '../../net/session.ts'
import type { Effects } from '../../protocol/command.ts'
import type { ChannelRecord, RoleRecord, UserRecord } from '../../store/types.ts'
import { displayName } from '../../views/user.ts'
import { postSystemMessage, sessionOf, type PluginConnection, type PluginEvents, type ServerAccess } from '../api.ts'
import type { BuiltinPlugin } from '../loader.ts'

/**
 * The owner chat-command plugin (upstream `cli`, plugins.md §4.1). A message from an `owner` or
 * `admin` whose trimmed content starts with `!` runs a command; the reply is a system message
 * from `OriginChats` in the same channel. Changes are announced like the matching protocol
 * commands (channel lists, role lists, disconnects), recorded in the modlog and fired as plugin
 * events, with the caller as actor. Unknown commands are ignored, as in latest upstream. A user
 * is named by username, local account name or nickname, and replies use display names.
 */

const AUTHOR = 'OriginChats'
const ADMIN_ROLES = ['owner', 'admin']
const ok = (text: string) => `✅ ${text}`
const error = (text: string) => `❌ Error: ${text}`

const SETTABLE_PERMISSIONS = ['view', 'send', 'delete', 'delete_own', 'edit_own', 'react', 'pin']
const ALLOW = ['true', 'yes', '1', 'allow']

interface Call {
  server: ServerAccess
  session: Session
  actor: UserRecord
  /** The channel the command was typed in; replies go there. */
  channel: string
  /** The command message itself (purge leaves it alone). */
  messageId: string
  args: string[]
}

interface Command {
  help: string
  /** The reply text, prefix included. */
  run(call: Call): Promise<string>
}

/** A user in a list: the display name, and the username as well when that differs. */
const listed = (user: UserRecord) => (displayName(user) === user.username ? user.username : `${displayName(user)} [${user.username}]`)

const knownRoles = async (server: ServerAccess) => new Map((await server.store.roles.list()).map((role) => [role.name, role]))

/** The `roles_list` broadcast: stored roles keyed by name (commands.md §9). */
async function rolesList(server: ServerAccess) {
  const roles: Record<string, Omit<RoleRecord, 'name'>> = {}
  for (const { name, ...role } of await server.store.roles.list()) roles[name] = role
  return { cmd: 'roles_list', roles }
}

const roleEvent = (role: RoleRecord) => ({ role_id: role.id, role_name: role.name, description: role.description, color: role.color })

/** A user's roles changed: resubscribe them and tell everyone, as `user_roles_set` does. */
async function rolesChanged(call: Call, user: UserRecord, roles: string[]): Promise<Effects> {
  const known = await knownRoles(call.server)
  return {
    refreshAccess: [user.id],
    publish: [{ topic: topics.users, packet: { cmd: 'user_roles_get', user: user.username, roles, color: colorOf(roles, known), global: true } }],
    audit: [{ action: 'user_roles_set', target_id: user.id, target_name: user.username, details: { roles } }],
    events: [{ name: 'user_roles_set', data: { user_id: user.id, username: user.username, roles } }],
  }
}

/**
 * Changes a user's roles in one atomic step on their current list (`change` returns undefined to
 * refuse); the updated user, or undefined when refused. `banned` is never changed here: ban and
 * unban do that.
 */
async function changeRoles(call: Call, target: UserRecord, change: (roles: string[]) => string[] | undefined): Promise<UserRecord | undefined> {
  let changed = false
  const user = await call.server.store.users.updateWith(target.id, (current) => {
    const roles = change(current.roles)
    if (roles === undefined) return undefined
    changed = true
    return { roles }
  })
  return changed ? user : undefined
}

const COMMANDS: Record<string, Command> = {
  ban: {
    help: 'Ban a user\n\nArguments:\n1. Username',
    async run(call) {
      const [name] = call.args
      if (!name) return error('Usage: ban <username>')
      const target = await findUserByName(call.server.store, name)
      if (!target) return error(`User '${name}' not found`)
      // Only the owner may ban an owner: an admin cannot lock the owner out.
      if (target.roles.includes('owner') && !call.actor.roles.includes('owner')) return error(`Failed to ban user '${displayName(target)}'`)
      const banned = await banUser(call.server.store, target.id)
      if (!banned) return error(`Failed to ban user '${displayName(target)}'`)
      await call.server.apply(call.session, banEffects(banned))
      return ok(`Banned user '${displayName(target)}'`)
    },
  },
  unban: {
    help: 'Unban a user\n\nArguments:\n1. Username',
    async run(call) {
      const [name] = call.args
      if (!name) return error('Usage: unban <username>')
      const target = await findUserByName(call.server.store, name)
      if (!target) return error(`User '${name}' not found`)
      const unbanned = await unbanUser(call.server.store, target.id)
      if (!unbanned) return error(`Failed to unban '${displayName(target)}'`)
      await call.server.apply(call.session, unbanEffects(unbanned))
      return ok(`Unbanned user '${displayName(target)}'`)
    },
  },
  list_banned: {
    help: 'Lists all banned users',
    async run(call) {
      const banned = (await call.server.store.users.list()).filter((user) => isBanned(user.roles))
      if (banned.length === 0) return 'No users are currently banned'
      return ['🚫 Banned users:', ...banned.map((user) => `  • ${listed(user)}`)].join('\n')
    },
  },
  users_list: {
    help: 'Lists all users',
    async run(call) {
      const users = await call.server.store.users.list()
      if (users.length === 0) return 'No users found'
      return ['👥 Users:', ...users.map((user) => `  • ${listed(user)} (${user.roles.join(', ')})`)].join('\n')
    },
  },
  channels_list: {
    help: 'Lists all channels',
    async run(call) {
      const channels = await call.server.store.channels.list()
      if (channels.length === 0) return 'No channels found'
      return ['📋 Channels:', ...channels.map((channel) => `  • ${channel.name} (${channel.type})`)].join('\n')
    },
  },
  channel_create: {
    help: 'Create a channel\n\nArguments:\n1. Channel name\n2. Channel type (text or separator)',
    async run(call) {
      if (call.args.length < 2) return error('Usage: create <name> <type>\nTypes: text, separator')
      const name = call.args[0]!
      const type = call.args[1]!.toLowerCase()
      if (type !== 'text' && type !== 'separator') return error("Invalid type. Use 'text' or 'separator'")
      if (await call.server.store.channels.get(name)) return error('Failed to create channel (may already exist)')
      const channel: ChannelRecord = { name, type, permissions: defaultChannelPermissions() }
      await call.server.store.channels.insert(channel)
      await call.server.apply(call.session, {
        channelsChanged: true,
        audit: [{ action: 'channel_create', target_id: name, target_name: name, details: { type } }],
        events: [{ name: 'channel_create', data: { channel } }],
      })
      return ok(`Created channel '${name}' (${type})`)
    },
  },
  channel_delete: {
    help: 'Delete a channel\n\nArguments:\n1. Channel name',
    async run(call) {
      const [name] = call.args
      if (!name) return error('Usage: delete <name>')
      if (!(await call.server.store.channels.delete(name))) return error(`Failed to delete channel '${name}'`)
      await call.server.apply(call.session, {
        channelsChanged: true,
        audit: [{ action: 'channel_delete', target_id: name, target_name: name }],
        events: [{ name: 'channel_delete', data: { channel_name: name } }],
      })
      return ok(`Deleted channel '${name}'`)
    },
  },
  channel_getinfo: {
    help: 'Get channel info\n\nArguments:\n1. Channel name',
    async run(call) {
      const [name] = call.args
      if (!name) return error('Usage: info <name>')
      const channel = await call.server.store.channels.get(name)
      if (!channel) return error(`Channel '${name}' not found`)
      const lines = [`📌 Channel: ${channel.name}`, `   Type: ${channel.type}`]
      if (channel.permissions) {
        lines.push('   Permissions:')
        for (const [key, roles] of Object.entries(channel.permissions)) lines.push(`     • ${key}: ${roles.join(', ')}`)
      }
      return lines.join('\n')
    },
  },
  channel_move: {
    help: 'Move a channel in the order\n\nArguments:\n1. Channel name\n2. Index of the new position',
    async run(call) {
      if (call.args.length < 2) return error('Usage: channel_move [name] [index]')
      const [name, index] = call.args as [string, string]
      // Latest upstream passed the index on as a string and crashed (compat-notes bug 47).
      const position = /^\d+$/.test(index) ? Number(index) : NaN
      if (!Number.isSafeInteger(position) || !(await call.server.store.channels.move(name, position))) {
        return error(`Failed to move channel '${name}' to position ${index}`)
      }
      await call.server.apply(call.session, {
        channelsChanged: true,
        audit: [{ action: 'channel_move', target_id: name, target_name: name, details: { position } }],
        events: [{ name: 'channel_move', data: { channel: await call.server.store.channels.get(name), position } }],
      })
      return ok(`Moved channel '${name}' to position ${index}`)
    },
  },
  channel_setpermissions: {
    help: 'Set permissions for a channel\n\nArguments:\n1. Channel name\n2. Role name\n3. Permission type (view, send, delete, delete_own, edit_own, react, pin)\n4. Allow or deny (true or false)',
    async run(call) {
      if (call.args.length < 4) return error('Usage: channel_setpermissions [name] [role] [permission] [allow]')
      const [name, role, permission, allow] = call.args as [string, string, string, string]
      const channel = await call.server.store.channels.get(name)
      if (!channel) return error(`Channel '${name}' not found`)
      if (!SETTABLE_PERMISSIONS.includes(permission)) return error(`Unknown permission: ${permission}`)
      const permissions = structuredClone(channel.permissions ?? {})
      const list = (permissions[permission] ?? []).filter((entry) => entry !== role)
      permissions[permission] = ALLOW.includes(allow.toLowerCase()) ? [...list, role] : list
      const updated = { ...channel, permissions }
      await call.server.store.channels.update(name, updated)
      await call.server.apply(call.session, {
        channelsChanged: true,
        audit: [{ action: 'channel_update', target_id: name, target_name: name, details: { permissions } }],
        events: [{ name: 'channel_update', data: { old_name: name, channel: updated } }],
      })
      return ok(`Set permissions for role '${role}' on channel '${name}'`)
    },
  },
  roles_list: {
    help: 'Lists all roles',
    async run(call) {
      const roles = await call.server.store.roles.list()
      if (roles.length === 0) return 'No roles found'
      return ['🎭 Roles:', ...roles.map((role) => `  • ${role.name} (color: ${role.color ?? 'default'})`)].join('\n')
    },
  },
  roles_create: {
    help: 'Create a role\n\nArguments:\n1. Role name',
    async run(call) {
      const [name] = call.args
      if (!name) return error('Usage: createrole [name]')
      const { roles } = call.server.store
      if (await roles.get(name)) return error('Failed to create role (may already exist)')
      const role: RoleRecord = {
        name,
        id: crypto.randomUUID(),
        description: '',
        color: null,
        hoisted: false,
        permissions: [],
        self_assignable: false,
        category: null,
        position: await roles.count(),
      }
      await roles.insert(role)
      await call.server.apply(call.session, {
        publish: [{ topic: topics.users, packet: await rolesList(call.server) }],
        audit: [{ action: 'role_create', target_id: role.id, target_name: name }],
        events: [{ name: 'role_create', data: roleEvent(role) }],
      })
      return ok(`Created role '${name}'`)
    },
  },
  roles_delete: {
    help: 'Delete a role\n\nArguments:\n1. Role name',
    async run(call) {
      const [name] = call.args
      if (!name) return error('Usage: deleterole [name]')
      const { store } = call.server
      const role = await store.roles.get(name)
      const inUse = (await store.channels.list()).some((channel) =>
        Object.values(channel.permissions ?? {}).some((list) => list.includes(name) || list.includes(`!${name}`)),
      )
      // Intended upstream checks (commands.md §9.5): system roles, hierarchy, channel references.
      if (!role || (SYSTEM_ROLES as readonly string[]).includes(name) || inUse || roleManagementError(call.actor.roles, name, await knownRoles(call.server))) {
        return error(`Failed to delete role '${name}'`)
      }
      const holders = (await store.users.list()).filter((user) => user.roles.includes(name)).map((user) => user.id)
      if (!(await store.roles.delete(name))) return error(`Failed to delete role '${name}'`)
      await call.server.apply(call.session, {
        refreshAccess: holders,
        publish: [{ topic: topics.users, packet: await rolesList(call.server) }],
        audit: [{ action: 'role_delete', target_id: role.id, target_name: name }],
        events: [{ name: 'role_delete', data: { role_id: role.id, role_name: name } }],
      })
      return ok(`Deleted role '${name}'`)
    },
  },
  roles_give: {
    help: 'Give role to user\n\nArguments:\n1. Username\n2. Role name',
    async run(call) {
      if (call.args.length < 2) return error('Usage: give <username> <role>')
      const [name, role] = call.args as [string, string]
      const target = await findUserByName(call.server.store, name)
      if (!target) return error(`User '${name}' not found`)
      const known = await knownRoles(call.server)
      const updated = await changeRoles(call, target, (roles) =>
        role === BANNED_ROLE || !known.has(role) || roles.includes(role) || roleAssignmentError(call.actor.roles, roles, role, known) ? undefined : [...roles, role],
      )
      if (!updated) return error('Failed to give role')
      await call.server.apply(call.session, await rolesChanged(call, updated, updated.roles))
      return ok(`Gave role '${role}' to '${displayName(target)}'`)
    },
  },
  roles_remove: {
    help: 'Remove role from user\n\nArguments:\n1. Username\n2. Role name',
    async run(call) {
      if (call.args.length < 2) return error('Usage: remove [username] [role]')
      const [name, role] = call.args as [string, string]
      const target = await findUserByName(call.server.store, name)
      if (!target) return error(`User '${name}' not found`)
      const known = await knownRoles(call.server)
      const updated = await changeRoles(call, target, (roles) => {
        const rest = roles.filter((r) => r !== role)
        // A user without roles could do nothing at all; keep at least one.
        const refused = role === BANNED_ROLE || rest.length === roles.length || rest.length === 0 || roleAssignmentError(call.actor.roles, roles, role, known)
        return refused ? undefined : rest
      })
      if (!updated) return error('Failed to remove role')
      await call.server.apply(call.session, await rolesChanged(call, updated, updated.roles))
      return ok(`Removed role '${role}' from '${displayName(target)}'`)
    },
  },
  roles_setcolor: {
    help: 'Update role color\n\nArguments:\n1. Role name\n2. Color (hex code)',
    async run(call) {
      if (call.args.length < 2) return error('Usage: rolecolor [role] [color]')
      const [name, color] = call.args as [string, string]
      const known = await knownRoles(call.server)
      if (!known.has(name) || roleManagementError(call.actor.roles, name, known)) return error('Failed to update role color')
      const role = await call.server.store.roles.update(name, { color })
      if (!role) return error('Failed to update role color')
      await call.server.apply(call.session, {
        publish: [{ topic: topics.users, packet: await rolesList(call.server) }],
        audit: [{ action: 'role_update', target_id: role.id, target_name: name, details: { color } }],
        events: [{ name: 'role_update', data: roleEvent(role) }],
      })
      return ok(`Updated color for role '${name}'`)
    },
  },
  purge: {
    help: 'Purge messages\n\nArguments:\n1. Number of messages to purge',
    async run(call) {
      const [count] = call.args
      if (!count || !/^\d+$/.test(count)) return error('Usage: purge <count>')
      const wanted = Number(count)
      if (wanted <= 0) return error('Count must be greater than 0')
      // The newest messages go (latest upstream removed the oldest: compat-notes bug 47); the
      // `!purge` message itself is not counted.
      const target = { channel: call.channel, thread_id: null }
      const latest = await call.server.store.messages.listLatest(target, 0, wanted + 1)
      const doomed = latest.filter((m) => m.id !== call.messageId).slice(-wanted)
      const deleted: string[] = []
      for (const message of doomed) if (await call.server.store.messages.delete(target, message.id)) deleted.push(message.id)
      await call.server.apply(call.session, {
        publish: deleted.map((id) => ({ topic: topics.channel(call.channel), packet: { cmd: 'message_delete', id, channel: call.channel, global: true } })),
        audit: deleted.map((id) => ({ action: 'message_delete', target_id: id, details: { channel: call.channel } })),
      })
      return ok(`Purged ${deleted.length} messages`)
    },
  },
}

const CATEGORIES: Record<string, string[]> = {
  'User Management': ['ban', 'unban', 'list_banned', 'users_list'],
  'Channel Management': ['channels_list', 'channel_create', 'channel_delete', 'channel_getinfo', 'channel_move', 'channel_setpermissions'],
  'Role Management': ['roles_list', 'roles_create', 'roles_delete', 'roles_give', 'roles_remove', 'roles_setcolor'],
  Moderation: ['purge'],
}

/** Seed-era names, still accepted. */
const ALIASES: Record<string, string> = {
  banned: 'list_banned',
  users: 'users_list',
  channels: 'channels_list',
  create: 'channel_create',
  delete: 'channel_delete',
  info: 'channel_getinfo',
  roles: 'roles_list',
  createrole: 'roles_create',
  deleterole: 'roles_delete',
  give: 'roles_give',
  remove: 'roles_remove',
  rolecolor: 'roles_setcolor',
}

const lookup = (word: string): Command | undefined => COMMANDS[ALIASES[word] ?? word] ?? (word === 'help' ? HELP : undefined)

const HELP: Command = {
  help: 'Show every command, or the details of one\n\nArguments:\n1. Command (optional)',
  async run(call) {
    const command = call.args[0] ? lookup(call.args[0].toLowerCase()) : undefined
    if (command) return `📖 ${command.help}`
    const lines = ['📖 Available Commands:', '']
    for (const [category, names] of Object.entries(CATEGORIES)) lines.push(`**${category}**`, ...names.map((name) => `  !${name}`), '')
    lines.push('💡 Use !help <command> for detailed help')
    return lines.join('\n')
  },
}

export const commandsPlugin: BuiltinPlugin = {
  name: 'commands',
  enabled: (config) => config.plugins.builtin.commands.enabled,
  create: (server) => ({
    getInfo: () => ({ name: 'CLI Plugin', description: 'Manage your server, channels, and users through chat commands.', handles: ['new_message'] }),
    async on_new_message(conn: PluginConnection | null, data: PluginEvents['new_message']) {
      const content = data.content.trim()
      const session = sessionOf(conn)
      if (!content.startsWith('!') || !data.channel || !session) return
      const actor = await server.store.users.get(data.user_id)
      if (!actor || !actor.roles.some((role) => ADMIN_ROLES.includes(role))) return
      const [word, ...args] = content.slice(1).trim().split(/\s+/)
      const command = word ? lookup(word.toLowerCase()) : undefined
      if (!command) return
      const call: Call = { server, session, actor, channel: data.channel, messageId: data.message.id, args }
      let reply: string
      try {
        reply = await command.run(call)
      } catch (failure) {
        server.log.error(`plugin "commands": ${quote(`!${word}`)} failed: ${(failure as Error)?.stack ?? failure}`)
        reply = error(`Command failed: ${(failure as Error)?.message ?? failure}`)
      }
      // The channel may be gone (`!delete` of the channel the command was typed in).
      if (await server.store.channels.get(call.channel)) await postSystemMessage(server, call.channel, reply, AUTHOR)
    },
  }),
}
