import { existsSync, mkdirSync } from 'node:fs'
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { ConfigError } from '../config/load.ts'
import { buildConfig, defaultAnswers, writeConfigFile } from '../setup/config-file.ts'
import { ask, confirm, lineReader, SetupError, type Terminal } from '../setup/prompt.ts'
import { InvalidAnswer, QUESTIONS, type Answers, type AskContext } from '../setup/questions.ts'
import { createSqliteStore, DATABASE_FILE } from '../store/sqlite/index.ts'

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
  const terminal: Terminal = { write, readLine }
  try {
    return await wizard(values, cwd, terminal)
  } catch (error) {
    if (!(error instanceof SetupError || error instanceof ConfigError)) throw error
    console.error(`setup: ${error.message}`)
    return 1
  } finally {
    input.close()
  }
}

async function wizard(values: Values, cwd: string, terminal: Terminal): Promise<number> {
  const yes = values.yes === true
  const configPath = resolve(cwd, typeof values.config === 'string' ? values.config : 'config.json')
  const ctx: AskContext = { answers: {}, defaults: defaultAnswers(), cwd, configDir: dirname(configPath) }
  const answers = ctx.answers as Record<keyof Answers, unknown>
  const answer = (flag: string, run: () => unknown) => {
    try {
      return run()
    } catch (error) {
      if (error instanceof InvalidAnswer) throw new SetupError(`--${flag}: ${error.message}`)
      throw error
    }
  }

  // Flags first, so a bad one fails before any question is asked.
  const fromFlags = new Set<string>()
  for (const q of QUESTIONS) {
    const flag = values[q.flag]
    if (typeof flag !== 'string') continue
    if (q.key === 'tlsKey' && typeof values['tls-cert'] !== 'string') throw new SetupError('--tls-key: give --tls-cert as well')
    answers[q.key] = answer(q.flag, () => q.parse(flag.trim(), ctx))
    fromFlags.add(q.key)
  }

  if (existsSync(configPath) && !yes) {
    if (!(await confirm(`${configPath} already exists. Overwrite it?`, false, terminal))) {
      terminal.write(`Setup cancelled; ${configPath} is unchanged.\n`)
      return 0
    }
  }

  if (!yes) terminal.write(`Setting up ${configPath}. Press Enter to keep the value in [brackets].\n`)
  for (const q of QUESTIONS) {
    if (fromFlags.has(q.key)) continue
    if (yes || q.skip?.(ctx)) answers[q.key] = answer(q.flag, () => q.parse(q.shown(ctx), ctx))
    else answers[q.key] = await ask(q, ctx, terminal)
  }
  const final = ctx.answers as Answers

  await writeConfigFile(configPath, buildConfig(final))
  const dataDir = resolve(ctx.configDir, final.data)
  mkdirSync(dataDir, { recursive: true })
  const databasePath = join(dataDir, DATABASE_FILE)
  // Opening runs the migrations: the four default roles and #general come with them.
  createSqliteStore(databasePath).close()

  terminal.write(
    [
      '',
      `Wrote ${configPath}`,
      `Database ready: ${databasePath}`,
      `Whoever signs in as "${final.owner}" gets the owner role.`,
      ...warnings(final),
      'Start the server with:',
      `  ${serveCommand(configPath, cwd)}`,
      '',
    ].join('\n'),
  )
  return 0
}

function warnings(answers: Answers): string[] {
  if (answers.authMode === 'cracked-only' && !answers.registration) {
    return ['Note: Rotur is off and registration is closed, so nobody can create an account.']
  }
  return []
}

/** The exact command that serves this config from `cwd`, with the executable as it was run. */
export function serveCommand(configPath: string, cwd: string): string {
  // A compiled binary runs its bundled entry from Bun's virtual filesystem.
  const compiled = Bun.main.startsWith('/$bunfs/') || Bun.main.includes('~BUN')
  const program = compiled ? display(process.execPath, cwd, true) : `bun ${display(Bun.main, cwd, false)}`
  const parts = [program, 'serve']
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
