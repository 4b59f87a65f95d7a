import type { Server } from 'bun'

export interface FakeRotur {
  url: string
  /** A validator Rotur would mint for `username` on a connection whose handshake key is `key`. */
  issue(username: string, key: string, id?: string): string
  /** How the next requests are answered: normally, with HTTP 500, or never (until stopped). */
  mode: 'ok' | 'error' | 'hang'
  requests: number
  /** Profile `subscription` by username (case-insensitive); absent names have none. */
  subscriptions: Map<string, string>
  /** Answers /validate as valid for this validator, naming this body instead of a minted identity. */
  answer(validator: string, body: Record<string, unknown>): void
  stop(): Promise<void>
}

/** Plays Rotur's /validate on loopback: a validator is valid only with the key it was minted for. */
export function startFakeRotur(): FakeRotur {
  const issued = new Map<string, { key: string; id: string; username: string }>()
  const hanging: Array<() => void> = []
  const canned = new Map<string, Record<string, unknown>>()
  let server: Server<undefined>
  const rotur: FakeRotur = {
    url: '',
    mode: 'ok',
    requests: 0,
    subscriptions: new Map(),
    answer(validator, body) {
      canned.set(validator, body)
    },
    issue(username, key, id = `rotur-${username.toLowerCase()}`) {
      const validator = `${username},${crypto.randomUUID()}`
      issued.set(validator, { key, id, username })
      return validator
    },
    async stop() {
      for (const release of hanging) release()
      await server.stop(true)
    },
  }
  server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      rotur.requests++
      const url = new URL(request.url)
      if (url.pathname === '/profile') {
        const tier = rotur.subscriptions.get((url.searchParams.get('name') ?? '').toLowerCase())
        return Response.json(tier === undefined ? { username: url.searchParams.get('name') } : { username: url.searchParams.get('name'), subscription: tier })
      }
      if (url.pathname !== '/validate') return new Response('not found', { status: 404 })
      if (rotur.mode === 'error') return new Response('boom', { status: 500 })
      if (rotur.mode === 'hang') {
        await new Promise<void>((release) => hanging.push(release))
        return new Response('late', { status: 503 })
      }
      const body = canned.get(url.searchParams.get('v') ?? '')
      if (body) return Response.json(body)
      const grant = issued.get(url.searchParams.get('v') ?? '')
      if (!grant || grant.key !== url.searchParams.get('key')) return Response.json({ valid: false })
      return Response.json({ valid: true, id: grant.id, username: grant.username })
    },
  })
  rotur.url = `http://127.0.0.1:${server.port}/validate`
  return rotur
}
