import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** The folder of the VAPID key pair, named as upstream's so an imported data folder keeps its keys. */
export const VAPID_DIR = 'vapid'
export const PRIVATE_KEY_FILE = 'private_key.pem'
export const VAPID_CONFIG_FILE = 'vapid_config.json'
const FINGERPRINT_SECRET_FILE = 'fingerprint_secret'

/** Upstream's default claims subject; operators edit `claims_email` in vapid_config.json. */
const DEFAULT_SUBJECT = 'mailto:'

export interface VapidKeys {
  /** Uncompressed P-256 public point, base64url without padding (what `push_vapid` sends). */
  publicKey: string
  /** The raw 32-byte private scalar, base64url (what web-push signs with). */
  privateKey: string
  /** The JWT `sub` claim: a mailto: or https: URL. */
  subject: string
}

const secretFile = { mode: 0o600 } as const

/** The key pair in `<dataDir>/vapid/`, made on first use; an existing (e.g. imported upstream) pair is kept. */
export function loadOrCreateVapid(dataDir: string): VapidKeys {
  const dir = join(dataDir, VAPID_DIR)
  const pemPath = join(dir, PRIVATE_KEY_FILE)
  const configPath = join(dir, VAPID_CONFIG_FILE)
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (!existsSync(pemPath)) createOnce(pemPath, generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)
  const key = readKey(pemPath)
  let keys: Omit<VapidKeys, 'subject'>
  try {
    keys = rawKeys(key)
  } catch (error) {
    throw new Error(`${pemPath}: not a P-256 private key (${(error as Error).message})`)
  }
  const claims = readClaims(configPath)
  if (claims?.public_key_b64 !== keys.publicKey) {
    writeFileSync(configPath, `${JSON.stringify({ public_key_b64: keys.publicKey, claims_email: claims?.claims_email ?? DEFAULT_SUBJECT }, null, 2)}\n`)
  }
  return { ...keys, subject: subjectOf(claims?.claims_email) }
}

/** A broken key stops start-up with one line naming the file, rather than a new key nobody subscribed with. */
function readKey(path: string): KeyObject {
  try {
    return createPrivateKey(readFileSync(path))
  } catch (error) {
    throw new Error(`${path}: not a readable PEM private key (${(error as Error).message})`)
  }
}

function rawKeys(key: KeyObject): Omit<VapidKeys, 'subject'> {
  const jwk = key.export({ format: 'jwk' })
  if (jwk.crv !== 'P-256' || !jwk.d || !jwk.x || !jwk.y) throw new Error(`curve ${jwk.crv ?? jwk.kty}`)
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x, 'base64url'), Buffer.from(jwk.y, 'base64url')])
  // Checks that the stored point is a real one (createPublicKey refuses others).
  createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y }, format: 'jwk' })
  return { publicKey: point.toString('base64url'), privateKey: jwk.d }
}

function readClaims(path: string): { public_key_b64?: unknown; claims_email?: string } | undefined {
  if (!existsSync(path)) return undefined
  try {
    const parsed = JSON.parse(readFileSync(path, 'utf8'))
    if (typeof parsed !== 'object' || parsed === null) return undefined
    return { public_key_b64: parsed.public_key_b64, claims_email: typeof parsed.claims_email === 'string' ? parsed.claims_email : undefined }
  } catch {
    return undefined
  }
}

/** A bare address (`admin@example.com`) is taken as mailto:, as upstream's py_vapid did. */
function subjectOf(claim: string | undefined): string {
  const value = claim?.trim() || DEFAULT_SUBJECT
  return /^(mailto|https):/i.test(value) ? value : `mailto:${value}`
}

/**
 * The HMAC key of device fingerprints: `PUSH_FINGERPRINT_SECRET` when set, else a random one made
 * on first start in `<dataDir>/vapid/` (upstream's default key is public, so it is never used).
 */
export function loadOrCreateFingerprintSecret(dataDir: string, env: string | undefined = process.env.PUSH_FINGERPRINT_SECRET): string {
  if (env) return env
  const dir = join(dataDir, VAPID_DIR)
  const path = join(dir, FINGERPRINT_SECRET_FILE)
  if (existsSync(path)) {
    const stored = readFileSync(path, 'utf8').trim()
    if (stored) return stored
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  return createOnce(path, `${secret}\n`).trim()
}

/**
 * Writes `contents` at `path` unless a file is there, and answers what `path` holds then. Nodes
 * of a cluster starting together on one shared folder thus agree on one key: the file appears
 * whole (a hard link to a finished temporary file), and a second writer finds it and keeps it.
 */
function createOnce(path: string, contents: string): string {
  const temporary = `${path}.${process.pid}.${crypto.randomUUID()}.tmp`
  writeFileSync(temporary, contents, secretFile)
  try {
    linkSync(temporary, path)
    return contents
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return readFileSync(path, 'utf8')
  } finally {
    rmSync(temporary, { force: true })
  }
}
