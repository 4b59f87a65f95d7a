import { existsSync, mkdirSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { newLocalAccount } from '../auth/accounts.ts'
import { MAX_PASSWORD, hashPassword, localId } from '../auth/local.ts'
import { normalizeName } from '../auth/names.ts'
import { ConfigError, parseConfig } from '../config/load.ts'
import { backUpConfigFile, buildConfig, currentAnswers, readConfigFile, startingConfig, writeConfigFile } from '../setup/config-file.ts'
import { ask, confirm, lineReader, SetupCancelled, SetupError, type Terminal } from '../setup/prompt.ts'
import { InvalidAnswer, NONE, QUESTIONS, type Answers, type AskContext, type Question } from '../setup/questions.ts'
import { createSqliteStore, DATABASE_FILE } from '../store/sqlite/index.ts'
import { DatabaseTooNewError } from '../store/sqlite/migrate.ts'

/** `--yes`, `--config FILE`, and one string flag per question (see QUESTIONS). */
export const SETUP_FLAGS = {
  yes: { type: 'boolean' },
  config: { type: 'string' },
  ...Object.fromEntries(QUESTIONS.map((q) => [q.flag, { type: 'string' }])),
} as Record<string, { type: 'string' | 'boolean' }>

type Values = Record<string, string | boolean | undefined>

/**
 * The setup wizard: asks (or takes from flags) what config.json needs, writes it, creates and
 * migrates the database, and prints the command that starts the server.
 */
export async function setup(values: Values, cwd = process.cwd()): Promise<number> {
  const input = lineReader(() => Bun.stdin.stream())
  const write = (text: string) => void process.stdout.write(text)
  // Answers from a pipe or file are not echoed by a terminal; echo them so the transcript reads right.
  const echo = !process.stdin.isTTY
  const readLine = async () => {
    const line = await input.readLine()
    if (echo && line !== undefined) write(`${line}\n`)
    return line
  }
  // At a terminal, `stty -echo` hides a password while the line is typed; from a pipe it is not echoed.
  const readSecret = async () => {
    const tty = process.stdin.isTTY
    if (tty) Bun.spawnSync(['stty', '-echo'], { stdin: 'inherit' })
    try {
      return await input.readLine()
    } finally {
      if (tty) Bun.spawnSync(['stty', 'echo'], { stdin: 'inherit' })
      write('\n')
    }
  }
  const terminal: Terminal = { write, readLine, readSecret }
  try {
    return await wizard(values, cwd, terminal)
  } catch (error) {
    if (error instanceof SetupCancelled) {
      console.error('Setup cancelled; nothing was written.')
      return 1
    }
    if (!(error instanceof SetupError || error instanceof ConfigError || error instanceof DatabaseTooNewError)) throw error
    console.error(`setup: ${error.message}`)
    return 1
  } finally {
    input.close()
  }
}

async function wizard(values: Values, cwd: string, terminal: Terminal): Promise<number> {
  const yes = values.yes === true
  const configPath = resolve(cwd, typeof values.config === 'string' ? values.config : 'config.json')
  const configDir = dirname(configPath)
  const existing = await readConfigFile(configPath)
  const base = startingConfig(existing)
  const ctx: AskContext = { answers: {}, defaults: currentAnswers(base, configPath, configDir, existing === undefined), cwd, configDir }
  const answers = ctx.answers as Record<keyof Answers, unknown>
  const answer = (flag: string, run: () => unknown) => {
    try {
      return run()
    } catch (error) {
      if (error instanceof InvalidAnswer) throw new SetupError(`--${flag}: ${error.message}`)
      throw error
    }
  }

  // Flags first, so a bad one fails before any question is asked (checked again below, in order,
  // once the answers they depend on are known).
  const flags = new Map<keyof Answers, string>()
  const early: AskContext = { ...ctx, answers: {} }
  for (const q of QUESTIONS) {
    const flag = values[q.flag]
    if (typeof flag !== 'string') continue
    if (q.key === 'tlsKey' && typeof values['tls-cert'] !== 'string') throw new SetupError('--tls-key: give --tls-cert as well')
    ;(early.answers as Record<keyof Answers, unknown>)[q.key] = answer(q.flag, () => q.parse(flag.trim(), early))
    flags.set(q.key, flag.trim())
  }

  if (existing && !yes) {
    if (!(await confirm(`${configPath} already exists. Overwrite it?`, false, terminal))) {
      terminal.write(`Setup cancelled; ${configPath} is unchanged.\n`)
      return 0
    }
  }

  if (!yes) {
    terminal.write(`Setting up ${configPath}. Press Enter to keep the value in [brackets]`)
    terminal.write(existing ? `; type ${NONE} to remove an optional one.\n` : '.\n')
  }
  for (const q of QUESTIONS) {
    const flag = flags.get(q.key)
    if (flag !== undefined) answers[q.key] = answer(q.flag, () => q.parse(flag, ctx))
    else if (yes) answers[q.key] = keep(q, ctx)
    else if (q.skip?.(ctx)) answers[q.key] = answer(q.flag, () => q.parse(q.shown(ctx), ctx))
    else answers[q.key] = await ask(q, ctx, terminal)
  }
  const final = ctx.answers as Answers

  const built = buildConfig(base, final)
  const config = parseConfig(built, configPath)
  const dataDir = resolve(configDir, final.data)
  const databasePath = join(dataDir, DATABASE_FILE)
  // In cracked-only mode the owner is a local account: made here, with its password, so nobody
  // can register the owner's name before the owner does.
  const needsOwnerAccount = final.authMode === 'cracked-only' && !(await localAccountExists(databasePath, final.owner))
  const ownerPassword = needsOwnerAccount && !yes ? await askOwnerPassword(terminal, final.owner, config.security.min_password_length) : undefined
  mkdirSync(dataDir, { recursive: true })
  // Before config.json is touched, so a database this binary cannot use leaves everything as it was.
  // Opening runs the migrations: the four default roles and #general come with them.
  const store = createSqliteStore(databasePath, 'normal', { log: { info: (line) => terminal.write(`${line}\n`) } })
  try {
    if (ownerPassword !== undefined) await store.users.insert(newLocalAccount(config, normalizeName(final.owner).toLowerCase(), await hashPassword(ownerPassword)))
  } finally {
    store.close()
  }
  const previous = existing && (await backUpConfigFile(configPath))
  await writeConfigFile(configPath, built)

  terminal.write(
    [
      '',
      `Wrote ${configPath}`,
      ...(previous ? [`The previous file is kept as ${previous}`] : []),
      `Database ready: ${databasePath}`,
      ...ownerNotes(final, ownerPassword !== undefined, needsOwnerAccount && yes ? command(['user', 'add', final.owner], configPath, cwd) : undefined),
      'Start the server with:',
      `  ${command(['serve'], configPath, cwd)}`,
      '',
    ].join('\n'),
  )
  return 0
}

/** `--yes` keeps the value in brackets; one that cannot stand (no owner yet) needs its flag. */
function keep(q: Question, ctx: AskContext): unknown {
  const text = q.shown(ctx)
  try {
    return q.parse(text, ctx)
  } catch (error) {
    if (!(error instanceof InvalidAnswer)) throw error
    const why = text === '' ? error.message : `the current value "${text}" cannot stay: ${error.message}`
    throw new SetupError(`--${q.flag} is required with --yes (${why})`)
  }
}

/** Who gets the owner role and how they sign in, so the first sign-in is the right one. */
function ownerNotes({ owner, authMode }: Answers, created: boolean, createWith: string | undefined): string[] {
  if (authMode === 'rotur') return [`Owner: whoever signs in with the Rotur account "${owner}" gets the owner role.`]
  if (authMode === 'cracked') {
    return [`Owner: whoever signs in with the Rotur account "${owner}" gets the owner role (a local account named ${owner} does not).`]
  }
  const owns = `Owner: the local account "${owner}" has the owner role; it signs in with login and its password.`
  if (created) return [`Created the local account "${owner}" with the password you chose.`, owns]
  if (createWith === undefined) return [owns]
  return [
    `Owner: whoever logs in to the local account "${owner}" gets the owner role. Create it before you open the server,`,
    `  so nobody else can register the name first: ${createWith}`,
  ]
}

/** Whether the database (if there is one yet) holds the local account `name`. */
async function localAccountExists(databasePath: string, name: string): Promise<boolean> {
  if (!existsSync(databasePath)) return false
  const store = createSqliteStore(databasePath)
  try {
    return (await store.users.get(localId(name))) !== undefined
  } finally {
    store.close()
  }
}

/** The owner's new password, typed twice; input ending cancels setup. */
async function askOwnerPassword(terminal: Terminal, owner: string, min: number): Promise<string> {
  for (;;) {
    terminal.write(`Password for the owner's local account "${owner}" (${min}-${MAX_PASSWORD} characters, not shown): `)
    const password = await terminal.readSecret()
    if (password === undefined) throw new SetupCancelled()
    const length = [...password].length
    if (length < min || length > MAX_PASSWORD) {
      terminal.write(`  the password must be ${min}-${MAX_PASSWORD} characters\n`)
      continue
    }
    terminal.write('Repeat the password: ')
    const again = await terminal.readSecret()
    if (again === undefined) throw new SetupCancelled()
    if (again === password) return password
    terminal.write('  the two passwords differ; try again\n')
  }
}

/** The exact command that runs `words` (a subcommand) on this config from `cwd`, with the executable as it was run. */
function command(words: string[], configPath: string, cwd: string): string {
  // A compiled binary runs its bundled entry from Bun's virtual filesystem.
  const compiled = Bun.main.startsWith('/$bunfs/') || Bun.main.includes('~BUN')
  const program = compiled ? display(process.execPath, cwd, true) : `bun ${display(Bun.main, cwd, false)}`
  const parts = [program, ...words]
  if (configPath !== resolve(cwd, 'config.json')) parts.push('--config', display(configPath, cwd, false))
  return parts.join(' ')
}

/** Relative to `cwd` when inside it, absolute otherwise; shell-quoted when needed. */
function display(path: string, cwd: string, executable: boolean): string {
  const rel = relative(cwd, path)
  const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
  // A bare name would be looked up on PATH, so an executable here needs its ./ prefix.
  const shown = inside ? (executable ? `.${sep}${rel}` : rel) : path
  return /^[\w@%+=:,./~-]+$/.test(shown) ? shown : `'${shown.replaceAll("'", `'\\''`)}'`
}
