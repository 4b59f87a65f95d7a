import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary } from '../../build.ts'
import shippedConfig from '../../config.json'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
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
    'boss', // owner
    'cracked', // auth mode
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

test.concurrent('--yes takes every answer from flags and overwrites without asking', async () => {
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
  expect(await Bun.file(join(folder, 'conf', 'server.json')).json()).toEqual({
    ...shippedWith({
      limits: { post_content: 1234, search_results: 50 },
      uploads: { emoji_allowed_file_types: ['webp', 'gif'] },
      rate_limiting: { enabled: true },
      websocket: { host: '0.0.0.0', port: 6000 },
      server: { name: 'Flag Town', owner: { name: 'alice' }, icon: 'https://example.com/i.png', url: 'wss://chat.example.com' },
      auth_mode: 'cracked-only',
      cracked: { allow_registration: true },
      rotur: { validate_url: 'http://127.0.0.1:9/validate' },
      storage: { data_dir: 'chat-data' },
    }),
    // Written absolute, so they hold wherever serve is started from.
    tls: { cert: join(folder, 'cert.pem'), key: join(folder, 'key.pem') },
  })
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
