#!/usr/bin/env bun
import { parseArgs } from 'node:util'
import pkg from '../package.json'
import { serve } from './cli/serve.ts'
import { ConfigError } from './config/load.ts'
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

type Values = Record<string, string | boolean | undefined>

/** Each subcommand: its own flags (besides the shared ones) and what it runs. */
const COMMANDS: Record<string, { flags: Record<string, { type: 'string' | 'boolean' }>; run(values: Values, args: string[]): Promise<number> }> = {
  serve: {
    flags: { config: { type: 'string' }, data: { type: 'string' }, port: { type: 'string' } },
    run: (values) => serve(values as { config?: string; data?: string; port?: string }),
  },
}

async function main(argv: string[]): Promise<number> {
  const name = argv.find((arg) => !arg.startsWith('-'))
  const command = name === undefined ? undefined : COMMANDS[name]
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' }, ...command?.flags },
  })
  if (values.version) {
    console.log(pkg.version)
    return 0
  }
  if (values.help || name === undefined || name === 'help') {
    console.log(HELP)
    return values.help || name === 'help' ? 0 : 1
  }
  if (!command) {
    console.error(`unknown command: ${name}\n\n${HELP}`)
    return 1
  }
  return command.run(values, positionals.slice(1))
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof ConfigError ? error.message : `originchats: ${(error as Error)?.message ?? error}`)
    process.exit(1)
  },
)
