import { expect, test } from 'bun:test'
import type { Packet } from '../helpers/client.ts'
import { startServer } from '../helpers/server.ts'

/**
 * The sequence the OriginChats web client (originChats/client) runs against a server, step by
 * step: it gates optional requests on the handshake's capabilities, registers a local account
 * in `cracked` mode, loads channels, members and presence, then chats. A second user watches.
 */
test('a web-client session: register, see #general, send, reply, edit, react, delete, see who is online', async () => {
  await using server = await startServer({ auth_mode: 'cracked' })
  const watcher = await server.register('watcher')
  const client = await server.connect()
  const caps: string[] = client.handshake.val.capabilities
  expect(client.handshake.val.auth_mode).toBe('cracked')

  client.send({ cmd: 'register', username: 'Newbie', password: 'hunter22' })
  expect(await client.next('auth_success')).toEqual({ cmd: 'auth_success', val: 'Authentication successful' })
  // What the client sends right after auth_success (src/lib/commands/auth_success.ts).
  client.send({ cmd: 'channels_get' })
  client.send({ cmd: 'users_list' })
  client.send({ cmd: 'users_online' })
  for (const optional of ['roles_list', 'slash_list', 'emoji_get_all']) if (caps.includes(optional)) client.send({ cmd: optional })
  const ready = await client.next('ready')
  expect(ready.user).toMatchObject({ username: 'USR:local_newbie', nickname: 'newbie', roles: ['user'], cracked: true })
  const newbie = (p: Packet) => p.user.username === 'USR:local_newbie'
  expect(await watcher.next('user_join', newbie)).toEqual({ cmd: 'user_join', user: { username: 'USR:local_newbie', nickname: 'newbie', roles: ['user'], color: null } })
  expect((await watcher.next('user_connect', newbie)).user).toEqual({ username: 'USR:local_newbie', nickname: 'newbie', roles: ['user'], color: null })

  expect((await client.next('channels_get')).val.map((c: { name: string }) => c.name)).toEqual(['general'])
  const members = (await client.next('users_list')).users.map((u: { username: string; status: { status: string } }) => [u.username, u.status.status])
  expect(members).toEqual([
    ['USR:local_watcher', 'online'],
    ['USR:local_newbie', 'online'],
  ])
  expect((await client.next('users_online')).users.map((u: { nickname: string }) => u.nickname).sort()).toEqual(['newbie', 'watcher'])
  if (caps.includes('roles_list')) expect(Object.keys((await client.next('roles_list')).roles)).toContain('user')
  // After ready the client asks for a status only if the server has status_set.
  if (caps.includes('status_set')) {
    client.send({ cmd: 'status_set', status: 'online', text: 'hi all' })
    expect(await watcher.next('status_get')).toMatchObject({ username: 'USR:local_newbie', status: { status: 'online', text: 'hi all' } })
  }

  client.send({ cmd: 'messages_get', channel: 'general' })
  expect((await client.next('messages_get')).messages).toEqual([])

  client.send({ cmd: 'message_new', channel: 'general', content: 'hello @watcher' })
  const sent = (await client.next('message_new')).message
  const seen = await watcher.next('message_new')
  expect(seen.message).toEqual(sent)
  expect(sent.pings.users).toEqual(['USR:local_watcher'])

  watcher.send({ cmd: 'message_new', channel: 'general', content: 'welcome!', reply_to: sent.id })
  const reply = (await client.next('message_new')).message
  expect(reply.reply_to).toEqual({ id: sent.id, user: 'USR:local_newbie' })
  expect(reply.pings.replies).toEqual(['USR:local_newbie'])

  client.send({ cmd: 'message_edit', id: sent.id, channel: 'general', content: 'hello everyone' })
  expect((await watcher.next('message_edit')).message).toMatchObject({ id: sent.id, content: 'hello everyone', edited: true })
  client.send({ cmd: 'message_react_add', id: reply.id, channel: 'general', emoji: '👋' })
  expect(await watcher.next('message_react_add')).toEqual({
    cmd: 'message_react_add', id: reply.id, emoji: '👋', channel: 'general', from: 'USR:local_newbie', global: true,
  })
  client.send({ cmd: 'message_delete', id: sent.id, channel: 'general' })
  expect(await watcher.next('message_delete')).toEqual({ cmd: 'message_delete', id: sent.id, channel: 'general', global: true })
  client.send({ cmd: 'typing', channel: 'general' })
  expect((await watcher.next('typing')).user).toBe('USR:local_newbie')

  // Reload the page: log in again with the saved credentials and find everything as it was.
  await client.close()
  expect(await watcher.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'USR:local_newbie' })
  await server.restart()
  const back = await server.connect()
  back.send({ cmd: 'login', username: 'newbie', password: 'hunter22' })
  await back.next('ready')
  back.send({ cmd: 'messages_get', channel: 'general' })
  const history = (await back.next('messages_get')).messages
  expect(history.map((m: { content: string; reactions?: unknown }) => [m.content, m.reactions])).toEqual([['welcome!', { '👋': ['USR:local_newbie'] }]])
})
