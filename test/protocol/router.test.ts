import { describe, expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer } from '../helpers/server.ts'

const PONG = { cmd: 'pong', val: 'pong' }

/** The connection still answers commands normally. */
async function stillWorks(client: TestClient) {
  expect(await client.request({ cmd: 'ping' }, 'pong')).toEqual(PONG)
}

describe('malformed frames', () => {
  test.concurrent('invalid JSON is answered and the connection stays open', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    alice.send('{"cmd": "ping"')
    expect(await alice.next('error')).toEqual({ cmd: 'error', val: 'Invalid message format: expected JSON' })
    alice.send('')
    expect(await alice.next('error')).toEqual({ cmd: 'error', val: 'Invalid message format: expected JSON' })
    await stillWorks(alice)
  })

  test.concurrent('JSON that is not an object names its Python type', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const cases: Array<[string, string]> = [
      ['[{"cmd":"ping"}]', 'list'],
      ['42', 'int'],
      ['"ping"', 'str'],
      ['1.5', 'float'],
      ['true', 'bool'],
      ['null', 'NoneType'],
    ]
    for (const [frame, type] of cases) {
      alice.send(frame)
      expect(await alice.next('error')).toEqual({ cmd: 'error', val: `Invalid message format: expected a dictionary, got ${type}` })
    }
    await stillWorks(alice)
  })

  test.concurrent('malformed frames are answered before authentication too', async () => {
    await using server = await startServer()
    const guest = await server.connect()
    guest.send('not json')
    expect(await guest.next('error')).toEqual({ cmd: 'error', val: 'Invalid message format: expected JSON' })
    guest.send('[]')
    expect(await guest.next('error')).toEqual({ cmd: 'error', val: 'Invalid message format: expected a dictionary, got list' })
    guest.send({ cmd: 'auth', validator: server.rotur.issue('alice', guest.handshake.val.validator_key) })
    expect((await guest.next('ready')).user.username).toBe('alice')
  })

  test.concurrent('a binary frame is answered with an error', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    alice.ws.send(new TextEncoder().encode(JSON.stringify({ cmd: 'ping' })))
    expect(await alice.next('error')).toEqual({ cmd: 'error', val: 'Invalid message format: binary frames are not supported' })
    await alice.expectNone('pong')
    await stillWorks(alice)
  })
})

describe('command lookup', () => {
  test.concurrent('missing cmd is Unknown command: None without src', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    expect(await alice.error({ channel: 'general' } as any)).toEqual({ cmd: 'error', val: 'Unknown command: None' })
    expect(await alice.error({} as any)).toEqual({ cmd: 'error', val: 'Unknown command: None' })
  })

  test.concurrent('unknown cmd carries src', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    expect(await alice.error({ cmd: 'x' })).toEqual({ cmd: 'error', src: 'x', val: 'Unknown command: x' })
    expect(await alice.error({ cmd: 'Ping' })).toEqual({ cmd: 'error', src: 'Ping', val: 'Unknown command: Ping' })
    expect(await alice.error({ cmd: 5 } as any)).toEqual({ cmd: 'error', src: '5', val: 'Unknown command: 5' })
    await stillWorks(alice)
  })

  test.concurrent('before authentication everything but auth/login/register is refused', async () => {
    await using server = await startServer()
    const guest = await server.connect()
    const refused = { cmd: 'auth_error', val: 'Authentication required' }
    for (const packet of [
      { cmd: 'ping' },
      { cmd: 'ping', listener: 'l1' },
      { cmd: 'messages_get', channel: 'general' },
      { cmd: 'message_new', channel: 'general', content: 'hi' },
      { cmd: 'x' },
      { listener: 'l2' },
    ]) {
      guest.send(packet)
      // Pre-auth packets never echo the listener.
      expect(await guest.next('auth_error')).toEqual(refused)
    }
    expect(guest.inbox).toEqual([])
    expect(await server.app.store.messages.newest({ channel: 'general', thread_id: null })).toBeUndefined()
  })
})

describe('listener', () => {
  test.concurrent('is echoed on replies and errors', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    expect(await alice.request({ cmd: 'ping', listener: 'abc' }, 'pong')).toEqual({ ...PONG, listener: 'abc' })
    expect(await alice.error({ cmd: 'x', listener: 'e1' })).toEqual({ cmd: 'error', src: 'x', val: 'Unknown command: x', listener: 'e1' })
    expect(await alice.error({ listener: 'e2' } as any)).toEqual({ cmd: 'error', val: 'Unknown command: None', listener: 'e2' })
    expect(await alice.error({ cmd: 'messages_get', channel: 'nowhere', listener: 'e3' })).toMatchObject({ cmd: 'error', listener: 'e3' })
  })

  test.concurrent("is echoed on the caller's copy of a broadcast only", async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const seen = bob.next('message_new')
    alice.send({ cmd: 'message_new', channel: 'general', content: 'hi', listener: 'm1' })
    const echo = await alice.next('message_new')
    expect(echo.listener).toBe('m1')
    const { listener: _listener, ...withoutListener } = echo
    expect(await seen).toEqual(withoutListener)
  })

  test.concurrent('a non-string listener is ignored', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    for (const listener of [5, null, true, { id: 'x' }, ['a']]) {
      expect(await alice.request({ cmd: 'ping', listener }, 'pong')).toEqual(PONG)
      expect(await alice.error({ cmd: 'x', listener })).toEqual({ cmd: 'error', src: 'x', val: 'Unknown command: x' })
    }
  })
})

describe('abuse', () => {
  test.concurrent('an oversize frame closes that socket with 1009; others are unaffected', async () => {
    await using server = await startServer({ websocket: { max_payload: 2048 } })
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    // Just under the limit is fine.
    alice.send({ cmd: 'ping', listener: 'x'.repeat(1900) })
    expect((await alice.next('pong')).listener).toHaveLength(1900)
    alice.send({ cmd: 'message_new', channel: 'general', content: 'x'.repeat(4000) })
    expect((await alice.closed).code).toBe(1009)
    await stillWorks(bob)
    await bob.expectNone('message_new')
    const carol = await server.login('carol')
    await stillWorks(carol)
  })

  test.concurrent('a flood of frames sent at once does not crash the server', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const count = 300
    const pongs = Array.from({ length: count }, () => alice.next('pong'))
    for (let i = 0; i < count; i++) alice.send({ cmd: 'ping' })
    // Either every frame is answered, or the server closed the flooding socket as a policy violation.
    const outcome = await Promise.all(pongs).then(
      () => 'answered',
      () => 'closed',
    )
    if (outcome === 'closed') expect((await alice.closed).code).toBe(1008)
    else expect(alice.inbox.filter((p) => p.cmd === 'pong')).toEqual([])
    const bob = await server.login('bob')
    await stillWorks(bob)
  })
})

describe('ordering', () => {
  test.concurrent('pipelined frames are stored and answered in the order they were sent', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    const order: string[] = []
    alice.ws.addEventListener('message', (event) => {
      const packet = JSON.parse(String(event.data))
      if (packet.cmd === 'message_new') order.push(packet.message.content)
      if (packet.cmd === 'error') order.push(`error: ${packet.val}`)
    })
    const contents = Array.from({ length: 60 }, (_, i) => `m${i}`)
    // Mentions and replies take longer paths through message_new than plain text does.
    for (const [i, content] of contents.entries()) alice.send({ cmd: 'message_new', channel: 'general', content: i % 3 ? content : `${content} @bob @&user` })
    alice.send('not json')
    await alice.next('error')
    const expected = contents.map((c, i) => (i % 3 ? c : `${c} @bob @&user`))
    expect(order).toEqual([...expected, 'error: Invalid message format: expected JSON'])
    const received: string[] = []
    for (let i = 0; i < expected.length; i++) received.push((await bob.next('message_new')).message.content)
    expect(received).toEqual(expected)
    const history = await bob.request({ cmd: 'messages_get', channel: 'general' })
    expect(history.messages.map((m: { content: string }) => m.content)).toEqual(expected)
  })

  test.concurrent('a client cannot make the server answer with its own packet', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    expect(await alice.error({ cmd: 'error', val: 'forged' })).toEqual({ cmd: 'error', src: 'error', val: 'Unknown command: error' })
  })
})
