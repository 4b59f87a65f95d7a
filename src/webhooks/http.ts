import { AddressLimiter } from '../auth/address-limit.ts'
import type { RateLimiter } from '../auth/rate-limit.ts'
import type { Bus } from '../bus/types.ts'
import { findMentions, pingTargets, wirePings } from '../commands/mentions.ts'
import type { Config } from '../config/schema.ts'
import type { Logger } from '../log.ts'
import { readBoundedBody } from '../net/body.ts'
import { jsonResponse, CORS } from '../net/http.ts'
import { topics } from '../net/topics.ts'
import { embedsError } from '../protocol/embeds.ts'
import { TargetGoneError, type NewMessage, type Store, type WebhookRecord } from '../store/types.ts'
import { messageView } from '../views/message.ts'
import { GITHUB_AUTHOR, isGithubPayload, pushEmbed } from './github.ts'
import { tokenDigest, tokenMatches } from './token.ts'

/** http.md: webhook bodies up to 10 MiB. */
export const MAX_WEBHOOK_BODY = 10 * 1024 * 1024
const AUTHOR = 'originChats'
const DEFAULT_NAME = 'Webhook'

export interface WebhookEndpointDeps {
  config(): Config
  store: Store
  bus: Bus
  /** Posts per webhook ID, with the `rate_limiting` settings (applied when it is enabled). */
  limiter: RateLimiter
  log: Logger
}

type Json = Record<string, unknown>
type Draft = Pick<NewMessage, 'content' | 'webhook' | 'embeds'>

const error = (message: string, status: number) => jsonResponse({ error: message }, status)
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)
const codePoints = (text: string) => [...text].length

/**
 * `POST /webhooks?token=…` (and `/webhooks/<anything>`): checks in http.md's order, then stores
 * the message through the same insert (and group commit) as `message_new` and shows it to the
 * channel's viewers. Answers 204 with no body.
 */
export class WebhookEndpoint {
  /** Wrong tokens per client address, with the sign-in limit (`security.auth_failures_per_address_per_minute`). */
  private readonly guesses: AddressLimiter

  constructor(private readonly deps: WebhookEndpointDeps) {
    this.guesses = new AddressLimiter(() => deps.config().security.auth_failures_per_address_per_minute, 60_000)
  }

  /** `address` is the client's, as the WebSocket limits see it. */
  async handle(request: Request, address: string): Promise<Response> {
    const token = new URL(request.url).searchParams.get('token')
    if (!token) return error('Webhook token required', 401)
    if (!(request.headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')) {
      return error('Content-Type must be application/json', 415)
    }
    // Before anything is read or looked up: an address that guessed too often learns nothing more.
    const wait = this.guesses.retryAfter(address)
    if (wait > 0) return tooMany('Too many invalid webhook tokens', wait)
    const read = await readBoundedBody(request, MAX_WEBHOOK_BODY)
    if ('error' in read) return read.error === 'too_large' ? error('Request body too large (max 10MB)', 413) : error('Failed to read request body', 400)
    const webhook = await this.find(token)
    if (!webhook) {
      this.guesses.record(address)
      return error('Invalid webhook token', 401)
    }
    let body: unknown
    try {
      body = JSON.parse(new TextDecoder().decode(read.bytes))
    } catch {
      return error('Invalid JSON body', 400)
    }
    if (!isObject(body)) return error('JSON body must be an object', 400)
    const channel = await this.deps.store.channels.get(webhook.channel)
    if (!channel) return error('Channel not found', 404)
    const limited = await this.rateLimited(webhook)
    if (limited) return limited
    const event = request.headers.get('x-github-event')
    const draft = isGithubPayload(event, body) ? githubDraft(event, body) : this.normalDraft(webhook, body)
    if ('error' in draft) return error(draft.error, 400)
    return this.post(channel.name, draft)
  }

  private async find(token: string): Promise<WebhookRecord | undefined> {
    const found = await this.deps.store.webhooks.findByTokenHash(tokenDigest(token))
    return found && tokenMatches(token, found.tokenHash) ? found.webhook : undefined
  }

  private async rateLimited(webhook: WebhookRecord): Promise<Response | undefined> {
    if (!this.deps.config().rate_limiting.enabled) return undefined
    const decision = await this.deps.limiter.check(webhook.id)
    if (decision.allowed) return undefined
    return tooMany('Rate limited', Math.ceil(decision.wait))
  }

  /** http.md normal mode, with message_new's embed rules and `limits.post_content` (upstream checked neither). */
  private normalDraft(webhook: WebhookRecord, body: Json): Draft | { error: string } {
    const embeds = body.embeds === undefined || body.embeds === null ? undefined : body.embeds
    let content = body.content || body.text
    if (!content && embeds === undefined) content = body.message
    if (content !== undefined && content !== null && typeof content !== 'string') return { error: 'Content must be a string' }
    const text = (content ?? '').trim()
    if (embeds !== undefined) {
      const problem = embedsError(embeds)
      if (problem) return { error: problem }
    }
    const hasEmbeds = Array.isArray(embeds) && embeds.length > 0
    if (text === '' && !hasEmbeds) return { error: 'No content provided' }
    const max = this.deps.config().limits.post_content
    if (codePoints(text) > max) return { error: `Message too long. Maximum length is ${max} characters` }
    for (const field of ['username', 'avatar_url'] as const) {
      if (body[field] !== undefined && body[field] !== null && typeof body[field] !== 'string') return { error: `${field} must be a string` }
    }
    const name = (body.username as string | undefined) || webhook.name || DEFAULT_NAME
    const avatar = (body.avatar_url as string | undefined) || webhook.avatar
    return { content: text, webhook: { id: webhook.id, name, avatar }, ...(hasEmbeds ? { embeds: embeds as unknown[] } : {}) }
  }

  private async post(channel: string, draft: Draft): Promise<Response> {
    const { store, bus, log } = this.deps
    const mentions = await findMentions(draft.content, store.users)
    let stored
    try {
      stored = await store.messages.insert({ channel, thread_id: null, user: AUTHOR, ...draft }, pingTargets(mentions))
    } catch (failure) {
      if (failure instanceof TargetGoneError) return error('Channel not found', 404)
      throw failure
    }
    const message = { ...(await messageView(stored, store.users)), pings: wirePings(mentions) }
    bus.publish(topics.channel(channel), { cmd: 'message_new', message, channel, global: true })
    log.debug(`webhook ${(draft.webhook as { id: string }).id} posted message ${stored.id} in #${channel}`)
    return new Response(null, { status: 204, headers: CORS })
  }
}

const tooMany = (message: string, seconds: number) =>
  new Response(JSON.stringify({ error: message, retry_after: seconds }), {
    status: 429,
    headers: { ...CORS, 'Content-Type': 'application/json', 'Retry-After': String(seconds) },
  })

function githubDraft(event: string, body: Json): Draft | { error: string } {
  if (event !== 'push') return { error: `Unhandled event type: ${event}` }
  const embed = pushEmbed(body)
  if ('error' in embed) return { error: embed.error as string }
  return { content: '', webhook: { ...GITHUB_AUTHOR }, embeds: [embed] }
}
