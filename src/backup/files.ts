import { copyFile, link, mkdir, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'

/** Folders of the data folder holding files the database refers to: uploads, emojis, icon/banner, push keys. */
export const DATA_FILE_FOLDERS = ['attachments', 'emojis', 'serverAssets', 'vapid'] as const

/** `…/originchats-<time>.db` → `…/originchats-<time>.files`: the files that go with that copy. */
export const filesFolderOf = (backup: string) => `${backup.replace(/\.db$/, '')}.files`

/**
 * Copies the data folder's file folders next to the database copy at `backup`, into a folder
 * renamed into place when complete. Files there are never changed in place (the server writes a
 * new file and renames it over the old one), so a hard link is as good as a copy and costs
 * nothing; across file systems the files are copied.
 */
export async function copyDataFiles(dataDir: string, backup: string): Promise<string> {
  const target = filesFolderOf(backup)
  const partial = `${target}.partial`
  try {
    await rm(partial, { recursive: true, force: true })
    await mkdir(partial, { recursive: true })
    for (const folder of DATA_FILE_FOLDERS) await linkTree(join(dataDir, folder), join(partial, folder))
    await rm(target, { recursive: true, force: true })
    await rename(partial, target)
    return target
  } finally {
    await rm(partial, { recursive: true, force: true })
  }
}

async function linkTree(from: string, to: string): Promise<void> {
  let entries
  try {
    entries = await readdir(from, { withFileTypes: true })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  await mkdir(to, { recursive: true })
  for (const entry of entries) {
    const source = join(from, entry.name)
    const destination = join(to, entry.name)
    if (entry.isDirectory()) await linkTree(source, destination)
    // Half-written uploads are the server's temporary files, not part of any state.
    else if (entry.isFile() && !entry.name.endsWith('.partial') && !entry.name.startsWith('.')) await linkOrCopy(source, destination)
  }
}

async function linkOrCopy(source: string, destination: string): Promise<void> {
  try {
    await link(source, destination)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw error
    await copyFile(source, destination)
  }
}
