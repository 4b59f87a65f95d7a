/**
 * The embed schema of data.md §3.5. Returns the error text of the first problem, or undefined.
 * Unknown keys are accepted, as upstream does. Beyond the spec, every field is bounded (URLs,
 * timestamps, nested objects) and so is a message's embeds as a whole (`MAX_EMBEDS_BYTES` of
 * JSON, unknown keys included): a history page of 200 messages must stay far below the
 * WebSocket backpressure limit, or readers would be disconnected for loading it.
 */
const TYPES = new Set(['rich', 'poll', 'link', 'image', 'video', 'article'])
const MAX_EMBEDS = 10
const MAX_TOTAL = 6000
const MAX_URL = 2048
const MAX_TIMESTAMP = 64
export const MAX_EMBEDS_BYTES = 8192

type Embed = Record<string, unknown>

const isObject = (v: unknown): v is Embed => typeof v === 'object' && v !== null && !Array.isArray(v)
const isString = (v: unknown): v is string => typeof v === 'string'
const isInt = (v: unknown): v is number => Number.isInteger(v)

export function embedsError(embeds: unknown): string | undefined {
  if (!Array.isArray(embeds)) return 'Embeds must be an array'
  if (embeds.length > MAX_EMBEDS) return `Cannot have more than ${MAX_EMBEDS} embeds`
  if (Buffer.byteLength(JSON.stringify(embeds)) > MAX_EMBEDS_BYTES) return `Embeds are too large (at most ${MAX_EMBEDS_BYTES} bytes of JSON per message)`
  for (const [i, embed] of embeds.entries()) {
    const problem = embedProblem(embed)
    if (problem) return `Embed ${i}: ${problem}`
  }
  return undefined
}

function text(embed: Embed, key: string, max: number, required = false): string | undefined {
  const value = embed[key]
  if (value === undefined || value === null) return required ? `${key} is required` : undefined
  if (!isString(value)) return `${key} must be a string`
  if ([...value].length > max) return `${key} must be at most ${max} characters`
  return undefined
}

function media(embed: Embed, key: string, required: boolean): string | undefined {
  const value = embed[key]
  if (value === undefined || value === null) return required ? `${key} is required for this embed type` : undefined
  if (!isObject(value) || !isString(value.url)) return `${key}.url is required`
  const url = text(value, 'url', MAX_URL)
  if (url) return `${key}.${url}`
  for (const size of ['width', 'height']) {
    if (value[size] !== undefined && !isInt(value[size])) return `${key}.${size} must be an integer`
  }
  return undefined
}

function embedProblem(embed: unknown): string | undefined {
  if (!isObject(embed)) return 'must be an object'
  const type = embed.type ?? 'rich'
  if (!isString(type) || !TYPES.has(type)) return `type must be one of ${[...TYPES].join(', ')}`
  const simple =
    text(embed, 'title', 256) ??
    text(embed, 'description', 4096) ??
    text(embed, 'url', MAX_URL, type === 'link') ??
    text(embed, 'timestamp', MAX_TIMESTAMP)
  if (simple) return simple
  if (embed.color !== undefined && (!isInt(embed.color) || embed.color < 0 || embed.color > 0xffffff)) {
    return 'color must be an integer from 0 to 16777215'
  }
  if (embed.author !== undefined) {
    if (!isObject(embed.author)) return 'author must be an object'
    const problem = text(embed.author, 'name', 256, true) ?? text(embed.author, 'url', MAX_URL) ?? text(embed.author, 'icon_url', MAX_URL)
    if (problem) return `author.${problem}`
  }
  if (embed.footer !== undefined) {
    if (!isObject(embed.footer)) return 'footer must be an object'
    const problem = text(embed.footer, 'text', 2048, true) ?? text(embed.footer, 'icon_url', MAX_URL)
    if (problem) return `footer.${problem}`
  }
  const pictures = media(embed, 'image', type === 'image') ?? media(embed, 'thumbnail', false)
  if (pictures) return pictures
  const fields = fieldsProblem(embed.fields)
  if (fields) return fields
  const poll = pollProblem(embed.poll, type === 'poll')
  if (poll) return poll
  if (totalLength(embed) > MAX_TOTAL) return `total embed length must be at most ${MAX_TOTAL} characters`
  return undefined
}

function fieldsProblem(fields: unknown): string | undefined {
  if (fields === undefined) return undefined
  if (!Array.isArray(fields)) return 'fields must be an array'
  if (fields.length > 25) return 'fields must have at most 25 entries'
  for (const [i, field] of fields.entries()) {
    if (!isObject(field)) return `fields[${i}] must be an object`
    const problem = text(field, 'name', 256, true) ?? text(field, 'value', 1024, true)
    if (problem) return `fields[${i}].${problem}`
    if (field.inline !== undefined && typeof field.inline !== 'boolean') return `fields[${i}].inline must be a boolean`
  }
  return undefined
}

function pollProblem(poll: unknown, required: boolean): string | undefined {
  if (poll === undefined || poll === null) return required ? 'poll is required for this embed type' : undefined
  if (!isObject(poll)) return 'poll must be an object'
  const question = text(poll, 'question', 300, true)
  if (question) return `poll.${question}`
  const options = poll.options
  if (!Array.isArray(options) || options.length < 2 || options.length > 10) return 'poll.options must have 2 to 10 entries'
  for (const [i, option] of options.entries()) {
    if (!isObject(option)) return `poll.options[${i}] must be an object`
    if (!isString(option.id) || option.id.length < 1 || option.id.length > 50) return `poll.options[${i}].id must be 1 to 50 characters`
    const problem = text(option, 'text', 100, true)
    if (problem) return `poll.options[${i}].${problem}`
  }
  if (poll.allow_multiselect !== undefined && typeof poll.allow_multiselect !== 'boolean') return 'poll.allow_multiselect must be a boolean'
  if (poll.expires_at !== undefined && poll.expires_at !== null && typeof poll.expires_at !== 'number') return 'poll.expires_at must be a number'
  return undefined
}

function totalLength(embed: Embed): number {
  const len = (v: unknown) => (isString(v) ? [...v].length : 0)
  let total = len(embed.title) + len(embed.description)
  if (isObject(embed.footer)) total += len(embed.footer.text)
  if (isObject(embed.author)) total += len(embed.author.name)
  if (Array.isArray(embed.fields)) for (const f of embed.fields) if (isObject(f)) total += len(f.name) + len(f.value)
  if (isObject(embed.poll)) {
    total += len(embed.poll.question)
    if (Array.isArray(embed.poll.options)) for (const o of embed.poll.options) if (isObject(o)) total += len(o.text)
  }
  return total
}
