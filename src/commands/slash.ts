import { Type as T } from '@sinclair/typebox'
import { quote } from '../log.ts'
import { topics } from '../net/topics.ts'
import { defineCommand, type Effects, type UserContext } from '../protocol/command.ts'
import { embedsError } from '../protocol/embeds.ts'
import { E, ProtocolError, errorPacket, fail, failPlain } from '../protocol/errors.ts'
import { MAX_ARGS_BYTES, checkArgs, requireBuiltinAccess, requireRegisteredAccess } from '../slash/calls.ts'
import { BUILTIN_AUTHOR, SchemaProblem, parseDefinition } from '../slash/definition.ts'
import { REGISTRY_LIMITS, changePackets, tooManyCommands, type Holder, type Registered } from '../slash/registry.ts'
import { TargetGoneError, type NewMessage } from '../store/types.ts'
import { messageView } from '../views/message.ts'
import { allows, locate, type Located } from './access.ts'

/** Slash commands (commands.md §15); the registry is src/slash/registry.ts. */

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** A text channel the caller may view and send in, with message_new's refusals (compat-notes bug 33). */
async function writableChannel(ctx: UserContext, channel: string): Promise<Located> {
  const located = await locate(ctx, { channel })
  if (!allows(ctx, located.channel, 'send') || !allows(ctx, located.channel, 'view')) fail('You do not have permission to send messages in this channel')
  if (located.channel.type !== 'text') fail('Cannot send messages in this channel type')
  return located
}

/** Stores a slash command's message and shows it to the channel (G-channel, commands.md §15.3). */
async function post(ctx: UserContext, located: Located, message: Omit<NewMessage, 'channel' | 'thread_id'>): Promise<Effects> {
  const { target } = located
  const inserted = ctx.store.messages.insert({ ...message, channel: target.channel, thread_id: target.thread_id })
  ctx.release()
  const stored = await inserted.catch((error) => (error instanceof TargetGoneError ? fail(E.channelNotFound) : Promise.reject(error)))
  return {
    broadcast: {
      topic: topics.channel(target.channel),
      packet: { cmd: 'message_new', message: await messageView(stored, ctx.store.users), channel: target.channel, thread_id: target.thread_id, global: true },
    },
  }
}

function parseBatch(commands: unknown[]) {
  try {
    return commands.map((command, i) => parseDefinition(command, `commands[${i}].`))
  } catch (error) {
    if (error instanceof SchemaProblem) fail(`Invalid command schema: ${error.message}`)
    throw error
  }
}

export const slashRegister = defineCommand({
  cmd: 'slash_register',
  throttle: true,
  schema: T.Object({ commands: T.Optional(T.Unknown()) }),
  validate(_ctx, p) {
    if (!Array.isArray(p.commands) || p.commands.length === 0) fail('Commands must be provided as a list')
    // Before looking at each one: a frame may hold a great many.
    if (p.commands.length > REGISTRY_LIMITS.perHolder) fail(tooManyCommands('connection'))
  },
  run(ctx, p) {
    const commands = p.commands as unknown[]
    const definitions = parseBatch(commands)
    const holder: Holder = { kind: 'connection', session: ctx.session, userId: ctx.user.id, username: ctx.user.username }
    const registry = ctx.services.slash
    // From the refusal check to the change nothing awaits: the whole batch goes in, or none of it.
    const refused = registry.refusal(holder, definitions)
    if (refused) fail(refused)
    // Closed while this frame waited: its commands would never be withdrawn.
    if (!ctx.hub.sockets.has(ctx.session)) return {}
    const change = registry.replace(holder, definitions.map((definition): Registered => ({ definition, holder })))
    ctx.log.info(`slash commands of ${quote(ctx.user.username)} (connection ${ctx.session.id}): ${definitions.map((d) => `/${d.name}`).join(' ')}`)
    return {
      announce: changePackets(change).map((packet) => ({ topic: topics.users, packet })),
      reply: { cmd: 'slash_register', val: `${commands.length} commands registered successfully` },
    }
  },
})

export const slashList = defineCommand({
  cmd: 'slash_list',
  schema: T.Object({}),
  run: (ctx) => ({ reply: { cmd: 'slash_list', commands: ctx.services.slash.list() } }),
})

export const slashCall = defineCommand({
  cmd: 'slash_call',
  throttle: true,
  schema: T.Object({ channel: T.Optional(T.Unknown()), command: T.Optional(T.Unknown()), args: T.Optional(T.Unknown()) }),
  validate(_ctx, p) {
    if (typeof p.channel !== 'string' || p.channel === '') fail('Channel parameter is required for slash commands')
    const args = p.args === undefined ? {} : p.args
    if (!isObject(args)) failPlain('Command args must be an object')
    if (Buffer.byteLength(JSON.stringify(args)) > MAX_ARGS_BYTES) fail(`Command args are too large (at most ${MAX_ARGS_BYTES} bytes of JSON)`)
    if (typeof p.command !== 'string') fail('Command name must be a string')
  },
  async run(ctx, p) {
    const name = p.command as string
    const args = (p.args ?? {}) as Record<string, unknown>
    const located = await writableChannel(ctx, p.channel as string)
    const registry = ctx.services.slash
    const builtin = registry.builtin(name)
    if (builtin) {
      requireBuiltinAccess(builtin.definition, ctx.user.roles)
      const result = await executing(ctx, name, () => builtin.run(ctx, args))
      return postResult(ctx, located, name, result.effects ?? {}, { user: BUILTIN_AUTHOR, content: result.response })
    }
    const entry = registry.registered(name) ?? fail(`Unknown slash command: /${name}`)
    requireRegisteredAccess(entry.definition, ctx.user.roles)
    checkArgs(entry.definition, args)
    const { holder } = entry
    if (holder.kind === 'plugin') {
      const invocation = { session: ctx.session, command: name, args, channel: located.target.channel, user: { id: ctx.user.id, username: ctx.user.username } }
      const answer = pluginAnswer(await executing(ctx, name, () => withTimeout(holder.run(invocation), ctx.config.plugins.handler_timeout_ms)))
      return postResult(ctx, located, name, {}, { user: BUILTIN_AUTHOR, content: answer.content, ...(answer.embeds ? { embeds: answer.embeds } : {}) })
    }
    if (holder.kind === 'connection' && !ctx.hub.sockets.has(holder.session)) fail(`Command handler for /${name} is not currently connected`)
    const packet = {
      cmd: 'slash_call',
      val: { command: name, args, commander: holder.username },
      invoker: ctx.user.id,
      invokerUsername: ctx.user.username,
      channel: located.target.channel,
    }
    // To the connection that registered it, and the same packet answers the caller (compat-notes bug 48).
    if (holder.kind === 'remote') {
      holder.send(packet)
      return { reply: packet }
    }
    return { reply: packet, toSession: [{ session: holder.session, packet }] }
  },
})

/** The handler's own refusals stay as they are; anything unexpected is `Error executing command: …`. */
async function executing<T>(ctx: UserContext, name: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (error instanceof ProtocolError) throw error
    ctx.log.error(`/${name} failed for ${quote(ctx.user.username)}: ${(error as Error)?.stack ?? error}`)
    return fail(`Error executing command: ${(error as Error)?.message ?? error}`)
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: Timer | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
  })
  return Promise.race([work, limit]).finally(() => clearTimeout(timer))
}

/**
 * A built-in's changes are applied even when its message can no longer be stored (the channel
 * went meanwhile): a ban that happened is announced either way.
 */
async function postResult(ctx: UserContext, located: Located, command: string, effects: Effects, message: Omit<NewMessage, 'channel' | 'thread_id' | 'interaction'>) {
  try {
    return { ...effects, ...(await post(ctx, located, { ...message, interaction: { command, username: ctx.user.username } })) }
  } catch (error) {
    if (!(error instanceof ProtocolError)) throw error
    return { ...effects, reply: errorPacket(error.message, 'slash_call') }
  }
}

/** What a plugin's handler may answer: text, `{response, embeds}`, or `{error}` (the caller's error). */
function pluginAnswer(result: unknown): { content: string; embeds?: unknown[] } {
  const answer = typeof result === 'string' ? { response: result } : result
  if (!isObject(answer)) return fail('Error executing command: the plugin gave no response')
  if (typeof answer.error === 'string') return fail(answer.error)
  const content = typeof answer.response === 'string' ? answer.response.trim() : ''
  const embeds = Array.isArray(answer.embeds) && answer.embeds.length > 0 ? answer.embeds : undefined
  if (content === '' && !embeds) return fail('Error executing command: the plugin gave no response')
  const problem = embeds && embedsError(embeds)
  if (problem) fail(`Error executing command: ${problem}`)
  return embeds ? { content, embeds } : { content }
}

export const slashResponse = defineCommand({
  cmd: 'slash_response',
  throttle: true,
  schema: T.Object({
    channel: T.Optional(T.Unknown()),
    response: T.Optional(T.Unknown()),
    embeds: T.Optional(T.Unknown()),
    command: T.Optional(T.Unknown()),
    invoker: T.Optional(T.Unknown()),
  }),
  // Every refusal of slash_response is without `src` (commands.md §15.4).
  validate(ctx, p) {
    if (typeof p.channel !== 'string' || p.channel === '') failPlain('Channel parameter is required for slash commands')
    const hasEmbeds = Array.isArray(p.embeds) ? p.embeds.length > 0 : Boolean(p.embeds)
    if (!p.response && !hasEmbeds) failPlain('Slash response must have content or embeds')
    if (p.response && typeof p.response !== 'string') failPlain('Slash response must be a string')
    const content = typeof p.response === 'string' ? p.response.trim() : ''
    if (content === '' && !hasEmbeds) failPlain('Slash response must have content or embeds')
    if (hasEmbeds) {
      const problem = embedsError(p.embeds)
      if (problem) failPlain(problem)
    }
    if (typeof p.command !== 'string' || p.command === '') failPlain('Command parameter is required for slash responses')
    const max = ctx.config.limits.post_content
    if ([...content].length > max) failPlain(`Message too long. Maximum length is ${max} characters`)
  },
  async run(ctx, p) {
    const command = p.command as string
    const entry = ctx.services.slash.registered(command)
    if (entry?.holder.kind !== 'connection' || entry.holder.userId !== ctx.user.id) failPlain(`You have not registered the slash command /${command}`)
    const located = await plain(writableChannel(ctx, p.channel as string))
    const invokerId = p.invoker === undefined || p.invoker === null || p.invoker === '' ? ctx.user.id : p.invoker
    const invoker = typeof invokerId === 'string' ? await ctx.store.users.get(invokerId) : undefined
    if (!invoker) return failPlain(E.userNotFound)
    const embeds = Array.isArray(p.embeds) && p.embeds.length > 0 ? p.embeds : undefined
    const content = (p.response as string | undefined)?.trim() ?? ''
    const interaction = { command, username: invoker.username }
    return plain(post(ctx, located, { user: ctx.user.id, content, interaction, ...(embeds ? { embeds } : {}) }))
  },
})

/** The same refusal without `src`. */
const plain = <T>(work: Promise<T>): Promise<T> =>
  work.catch((error) => (error instanceof ProtocolError && error.withSource ? failPlain(error.message) : Promise.reject(error)))

export const slashCommands = [slashRegister, slashList, slashCall, slashResponse]
