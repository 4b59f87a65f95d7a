import type { Server } from 'bun'
import { chmodSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { Logger } from '../log.ts'
import { AdminError, AdminRequest, type AdminOutcome } from './operations.ts'

/** In the data folder, next to the lock: the serving process takes `originchats user …` requests here. */
export const ADMIN_SOCKET = 'originchats.sock'

/** What the command line gets back. */
export type AdminReply = { ok: true; output: string } | { ok: false; error: string }

/** Unix socket paths longer than this do not fit `sockaddr_un` on Linux. */
const MAX_SOCKET_PATH = 107

const checkRequest = TypeCompiler.Compile(AdminRequest)

export const adminSocketPath = (dataDir: string) => join(dataDir, ADMIN_SOCKET)

/**
 * Serves owner operations on a Unix socket only the server's own user may open (mode 0600):
 * whoever can reach it could edit the database file just as well. The data lock is held, so a
 * socket file left by a crashed server is stale and is replaced. Undefined when the path is too
 * long for a Unix socket (the command line then says the server cannot be reached).
 */
export function startAdminSocket(dataDir: string, run: (request: AdminRequest) => Promise<AdminOutcome>, log: Logger): Server<undefined> | undefined {
  const path = adminSocketPath(dataDir)
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    log.warn(`admin socket not started: ${path} is too long for a Unix socket; 'originchats user' works only while the server is stopped`)
    return undefined
  }
  rmSync(path, { force: true })
  const server = Bun.serve({
    unix: path,
    async fetch(request) {
      let body: unknown
      try {
        body = await request.json()
      } catch {
        return Response.json({ ok: false, error: 'not a JSON request' } satisfies AdminReply, { status: 400 })
      }
      if (!checkRequest.Check(body)) return Response.json({ ok: false, error: 'not an admin request' } satisfies AdminReply, { status: 400 })
      try {
        const { output } = await run(body)
        return Response.json({ ok: true, output } satisfies AdminReply)
      } catch (error) {
        if (error instanceof AdminError) return Response.json({ ok: false, error: error.message } satisfies AdminReply)
        log.error(`admin request ${body.op} failed: ${(error as Error)?.stack ?? error}`)
        return Response.json({ ok: false, error: 'the server failed to do it; see its log' } satisfies AdminReply, { status: 500 })
      }
    },
  })
  chmodSync(path, 0o600)
  return server
}

/** Sends one request to the server serving `dataDir`. */
export async function callAdminSocket(dataDir: string, request: AdminRequest): Promise<AdminReply> {
  const response = await fetch('http://originchats/admin', { unix: adminSocketPath(dataDir), method: 'POST', body: JSON.stringify(request) })
  return (await response.json()) as AdminReply
}
