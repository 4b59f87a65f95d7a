import { expect, test } from 'bun:test'
import { startServer } from '../helpers/server.ts'

const err = (val: string) => ({ cmd: 'error', src: 'password_change', val })

test.concurrent('a local account changes its own password; the old one stops working, the new one signs in', async () => {
  await using server = await startServer()
  const alice = await server.register('alice', 'first-password')
  expect(alice.handshake.val.capabilities).toContain('password_change')
  expect(await alice.request({ cmd: 'password_change', current_password: 'first-password', new_password: 'second-password' })).toEqual({
    cmd: 'password_change',
    changed: true,
  })
  const again = await server.connect()
  again.send({ cmd: 'login', username: 'alice', password: 'first-password' })
  expect((await again.next('auth_error')).val).toBe('Invalid password')
  again.send({ cmd: 'login', username: 'alice', password: 'second-password' })
  expect((await again.next('ready')).user.nickname).toBe('alice')
  const { entries } = await server.app.store.modlog.list({ limit: 5, offset: 0, action: 'password_change' })
  expect(entries).toEqual([expect.objectContaining({ actor_id: 'USR:local_alice', target_id: 'USR:local_alice', category: 'user_moderation' })])
})

test.concurrent('bad input, wrong passwords and Rotur accounts are refused', async () => {
  await using server = await startServer({ security: { auth_failures_per_minute: 2 } })
  const alice = await server.register('alice', 'first-password')
  expect(await alice.error({ cmd: 'password_change', new_password: 'whatever-1' })).toEqual(err('Current and new password required'))
  expect(await alice.error({ cmd: 'password_change', current_password: 'first-password', new_password: 5 })).toEqual(err('Current and new password required'))
  expect(await alice.error({ cmd: 'password_change', current_password: 'first-password', new_password: 'short' })).toEqual(err('Password must be 8-72 characters'))
  expect(await alice.error({ cmd: 'password_change', current_password: 'guess-one', new_password: 'whatever-1' })).toEqual(err('Invalid password'))
  expect(await alice.error({ cmd: 'password_change', current_password: 'guess-two', new_password: 'whatever-1' })).toEqual(err('Invalid password'))
  // Guessing is throttled like logins: even the right password waits now.
  expect((await alice.error({ cmd: 'password_change', current_password: 'first-password', new_password: 'whatever-1' })).val).toStartWith('Too many attempts')
  const rotur = await server.login('bob')
  expect(await rotur.error({ cmd: 'password_change', current_password: 'x', new_password: 'whatever-1' })).toEqual(
    err('Only local accounts have a password here; Rotur accounts change it on Rotur'),
  )
})
