import { createHmac } from 'node:crypto'

/** What identifies a device, read from its WebSocket upgrade request. */
export interface DeviceInfo {
  ip: string
  userAgent: string
  country: string
}

/** 16 hex characters of HMAC-SHA256(`ip|user-agent|country`), as upstream (commands.md §17.2). */
export const deviceFingerprint = (secret: string, device: DeviceInfo): string =>
  createHmac('sha256', secret).update(`${device.ip}|${device.userAgent}|${device.country}`).digest('hex').slice(0, 16)

/**
 * The device of an upgrade request. Proxy headers are believed only behind a trusted proxy
 * (`security.trust_proxy`): else anyone could pick another device's fingerprint.
 */
export function deviceOf(request: Request, peer: string, trustProxy: boolean): DeviceInfo {
  const header = (name: string) => request.headers.get(name)?.trim() ?? ''
  const forwarded = header('x-forwarded-for').split(',')[0]!.trim()
  return {
    ip: (trustProxy && (header('cf-connecting-ip') || forwarded)) || peer,
    userAgent: header('user-agent').slice(0, 512),
    country: trustProxy ? header('cf-ipcountry').slice(0, 8) : '',
  }
}
