import { channelAllows } from '../auth/permissions.ts'
import type { Config } from '../config/schema.ts'
import { CORS, jsonResponse } from '../net/http.ts'
import type { Hub } from '../net/hub.ts'
import type { Store } from '../store/types.ts'
import type { AttachmentService } from './service.ts'
import { SAVE_FAILED, UploadRefused } from './service.ts'
import type { SubscriptionCache } from './subscriptions.ts'
import { authenticateUpload } from './upload-auth.ts'
import type { UploadRate } from './upload-rate.ts'
import type { RoturClient } from '../auth/rotur.ts'
import { decodeFile } from './decode.ts'
import { CHECKED_IMAGE_TYPES, imageDimensions, sniffImage } from './image.ts'
import { inlineSafe, MIME_TYPE, typeAllowed } from './mime.ts'
import { attachmentView } from './view.ts'

/** What the attachment routes need, wired once in app.ts. */
export interface AttachmentHttpDeps {
  config: () => Config
  store: Store
  hub: Hub
  rotur: RoturClient
  service: AttachmentService
  uploadRate: UploadRate
  subscriptions: SubscriptionCache
}

const PREFIX = '/attachments/'
const MAX_EXPIRY_DAYS = 365

/** `POST /attachments/upload` and `GET|HEAD /attachments/{id}` (http.md). */
export async function handleAttachments(request: Request, pathname: string, deps: AttachmentHttpDeps): Promise<Response> {
  if (request.method === 'POST' && pathname === `${PREFIX}upload`) return upload(request, deps)
  if (request.method === 'GET' || request.method === 'HEAD') return download(pathname.slice(PREFIX.length), deps)
  return jsonResponse({ error: 'Method not allowed' }, 405)
}

const refuse = (status: number, error: string) => jsonResponse({ error }, status)

async function download(rawId: string, deps: AttachmentHttpDeps): Promise<Response> {
  if (!deps.config().attachments.enabled) return refuse(503, 'Attachments are disabled')
  let id: string
  try {
    id = decodeURIComponent(rawId).trim()
  } catch {
    return refuse(404, 'Attachment not found or expired')
  }
  if (id === '') return refuse(400, 'Attachment ID required')
  const record = await deps.store.attachments.get(id)
  if (!record || record.expires_at <= deps.service.now()) return refuse(404, 'Attachment not found or expired')
  const file = Bun.file(deps.service.files.path(record.filename))
  if (!(await file.exists())) return refuse(404, 'Attachment file not found')
  const disposition = `${inlineSafe(record.mime_type) ? 'inline' : 'attachment'}; filename="${asciiName(record.original_name)}"; filename*=UTF-8''${encodeURIComponent(record.original_name)}`
  // Bun answers Range requests (206/416) and HEAD for a Bun.file body itself.
  return new Response(file, {
    headers: {
      ...CORS,
      'Content-Type': record.mime_type,
      'Cache-Control': 'public, max-age=3600',
      'Content-Disposition': disposition,
      'X-Content-Type-Options': 'nosniff',
      'Content-Security-Policy': "default-src 'none'; sandbox",
    },
  })
}

/** The file name for the plain `filename=` parameter: printable ASCII without quotes or backslashes. */
const asciiName = (name: string) => name.replace(/[^\x20-\x7e]|["\\]/g, '_')

async function upload(request: Request, deps: AttachmentHttpDeps): Promise<Response> {
  if (!(request.headers.get('content-type') ?? '').toLowerCase().startsWith('application/json')) {
    return refuse(415, 'Content-Type must be application/json')
  }
  const settings = deps.config().attachments
  if (!settings.enabled) return refuse(503, 'Attachments are disabled')
  const tooLarge = () => refuse(413, `Request body too large (max ${settings.max_size} bytes)`)
  const declared = Number(request.headers.get('content-length') ?? NaN)
  if (declared > settings.max_size) return tooLarge()
  const raw = await readBounded(request, settings.max_size)
  if (raw === 'too large') return tooLarge()
  if (raw === 'failed') return refuse(400, 'Failed to read request body')
  let body: unknown
  try {
    body = JSON.parse(new TextDecoder().decode(raw))
  } catch {
    return refuse(400, 'Invalid JSON body')
  }
  const fields = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>
  try {
    return await accept(request, fields, deps)
  } catch (error) {
    if (error instanceof UploadRefused) return refuse(error.status, error.message)
    throw error
  }
}

async function accept(request: Request, fields: Record<string, unknown>, deps: AttachmentHttpDeps): Promise<Response> {
  const { user, cracked } = await authenticateUpload(request, fields, deps)
  if (!deps.uploadRate.take(user.id)) {
    const response = refuse(429, 'Too many uploads, try again later')
    response.headers.set('Retry-After', String(deps.uploadRate.retryAfter(user.id)))
    return response
  }
  const { file, name, mime_type: mimeType, channel: channelName, expires_in_days: days } = fields
  if (![file, name, mimeType, channelName].every((value) => typeof value === 'string' && value !== '')) {
    return refuse(400, 'Missing required fields: file, name, mime_type, channel')
  }
  if (days !== undefined && days !== null && (typeof days !== 'number' || !Number.isFinite(days) || days <= 0 || days > MAX_EXPIRY_DAYS)) {
    return refuse(400, `expires_in_days must be a number greater than 0 and at most ${MAX_EXPIRY_DAYS}`)
  }
  const channel = await deps.store.channels.get(channelName as string)
  if (!channel) return refuse(404, 'Channel does not exist')
  if (!channelAllows(channel, 'send', user.roles) || !channelAllows(channel, 'view', user.roles)) {
    return refuse(403, "You don't have permission to send in this channel")
  }
  const config = deps.config()
  const type = (mimeType as string).toLowerCase()
  const decoded = MIME_TYPE.test(type) && typeAllowed(type, config.attachments.allowed_types) ? decodeFile(file as string) : undefined
  if (!decoded || decoded.bytes.byteLength === 0 || decoded.bytes.byteLength > config.attachments.max_size) return refuse(500, SAVE_FAILED)
  // A data URI that names another type than `mime_type` is lying about one of them.
  if (decoded.declaredType !== undefined && decoded.declaredType !== type) return refuse(500, SAVE_FAILED)
  const checkedImage = CHECKED_IMAGE_TYPES.has(type)
  if (checkedImage && sniffImage(decoded.bytes) !== type) return refuse(500, SAVE_FAILED)
  const permanent = config.auth_mode === 'rotur' && !cracked && (await permanentTier(user.username, config, deps.subscriptions))
  const record = await deps.service.save({
    bytes: decoded.bytes,
    name: name as string,
    mimeType: type,
    channel: channel.name,
    uploader: { id: user.id, username: user.username },
    permanent,
    requestedDays: typeof days === 'number' ? days : undefined,
    dimensions: checkedImage ? imageDimensions(decoded.bytes, type) : undefined,
  })
  return jsonResponse({ attachment: attachmentView(record, config), permanent: record.permanent }, 201)
}

/** Permanent uploads: a Rotur subscription listed in `permanent_tiers` (never in the cracked modes, never for local accounts). */
async function permanentTier(username: string, config: Config, subscriptions: SubscriptionCache): Promise<boolean> {
  const tiers = config.attachments.permanent_tiers.map((tier) => tier.toLowerCase())
  if (tiers.length === 0) return false
  const tier = await subscriptions.tier(username)
  return tier !== '' && tiers.includes(tier)
}

/**
 * The body, read as it streams in and abandoned as soon as it passes `limit`: nothing larger is
 * ever held, whether or not the client sent a Content-Length.
 */
async function readBounded(request: Request, limit: number): Promise<Uint8Array | 'too large' | 'failed'> {
  if (!request.body) return new Uint8Array()
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let total = 0
  try {
    // Ends with the stream; each chunk moves `total` forward, and passing the limit stops it.
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.byteLength
      if (total > limit) {
        await reader.cancel().catch(() => {})
        return 'too large'
      }
      chunks.push(value)
    }
  } catch {
    return 'failed'
  }
  return Buffer.concat(chunks)
}
