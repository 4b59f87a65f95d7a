import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler'
import type { TSchema } from '@sinclair/typebox'
import type { Bus } from '../bus/types.ts'
import type { Peers } from '../cluster/types.ts'
import { logAction, record } from '../audit/modlog.ts'
import { hasPermission, isBanned } from '../auth/permissions.ts'
import { topics } from '../net/topics.ts'
import type { Store } from '../store/types.ts'
import type { Config } from '../config/schema.ts'
import type { PluginRegistry } from '../plugins/registry.ts'
import { visibleChannels, type VoiceState } from '../views/channels.ts'
import { quote, type Logger } from '../log.ts'
import { CloseCode, type Hub } from '../net/hub.ts'
import type { Session } from '../net/session.ts'
import type { AnyCommand, Context, Effects, UserContext } from './command.ts'
import { BANNED_REASON, E, ProtocolError, authError, disconnectPacket, errorPacket, rateLimitPacket, type Packet } from './errors.ts'
import { describeSchemaError } from './schema-errors.ts'

interface Compiled {
  spec: AnyCommand
  check: TypeCheck<TSchema>
}

export interface RouterDeps {
  commands: AnyCommand[]
  bus: Bus
  hub: Hub
  store: Store
  log: Logger
  /** A fresh context for each frame, so config reloads apply at once. */
  context(session: Session, release: () => void): Context
  /** Runs the success sequence once a login effect is produced. */
  completeLogin(ctx: Context, login: NonNullable<Effects['login']>): Promise<void>
  /** The configuration in force, for effects applied outside a command. */
  config(): Config
  plugins: PluginRegistry
  /** Who is in which voice call, for the `voice_state` of pushed channel lists. */
  voice?: VoiceState
  /** Queues a message's Web Push notifications (Effects.push). */
  notify?(job: NonNullable<Effects['push']>): void
  /** Cluster mode: the other nodes, told of disconnects and access changes. */
  peers?: Peers
  /** Hears when a frame's answers are sent: its command if known, and the time since it started. */
  answered?(cmd: string | undefined, seconds: number): void
}

/** Python's type names, because upstream's error text names them. */
const pythonType = (value: unknown) =>
  Array.isArray(value) ? 'list' : value === null ? 'NoneType' : typeof value === 'string' ? 'str' : typeof value === 'boolean' ? 'bool' : Number.isInteger(value) ? 'int' : 'float'

/**
 * One frame in, at most one answer out, the same eight steps for every command: parse, look
 * up, gate on authentication, rate limit, requirement, schema, validate, run, then apply the
 * effects. Any error becomes exactly one packet to the caller; nothing escapes.
 */
export class Router {
  private readonly table = new Map<string, Compiled>()

  constructor(private readonly deps: RouterDeps) {
    for (const spec of deps.commands) {
      if (this.table.has(spec.cmd)) throw new Error(`duplicate command in table: ${spec.cmd}`)
      this.table.set(spec.cmd, { spec, check: TypeCompiler.Compile(spec.schema) })
    }
  }

  commandNames(): string[] {
    return [...this.table.keys()]
  }

  /**
   * Handles one frame. Resolves when the connection's next frame may start: when this one is
   * done, or earlier once the command calls `ctx.release()`. Whatever happens, this frame's
   * answers leave after those of every earlier frame of the connection.
   */
  dispatch(session: Session, frame: string | Buffer): Promise<void> {
    const started = performance.now()
    const earlier = session.answered
    let answered!: () => void
    session.answered = new Promise<void>((resolve) => (answered = resolve))
    return new Promise<void>((release) => {
      this.evaluate(session, frame, release)
        .then(async (outcome) => {
          await earlier
          await this.deliver(session, outcome)
          this.deps.answered?.(outcome.cmd, (performance.now() - started) / 1000)
        })
        .catch((error) => this.deps.log.error(`connection ${session.id}: ${(error as Error)?.stack ?? error}`))
        .finally(() => {
          answered()
          release()
        })
    })
  }

  private async evaluate(session: Session, frame: string | Buffer, release: () => void): Promise<Outcome> {
    const parsed = this.parse(frame)
    if ('refusal' in parsed) return { send: parsed.refusal }
    const packet = parsed.packet
    const cmd = packet.cmd
    const listener = typeof packet.listener === 'string' ? packet.listener : undefined
    const entry = typeof cmd === 'string' ? this.table.get(cmd) : undefined
    const authed = session.user !== null
    if (!authed && entry?.spec.auth !== 'guest') return { send: authError(E.authRequired) }
    if (!entry || (authed && entry.spec.auth === 'guest')) {
      // Upstream prints Python's None for a missing cmd, and drops `src` in that case only.
      if (cmd === undefined) return { send: withListener(errorPacket(E.unknownCommand('None')), listener) }
      return { send: withListener(errorPacket(E.unknownCommand(String(cmd)), String(cmd)), listener) }
    }
    const { spec, check } = entry
    const ctx = this.deps.context(session, release)
    try {
      const effects = authed ? await this.runUser(ctx, spec, check, packet) : await this.runGuest(ctx, spec, check, packet)
      return { ctx, effects, listener, cmd: spec.cmd }
    } catch (error) {
      if (error instanceof RateLimited) return { send: withListener(error.packet, listener), cmd: spec.cmd }
      if (error instanceof Banned) return { send: disconnectPacket(BANNED_REASON), close: true, cmd: spec.cmd }
      if (error instanceof ProtocolError) {
        if (authed) this.deps.log.debug(`${spec.cmd} by ${quote(session.user!.username)} refused: ${quote(error.message)}`)
        else this.deps.log.debug(`connection ${session.id} ${spec.cmd} failed: ${quote(error.message)}`)
        const src = error.withSource ? spec.cmd : undefined
        return { send: authed ? withListener(errorPacket(error.message, src), listener) : authError(error.message), cmd: spec.cmd }
      }
      this.deps.log.error(`${spec.cmd} failed for ${session.user ? quote(session.user.username) : `connection ${session.id}`}: ${(error as Error)?.stack ?? error}`)
      return { send: authed ? withListener(errorPacket(E.internal, spec.cmd), listener) : authError(E.internal), cmd: spec.cmd }
    }
  }

  private async deliver(session: Session, outcome: Outcome) {
    if (!('send' in outcome)) return this.apply(outcome.ctx, outcome.effects, outcome.listener)
    this.send(session, outcome.send)
    if (outcome.close) session.ws.close(CloseCode.normal)
  }

  /** The request object, or the error packet that answers an unusable frame. */
  private parse(frame: string | Buffer): { packet: Packet } | { refusal: Packet } {
    if (typeof frame !== 'string') return { refusal: errorPacket(E.binaryFrame) }
    let value: unknown
    try {
      value = JSON.parse(frame)
    } catch {
      return { refusal: errorPacket(E.invalidJson) }
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return { refusal: errorPacket(E.notAnObject(pythonType(value))) }
    return { packet: value as Packet }
  }

  private async runGuest(ctx: Context, spec: AnyCommand, check: TypeCheck<TSchema>, packet: Packet) {
    this.checkSchema(spec, check, packet)
    await spec.validate?.(ctx, packet)
    return (spec.run as (ctx: Context, p: unknown) => Effects | Promise<Effects>)(ctx, packet)
  }

  private async runUser(ctx: Context, spec: AnyCommand, check: TypeCheck<TSchema>, packet: Packet) {
    const user = await ctx.store.users.get(ctx.session.user!.id)
    if (!user || user.roles.length === 0) throw new ProtocolError(E.rolesNotFound, false)
    // Whatever socket it arrives on (one that authenticated while the ban was being applied, too).
    if (isBanned(user.roles)) throw new Banned()
    const userCtx: UserContext = { ...ctx, user }
    if (spec.throttle) await this.consumeAction(userCtx)
    if (spec.rateLimit === 'first') await this.consumeRate(userCtx, spec)
    if (spec.requires) await this.checkRequirement(userCtx, spec.requires)
    this.checkSchema(spec, check, packet)
    await spec.validate?.(userCtx, packet)
    if (spec.rateLimit === 'validated') await this.consumeRate(userCtx, spec)
    return (spec.run as (ctx: UserContext, p: unknown) => Effects | Promise<Effects>)(userCtx, packet)
  }

  private checkSchema(spec: AnyCommand, check: TypeCheck<TSchema>, packet: Packet) {
    if (check.Check(packet)) return
    const detail = describeSchemaError(check.Errors(packet).First())
    throw new ProtocolError(typeof spec.invalid === 'function' ? spec.invalid(detail) : (spec.invalid ?? detail), true)
  }

  private async checkRequirement(ctx: UserContext, requirement: NonNullable<AnyCommand['requires']>) {
    if ('role' in requirement) {
      if (!ctx.user.roles.includes(requirement.role)) throw new ProtocolError(E.roleRequired(requirement.role), false)
      return
    }
    const known = await ctx.roles()
    const wanted = 'permission' in requirement ? [requirement.permission] : requirement.anyPermission
    if (!wanted.some((permission) => hasPermission(ctx.user.roles, permission, known))) {
      throw new ProtocolError(E.permissionRequired(wanted.join("' or '")), true)
    }
  }

  /** The limiter answers with a `rate_limit` packet instead of the command's reply. */
  private async consumeRate(ctx: UserContext, spec: AnyCommand) {
    if (!ctx.config.rate_limiting.enabled) return
    const decision = await ctx.limiter.check(ctx.user.id)
    if (!decision.allowed) throw new RateLimited(rateLimitPacket(decision.wait, spec.rateLimitReason ? decision.reason : undefined))
  }

  private async consumeAction(ctx: UserContext) {
    const decision = await ctx.actions.check(ctx.user.id)
    if (!decision.allowed) throw new RateLimited(rateLimitPacket(decision.wait, decision.reason))
  }

  /** Applies a command's effects; also used by built-in plugins acting for their caller. */
  async apply(ctx: Context, effects: Effects, listener?: string) {
    const { bus } = this.deps
    const session = ctx.session
    // Recorded first: whoever sees an action, its caller included, can already find it in the modlog.
    await this.audit(effects, session.user, ctx.config)
    if (effects.login) await this.deps.completeLogin(ctx, effects.login)
    for (const { topic, packet } of effects.announce ?? []) bus.publish(topic, packet)
    if (effects.reply) this.send(session, withListener(effects.reply, listener))
    if (effects.broadcast) {
      const { topic, packet } = effects.broadcast
      const data = bus.publish(topic, packet, session)
      // The hot path: without a listener the caller's copy is the very frame the others got.
      if (listener === undefined) session.ws.send(data)
      else this.send(session, withListener(packet, listener))
    }
    await this.applyAround(effects, { session, plugins: ctx.plugins })
  }

  /** Effects of a change made outside any connection (the owner's command line), recorded as `actor`. */
  async applyAs(actor: Actor, effects: Effects): Promise<void> {
    const config = this.deps.config()
    await this.audit(effects, actor, config)
    await this.applyAround(effects, { session: null, plugins: this.deps.plugins })
  }

  /** `actor` as logged in: the record may be gone once the effects apply (an owner deleting their own account). */
  private async audit(effects: Effects, actor: Actor | null, config: Config) {
    if (!actor) return
    for (const audit of effects.audit ?? []) {
      logAction(this.deps.log, actor, audit)
      await record(this.deps.store.modlog, config, actor, audit)
    }
  }

  /** What reaches others: publishes, access changes, disconnects, plugin events. */
  private async applyAround(effects: Effects, by: { session: Session | null; plugins: PluginRegistry }) {
    const { bus, hub } = this.deps
    for (const { topic, packet } of effects.publish ?? []) bus.publish(topic, packet)
    for (const { userId, packet } of effects.toFirstConnection ?? []) {
      // In a cluster the first connection may be on any node; only Redis knows which.
      if (this.deps.peers) this.deps.peers.toFirstConnection(userId, packet)
      else {
        const first = hub.sessionsOf(userId)[0]
        if (first) hub.send(first, packet)
      }
    }
    for (const { session, packet } of effects.toSession ?? []) hub.send(session, packet)
    if (effects.channelsChanged) await this.pushChannelLists(hub.onlineAnywhere(), 'all')
    else if (effects.refreshAccess) await this.pushChannelLists(effects.refreshAccess)
    for (const { userId, packet } of effects.disconnect ?? []) {
      this.deps.peers?.disconnectUser(userId, packet)
      hub.disconnectUser(userId, packet)
    }
    if (effects.push) this.deps.notify?.(effects.push)
    for (const { name, data } of effects.events ?? []) by.plugins.emit(name, by.session, data)
  }

  /**
   * After channel or role changes: resubscribe these users' sockets to what they may view now,
   * and send each their own `channels_get`, so a channel they gained or lost shows at once
   * (upstream left other clients' lists stale, commands.md §5.0).
   */
  private async pushChannelLists(userIds: string[], everyone?: 'all') {
    const { hub, bus, store } = this.deps
    // Ahead of the lists on the stream, so each node has resubscribed before its clients read them.
    this.deps.peers?.refreshUsers(everyone ?? userIds)
    await hub.refreshUsers(userIds)
    for (const userId of userIds) {
      const user = await store.users.get(userId)
      if (user) bus.publish(topics.user(userId), { cmd: 'channels_get', val: await visibleChannels(store, user.roles, this.deps.voice) })
    }
  }

  private send(session: Session, packet: Packet) {
    this.deps.hub.send(session, packet)
  }
}

class RateLimited {
  constructor(readonly packet: Packet) {}
}

class Banned {}

/** Who a modlog entry names as having acted. */
type Actor = { id: string; username: string }

/** What answers a frame; `cmd` names the command once the frame was found to name a known one. */
type Outcome = ({ send: Packet; close?: boolean } | { ctx: Context; effects: Effects; listener?: string }) & { cmd?: string }

function withListener(packet: Packet, listener: string | undefined): Packet {
  return listener === undefined ? packet : { ...packet, listener }
}

