import { expect, test } from 'bun:test'
import type { TestClient } from '../helpers/client.ts'
import { startServer } from '../helpers/server.ts'

/** Posts each content in order and returns the stored messages' IDs. */
async function post(client: TestClient, contents: string[], channel = 'general'): Promise<string[]> {
  const ids = []
  for (const content of contents) {
    client.send({ cmd: 'message_new', channel, content })
    ids.push((await client.next('message_new', (p) => p.message.content === content)).message.id)
  }
  return ids
}

/** The contents a search returns, in reply order. */
async function search(client: TestClient, query: string, channel = 'general'): Promise<string[]> {
  const reply = await client.request({ cmd: 'messages_search', channel, query })
  return reply.results.map((m: any) => m.content)
}

// Queries under three characters scan; longer ones use the trigram index. Both must agree.
test.concurrent('matching is a case-insensitive substring, newest first, for short and long queries', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  await post(alice, ['Hello World', 'goodbye', 'hello there', 'sHELLfish', 'HELLO again'])

  const hellos = ['HELLO again', 'hello there', 'Hello World']
  expect(await search(alice, 'hello')).toEqual(hellos)
  expect(await search(alice, 'HeLLo')).toEqual(hellos)
  expect(await search(alice, 'ell')).toEqual(['HELLO again', 'sHELLfish', 'hello there', 'Hello World'])
  expect(await search(alice, 'EL')).toEqual(['HELLO again', 'sHELLfish', 'hello there', 'Hello World'])
  expect(await search(alice, 'dB')).toEqual(['goodbye'])
  expect(await search(alice, 'W')).toEqual(['Hello World'])
  expect(await search(alice, 'o a')).toEqual(['HELLO again'])
  expect(await search(alice, 'zz')).toEqual([])
  expect(await search(alice, 'nothing like it')).toEqual([])
})

test.concurrent('case folding covers non-ASCII letters on both code paths', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  await post(alice, ['État civil', 'ДОБРЫЙ день', 'über'])

  expect(await search(alice, 'état')).toEqual(['État civil'])
  expect(await search(alice, 'ét')).toEqual(['État civil'])
  // Folding case is not removing accents.
  expect(await search(alice, 'etat')).toEqual([])
  expect(await search(alice, 'Et')).toEqual([])
  expect(await search(alice, 'добрый')).toEqual(['ДОБРЫЙ день'])
  expect(await search(alice, 'до')).toEqual(['ДОБРЫЙ день'])
  expect(await search(alice, 'Ü')).toEqual(['über'])
})

test.concurrent('the reply echoes the query as sent and carries full messages', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  await post(alice, ['Search Me'])
  const { messages } = await alice.request({ cmd: 'messages_get', channel: 'general' })

  expect(await alice.request({ cmd: 'messages_search', channel: 'general', query: 'SEARCH' })).toEqual({
    cmd: 'messages_search',
    channel: 'general',
    query: 'SEARCH',
    results: [messages[0]],
  })
})

test.concurrent('results are cut to limits.search_results', async () => {
  await using server = await startServer({ limits: { search_results: 2 } })
  const alice = await server.login('alice')
  await post(alice, ['match 1', 'match 2', 'match 3', 'match 4'])

  expect(await search(alice, 'match')).toEqual(['match 4', 'match 3'])
  expect(await search(alice, 'ma')).toEqual(['match 4', 'match 3'])
  // The scan stops early; a second scan must start again from the newest message.
  expect(await search(alice, 'h ')).toEqual(['match 4', 'match 3'])
})

test.concurrent('a search_results below 1 still returns one result', async () => {
  await using server = await startServer({ limits: { search_results: 0 } })
  const alice = await server.login('alice')
  await post(alice, ['match 1', 'match 2'])

  expect(await search(alice, 'match')).toEqual(['match 2'])
  expect(await search(alice, 'h')).toEqual(['match 2'])
})

test.concurrent('no search returns more than 50 results whatever search_results says', async () => {
  await using server = await startServer({ limits: { search_results: 100 } })
  const alice = await server.login('alice')
  const contents = Array.from({ length: 52 }, (_, i) => `hit ${i}`)
  await post(alice, contents)

  const newestFifty = contents.slice(2).reverse()
  expect(await search(alice, 'hit')).toEqual(newestFifty)
  expect(await search(alice, 'hi')).toEqual(newestFifty)
})

test.concurrent('quotes and full-text operators are matched as literal text', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  await post(alice, ['say "hi" now', 'cats AND dogs', 'cats dogs', 'a*b', 'ab', 'well-known', 'well known', 'NEAR(x y)', 'col:umn'])

  expect(await search(alice, '"hi"')).toEqual(['say "hi" now'])
  expect(await search(alice, 'say "')).toEqual(['say "hi" now'])
  expect(await search(alice, '"')).toEqual(['say "hi" now'])
  expect(await search(alice, 'cats AND dogs')).toEqual(['cats AND dogs'])
  expect(await search(alice, 'AND')).toEqual(['cats AND dogs'])
  expect(await search(alice, 'a*b')).toEqual(['a*b'])
  expect(await search(alice, 'a*')).toEqual(['a*b'])
  expect(await search(alice, '-known')).toEqual(['well-known'])
  expect(await search(alice, 'NEAR(x')).toEqual(['NEAR(x y)'])
  expect(await search(alice, 'col:umn')).toEqual(['col:umn'])
  expect(await search(alice, '*')).toEqual(['a*b'])
})

test.concurrent('edited messages are found by their new content only', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const [id] = await post(alice, ['apple pie'])
  alice.send({ cmd: 'message_edit', id, channel: 'general', content: 'banana split' })
  await alice.next('message_edit')

  expect(await search(alice, 'apple')).toEqual([])
  expect(await search(alice, 'pi')).toEqual([])
  const reply = await alice.request({ cmd: 'messages_search', channel: 'general', query: 'banana' })
  expect(reply.results).toEqual([expect.objectContaining({ id, content: 'banana split', edited: true })])
  expect(await search(alice, 'sp')).toEqual(['banana split'])
})

test.concurrent('deleted messages are not found', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const [id] = await post(alice, ['cherry tart', 'cherry jam'])
  alice.send({ cmd: 'message_delete', id, channel: 'general' })
  await alice.next('message_delete')

  expect(await search(alice, 'cherry')).toEqual(['cherry jam'])
  expect(await search(alice, 'ta')).toEqual([])
})

test.concurrent('search stays within the named channel', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'random', type: 'text', permissions: { view: ['user'], send: ['user'] } })
  const alice = await server.login('alice')
  await post(alice, ['general news'])
  await post(alice, ['random news'], 'random')

  expect(await search(alice, 'news', 'random')).toEqual(['random news'])
  expect(await search(alice, 'ne', 'general')).toEqual(['general news'])
})

test.concurrent('unreadable channels are refused without src', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'staff', type: 'text', permissions: { view: ['owner'], send: ['owner'] } })
  await server.addChannel({ name: 'lobby', type: 'voice', permissions: { view: ['user'] } })
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  await post(owner, ['secret plans'], 'staff')

  for (const channel of ['staff', 'nowhere', 'lobby']) {
    expect(await bob.error({ cmd: 'messages_search', channel, query: 'secret' })).toEqual({ cmd: 'error', val: 'Access denied to this channel' })
  }
  expect(await search(owner, 'secret', 'staff')).toEqual(['secret plans'])
})

test.concurrent('channel and query are required', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const required = { cmd: 'error', src: 'messages_search', val: 'Channel name and query are required' }

  expect(await alice.error({ cmd: 'messages_search', channel: 'general' })).toEqual(required)
  expect(await alice.error({ cmd: 'messages_search', channel: 'general', query: '' })).toEqual(required)
  expect(await alice.error({ cmd: 'messages_search', query: 'hello' })).toEqual(required)
  expect(await alice.error({ cmd: 'messages_search', channel: 'general', query: 42 })).toEqual(required)
  // Checked before access: an unknown channel without a query still reports the missing field.
  expect(await alice.error({ cmd: 'messages_search', channel: 'nowhere' })).toEqual(required)
})

test.concurrent('the index survives a restart', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  await post(alice, ['persistent memory', 'short term'])

  await server.restart()
  const bob = await server.login('bob')
  expect(await search(bob, 'MEMORY')).toEqual(['persistent memory'])
  expect(await search(bob, 'rm')).toEqual(['short term'])
  const later = await post(bob, ['memory lane'])
  expect(later).toHaveLength(1)
  expect(await search(bob, 'memory')).toEqual(['memory lane', 'persistent memory'])
})

test.concurrent('a huge query is refused at once, and other connections are answered meanwhile', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  const bob = await server.login('bob')
  await post(alice, ['needle in a haystack'])
  // 128k characters: upstream (and this server before) spent seconds on it, holding every socket.
  alice.send({ cmd: 'messages_search', channel: 'general', query: 'needle '.repeat(18_725) })
  bob.send({ cmd: 'ping', listener: 'bob' })
  expect(await alice.next('error')).toEqual({ cmd: 'error', src: 'messages_search', val: 'Search query too long (max 200 characters)' })
  expect(await bob.next('pong')).toEqual({ cmd: 'pong', val: 'pong', listener: 'bob' })
  expect(await search(alice, 'n'.repeat(200))).toEqual([])
})

test.concurrent('control characters get a clear error, not an internal one', async () => {
  await using server = await startServer()
  const alice = await server.login('alice')
  for (const query of ['nee\u0000dle', 'line\nbreak', '\u0007', 'x\uD800y']) {
    expect(await alice.error({ cmd: 'messages_search', channel: 'general', query })).toEqual({
      cmd: 'error',
      src: 'messages_search',
      val: 'Search query contains invalid characters',
    })
  }
  // The connection keeps working.
  expect(await search(alice, 'nothing')).toEqual([])
})

test.concurrent('searching counts against the action limiter', async () => {
  await using server = await startServer({ security: { actions_per_minute: 100, actions_burst: 3, actions_cooldown_seconds: 30 } })
  const alice = await server.login('alice')
  for (let i = 0; i < 3; i++) expect(await search(alice, 'anything')).toEqual([])
  alice.send({ cmd: 'messages_search', channel: 'general', query: 'anything' })
  expect(await alice.next('rate_limit')).toEqual({ cmd: 'rate_limit', reason: "Burst limit exceeded. You're in cooldown for 30 seconds", length: 30000 })
})
