import { Value } from '@sinclair/typebox/value'
import { Config } from './schema.ts'

export class ConfigError extends Error {}

/** Fills defaults and checks `raw`; throws one ConfigError naming every bad key. */
export function parseConfig(raw: unknown, source = 'config'): Config {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${source}: must be a JSON object`)
  }
  const value = Value.Default(Config, structuredClone(raw))
  const problems = [...Value.Errors(Config, value)].map((e) => `  ${e.path || '/'}: ${e.message}`)
  if (problems.length > 0) {
    throw new ConfigError(`${source} is invalid:\n${[...new Set(problems)].join('\n')}`)
  }
  return value as Config
}

export async function loadConfigFile(path: string): Promise<Config> {
  const file = Bun.file(path)
  if (!(await file.exists())) throw new ConfigError(`${path}: file not found`)
  let raw: unknown
  try {
    raw = JSON.parse(await file.text())
  } catch (error) {
    throw new ConfigError(`${path}: not valid JSON (${(error as Error).message})`)
  }
  return parseConfig(raw, path)
}

export function defaultConfig(): Config {
  return parseConfig({})
}
