import type { AttachmentRecord } from './types.ts'

/** An attachments row as both drivers read it (flags are 0/1 in SQLite, booleans in PostgreSQL). */
export interface AttachmentRow {
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
  permanent: number | boolean
  referenced: number | boolean
  width: number | null
  height: number | null
}

export const ATTACHMENT_COLUMNS = 'id, filename, original_name, mime_type, size, hash, uploader_id, uploader_name, channel, created_at, expires_at, permanent, referenced, width, height'

export function attachmentFromRow(row: AttachmentRow): AttachmentRecord {
  const { permanent, referenced, width, height, ...rest } = row
  return { ...rest, permanent: Boolean(permanent), referenced: Boolean(referenced), ...(width !== null && height !== null ? { width, height } : {}) }
}
