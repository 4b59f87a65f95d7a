import { E, failPlain } from '../protocol/errors.ts'
import { normalizeName } from './names.ts'

export const LOCAL_PREFIX = 'USR:local_'

/** The longest password accepted; bcrypt (upstream's hashes) reads no further. */
export const MAX_PASSWORD = 72

/**
 * Local ("cracked") account names per protocol README §2.5; returns the normalised, lower-cased
 * name. Passwords need `minPassword` characters (upstream: 4; `security.min_password_length`).
 */
export function checkNewAccount(username: string, password: string, minPassword: number): string {
  const name = normalizeName(username).toLowerCase()
  const length = [...name].length
  if (length < 2 || length > 32) failPlain(E.usernameLength)
  const passwordLength = [...password].length
  if (passwordLength < minPassword || passwordLength > MAX_PASSWORD) failPlain(E.passwordLength(minPassword))
  // Upstream uses Python's Unicode-aware isalnum() after removing '_' and '-'.
  if (!/^[\p{L}\p{N}_-]+$/u.test(name) || !/[\p{L}\p{N}]/u.test(name)) failPlain(E.usernameCharset)
  return name
}

export const localId = (name: string) => `${LOCAL_PREFIX}${normalizeName(name).toLowerCase()}`

/** The name a local account registered with (its ID without the prefix). */
export const localName = (id: string) => id.slice(LOCAL_PREFIX.length)

/** Runs on Bun's worker threads, so hashing never blocks the event loop. */
export const hashPassword = (password: string) => Bun.password.hash(password)

/** Accepts Bun's argon2 hashes and upstream's bcrypt hashes alike. */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  if (!hash) return false
  try {
    return await Bun.password.verify(password, hash)
  } catch {
    return false
  }
}

/** Why `name` cannot be a local account name (the rules of checkNewAccount), or undefined when it can. */
export function localNameError(name: string): string | undefined {
  const normal = name.trim().toLowerCase()
  const length = [...normal].length
  if (length < 2 || length > 32) return E.usernameLength
  if (!/^[\p{L}\p{N}_-]+$/u.test(normal) || !/[\p{L}\p{N}]/u.test(normal)) return E.usernameCharset
  return undefined
}
