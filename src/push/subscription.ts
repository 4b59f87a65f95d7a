/** Bounds of what a client may store; a real endpoint is well under 1 KiB. */
const MAX_ENDPOINT_LENGTH = 2048
/** An uncompressed P-256 point (65 bytes) and the 16-byte auth secret, in base64url. */
const P256DH_BYTES = 65
const AUTH_BYTES = 16
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/

export interface SubscriptionKeys {
  endpoint: string
  p256dh: string
  auth: string
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|\[::1\]|localhost)$/i

/**
 * Why a subscription cannot be used, or undefined when it can: the endpoint is an https URL
 * (plain http only for loopback hosts, and only with `allowHttpLoopback`), the keys decode to a
 * P-256 point and a 16-byte secret.
 */
export function subscriptionProblem(s: SubscriptionKeys, allowHttpLoopback: boolean): string | undefined {
  if (s.endpoint.length > MAX_ENDPOINT_LENGTH) return 'endpoint is too long'
  let url: URL
  try {
    url = new URL(s.endpoint)
  } catch {
    return 'endpoint is not a URL'
  }
  const insecureAllowed = allowHttpLoopback && url.protocol === 'http:' && LOOPBACK.test(url.hostname)
  if (url.protocol !== 'https:' && !insecureAllowed) return 'endpoint must be an https URL'
  if (url.username || url.password) return 'endpoint must not carry credentials'
  const point = decoded(s.p256dh, P256DH_BYTES)
  if (!point || point[0] !== 4) return 'keys.p256dh must be an uncompressed P-256 public key'
  if (!decoded(s.auth, AUTH_BYTES)) return 'keys.auth must be 16 bytes'
  return undefined
}

function decoded(text: string, bytes: number): Buffer | undefined {
  if (text.length > 4 * bytes || !BASE64URL.test(text)) return undefined
  const buffer = Buffer.from(text.replace(/=+$/, ''), 'base64url')
  return buffer.length === bytes ? buffer : undefined
}
