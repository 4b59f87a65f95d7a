/** Who Rotur says a validator belongs to. */
export interface RoturIdentity {
  id: string
  username: string
}

export interface RoturClient {
  /** Undefined for an invalid validator, a non-200 answer, a timeout or a network error. */
  validate(key: string, validator: string): Promise<RoturIdentity | undefined>
}

export interface RoturSettings {
  validate_url: string
  timeout_ms: number
}

/** GET `<validate_url>?key=…&v=…` as upstream does; the URL comes from config so tests use loopback. */
export class HttpRoturClient implements RoturClient {
  constructor(private readonly settings: () => RoturSettings) {}

  async validate(key: string, validator: string): Promise<RoturIdentity | undefined> {
    const { validate_url, timeout_ms } = this.settings()
    try {
      const url = new URL(validate_url)
      url.searchParams.set('key', key)
      url.searchParams.set('v', validator)
      const response = await fetch(url, { signal: AbortSignal.timeout(timeout_ms) })
      if (response.status !== 200) return undefined
      const body = (await response.json()) as Record<string, unknown>
      if (body.valid !== true) return undefined
      return identityFrom(body, validator)
    } catch {
      return undefined
    }
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
