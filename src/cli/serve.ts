import { existsSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import shippedConfig from '../../config.json'
import pkg from '../../package.json'
import { createApp } from '../app.ts'
import { ConfigError, loadConfigFile, parseConfig } from '../config/load.ts'
import type { Config } from '../config/schema.ts'
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

export async function serve(options: ServeOptions): Promise<number> {
  const { config, configPath, builtIn } = await resolveConfig(options.config)
  if (builtIn) console.log(`no ${configPath}; using the built-in default configuration`)
  let port = config.websocket.port
  if (options.port !== undefined) {
    port = Number(options.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port: not a port number: ${options.port}`)
  }
  const dataDir = resolveDataDir(config, configPath, options.data)
  const app = createApp({ config, configPath, databasePath: join(dataDir, DATABASE_FILE), port })
  // Tests and scripts read this line to find the bound port.
  console.log(`originchats ${pkg.version} serving on ${app.url} (data: ${dataDir})`)
  await new Promise<void>((done) => {
    const shutdown = (signal: string) => {
      console.log(`${signal} received, shutting down`)
      app.stop().then(done, done)
    }
    process.once('SIGINT', () => shutdown('SIGINT'))
    process.once('SIGTERM', () => shutdown('SIGTERM'))
  })
  return 0
}
