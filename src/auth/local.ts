import { E, failPlain } from '../protocol/errors.ts'

export const LOCAL_PREFIX = 'USR:local_'

/** Local ("cracked") account names per protocol README §2.5; returns the lower-cased name. */
export function checkNewAccount(username: string, password: string): string {
  const name = username.trim().toLowerCase()
  const length = [...name].length
  if (length < 2 || length > 32) failPlain(E.usernameLength)
  const passwordLength = [...password].length
  if (passwordLength < 4 || passwordLength > 72) failPlain(E.passwordLength)
  // Upstream uses Python's Unicode-aware isalnum() after removing '_' and '-'.
  if (!/^[\p{L}\p{N}_-]+$/u.test(name) || !/[\p{L}\p{N}]/u.test(name)) failPlain(E.usernameCharset)
  return name
}

export const localId = (name: string) => `${LOCAL_PREFIX}${name.trim().toLowerCase()}`

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
