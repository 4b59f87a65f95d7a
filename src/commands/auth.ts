import { Type as T } from '@sinclair/typebox'
import { LOCAL_PREFIX, checkNewAccount, hashPassword, localId, verifyPassword } from '../auth/local.ts'
import { isBanned } from '../auth/permissions.ts'
import type { RoturIdentity } from '../auth/rotur.ts'
import { defineGuestCommand, type Context, type Effects } from '../protocol/command.ts'
import { E, failPlain } from '../protocol/errors.ts'
import type { UserRecord } from '../store/types.ts'

/** Pre-auth commands. Every failure is an `auth_error` (the router maps errors for guests). */

const Credentials = T.Object({ username: T.Optional(T.Unknown()), password: T.Optional(T.Unknown()) })

function requireCredentials(p: { username?: unknown; password?: unknown }) {
  const username = typeof p.username === 'string' ? p.username.trim() : ''
  const password = typeof p.password === 'string' ? p.password : ''
  if (!username || !password.trim()) failPlain(E.credentialsRequired)
  return { username, password }
}

function requireLocalAccounts(ctx: Context) {
  if (ctx.config.auth_mode === 'rotur') failPlain(E.authRequired)
}

function checkThrottle(ctx: Context) {
  const wait = ctx.services.authFailures.retryAfter(ctx.session.address)
  if (wait > 0) failPlain(E.tooManyAttempts(wait))
}

/** A failed attempt counts against the address before the error goes out. */
function failAttempt(ctx: Context, message: string): never {
  ctx.services.authFailures.record(ctx.session.address)
  return failPlain(message)
}

/** The owner named in config gets the `owner` role, first in the list, at every login. */
function withOwnerRole(ctx: Context, typedName: string, roles: string[]): string[] {
  const owner = ctx.config.server.owner.name.trim().toLowerCase()
  if (owner === '' || owner !== typedName.trim().toLowerCase() || roles.includes('owner')) return roles
  return ['owner', ...roles]
}

function newRecord(ctx: Context, id: string, username: string): UserRecord {
  const { roles, ...extra } = structuredClone(ctx.config.DB.users.default)
  return { id, username, roles: [...roles], status: { status: 'online', text: '' }, extra }
}

/** Saves what changes at every login: a fresh validator token and, maybe, the owner role. */
async function finishLogin(ctx: Context, user: UserRecord, typedName: string, cracked: boolean, isNew: boolean): Promise<Effects> {
  const roles = withOwnerRole(ctx, typedName, user.roles)
  const validator = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
  const saved = await ctx.store.users.update(user.id, { roles, validator })
  return { login: { user: saved!, cracked, isNew } }
}

export const auth = defineGuestCommand({
  cmd: 'auth',
  auth: 'guest',
  schema: T.Object({ validator: T.Optional(T.Unknown()) }),
  async run(ctx, p) {
    if (ctx.config.auth_mode === 'cracked-only') failPlain(E.roturDisabled)
    checkThrottle(ctx)
    if (typeof p.validator !== 'string' || p.validator === '') return failAttempt(ctx, E.invalidAuth)
    const identity: RoturIdentity | undefined = await ctx.services.rotur.validate(ctx.session.validatorKey, p.validator)
    if (!identity) return failAttempt(ctx, E.invalidAuth)
    let user = await ctx.store.users.get(identity.id)
    if (user && isBanned(user.roles)) failPlain(E.banned)
    const isNew = !user
    if (!user) {
      user = newRecord(ctx, identity.id, identity.username)
      await ctx.store.users.insert(user)
    } else if (user.username !== identity.username) {
      // Rotur renames follow the ID.
      user = (await ctx.store.users.update(user.id, { username: identity.username }))!
    }
    return finishLogin(ctx, user, identity.username, false, isNew)
  },
})

export const register = defineGuestCommand({
  cmd: 'register',
  auth: 'guest',
  schema: Credentials,
  async run(ctx, p) {
    requireLocalAccounts(ctx)
    if (!ctx.config.cracked.allow_registration) failPlain(E.registrationDisabled)
    const wait = ctx.services.registrations.retryAfter(ctx.session.address)
    if (wait > 0) failPlain(E.tooManyAttempts(wait))
    const { username, password } = requireCredentials(p)
    const name = checkNewAccount(username, password)
    const id = localId(name)
    if ((await ctx.store.users.get(id)) || (await ctx.store.users.getByUsername(id))) failPlain(E.usernameTaken)
    ctx.services.registrations.record(ctx.session.address)
    const user: UserRecord = {
      ...newRecord(ctx, id, id),
      nickname: name,
      pfp_url: null,
      password_hash: await hashPassword(password),
    }
    // Hashing yielded the event loop: another connection may have taken the name meanwhile.
    if (await ctx.store.users.get(id)) failPlain(E.usernameTaken)
    await ctx.store.users.insert(user)
    return finishLogin(ctx, user, name, true, true)
  },
})

export const login = defineGuestCommand({
  cmd: 'login',
  auth: 'guest',
  schema: Credentials,
  async run(ctx, p) {
    requireLocalAccounts(ctx)
    checkThrottle(ctx)
    const { username, password } = requireCredentials(p)
    // By account ID first: a local account renamed with user_update still signs in with its name.
    const user = (await ctx.store.users.get(localId(username))) ?? (await ctx.store.users.getByUsername(localId(username)))
    if (!user) return failAttempt(ctx, E.userNotFound)
    if (!user.id.startsWith(LOCAL_PREFIX)) failPlain(E.roturAccount)
    if (!(await verifyPassword(password, user.password_hash))) return failAttempt(ctx, E.invalidPassword)
    if (isBanned(user.roles)) failPlain(E.banned)
    return finishLogin(ctx, user, username, true, false)
  },
})

export const authCommands = [auth, register, login]
