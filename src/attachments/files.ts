import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The folder under the data folder that holds the uploaded bytes. */
export const ATTACHMENTS_DIR = 'attachments'

/** Temporary names carry this suffix until the rename that publishes them. */
const PARTIAL = '.partial'

/** Stored file names are `<server id>.<extension from the MIME map>`: nothing a client chose. */
const STORED_NAME = /^[0-9a-f-]{36}\.[a-z0-9]{1,8}$/

/**
 * The uploaded files. A file is written under a temporary name and renamed into place, so a
 * failed or interrupted write never leaves a file under a name a row could point at.
 */
export class AttachmentFiles {
  constructor(readonly dir: string) {}

  path(filename: string): string {
    if (!STORED_NAME.test(filename)) throw new Error(`not a stored attachment name: ${JSON.stringify(filename)}`)
    return join(this.dir, filename)
  }

  async write(filename: string, bytes: Uint8Array): Promise<void> {
    const target = this.path(filename)
    const partial = `${target}${PARTIAL}`
    await mkdir(this.dir, { recursive: true })
    try {
      await writeFile(partial, bytes, { flag: 'wx' })
      await rename(partial, target)
    } catch (error) {
      await rm(partial, { force: true })
      throw error
    }
  }

  async remove(filename: string): Promise<void> {
    await rm(this.path(filename), { force: true })
  }

  /**
   * Files with no row (a crash between the rename and the insert) and leftover partial writes,
   * last changed before `before` (ms) so an upload in flight is never taken; `known` tells which
   * of a batch of ids have rows. Names this server does not write are left alone.
   */
  async strays(known: (ids: string[]) => Promise<Set<string>>, before: number): Promise<string[]> {
    let names: string[]
    try {
      names = await readdir(this.dir)
    } catch {
      return []
    }
    const candidates = names.filter((name) => name.endsWith(PARTIAL))
    const stored = names.filter((name) => STORED_NAME.test(name))
    const idOf = (name: string) => name.slice(0, name.indexOf('.'))
    for (let i = 0; i < stored.length; i += 500) {
      const batch = stored.slice(i, i + 500)
      const present = await known(batch.map(idOf))
      candidates.push(...batch.filter((name) => !present.has(idOf(name))))
    }
    const old: string[] = []
    for (const name of candidates) {
      const changed = await stat(join(this.dir, name)).then((s) => s.mtimeMs, () => Infinity)
      if (changed < before) old.push(name)
    }
    return old
  }

  async removeStray(name: string): Promise<void> {
    await rm(join(this.dir, name), { force: true })
  }
}
