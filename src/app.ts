import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { CLI_ACTOR, runAdmin } from './admin/operations.ts'
import { startAdminSocket } from './admin/socket.ts'
import { AttachmentCleanup } from './attachments/cleanup.ts'
import { ATTACHMENTS_DIR, AttachmentFiles } from './attachments/files.ts'
import { AttachmentService } from './attachments/service.ts'
import { SubscriptionCache } from './attachments/subscriptions.ts'
import { UploadRate } from './attachments/upload-rate.ts'
import { prune } from './audit/modlog.ts'
import { type AddressCounter, AddressLimiter } from './auth/address-limit.ts'
import { LoginThrottle } from './auth/login-throttle.ts'
import { MemoryRateLimiter, type RateLimiter, type RateLimitSettings } from './auth/rate-limit.ts'
import { HttpRoturClient } from './auth/rotur.ts'
import { BackupSchedule } from './backup/backup.ts'
import { LocalBus } from './bus/local.ts'
import type { Cluster } from './cluster/index.ts'
import { clusterSettings } from './cluster/settings.ts'
import { allCommands } from './commands/index.ts'
import { LiveConfig } from './config/live.ts'
import { SERVER_SETTINGS_SCOPE, SharedServerSettings } from './config/shared-server.ts'
import type { Config } from './config/schema.ts'
import { watchConfig } from './config/watch.ts'
import { EMOJI_DIR, EmojiCatalog } from './emojis/catalog.ts'
import { createLogger, type Logger } from './log.ts'
import { ServerMetrics } from './metrics/server-metrics.ts'
import { capabilityNames } from './net/capabilities.ts'
import { CloseCode, Hub } from './net/hub.ts'
import { Presence } from './net/presence.ts'
import { startServer } from './net/server.ts'
import { SERVER_ASSETS_DIR, ServerAssets } from './net/server-assets.ts'
import type { Session } from './net/session.ts'
import { Listener, loadTls, tlsPaths } from './net/tls.ts'
import { topics } from './net/topics.ts'
import { PluginManager } from './plugins/loader.ts'
import { PollExpiry } from './polls/expiry.ts'
import { loadOrCreateFingerprintSecret, loadOrCreateVapid, type VapidKeys } from './push/keys.ts'
import { PushService } from './push/service.ts'
import { BUILTIN_SLASH_COMMANDS } from './slash/builtins.ts'
import { SlashRegistry, changePackets } from './slash/registry.ts'
import type { Context, Services } from './protocol/command.ts'
import { Router } from './protocol/router.ts'
import { VoiceRooms } from './voice/rooms.ts'
import { acquireDataLock } from './store/lock.ts'
import { createSqliteStore } from './store/sqlite/index.ts'
import type { StoreFactory } from './store/open.ts'
import type { Store } from './store/types.ts'
import { WebhookEndpoint } from './webhooks/http.ts'

export interface AppOptions {
  config: Config
  /** The config.json the config came from; edits such as `server_update` are written there. */
  configPath?: string
  /** Full path of the SQLite database file; its folder is the data folder whatever the driver. */
  databasePath: string
  /** Builds the store of another driver, already connected (see store/open.ts); default: the SQLite file at `databasePath`. */
  store?: StoreFactory
  /** Overrides `websocket.port` (0 = any free port). */
  port?: number
  log?: Logger
  /** Cluster mode, connected by `startApp` when `cluster.redis_url` is set. */
  cluster?: Cluster
}

export interface App {
  port: number
  url: string
  store: Store
  hub: Hub
  settings: LiveConfig
  plugins: PluginManager
  cluster?: Cluster
  /** Server settings kept in the shared database (PostgreSQL store); `loaded` settles once read at start. */
  sharedSettings?: SharedServerSettings
  /** Settles once the start-up pruning of expired modlog entries is done. */
  modlogPruned: Promise<void>
  /** Closes every socket with 1001, lets in-flight commands finish, then closes the database. */
  stop(): Promise<void>
}

/** The composition root: store, bus, auth, commands and network, wired once. */
export function createApp(options: AppOptions): App {
  const settings = new LiveConfig(options.config, options.configPath)
  const config = () => settings.current
  const log = options.log ?? createLogger(() => config().logging)
  // Checked before anything opens: a missing or bad certificate is a ConfigError.
  const tlsAt = tlsPaths(config(), options.configPath)
  const tls = tlsAt && loadTls(tlsAt)
  // One server per data folder: imports and other servers check this lock (released on stop).
  const lock = options.databasePath === ':memory:' ? undefined : acquireDataLock(dirname(options.databasePath))
  const metrics = new ServerMetrics()
  let store: Store
  let vapid: VapidKeys
  let fingerprintSecret: string
  try {
    const messagesCommitted = (seconds: number, count: number) => metrics.messagesCommitted(seconds, count)
    store = options.store
      ? options.store({ messagesCommitted, changed: (scope) => options.cluster?.peers.invalidate(scope) })
      : createSqliteStore(options.databasePath, config().storage.synchronous, { log, messagesCommitted })
  } catch (error) {
    lock?.release()
    throw error
  }
  try {
    // Made on first start in the data folder (an imported upstream folder keeps its keys).
    vapid = loadOrCreateVapid(dirname(options.databasePath))
    fingerprintSecret = loadOrCreateFingerprintSecret(dirname(options.databasePath))
  } catch (error) {
    store.close()
    lock?.release()
    throw error
  }
  const localBus = new LocalBus((frames) => metrics.delivered(frames))
  const cluster = options.cluster
  const bus = cluster ? cluster.bus(localBus) : localBus
  // With a shared database, what server_update changes is kept there for every node (config/shared-server.ts).
  const sharedSettings = store.serverSettings && new SharedServerSettings(store.serverSettings, settings, () => cluster?.peers.invalidate(SERVER_SETTINGS_SCOPE), log)
  const hub = new Hub(bus, store, cluster?.roster)
  const presence = new Presence(hub, bus, log, cluster?.roster)
  // Calls end when the joining connection closes (first of the README §2.7 announcements) or loses the channel.
  const voice = new VoiceRooms(bus, cluster?.voice)
  presence.onLeave((session) => voice.closed(session))
  hub.onAccess((session, visible) => voice.accessChanged(session, visible))
  // Slash commands registered by a connection go when it closes (protocol README §2.7).
  const slash = new SlashRegistry(BUILTIN_SLASH_COMMANDS, cluster?.slash)
  presence.onLeave((session) => {
    for (const packet of changePackets(slash.connectionClosed(session))) bus.publish(topics.users, packet)
  })
  // Alone in memory; in a cluster in Redis, so a user's budget is the same on every node.
  const rateLimiter = (name: string, settings: () => RateLimitSettings): RateLimiter => (cluster ? cluster.rateLimiter(name, settings) : new MemoryRateLimiter(settings))
  const addressCounter = (limit: () => number, windowMs: number, name: string): AddressCounter =>
    cluster ? cluster.addressCounter(name, limit, windowMs) : new AddressLimiter(limit, windowMs)
  const limiter = rateLimiter('messages', () => config().rate_limiting)
  const actions = rateLimiter('actions', () => {
    const { actions_per_minute, actions_burst, actions_cooldown_seconds } = config().security
    return { messages_per_minute: actions_per_minute, burst_limit: actions_burst, cooldown_seconds: actions_cooldown_seconds }
  })
  const plugins: PluginManager = new PluginManager({
    // Built-in plugins act for the user who typed the command, through the router's effects.
    server: { store, hub, bus, limiter, log, config, slash, dataDir: dirname(options.databasePath), apply: (session, effects): Promise<void> => router.apply(context(session, () => {}), effects) },
    configPath: options.configPath,
    settings,
  })
  // The data folder is the database's; the fallback asset base is the address actually bound.
  const listening = (): string => `${tls ? 'https' : 'http'}://${config().websocket.host}:${listener.server.port}`
  const assets = new ServerAssets(join(dirname(options.databasePath), SERVER_ASSETS_DIR), listening)
  const emojis = new EmojiCatalog(store.emojis, join(dirname(options.databasePath), EMOJI_DIR))
  const pollExpiry = new PollExpiry({ store, publish: (topic, packet) => bus.publish(topic, packet), log })
  const rotur = new HttpRoturClient(() => config().rotur)
  const attachments = new AttachmentService({ store, files: new AttachmentFiles(join(dirname(options.databasePath), ATTACHMENTS_DIR)), config, log })
  const attachmentCleanup = new AttachmentCleanup(attachments, log)
  const push = new PushService({ store, keys: vapid, fingerprintSecret, settings: () => config().push, isOnline: (userId) => hub.isOnline(userId), log })
  const services: Services = {
    rotur,
    loginThrottle: new LoginThrottle(() => config().security, addressCounter),
    registrations: addressCounter(() => config().security.registrations_per_hour, 3_600_000, 'registrations'),
    settings,
    assets,
    pollExpiry,
    slash,
    voice,
    attachments,
    attachmentCleanup,
    emojis,
    push,
  }
  const context = (session: Session, release: () => void): Context => ({
    config: config(),
    store,
    session,
    hub,
    limiter,
    actions,
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
    config,
    plugins,
    voice,
    completeLogin: async (ctx, login) => {
      await push.signedIn(login.user.id, ctx.session.device)
      return presence.login(ctx, login)
    },
    answered: (cmd, seconds) => metrics.commandAnswered(cmd, seconds),
    notify: (job) => push.notify(job),
    peers: cluster?.peers,
  })
  const capabilities = capabilityNames(router.commandNames(), config())
  const attachmentHttp = {
    config,
    store,
    hub,
    rotur,
    service: attachments,
    uploadRate: new UploadRate(() => config().attachments.uploads_per_minute),
    subscriptions: new SubscriptionCache(rotur, () => config().attachments.subscription_cache_ttl, log),
  }
  // Webhook posts count per webhook, with the message limiter's settings.
  const webhooks = new WebhookEndpoint({ config, store, bus, log, limiter: rateLimiter('webhooks', () => config().rate_limiting) })
  const net = { config, store, hub, router, presence, log, capabilities, assets, metrics, attachments: attachmentHttp, emojis, webhooks }
  const listener = new Listener((port, files) => startServer(net, port, files), options.port ?? config().websocket.port, tls, localBus)
  const server = listener.server
  // New server details reach connected clients at once; new handshakes read the config anyway.
  // Each node tells its own sockets: in a cluster every node applies the change itself.
  settings.onChange((next, previous) => {
    const info = assets.info(next)
    if (JSON.stringify(info) !== JSON.stringify(assets.info(previous))) localBus.publish(topics.users, { cmd: 'server_update', ...info })
  })
  /** Work that runs beside the server (timers, watchers); each is stopped before the database closes. */
  const background: Array<{ stop(): void | Promise<void> }> = []
  const heartbeat = setInterval(() => bus.publish(topics.sockets, { cmd: 'ping' }), config().websocket.heartbeat_seconds * 1000)
  background.push({ stop: () => clearInterval(heartbeat) })
  background.push(metrics.watch(hub, () => config().websocket.backpressure_limit))
  if (options.configPath && existsSync(options.configPath)) background.push(watchConfig(options.configPath, { settings, log }))
  if (tlsAt) background.push(listener.watch(tlsAt, log))
  // `originchats user …` reaches the running server here, so its changes apply to live sessions.
  const adminSocket =
    lock &&
    startAdminSocket(
      dirname(options.databasePath),
      async (request) => {
        const outcome = await runAdmin(store, config(), request, (userId) => hub.isOnline(userId))
        if (outcome.effects) await router.applyAs(CLI_ACTOR, outcome.effects)
        return outcome
      },
      log,
    )
  if (adminSocket) background.push({ stop: () => adminSocket.stop(true) })
  // Expired modlog entries go at startup and daily, besides on each read.
  const pruneModlog = () =>
    prune(store.modlog, config()).then(
      () => {},
      (error) => log.error(`modlog pruning failed: ${error?.stack ?? error}`),
    )
  const modlogPruned = pruneModlog()
  const modlogPruning = setInterval(pruneModlog, 86_400_000)
  background.push({ stop: () => clearInterval(modlogPruning) })
  // Polls end at their end time, those that passed while the server was down at once.
  pollExpiry.start()
  background.push(pollExpiry)
  // Expired and unused attachments go at startup and hourly, found from stored timestamps.
  attachmentCleanup.start()
  background.push(attachmentCleanup)
  push.start()
  background.push(push)
  background.push(new BackupSchedule(store, settings, dirname(options.databasePath), log))
  background.push(plugins)
  void plugins.start()
  plugins.emit('server_start', null, {})
  // A store that caches (the shared-database driver) drops what another node changed.
  const dataDir = options.databasePath === ':memory:' ? undefined : dirname(options.databasePath)
  void cluster?.start({ hub, invalidate: (scope) => (scope === SERVER_SETTINGS_SCOPE ? sharedSettings?.reload() : store.invalidate?.(scope)), voice, slash, dataDir }).catch((error) => log.error(`cluster start failed: ${error?.stack ?? error}`))

  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      for (const task of background) await task.stop()
      const sessions = [...hub.sockets]
      for (const session of sessions) session.ws.close(CloseCode.goingAway, 'Server shutting down')
      await Promise.all(sessions.map((session) => session.frames.started.then(() => session.answered)))
      await listener.stop(true)
      await cluster?.stop()
      await store.close()
      lock?.release()
      log.info('originchats stopped')
    })())

  return { port: server.port!, url: `${tls ? 'wss' : 'ws'}://${server.hostname}:${server.port}/`, store, hub, settings, plugins, cluster, sharedSettings, modlogPruned, stop }
}

/**
 * createApp, joined to the cluster when `cluster.redis_url` (or ORIGINCHATS_REDIS_URL) is set.
 * Alone, nothing of Redis is even loaded.
 */
export async function startApp(options: AppOptions): Promise<App> {
  const settings = clusterSettings(options.config)
  if (!settings || options.cluster) {
    const app = createApp(options)
    await app.sharedSettings?.loaded
    return app
  }
  const log = options.log ?? createLogger(() => options.config.logging)
  const { Cluster } = await import('./cluster/index.ts')
  const cluster = await Cluster.connect(settings, log)
  let app: App
  try {
    app = createApp({ ...options, log, cluster })
  } catch (error) {
    await cluster.abandon()
    throw error
  }
  try {
    await cluster.ready
    await app.sharedSettings?.loaded
  } catch (error) {
    await app.stop()
    throw error
  }
  return app
}
