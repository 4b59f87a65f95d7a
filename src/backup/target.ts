import { accessSync, constants, realpathSync, statSync, type Stats } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { LOCK_FILE } from '../store/lock.ts'
import { backupName } from './backup.ts'

/** The files of a live database that a backup must never replace. */
const LIVE_SUFFIXES = ['', '-wal', '-shm', '-journal']

/**
 * Where `originchats backup <path>` writes: `path` itself, or a timestamped file inside it when
 * it is a folder. Refuses a folder that is missing or not writable, and any path that is (also
 * through a symlink or a hard link) one of the live database's files, with a one-line Error.
 */
export function backupTarget(path: string, database: string, at = new Date()): string {
  const isFolder = statIfAny(path)?.isDirectory() ?? false
  const target = isFolder ? join(path, backupName(at)) : path
  const folder = dirname(target)
  const stat = statIfAny(folder)
  if (!stat) throw new Error(`cannot write ${target}: the folder ${folder} does not exist`)
  if (!stat.isDirectory()) throw new Error(`cannot write ${target}: ${folder} is not a folder`)
  try {
    accessSync(folder, constants.W_OK)
  } catch {
    throw new Error(`cannot write ${target}: the folder ${folder} is not writable`)
  }
  if (isLiveFile(target, database)) {
    throw new Error(`refusing to write the backup over the live database's file ${target}; choose another file or a folder`)
  }
  return target
}

function isLiveFile(target: string, database: string): boolean {
  const liveFolder = realpathSync(dirname(database))
  const live = [...LIVE_SUFFIXES.map((suffix) => `${basename(database)}${suffix}`), LOCK_FILE].map((name) => join(liveFolder, name))
  const realTarget = realpathSync(dirname(target))
  if (live.includes(join(realTarget, basename(target)))) return true
  const existing = statIfAny(target)
  if (!existing) return false
  if (live.includes(realpathSync(target))) return true
  // A hard link has its own path but the same file behind it.
  const db = statSync(database)
  return existing.ino === db.ino && existing.dev === db.dev
}

/** Undefined when nothing is there, also when a file stands where a folder on the path should be. */
function statIfAny(path: string): Stats | undefined {
  try {
    return statSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined
    throw error
  }
}
