import type { Database } from 'bun:sqlite'
import { ATTACHMENT_COLUMNS, attachmentFromRow, type AttachmentRow } from '../attachment-row.ts'
import type { AttachmentRecord, AttachmentRenewal, AttachmentRepo } from '../types.ts'

/** SQLite's default limit on bound parameters is far above this; lists are cut into chunks of it. */
const CHUNK = 500

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK))
  return out
}

const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ')

export class SqliteAttachments implements AttachmentRepo {
  private readonly q

  constructor(private readonly db: Database) {
    const sql = <P extends (string | number)[]>(text: string) => db.query<AttachmentRow, P>(text)
    this.q = {
      get: sql<[string]>(`SELECT ${ATTACHMENT_COLUMNS} FROM attachments WHERE id = ?`),
      byHash: sql<[string, string, number]>(`SELECT ${ATTACHMENT_COLUMNS} FROM attachments WHERE uploader_id = ? AND hash = ? AND expires_at > ? ORDER BY seq DESC LIMIT 1`),
      insert: db.prepare(`INSERT INTO attachments (${ATTACHMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      renew: sql<[number, number, string, string]>(`UPDATE attachments SET expires_at = ?, permanent = ?, original_name = ? WHERE id = ? RETURNING ${ATTACHMENT_COLUMNS}`),
      markReferenced: db.prepare('UPDATE attachments SET referenced = 1 WHERE id = ?'),
      // Only between rows that exist: an import may name attachments or messages this server lacks.
      ref: db.prepare(
        'INSERT OR IGNORE INTO attachment_refs (attachment_id, message_id) SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM attachments WHERE id = ?1) AND EXISTS (SELECT 1 FROM messages WHERE id = ?2)',
      ),
      delete: sql<[string]>(`DELETE FROM attachments WHERE id = ? RETURNING ${ATTACHMENT_COLUMNS}`),
      usage: db.query<{ count: number; bytes: number | null }, [string, number]>(
        'SELECT COUNT(*) AS count, SUM(size) AS bytes FROM attachments WHERE uploader_id = ? AND expires_at > ?',
      ),
      oldest: sql<[string, number, number]>(`SELECT ${ATTACHMENT_COLUMNS} FROM attachments WHERE uploader_id = ? AND expires_at > ? ORDER BY created_at, seq LIMIT ?`),
      expired: sql<[number, number]>(`SELECT ${ATTACHMENT_COLUMNS} FROM attachments WHERE expires_at <= ? ORDER BY expires_at LIMIT ?`),
      unreferenced: sql<[number, number]>(`SELECT ${ATTACHMENT_COLUMNS} FROM attachments WHERE referenced = 0 AND created_at < ? ORDER BY created_at LIMIT ?`),
      orphaned: sql<[number]>(
        `SELECT ${ATTACHMENT_COLUMNS} FROM attachments AS a WHERE referenced = 1 AND NOT EXISTS (SELECT 1 FROM attachment_refs AS r WHERE r.attachment_id = a.id) LIMIT ?`,
      ),
    }
  }

  async get(id: string) {
    const row = this.q.get.get(id)
    return row ? attachmentFromRow(row) : undefined
  }

  async getMany(ids: string[]) {
    const out: AttachmentRecord[] = []
    for (const part of chunks([...new Set(ids)])) {
      out.push(...this.db.query<AttachmentRow, string[]>(`SELECT ${ATTACHMENT_COLUMNS} FROM attachments WHERE id IN (${placeholders(part.length)})`).all(...part).map(attachmentFromRow))
    }
    return out
  }

  async findByHash(uploaderId: string, hash: string, now: number) {
    const row = this.q.byHash.get(uploaderId, hash, now)
    return row ? attachmentFromRow(row) : undefined
  }

  async insert(a: AttachmentRecord) {
    this.q.insert.run(
      a.id, a.filename, a.original_name, a.mime_type, a.size, a.hash, a.uploader_id, a.uploader_name, a.channel,
      a.created_at, a.expires_at, a.permanent ? 1 : 0, a.referenced ? 1 : 0, a.width ?? null, a.height ?? null,
    )
  }

  async renew(id: string, renewal: AttachmentRenewal) {
    const row = this.q.renew.get(renewal.expires_at, renewal.permanent ? 1 : 0, renewal.original_name, id)
    return row ? attachmentFromRow(row) : undefined
  }

  async reference(ids: string[], messageId: string) {
    this.db.transaction(() => {
      for (const id of ids) {
        this.q.markReferenced.run(id)
        this.q.ref.run(id, messageId)
      }
    })()
  }

  async delete(id: string) {
    const row = this.q.delete.get(id)
    return row ? attachmentFromRow(row) : undefined
  }

  async usage(uploaderId: string, now: number) {
    const row = this.q.usage.get(uploaderId, now)
    return { count: row?.count ?? 0, bytes: row?.bytes ?? 0 }
  }

  async oldest(uploaderId: string, now: number, limit: number) {
    return this.q.oldest.all(uploaderId, now, limit).map(attachmentFromRow)
  }

  async listDoomed(now: number, unreferencedBefore: number, limit: number) {
    const found = new Map<string, AttachmentRecord>()
    for (const row of [...this.q.expired.all(now, limit), ...this.q.unreferenced.all(unreferencedBefore, limit), ...this.q.orphaned.all(limit)]) {
      if (found.size >= limit) break
      found.set(row.id, attachmentFromRow(row))
    }
    return [...found.values()]
  }

  async listOrphaned(ids: string[]) {
    const out: AttachmentRecord[] = []
    for (const part of chunks([...new Set(ids)])) {
      const rows = this.db
        .query<AttachmentRow, string[]>(
          `SELECT ${ATTACHMENT_COLUMNS} FROM attachments AS a WHERE id IN (${placeholders(part.length)}) AND referenced = 1
           AND NOT EXISTS (SELECT 1 FROM attachment_refs AS r WHERE r.attachment_id = a.id)`,
        )
        .all(...part)
      out.push(...rows.map(attachmentFromRow))
    }
    return out
  }

  async existing(ids: string[]) {
    const out = new Set<string>()
    for (const part of chunks([...new Set(ids)])) {
      for (const row of this.db.query<{ id: string }, string[]>(`SELECT id FROM attachments WHERE id IN (${placeholders(part.length)})`).all(...part)) out.add(row.id)
    }
    return out
  }
}
