/** Who Rotur says a validator belongs to. */
export interface RoturIdentity {
  id: string
  username: string
}

/** Rotur's answer to a validation, told apart as the upload endpoint needs (http.md). */
export type RoturAnswer = { kind: 'unreachable' } | { kind: 'invalid' } | { kind: 'valid'; body: Record<string, unknown> }

export interface RoturClient {
  /** Undefined for an invalid validator, a non-200 answer, a timeout or a network error. */
  validate(key: string, validator: string): Promise<RoturIdentity | undefined>
  /** The raw outcome: network failures and timeouts apart from refusals. */
  check(key: string, validator: string): Promise<RoturAnswer>
  /**
   * The account's subscription tier as its profile states it (`subscription`), undefined when
   * the profile has none or cannot be read. Rejects on a network failure or timeout.
   */
  subscription(username: string): Promise<string | undefined>
}

export interface RoturSettings {
  validate_url: string
  timeout_ms: number
}

/** GET `<validate_url>?key=…&v=…` as upstream does; the URL comes from config so tests use loopback. */
export class HttpRoturClient implements RoturClient {
  constructor(private readonly settings: () => RoturSettings) {}

  async validate(key: string, validator: string): Promise<RoturIdentity | undefined> {
    const answer = await this.check(key, validator)
    return answer.kind === 'valid' ? identityFrom(answer.body, validator) : undefined
  }

  async check(key: string, validator: string): Promise<RoturAnswer> {
    const { validate_url, timeout_ms } = this.settings()
    let response: Response
    try {
      const url = new URL(validate_url)
      url.searchParams.set('key', key)
      url.searchParams.set('v', validator)
      response = await fetch(url, { signal: AbortSignal.timeout(timeout_ms) })
    } catch {
      return { kind: 'unreachable' }
    }
    if (response.status !== 200) return { kind: 'invalid' }
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined
    return body && body.valid === true ? { kind: 'valid', body } : { kind: 'invalid' }
  }

  /** GET `<profile>?include_posts=0&name=…`, the profile endpoint beside `validate_url`. */
  async subscription(username: string): Promise<string | undefined> {
    const { validate_url, timeout_ms } = this.settings()
    const url = new URL('profile', validate_url)
    url.searchParams.set('include_posts', '0')
    url.searchParams.set('name', username)
    const response = await fetch(url, { signal: AbortSignal.timeout(timeout_ms) })
    if (response.status !== 200) return undefined
    const body = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined
    return typeof body?.subscription === 'string' ? body.subscription : undefined
  }
}

/**
 * Latest upstream takes `id` and `username` from the answer; seed derived a lower-cased name
 * from the validator text before its first comma. Use the first one available.
 */
function identityFrom(body: Record<string, unknown>, validator: string): RoturIdentity | undefined {
  const username = typeof body.username === 'string' && body.username ? body.username : undefined
  const id = typeof body.id === 'string' && body.id ? body.id : username
  if (id && username) return { id, username }
  const seedName = validator.split(',')[0]?.toLowerCase()
  return seedName ? { id: id ?? seedName, username: username ?? seedName } : undefined
}
