/**
 * Slash command definitions (data.md §15): what a bot or plugin submits, checked and brought to
 * the one shape the server lists and broadcasts. Unknown keys are dropped. Beyond the spec every
 * part is bounded, so no registration can make the server hold much memory.
 */

export const OPTION_TYPES = ['str', 'int', 'float', 'bool', 'enum'] as const
export type OptionType = (typeof OPTION_TYPES)[number]

export interface SlashOption {
  name: string
  description: string
  type: OptionType
  choices: string[] | null
  required: boolean
}

export interface SlashDefinition {
  name: string
  description: string
  options: SlashOption[]
  whitelistRoles: string[] | null
  blacklistRoles: string[] | null
  ephemeral: boolean
}

/** A command as `slash_list` and `slash_add` show it (built-ins' options have no `choices`). */
export interface SlashCommandView extends Omit<SlashDefinition, 'options'> {
  options: Array<Omit<SlashOption, 'choices'> & { choices?: string[] | null }>
  registeredBy: string
}

/** Who built-in (and plugin) commands are listed as registered by, and who authors their output. */
export const BUILTIN_AUTHOR = 'originChats'

export const SLASH_LIMITS = {
  /** Code points of a command or option name. */
  name: 32,
  description: 200,
  options: 25,
  choices: 25,
  choice: 100,
  /** Entries of a whitelist or blacklist, and code points of each role name in it. */
  roles: 25,
  role: 100,
} as const

/** Letters and digits of any script, `-` and `_`: a name a user can type after `/`. */
const NAME = /^[\p{L}\p{N}_-]+$/u

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)
const length = (text: string) => [...text].length

/** A definition that breaks a rule; the message is the detail of `Invalid command schema: {detail}`. */
export class SchemaProblem extends Error {}

const problem = (detail: string): never => {
  throw new SchemaProblem(detail)
}

/** `at` prefixes the field paths of the messages (`commands[2].`, or '' for a single definition). */
export function parseDefinition(value: unknown, at = ''): SlashDefinition {
  if (!isObject(value)) return problem(`${at ? at.slice(0, -1) : 'the command'} must be an object`)
  const options = value.options ?? []
  if (!Array.isArray(options)) return problem(`${at}options must be a list`)
  if (options.length > SLASH_LIMITS.options) problem(`${at}options must have at most ${SLASH_LIMITS.options} entries`)
  const definition: SlashDefinition = {
    name: name(value.name, `${at}name`),
    description: description(value.description, `${at}description`),
    options: options.map((option, i) => parseOption(option, `${at}options[${i}]`)),
    whitelistRoles: roleList(value.whitelistRoles, `${at}whitelistRoles`),
    blacklistRoles: roleList(value.blacklistRoles, `${at}blacklistRoles`),
    ephemeral: flag(value.ephemeral, false, `${at}ephemeral`),
  }
  const seen = new Set<string>()
  for (const [i, option] of definition.options.entries()) {
    if (seen.has(option.name)) problem(`${at}options[${i}].name '${option.name}' is used twice`)
    seen.add(option.name)
  }
  return definition
}

function parseOption(value: unknown, at: string): SlashOption {
  if (!isObject(value)) return problem(`${at} must be an object`)
  const option: SlashOption = {
    name: name(value.name, `${at}.name`),
    description: description(value.description, `${at}.description`),
    type: optionType(value.type, `${at}.type`),
    choices: choices(value.choices, `${at}.choices`),
    required: flag(value.required, true, `${at}.required`),
  }
  if (option.type === 'enum' && (option.choices === null || option.choices.length === 0)) {
    problem(`${at}.choices must be a non-empty list for enum options`)
  }
  return option
}

function name(value: unknown, at: string): string {
  if (typeof value !== 'string') return problem(`${at} must be a string`)
  if (length(value) > SLASH_LIMITS.name || !NAME.test(value)) problem(`${at} must be 1-${SLASH_LIMITS.name} letters, digits, '-' or '_'`)
  return value
}

function description(value: unknown, at: string): string {
  if (typeof value !== 'string') return problem(`${at} must be a string`)
  if (length(value) > SLASH_LIMITS.description) problem(`${at} must be at most ${SLASH_LIMITS.description} characters`)
  return value
}

function optionType(value: unknown, at: string): OptionType {
  if (!OPTION_TYPES.includes(value as OptionType)) return problem(`${at} must be one of ${OPTION_TYPES.join(', ')}`)
  return value as OptionType
}

function choices(value: unknown, at: string): string[] | null {
  if (value === undefined || value === null) return null
  if (!Array.isArray(value)) return problem(`${at} must be a list of strings`)
  if (value.length > SLASH_LIMITS.choices) problem(`${at} must have at most ${SLASH_LIMITS.choices} entries`)
  for (const [i, choice] of value.entries()) {
    if (typeof choice !== 'string' || length(choice) > SLASH_LIMITS.choice) problem(`${at}[${i}] must be a string of at most ${SLASH_LIMITS.choice} characters`)
  }
  return [...value]
}

function roleList(value: unknown, at: string): string[] | null {
  if (value === undefined || value === null) return null
  if (!Array.isArray(value)) return problem(`${at} must be a list of role names`)
  if (value.length > SLASH_LIMITS.roles) problem(`${at} must have at most ${SLASH_LIMITS.roles} entries`)
  for (const [i, role] of value.entries()) {
    if (typeof role !== 'string' || length(role) > SLASH_LIMITS.role) problem(`${at}[${i}] must be a role name of at most ${SLASH_LIMITS.role} characters`)
  }
  return [...value]
}

function flag(value: unknown, fallback: boolean, at: string): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') return problem(`${at} must be a boolean`)
  return value
}

/** The built-ins' form in `slash_list`: options without `choices` (commands.md §15.2). */
export function builtinView(definition: SlashDefinition): SlashCommandView {
  const options = definition.options.map(({ choices: _choices, ...option }) => option)
  return { ...definition, options, registeredBy: BUILTIN_AUTHOR }
}
