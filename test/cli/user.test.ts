import { afterAll, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DATABASE_FILE, createSqliteStore } from '../../src/store/sqlite/index.ts'
import { ROOT, type Finished } from '../helpers/process.ts'
import { startServer } from '../helpers/server.ts'

const root = await mkdtemp(join(tmpdir(), 'originchats-user-cli-'))
afterAll(() => rm(root, { recursive: true, force: true }))

/** Runs `originchats user …` from an empty folder (so the built-in config applies), with `input` on stdin. */
async function user(dataDir: string, args: string[], input = ''): Promise<Finished> {
  const proc = Bun.spawn(['bun', join(ROOT, 'src', 'cli.ts'), 'user', ...args, '--data', dataDir], {
    cwd: root,
    stdin: new Blob([input]),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

/** A data folder holding a database with a local account (alice) and a Rotur account (Bob). */
async function dataFolder(): Promise<string> {
  const dir = await mkdtemp(join(root, 'data-'))
  const store = createSqliteStore(join(dir, DATABASE_FILE))
  const status = { status: 'online', text: '' }
  const password_hash = await Bun.password.hash('old-password')
  await store.users.insert({ id: 'USR:local_alice', username: 'USR:local_alice', nickname: 'alice', roles: ['user'], status, password_hash, extra: {} })
  await store.users.insert({ id: 'rotur-bob', username: 'Bob', roles: ['user'], status, extra: {} })
  store.close()
  return dir
}

const stored = async (dir: string, id: string) => {
  const store = createSqliteStore(join(dir, DATABASE_FILE))
  try {
    return await store.users.get(id)
  } finally {
    store.close()
  }
}

test.concurrent('with no server running, changes go straight to the database and into the modlog', async () => {
  const dir = await dataFolder()
  expect(await user(dir, ['list'])).toEqual({ code: 0, stderr: '', stdout: 'NAME   ACCOUNT  ROLES\nalice  local    user\nBob    rotur    user\n' })
  expect((await user(dir, ['roles', 'alice', 'add', 'moderator'])).stdout).toBe('alice: user, moderator\n')
  expect((await user(dir, ['roles', 'bob', 'add', 'owner'])).stdout).toBe('Bob: owner, user\n')
  expect((await user(dir, ['roles', 'alice', 'remove', 'moderator'])).stdout).toBe('alice: user\n')
  expect((await user(dir, ['ban', 'alice'])).stdout).toBe('banned alice\n')
  expect((await user(dir, ['ban', 'USR:local_alice'])).stdout).toBe('alice is already banned; nothing changed\n')
  expect((await stored(dir, 'USR:local_alice'))?.roles).toEqual(['banned', 'user'])
  expect((await user(dir, ['unban', 'alice'])).stdout).toBe('unbanned alice\n')
  expect((await user(dir, ['password', 'alice'], 'new-password\n'))).toEqual({ code: 0, stderr: '', stdout: 'password of alice changed\n' })
  const alice = await stored(dir, 'USR:local_alice')
  expect(alice?.roles).toEqual(['user'])
  expect(await Bun.password.verify('new-password', alice!.password_hash!)).toBe(true)

  const store = createSqliteStore(join(dir, DATABASE_FILE))
  const { entries } = await store.modlog.list({ limit: 10, offset: 0 })
  store.close()
  expect(entries.map((entry) => [entry.action, entry.actor_id, entry.target_name])).toEqual([
    ['password_change', 'originchats-cli', 'USR:local_alice'],
    ['user_unban', 'originchats-cli', 'USR:local_alice'],
    ['user_ban', 'originchats-cli', 'USR:local_alice'],
    ['user_roles_set', 'originchats-cli', 'USR:local_alice'],
    ['user_roles_set', 'originchats-cli', 'Bob'],
    ['user_roles_set', 'originchats-cli', 'USR:local_alice'],
  ])
})

test.concurrent('refusals and usage errors exit non-zero with one line', async () => {
  const dir = await dataFolder()
  expect(await user(dir, ['ban', 'nobody'])).toEqual({ code: 1, stdout: '', stderr: 'originchats: no user "nobody"\n' })
  expect((await user(dir, ['roles', 'alice', 'add', 'ghost'])).stderr).toStartWith('originchats: no role "ghost" (roles: owner, admin, moderator, user)')
  expect((await user(dir, ['roles', 'alice', 'add', 'banned'])).stderr).toBe("originchats: use 'originchats user ban' to change the banned role\n")
  expect((await user(dir, ['roles', 'alice', 'remove', 'user'])).stderr).toBe('originchats: alice would have no role left; add another one first\n')
  expect((await user(dir, ['password', 'bob'], 'whatever-password\n')).stderr).toBe('originchats: Bob signs in with Rotur; its password is managed there\n')
  expect((await user(dir, ['password', 'alice'], 'short\n')).stderr).toBe('originchats: the password must be 8-72 characters\n')
  expect((await user(dir, ['password', 'alice'])).stderr).toBe('originchats: no password given; nothing changed\n')
  const usage = await user(dir, ['roles', 'alice', 'grant', 'x'])
  expect(usage.code).toBe(1)
  expect(usage.stderr).toStartWith('usage: originchats user list')
  expect((await user(join(root, 'nowhere'), ['list'])).stderr).toStartWith('originchats: no database at ')
})

test.concurrent('while the server runs, changes go through it and reach live sessions at once', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  await server.addChannel({ name: 'mods', type: 'text', permissions: { view: ['moderator'], send: ['moderator'] } })

  expect((await user(server.dir, ['list'])).stdout).toBe('NAME   ACCOUNT  ROLES\nalice  rotur    user   online\nbob    rotur    user   online\n')
  expect((await user(server.dir, ['roles', 'bob', 'add', 'moderator'])).stdout).toBe('bob: user, moderator\n')
  // Bob's sockets were resubscribed and told: the channel he may now see is in his new list.
  const pushed = await bob.next('channels_get', (p) => p.val.some((channel: { name: string }) => channel.name === 'mods'))
  expect(pushed.val.map((channel: { name: string }) => channel.name)).toEqual(['general', 'mods'])
  expect(await alice.next('user_roles_get')).toMatchObject({ user: 'bob', roles: ['user', 'moderator'] })

  expect((await user(server.dir, ['ban', 'alice'])).stdout).toBe('banned alice\n')
  expect(await alice.next('disconnect')).toEqual({ cmd: 'disconnect', reason: 'You have been banned from this server' })
  await alice.closed
  expect((await server.app.store.users.get('rotur-alice'))?.roles).toEqual(['banned', 'user'])
  const { entries } = await server.app.store.modlog.list({ limit: 5, offset: 0 })
  expect(entries.map((entry) => [entry.action, entry.actor_name])).toEqual([
    ['user_ban', 'originchats CLI'],
    ['user_roles_set', 'originchats CLI'],
  ])
})

test.concurrent('user add makes a local account with the password from standard input, under the registration rules', async () => {
  const dir = await dataFolder()
  expect(await user(dir, ['add', 'Carol'], 'carols-password\n')).toEqual({
    code: 0,
    stderr: '',
    stdout: 'created the local account carol (roles: user); it signs in with login\n',
  })
  const carol = await stored(dir, 'USR:local_carol')
  expect(carol).toMatchObject({ username: 'USR:local_carol', nickname: 'carol', roles: ['user'] })
  expect(await Bun.password.verify('carols-password', carol!.password_hash!)).toBe(true)
  expect((await user(dir, ['add', 'carol'], 'another-password\n')).stderr).toBe('originchats: the name "carol" is taken (or too close to one in use)\n')
  expect((await user(dir, ['add', 'b0b'], 'another-password\n')).stderr).toBe('originchats: the name "b0b" is taken (or too close to one in use)\n')
  expect((await user(dir, ['add', 'dave'], 'short\n')).stderr).toBe('originchats: Password must be 8-72 characters\n')
  expect((await user(dir, ['add', 'd!ve'], 'long-enough\n')).stderr).toBe('originchats: Username can only contain letters, numbers, hyphens, and underscores\n')
})

test.concurrent('user add also works before the first start: it creates the database', async () => {
  const dir = join(await mkdtemp(join(root, 'fresh-')), 'data')
  expect((await user(dir, ['list'])).stderr).toStartWith('originchats: no database at ')
  expect((await user(dir, ['add', 'first'], 'first-password\n')).stdout).toBe('created the local account first (roles: user); it signs in with login\n')
  expect((await user(dir, ['list'])).stdout).toBe('NAME   ACCOUNT  ROLES\nfirst  local    user\n')
})
