import { AddressLimiter } from './auth/address-limit.ts'
import { MemoryRateLimiter } from './auth/rate-limit.ts'
import { HttpRoturClient } from './auth/rotur.ts'
import { LocalBus } from './bus/local.ts'
import { allCommands } from './commands/index.ts'
import { LiveConfig } from './config/live.ts'
import type { Config } from './config/schema.ts'
import { createLogger, type Logger } from './log.ts'
import { CloseCode, Hub } from './net/hub.ts'
import { Presence } from './net/presence.ts'
import { startServer } from './net/server.ts'
import type { Session } from './net/session.ts'
import { topics } from './net/topics.ts'
import { EmptyPluginRegistry } from './plugins/registry.ts'
import type { Context, Services } from './protocol/command.ts'
import { Router } from './protocol/router.ts'
import { createSqliteStore } from './store/sqlite/index.ts'
import type { Store } from './store/types.ts'
import { serverInfo } from './views/server.ts'

export interface AppOptions {
  config: Config
  /** The config.json the config came from; edits such as `server_update` are written there. */
  configPath?: string
  /** Full path of the SQLite database file. */
  databasePath: string
  /** Overrides `websocket.port` (0 = any free port). */
  port?: number
  log?: Logger
}

export interface App {
  port: number
  url: string
  store: Store
  hub: Hub
  settings: LiveConfig
  /** Closes every socket with 1001, lets in-flight commands finish, then closes the database. */
  stop(): Promise<void>
}

/** The composition root: store, bus, auth, commands and network, wired once. */
export function createApp(options: AppOptions): App {
  const settings = new LiveConfig(options.config, options.configPath)
  const config = () => settings.current
  const log = options.log ?? createLogger(() => config().logging.level)
  const store = createSqliteStore(options.databasePath, config().storage.synchronous)
  const bus = new LocalBus()
  const hub = new Hub(bus, store)
  const presence = new Presence(hub, bus, log)
  const limiter = new MemoryRateLimiter(() => config().rate_limiting)
  const plugins = new EmptyPluginRegistry()
  const services: Services = {
    rotur: new HttpRoturClient(() => config().rotur),
    authFailures: new AddressLimiter(() => config().security.auth_failures_per_minute, 60_000),
    registrations: new AddressLimiter(() => config().security.registrations_per_hour, 3_600_000),
    settings,
  }
  const context = (session: Session, release: () => void): Context => ({
    config: config(),
    store,
    session,
    hub,
    limiter,
    plugins,
    services,
    log,
    roles: async () => new Map((await store.roles.list()).map((role) => [role.name, role])),
    release,
  })
  const router = new Router({
    commands: allCommands,
    bus,
    hub,
    store,
    log,
    context,
    completeLogin: (ctx, login) => presence.login(ctx, login),
  })
  const capabilities = router.commandNames().sort()
  const server = startServer({ config, store, hub, router, presence, log, capabilities }, options.port ?? config().websocket.port)
  bus.attach(server)
  // New server details reach connected clients at once; new handshakes read the config anyway.
  settings.onChange((next, previous) => {
    const info = serverInfo(next)
    if (JSON.stringify(info) !== JSON.stringify(serverInfo(previous))) bus.publish(topics.users, { cmd: 'server_update', ...info })
  })
  /** Work that runs beside the server (timers, watchers); each is stopped before the database closes. */
  const background: Array<{ stop(): void | Promise<void> }> = []
  const heartbeat = setInterval(() => bus.publish(topics.sockets, { cmd: 'ping' }), config().websocket.heartbeat_seconds * 1000)
  background.push({ stop: () => clearInterval(heartbeat) })
  log.info(`originchats listening on ${server.hostname}:${server.port}`)

  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      for (const task of background) await task.stop()
      const sessions = [...hub.sockets]
      for (const session of sessions) session.ws.close(CloseCode.goingAway, 'Server shutting down')
      await Promise.all(sessions.map((session) => session.queue.then(() => session.answered)))
      await server.stop(true)
      store.close()
      log.info('originchats stopped')
    })())

  return { port: server.port!, url: `ws://${server.hostname}:${server.port}/`, store, hub, settings, stop }
}
