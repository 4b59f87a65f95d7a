import type { Config } from '../config/schema.ts'
import type { Logger } from '../log.ts'
import type { AttachmentRecord, Store } from '../store/types.ts'
import { expiresAt } from './expiry.ts'
import type { AttachmentFiles } from './files.ts'
import type { Dimensions } from './image.ts'
import { extensionFor } from './mime.ts'

/** An upload the server will not keep, with the HTTP answer it gets (http.md). */
export class UploadRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message)
  }
}

export const SAVE_FAILED = 'Failed to save attachment'
export const QUOTA_EXCEEDED = 'Storage quota exceeded'

/** Uploads never listed by a message go once they are this old (data.md §9). */
export const UNREFERENCED_SECONDS = 3600
/** Rows handled per cleanup batch, and batches per pass (the rest waits for the next pass). */
const BATCH = 100
const MAX_BATCHES = 100

export interface Upload {
  bytes: Uint8Array
  name: string
  mimeType: string
  channel: string
  uploader: { id: string; username: string }
  permanent: boolean
  /** `expires_in_days`, already checked to be in (0, 365]. */
  requestedDays?: number
  dimensions?: Dimensions
}

export interface AttachmentServiceDeps {
  store: Store
  files: AttachmentFiles
  config: () => Config
  log: Logger
  /** Unix seconds. */
  now?: () => number
}

/**
 * Keeps rows and files in step: a file is written (under a temporary name, then renamed)
 * before its row, and removed when the row could not be written; a row is deleted before its
 * file, so nothing ever serves a row whose file is half gone.
 */
export class AttachmentService {
  readonly now: () => number

  constructor(private readonly deps: AttachmentServiceDeps) {
    this.now = deps.now ?? (() => Date.now() / 1000)
  }

  get files(): AttachmentFiles {
    return this.deps.files
  }

  /** Stores an upload, or renews the uploader's own copy of the same bytes. */
  async save(upload: Upload): Promise<AttachmentRecord> {
    const { store, files } = this.deps
    const settings = this.deps.config().attachments
    if (settings.max_attachments_per_user === 0) throw new UploadRefused(500, SAVE_FAILED)
    const now = this.now()
    const expires_at = expiresAt(upload.bytes.byteLength, upload.permanent, upload.requestedDays, settings, now)
    const hash = new Bun.CryptoHasher('sha256').update(upload.bytes).digest('hex')
    // Per uploader: upstream's server-wide reuse handed one user's upload to another, who then could not attach it.
    const same = await store.attachments.findByHash(upload.uploader.id, hash, now)
    if (same) {
      const renewed = await store.attachments.renew(same.id, { expires_at, permanent: upload.permanent, original_name: upload.name })
      if (renewed) return renewed
    }
    const usage = await store.attachments.usage(upload.uploader.id, now)
    if (settings.max_storage_per_user >= 0 && usage.bytes + upload.bytes.byteLength > settings.max_storage_per_user) {
      throw new UploadRefused(507, QUOTA_EXCEEDED)
    }
    const id = crypto.randomUUID()
    const record: AttachmentRecord = {
      id,
      filename: `${id}.${extensionFor(upload.mimeType)}`,
      original_name: upload.name,
      mime_type: upload.mimeType,
      size: upload.bytes.byteLength,
      hash,
      uploader_id: upload.uploader.id,
      uploader_name: upload.uploader.username,
      channel: upload.channel,
      created_at: now,
      expires_at,
      permanent: upload.permanent,
      referenced: false,
      ...upload.dimensions,
    }
    try {
      await files.write(record.filename, upload.bytes)
    } catch (error) {
      this.deps.log.error(`writing attachment ${id} failed: ${(error as Error)?.stack ?? error}`)
      throw new UploadRefused(500, SAVE_FAILED)
    }
    try {
      await store.attachments.insert(record)
    } catch (error) {
      this.deps.log.error(`storing attachment ${id} failed: ${(error as Error)?.stack ?? error}`)
      await files.remove(record.filename).catch(() => {})
      throw new UploadRefused(500, SAVE_FAILED)
    }
    // Beyond `max_attachments_per_user` the uploader's oldest go, after the new one is safely in.
    const keep = settings.max_attachments_per_user
    if (keep > 0 && usage.count + 1 > keep) {
      for (const old of await store.attachments.oldest(upload.uploader.id, now, usage.count + 1 - keep)) await this.remove(old)
    }
    return record
  }

  /** Row first, then file; a file that cannot be removed is only logged (it has no row to serve it). */
  async remove(record: AttachmentRecord): Promise<boolean> {
    const deleted = await this.deps.store.attachments.delete(record.id)
    await this.deps.files.remove(record.filename).catch((error) => this.deps.log.warn(`removing attachment file ${record.filename} failed: ${error?.message ?? error}`))
    return deleted !== undefined
  }

  /** After messages listing `ids` were deleted: those no message lists any more go too. */
  async messagesDeleted(ids: string[]): Promise<void> {
    if (ids.length === 0) return
    for (const record of await this.deps.store.attachments.listOrphaned(ids)) await this.remove(record)
  }

  /**
   * Removes expired attachments, uploads no message listed within the hour, and referenced ones
   * whose messages are all gone (a channel or thread deletion, a purge). Everything is read from
   * stored timestamps, so a pass after a restart catches up on whatever fell due meanwhile.
   */
  async cleanup(now = this.now()): Promise<number> {
    let removed = 0
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const doomed = await this.deps.store.attachments.listDoomed(now, now - UNREFERENCED_SECONDS, BATCH)
      for (const record of doomed) if (await this.remove(record)) removed++
      if (doomed.length < BATCH) break
    }
    return removed
  }

  /** Files with no row and partial writes left by a crash, once they are an hour old. */
  async removeStrayFiles(nowMs = this.now() * 1000): Promise<number> {
    const strays = await this.deps.files.strays((ids) => this.deps.store.attachments.existing(ids), nowMs - UNREFERENCED_SECONDS * 1000)
    for (const name of strays) await this.deps.files.removeStray(name)
    return strays.length
  }
}
