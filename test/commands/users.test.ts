import { expect, test } from 'bun:test'
import { startServer, type TestServer } from '../helpers/server.ts'

const setStatus = async (server: TestServer, username: string, status: { status: string; text: string }) => {
  const user = await server.app.store.users.getByUsername(username)
  await server.app.store.users.update(user!.id, { status })
}

test.concurrent('users_list shows every user but banned ones, with offline status for users without a connection', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  await server.login('mallory')
  await server.setRoles('mallory', ['banned', 'user'])
  await setStatus(server, 'alice', { status: 'dnd', text: 'focusing' })
  await setStatus(server, 'bob', { status: 'idle', text: 'out for lunch' })
  await bob.close()
  await owner.next('user_disconnect', (p) => p.username === 'bob')
  const dave = await server.register('dave')

  const reply = await alice.request({ cmd: 'users_list' })
  expect(reply).toEqual({
    cmd: 'users_list',
    users: [
      { username: 'owner', nickname: null, roles: ['owner', 'user'], color: '#9400D3', status: { status: 'online', text: '' }, cracked: false, pfp: null },
      { username: 'alice', nickname: null, roles: ['user'], color: null, status: { status: 'dnd', text: 'focusing' }, cracked: false, pfp: null },
      { username: 'bob', nickname: null, roles: ['user'], color: null, status: { status: 'offline', text: 'out for lunch' }, cracked: false, pfp: null },
      { username: dave.ready.user.username, nickname: 'dave', roles: ['user'], color: null, status: { status: 'online', text: '' }, cracked: true, pfp: null },
    ],
  })
  expect(dave.ready.user.username).toBe('USR:local_dave')
})

test.concurrent('users_list reports an online invisible user as offline', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  await server.login('ghost')
  await setStatus(server, 'ghost', { status: 'invisible', text: 'shh' })
  const { users } = await alice.request({ cmd: 'users_list' })
  expect(users.find((u: { username: string }) => u.username === 'ghost').status).toEqual({ status: 'offline', text: 'shh' })
})

test.concurrent('users_online lists each online user once, and drops them when their last connection closes', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const alice1 = await server.login('alice')
  const alice2 = await server.login('alice')
  await server.login('ghost')
  await setStatus(server, 'ghost', { status: 'invisible', text: '' })

  expect(await owner.request({ cmd: 'users_online' })).toEqual({
    cmd: 'users_online',
    users: [
      { username: 'owner', nickname: null, roles: ['owner', 'user'], color: '#9400D3', status: { status: 'online', text: '' } },
      { username: 'alice', nickname: null, roles: ['user'], color: null, status: { status: 'online', text: '' } },
    ],
  })

  await alice1.close()
  await alice2.close()
  // Presence is per user: one user_disconnect, sent once the last connection is gone.
  await owner.next('user_disconnect', (p) => p.username === 'alice')
  await owner.expectNone('user_disconnect')
  const { users } = await owner.request({ cmd: 'users_online' })
  expect(users.map((u: { username: string }) => u.username)).toEqual(['owner'])
})

test.concurrent('users_list and users_online need authentication', async () => {
  await using server = await startServer()
  const guest = await server.connect()
  expect(await guest.request({ cmd: 'users_list' }, 'auth_error')).toEqual({ cmd: 'auth_error', val: 'Authentication required' })
  expect(await guest.request({ cmd: 'users_online' }, 'auth_error')).toEqual({ cmd: 'auth_error', val: 'Authentication required' })
})
