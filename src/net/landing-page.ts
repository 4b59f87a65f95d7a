import type { Config } from '../config/schema.ts'
import { publicBase } from './server-assets.ts'

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ENTITIES[c]!)

/** Nothing but inline styles and http(s) images: the page runs no script, whatever the config says. */
export const LANDING_PAGE_CSP = "default-src 'none'; img-src http: https:; style-src 'unsafe-inline'"

/**
 * The WebSocket address clients should use: `server.url` when set (wss:// when it is https or
 * wss), otherwise the address the browser reached, `origin` (`https://host:port` under TLS).
 */
export function websocketAddress(config: Config, origin: string): string {
  return `${publicBase(config, origin).replace(/^http/, 'ws')}/`
}

/**
 * What a browser opening the server's address sees instead of a failed WebSocket upgrade: the
 * server's name and icon and how to connect. Self-contained (no external resources but the icon).
 */
export function landingPage(server: { name: string; icon: string }, address: string): string {
  const name = escapeHtml(server.name)
  const icon = /^https?:\/\//i.test(server.icon) ? `<img src="${escapeHtml(server.icon)}" alt="" width="96" height="96">\n` : ''
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; line-height: 1.5; color: #222; }
img { border-radius: 16px; }
code { background: #eee; padding: 0.15rem 0.4rem; border-radius: 4px; word-break: break-all; }
</style>
</head>
<body>
${icon}<h1>${name}</h1>
<p>This is an OriginChats server. To chat here, add this address to an OriginChats client:</p>
<p><code>${escapeHtml(address)}</code></p>
<p>Server details: <a href="/info">/info</a></p>
</body>
</html>
`
}
