import { ATTACHMENT_COLUMNS, attachmentFromRow, type AttachmentRow } from '../attachment-row.ts'
import type { AttachmentRecord, AttachmentRenewal, AttachmentRepo } from '../types.ts'
import type { Database } from './db.ts'

/** BIGINT sizes read back as numbers, not strings. */
const COLUMNS = ATTACHMENT_COLUMNS.replace('size', 'size::float8 AS size')

export class PostgresAttachments implements AttachmentRepo {
  constructor(private readonly db: Database) {}

  async get(id: string) {
    const row = await this.db.one<AttachmentRow>(`SELECT ${COLUMNS} FROM attachments WHERE id = $1`, [id])
    return row && attachmentFromRow(row)
  }

  async getMany(ids: string[]) {
    return (await this.db.all<AttachmentRow>(`SELECT ${COLUMNS} FROM attachments WHERE id = ANY($1::text[])`, [[...new Set(ids)]])).map(attachmentFromRow)
  }

  async findByHash(uploaderId: string, hash: string, now: number) {
    const row = await this.db.one<AttachmentRow>(`SELECT ${COLUMNS} FROM attachments WHERE uploader_id = $1 AND hash = $2 AND expires_at > $3 ORDER BY seq DESC LIMIT 1`, [
      uploaderId, hash, now,
    ])
    return row && attachmentFromRow(row)
  }

  async insert(a: AttachmentRecord) {
    await this.db.run(`INSERT INTO attachments (${ATTACHMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, [
      a.id, a.filename, a.original_name, a.mime_type, a.size, a.hash, a.uploader_id, a.uploader_name, a.channel,
      a.created_at, a.expires_at, a.permanent, a.referenced, a.width ?? null, a.height ?? null,
    ])
  }

  async renew(id: string, renewal: AttachmentRenewal) {
    const row = await this.db.one<AttachmentRow>(`UPDATE attachments SET expires_at = $1, permanent = $2, original_name = $3 WHERE id = $4 RETURNING ${COLUMNS}`, [
      renewal.expires_at, renewal.permanent, renewal.original_name, id,
    ])
    return row && attachmentFromRow(row)
  }

  async reference(ids: string[], messageId: string) {
    await this.db.transaction(async (tx) => {
      await tx.run('UPDATE attachments SET referenced = true WHERE id = ANY($1::text[])', [ids])
      // Only between rows that exist: an import may name attachments or messages this server lacks.
      await tx.run(
        `INSERT INTO attachment_refs (attachment_id, message_id)
         SELECT a.id, m.id FROM attachments AS a, messages AS m WHERE a.id = ANY($1::text[]) AND m.id = $2 ON CONFLICT DO NOTHING`,
        [ids, messageId],
      )
    })
  }

  async delete(id: string) {
    const row = await this.db.one<AttachmentRow>(`DELETE FROM attachments WHERE id = $1 RETURNING ${COLUMNS}`, [id])
    return row && attachmentFromRow(row)
  }

  async usage(uploaderId: string, now: number) {
    const row = await this.db.one<{ count: number; bytes: number | null }>(
      'SELECT COUNT(*)::int AS count, SUM(size)::float8 AS bytes FROM attachments WHERE uploader_id = $1 AND expires_at > $2',
      [uploaderId, now],
    )
    return { count: row?.count ?? 0, bytes: row?.bytes ?? 0 }
  }

  async oldest(uploaderId: string, now: number, limit: number) {
    const rows = await this.db.all<AttachmentRow>(`SELECT ${COLUMNS} FROM attachments WHERE uploader_id = $1 AND expires_at > $2 ORDER BY created_at, seq LIMIT $3`, [
      uploaderId, now, limit,
    ])
    return rows.map(attachmentFromRow)
  }

  async listDoomed(now: number, unreferencedBefore: number, limit: number) {
    const expired = await this.db.all<AttachmentRow>(`SELECT ${COLUMNS} FROM attachments WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2`, [now, limit])
    const unreferenced = await this.db.all<AttachmentRow>(`SELECT ${COLUMNS} FROM attachments WHERE NOT referenced AND created_at < $1 ORDER BY created_at LIMIT $2`, [
      unreferencedBefore, limit,
    ])
    const orphaned = await this.db.all<AttachmentRow>(
      `SELECT ${COLUMNS} FROM attachments AS a WHERE referenced AND NOT EXISTS (SELECT 1 FROM attachment_refs AS r WHERE r.attachment_id = a.id) LIMIT $1`,
      [limit],
    )
    const found = new Map<string, AttachmentRecord>()
    for (const row of [...expired, ...unreferenced, ...orphaned]) {
      if (found.size >= limit) break
      found.set(row.id, attachmentFromRow(row))
    }
    return [...found.values()]
  }

  async listOrphaned(ids: string[]) {
    const rows = await this.db.all<AttachmentRow>(
      `SELECT ${COLUMNS} FROM attachments AS a WHERE id = ANY($1::text[]) AND referenced
       AND NOT EXISTS (SELECT 1 FROM attachment_refs AS r WHERE r.attachment_id = a.id)`,
      [[...new Set(ids)]],
    )
    return rows.map(attachmentFromRow)
  }

  async existing(ids: string[]) {
    const rows = await this.db.all<{ id: string }>('SELECT id FROM attachments WHERE id = ANY($1::text[])', [[...new Set(ids)]])
    return new Set(rows.map((row) => row.id))
  }
}
