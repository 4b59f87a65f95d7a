import webPush from 'web-push'
import type { VapidKeys } from './keys.ts'

/** How long a push service keeps an undelivered notification (data.md §13). */
export const PUSH_TTL_SECONDS = 86_400

export interface PushTarget {
  endpoint: string
  p256dh: string
  auth: string
}

/** The push service's answer: its status, or 0 when it could not be reached in time (or sending was aborted). */
export type PushOutcome = { status: number }

/**
 * One encrypted push (RFC 8291 aes128gcm, RFC 8292 VAPID) built by web-push and sent with fetch,
 * so no Node https agent is involved and the request can be bounded by `timeoutMs`.
 */
export async function sendPush(target: PushTarget, payload: string, keys: VapidKeys, timeoutMs: number, signal?: AbortSignal): Promise<PushOutcome> {
  const request = webPush.generateRequestDetails({ endpoint: target.endpoint, keys: { p256dh: target.p256dh, auth: target.auth } }, payload, {
    TTL: PUSH_TTL_SECONDS,
    contentEncoding: 'aes128gcm',
    vapidDetails: { subject: keys.subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
  })
  const headers = new Headers()
  // fetch sets the length itself from the body.
  for (const [name, value] of Object.entries(request.headers)) if (name.toLowerCase() !== 'content-length') headers.set(name, String(value))
  try {
    const response = await fetch(request.endpoint, {
      method: request.method,
      headers,
      body: request.body ? new Uint8Array(request.body) : null,
      redirect: 'manual',
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
    })
    await response.body?.cancel()
    return { status: response.status }
  } catch {
    return { status: 0 }
  }
}
