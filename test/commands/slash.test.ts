import { describe, expect, test } from 'bun:test'
import type { Packet, TestClient } from '../helpers/client.ts'
import { startServer, type TestServer } from '../helpers/server.ts'
import { PluginFolder, nextReport, serverWith } from '../plugins/folder.ts'

const LIMITED = { rate_limiting: { enabled: true, messages_per_minute: 60, burst_limit: 10, cooldown_seconds: 30 } }
const SECRET = { name: 'secret', type: 'text', permissions: { view: ['owner'], send: ['owner'] } }

const ROLL = {
  name: 'roll',
  description: 'Roll a die',
  options: [
    { name: 'sides', description: 'Sides', type: 'int' },
    { name: 'mode', description: 'How', type: 'enum', choices: ['fair', 'loaded'], required: false },
    { name: 'note', description: 'A note', type: 'str', required: false },
  ],
  unknownKey: 'dropped',
}

/** ROLL as listed and broadcast: defaults filled in, unknown keys gone. */
const rollView = (registeredBy: string) => ({
  name: 'roll',
  description: 'Roll a die',
  options: [
    { name: 'sides', description: 'Sides', type: 'int', choices: null, required: true },
    { name: 'mode', description: 'How', type: 'enum', choices: ['fair', 'loaded'], required: false },
    { name: 'note', description: 'A note', type: 'str', choices: null, required: false },
  ],
  whitelistRoles: null,
  blacklistRoles: null,
  ephemeral: false,
  registeredBy,
})

const command = (name: string, extra: Record<string, unknown> = {}) => ({ name, description: `The ${name} command`, ...extra })

const moderator = (name: string, description: string, options: object[]) => ({
  name,
  description,
  options,
  whitelistRoles: ['admin', 'owner'],
  blacklistRoles: null,
  ephemeral: false,
  registeredBy: 'originChats',
})

const BUILTINS = [
  moderator('ban', 'Ban a user from the server', [
    { name: 'username', description: 'The user to ban', type: 'str', required: true },
    { name: 'reason', description: 'Reason for the ban', type: 'str', required: false },
  ]),
  moderator('unban', 'Unban a user from the server', [{ name: 'username', description: 'The user to unban', type: 'str', required: true }]),
  moderator('mute', 'Timeout a user (prevent them from sending messages)', [
    { name: 'username', description: 'The user to mute', type: 'str', required: true },
    { name: 'duration', description: 'Duration in seconds', type: 'int', required: true },
    { name: 'reason', description: 'Reason for the mute', type: 'str', required: false },
  ]),
  moderator('unmute', 'Remove timeout from a user', [{ name: 'username', description: 'The user to unmute', type: 'str', required: true }]),
  {
    name: 'nick',
    description: 'Set or clear your display nickname',
    options: [{ name: 'nickname', description: 'Your new nickname (leave empty to clear)', type: 'str', required: false }],
    whitelistRoles: null,
    blacklistRoles: null,
    ephemeral: false,
    registeredBy: 'originChats',
  },
  { name: 'help', description: 'List all available slash commands', options: [], whitelistRoles: null, blacklistRoles: null, ephemeral: false, registeredBy: 'originChats' },
]

const registerError = (val: string) => ({ cmd: 'error', src: 'slash_register', val })
const callError = (val: string) => ({ cmd: 'error', src: 'slash_call', val })
const plainError = (val: string) => ({ cmd: 'error', val })

const names = (list: Packet) => list.commands.map((c: { name: string }) => c.name)

/**
 * Registers and waits for the reply, and for each of `callers` to hear of it (`slash_add`): a
 * client calls what it was told of, and on another node of a cluster that is when the node knows.
 */
async function register(client: TestClient, commands: unknown[], ...callers: TestClient[]) {
  const reply = await client.request({ cmd: 'slash_register', commands })
  for (const caller of callers) await caller.next('slash_add')
  return reply
}

let listeners = 0

/** Sends `packet` and resolves with the packet answering it, whatever its cmd (matched by `listener`, which is removed). */
async function answerTo(client: TestClient, packet: Packet): Promise<Packet> {
  const listener = `answer-${++listeners}`
  const answered = new Promise<Packet>((resolve) => {
    const onMessage = (event: MessageEvent) => {
      const reply = JSON.parse(String(event.data)) as Packet
      if (reply.listener !== listener) return
      client.ws.removeEventListener('message', onMessage)
      resolve(reply)
    }
    client.ws.addEventListener('message', onMessage)
  })
  client.send({ ...packet, listener })
  const { listener: _, ...reply } = await answered
  // The client kept its own copy too; take it out so later waits do not see it.
  await client.next(reply.cmd, (p) => p.listener === listener)
  return reply as Packet
}

/** Calls a command that posts a message, and returns the caller's copy of it. */
async function call(client: TestClient, name: string, args: Record<string, unknown> = {}, channel = 'general') {
  const answer = await answerTo(client, { cmd: 'slash_call', channel, command: name, args })
  if (answer.cmd !== 'message_new') throw new Error(`/${name} answered ${JSON.stringify(answer)}`)
  return answer
}

async function admin(server: TestServer, name: string) {
  const client = await server.login(name)
  await server.setRoles(name, ['admin', 'user'])
  return client
}

describe('slash_register and slash_list', () => {
  test.concurrent('registers a batch: slash_add to every user first, then the reply; listed after the built-ins', async () => {
    await using server = await startServer()
    const bot = await server.login('bot')
    const alice = await server.login('alice')
    const guest = await server.connect()

    bot.send({ cmd: 'slash_register', commands: [ROLL, command('ping-me')], listener: 'r1' })
    const added = { cmd: 'slash_add', commands: [rollView('bot'), { ...command('ping-me'), options: [], whitelistRoles: null, blacklistRoles: null, ephemeral: false, registeredBy: 'bot' }] }
    expect(await bot.next('slash_add')).toEqual(added)
    expect(await bot.next('slash_register')).toEqual({ cmd: 'slash_register', val: '2 commands registered successfully', listener: 'r1' })
    expect(await alice.next('slash_add')).toEqual(added)
    // Unauthenticated sockets hear nothing.
    guest.send({ cmd: 'ping' })
    await guest.next('auth_error')
    expect(guest.inbox.filter((p) => p.cmd === 'slash_add')).toEqual([])

    const list = await alice.request({ cmd: 'slash_list' })
    expect(list).toEqual({ cmd: 'slash_list', commands: [...BUILTINS, ...added.commands] })
  })

  test.concurrent('schema errors name the field; a batch with one bad command registers nothing', async () => {
    await using server = await startServer()
    const bot = await server.login('bot')
    const asks: Array<[unknown, string]> = [
      [undefined, 'Commands must be provided as a list'],
      [[], 'Commands must be provided as a list'],
      [{ name: 'x' }, 'Commands must be provided as a list'],
      [[5], 'Invalid command schema: commands[0] must be an object'],
      [[{ description: 'no name' }], 'Invalid command schema: commands[0].name must be a string'],
      [[command('a b')], "Invalid command schema: commands[0].name must be 1-32 letters, digits, '-' or '_'"],
      [[command('x'.repeat(33))], "Invalid command schema: commands[0].name must be 1-32 letters, digits, '-' or '_'"],
      [[{ name: 'nodesc' }], 'Invalid command schema: commands[0].description must be a string'],
      [[command('long', { description: 'd'.repeat(201) })], 'Invalid command schema: commands[0].description must be at most 200 characters'],
      [[command('ok'), command('opts', { options: {} })], 'Invalid command schema: commands[1].options must be a list'],
      [[command('t', { options: [{ name: 'o', description: '', type: 'string' }] })], 'Invalid command schema: commands[0].options[0].type must be one of str, int, float, bool, enum'],
      [[command('e', { options: [{ name: 'o', description: '', type: 'enum' }] })], 'Invalid command schema: commands[0].options[0].choices must be a non-empty list for enum options'],
      [[command('e', { options: [{ name: 'o', description: '', type: 'enum', choices: [] }] })], 'Invalid command schema: commands[0].options[0].choices must be a non-empty list for enum options'],
      [[command('r', { options: [{ name: 'o', description: '', type: 'int', required: 'yes' }] })], 'Invalid command schema: commands[0].options[0].required must be a boolean'],
      [[command('w', { whitelistRoles: 'admin' })], 'Invalid command schema: commands[0].whitelistRoles must be a list of role names'],
      [[command('f', { ephemeral: 1 })], 'Invalid command schema: commands[0].ephemeral must be a boolean'],
      [[command('d', { options: [{ name: 'o', description: '', type: 'int' }, { name: 'o', description: '', type: 'str' }] })], "Invalid command schema: commands[0].options[1].name 'o' is used twice"],
      [[command('twice'), command('twice')], 'Invalid command schema: /twice is listed twice'],
      [[command('roll'), command('help')], 'Invalid command schema: /help is a built-in command'],
    ]
    for (const [commands, val] of asks) expect(await bot.error({ cmd: 'slash_register', commands })).toEqual(registerError(val))
    // Nothing of any refused batch went in, and nobody was told of anything.
    expect(names(await bot.request({ cmd: 'slash_list' }))).toEqual(BUILTINS.map((b) => b.name))
    await bot.expectNone('slash_add')
  })

  test.concurrent('definitions are bounded: options, choices, commands per connection, bytes', async () => {
    await using server = await startServer()
    const bot = await server.login('bot')
    const option = (i: number) => ({ name: `o${i}`, description: '', type: 'str' })
    const bounds: Array<[unknown[], string]> = [
      [[command('many', { options: Array.from({ length: 26 }, (_, i) => option(i)) })], 'Invalid command schema: commands[0].options must have at most 25 entries'],
      [
        [command('pick', { options: [{ name: 'o', description: '', type: 'enum', choices: Array.from({ length: 26 }, (_, i) => `c${i}`) }] })],
        'Invalid command schema: commands[0].options[0].choices must have at most 25 entries',
      ],
      [
        [command('pick', { options: [{ name: 'o', description: '', type: 'enum', choices: ['c'.repeat(101)] }] })],
        'Invalid command schema: commands[0].options[0].choices[0] must be a string of at most 100 characters',
      ],
      [Array.from({ length: 51 }, (_, i) => command(`c${i}`)), 'Invalid command schema: at most 50 commands per connection'],
      // Counted before any is looked at.
      [Array.from({ length: 10_000 }, () => 5), 'Invalid command schema: at most 50 commands per connection'],
      [
        Array.from({ length: 50 }, (_, i) => command(`big${i}`, { description: 'd'.repeat(200), options: Array.from({ length: 4 }, (_, j) => ({ ...option(j), description: 'd'.repeat(200) })) })),
        'Invalid command schema: the commands are too large (at most 32768 bytes of JSON)',
      ],
    ]
    for (const [commands, val] of bounds) expect(await bot.error({ cmd: 'slash_register', commands })).toEqual(registerError(val))
    expect(await register(bot, Array.from({ length: 50 }, (_, i) => command(`c${i}`)))).toEqual({ cmd: 'slash_register', val: '50 commands registered successfully' })
  })

  test.concurrent('a name another user holds is refused; registering again replaces the set and announces what went', async () => {
    await using server = await startServer()
    const bot = await server.login('bot')
    const other = await server.login('otherbot')
    await register(bot, [ROLL, command('flip')])
    expect(await other.error({ cmd: 'slash_register', commands: [command('roll')] })).toEqual(registerError('Invalid command schema: /roll is already registered by bot'))

    await other.next('slash_add')
    await register(bot, [command('flip', { description: 'Flip a coin' }), command('draw')])
    expect(await other.next('slash_remove')).toEqual({ cmd: 'slash_remove', commands: ['roll'] })
    expect((await other.next('slash_add')).commands.map((c: { name: string; description: string }) => [c.name, c.description])).toEqual([
      ['flip', 'Flip a coin'],
      ['draw', 'The draw command'],
    ])
    expect(names(await other.request({ cmd: 'slash_list' })).slice(BUILTINS.length)).toEqual(['flip', 'draw'])
  })

  test.concurrent('a second connection of the same user may register: it takes the user’s commands over', async () => {
    await using server = await startServer()
    const first = await server.login('bot')
    const second = await server.login('bot')
    const alice = await server.login('alice')
    await register(first, [ROLL, command('flip')])
    await alice.next('slash_add')
    expect(await register(second, [ROLL])).toEqual({ cmd: 'slash_register', val: '1 commands registered successfully' })
    expect(await alice.next('slash_remove')).toEqual({ cmd: 'slash_remove', commands: ['flip'] })
    expect((await alice.next('slash_add')).commands).toEqual([rollView('bot')])

    // Calls reach the connection that registered last.
    alice.send({ cmd: 'slash_call', channel: 'general', command: 'roll', args: { sides: 6 } })
    expect((await second.next('slash_call')).val).toEqual({ command: 'roll', args: { sides: 6 }, commander: 'bot' })
    await first.expectNone('slash_call')
    // The first connection closing takes nothing with it any more.
    await first.close()
    expect(names(await alice.request({ cmd: 'slash_list' })).slice(BUILTINS.length)).toEqual(['roll'])
    await alice.expectNone('slash_remove')
  })

  test.concurrent('a closing connection takes its commands: slash_remove to all, before user_disconnect; nothing survives a restart', async () => {
    await using server = await startServer()
    const bot = await server.login('bot')
    const alice = await server.login('alice')
    await register(bot, [ROLL, command('flip')])
    await bot.close()
    expect(await alice.next('user_disconnect')).toEqual({ cmd: 'user_disconnect', username: 'bot' })
    // Sent first on the same socket, so already here (README §2.7 order).
    expect(alice.inbox.filter((p) => p.cmd === 'slash_remove')).toEqual([{ cmd: 'slash_remove', commands: ['roll', 'flip'] }])
    alice.drain('slash_remove')
    expect(names(await alice.request({ cmd: 'slash_list' }))).toEqual(BUILTINS.map((b) => b.name))

    const again = await server.login('bot')
    await register(again, [ROLL])
    await server.restart()
    const later = await server.login('alice')
    // Registrations belong to connections, which a restart ends: only the built-ins remain.
    expect(await later.request({ cmd: 'slash_list' })).toEqual({ cmd: 'slash_list', commands: BUILTINS })
  })
})

describe('slash_call of a registered command', () => {
  test.concurrent('reaches the registering connection; the caller gets the same packet as its reply', async () => {
    await using server = await startServer()
    const bot = await server.login('bot')
    const alice = await server.login('alice')
    await register(bot, [ROLL], alice)
    alice.send({ cmd: 'slash_call', channel: 'general', command: 'roll', args: { sides: 20, mode: 'fair' }, listener: 'c1' })
    const packet = {
      cmd: 'slash_call',
      val: { command: 'roll', args: { sides: 20, mode: 'fair' }, commander: 'bot' },
      invoker: 'rotur-alice',
      invokerUsername: 'alice',
      channel: 'general',
    }
    expect(await bot.next('slash_call')).toEqual(packet)
    expect(await alice.next('slash_call')).toEqual({ ...packet, listener: 'c1' })
  })

  test.concurrent('arguments are checked against the options: unknown, missing, type, choice; args must be a small object', async () => {
    await using server = await startServer()
    const bot = await server.login('bot')
    const alice = await server.login('alice')
    await register(bot, [ROLL], alice)
    const roll = (args: unknown) => alice.error({ cmd: 'slash_call', channel: 'general', command: 'roll', args })
    expect(await roll({ sides: 6, colour: 'red' })).toEqual(callError('Unknown argument: colour'))
    expect(await roll({ mode: 'fair' })).toEqual(callError('Missing required argument: sides'))
    expect(await roll({ sides: '6' })).toEqual(plainError("Invalid value for 'sides': Expected integer, got str"))
    expect(await roll({ sides: 6.5 })).toEqual(plainError("Invalid value for 'sides': Expected integer, got float"))
    expect(await roll({ sides: true })).toEqual(plainError("Invalid value for 'sides': Expected integer, got bool"))
    expect(await roll({ sides: 6, note: null })).toEqual(plainError("Invalid value for 'note': Expected string, got NoneType"))
    expect(await roll({ sides: 6, mode: 'rigged' })).toEqual(plainError("Invalid value for 'mode': Expected one of: fair, loaded"))
    expect(await roll([6])).toEqual(plainError('Command args must be an object'))
    expect(await roll({ sides: 6, note: 'n'.repeat(5000) })).toEqual(callError('Command args are too large (at most 4096 bytes of JSON)'))
    expect(await alice.error({ cmd: 'slash_call', command: 'roll', args: {} })).toEqual(callError('Channel parameter is required for slash commands'))
    expect(await alice.error({ cmd: 'slash_call', channel: 'general', command: 5 })).toEqual(callError('Command name must be a string'))
    expect(await alice.error({ cmd: 'slash_call', channel: 'general', command: 'nope' })).toEqual(callError('Unknown slash command: /nope'))
    await bot.expectNone('slash_call')
  })

  test.concurrent('whitelists mean any listed role, for built-ins and registered commands; blacklists refuse', async () => {
    await using server = await startServer()
    const bot = await server.login('bot')
    const mod = await server.login('mod')
    await server.setRoles('mod', ['moderator', 'user'])
    const alice = await server.login('alice')
    await register(bot, [command('staff', { whitelistRoles: ['admin', 'moderator'] }), command('public', { blacklistRoles: ['moderator'] })], mod, alice)

    mod.send({ cmd: 'slash_call', channel: 'general', command: 'staff' })
    expect((await bot.next('slash_call')).invokerUsername).toBe('mod')
    expect(await alice.error({ cmd: 'slash_call', channel: 'general', command: 'staff' })).toEqual(plainError("Access denied: 'admin' role required"))
    expect(await mod.error({ cmd: 'slash_call', channel: 'general', command: 'public' })).toEqual(plainError("Access denied: 'moderator' role is forbidden"))
    // Built-ins: `admin` or `owner`; a moderator has neither.
    expect(await mod.error({ cmd: 'slash_call', channel: 'general', command: 'ban', args: { username: 'alice' } })).toEqual(callError("Access denied: 'admin' role required"))
  })

  test.concurrent('the caller must be able to view and send in an existing text channel', async () => {
    await using server = await startServer()
    await server.addChannel(SECRET)
    await server.addChannel({ name: 'lobby', type: 'separator', permissions: { view: ['user'], send: ['user'] } })
    const bot = await server.login('bot')
    const alice = await server.login('alice')
    await register(bot, [ROLL], alice)
    const roll = (channel: string) => alice.error({ cmd: 'slash_call', channel, command: 'roll', args: { sides: 6 } })
    expect(await roll('nowhere')).toEqual(callError('Channel not found'))
    expect(await roll('secret')).toEqual(callError('You do not have permission to send messages in this channel'))
    expect(await roll('lobby')).toEqual(callError('Cannot send messages in this channel type'))
    expect(await alice.error({ cmd: 'slash_call', channel: 'secret', command: 'nick', args: { nickname: 'Al' } })).toEqual(
      callError('You do not have permission to send messages in this channel'),
    )
    await bot.expectNone('slash_call')
  })
})

describe('slash_response', () => {
  test.concurrent('posts the bot’s answer with the interaction to the channel’s viewers only', async () => {
    await using server = await startServer()
    await server.addChannel(SECRET)
    const owner = await server.login('owner')
    const alice = await server.login('alice')
    await register(owner, [ROLL])

    owner.send({ cmd: 'slash_response', channel: 'secret', command: 'roll', response: '  You rolled 4  ', invoker: 'rotur-owner', embeds: [{ title: 'Die' }] })
    const posted = await owner.next('message_new')
    expect(posted).toEqual({
      cmd: 'message_new',
      channel: 'secret',
      thread_id: null,
      global: true,
      message: {
        id: expect.any(String),
        user: 'owner',
        content: 'You rolled 4',
        timestamp: expect.any(Number),
        embeds: [{ title: 'Die' }],
        pinned: false,
        type: 'message',
        interaction: { command: 'roll', username: 'owner' },
      },
    })
    // alice cannot view #secret.
    await alice.expectNone('message_new')
    const history = await owner.request({ cmd: 'messages_get', channel: 'secret' })
    expect(history.messages).toEqual([posted.message])
  })

  test.concurrent('defaults the invoker to the responder; refuses what is missing, unknown or not the responder’s', async () => {
    await using server = await startServer()
    const bot = await server.login('bot')
    const alice = await server.login('alice')
    await register(bot, [ROLL])
    const respond = (client: TestClient, fields: Record<string, unknown>) => client.error({ cmd: 'slash_response', ...fields })
    expect(await respond(bot, { response: 'x', command: 'roll' })).toEqual(plainError('Channel parameter is required for slash commands'))
    expect(await respond(bot, { channel: 'general', command: 'roll' })).toEqual(plainError('Slash response must have content or embeds'))
    expect(await respond(bot, { channel: 'general', command: 'roll', response: '   ' })).toEqual(plainError('Slash response must have content or embeds'))
    expect(await respond(bot, { channel: 'general', command: 'roll', response: 5 })).toEqual(plainError('Slash response must be a string'))
    expect(await respond(bot, { channel: 'general', command: 'roll', embeds: [{ color: -1 }] })).toEqual(plainError('Embed 0: color must be an integer from 0 to 16777215'))
    expect(await respond(bot, { channel: 'general', response: 'x' })).toEqual(plainError('Command parameter is required for slash responses'))
    expect(await respond(bot, { channel: 'general', command: 'roll', response: 'x'.repeat(2001) })).toEqual(plainError('Message too long. Maximum length is 2000 characters'))
    expect(await respond(alice, { channel: 'general', command: 'roll', response: 'forged' })).toEqual(plainError('You have not registered the slash command /roll'))
    expect(await respond(bot, { channel: 'general', command: 'help', response: 'forged' })).toEqual(plainError('You have not registered the slash command /help'))
    expect(await respond(bot, { channel: 'nowhere', command: 'roll', response: 'x' })).toEqual(plainError('Channel not found'))
    expect(await respond(bot, { channel: 'general', command: 'roll', response: 'x', invoker: 'nobody' })).toEqual(plainError('User not found'))
    await alice.expectNone('message_new')

    bot.send({ cmd: 'slash_response', channel: 'general', command: 'roll', response: 'six' })
    expect((await alice.next('message_new')).message).toMatchObject({ user: 'bot', content: 'six', interaction: { command: 'roll', username: 'bot' } })
  })
})

describe('built-in commands', () => {
  test.concurrent('/ban and /unban: the message, the disconnect, the modlog; their errors', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    const carol = await admin(server, 'carol')
    const mallory = await server.login('mallory')

    const banned = await call(carol, 'ban', { username: 'mallory', reason: 'spam' })
    expect(banned).toEqual({
      cmd: 'message_new',
      channel: 'general',
      thread_id: null,
      global: true,
      message: {
        id: expect.any(String),
        user: 'originChats',
        content: '🚫 **mallory** has been banned.\n**Reason:** spam',
        timestamp: expect.any(Number),
        pinned: false,
        type: 'message',
        interaction: { command: 'ban', username: 'carol' },
      },
    })
    expect((await owner.next('message_new')).message).toEqual(banned.message)
    expect(await mallory.next('disconnect')).toEqual({ cmd: 'disconnect', reason: 'You have been banned' })
    await mallory.closed

    const ban = (args: Record<string, unknown>) => carol.error({ cmd: 'slash_call', channel: 'general', command: 'ban', args })
    expect(await ban({})).toEqual(callError('Username is required'))
    expect(await ban({ username: 'ghost' })).toEqual(callError("User 'ghost' not found"))
    expect(await ban({ username: 'owner' })).toEqual(callError('Cannot ban the server owner'))
    expect(await ban({ username: 'mallory' })).toEqual(callError("User 'mallory' is already banned"))
    // The ban's effects were all applied before carol's later frames were answered.
    const [entry] = (await server.app.store.modlog.list({ limit: 1, offset: 0 })).entries
    expect(entry).toMatchObject({ action: 'user_ban', actor_name: 'carol', target_name: 'mallory', details: { reason: 'spam' } })

    expect((await call(carol, 'unban', { username: 'mallory' })).message.content).toBe('✅ **mallory** has been unbanned.')
    expect(await carol.error({ cmd: 'slash_call', channel: 'general', command: 'unban', args: { username: 'mallory' } })).toEqual(callError("User 'mallory' is not banned"))
    const back = await server.login('mallory')
    expect(back.ready.user.username).toBe('mallory')
  })

  test.concurrent('/mute times the user out and tells their first connection; /unmute lifts it', async () => {
    await using server = await startServer(LIMITED)
    const owner = await server.login('owner')
    const first = await server.login('bob')
    const second = await server.login('bob')
    const muted = await call(owner, 'mute', { username: 'bob', duration: 60, reason: 'spam' })
    expect(muted.message.content).toBe('🔇 **bob** has been muted for 60 seconds.\n**Reason:** spam')
    expect(await first.next('rate_limit')).toEqual({ cmd: 'rate_limit', reason: 'Muted: spam', length: 60000 })
    await second.expectNone('rate_limit')
    second.send({ cmd: 'message_new', channel: 'general', content: 'let me talk' })
    expect((await second.next('rate_limit')).reason).toMatch(/^You are in timeout for \d+\.\d more seconds$/)

    const mute = (args: Record<string, unknown>) => owner.error({ cmd: 'slash_call', channel: 'general', command: 'mute', args })
    expect(await mute({ username: 'bob' })).toEqual(callError('Duration is required'))
    expect(await mute({ username: 'bob', duration: -5 })).toEqual(callError('Duration must be a positive number'))
    expect(await mute({ username: 'bob', duration: 'soon' })).toEqual(callError('Duration must be a valid number'))
    expect(await mute({ username: 'owner', duration: 5 })).toEqual(callError('Cannot mute the server owner'))

    expect((await call(owner, 'unmute', { username: 'bob' })).message.content).toBe('🔊 **bob** has been unmuted.')
    second.send({ cmd: 'message_new', channel: 'general', content: 'free again' })
    expect((await owner.next('message_new', (p) => p.message.user === 'bob')).message.content).toBe('free again')
  })

  test.concurrent('/mute without rate limiting answers that the limiter is not available', async () => {
    await using server = await startServer()
    const owner = await server.login('owner')
    await server.login('bob')
    expect(await owner.error({ cmd: 'slash_call', channel: 'general', command: 'mute', args: { username: 'bob', duration: '30' } })).toEqual(
      callError('Rate limiter not available'),
    )
  })

  test.concurrent('/nick sets and clears the caller’s nickname with nickname_update / nickname_remove to all', async () => {
    await using server = await startServer()
    const alice = await server.login('alice')
    const bob = await server.login('bob')
    expect((await call(alice, 'nick', { nickname: '  Ally  ' })).message.content).toBe('Nickname set to **Ally**')
    expect(await bob.next('nickname_update')).toEqual({ cmd: 'nickname_update', user: 'rotur-alice', username: 'alice', nickname: 'Ally' })
    expect((await server.app.store.users.getByUsername('alice'))?.nickname).toBe('Ally')

    const nick = (args: Record<string, unknown>) => alice.error({ cmd: 'slash_call', channel: 'general', command: 'nick', args })
    expect(await nick({ nickname: 'x'.repeat(21) })).toEqual(callError('Nickname too long (max 20 characters)'))
    expect(await nick({ nickname: 'a\u200Bb' })).toEqual(callError('Nickname contains invalid characters'))
    // Someone else's name, or a look-alike of it, would let alice pass for them.
    expect(await nick({ nickname: 'B0B' })).toEqual(callError('Nickname already taken'))

    expect((await call(alice, 'nick')).message.content).toBe('Nickname cleared')
    expect(await bob.next('nickname_remove')).toEqual({ cmd: 'nickname_remove', user: 'rotur-alice', username: 'alice' })
    expect((await call(alice, 'nick', { nickname: '' })).message.content).toBe("You don't have a nickname set. Use `/nick <name>` to set one.")
    await bob.expectNone('nickname_remove')
  })

  test.concurrent('/nick of a local account clears back to the name it registered with', async () => {
    await using server = await startServer()
    const dave = await server.register('dave')
    const watcher = await server.login('watcher')
    await call(dave, 'nick', { nickname: 'Davey' })
    expect((await watcher.next('nickname_update')).nickname).toBe('Davey')
    expect((await call(dave, 'nick')).message.content).toBe('Nickname cleared')
    expect(await watcher.next('nickname_update')).toEqual({ cmd: 'nickname_update', user: 'USR:local_dave', username: 'USR:local_dave', nickname: 'dave' })
    expect((await call(dave, 'nick')).message.content).toBe("You don't have a nickname set. Use `/nick <name>` to set one.")
  })

  test.concurrent('/help lists what the caller may use, by name', async () => {
    await using server = await startServer()
    const bot = await server.login('bot')
    const alice = await server.login('alice')
    await register(bot, [ROLL, command('staff', { whitelistRoles: ['admin'] })], alice)
    expect((await call(alice, 'help')).message.content).toBe(
      ['**Available Commands:**', '• `/help` - List all available slash commands', '• `/nick` - Set or clear your display nickname', '• `/roll` - Roll a die'].join('\n'),
    )
    const owner = await server.login('owner')
    const listed = (await call(owner, 'help')).message.content.split('\n').map((line: string) => line.match(/`\/(\S+)`/)?.[1]).filter(Boolean)
    expect(listed).toEqual(['ban', 'help', 'mute', 'nick', 'roll', 'unban', 'unmute'])
  })
})

describe('plugin slash commands', () => {
  const DICE = `
export const getInfo = () => ({ name: 'Dice', handles: [] })
export function setup(api) {
  api.slash.register(
    { name: 'dice', description: 'Roll dice', options: [{ name: 'count', description: 'How many', type: 'int' }] },
    (call) => call.args.count > 3 ? { error: 'Too many dice' } : { response: call.user.username + ' rolled ' + call.args.count + ' in ' + call.channel },
  )
  api.slash.register({ name: 'boom', description: 'Fails' }, async () => { throw new Error('kaboom') })
}
`

  test.concurrent('a plugin registers a command; calls post its answer as originChats; unloading withdraws it', async () => {
    await using folder = await PluginFolder.create({ 'dice.ts': DICE })
    await using server = await serverWith(folder)
    const alice = await server.login('alice')
    const list = await alice.request({ cmd: 'slash_list' })
    expect(list.commands.at(-2)).toEqual({
      name: 'dice',
      description: 'Roll dice',
      options: [{ name: 'count', description: 'How many', type: 'int', choices: null, required: true }],
      whitelistRoles: null,
      blacklistRoles: null,
      ephemeral: false,
      registeredBy: 'originChats',
    })

    const rolled = await call(alice, 'dice', { count: 2 })
    expect(rolled.message).toMatchObject({ user: 'originChats', content: 'alice rolled 2 in general', interaction: { command: 'dice', username: 'alice' } })
    expect(await alice.error({ cmd: 'slash_call', channel: 'general', command: 'dice', args: { count: 9 } })).toEqual(callError('Too many dice'))
    expect(await alice.error({ cmd: 'slash_call', channel: 'general', command: 'boom' })).toEqual(callError('Error executing command: kaboom'))
    expect(await alice.error({ cmd: 'slash_call', channel: 'general', command: 'dice', args: { count: 'two' } })).toEqual(
      plainError("Invalid value for 'count': Expected integer, got str"),
    )
    // Nobody else may take the name, nor answer for it.
    const bot = await server.login('bot')
    expect(await bot.error({ cmd: 'slash_register', commands: [command('dice')] })).toEqual(registerError('Invalid command schema: /dice is already registered by originChats'))
    expect(await bot.error({ cmd: 'slash_response', channel: 'general', command: 'dice', response: 'x' })).toEqual(plainError('You have not registered the slash command /dice'))

    const unloaded = nextReport(server.app.plugins, { type: 'unloaded', plugin: 'dice' })
    await folder.remove('dice.ts')
    await unloaded
    expect(await alice.next('slash_remove')).toEqual({ cmd: 'slash_remove', commands: ['dice', 'boom'] })
    expect(await alice.error({ cmd: 'slash_call', channel: 'general', command: 'dice', args: { count: 1 } })).toEqual(callError('Unknown slash command: /dice'))
  })

  test.concurrent('a reload swaps the old version’s commands for the new one’s; a bad definition fails the load', async () => {
    await using folder = await PluginFolder.create({ 'dice.ts': DICE })
    await using server = await serverWith(folder)
    const alice = await server.login('alice')
    const reloaded = nextReport(server.app.plugins, { type: 'loaded', plugin: 'dice' })
    await folder.write('dice.ts', DICE.replace("'dice'", "'dice2'"))
    await reloaded
    expect(await alice.next('slash_remove')).toEqual({ cmd: 'slash_remove', commands: ['dice', 'boom'] })
    expect((await alice.next('slash_add')).commands.map((c: { name: string }) => c.name)).toEqual(['dice2', 'boom'])

    const failed = nextReport(server.app.plugins, { type: 'load_failed', plugin: 'broken' })
    await folder.write('broken.ts', DICE.replace("type: 'int'", "type: 'integer'"))
    expect(await failed).toEqual({
      type: 'load_failed',
      plugin: 'broken',
      error: 'Invalid command schema: options[0].type must be one of str, int, float, bool, enum',
    })
    expect(names(await alice.request({ cmd: 'slash_list' })).slice(BUILTINS.length)).toEqual(['dice2', 'boom'])
  })
})
