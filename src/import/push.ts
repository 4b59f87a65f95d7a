import { Type as T } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { createPrivateKey } from 'node:crypto'
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { PRIVATE_KEY_FILE, VAPID_CONFIG_FILE, VAPID_DIR } from '../push/keys.ts'
import type { PushSubscriptionRecord, Store } from '../store/types.ts'
import { InvalidFile } from './upstream.ts'

/** An entry of upstream's push_subscriptions.json (data.md §13), keyed by lower-cased username. */
const Entry = T.Object(
  {
    endpoint: T.String({ minLength: 1 }),
    p256dh: T.Optional(T.String({ minLength: 1 })),
    auth: T.Optional(T.String({ minLength: 1 })),
    keys: T.Optional(T.Object({ p256dh: T.String({ minLength: 1 }), auth: T.String({ minLength: 1 }) }, { additionalProperties: true })),
    device_fingerprint: T.Optional(T.Union([T.String(), T.Null()])),
    last_used: T.Optional(T.Number()),
  },
  { additionalProperties: true },
)
const File = TypeCompiler.Compile(T.Record(T.String(), T.Array(Entry)))

/** Subscriptions by upstream username, their keys flat; throws InvalidFile for anything malformed. */
export function parsePushSubscriptions(text: string): Array<{ username: string; subscription: Omit<PushSubscriptionRecord, 'user_id'> }> {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new InvalidFile(`not valid JSON (${(error as Error).message})`)
  }
  const problem = File.Errors(parsed).First()
  if (problem) throw new InvalidFile(`${problem.path || '/'}: ${problem.message}`)
  const now = Math.floor(Date.now() / 1000)
  return Object.entries(parsed as Record<string, Array<typeof Entry.static>>).flatMap(([username, entries]) =>
    entries.flatMap((entry) => {
      const p256dh = entry.p256dh ?? entry.keys?.p256dh
      const auth = entry.auth ?? entry.keys?.auth
      if (!p256dh || !auth) return []
      const last_used = Math.floor(entry.last_used ?? now)
      return [{ username, subscription: { endpoint: entry.endpoint, p256dh, auth, device_fingerprint: entry.device_fingerprint || null, last_used } }]
    }),
  )
}

export type VapidImport = 'imported' | 'same' | 'kept' | 'absent'

/**
 * Brings upstream's VAPID key pair into `<dataDir>/vapid/`, where the server reads it. Browsers
 * subscribed with upstream's key only accept pushes signed with it, so it replaces a key this
 * server made as long as nobody has subscribed with that one yet; else this server's key is
 * kept ('kept') and upstream's subscriptions, useless without their key, are not imported.
 */
export async function importVapid(store: Store, upstreamDirs: string[], dataDir: string): Promise<VapidImport> {
  const source = upstreamDirs.map((dir) => join(dir, VAPID_DIR)).find((dir) => existsSync(join(dir, PRIVATE_KEY_FILE)))
  if (!source) return 'absent'
  const target = join(dataDir, VAPID_DIR)
  const theirs = scalar(join(source, PRIVATE_KEY_FILE))
  if (existsSync(join(target, PRIVATE_KEY_FILE))) {
    if (scalar(join(target, PRIVATE_KEY_FILE)) === theirs) return 'same'
    if ((await store.push.count()) > 0) return 'kept'
  }
  mkdirSync(target, { recursive: true, mode: 0o700 })
  copyFileSync(join(source, PRIVATE_KEY_FILE), join(target, PRIVATE_KEY_FILE))
  chmodSync(join(target, PRIVATE_KEY_FILE), 0o600)
  if (existsSync(join(source, VAPID_CONFIG_FILE))) copyFileSync(join(source, VAPID_CONFIG_FILE), join(target, VAPID_CONFIG_FILE))
  return 'imported'
}

function scalar(pem: string): string {
  try {
    return createPrivateKey(readFileSync(pem)).export({ format: 'jwk' }).d ?? ''
  } catch (error) {
    throw new InvalidFile(`${pem}: not a private key (${(error as Error).message})`)
  }
}
