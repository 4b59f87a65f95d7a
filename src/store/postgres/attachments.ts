import type { AttachmentRecord, AttachmentRenewal, AttachmentRepo } from '../types.ts'
import type { Database } from './db.ts'

interface Row {
  id: string
  filename: string
  original_name: string
  mime_type: string
  size: number
  hash: string
  uploader_id: string
  uploader_name: string
  channel: string
  created_at: number
  expires_at: number
  permanent: boolean
  referenced: boolean
  width: number | null
  height: number | null
}

const INSERTED = 'id, filename, original_name, mime_type, size, hash, uploader_id, uploader_name, channel, created_at, expires_at, permanent, referenced, width, height'
const COLUMNS = INSERTED.replace('size', 'size::float8 AS size')

function record(row: Row): AttachmentRecord {
  const { width, height, ...rest } = row
  return { ...rest, ...(width !== null && height !== null ? { width, height } : {}) }
}

export class PostgresAttachments implements AttachmentRepo {
  constructor(private readonly db: Database) {}

  async get(id: string) {
    const row = await this.db.one<Row>(`SELECT ${COLUMNS} FROM attachments WHERE id = $1`, [id])
    return row && record(row)
  }

  async getMany(ids: string[]) {
    return (await this.db.all<Row>(`SELECT ${COLUMNS} FROM attachments WHERE id = ANY($1::text[])`, [[...new Set(ids)]])).map(record)
  }

  async findByHash(uploaderId: string, hash: string, now: number) {
    const row = await this.db.one<Row>(`SELECT ${COLUMNS} FROM attachments WHERE uploader_id = $1 AND hash = $2 AND expires_at > $3 ORDER BY seq DESC LIMIT 1`, [
      uploaderId, hash, now,
    ])
    return row && record(row)
  }

  async insert(a: AttachmentRecord) {
    await this.db.run(`INSERT INTO attachments (${INSERTED}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, [
      a.id, a.filename, a.original_name, a.mime_type, a.size, a.hash, a.uploader_id, a.uploader_name, a.channel,
      a.created_at, a.expires_at, a.permanent, a.referenced, a.width ?? null, a.height ?? null,
    ])
  }

  async renew(id: string, renewal: AttachmentRenewal) {
    const row = await this.db.one<Row>(`UPDATE attachments SET expires_at = $1, permanent = $2, original_name = $3 WHERE id = $4 RETURNING ${COLUMNS}`, [
      renewal.expires_at, renewal.permanent, renewal.original_name, id,
    ])
    return row && record(row)
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
    const row = await this.db.one<Row>(`DELETE FROM attachments WHERE id = $1 RETURNING ${COLUMNS}`, [id])
    return row && record(row)
  }

  async usage(uploaderId: string, now: number) {
    const row = await this.db.one<{ count: number; bytes: number | null }>(
      'SELECT COUNT(*)::int AS count, SUM(size)::float8 AS bytes FROM attachments WHERE uploader_id = $1 AND expires_at > $2',
      [uploaderId, now],
    )
    return { count: row?.count ?? 0, bytes: row?.bytes ?? 0 }
  }

  async oldest(uploaderId: string, now: number, limit: number) {
    const rows = await this.db.all<Row>(`SELECT ${COLUMNS} FROM attachments WHERE uploader_id = $1 AND expires_at > $2 ORDER BY created_at, seq LIMIT $3`, [
      uploaderId, now, limit,
    ])
    return rows.map(record)
  }

  async listDoomed(now: number, unreferencedBefore: number, limit: number) {
    const expired = await this.db.all<Row>(`SELECT ${COLUMNS} FROM attachments WHERE expires_at <= $1 ORDER BY expires_at LIMIT $2`, [now, limit])
    const unreferenced = await this.db.all<Row>(`SELECT ${COLUMNS} FROM attachments WHERE NOT referenced AND created_at < $1 ORDER BY created_at LIMIT $2`, [
      unreferencedBefore, limit,
    ])
    const orphaned = await this.db.all<Row>(
      `SELECT ${COLUMNS} FROM attachments AS a WHERE referenced AND NOT EXISTS (SELECT 1 FROM attachment_refs AS r WHERE r.attachment_id = a.id) LIMIT $1`,
      [limit],
    )
    const found = new Map<string, AttachmentRecord>()
    for (const row of [...expired, ...unreferenced, ...orphaned]) {
      if (found.size >= limit) break
      found.set(row.id, record(row))
    }
    return [...found.values()]
  }

  async listOrphaned(ids: string[]) {
    const rows = await this.db.all<Row>(
      `SELECT ${COLUMNS} FROM attachments AS a WHERE id = ANY($1::text[]) AND referenced
       AND NOT EXISTS (SELECT 1 FROM attachment_refs AS r WHERE r.attachment_id = a.id)`,
      [[...new Set(ids)]],
    )
    return rows.map(record)
  }

  async existing(ids: string[]) {
    const rows = await this.db.all<{ id: string }>('SELECT id FROM attachments WHERE id = ANY($1::text[])', [[...new Set(ids)]])
    return new Set(rows.map((row) => row.id))
  }
}
