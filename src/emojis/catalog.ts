import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { EmojiRecord, EmojiRepo } from '../store/types.ts'
import type { DecodedImage } from './image.ts'

/** The folder of the data directory that holds emoji images, named `<id>.<ext>` by the server. */
export const EMOJI_DIR = 'emojis'

/**
 * Emoji records and their image files, kept consistent: a new image is written under a
 * temporary name, then renamed into place inside the database write (so a failed write leaves
 * no file and a failed rename no record), and a replaced or deleted image is removed only once
 * the database no longer names it. A crash can at worst leave a file no record names, which is
 * never served (only names the database knows are) and is overwritten if its name comes back.
 */
export class EmojiCatalog {
  constructor(
    readonly repo: EmojiRepo,
    readonly dir: string,
  ) {}

  pathOf(record: EmojiRecord): string {
    return join(this.dir, record.fileName)
  }

  hasFile(record: EmojiRecord): boolean {
    return existsSync(this.pathOf(record))
  }

  async add(name: string, image: DecodedImage, maxCount: number) {
    return this.withUpload(image, (place) => this.repo.insert(name, image.format, maxCount, place))
  }

  /** A new name and/or image; the replaced image file goes once the record names the new one. */
  async update(id: string, changes: { name?: string; image?: DecodedImage }) {
    const outcome = await this.withUpload(changes.image, (place) =>
      this.repo.update(id, { name: changes.name, extension: changes.image?.format }, place),
    )
    if (typeof outcome === 'object' && outcome.before.fileName !== outcome.after.fileName) rmSync(this.pathOf(outcome.before), { force: true })
    return outcome
  }

  async delete(id: string) {
    const removed = await this.repo.delete(id)
    if (removed) rmSync(this.pathOf(removed), { force: true })
    return removed
  }

  /** Stores a record with its own ID and an image file read from elsewhere (imports). */
  async importOne(record: EmojiRecord, bytes: Uint8Array) {
    return this.withUpload({ bytes }, (place) => this.repo.importOne(record, place))
  }

  /**
   * Runs `write` with a `place` callback that renames the uploaded bytes (if any) to the record's
   * file name; the temporary file is gone afterwards whatever happened.
   */
  private async withUpload<T>(image: { bytes: Uint8Array } | undefined, write: (place: (record: EmojiRecord) => void) => Promise<T>): Promise<T> {
    if (!image) return write(() => {})
    mkdirSync(this.dir, { recursive: true })
    const temp = join(this.dir, `.upload-${crypto.randomUUID()}`)
    await Bun.write(temp, image.bytes)
    try {
      return await write((record) => renameSync(temp, this.pathOf(record)))
    } finally {
      rmSync(temp, { force: true })
    }
  }
}
