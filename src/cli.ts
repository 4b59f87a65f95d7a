#!/usr/bin/env bun
import { parseArgs } from 'node:util'
import pkg from '../package.json'
import { backupCommand } from './cli/backup.ts'
import { importCommand } from './cli/import.ts'
import { migrateCommand } from './cli/migrate.ts'
import { serve } from './cli/serve.ts'
import { setup, SETUP_FLAGS } from './cli/setup.ts'
import { userCommand } from './cli/user.ts'
import { ConfigError } from './config/load.ts'
import { PROTOCOL_VERSION } from './net/handshake.ts'
import { closest } from './suggest.ts'
import { DATABASE_FILE } from './store/sqlite/index.ts'

const HELP = `originchats ${pkg.version} — an OriginChats chat server

Usage:
  originchats setup [--yes] [--config FILE] [--name … --port … (one flag per question)]
  originchats serve [--config FILE] [--data DIR] [--port N]
  originchats import <upstream-folder> [--config FILE] [--data DIR]
  originchats backup <file-or-folder> [--config FILE] [--data DIR]
  originchats migrate --to postgres [--url URL] [--config FILE] [--data DIR]
  originchats user list | add NAME | roles USER add|remove ROLE | password USER | ban|unban USER
  originchats version | --version
  originchats --help

setup     Ask for the server's settings (Enter keeps the [value]), write config.json, create
          the data folder and database, and print the command that starts the server.
          The owner has no default: a Rotur username in rotur and cracked mode, a local
          account name in cracked-only mode (the auth mode is asked first). Ctrl-D cancels
          and writes nothing. Run again, it starts from the existing config.json (every key
          kept, its values in brackets, - removes an optional one) and keeps the old file as
          config.json.<time>.bak.
  --yes           ask nothing: the current (or default) value for every question not given as
                  a flag; --owner is required unless config.json already names the owner
  --config FILE   configuration file to write (default: ./config.json)
  --name TEXT  --icon URL  --url URL  --owner NAME  --auth-mode rotur|cracked|cracked-only
  --registration on|off  --rotur-url URL  --host ADDR  --port N  --max-length N
  --search-results N  --emoji-types gif,png,…  --rate-limit on|off
  --data DIR (relative to the config file's folder)  --tls-cert FILE  --tls-key FILE

serve     Run the server. Reads ./config.json (or --config); without one, runs on the
          built-in default configuration. Creates the data folder and database on first start.
  --config FILE   configuration file (default: ./config.json)
  --data DIR      data folder holding ${DATABASE_FILE} (default: storage.data_dir of the config)
  --port N        listen port, overriding websocket.port (0 picks a free port)

import    Copy an upstream OriginChats server's data (its folder, or its db/ folder; seed or
          latest layout) into the database: users, roles, channels, messages with replies,
          reactions, pins and edits. Only adds: users, roles, channels and messages that exist
          (same ID; same name for roles and channels; seed users, whose ID becomes their
          lower-cased username, also by username) are left as they are, so a second run adds
          nothing. Refused while a server uses the data folder. A malformed file is reported
          and skipped whole. Exit code 0, or 2 when a file was skipped.
  --config, --data  as for serve

backup    Write a consistent copy of the database to <file>, or to originchats-<time>.db inside
          an existing folder, also while the server runs. Never over the live database.
          Periodic backups while serving: config backup.interval_minutes, backup.dir, backup.keep.
  --config, --data  as for serve

migrate   Copy the SQLite database of the data folder into PostgreSQL (--url, else storage.url
          or ORIGINCHATS_STORAGE_URL): every table, with the same IDs, ordinals and times. Only
          adds: rows already there (same ID or key) are skipped, so a second run copies nothing.
          Refused while a server uses the data folder. Files stay in the data folder.
  --to postgres   the only target
  --url URL       the PostgreSQL database (postgres://user:password@host:port/database)
  --config, --data  as for serve

user      Manage accounts without a client. While a server runs on the data folder, the change
          goes through it and applies at once (a ban disconnects, a role change shows in the
          user's channel list); otherwise the database is changed directly. USER is a username,
          a local account's name or a user ID. \`add\` creates a local account (the owner's own in
          cracked-only mode, or anyone's while registration is closed). \`add\` and \`password\`
          read the password from standard input (not echoed at a terminal). Recorded in the
          moderation log.
  --config, --data  as for serve

version   Print this program's version (${pkg.version}). It is not the protocol version that
          clients see in the handshake (${PROTOCOL_VERSION}), nor service.version of config.json (ignored).

Exit status: 0 done, 1 failed (an unknown command or option, a missing value: one line on stderr).
`

type Values = Record<string, string | boolean | undefined>
type Flags = Record<string, { type: 'string' | 'boolean'; short?: string }>

/** Flags every subcommand accepts. */
const GLOBAL_FLAGS: Flags = { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } }

/** Each subcommand: its own flags (besides the global ones) and what it runs. Add one here and in HELP. */
const COMMANDS: Record<string, { flags: Flags; run(values: Values, args: string[]): Promise<number> }> = {
  setup: { flags: SETUP_FLAGS, run: (values) => setup(values) },
  serve: {
    flags: { config: { type: 'string' }, data: { type: 'string' }, port: { type: 'string' } },
    run: (values) => serve(values as { config?: string; data?: string; port?: string }),
  },
  import: { flags: { config: { type: 'string' }, data: { type: 'string' } }, run: (values, args) => importCommand(values as { config?: string; data?: string }, args) },
  backup: { flags: { config: { type: 'string' }, data: { type: 'string' } }, run: (values, args) => backupCommand(values as { config?: string; data?: string }, args) },
  migrate: {
    flags: { to: { type: 'string' }, url: { type: 'string' }, config: { type: 'string' }, data: { type: 'string' } },
    run: (values, args) => migrateCommand(values as { to?: string; url?: string; config?: string; data?: string }, args),
  },
  user: { flags: { config: { type: 'string' }, data: { type: 'string' } }, run: (values, args) => userCommand(values as { config?: string; data?: string }, args) },
  version: { flags: {}, run: async () => printVersion() },
}

function printVersion(): number {
  console.log(pkg.version)
  return 0
}

const SEE_HELP = " (see 'originchats --help')"

/** What is wrong with the flags of `argv` (unknown, missing value, value for a switch), if anything. */
function flagProblem(argv: string[], flags: Flags, command: string | undefined): string | undefined {
  const { tokens } = parseArgs({ args: argv, options: flags, strict: false, allowPositionals: true, tokens: true })
  for (const token of tokens) {
    if (token.kind !== 'option') continue
    const flag = flags[token.name]
    if (!flag) {
      const suggestion = token.rawName.startsWith('--') ? closest(token.name, Object.keys(flags)) : undefined
      const hint = suggestion === undefined ? SEE_HELP : `; did you mean '--${suggestion}'?`
      return `unknown option '${token.rawName}'${command === undefined ? '' : ` for '${command}'`}${hint}`
    }
    // As node:util would: `--config --port 1` means a forgotten value, not a config file named "--port".
    const missing = token.value === undefined || (!token.inlineValue && token.value.startsWith('-'))
    if (flag.type === 'string' && missing) return `option '${token.rawName}' needs a value${SEE_HELP}`
    if (flag.type === 'boolean' && token.value !== undefined) return `option '${token.rawName}' takes no value${SEE_HELP}`
  }
  return undefined
}

/**
 * Exit status: 0 done, 1 failed (usage errors included). A usage error is one short line on
 * stderr, never the whole help text. (`import` also exits 2 when it skipped a malformed file.)
 */
async function main(argv: string[]): Promise<number> {
  const name = argv.find((arg) => !arg.startsWith('-'))
  const command = name === undefined ? undefined : COMMANDS[name]
  if (name !== undefined && name !== 'help' && !command) {
    const suggestion = closest(name, [...Object.keys(COMMANDS), 'help'])
    return usageError(`unknown command '${name}'${suggestion === undefined ? SEE_HELP : `; did you mean '${suggestion}'?`}`)
  }
  const flags = { ...GLOBAL_FLAGS, ...command?.flags }
  const problem = flagProblem(argv, flags, command && name)
  if (problem !== undefined) return usageError(problem)
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: flags })
  if (values.version) return printVersion()
  if (values.help || !command) {
    console.log(HELP)
    return values.help || name === 'help' ? 0 : 1
  }
  return command.run(values, positionals.slice(1))
}

function usageError(problem: string): number {
  console.error(`originchats: ${problem}`)
  return 1
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error instanceof ConfigError ? error.message : `originchats: ${(error as Error)?.message ?? error}`)
    process.exit(1)
  },
)
