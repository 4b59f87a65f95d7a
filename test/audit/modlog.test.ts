import { expect, test } from 'bun:test'
import { logAction } from '../../src/audit/modlog.ts'
import { messageFrom } from '../plugins/folder.ts'
import { LogRecorder } from '../helpers/log.ts'
import { startServer, type ConfigOverrides } from '../helpers/server.ts'

const message = (line: string) => line.replace(/^\S+ INFO  /, '')

test('a moderation line names actor, action, target and details, each client text quoted', () => {
  const text = new LogRecorder()
  const actor = { id: 'USR:local_alice', username: 'alice' }
  logAction(text.log, actor, { action: 'user_ban', target_id: 'USR:local_bob', target_name: 'bob\nINFO forged' })
  logAction(text.log, actor, { action: 'user_timeout', target_id: 'u2', target_name: 'carol', details: { duration: 60 } })
  logAction(text.log, actor, { action: 'message_delete', target_id: 'm1', details: { channel: 'general' } })
  logAction(text.log, actor, { action: 'plugins_reload', details: {} })
  expect(text.lines.map(message)).toEqual([
    'moderation: "alice" user_ban "bob\\nINFO forged"',
    'moderation: "alice" user_timeout "carol" {"duration":60}',
    'moderation: "alice" message_delete "m1" {"channel":"general"}',
    'moderation: "alice" plugins_reload',
  ])

  const json = new LogRecorder('json')
  logAction(json.log, actor, { action: 'user_timeout', target_id: 'u2', target_name: 'carol', details: { duration: 60 } })
  expect(JSON.parse(json.lines[0]!)).toEqual({
    time: expect.any(String),
    level: 'info',
    msg: 'moderation: "alice" user_timeout "carol" {"duration":60}',
    actor: 'alice',
    actor_id: 'USR:local_alice',
    action: 'user_timeout',
    target: 'carol',
    target_id: 'u2',
    details: { duration: 60 },
  })
})

test.concurrent('protocol commands and ! chat commands log their moderation actions, also with the modlog off', async () => {
  const recorder = new LogRecorder()
  await using server = await startServer({ modlog: { enabled: false } } as ConfigOverrides, recorder.log)
  await server.app.plugins.ready
  const owner = await server.login('owner')
  await server.login('bob')
  await server.register('carol')
  expect(await owner.request({ cmd: 'user_ban', user: 'bob' })).toMatchObject({ banned: true })
  expect(message(await recorder.waitFor(/ user_ban /))).toBe('moderation: "owner" user_ban "bob"')
  owner.send({ cmd: 'message_new', channel: 'general', content: '!ban carol' })
  expect((await messageFrom(owner, 'OriginChats')).message.content).toBe("✅ Banned user 'carol'")
  expect(message(await recorder.waitFor(/ user_ban "USR:local_carol"/))).toBe('moderation: "owner" user_ban "USR:local_carol"')
  // Nothing was stored: the log is the only record.
  expect(await server.app.store.modlog.list({ limit: 100, offset: 0 })).toEqual({ entries: [], total: 0 })
})
