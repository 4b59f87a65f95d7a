import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary } from '../build.ts'
import pkg from '../package.json'
import { DATABASE_FILE } from '../src/store/sqlite/index.ts'
import { png } from './helpers/attachments.ts'
import { TestClient } from './helpers/client.ts'
import { authenticate, killAll, run, ServerProcess } from './helpers/process.ts'

/** The compiled single binary, built once into a temporary folder (dist/ is never used). */
let binary = ''
let dir = ''

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'originchats-cli-'))
  binary = await buildBinary(join(dir, 'originchats'))
})

afterAll(async () => {
  await killAll()
  await rm(dir, { recursive: true, force: true })
})

async function tempDir(name: string): Promise<string> {
  return mkdtemp(join(dir, `${name}-`))
}

async function writeConfig(folder: string, config: unknown): Promise<string> {
  const path = join(folder, 'config.json')
  await Bun.write(path, JSON.stringify(config))
  return path
}

const QUIET_CONFIG = {
  websocket: { host: '127.0.0.1', port: 0 },
  auth_mode: 'cracked',
  server: { owner: { name: '' } },
  logging: { level: 'warn' },
  plugins: { builtin: { welcome: { enabled: false } } },
}

test.concurrent('`version` and --version print the package version', async () => {
  for (const args of [['version'], ['--version'], ['serve', '-v']]) {
    expect(await run([binary, ...args])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' })
  }
})

test.concurrent('--help explains serve and exits 0', async () => {
  const result = await run([binary, '--help'])
  expect(result.code).toBe(0)
  expect(result.stdout).toContain('originchats serve [--config FILE] [--data DIR] [--port N]')
})

test.concurrent('unknown commands and options, and missing values, fail with one line on stderr', async () => {
  const failures: Record<string, string> = {
    frobnicate: "unknown command 'frobnicate' (see 'originchats --help')",
    sever: "unknown command 'sever'; did you mean 'serve'?",
    'serve --foo': "unknown option '--foo' for 'serve' (see 'originchats --help')",
    'serve --conifg x.json': "unknown option '--conifg' for 'serve'; did you mean '--config'?",
    '--foo': "unknown option '--foo' (see 'originchats --help')",
    'serve --config': "option '--config' needs a value (see 'originchats --help')",
    'backup --data --config c.json copy.db': "option '--data' needs a value (see 'originchats --help')",
    'setup --yes=no': "option '--yes' takes no value (see 'originchats --help')",
  }
  for (const [args, message] of Object.entries(failures)) {
    expect({ args, ...(await run([binary, ...args.split(' ')])) }).toEqual({ args, code: 1, stdout: '', stderr: `originchats: ${message}\n` })
  }
})

test.concurrent('serve refuses an invalid config.json and names every bad key', async () => {
  const folder = await tempDir('invalid')
  await writeConfig(folder, { websocket: { port: 'x' }, auth_mode: 'nope' })
  const result = await run([binary, 'serve', '--data', join(folder, 'data')], folder)
  expect(result.code).not.toBe(0)
  expect(result.stderr).toContain('/websocket/port')
  expect(result.stderr).toContain('/auth_mode')
  expect(result.stdout).not.toContain('serving on')
})

test.concurrent('without config.json the binary runs on the built-in default configuration', async () => {
  const folder = await tempDir('empty')
  const data = join(folder, 'data')
  await using server = await ServerProcess.start([binary, 'serve', '--port', '0', '--data', data], folder)
  expect(server.lines[0]).toMatch(
    new RegExp(`^\\S+ INFO  config: built-in default configuration \\(no ${join(folder, 'config.json')}\\); auth mode: cracked; no owner configured$`),
  )
  expect(server.version).toBe(pkg.version)
  expect(server.dataDir).toBe(data)
  await using client = await TestClient.connect(server.url)
  // The shipped config.json is what the binary falls back to.
  expect(client.handshake.val.server.name).toBe('My OriginChats Server')
  // Its welcome plugin is on and names a local account by the name it registered.
  await authenticate(client, { cmd: 'register', username: 'Alice', password: 'hunter22' })
  expect((await client.next('message_new', (p) => p.message.user === 'originChats')).message.content).toBe('Welcome alice! Thanks for joining the server.')
  server.signal('SIGTERM')
  expect(await server.exited).toBe(0)
  expect(await Bun.file(join(data, DATABASE_FILE)).exists()).toBe(true)
})

test.concurrent('serve with logging.format json: every line one object; unknown keys and plugin build errors are logged', async () => {
  const folder = await tempDir('json')
  await mkdir(join(folder, 'plugins'))
  await Bun.write(join(folder, 'plugins', 'typo.ts'), 'export const getInfo = () => ({ handles: [] })\nexport function on_x( {\n  return 1\n}\n')
  const config = await writeConfig(folder, {
    websocket: { host: '127.0.0.1', port: 0, prot: 1 },
    auth_mode: 'rotur',
    server: { owner: { name: 'alice' } },
    logging: { format: 'json' },
    plugins: { builtin: { welcom: { enabled: true } } },
  })
  const data = join(folder, 'data')
  await using server = await ServerProcess.start([binary, 'serve', '--config', config, '--data', data], folder)
  expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/)
  server.signal('SIGTERM')
  expect(await server.exited).toBe(0)

  const parse = (text: string) => text.trimEnd().split('\n').map((line) => JSON.parse(line) as { time: string; level: string; msg: string; [field: string]: unknown })
  const out = parse(server.lines.join('\n'))
  for (const line of out) expect(new Date(line.time).toISOString()).toBe(line.time)
  expect(out[0]).toEqual({ time: expect.any(String), level: 'info', msg: `config: ${config}; auth mode: rotur; owner: "alice" (Rotur account)`, config, auth_mode: 'rotur', owner: 'alice' })
  expect(out.map((line) => line.msg)).toContain(`originchats ${pkg.version} serving on ${server.url} (data: ${data})`)
  expect(out.slice(-2).map((line) => line.msg)).toEqual(['SIGTERM received, shutting down', 'originchats stopped'])
  const typo = `${join(folder, 'plugins', 'typo.ts')}:3:10: Expected "}" but found "1" (line: "  return 1")`
  expect(parse(server.stderr)).toEqual([
    { time: expect.any(String), level: 'warn', msg: `${config}: websocket.prot: unknown key; did you mean 'port'?` },
    { time: expect.any(String), level: 'warn', msg: `${config}: plugins.builtin.welcom: unknown key; did you mean 'welcome'?` },
    { time: expect.any(String), level: 'error', msg: expect.stringContaining(`plugin "typo" failed to load: ${typo}`), plugin: 'typo', error: expect.stringContaining(typo) },
  ])
})

test.concurrent('serve: messages are stored, SIGTERM closes clients with 1001, and a restart keeps them', async () => {
  const folder = await tempDir('serve')
  const config = await writeConfig(folder, QUIET_CONFIG)
  const data = join(folder, 'data')
  const command = [binary, 'serve', '--config', config, '--data', data]
  let id: string
  let threadId: string
  let pollId: string
  {
    await using server = await ServerProcess.start(command, folder)
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\/$/)
    expect(server.port).toBeGreaterThan(0)
    // Start-up lines show even at logging.level "warn".
    expect(server.lines.slice(0, 2).map((line) => line.replace(/^\S+ INFO  /, ''))).toEqual([
      `config: ${config}; auth mode: cracked; no owner configured`,
      `originchats ${pkg.version} serving on ${server.url} (data: ${data})`,
    ])
    const client = await TestClient.connect(server.url)
    const ready = await authenticate(client, { cmd: 'register', username: 'alice', password: 'hunter22' })
    expect(ready.user.username).toBe('USR:local_alice')
    client.send({ cmd: 'message_new', channel: 'general', content: 'kept across restarts' })
    const echo = await client.next('message_new')
    expect(echo.message.content).toBe('kept across restarts')
    id = echo.message.id

    // The owner tools of the same binary reach the running server: alice may now make a forum.
    expect(await run([binary, 'user', 'roles', 'alice', 'add', 'owner', '--config', config, '--data', data], folder)).toMatchObject({ code: 0 })
    await client.next('channels_get')
    await client.request({ cmd: 'channel_create', name: 'ideas', type: 'forum', permissions: { view: ['user'], send: ['user'], create_thread: ['user'] } })
    threadId = (await client.request({ cmd: 'thread_create', channel: 'ideas', name: 'Toppings' })).thread.id
    client.send({ cmd: 'message_new', thread_id: threadId, content: 'in a thread' })
    expect(await client.next('message_new', (p) => p.thread_id === threadId)).toMatchObject({ channel: 'ideas', message: { content: 'in a thread' } })
    pollId = (await client.request({ cmd: 'poll_create', channel: 'general', question: 'Pizza?', options: ['yes', 'no'] })).poll_id
    expect((await client.request({ cmd: 'poll_vote', poll_id: pollId, option_id: '0' })).results.total_votes).toBe(1)
    server.signal('SIGTERM')
    expect((await client.closed).code).toBe(1001)
    expect(await server.exited).toBe(0)
  }
  await using again = await ServerProcess.start(command, folder)
  await using client = await TestClient.connect(again.url)
  await authenticate(client, { cmd: 'login', username: 'alice', password: 'hunter22' })
  const history = await client.request({ cmd: 'messages_get', channel: 'general' })
  expect(history.messages.map((m: { id: string; content: string }) => m.content)).toEqual(['kept across restarts', ''])
  expect(history.messages[0].id).toBe(id)
  expect((await client.request({ cmd: 'thread_messages', thread_id: threadId })).messages.map((m: { content: string }) => m.content)).toEqual(['in a thread'])
  expect((await client.request({ cmd: 'poll_get', poll_id: pollId })).poll).toMatchObject({ question: 'Pizza?', user_votes: ['0'] })
})

test.concurrent('the binary serves an upload, its download and webhook posts, also after a restart', async () => {
  const folder = await tempDir('files')
  const config = await writeConfig(folder, QUIET_CONFIG)
  const data = join(folder, 'data')
  const command = [binary, 'serve', '--config', config, '--data', data]
  const image = png(64, 32)
  let download: string
  let webhookUrl: string
  {
    await using server = await ServerProcess.start(command, folder)
    const http = server.url.replace(/^ws/, 'http')
    const client = await TestClient.connect(server.url)
    const ready = await authenticate(client, { cmd: 'register', username: 'alice', password: 'hunter22' })
    // A local account uploads with the token of its live connection.
    const uploaded = await fetch(`${http}attachments/upload`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ready.validator}` },
      body: JSON.stringify({ file: `data:image/png;base64,${Buffer.from(image).toString('base64')}`, name: 'chart.png', mime_type: 'image/png', channel: 'general' }),
    })
    expect(uploaded.status).toBe(201)
    const { attachment } = (await uploaded.json()) as { attachment: { id: string; url: string } }
    expect(attachment).toMatchObject({ name: 'chart.png', mime_type: 'image/png', width: 64, height: 32, size: image.length })
    const posted = await client.request({ cmd: 'message_new', channel: 'general', content: 'the chart', attachments: [{ id: attachment.id }] })
    expect(posted.message.attachments).toEqual([attachment])
    download = `${http}${attachment.url.replace(/^\//, '')}`
    const file = await fetch(download)
    expect(file.headers.get('content-type')).toBe('image/png')
    expect(new Uint8Array(await file.arrayBuffer())).toEqual(image)

    expect(await run([binary, 'user', 'roles', 'alice', 'add', 'owner', '--config', config, '--data', data], folder)).toMatchObject({ code: 0 })
    await client.next('channels_get')
    const { webhook } = await client.request({ cmd: 'webhook_create', channel: 'general', name: 'CI' })
    webhookUrl = `${http}webhooks?token=${webhook.token}`
    const hooked = await fetch(webhookUrl, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ content: 'build passed' }) })
    expect(hooked.status).toBe(204)
    expect((await client.next('message_new', (p) => p.message.content === 'build passed')).message.webhook).toEqual({ id: webhook.id, name: 'CI', avatar: null })
    server.signal('SIGTERM')
    expect(await server.exited).toBe(0)
  }
  await using again = await ServerProcess.start(command, folder)
  const http = again.url.replace(/^ws/, 'http')
  // Same port is not guaranteed (port 0): the paths are what must survive.
  const file = await fetch(`${http}${new URL(download).pathname.slice(1)}`)
  expect(new Uint8Array(await file.arrayBuffer())).toEqual(image)
  const webhookPath = new URL(webhookUrl)
  const hooked = await fetch(`${http}webhooks${webhookPath.search}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ content: 'still here' }) })
  expect(hooked.status).toBe(204)
  await using client = await TestClient.connect(again.url)
  await authenticate(client, { cmd: 'login', username: 'alice', password: 'hunter22' })
  const history = (await client.request({ cmd: 'messages_get', channel: 'general' })).messages
  expect(history.map((m: { content: string; attachments?: Array<{ name: string }> }) => [m.content, m.attachments?.map((a) => a.name)])).toEqual([
    ['the chart', ['chart.png']],
    ['build passed', undefined],
    ['still here', undefined],
  ])
})
