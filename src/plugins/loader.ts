import { existsSync, mkdirSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs'
import { dirname, extname, isAbsolute, join, resolve } from 'node:path'
import type { LiveConfig } from '../config/live.ts'
import type { Config } from '../config/schema.ts'
import { quote, type Logger } from '../log.ts'
import type { Session } from '../net/session.ts'
import { topics } from '../net/topics.ts'
import { changePackets, type SlashChange } from '../slash/registry.ts'
import { connectionOf, createPluginApi, type PluginApi, type PluginHandler, type ServerAccess } from './api.ts'
import { commandsPlugin } from './builtin/commands.ts'
import { welcomePlugin } from './builtin/welcome.ts'
import type { PluginInfo, PluginRegistry } from './registry.ts'
import { PluginSlashCommands } from './slash.ts'

/** What a plugin module may export (plugins.md §1). */
export interface PluginModule {
  getInfo?: () => PluginInfo
  /** Role names; when non-empty, handlers run only for connections whose user holds one of them. */
  required_permission?: string[]
  /** Called once per load, before any event; may return a cleanup run on unload/reload. */
  setup?: (api: PluginApi) => unknown
  [handler: string]: unknown
}

/** A plugin that ships inside the server, switched on and off in config.json. */
export interface BuiltinPlugin {
  name: string
  enabled(config: Config): boolean
  create(server: ServerAccess): PluginModule
}

export const BUILTIN_PLUGINS: BuiltinPlugin[] = [welcomePlugin, commandsPlugin]

/** Keys of the `plugins` config object that are not plugin slices. */
const RESERVED = new Set(['dir', 'handler_timeout_ms', 'builtin'])
const EXTENSIONS = new Set(['.ts', '.js'])
/** Editors save in several steps; one reload follows the last event of a burst. */
const DEBOUNCE_MS = 100

/** What happened to a plugin; `onReport` listeners get each one (tests wait on them). */
export type PluginReport =
  | { type: 'loaded'; plugin: string; source: string }
  | { type: 'unloaded'; plugin: string }
  | { type: 'load_failed'; plugin: string; error: string }
  | { type: 'handler_failed'; plugin: string; event: string; error: string }
  | { type: 'handler_timeout'; plugin: string; event: string }

interface Loaded {
  name: string
  /** Absolute file path, or `builtin`. */
  source: string
  info: PluginInfo
  required: string[]
  handlers: Map<string, PluginHandler[]>
  api: PluginApi
  slash: PluginSlashCommands
  cleanup?: () => unknown
}

interface Pending {
  event: string
  session: Session | null
  data: Record<string, unknown>
}

export interface PluginManagerOptions {
  server: Omit<ServerAccess, 'emit'>
  /** config.json; the plugins folder is resolved next to it. */
  configPath?: string
  /** Config edits that switch built-ins or move the folder reload every plugin. */
  settings?: LiveConfig
  builtins?: BuiltinPlugin[]
}

/** A file the loader picks up: `*.ts` / `*.js`, not `__*`, not a declaration file. */
export function isPluginFile(file: string): boolean {
  return EXTENSIONS.has(extname(file)) && !file.startsWith('__') && !file.endsWith('.d.ts')
}

/** The plugins folder: `plugins.dir`, relative to config.json; none when relative without a config file. */
export function pluginsDir(config: Config, configPath: string | undefined): string | undefined {
  if (isAbsolute(config.plugins.dir)) return config.plugins.dir
  return configPath === undefined ? undefined : resolve(dirname(configPath), config.plugins.dir)
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))

/**
 * Why importing a plugin file failed. A syntax error arrives as Bun's BuildMessage (several as an
 * AggregateError of them), a missing import as a ResolveMessage; their positions become
 * `file:line:column: message (line: "…")`, as a compiler prints them.
 */
function importErrorText(error: unknown): string {
  const parts = error instanceof AggregateError ? error.errors : [error]
  if (parts.length === 0 || !parts.every((part) => part instanceof BuildMessage || part instanceof ResolveMessage)) return message(error)
  return parts
    .map(({ message: text, position }: BuildMessage | ResolveMessage) => {
      if (!position) return text
      const line = position.lineText.trim() === '' ? '' : ` (line: ${quote(position.lineText)})`
      return `${position.file}:${position.line}:${position.column}: ${text}${line}`
    })
    .join('; ')
}

/**
 * Loads built-in plugins and the plugins folder, delivers events, and reloads on request or when
 * a plugin file changes. Handlers never run inside `emit`: each is scheduled on its own, errors
 * are reported, and a handler still pending after `plugins.handler_timeout_ms` is reported as
 * hanging and forgotten, so no plugin can hold up a command or crash the server.
 */
export class PluginManager implements PluginRegistry {
  private readonly plugins = new Map<string, Loaded>()
  private readonly server: ServerAccess
  private readonly builtins: BuiltinPlugin[]
  private readonly listeners = new Set<(report: PluginReport) => void>()
  /** Loads and reloads run one at a time, in request order. */
  private chain: Promise<unknown> = Promise.resolve()
  /** Events fired before the first load completed, delivered once it has. */
  private pending: Pending[] | null = []
  private watcher: FSWatcher | undefined
  private watchedDir: string | undefined
  private readonly debounce = new Map<string, Timer>()
  /** Handlers in progress and not yet given up on. */
  private readonly running = new Set<Promise<void>>()
  private version = 0
  private stopped = false
  /** Settles once the first load (built-ins and the folder) is complete. */
  ready: Promise<void> = Promise.resolve()

  constructor(private readonly options: PluginManagerOptions) {
    this.server = { ...options.server, emit: (event, session, data) => this.emit(event, session, data) }
    this.builtins = options.builtins ?? BUILTIN_PLUGINS
    options.settings?.onChange((next, previous) => {
      if (!this.stopped && this.switches(next) !== this.switches(previous)) this.reload().catch((error) => this.loadError(error))
    })
  }

  /** Loads everything and starts watching the folder. Events fired meanwhile wait for it. */
  start(): Promise<void> {
    this.ready = this.serial(async () => {
      await this.loadAll().catch((error) => this.loadError(error))
      const pending = this.pending ?? []
      this.pending = null
      for (const { event, session, data } of pending) this.emit(event, session, data)
    })
    return this.ready
  }

  async stop() {
    this.stopped = true
    this.watcher?.close()
    this.watcher = undefined
    for (const timer of this.debounce.values()) clearTimeout(timer)
    this.debounce.clear()
    await this.chain
    // Handlers still at work finish first (each within its timeout): none writes after the database closed.
    await Promise.all(this.running)
    for (const plugin of this.plugins.values()) await this.unload(plugin)
    this.plugins.clear()
  }

  /** Subscribes to load/unload/failure reports; returns the unsubscribe function. */
  onReport(listener: (report: PluginReport) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  list(): Record<string, PluginInfo> {
    return Object.fromEntries([...this.plugins.values()].map((plugin) => [plugin.name, plugin.info]))
  }

  reload(name?: string): Promise<boolean> {
    return this.serial(async () => {
      if (name === undefined) {
        await this.loadAll()
        return true
      }
      const current = this.plugins.get(name)
      if (!current) return false
      const next = current.source === 'builtin' ? await this.loadBuiltin(name) : await this.loadFile(name, current.source)
      if (!next) return false
      await this.replace(next)
      return true
    })
  }

  emit(event: string, session: Session | null, data: Record<string, unknown>): void {
    if (this.stopped) return
    if (this.pending) {
      this.pending.push({ event, session, data })
      return
    }
    for (const plugin of this.plugins.values()) {
      for (const handler of plugin.handlers.get(event) ?? []) this.invoke(plugin, event, handler, session, data)
    }
  }

  private invoke(plugin: Loaded, event: string, handler: PluginHandler, session: Session | null, data: Record<string, unknown>) {
    // Each plugin gets its own copy: one plugin's edits cannot reach another or the server.
    const payload = structuredClone(data)
    const conn = connectionOf(this.server, session)
    const failed = (error: unknown) => {
      this.server.log.error(`plugin ${quote(plugin.name)}: on_${event} failed: ${error instanceof Error ? (error.stack ?? error.message) : error}`)
      this.report({ type: 'handler_failed', plugin: plugin.name, event, error: message(error) })
    }
    // A microtask, so even a synchronous handler runs after the caller's own work.
    queueMicrotask(() => {
      const run = async () => {
        if (plugin.required.length > 0 && !(await this.admits(plugin.required, session))) return
        await handler(conn, payload, plugin.api)
      }
      // Settles when the handler does, or when it is given up on; `stop` waits for it.
      const waited = Promise.withResolvers<void>()
      this.running.add(waited.promise)
      const release = () => {
        this.running.delete(waited.promise)
        waited.resolve()
      }
      const timer = setTimeout(() => {
        if (!this.running.has(waited.promise)) return
        release()
        this.server.log.warn(`plugin ${quote(plugin.name)}: on_${event} still running after ${this.timeoutMs()} ms; no longer waiting for it`)
        this.report({ type: 'handler_timeout', plugin: plugin.name, event })
      }, this.timeoutMs())
      timer.unref?.()
      run()
        .catch(failed)
        .finally(() => {
          clearTimeout(timer)
          release()
        })
    })
  }

  /** The gate of plugins.md §1: the triggering user must hold one of the roles. */
  private async admits(required: string[], session: Session | null) {
    if (!session?.user) return false
    const user = await this.server.store.users.get(session.user.id)
    return user?.roles.some((role) => required.includes(role)) ?? false
  }

  private timeoutMs() {
    return this.server.config().plugins.handler_timeout_ms
  }

  private switches(config: Config) {
    return JSON.stringify([pluginsDir(config, this.options.configPath), this.builtins.map((b) => b.enabled(config))])
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.chain.then(task)
    this.chain = run.catch(() => {})
    return run
  }

  private report(report: PluginReport) {
    for (const listener of this.listeners) listener(report)
  }

  /** Clears everything, then built-ins followed by the folder's files in directory order. */
  private async loadAll() {
    for (const plugin of this.plugins.values()) {
      await this.unload(plugin)
      this.report({ type: 'unloaded', plugin: plugin.name })
    }
    this.plugins.clear()
    const config = this.server.config()
    for (const builtin of this.builtins) {
      if (!builtin.enabled(config)) continue
      const loaded = await this.loadBuiltin(builtin.name)
      if (loaded) await this.replace(loaded)
    }
    const dir = pluginsDir(config, this.options.configPath)
    if (dir !== this.watchedDir) {
      this.watcher?.close()
      this.watcher = undefined
      this.watchedDir = undefined
    }
    if (!dir) return
    if (!existsSync(dir) && this.options.configPath && existsSync(this.options.configPath)) mkdirSync(dir, { recursive: true })
    if (!existsSync(dir)) {
      this.server.log.info(`no plugins folder at ${dir}`)
      return
    }
    for (const file of this.discover(dir)) {
      const name = file.slice(0, -extname(file).length)
      const existing = this.plugins.get(name)
      if (existing && existing.source !== 'builtin') {
        this.server.log.warn(`plugin ${quote(name)}: ${quote(file)} skipped, ${existing.source} has the same name`)
        continue
      }
      const loaded = await this.loadFile(name, join(dir, file))
      if (loaded) await this.replace(loaded)
    }
    this.watch(dir)
  }

  private discover(dir: string): string[] {
    return readdirSync(dir).filter((file) => isPluginFile(file) && statSync(join(dir, file), { throwIfNoEntry: false })?.isFile())
  }

  private async loadBuiltin(name: string): Promise<Loaded | undefined> {
    const builtin = this.builtins.find((b) => b.name === name)!
    try {
      return await this.build(name, 'builtin', builtin.create(this.server))
    } catch (error) {
      return this.failed(name, message(error))
    }
  }

  private async loadFile(name: string, path: string): Promise<Loaded | undefined> {
    if (RESERVED.has(name)) return this.failed(name, `'${name}' is a reserved name (a key of the plugins config)`)
    // A new query string per load: the runtime caches modules by specifier, so this is a fresh copy.
    // (A plain path: with a file: URL Bun ignores the query and returns the cached module.)
    const specifier = `${path}?v=${++this.version}`
    let module: PluginModule
    try {
      module = (await import(specifier)) as PluginModule
    } catch (error) {
      return this.failed(name, importErrorText(error).replaceAll(specifier, path))
    }
    try {
      return await this.build(name, path, module)
    } catch (error) {
      return this.failed(name, message(error))
    }
  }

  /** Something outside any one plugin failed (e.g. the folder cannot be read). */
  private loadError(error: unknown) {
    this.server.log.error(`plugins could not be loaded: ${message(error)}`)
  }

  private failed(name: string, reason: string): undefined {
    this.server.log.error(`plugin ${quote(name)} failed to load: ${reason}`, { plugin: name, error: reason })
    this.report({ type: 'load_failed', plugin: name, error: reason })
    return undefined
  }

  private async build(name: string, source: string, module: PluginModule): Promise<Loaded> {
    if (typeof module.getInfo !== 'function') throw new Error('no getInfo() export')
    const info = module.getInfo()
    if (!info || !Array.isArray(info.handles) || !info.handles.every((e) => typeof e === 'string')) {
      throw new Error('getInfo() must return an object with a `handles` array of event names')
    }
    const log = this.prefixed(name)
    const handlers = new Map<string, PluginHandler[]>()
    const add = (event: string, handler: PluginHandler) => handlers.set(event, [...(handlers.get(event) ?? []), handler])
    for (const event of info.handles) {
      const handler = module[`on_${event}`]
      if (typeof handler === 'function') add(event, handler as PluginHandler)
      else log.warn(`handles '${event}' but exports no on_${event}; event skipped`)
    }
    const required = Array.isArray(module.required_permission) ? module.required_permission.filter((r) => typeof r === 'string') : []
    const slice = () => {
      const plugins = this.server.config().plugins as Record<string, unknown> & Config['plugins']
      const value = source === 'builtin' ? (plugins.builtin as Record<string, unknown>)[name] : plugins[name]
      return value && typeof value === 'object' ? (value as Record<string, unknown>) : undefined
    }
    const announce = (change: SlashChange) => {
      for (const packet of changePackets(change)) this.server.bus.publish(topics.users, packet)
    }
    const slash = new PluginSlashCommands(this.server.slash, name, announce, log)
    const api = createPluginApi(this.server, { name, log, slice, subscribe: add, slash })
    const loaded: Loaded = { name, source, info: structuredClone(info), required, handlers, api, slash }
    if (typeof module.setup === 'function') {
      const cleanup = await this.bounded(Promise.resolve(module.setup(api)), 'setup()')
      if (typeof cleanup === 'function') loaded.cleanup = cleanup as () => unknown
    }
    return loaded
  }

  /** Settles with `work`, or rejects once the handler timeout has passed. */
  private bounded<T>(work: Promise<T>, what: string): Promise<T> {
    let timer: Timer | undefined
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${this.timeoutMs()} ms`)), this.timeoutMs())
    })
    return Promise.race([work, limit]).finally(() => clearTimeout(timer))
  }

  /** Puts `next` in place of the plugin of the same name (keeping its position in the list). */
  private async replace(next: Loaded) {
    const previous = this.plugins.get(next.name)
    if (previous) await this.unload(previous)
    this.plugins.set(next.name, next)
    next.slash.activate()
    this.server.log.info(`plugin ${quote(next.name)} loaded from ${next.source}`)
    this.report({ type: 'loaded', plugin: next.name, source: next.source })
  }

  private async unload(plugin: Loaded) {
    plugin.slash.withdraw()
    if (!plugin.cleanup) return
    try {
      await this.bounded(Promise.resolve(plugin.cleanup()), 'cleanup')
    } catch (error) {
      this.server.log.error(`plugin ${quote(plugin.name)}: cleanup failed: ${message(error)}`)
    }
  }

  private prefixed(name: string): Logger {
    const log = this.server.log
    const prefix = `plugin ${quote(name)}:`
    return {
      debug: (line, fields) => log.debug(`${prefix} ${line}`, fields),
      info: (line, fields) => log.info(`${prefix} ${line}`, fields),
      warn: (line, fields) => log.warn(`${prefix} ${line}`, fields),
      error: (line, fields) => log.error(`${prefix} ${line}`, fields),
    }
  }

  private watch(dir: string) {
    if (this.watcher || this.stopped) return
    try {
      this.watcher = watch(dir, (_event, file) => {
        if (file) this.changed(dir, String(file))
      })
      this.watcher.on('error', (error) => this.server.log.warn(`plugins folder watcher: ${message(error)}`))
      this.watchedDir = dir
    } catch (error) {
      this.server.log.warn(`cannot watch ${dir}: ${message(error)}`)
    }
  }

  private changed(dir: string, file: string) {
    if (!isPluginFile(file) || this.stopped) return
    clearTimeout(this.debounce.get(file))
    const timer = setTimeout(() => {
      this.debounce.delete(file)
      this.serial(() => this.sync(dir, file)).catch((error) => this.loadError(error))
    }, DEBOUNCE_MS)
    this.debounce.set(file, timer)
  }

  /** Brings one file's plugin in line with the folder: load, reload or unload it. */
  private async sync(dir: string, file: string) {
    if (this.stopped || dir !== this.watchedDir) return
    const path = join(dir, file)
    const name = file.slice(0, -extname(file).length)
    const current = this.plugins.get(name)
    if (!existsSync(path)) {
      if (current?.source !== path) return
      await this.unload(current)
      this.plugins.delete(name)
      this.server.log.info(`plugin ${quote(name)} unloaded (${quote(file)} removed)`)
      this.report({ type: 'unloaded', plugin: name })
      // A removed file that stood in for a built-in gives the built-in back.
      if (this.builtins.find((b) => b.name === name)?.enabled(this.server.config())) {
        const builtin = await this.loadBuiltin(name)
        if (builtin) await this.replace(builtin)
      }
      return
    }
    if (current && current.source !== 'builtin' && current.source !== path) {
      this.server.log.warn(`plugin ${quote(name)}: ${quote(file)} ignored, ${current.source} has the same name`)
      return
    }
    const next = await this.loadFile(name, path)
    if (next) await this.replace(next)
  }
}
