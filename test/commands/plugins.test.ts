import { expect, test } from 'bun:test'
import { startServer } from '../helpers/server.ts'

const OWNER_ONLY = { cmd: 'error', val: "Access denied: 'owner' role required" }

test.concurrent('plugins_list gives the owner an object keyed by plugin name', async () => {
  await using server = await startServer()
  await server.app.plugins.ready
  const owner = await server.login('owner')
  const alice = await server.login('alice')
  // The owner chat commands are built in and on by default (the test servers switch welcome off).
  expect(await owner.request({ cmd: 'plugins_list' })).toEqual({
    cmd: 'plugins_list',
    plugins: { commands: { name: 'CLI Plugin', description: 'Manage your server, channels, and users through chat commands.', handles: ['new_message'] } },
  })
  expect(await alice.error({ cmd: 'plugins_list' })).toEqual(OWNER_ONLY)
})

test.concurrent('plugins_reload reloads everything, or names the plugin it could not reload', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const alice = await server.login('alice')
  const all = { cmd: 'plugins_reload', val: 'All plugins reloaded successfully' }
  expect(await owner.request({ cmd: 'plugins_reload' })).toEqual(all)
  expect(await owner.request({ cmd: 'plugins_reload', plugin: null })).toEqual(all)
  expect(await owner.error({ cmd: 'plugins_reload', plugin: 'x' })).toEqual({ cmd: 'error', src: 'plugins_reload', val: "Failed to reload plugin 'x'" })
  expect(await alice.error({ cmd: 'plugins_reload' })).toEqual(OWNER_ONLY)
})
