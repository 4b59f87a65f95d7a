import type { Config } from '../config/schema.ts'
import type { AttachmentRecord } from '../store/types.ts'

/** `server.url` without its trailing `/` (verbatim, scheme included) + `/attachments/<id>`; relative without it (data.md §9). */
export function attachmentUrl(config: Config, id: string): string {
  const base = (config.server.url ?? '').replace(/\/+$/, '')
  return `${base}/attachments/${encodeURIComponent(id)}`
}

/** The client attachment object: in messages, upload replies and `attachment_info`. */
export function attachmentView(record: AttachmentRecord, config: Config): Record<string, unknown> {
  return {
    id: record.id,
    name: record.original_name,
    mime_type: record.mime_type,
    size: record.size,
    url: attachmentUrl(config, record.id),
    expires_at: record.expires_at,
    permanent: record.permanent,
    ...(record.width !== undefined && record.height !== undefined ? { width: record.width, height: record.height } : {}),
  }
}
