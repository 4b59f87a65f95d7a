import { fail, failPlain } from '../protocol/errors.ts'
import type { OptionType, SlashDefinition } from './definition.ts'

/**
 * The checks of a `slash_call` against the command's definition (commands.md §15.3): who may
 * call it, and whether the arguments fit its options.
 */

/** JSON bytes of a call's `args`: they travel to the bot and back to the caller. */
export const MAX_ARGS_BYTES = 4096

/**
 * Whitelists mean "any listed role" for every command (upstream required all of them for
 * registered commands, compat-notes bug 34); an empty list restricts nobody.
 */
export function mayUse(definition: SlashDefinition, roles: readonly string[]): boolean {
  return forbiddenRole(definition, roles) === undefined && missingRole(definition, roles) === undefined
}

const forbiddenRole = ({ blacklistRoles }: SlashDefinition, roles: readonly string[]) => roles.find((role) => blacklistRoles?.includes(role))

function missingRole({ whitelistRoles }: SlashDefinition, roles: readonly string[]): string | undefined {
  if (!whitelistRoles || whitelistRoles.length === 0 || roles.some((role) => whitelistRoles.includes(role))) return undefined
  return whitelistRoles[0]
}

/** Built-ins check the blacklist first, and their refusals carry `src`. */
export function requireBuiltinAccess(definition: SlashDefinition, roles: readonly string[]) {
  if (forbiddenRole(definition, roles) !== undefined) fail('Access denied: forbidden roles')
  const missing = missingRole(definition, roles)
  if (missing !== undefined) fail(`Access denied: '${missing}' role required`)
}

/** Registered commands check the whitelist first, without `src` (the shared role helper upstream). */
export function requireRegisteredAccess(definition: SlashDefinition, roles: readonly string[]) {
  const missing = missingRole(definition, roles)
  if (missing !== undefined) failPlain(`Access denied: '${missing}' role required`)
  const forbidden = forbiddenRole(definition, roles)
  if (forbidden !== undefined) failPlain(`Access denied: '${forbidden}' role is forbidden`)
}

const EXPECTED: Record<OptionType, string> = { str: 'string', enum: 'string', int: 'integer', float: 'number', bool: 'boolean' }

const fits: Record<OptionType, (value: unknown) => boolean> = {
  str: (value) => typeof value === 'string',
  enum: (value) => typeof value === 'string',
  int: (value) => Number.isInteger(value),
  float: (value) => typeof value === 'number',
  bool: (value) => typeof value === 'boolean',
}

/** Python's type names: the latent upstream message names them. */
function pythonType(value: unknown): string {
  if (value === null) return 'NoneType'
  if (Array.isArray(value)) return 'list'
  if (typeof value === 'string') return 'str'
  if (typeof value === 'boolean') return 'bool'
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float'
  return 'dict'
}

/**
 * Unknown and missing arguments first (upstream's order), then each value against its option's
 * type and, for `enum`, its choices (upstream never checked types, compat-notes bug 34).
 */
export function checkArgs(definition: SlashDefinition, args: Record<string, unknown>) {
  const options = new Map(definition.options.map((option) => [option.name, option]))
  for (const name of Object.keys(args)) if (!options.has(name)) fail(`Unknown argument: ${name}`)
  for (const option of definition.options) if (option.required && !Object.hasOwn(args, option.name)) fail(`Missing required argument: ${option.name}`)
  for (const [name, value] of Object.entries(args)) {
    const option = options.get(name)!
    if (!fits[option.type](value)) failPlain(`Invalid value for '${name}': Expected ${EXPECTED[option.type]}, got ${pythonType(value)}`)
    if (option.type === 'enum' && !option.choices!.includes(value as string)) failPlain(`Invalid value for '${name}': Expected one of: ${option.choices!.join(', ')}`)
  }
}
