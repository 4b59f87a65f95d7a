import { LOCAL_PREFIX } from '../auth/local.ts'
import type { RoturClient } from '../auth/rotur.ts'
import { sameSecret } from '../auth/secrets.ts'
import type { Hub } from '../net/hub.ts'
import type { Store, UserRecord } from '../store/types.ts'
import { UploadRefused } from './service.ts'

export const INVALID_CREDENTIALS = 'Invalid credentials'

export interface Uploader {
  user: UserRecord
  /** Signed in with a local account on the live connection that vouches for the upload. */
  cracked: boolean
}

export interface UploadAuthDeps {
  store: Store
  hub: Hub
  rotur: RoturClient
}

const bearerToken = (request: Request) => /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get('authorization') ?? '')?.[1]

/** Local accounts live in their own ID space (Rotur identities there are refused at login). */
const isLocalAccount = (user: UserRecord) => user.id.startsWith(LOCAL_PREFIX)

/**
 * Who is uploading (http.md, hardened). With `Authorization: Bearer <ready.validator>`: the user
 * whose current validator it is, while they have a live authenticated connection. Otherwise
 * Rotur's answer for `validator_key` + `validator`, and the key must be the handshake key of a
 * live authenticated connection of the very user Rotur names: a validator minted for any other
 * key (upstream accepted those) is refused. In a cluster the connection may be on any node: a
 * load balancer sends the upload wherever it likes.
 */
export async function authenticateUpload(request: Request, body: Record<string, unknown>, deps: UploadAuthDeps): Promise<Uploader> {
  const token = bearerToken(request)
  if (token !== undefined) return byReadyValidator(token, deps)
  const { validator_key: key, validator } = body
  if (typeof key !== 'string' || typeof validator !== 'string' || key === '' || validator === '') {
    throw new UploadRefused(401, 'validator_key and validator are required for authentication')
  }
  const answer = await deps.rotur.check(key, validator)
  if (answer.kind === 'unreachable') throw new UploadRefused(502, 'Failed to validate credentials')
  if (answer.kind === 'invalid') throw new UploadRefused(401, INVALID_CREDENTIALS)
  const id = answer.body.id
  if (typeof id !== 'string' || id === '') throw new UploadRefused(401, 'User ID not found in authentication response')
  const user = await deps.store.users.get(id)
  if (!user) throw new UploadRefused(401, 'User not found')
  if (!(await deps.hub.holdsKey(user.id, key))) throw new UploadRefused(401, INVALID_CREDENTIALS)
  return { user, cracked: isLocalAccount(user) }
}

/**
 * Compares the token with the current validator of every user online on any node, without
 * stopping at a match, so the time taken does not tell how close a guess was. O(users online)
 * cached reads.
 */
async function byReadyValidator(token: string, deps: UploadAuthDeps): Promise<Uploader> {
  let found: UserRecord | undefined
  for (const id of deps.hub.onlineAnywhere()) {
    const user = await deps.store.users.get(id)
    if (user?.validator && sameSecret(user.validator, token) && !found) found = user
  }
  if (!found) throw new UploadRefused(401, INVALID_CREDENTIALS)
  return { user: found, cracked: isLocalAccount(found) }
}
