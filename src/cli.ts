#!/usr/bin/env bun
import { parseArgs } from 'node:util'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { existsSync } from 'node:fs'
import shippedConfig from '../config.json'
import pkg from '../package.json'
import { createApp } from './app.ts'
import { ConfigError, loadConfigFile, parseConfig } from './config/load.ts'
import type { Config } from './config/schema.ts'
import { DATABASE_FILE } from './store/sqlite/index.ts'

const HELP = `originchats ${pkg.version} — an OriginChats chat server

Usage:
  originchats serve [--config FILE] [--data DIR] [--port N]
  originchats --help | --version

serve     Run the server. Reads ./config.json (or --config); without one, runs on the
          built-in default configuration. Creates the data folder and database on first start.
  --config FILE   configuration file (default: ./config.json)
  --data DIR      data folder holding ${DATABASE_FILE} (default: storage.data_dir of the config)
  --port N        listen port, overriding websocket.port (0 picks a free port)
`

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      data: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
  })
  if (values.version) {
    console.log(pkg.version)
    return 0
  }
  const command = positionals[0]
  if (values.help || command === undefined || command === 'help') {
    console.log(HELP)
    return values.help || command === 'help' ? 0 : 1
  }
  if (command !== 'serve') {
    console.error(`unknown command: ${command}\n\n${HELP}`)
    return 1
  }
  return serve(values)
}

async function serve(options: { config?: string; data?: string; port?: string }): Promise<number> {
  const configPath = resolve(options.config ?? 'config.json')
  let config: Config
  if (options.config !== undefined || existsSync(configPath)) {
    config = await loadConfigFile(configPath)
  } else {
    console.log(`no ${configPath}; using the built-in default configuration`)
    config = parseConfig(shippedConfig, 'built-in config')
  }
  let port = config.websocket.port
  if (options.port !== undefined) {
    port = Number(options.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--port: not a port number: ${options.port}`)
  }
  const base = dirname(configPath)
  const dataDir = options.data ? resolve(options.data) : isAbsolute(config.storage.data_dir) ? config.storage.data_dir : join(base, config.storage.data_dir)
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

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof ConfigError ? error.message : `originchats: ${(error as Error)?.stack ?? error}`)
    process.exit(1)
  },
)
