import { Database } from 'bun:sqlite'
import { expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DATABASE_FILE } from '../../src/store/sqlite/index.ts'
import type { Packet, TestClient } from '../helpers/client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'

type Fields = Record<string, any>

/** HTTP is served on the WebSocket's address. */
const httpUrl = (server: TestServer, path: string) => new URL(path, server.url.replace(/^ws/, 'http')).href

const JSON_TYPE = { 'Content-Type': 'application/json' }

/** What a curl -X POST -H 'Content-Type: application/json' -d … would send. */
function postHook(server: TestServer, token: string | null, body: unknown, headers: Record<string, string> = JSON_TYPE, path = '/webhooks') {
  const query = token === null ? '' : `?token=${encodeURIComponent(token)}`
  return fetch(httpUrl(server, `${path}${query}`), { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) })
}

async function expectError(response: Response, status: number, error: string) {
  expect({ status: response.status, body: await response.json(), cors: response.headers.get('access-control-allow-origin') }).toEqual({ status, body: { error }, cors: '*' })
}

async function expectPosted(response: Response) {
  expect({ status: response.status, body: await response.text() }).toEqual({ status: 204, body: '' })
}

async function create(client: TestClient, channel = 'general', name = 'CI'): Promise<Fields> {
  return (await client.request({ cmd: 'webhook_create', channel, name })).webhook
}

/** The client form of a webhook message as message_new and history show it. */
const webhookMessage = (content: string, webhook: Fields, extra: Fields = {}) => ({
  user: 'originChats',
  content,
  timestamp: expect.any(Number),
  id: expect.any(String),
  webhook,
  pinned: false,
  type: 'message',
  interaction: null,
  ...extra,
})

const NO_PINGS = { users: [], roles: [], replies: [] }

test.concurrent('a post reaches the channel viewers live as a global message_new, and is kept in history', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'staff', type: 'text', permissions: { view: ['owner'], send: ['owner'] } })
  const owner = await server.login('owner')
  const bob = await server.login('bob')
  const general = await create(owner)
  const staff = await create(owner, 'staff', 'Alerts')

  await expectPosted(await postHook(server, general.token, { content: '  build passed  ' }))
  const expected = {
    cmd: 'message_new',
    message: { ...webhookMessage('build passed', { id: general.id, name: 'CI', avatar: null }), pings: NO_PINGS },
    channel: 'general',
    global: true,
  }
  expect(await bob.next('message_new')).toEqual(expected)
  expect(await owner.next('message_new')).toEqual(expected)

  // Only those who may view #staff hear of its posts.
  await expectPosted(await postHook(server, staff.token, { content: 'disk full' }, JSON_TYPE, '/webhooks/anything/here'))
  expect((await owner.next('message_new')).message.webhook).toEqual({ id: staff.id, name: 'Alerts', avatar: null })
  await bob.expectNone('message_new')

  const history = await bob.request({ cmd: 'messages_get', channel: 'general' })
  expect(history.messages).toEqual([webhookMessage('build passed', { id: general.id, name: 'CI', avatar: null })])
})

test.concurrent('username and avatar_url override the webhook name and avatar; text and message stand in for content', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const webhook = await create(owner)
  await owner.request({ cmd: 'webhook_update', id: webhook.id, avatar: 'https://img.example/ci.png' })

  await expectPosted(await postHook(server, webhook.token, { content: 'one', username: 'Deploy bot', avatar_url: 'https://img.example/bot.png' }))
  expect((await owner.next('message_new')).message.webhook).toEqual({ id: webhook.id, name: 'Deploy bot', avatar: 'https://img.example/bot.png' })
  await expectPosted(await postHook(server, webhook.token, { text: 'two' }))
  expect((await owner.next('message_new')).message).toMatchObject({ content: 'two', webhook: { id: webhook.id, name: 'CI', avatar: 'https://img.example/ci.png' } })
  await expectPosted(await postHook(server, webhook.token, { content: '', text: 'two and a half' }))
  expect((await owner.next('message_new')).message.content).toBe('two and a half')
  await expectPosted(await postHook(server, webhook.token, { message: 'three' }))
  expect((await owner.next('message_new')).message.content).toBe('three')
  // A mention pings as in a normal message.
  await expectPosted(await postHook(server, webhook.token, { content: 'ping @owner' }))
  expect((await owner.next('message_new')).message.pings).toEqual({ users: ['owner'], roles: [], replies: [] })
})

test.concurrent('embeds are validated like message_new: a bad one is a 400, good ones are stored', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const webhook = await create(owner)

  await expectError(await postHook(server, webhook.token, { embeds: [{ title: 'x'.repeat(257) }] }), 400, 'Embed 0: title must be at most 256 characters')
  await expectError(await postHook(server, webhook.token, { content: 'hi', embeds: 'nope' }), 400, 'Embeds must be an array')
  await expectError(await postHook(server, webhook.token, { embeds: new Array(11).fill({ title: 't' }) }), 400, 'Cannot have more than 10 embeds')
  await owner.expectNone('message_new')

  const embeds = [{ title: 'Release 1.2', description: 'notes', color: 255, fields: [{ name: 'a', value: 'b' }] }]
  await expectPosted(await postHook(server, webhook.token, { embeds }))
  expect((await owner.next('message_new')).message).toEqual({ ...webhookMessage('', { id: webhook.id, name: 'CI', avatar: null }, { embeds }), pings: NO_PINGS })
})

test.concurrent('every failure of the step table, with its status and body; the server keeps working', async () => {
  await using server = await startServer({ limits: { post_content: 10 } })
  const owner = await server.login('owner')
  const webhook = await create(owner)

  await expectError(await postHook(server, null, { content: 'x' }), 401, 'Webhook token required')
  await expectError(await postHook(server, '', { content: 'x' }), 401, 'Webhook token required')
  await expectError(await postHook(server, webhook.token, { content: 'x' }, { 'Content-Type': 'text/plain' }), 415, 'Content-Type must be application/json')
  await expectError(await postHook(server, webhook.token, { content: 'x' }, {}), 415, 'Content-Type must be application/json')
  await expectError(await postHook(server, `${webhook.token.slice(0, -1)}${webhook.token.endsWith('0') ? '1' : '0'}`, { content: 'x' }), 401, 'Invalid webhook token')
  await expectError(await postHook(server, 'short', { content: 'x' }), 401, 'Invalid webhook token')
  await expectError(await postHook(server, webhook.token, '{"content": "x"'), 400, 'Invalid JSON body')
  await expectError(await postHook(server, webhook.token, '[1, 2]'), 400, 'JSON body must be an object')
  await expectError(await postHook(server, webhook.token, {}), 400, 'No content provided')
  await expectError(await postHook(server, webhook.token, { content: '   ', embeds: [] }), 400, 'No content provided')
  await expectError(await postHook(server, webhook.token, { content: 'x'.repeat(11) }), 400, 'Message too long. Maximum length is 10 characters')
  await expectError(await postHook(server, webhook.token, { content: 5 }), 400, 'Content must be a string')
  await expectError(await postHook(server, webhook.token, { content: 'x', username: ['a'] }), 400, 'username must be a string')
  await expectError(await postHook(server, webhook.token, { content: 'x', avatar_url: 1 }), 400, 'avatar_url must be a string')
  // The Content-Type is a prefix match.
  await expectPosted(await postHook(server, webhook.token, { content: '😀'.repeat(10) }, { 'Content-Type': 'application/json; charset=utf-8' }))
  expect((await owner.next('message_new')).message.content).toBe('😀'.repeat(10))
  await owner.expectNone('message_new')
})

test.concurrent('bodies over 10 MiB are refused with 413, declared or streamed, before the token is even looked at', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const webhook = await create(owner)
  const big = JSON.stringify({ content: 'x'.repeat(10 * 1024 * 1024) })

  await expectError(await postHook(server, webhook.token, big), 413, 'Request body too large (max 10MB)')
  await expectError(await postHook(server, 'not-a-token', big), 413, 'Request body too large (max 10MB)')
  // Without a Content-Length (chunked), counted while it streams.
  const chunk = new Uint8Array(1024 * 1024).fill(0x20)
  let sent = 0
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      // Bounded: 12 MiB at most, more than the limit.
      if (sent++ < 12) controller.enqueue(chunk)
      else controller.close()
    },
  })
  const streamed = await fetch(httpUrl(server, `/webhooks?token=${webhook.token}`), { method: 'POST', headers: JSON_TYPE, body: stream })
  await expectError(streamed, 413, 'Request body too large (max 10MB)')
  // Exactly at the limit is fine (and then too long for a message).
  const padded = `{"content":"hi"}`.padEnd(10 * 1024 * 1024, ' ')
  await expectPosted(await postHook(server, webhook.token, padded))
  expect((await owner.next('message_new')).message.content).toBe('hi')
})

const REPO = { full_name: 'octo/app', html_url: 'https://github.com/octo/app' }
const SENDER = { login: 'octocat', avatar_url: 'https://avatars.example/octocat.png' }
const GITHUB = { id: 'github', name: 'GitHub', avatar: 'https://github.githubassets.com/images/modules/logos_page/GitHub-Mark.png' }
const commit = (id: string, message: string) => ({ id, message, url: `https://github.com/octo/app/commit/${id}` })

function pushEmbed(title: string, extra: Fields = {}) {
  return {
    title,
    url: 'https://github.com/octo/app/compare/a...b',
    // 0x24292e, upstream's value (http.md's decimal 2368814 is a typo of it).
    color: 0x24292e,
    author: { name: 'octocat - octo/app', url: 'https://github.com/octo/app', icon_url: 'https://avatars.example/octocat.png' },
    timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    ...extra,
  }
}

test.concurrent('GitHub push events become one embed as http.md describes; other events are refused', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const webhook = await create(owner)
  const github = (event: string, body: Fields) =>
    postHook(server, webhook.token, { repository: REPO, sender: SENDER, compare: 'https://github.com/octo/app/compare/a...b', ...body }, { ...JSON_TYPE, 'X-GitHub-Event': event })
  const nextEmbed = async () => {
    const { message } = await owner.next('message_new')
    expect(message).toMatchObject({ user: 'originChats', content: '', webhook: GITHUB })
    return message.embeds
  }

  await expectPosted(await github('push', { ref: 'refs/heads/main', commits: [commit('0123456789abcdef', 'Fix the build\n\nLong explanation')] }))
  expect(await nextEmbed()).toEqual([pushEmbed('main: 1 commit', { description: '[`0123456`](https://github.com/octo/app/commit/0123456789abcdef) Fix the build' })])

  await expectPosted(await github('push', { ref: 'refs/heads/feature/x', commits: [commit('aaaaaaa111', 'One'), commit('bbbbbbb222', 'Two')] }))
  expect(await nextEmbed()).toEqual([
    pushEmbed('feature/x: 2 commits', {
      description: '[`aaaaaaa`](https://github.com/octo/app/commit/aaaaaaa111) One\n[`bbbbbbb`](https://github.com/octo/app/commit/bbbbbbb222) Two',
    }),
  ])

  await expectPosted(await github('push', { ref: 'refs/heads/old', deleted: true, created: false, commits: [] }))
  expect(await nextEmbed()).toEqual([pushEmbed('old deleted')])
  await expectPosted(await github('push', { ref: 'refs/heads/new', created: true, commits: [commit('ccccccc333', 'Start')] }))
  expect(await nextEmbed()).toEqual([pushEmbed('new created', { description: '[`ccccccc`](https://github.com/octo/app/commit/ccccccc333) Start' })])
  // Without a compare URL, the repository's page.
  await expectPosted(await github('push', { ref: 'refs/heads/main', forced: true, commits: [], compare: undefined }))
  expect(await nextEmbed()).toEqual([pushEmbed('main force-pushed', { url: 'https://github.com/octo/app' })])

  // A push too big for one embed keeps the commit lines that fit (data.md §3.5: description ≤ 4096).
  const many = Array.from({ length: 300 }, (_, i) => commit(`${i}`.padStart(40, 'f'), `Commit number ${i} `.repeat(4)))
  await expectPosted(await github('push', { ref: 'refs/heads/main', commits: many }))
  const [big] = await nextEmbed()
  expect(big.title).toBe('main: 300 commits')
  expect(big.description.length).toBeLessThanOrEqual(4096)
  expect(big.description.split('\n')[0]).toBe(`[\`fffffff\`](https://github.com/octo/app/commit/${'0'.padStart(40, 'f')}) ${'Commit number 0 '.repeat(4)}`)

  await expectError(await github('pull_request', { ref: 'refs/heads/main', action: 'opened' }), 400, 'Unhandled event type: pull_request')
  // GitHub's ping has no ref: it is an ordinary post, without content.
  await expectError(await github('ping', { zen: 'Keep it simple.' }), 400, 'No content provided')
  await owner.expectNone('message_new')
})

test.concurrent('posts are rate limited per webhook: 429 with retry_after, while another webhook still posts', async () => {
  await using server = await startServer({ rate_limiting: { enabled: true, messages_per_minute: 2, burst_limit: 10, cooldown_seconds: 5 } })
  const owner = await server.login('owner')
  const busy = await create(owner, 'general', 'Busy')
  const quiet = await create(owner, 'general', 'Quiet')

  await expectPosted(await postHook(server, busy.token, { content: '1' }))
  await expectPosted(await postHook(server, busy.token, { content: '2' }))
  const limited = await postHook(server, busy.token, { content: '3' })
  expect(limited.status).toBe(429)
  const body = (await limited.json()) as Fields
  expect(body).toEqual({ error: 'Rate limited', retry_after: expect.any(Number) })
  expect(body.retry_after).toBeGreaterThan(0)
  expect(body.retry_after).toBeLessThanOrEqual(60)
  expect(limited.headers.get('retry-after')).toBe(String(body.retry_after))

  await expectPosted(await postHook(server, quiet.token, { content: 'still here' }))
  const contents = [(await owner.next('message_new')).message.content, (await owner.next('message_new')).message.content, (await owner.next('message_new')).message.content]
  expect(contents).toEqual(['1', '2', 'still here'])
})

test.concurrent('regenerate stops the old token at once; a deleted webhook or channel stops posting', async () => {
  await using server = await startServer()
  await server.addChannel({ name: 'builds', type: 'text', permissions: { view: ['user'], send: ['user'] } })
  const owner = await server.login('owner')
  const webhook = await create(owner)
  const builds = await create(owner, 'builds', 'Builds')
  const other = await create(owner, 'general', 'Other')

  const { token } = (await owner.request({ cmd: 'webhook_regenerate', id: webhook.id })).webhook
  await expectError(await postHook(server, webhook.token, { content: 'old' }), 401, 'Invalid webhook token')
  await expectPosted(await postHook(server, token, { content: 'new' }))
  expect((await owner.next('message_new')).message.content).toBe('new')

  await owner.request({ cmd: 'channel_delete', name: 'builds' })
  await expectError(await postHook(server, builds.token, { content: 'gone' }), 401, 'Invalid webhook token')
  await owner.request({ cmd: 'webhook_delete', id: other.id })
  await expectError(await postHook(server, other.token, { content: 'gone' }), 401, 'Invalid webhook token')
  await owner.expectNone('message_new')
})

test.concurrent('after a rename the webhook posts into the renamed channel; after a restart it still works with the same token', async () => {
  await using server = await startServer()
  let owner = await server.login('owner')
  const webhook = await create(owner)
  await expectPosted(await postHook(server, webhook.token, { content: 'before' }))
  await owner.next('message_new')

  await owner.request({ cmd: 'channel_update', current_name: 'general', updates: { name: 'lounge' } })
  await expectPosted(await postHook(server, webhook.token, { content: 'after rename' }))
  const renamed = await owner.next('message_new')
  expect(renamed.channel).toBe('lounge')

  await server.restart()
  owner = await server.login('owner')
  await expectPosted(await postHook(server, webhook.token, { content: 'after restart' }))
  expect(await owner.next('message_new')).toMatchObject({ channel: 'lounge', message: { content: 'after restart' } })
  const history = await owner.request({ cmd: 'messages_get', channel: 'lounge' })
  const author = { id: webhook.id, name: 'CI', avatar: null }
  expect(history.messages).toEqual(['before', 'after rename', 'after restart'].map((content) => webhookMessage(content, author)))
})

test.concurrent('the database holds the token digest only, never the token', async () => {
  await using server = await startServer()
  const owner = await server.login('owner')
  const webhook = await create(owner)
  const { token: regenerated } = (await owner.request({ cmd: 'webhook_regenerate', id: webhook.id })).webhook
  await server.app.stop()

  // The database and its write-ahead log, whichever holds the row.
  const path = join(server.dir, DATABASE_FILE)
  const bytes = Buffer.concat([path, `${path}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file))).toString('latin1')
  const digest = (token: string) => new Bun.CryptoHasher('sha256').update(token).digest('hex')
  expect({ first: bytes.includes(webhook.token), second: bytes.includes(regenerated), digest: bytes.includes(digest(regenerated)) }).toEqual({
    first: false,
    second: false,
    digest: true,
  })
  const db = new Database(path, { readonly: true })
  try {
    const row = db.query('SELECT * FROM webhooks').get() as Packet
    expect(row.token_hash).toBe(digest(regenerated))
    expect(Object.values(row)).not.toContain(regenerated)
  } finally {
    db.close()
  }
  await server.restart()
})

test.concurrent('an address that keeps sending wrong tokens is refused for a while, before any lookup', async () => {
  await using server = await startServer({ security: { auth_failures_per_address_per_minute: 3 } })
  const owner = await server.login('owner')
  const webhook = await create(owner)

  for (let i = 0; i < 3; i++) await expectError(await postHook(server, `guess-${i}`, { content: 'x' }), 401, 'Invalid webhook token')
  for (const token of ['guess-4', webhook.token]) {
    const refused = await postHook(server, token, { content: 'x' })
    expect(refused.status).toBe(429)
    const body = (await refused.json()) as Fields
    expect(body).toEqual({ error: 'Too many invalid webhook tokens', retry_after: expect.any(Number) })
    expect(body.retry_after).toBeGreaterThan(0)
    expect(body.retry_after).toBeLessThanOrEqual(60)
  }
  await owner.expectNone('message_new')
})
