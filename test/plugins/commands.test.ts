import { expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer, type ConfigOverrides } from '../helpers/server.ts'
import { messageFrom } from './folder.ts'

async function commandServer() {
  const server = await startServer({ plugins: { builtin: { commands: { enabled: true } } } } as ConfigOverrides)
  await server.app.plugins.ready
  return server
}

/** Types `text` into #general and returns the plugin's reply (a message from `OriginChats`). */
async function run(client: TestClient, text: string): Promise<string> {
  client.send({ cmd: 'message_new', channel: 'general', content: text })
  return (await messageFrom(client, 'OriginChats')).message.content
}

const HELP = `📖 Available Commands:

**User Management**
  !ban
  !unban
  !list_banned
  !users_list

**Channel Management**
  !channels_list
  !channel_create
  !channel_delete
  !channel_getinfo
  !channel_move
  !channel_setpermissions

**Role Management**
  !roles_list
  !roles_create
  !roles_delete
  !roles_give
  !roles_remove
  !roles_setcolor

**Moderation**
  !purge

💡 Use !help <command> for detailed help`

test.concurrent('!help lists every command; !help <command> explains one (seed names too)', async () => {
  await using server = await commandServer()
  const owner = await server.login('owner')
  expect(await run(owner, '!help')).toBe(HELP)
  expect(await run(owner, '!HELP ban')).toBe('📖 Ban a user\n\nArguments:\n1. Username')
  expect(await run(owner, '!help give')).toBe('📖 Give role to user\n\nArguments:\n1. Username\n2. Role name')
  expect(await run(owner, '!help nothing')).toBe(HELP)
  expect((await owner.request({ cmd: 'plugins_list' })).plugins).toEqual({
    commands: { name: 'CLI Plugin', description: 'Manage your server, channels, and users through chat commands.', handles: ['new_message'] },
  })
})

test.concurrent('listing commands: users, roles, channels, banned users', async () => {
  await using server = await commandServer()
  const owner = await server.login('owner')
  await server.login('alice')
  expect(await run(owner, '!users_list')).toBe('👥 Users:\n  • owner (owner, user)\n  • alice (user)')
  expect(await run(owner, '!roles')).toBe('🎭 Roles:\n  • owner (color: #9400D3)\n  • admin (color: #FF0000)\n  • moderator (color: #FFFF00)\n  • user (color: default)')
  expect(await run(owner, '!channels_list')).toBe('📋 Channels:\n  • general (text)')
  expect(await run(owner, '!list_banned')).toBe('No users are currently banned')
})

test.concurrent('!ban disconnects every session of the user; !unban lets them back', async () => {
  await using server = await commandServer()
  const owner = await server.login('owner')
  const alice = await server.login('alice')
  const aliceToo = await server.login('alice')
  expect(await run(owner, '!ban')).toBe('❌ Error: Usage: ban <username>')
  expect(await run(owner, '!ban ghost')).toBe("❌ Error: User 'ghost' not found")
  expect(await run(owner, '!ban alice')).toBe("✅ Banned user 'alice'")
  for (const session of [alice, aliceToo]) {
    expect(await session.next('disconnect')).toEqual({ cmd: 'disconnect', reason: 'You have been banned from this server' })
    await session.closed
  }
  expect(await run(owner, '!banned')).toBe('🚫 Banned users:\n  • alice')
  expect(await run(owner, '!ban alice')).toBe("❌ Error: Failed to ban user 'alice'")
  expect(await run(owner, '!unban alice')).toBe("✅ Unbanned user 'alice'")
  expect(await run(owner, '!unban alice')).toBe("❌ Error: Failed to unban 'alice'")
  expect((await server.login('alice')).ready.user.roles).toEqual(['user'])
})

test.concurrent('channel commands change channels and announce them like the protocol commands', async () => {
  await using server = await commandServer()
  const owner = await server.login('owner')
  const alice = await server.login('alice')
  expect(await run(owner, '!create news')).toBe('❌ Error: Usage: create <name> <type>\nTypes: text, separator')
  expect(await run(owner, '!create news voice')).toBe("❌ Error: Invalid type. Use 'text' or 'separator'")
  expect(await run(owner, '!create news TEXT')).toBe("✅ Created channel 'news' (text)")
  expect((await owner.next('channels_get')).val.map((c: { name: string }) => c.name)).toEqual(['general', 'news'])
  expect(await run(owner, '!create news text')).toBe('❌ Error: Failed to create channel (may already exist)')
  expect(await run(owner, '!info news')).toBe(
    '📌 Channel: news\n   Type: text\n   Permissions:\n     • view: owner\n     • send: owner\n     • delete: owner\n     • delete_own: user\n' +
      '     • edit_own: user\n     • react: user\n     • pin: owner\n     • create_thread: owner',
  )
  expect(await run(owner, '!info nowhere')).toBe("❌ Error: Channel 'nowhere' not found")

  alice.drain('channels_get')
  expect(await run(owner, '!channel_setpermissions news user view yes')).toBe("✅ Set permissions for role 'user' on channel 'news'")
  // Alice may view #news now: she gets her new channel list at once.
  expect((await alice.next('channels_get')).val.map((c: { name: string }) => c.name)).toEqual(['general', 'news'])
  expect(await run(owner, '!channel_setpermissions news user look yes')).toBe('❌ Error: Unknown permission: look')
  expect(await run(owner, '!channel_setpermissions news user')).toBe('❌ Error: Usage: channel_setpermissions [name] [role] [permission] [allow]')

  // Latest upstream crashed here because the index stayed a string (compat-notes bug 47).
  expect(await run(owner, '!channel_move news 0')).toBe("✅ Moved channel 'news' to position 0")
  expect(await run(owner, '!channels')).toBe('📋 Channels:\n  • news (text)\n  • general (text)')
  expect(await run(owner, '!channel_move news first')).toBe("❌ Error: Failed to move channel 'news' to position first")

  alice.drain('channels_get')
  expect(await run(owner, '!delete news')).toBe("✅ Deleted channel 'news'")
  expect((await alice.next('channels_get')).val.map((c: { name: string }) => c.name)).toEqual(['general'])
  expect(await run(owner, '!delete news')).toBe("❌ Error: Failed to delete channel 'news'")
})

test.concurrent('role commands: create, colour, give, remove, delete, with the role lists announced', async () => {
  await using server = await commandServer()
  const owner = await server.login('owner')
  const alice = await server.login('alice')
  expect(await run(owner, '!createrole helper')).toBe("✅ Created role 'helper'")
  expect(Object.keys((await alice.next('roles_list')).roles)).toEqual(['owner', 'admin', 'moderator', 'user', 'helper'])
  expect(await run(owner, '!createrole helper')).toBe('❌ Error: Failed to create role (may already exist)')
  expect(await run(owner, '!rolecolor helper #00ff00')).toBe("✅ Updated color for role 'helper'")
  expect((await alice.next('roles_list')).roles.helper).toMatchObject({ color: '#00ff00' })
  expect(await run(owner, '!give alice helper')).toBe("✅ Gave role 'helper' to 'alice'")
  expect(await alice.next('user_roles_get')).toEqual({ cmd: 'user_roles_get', user: 'alice', roles: ['user', 'helper'], color: null, global: true })
  expect(await run(owner, '!give alice nosuchrole')).toBe('❌ Error: Failed to give role')
  expect(await run(owner, '!give ghost helper')).toBe("❌ Error: User 'ghost' not found")
  expect(await run(owner, '!remove alice helper')).toBe("✅ Removed role 'helper' from 'alice'")
  expect(await alice.next('user_roles_get')).toEqual({ cmd: 'user_roles_get', user: 'alice', roles: ['user'], color: null, global: true })
  expect(await run(owner, '!remove alice user')).toBe('❌ Error: Failed to remove role')
  expect(await run(owner, '!deleterole user')).toBe("❌ Error: Failed to delete role 'user'")
  expect(await run(owner, '!deleterole helper')).toBe("✅ Deleted role 'helper'")
  expect(await run(owner, '!roles')).toBe('🎭 Roles:\n  • owner (color: #9400D3)\n  • admin (color: #FF0000)\n  • moderator (color: #FFFF00)\n  • user (color: default)')
})

test.concurrent('!purge deletes the newest messages and announces each deletion (compat-notes bug 47)', async () => {
  await using server = await commandServer()
  const owner = await server.login('owner')
  const alice = await server.login('alice')
  const ids: string[] = []
  for (const content of ['m1', 'm2', 'm3', 'm4']) {
    alice.send({ cmd: 'message_new', channel: 'general', content })
    ids.push((await alice.next('message_new', (p) => p.message.content === content)).message.id)
  }
  expect(await run(owner, '!purge 2')).toBe('✅ Purged 2 messages')
  const deleted = [await alice.next('message_delete'), await alice.next('message_delete')]
  expect(deleted.map((p) => p.id).sort()).toEqual([ids[2], ids[3]].sort())
  expect(deleted[0]).toEqual({ cmd: 'message_delete', id: expect.any(String), channel: 'general', global: true })
  expect(await run(owner, '!purge 0')).toBe('❌ Error: Count must be greater than 0')
  expect(await run(owner, '!purge some')).toBe('❌ Error: Usage: purge <count>')
  const history = await alice.request({ cmd: 'messages_get', channel: 'general' })
  expect(history.messages.map((m: { content: string }) => m.content)).toEqual([
    'm1', 'm2', '!purge 2', '✅ Purged 2 messages', '!purge 0', '❌ Error: Count must be greater than 0', '!purge some', '❌ Error: Usage: purge <count>',
  ])
})

test.concurrent('only owner and admin commands run: others’ ! messages and unknown commands are ignored', async () => {
  await using server = await commandServer()
  const owner = await server.login('owner')
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  await server.setRoles('bob', ['admin', 'user'])
  alice.send({ cmd: 'message_new', channel: 'general', content: '!help' })
  await alice.next('message_new', (p) => p.message.content === '!help')
  owner.send({ cmd: 'message_new', channel: 'general', content: '!frobnicate now' })
  await owner.next('message_new', (p) => p.message.content === '!frobnicate now')
  expect(await run(bob, '!channels')).toBe('📋 Channels:\n  • general (text)')
  // Alice's and the unknown command were handled before Bob's, so a reply to either would come first.
  for (const client of [owner, alice]) {
    expect((await messageFrom(client, 'OriginChats')).message.content).toBe('📋 Channels:\n  • general (text)')
    expect(client.inbox.filter((p) => p.cmd === 'message_new' && p.message.user === 'OriginChats')).toEqual([])
  }
  // An admin cannot ban the owner.
  expect(await run(bob, '!ban owner')).toBe("❌ Error: Failed to ban user 'owner'")
})

test.concurrent('a name is a username, a local account’s name or a unique nickname; replies use display names', async () => {
  await using server = await commandServer()
  const owner = await server.login('owner')
  const alice = await server.register('alice')
  expect(await run(owner, '!ban alice')).toBe("✅ Banned user 'alice'")
  expect(await alice.next('disconnect')).toEqual({ cmd: 'disconnect', reason: 'You have been banned from this server' })
  expect(await run(owner, '!banned')).toBe('🚫 Banned users:\n  • alice [USR:local_alice]')
  expect(await run(owner, '!unban ALICE')).toBe("✅ Unbanned user 'alice'")

  const bob = await server.login('bob')
  const { store } = server.app
  await store.users.update((await store.users.getByUsername('bob'))!.id, { nickname: 'Bobby' })
  expect(await run(owner, '!give bobby moderator')).toBe("✅ Gave role 'moderator' to 'Bobby'")
  expect((await bob.next('user_roles_get')).roles).toEqual(['user', 'moderator'])
  expect(await run(owner, '!users')).toBe('👥 Users:\n  • owner (owner, user)\n  • alice [USR:local_alice] (user)\n  • Bobby [bob] (user, moderator)')

  // A username wins over a nickname; a nickname two users share names nobody.
  await server.login('carol')
  await store.users.update((await store.users.getByUsername('carol'))!.id, { nickname: 'bobby' })
  expect(await run(owner, '!remove bob moderator')).toBe("✅ Removed role 'moderator' from 'Bobby'")
  expect(await run(owner, '!remove bobby user')).toBe("❌ Error: User 'bobby' not found")
})
