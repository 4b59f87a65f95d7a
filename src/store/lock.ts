import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/** Lives in the data folder while a server (or an import) has the database to itself. */
export const LOCK_FILE = 'originchats.lock'

/** The data folder is in use by a live process (a server, or an import). */
export class DataLockedError extends Error {
  constructor(
    readonly path: string,
    readonly pid: number,
  ) {
    super(`the data folder is in use by process ${pid} (${path}); stop that server first`)
  }
}

export interface DataLock {
  /** Removes the lock file, unless someone else's lock replaced it meanwhile. */
  release(): void
}

/** Lock files this process holds, so a second server in the same process is refused as well. */
const held = new Set<string>()

/**
 * The pid of the live process holding `dir`'s lock, or undefined. A lock left by a process that
 * is gone (killed, crashed, or an earlier container run that had our pid) is stale and ignored.
 */
export function lockHolder(dir: string): number | undefined {
  const path = join(dir, LOCK_FILE)
  let pid: number
  try {
    pid = Number.parseInt(readFileSync(path, 'utf8'), 10)
  } catch {
    return undefined
  }
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  if (pid === process.pid) return held.has(path) ? pid : undefined
  return isAlive(pid) ? pid : undefined
}

/** Takes `dir`'s lock (creating the folder), or throws DataLockedError when a live process has it. */
export function acquireDataLock(dir: string): DataLock {
  const path = join(dir, LOCK_FILE)
  mkdirSync(dir, { recursive: true })
  // Two attempts: the second follows removing a stale lock; O_EXCL settles a race for the same file.
  for (let attempt = 0; ; attempt++) {
    const holder = lockHolder(dir)
    if (holder !== undefined) throw new DataLockedError(path, holder)
    if (attempt > 0) rmSync(path, { force: true })
    try {
      const fd = openSync(path, 'wx')
      writeSync(fd, `${process.pid}\n`)
      closeSync(fd)
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error
    }
  }
  held.add(path)
  return {
    release() {
      if (!held.delete(path)) return
      try {
        if (Number.parseInt(readFileSync(path, 'utf8'), 10) === process.pid) rmSync(path, { force: true })
      } catch {
        // Already gone.
      }
    },
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
