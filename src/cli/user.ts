import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { AdminError, CLI_ACTOR, runAdmin, type AdminRequest } from '../admin/operations.ts'
import { callAdminSocket, type AdminReply } from '../admin/socket.ts'
import { record } from '../audit/modlog.ts'
import type { Config } from '../config/schema.ts'
import { DataLockedError, acquireDataLock, lockHolder } from '../store/lock.ts'
import { configuredStore } from '../store/open.ts'
import { DATABASE_FILE, createSqliteStore } from '../store/sqlite/index.ts'
import { readSecret } from './secret.ts'
import { resolveConfig, resolveDataDir } from './serve.ts'

const USER_USAGE = `usage: originchats user list
       originchats user roles USER add|remove ROLE
       originchats user add NAME           (a local account; its password is read from standard input)
       originchats user password USER      (the new password is read from standard input)
       originchats user ban|unban USER
       [--config FILE] [--data DIR]`

export interface UserOptions {
  config?: string
  data?: string
}

/** The request the words after `user` ask for, or undefined when they do not fit the usage. */
function parse(args: string[]): AdminRequest | undefined {
  const [op, user, ...rest] = args
  if (op === 'list' && user === undefined) return { op }
  if (user === undefined) return undefined
  if ((op === 'ban' || op === 'unban') && rest.length === 0) return { op, user }
  if ((op === 'password' || op === 'add') && rest.length === 0) return { op, user, password: '' }
  const [action, role, ...extra] = rest
  if (op === 'roles' && (action === 'add' || action === 'remove') && role !== undefined && extra.length === 0) return { op, user, action, role }
  return undefined
}

/**
 * `originchats user …`: through the running server when one holds the data folder (its
 * sessions follow at once: a ban disconnects, a role change resubscribes), else on the database
 * directly. Exit code 0 when done, 1 when refused, failed or misused.
 */
export async function userCommand(options: UserOptions, args: string[]): Promise<number> {
  const request = parse(args)
  if (!request) {
    console.error(USER_USAGE)
    return 1
  }
  if (request.op === 'password' || request.op === 'add') {
    const password = await readSecret(`${request.op === 'add' ? 'Password' : 'New password'} for ${request.user}: `)
    if (password === undefined) {
      console.error('originchats: no password given; nothing changed')
      return 1
    }
    request.password = password
  }
  const { config, configPath } = await resolveConfig(options.config)
  const dataDir = resolveDataDir(config, configPath, options.data)
  const reply = await perform(dataDir, config, request)
  if (!reply.ok) {
    console.error(`originchats: ${reply.error}`)
    return 1
  }
  console.log(reply.output)
  return 0
}

async function perform(dataDir: string, config: Config, request: AdminRequest): Promise<AdminReply> {
  const server = lockHolder(dataDir)
  if (server !== undefined) return viaServer(dataDir, server, request)
  try {
    return await direct(dataDir, config, request)
  } catch (error) {
    // A server started between the look and the lock: ask it instead.
    if (error instanceof DataLockedError) return viaServer(dataDir, error.pid, request)
    throw error
  }
}

async function viaServer(dataDir: string, pid: number, request: AdminRequest): Promise<AdminReply> {
  try {
    return await callAdminSocket(dataDir, request)
  } catch {
    return { ok: false, error: `the server (process ${pid}) uses ${dataDir} but cannot be reached on its admin socket; stop it and try again` }
  }
}

/** No server runs: the folder's lock is taken for the moment of the change. */
async function direct(dataDir: string, config: Config, request: AdminRequest): Promise<AdminReply> {
  const database = join(dataDir, DATABASE_FILE)
  // Adding the first account may come before the first start; everything else needs users to exist.
  if (request.op !== 'add' && config.storage.driver === 'sqlite' && !existsSync(database)) return { ok: false, error: `no database at ${database} (run 'originchats setup' or 'originchats serve' first)` }
  const lock = acquireDataLock(dataDir)
  try {
    const log = { info: (line: string) => console.log(line) }
    const store = (await configuredStore(config, log))?.() ?? createSqliteStore(database, config.storage.synchronous, { log })
    try {
      const { output, effects } = await runAdmin(store, config, request)
      for (const audit of effects?.audit ?? []) await record(store.modlog, config, CLI_ACTOR, audit)
      return { ok: true, output }
    } catch (error) {
      if (error instanceof AdminError) return { ok: false, error: error.message }
      throw error
    } finally {
      await store.close()
    }
  } finally {
    lock.release()
  }
}
