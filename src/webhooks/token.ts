import { timingSafeEqual } from 'node:crypto'

/** A new token in upstream's format (data.md §10): a UUID v4, then another without dashes (68 characters). */
export const newWebhookToken = () => `${crypto.randomUUID()}${crypto.randomUUID().replaceAll('-', '')}`

/** What is stored and looked up instead of the token: its SHA-256 digest, hex. */
export const tokenDigest = (token: string) => new Bun.CryptoHasher('sha256').update(token).digest('hex')

/**
 * Whether `token` is the one whose digest was stored. The row was found by this very digest, so
 * this only guards against a storage driver that matches loosely (collation, padding); it
 * compares in constant time all the same.
 */
export function tokenMatches(token: string, storedDigest: string): boolean {
  const given = Buffer.from(tokenDigest(token), 'hex')
  const stored = Buffer.from(storedDigest, 'hex')
  return given.length === stored.length && timingSafeEqual(given, stored)
}
