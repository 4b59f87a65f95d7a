import { afterAll, expect, test } from 'bun:test'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildBinary } from '../../build.ts'
import { TestClient } from '../helpers/client.ts'
import { authenticate, killAll, ServerProcess } from '../helpers/process.ts'
import { messageFrom, replier } from './folder.ts'

const EXAMPLE = join(import.meta.dir, '..', '..', 'docs', 'examples', 'echo-plugin.ts')

afterAll(killAll)

test('the compiled binary loads plugins from the folder next to config.json, and picks up new ones', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'originchats-plugin-binary-'))
  try {
    const binary = await buildBinary(join(dir, 'originchats'))
    const owner = join(dir, 'owner')
    await mkdir(join(owner, 'plugins'), { recursive: true })
    await Bun.write(join(owner, 'plugins', 'echo.ts'), Bun.file(EXAMPLE))
    const config = { websocket: { host: '127.0.0.1', port: 0 }, auth_mode: 'cracked', logging: { level: 'info' } }
    await Bun.write(join(owner, 'config.json'), JSON.stringify(config))
    await using server = await ServerProcess.start([binary, 'serve', '--config', join(owner, 'config.json')], owner)
    await using alice = await TestClient.connect(server.url)
    await authenticate(alice, { cmd: 'register', username: 'alice', password: 'password123' })
    alice.send({ cmd: 'message_new', channel: 'general', content: '!echo from the binary' })
    expect((await messageFrom(alice, 'Echo')).message.content).toBe('from the binary')

    // The folder is watched: a file dropped in while serving is loaded (the log says when).
    await Bun.write(join(owner, 'plugins', 'late.ts'), replier('Late'))
    await server.waitFor(/plugin "late" loaded from /)
    alice.send({ cmd: 'message_new', channel: 'general', content: 'late?' })
    expect((await messageFrom(alice, 'Late')).message.content).toBe('Late heard USR:local_alice')
  } finally {
    await killAll()
    await rm(dir, { recursive: true, force: true })
  }
})
