import { expect, test } from 'bun:test'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import * as example from '../../docs/examples/echo-plugin.ts'
import type { PluginModule } from '../../src/plugins/loader.ts'
import { LogRecorder } from '../helpers/log.ts'
import type { ConfigOverrides } from '../helpers/server.ts'
import { PluginFolder, messageFrom, nextReport, recordReports, replier, serverWith } from './folder.ts'

const EXAMPLE = join(import.meta.dir, '..', '..', 'docs', 'examples', 'echo-plugin.ts')
const SECRET = { name: 'secret', type: 'text', permissions: { view: ['owner'], send: ['owner'] } }

test.concurrent('folder plugins load in directory order; failures and __ files are skipped; plugins_list shows info', async () => {
  await using folder = await PluginFolder.create({
    'good.ts': `export const getInfo = () => ({ name: 'Good', description: 'works', version: '2', handles: ['new_message'] })
export function on_new_message() {}`,
    'broken.ts': `throw new Error('import-time failure')`,
    'noinfo.js': `export function on_new_message() {}`,
    '__private.ts': `export const getInfo = () => ({ handles: [] })`,
    'notes.txt': 'not a plugin',
  })
  await using server = await serverWith(folder)
  const owner = await server.login('owner')
  expect(await owner.request({ cmd: 'plugins_list' })).toEqual({
    cmd: 'plugins_list',
    plugins: { good: { name: 'Good', description: 'works', version: '2', handles: ['new_message'] } },
  })
  // Broken files are reported by name when reloaded; the others stay loaded.
  const { reports, stop } = recordReports(server.app.plugins)
  await owner.request({ cmd: 'plugins_reload' })
  stop()
  expect(reports.filter((r) => r.type === 'load_failed').map((r) => r.plugin).sort()).toEqual(['broken', 'noinfo'])
})

test.concurrent('a syntax error or a missing import is reported with the compiler’s messages, positions and line text', async () => {
  await using folder = await PluginFolder.create({
    'typo.ts': 'export const getInfo = () => ({ handles: [] })\nexport function on_new_message( {\n  return 1\n}\n',
    'missing.ts': "import { helper } from './nowhere.ts'\nexport const getInfo = () => ({ handles: [helper()] })\n",
  })
  const recorder = new LogRecorder()
  await using server = await serverWith(folder, {}, recorder.log)
  // Bun reports both problems of typo.ts (an AggregateError of BuildMessages); the query string
  // the loader adds to the import path is left out of the text.
  const at = join(folder.dir, 'typo.ts')
  const typo = `${at}:3:10: Expected "}" but found "1" (line: "  return 1"); ${at}:4:1: Expected ")" but found "}" (line: "}")`
  const missing = `Cannot find module './nowhere.ts' imported from ${join(folder.dir, 'missing.ts')}`
  expect(await recorder.waitFor(/plugin "typo" failed to load: /)).toEndWith(`ERROR plugin "typo" failed to load: ${typo}`)
  expect(await recorder.waitFor(/plugin "missing" failed to load: /)).toEndWith(`ERROR plugin "missing" failed to load: ${missing}`)

  const { reports, stop } = recordReports(server.app.plugins)
  await server.app.plugins.reload()
  stop()
  const failures = Object.fromEntries(reports.flatMap((r) => (r.type === 'load_failed' ? [[r.plugin, r.error]] : [])))
  expect(failures).toEqual({ typo, missing })
})

test.concurrent('a new_message plugin posts a stored reply that only the channel’s viewers receive', async () => {
  await using folder = await PluginFolder.create({ 'bot.ts': replier('Bot') })
  await using server = await serverWith(folder)
  await server.addChannel(SECRET)
  const owner = await server.login('owner')
  const alice = await server.login('alice')
  owner.send({ cmd: 'message_new', channel: 'secret', content: 'bot?' })
  const reply = await messageFrom(owner, 'Bot')
  expect(reply).toEqual({
    cmd: 'message_new',
    channel: 'secret',
    thread_id: null,
    global: true,
    message: { id: expect.any(String), user: 'Bot', content: 'Bot heard owner', timestamp: expect.any(Number), pinned: false, type: 'message', interaction: null },
  })
  // Alice cannot view #secret; the reply went to the channel's viewers only (compat may-fix 7).
  await alice.expectNone('message_new')
  const history = await owner.request({ cmd: 'messages_get', channel: 'secret' })
  expect(history.messages.map((m: { user: string; content: string }) => [m.user, m.content])).toEqual([
    ['owner', 'bot?'],
    ['Bot', 'Bot heard owner'],
  ])
})

test.concurrent('required_permission: handlers run only for users holding one of the roles', async () => {
  await using folder = await PluginFolder.create({ 'gate.ts': replier('Gate', `export const required_permission = ['moderator']`) })
  await using server = await serverWith(folder)
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  await server.setRoles('bob', ['moderator', 'user'])
  alice.send({ cmd: 'message_new', channel: 'general', content: 'gate?' })
  await alice.next('message_new', (p) => p.message.user === 'alice')
  bob.send({ cmd: 'message_new', channel: 'general', content: 'gate?' })
  expect((await messageFrom(alice, 'Gate')).message.content).toBe('Gate heard bob')
  // Alice's message was handled (and refused) before Bob even posted, so its reply would be first.
  expect(alice.inbox.filter((p) => p.cmd === 'message_new' && p.message.user === 'Gate')).toEqual([])
})

test.concurrent('a throwing or hanging plugin blocks neither the message path nor other plugins', async () => {
  await using folder = await PluginFolder.create({
    'hangs.ts': `export const getInfo = () => ({ handles: ['new_message'] })
export const on_new_message = () => new Promise(() => {})`,
    'throws.ts': `export const getInfo = () => ({ handles: ['new_message'] })
export function on_new_message() { throw new Error('boom') }`,
    'rejects.ts': `export const getInfo = () => ({ handles: ['new_message'] })
export async function on_new_message() { throw new Error('async boom') }`,
    'bot.ts': replier('Bot'),
  })
  await using server = await serverWith(folder, { plugins: { handler_timeout_ms: 50 } })
  const plugins = server.app.plugins
  const failed = nextReport(plugins, { type: 'handler_failed', plugin: 'throws' })
  const rejected = nextReport(plugins, { type: 'handler_failed', plugin: 'rejects' })
  const hung = nextReport(plugins, { type: 'handler_timeout', plugin: 'hangs' })
  const alice = await server.login('alice')
  for (const content of ['one', 'two', 'bot?']) {
    alice.send({ cmd: 'message_new', channel: 'general', content })
    expect((await alice.next('message_new', (p) => p.message.user === 'alice')).message.content).toBe(content)
  }
  expect((await messageFrom(alice, 'Bot')).message.content).toBe('Bot heard alice')
  expect(await failed).toEqual({ type: 'handler_failed', plugin: 'throws', event: 'new_message', error: 'boom' })
  expect(await rejected).toEqual({ type: 'handler_failed', plugin: 'rejects', event: 'new_message', error: 'async boom' })
  expect(await hung).toEqual({ type: 'handler_timeout', plugin: 'hangs', event: 'new_message' })
  expect(await alice.request({ cmd: 'ping' }, 'pong')).toEqual({ cmd: 'pong', val: 'pong' })
})

test.concurrent('fs.watch: adding, changing and removing a plugin file loads, reloads and unloads it', async () => {
  await using folder = await PluginFolder.create()
  await using server = await serverWith(folder)
  const plugins = server.app.plugins
  const owner = await server.login('owner')
  const info = (description: string) => `export const getInfo = () => ({ name: 'Late', description: '${description}', handles: ['new_message'] })
export async function on_new_message(conn, data, api) {
  if (data.content === 'late?') await api.sendMessage(data.channel, '${description}', { author: 'Late' })
}`
  const added = nextReport(plugins, { type: 'loaded', plugin: 'late' })
  await folder.write('late.ts', info('first'))
  await added
  expect((await owner.request({ cmd: 'plugins_list' })).plugins).toEqual({ late: { name: 'Late', description: 'first', handles: ['new_message'] } })

  const changed = nextReport(plugins, { type: 'loaded', plugin: 'late' })
  await folder.write('late.ts', info('second'))
  await changed
  owner.send({ cmd: 'message_new', channel: 'general', content: 'late?' })
  expect((await messageFrom(owner, 'Late')).message.content).toBe('second')

  const removed = nextReport(plugins, { type: 'unloaded', plugin: 'late' })
  await folder.remove('late.ts')
  await removed
  expect(await owner.request({ cmd: 'plugins_list' })).toEqual({ cmd: 'plugins_list', plugins: {} })
})

test.concurrent('plugins_reload reloads the named plugin only, or all of them', async () => {
  await using folder = await PluginFolder.create({ 'a.ts': replier('A'), 'b.ts': replier('B') })
  await using server = await serverWith(folder)
  const owner = await server.login('owner')
  const one = recordReports(server.app.plugins)
  expect(await owner.request({ cmd: 'plugins_reload', plugin: 'a' })).toEqual({ cmd: 'plugins_reload', val: "Plugin 'a' reloaded successfully" })
  one.stop()
  expect(one.reports).toEqual([{ type: 'loaded', plugin: 'a', source: join(folder.dir, 'a.ts') }])

  const all = recordReports(server.app.plugins)
  expect(await owner.request({ cmd: 'plugins_reload' })).toEqual({ cmd: 'plugins_reload', val: 'All plugins reloaded successfully' })
  all.stop()
  // Loaded in directory-listing order (plugins.md §1), which the file system decides.
  const order = readdirSync(folder.dir).map((file) => file.replace(/\.ts$/, ''))
  expect(all.reports.map((r) => `${r.type} ${r.plugin}`)).toEqual([...order.map((n) => `unloaded ${n}`), ...order.map((n) => `loaded ${n}`)])
  expect(Object.keys((await owner.request({ cmd: 'plugins_list' })).plugins)).toEqual(order)
})

test.concurrent('server_start reaches plugins before any later event; setup(api).on subscribes too', async () => {
  await using folder = await PluginFolder.create({
    'life.ts': `let started = false
export const getInfo = () => ({ handles: ['server_start', 'new_message'] })
export function on_server_start(conn) { started = conn === null }
export function setup(api) {
  api.on('user_connect', (conn, data) => conn.send({ cmd: 'life', started, user: data.username, roles: data.roles }))
}
export async function on_new_message(conn, data, api) {
  await api.sendMessage(data.channel, 'started: ' + started, { author: 'Life' })
}`,
  })
  await using server = await serverWith(folder)
  const alice = await server.login('alice')
  expect(await alice.next('life')).toEqual({ cmd: 'life', started: true, user: 'alice', roles: ['user'] })
  alice.send({ cmd: 'message_new', channel: 'general', content: 'hi' })
  expect((await messageFrom(alice, 'Life')).message.content).toBe('started: true')
})

test.concurrent('the documented example plugin (docs/examples/echo-plugin.ts) loads and reads its config slice', async () => {
  // Imported here too, so the type checker holds the example to the plugin types.
  const module: PluginModule = example
  expect(Object.keys(module).sort()).toEqual(['getInfo', 'on_new_message', 'setup'])
  const source = await Bun.file(EXAMPLE).text()
  // docs/plugins.md shows the same file in full.
  expect(await Bun.file(join(EXAMPLE, '..', '..', 'plugins.md')).text()).toContain(`\`\`\`ts\n${source}\`\`\``)
  await using folder = await PluginFolder.create({ 'echo.ts': source })
  await using server = await serverWith(folder, { plugins: { echo: { prefix: '!say' } } } as ConfigOverrides)
  const owner = await server.login('owner')
  const alice = await server.login('alice')
  expect((await owner.request({ cmd: 'plugins_list' })).plugins).toEqual({
    echo: { name: 'Echo', description: 'Repeats messages that start with the echo prefix.', version: '1.0.0', author: 'originchats', handles: ['new_message'] },
  })
  alice.send({ cmd: 'message_new', channel: 'general', content: '!say hello there' })
  expect((await messageFrom(alice, 'Echo')).message.content).toBe('hello there')
  alice.send({ cmd: 'message_new', channel: 'general', content: '!say ' })
  expect(await alice.next('error')).toEqual({ cmd: 'error', val: 'Usage: !say <text>' })
  // The default prefix no longer applies.
  alice.send({ cmd: 'message_new', channel: 'general', content: '!echo hi' })
  await alice.next('message_new', (p) => p.message.content === '!echo hi')
  alice.send({ cmd: 'message_new', channel: 'general', content: '!say done' })
  expect((await messageFrom(alice, 'Echo')).message.content).toBe('done')
})

test.concurrent('a config edit switching a built-in on loads it without a restart', async () => {
  await using folder = await PluginFolder.create()
  await using server = await serverWith(folder)
  const owner = await server.login('owner')
  const loaded = nextReport(server.app.plugins, { type: 'loaded', plugin: 'commands' })
  await server.app.settings.edit((raw) => {
    raw.plugins = { ...raw.plugins, builtin: { ...raw.plugins.builtin, commands: { enabled: true } } }
  })
  await loaded
  expect(Object.keys((await owner.request({ cmd: 'plugins_list' })).plugins)).toEqual(['commands'])
})
