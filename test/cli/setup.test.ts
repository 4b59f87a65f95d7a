import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary } from '../../build.ts'
import shippedConfig from '../../config.json'
import { createSqliteStore, DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import { openDatabase } from '../../src/store/sqlite/open.ts'
import { TestClient } from '../helpers/client.ts'
import { authenticate, killAll, run, ServerProcess, type Finished } from '../helpers/process.ts'
import { startFakeRotur } from '../helpers/rotur.ts'

/** The compiled binary, built once for this file into a temporary folder. */
let binary = ''
let dir = ''

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'originchats-setup-'))
  binary = await buildBinary(join(dir, 'originchats'))
})

afterAll(async () => {
  await killAll()
  await rm(dir, { recursive: true, force: true })
})

const tempDir = (name: string) => mkdtemp(join(dir, `${name}-`))

/** Runs `originchats setup …` in `cwd`, typing `lines` into its stdin (a pipe, as in a script). */
async function setup(cwd: string, args: string[], lines: string[] = []): Promise<Finished> {
  const proc = Bun.spawn([binary, 'setup', ...args], {
    cwd,
    stdin: new Blob(lines.map((line) => `${line}\n`)),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, stdout, stderr }
}

/** The shipped config.json with `changes` merged in: setup keeps every key it does not ask about. */
function shippedWith(changes: Record<string, Record<string, unknown> | string>): Record<string, unknown> {
  const config: Record<string, any> = structuredClone(shippedConfig)
  for (const [key, value] of Object.entries(changes)) {
    config[key] = typeof value === 'string' ? value : { ...config[key], ...value }
  }
  return config
}

test.concurrent('answering the prompts writes config.json and the database; serve runs on them', async () => {
  await using rotur = Object.assign(startFakeRotur(), { [Symbol.asyncDispose]: () => rotur.stop() })
  const folder = await tempDir('prompts')
  const result = await setup(folder, [], [
    'Piped Place', // server name
    'https://example.com/icon.png', // icon
    '', // public URL: none
    'cracked', // auth mode
    '', // owner: there is no default, asked again
    'USR:local_boss', // a local account ID cannot be the Rotur owner: asked again
    'boss', // owner
    'off', // registration
    rotur.url, // Rotur validate URL
    '', // host: default
    '70000', // not a port: asked again
    '0', // any free port, so the test can serve on it
    '500', // maximum message length
    '', // search results: default
    '.PNG, gif', // emoji extensions, normalized
    'off', // rate limiting
    'store', // data folder
    '', // no TLS
  ])
  expect(result).toMatchObject({ code: 0, stderr: '' })
  // Piped answers are echoed after their prompt; the bad port is refused and asked again.
  expect(result.stdout).toContain('Port [5613]: 70000\n  not a port number (0-65535): 70000\nPort [5613]: 0\n')
  expect(result.stdout).toContain('  rotur         people sign in with their Rotur account only\n')
  // The auth mode comes first, so the owner question knows which names can sign in.
  expect(result.stdout).toContain(
    'Auth mode [cracked]: cracked\n' +
      'The owner is a Rotur account: whoever signs in with Rotur as this user gets the owner role (a local account of the same name does not).\n' +
      'Owner username: \n  there is no default owner\n' +
      'Owner username: USR:local_boss\n  in cracked mode the owner is a Rotur account: USR:local_boss is a local account ID, not a Rotur username\n' +
      'Owner username: boss\n',
  )
  expect(result.stdout).toContain('Owner: whoever signs in with the Rotur account "boss" gets the owner role (a local account named boss does not).\n')
  // The binary lives outside the folder, so the command names it by its absolute path.
  expect(result.stdout).toEndWith(`Start the server with:\n  ${binary} serve\n`)

  const text = await Bun.file(join(folder, 'config.json')).text()
  expect(text).toStartWith('{\n    "limits": {\n        "post_content": 500,\n')
  expect(JSON.parse(text)).toEqual(
    shippedWith({
      limits: { post_content: 500, search_results: 30 },
      uploads: { emoji_allowed_file_types: ['png', 'gif'] },
      rate_limiting: { enabled: false },
      websocket: { host: '127.0.0.1', port: 0 },
      server: { name: 'Piped Place', owner: { name: 'boss' }, icon: 'https://example.com/icon.png' },
      auth_mode: 'cracked',
      cracked: { allow_registration: false },
      rotur: { validate_url: rotur.url },
      storage: { data_dir: 'store' },
    }),
  )
  expect(existsSync(join(folder, 'store', DATABASE_FILE))).toBe(true)

  await using server = await ServerProcess.start([binary, 'serve'], folder)
  expect(server.dataDir).toBe(join(folder, 'store'))
  await using client = await TestClient.connect(server.url)
  expect(client.handshake.val).toMatchObject({
    server: { name: 'Piped Place', owner: { name: 'boss' }, icon: 'https://example.com/icon.png' },
    limits: { post_content: 500 },
    auth_mode: 'cracked',
  })
  // The configured Rotur answers, the owner name grants the role, and migrations made #general.
  const ready = await authenticate(client, { cmd: 'auth', validator: rotur.issue('boss', client.handshake.val.validator_key) })
  expect(ready.user.roles).toEqual(['owner', 'user'])
  expect((await client.request({ cmd: 'channels_get' })).val.map((c: { name: string }) => c.name)).toEqual(['general'])
})

test.concurrent('--yes takes every answer from flags and rewrites config.json without asking, keeping its other keys', async () => {
  const folder = await tempDir('flags')
  await mkdir(join(folder, 'conf'))
  await Bun.write(join(folder, 'conf', 'server.json'), '{"old": true}')
  // A self-signed EC pair made now: setup checks the files are readable and belong together.
  const tls = Bun.spawnSync(
    ['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=localhost',
      '-keyout', 'key.pem', '-out', 'cert.pem'],
    { cwd: folder, stdout: 'ignore', stderr: 'pipe' },
  )
  expect(tls.exitCode).toBe(0)
  const flags = [
    '--yes', '--config', 'conf/server.json', '--name', 'Flag Town', '--icon', 'https://example.com/i.png',
    '--url', 'wss://chat.example.com', '--owner', 'alice', '--auth-mode', 'cracked-only', '--registration', 'on',
    '--rotur-url', 'http://127.0.0.1:9/validate', '--host', '0.0.0.0', '--port', '6000', '--max-length', '1234',
    '--search-results', '50', '--emoji-types', 'webp,GIF', '--rate-limit', 'on', '--data', 'chat-data',
    '--tls-cert', 'cert.pem', '--tls-key', 'key.pem',
  ]
  // stdin stays empty: --yes must not wait for answers.
  const result = await setup(folder, flags)
  expect(result).toMatchObject({ code: 0, stderr: '' })
  expect(result.stdout).not.toContain('[')
  expect(result.stdout).toEndWith(`Start the server with:\n  ${binary} serve --config conf/server.json\n`)
  // --yes asks nothing, so the owner's local account is not made: setup says how to make it.
  expect(result.stdout).toContain(
    `Owner: whoever logs in to the local account "alice" gets the owner role. Create it before you open the server,\n  so nobody else can register the name first: ${binary} user add alice --config conf/server.json\n`,
  )
  // The existing file is the starting point: its own keys stay, the answers are set in it.
  expect(await Bun.file(join(folder, 'conf', 'server.json')).json()).toEqual({
    old: true,
    limits: { post_content: 1234, search_results: 50 },
    uploads: { emoji_allowed_file_types: ['webp', 'gif'] },
    rate_limiting: { enabled: true },
    websocket: { host: '0.0.0.0', port: 6000 },
    server: { name: 'Flag Town', owner: { name: 'alice' }, icon: 'https://example.com/i.png', url: 'wss://chat.example.com' },
    auth_mode: 'cracked-only',
    cracked: { allow_registration: true },
    rotur: { validate_url: 'http://127.0.0.1:9/validate' },
    storage: { data_dir: 'chat-data' },
    // Written absolute, so they hold wherever serve is started from.
    tls: { cert: join(folder, 'cert.pem'), key: join(folder, 'key.pem') },
  })
  const [backup] = (await readdir(join(folder, 'conf'))).filter((name) => name.endsWith('.bak'))
  expect(backup).toMatch(/^server\.json\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z\.bak$/)
  expect(await Bun.file(join(folder, 'conf', backup!)).text()).toBe('{"old": true}')
  expect(result.stdout).toContain(`The previous file is kept as ${join(folder, 'conf', backup!)}\n`)
  // The data folder is relative to the config file, as storage.data_dir is when serving.
  expect(existsSync(join(folder, 'conf', 'chat-data', DATABASE_FILE))).toBe(true)
})

test.concurrent('answering no keeps an existing config.json and creates nothing', async () => {
  const folder = await tempDir('keep')
  await Bun.write(join(folder, 'config.json'), '{"mine": true}\n')
  const result = await setup(folder, ['--name', 'Not Written'], ['no', 'ignored'])
  expect(result).toEqual({
    code: 0,
    stdout: `${join(folder, 'config.json')} already exists. Overwrite it? (yes/no) [no]: no\nSetup cancelled; ${join(folder, 'config.json')} is unchanged.\n`,
    stderr: '',
  })
  expect(await Bun.file(join(folder, 'config.json')).text()).toBe('{"mine": true}\n')
  expect(existsSync(join(folder, 'data'))).toBe(false)
})

test.concurrent.each([
  [['--port', '65536'], '--port: not a port number (0-65535): 65536'],
  [['--auth-mode', 'sometimes'], '--auth-mode: unknown auth mode "sometimes"; choose rotur, cracked or cracked-only'],
  [['--rate-limit', 'maybe'], '--rate-limit: answer on or off, not "maybe"'],
  [['--max-length', '0'], '--max-length: not a whole number of at least 1: 0'],
  [['--tls-cert', 'missing.pem', '--tls-key', 'missing.pem'], '--tls-cert: cannot read {folder}/missing.pem (ENOENT)'],
  [['--tls-key', 'key.pem'], '--tls-key: give --tls-cert as well'],
  [['--name', 'No Owner'], '--owner is required with --yes (there is no default owner)'],
  [['--owner', 'two words'], '--owner: a Rotur username has no spaces'],
  [['--auth-mode', 'rotur', '--owner', 'usr:LOCAL_bob'], '--owner: in rotur mode the owner is a Rotur account: usr:LOCAL_bob is a local account ID, not a Rotur username'],
  [['--auth-mode', 'cracked', '--owner', 'x'.repeat(65)], `--owner: in cracked mode the owner is a Rotur account: a Rotur username is at most 64 characters`],
  [['--auth-mode', 'cracked-only', '--owner', 'a'], '--owner: in cracked-only mode the owner is a local account: Username must be 2-32 characters'],
  [['--auth-mode', 'cracked-only', '--owner', 'bob.smith'], '--owner: in cracked-only mode the owner is a local account: Username can only contain letters, numbers, hyphens, and underscores'],
])('setup --yes %p fails before writing anything', async (args, message) => {
  const folder = await tempDir('invalid')
  const result = await run([binary, 'setup', '--yes', ...args], folder)
  expect(result).toEqual({ code: 1, stdout: '', stderr: `setup: ${message.replace('{folder}', folder)}\n` })
  expect(existsSync(join(folder, 'config.json'))).toBe(false)
})

test.concurrent('a certificate and key that do not belong together are refused', async () => {
  const folder = await tempDir('mismatch')
  await Bun.write(join(folder, 'fake.pem'), '-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n')
  const result = await run([binary, 'setup', '--yes', '--tls-cert', 'fake.pem', '--tls-key', 'fake.pem'], folder)
  expect(result.code).toBe(1)
  expect(result.stderr).toStartWith(`setup: --tls-key: ${join(folder, 'fake.pem')} and ${join(folder, 'fake.pem')} are not a matching certificate and key (`)
  expect(existsSync(join(folder, 'config.json'))).toBe(false)
})

test.concurrent('in cracked-only mode setup makes the owner\'s local account with a password typed twice (not echoed)', async () => {
  const folder = await tempDir('owner-account')
  const answers = ['Local Place', '', '', 'cracked-only', 'Boss', 'on', '', '0', '', '', '', 'off', 'data', '']
  const result = await setup(folder, [], [...answers, 'short', 'long-enough-1', 'long-enough-2', 'long-enough-1', 'long-enough-1'])
  expect(result).toMatchObject({ code: 0, stderr: '' })
  expect(result.stdout).toContain(
    'Password for the owner\'s local account "Boss" (8-72 characters, not shown): \n  the password must be 8-72 characters\n' +
      'Password for the owner\'s local account "Boss" (8-72 characters, not shown): \nRepeat the password: \n  the two passwords differ; try again\n',
  )
  expect(result.stdout).not.toContain('long-enough')
  expect(result.stdout).toContain('Created the local account "Boss" with the password you chose.\n')
  const store = createSqliteStore(join(folder, 'data', DATABASE_FILE))
  const owner = await store.users.get('USR:local_boss')
  store.close()
  expect(owner).toMatchObject({ username: 'USR:local_boss', nickname: 'boss', roles: ['owner', 'user'], config_owner: true })
  expect(await Bun.password.verify('long-enough-1', owner!.password_hash!)).toBe(true)
  // Run again: the account exists, so no password is asked.
  const again = await setup(folder, [], ['yes', ...answers])
  expect(again).toMatchObject({ code: 0, stderr: '' })
  expect(again.stdout).not.toContain('Password for')
})

test.concurrent('end of input (Ctrl-D) at any prompt cancels: exit 1, nothing written', async () => {
  const folder = await tempDir('eof')
  // Input ends at the owner question, which has no default to fall back on.
  const result = await setup(folder, [], ['Half Done', '', '', 'rotur'])
  expect(result).toMatchObject({ code: 1, stderr: 'Setup cancelled; nothing was written.\n' })
  expect(result.stdout).toEndWith('Owner username: \n')
  expect(await readdir(folder)).toEqual([])

  // At the overwrite confirmation as well: the existing file stays as it is.
  await Bun.write(join(folder, 'config.json'), '{"mine": true}\n')
  expect(await setup(folder, [])).toMatchObject({ code: 1, stderr: 'Setup cancelled; nothing was written.\n' })
  expect(await readdir(folder)).toEqual(['config.json'])
  expect(await Bun.file(join(folder, 'config.json')).text()).toBe('{"mine": true}\n')
})

test.concurrent('re-running setup starts from the existing file: its values in brackets, every key kept, the old file backed up', async () => {
  const folder = await tempDir('rerun')
  const before = {
    server: { name: 'Old Name', owner: { name: 'carol' }, banner: 'https://example.com/b.png', url: 'wss://old.example.com' },
    auth_mode: 'rotur',
    limits: { post_content: 999 },
    websocket: { port: 0 },
    plugins: { builtin: { welcome: { enabled: true, message: 'hand-edited hello' } } },
    my_own_key: { keep: ['me'] },
  }
  const original = `${JSON.stringify(before, null, 2)}\n`
  await Bun.write(join(folder, 'config.json'), original)
  const result = await setup(folder, [], [
    'yes', // overwrite
    '', // server name: kept
    '', // icon: none
    '-', // public URL: removed
    '', // auth mode: kept
    '', // owner: kept
    '', '', '', '', '', '', '', '', '', // the rest as they are
  ])
  expect(result).toMatchObject({ code: 0, stderr: '' })
  expect(result.stdout).toContain('Press Enter to keep the value in [brackets]; type - to remove an optional one.\n')
  expect(result.stdout).toContain('Server name [Old Name]: \n')
  expect(result.stdout).toContain('Public URL of this server (optional, e.g. wss://chat.example.com) [wss://old.example.com]: -\n')
  expect(result.stdout).toContain('Auth mode [rotur]: \n')
  expect(result.stdout).toContain('Owner username [carol]: \n')
  expect(result.stdout).toContain('Maximum message length (characters) [999]: \n')
  expect(result.stdout).toContain('Owner: whoever signs in with the Rotur account "carol" gets the owner role.\n')

  const after = await Bun.file(join(folder, 'config.json')).json()
  const { url: _removed, ...server } = before.server
  expect(after).toEqual({
    ...before,
    server,
    limits: { post_content: 999, search_results: 30 },
    websocket: { host: '127.0.0.1', port: 0 },
    cracked: { allow_registration: true },
    rotur: { validate_url: 'https://api.rotur.dev/validate' },
    uploads: { emoji_allowed_file_types: ['gif', 'jpg', 'jpeg', 'png'] },
    // Absent before, so the server ran on the schema's default (off); setup keeps what was in force.
    rate_limiting: { enabled: false },
    storage: { data_dir: 'data' },
  })
  const [backup] = (await readdir(folder)).filter((name) => name.endsWith('.bak'))
  expect(await Bun.file(join(folder, backup!)).text()).toBe(original)

  // --yes keeps the current values too, the owner included; only the flags change anything.
  expect(await setup(folder, ['--yes', '--port', '7000'])).toMatchObject({ code: 0, stderr: '' })
  expect(await Bun.file(join(folder, 'config.json')).json()).toEqual({ ...after, websocket: { host: '127.0.0.1', port: 7000 } })
})

test.concurrent('setup refuses a database from a newer binary before touching config.json', async () => {
  const folder = await tempDir('newer')
  const data = join(folder, 'data')
  const store = createSqliteStore(join(data, DATABASE_FILE))
  store.close()
  const db = openDatabase(join(data, DATABASE_FILE))
  db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, ?, 0)', ['future'])
  db.run('PRAGMA wal_checkpoint(TRUNCATE)')
  db.close()
  await Bun.write(join(folder, 'config.json'), '{"mine": true}\n')
  const result = await run([binary, 'setup', '--yes', '--owner', 'alice'], folder)
  expect(result.code).toBe(1)
  expect(result.stderr).toStartWith(`setup: ${join(data, DATABASE_FILE)} has database schema version 999, but this originchats knows versions up to `)
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1)
  expect(await Bun.file(join(folder, 'config.json')).text()).toBe('{"mine": true}\n')
  expect((await readdir(folder)).filter((name) => name.endsWith('.bak'))).toEqual([])
})
