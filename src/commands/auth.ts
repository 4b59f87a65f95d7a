import { Type as T } from '@sinclair/typebox'
import { record } from '../audit/modlog.ts'
import { localNameTaken, newLocalAccount, newUserRecord } from '../auth/accounts.ts'
import { LOCAL_PREFIX, checkNewAccount, hashPassword, localId, verifyPassword } from '../auth/local.ts'
import { ownerPatch } from '../auth/owner.ts'
import { isBanned } from '../auth/permissions.ts'
import { quote } from '../log.ts'
import { defineGuestCommand, type Context, type Effects } from '../protocol/command.ts'
import { E, ProtocolError, failPlain } from '../protocol/errors.ts'
import type { UserRecord } from '../store/types.ts'

/** Pre-auth commands. Every failure is an `auth_error` (the router maps errors for guests). */

const Credentials = T.Object({ username: T.Optional(T.Unknown()), password: T.Optional(T.Unknown()) })

/** The actor of changes the server makes by itself (the modlog needs one). */
const SERVER_ACTOR = { id: 'originChats', username: 'originChats' }

/** Rotur failures have no account to count against; they share this one per address. */
const ROTUR_ACCOUNT = '#rotur'

function requireCredentials(p: { username?: unknown; password?: unknown }) {
  const username = typeof p.username === 'string' ? p.username.trim() : ''
  const password = typeof p.password === 'string' ? p.password : ''
  if (!username || !password.trim()) failPlain(E.credentialsRequired)
  return { username, password }
}

function requireLocalAccounts(ctx: Context) {
  if (ctx.config.auth_mode === 'rotur') failPlain(E.authRequired)
}

async function checkThrottle(ctx: Context, account?: string) {
  const wait = await ctx.services.loginThrottle.retryAfter(ctx.session.address, account)
  if (wait > 0) failPlain(E.tooManyAttempts(wait))
}

/**
 * A failed attempt counts against the address (and `account`, when it names one) before the error
 * goes out; the log names what was tried (`sign-in as "…"`, `registration of "…"`).
 */
function failAttempt(ctx: Context, attempt: string, account: string | undefined, message: string): never {
  // Not awaited (this throws at once); a shared counter gets it ahead of any later check on the same connection.
  void ctx.services.loginThrottle.record(ctx.session.address, account)
  ctx.log.info(`connection ${ctx.session.id} ${attempt} from ${ctx.session.address} failed: ${message}`)
  return failPlain(message)
}

const signIn = (account: string) => `sign-in as ${quote(account)}`

/** Runs `check`; a refusal it throws is logged (naming `attempt`) on its way to the client, not counted. */
function refuseLogged<T>(ctx: Context, attempt: string, check: () => T): T {
  try {
    return check()
  } catch (error) {
    if (error instanceof ProtocolError) ctx.log.info(`connection ${ctx.session.id} ${attempt} from ${ctx.session.address} refused: ${error.message}`)
    throw error
  }
}

function refuseBanned(ctx: Context, user: UserRecord): never {
  ctx.log.info(`connection ${ctx.session.id} sign-in as ${quote(user.username)} from ${ctx.session.address} refused: banned`)
  return failPlain(E.banned)
}

/**
 * Saves what changes at every login (a fresh validator token, the configured owner's role) in
 * one atomic step on the record as it is now: the caller's earlier read may predate a ban or a
 * role change made while the password was being checked, and must not be written back. An
 * account that never signed in before (no validator yet: just registered, first Rotur sign-in,
 * made with `originchats user add`) joins now: `user_join`, and the welcome.
 */
async function finishLogin(ctx: Context, id: string, cracked: boolean): Promise<Effects> {
  const validator = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  let revoked = false
  let isNew = false
  const saved = await ctx.store.users.updateWith(id, (current) => {
    if (isBanned(current.roles)) return undefined
    isNew = current.validator === undefined
    const owner = ownerPatch(ctx.config, current, cracked)
    revoked = current.roles.includes('owner') && owner?.roles !== undefined && !owner.roles.includes('owner')
    return { ...owner, validator }
  })
  if (!saved) return failPlain(E.userNotFound)
  if (isBanned(saved.roles)) refuseBanned(ctx, saved)
  if (revoked) {
    ctx.log.warn(`${quote(saved.username)} lost the owner role: server.owner.name names another account`)
    const details = { roles: saved.roles, reason: 'server.owner.name names another account' }
    await record(ctx.store.modlog, ctx.config, SERVER_ACTOR, { action: 'user_roles_set', target_id: saved.id, target_name: saved.username, details })
  }
  return { login: { user: saved, cracked, isNew } }
}

export const auth = defineGuestCommand({
  cmd: 'auth',
  auth: 'guest',
  schema: T.Object({ validator: T.Optional(T.Unknown()) }),
  async run(ctx, p) {
    if (ctx.config.auth_mode === 'cracked-only') failPlain(E.roturDisabled)
    await checkThrottle(ctx, ROTUR_ACCOUNT)
    if (typeof p.validator !== 'string' || p.validator === '') return failAttempt(ctx, 'Rotur sign-in', ROTUR_ACCOUNT, E.invalidAuth)
    const identity = await ctx.services.rotur.validate(ctx.session.validatorKey, p.validator)
    if (!identity) return failAttempt(ctx, 'Rotur sign-in', ROTUR_ACCOUNT, E.invalidAuth)
    // Local accounts own that ID space; a Rotur identity inside it would take one over.
    if ([identity.id, identity.username].some((value) => value.toLowerCase().startsWith(LOCAL_PREFIX.toLowerCase()))) {
      return failAttempt(ctx, signIn(identity.username), identity.username, E.invalidAuth)
    }
    const user = await ctx.store.users.get(identity.id)
    if (user && isBanned(user.roles)) refuseBanned(ctx, user)
    if (!user) await ctx.store.users.insert(newUserRecord(ctx.config, identity.id, identity.username))
    // Rotur renames follow the ID.
    else if (user.username !== identity.username) await ctx.store.users.update(user.id, { username: identity.username })
    return finishLogin(ctx, identity.id, false)
  },
})

export const register = defineGuestCommand({
  cmd: 'register',
  auth: 'guest',
  schema: Credentials,
  async run(ctx, p) {
    requireLocalAccounts(ctx)
    if (!ctx.config.cracked.allow_registration) failPlain(E.registrationDisabled)
    const wait = await ctx.services.registrations.retryAfter(ctx.session.address)
    if (wait > 0) failPlain(E.tooManyAttempts(wait))
    const { username, password } = requireCredentials(p)
    const name = refuseLogged(ctx, `registration of ${quote(username)}`, () => checkNewAccount(username, password, ctx.config.security.min_password_length))
    // Probing which names exist counts like a failed sign-in, so it is throttled the same way.
    await checkThrottle(ctx)
    if (await localNameTaken(ctx.store, ctx.config, name)) return failAttempt(ctx, `registration of ${quote(name)}`, undefined, E.usernameTaken)
    const user = newLocalAccount(ctx.config, name, await hashPassword(password))
    // Hashing yielded the event loop: another connection may have taken the name meanwhile.
    if (await localNameTaken(ctx.store, ctx.config, name)) failPlain(E.usernameTaken)
    await ctx.store.users.insert(user)
    await ctx.services.registrations.record(ctx.session.address)
    return finishLogin(ctx, user.id, true)
  },
})

export const login = defineGuestCommand({
  cmd: 'login',
  auth: 'guest',
  schema: Credentials,
  async run(ctx, p) {
    requireLocalAccounts(ctx)
    const { username, password } = requireCredentials(p)
    const id = localId(username)
    await checkThrottle(ctx, id)
    // By account ID first: a local account renamed with user_update still signs in with its name.
    const user = (await ctx.store.users.get(id)) ?? (await ctx.store.users.getByUsername(id))
    if (!user) return failAttempt(ctx, signIn(id), id, E.userNotFound)
    if (!user.id.startsWith(LOCAL_PREFIX)) return failAttempt(ctx, signIn(id), id, E.roturAccount)
    if (!(await verifyPassword(password, user.password_hash))) return failAttempt(ctx, signIn(id), id, E.invalidPassword)
    return finishLogin(ctx, user.id, true)
  },
})

export const authCommands = [auth, register, login]
