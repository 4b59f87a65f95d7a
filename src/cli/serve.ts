import { existsSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import shippedConfig from '../../config.json'
import pkg from '../../package.json'
import { startApp } from '../app.ts'
import { unknownKeys } from '../config/known-keys.ts'
import { ConfigError, loadConfigFile, parseConfig } from '../config/load.ts'
import type { Config } from '../config/schema.ts'
import { createLogger, quote, type LogFields } from '../log.ts'
import { configuredStore } from '../store/open.ts'
import { DATABASE_FILE } from '../store/sqlite/index.ts'

export interface ServeOptions {
  config?: string
  data?: string
  port?: string
}

/** Where the config file is and what it says; the built-in default when there is none. */
export async function resolveConfig(configOption: string | undefined): Promise<{ config: Config; configPath: string; builtIn: boolean }> {
  const configPath = resolve(configOption ?? 'config.json')
  if (configOption !== undefined || existsSync(configPath)) return { config: await loadConfigFile(configPath), configPath, builtIn: false }
  return { config: parseConfig(shippedConfig, 'built-in config'), configPath, builtIn: true }
}

/** `storage.data_dir` is relative to config.json; `--data` overrides it. */
export function resolveDataDir(config: Config, configPath: string, dataOption: string | undefined): string {
  if (dataOption) return resolve(dataOption)
  return isAbsolute(config.storage.data_dir) ? config.storage.data_dir : join(dirname(configPath), config.storage.data_dir)
}

/** The first log line: which configuration, auth mode and owner the server runs with. */
function startup(config: Config, configPath: string, builtIn: boolean): [string, LogFields] {
  const source = builtIn ? `built-in default configuration (no ${configPath})` : configPath
  const owner = config.server.owner.name.trim()
  const account = config.auth_mode === 'cracked-only' ? 'local account' : 'Rotur account'
  const message = `config: ${source}; auth mode: ${config.auth_mode}; ${owner === '' ? 'no owner configured' : `owner: ${quote(owner)} (${account})`}`
  return [message, { config: builtIn ? null : configPath, auth_mode: config.auth_mode, owner: owner === '' ? null : owner }]
}

/**
 * Runs the server until SIGINT or SIGTERM. Every line goes through the logger, in the
 * `logging.format` of the running configuration (live reloads included).
 */
export async function serve(options: ServeOptions): Promise<number> {
  const { config, configPath, builtIn } = await resolveConfig(options.config)
  let port = config.websocket.port
  if (options.port !== undefined) {
    port = Number(options.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port: not a port number: ${options.port}`)
  }
  const dataDir = resolveDataDir(config, configPath, options.data)
  // The file's configuration until the app runs; then the live one, which reloads change.
  let current = () => config
  const log = createLogger(() => current().logging)
  // Start-up and shutdown lines show at any logging.level: scripts wait for the serving line.
  const lifecycle = createLogger(() => ({ ...current().logging, level: 'info' }))
  lifecycle.info(...startup(config, configPath, builtIn))
  for (const problem of unknownKeys(config)) log.warn(`${builtIn ? 'built-in config' : configPath}: ${problem}`)
  const store = await configuredStore(config, log)
  const app = await startApp({ config, configPath, databasePath: join(dataDir, DATABASE_FILE), port, log, store })
  current = () => app.settings.current
  const stopped = new Promise<void>((done) => {
    const shutdown = (signal: string) => {
      lifecycle.info(`${signal} received, shutting down`)
      app.stop().then(done, done)
    }
    process.once('SIGINT', () => shutdown('SIGINT'))
    process.once('SIGTERM', () => shutdown('SIGTERM'))
  })
  // Tests and scripts read this line to find the bound port, and may signal at once: the
  // handlers above are already in place.
  lifecycle.info(`originchats ${pkg.version} serving on ${app.url} (data: ${dataDir})`, { version: pkg.version, url: app.url, data: dataDir })
  await stopped
  return 0
}
