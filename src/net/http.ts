import { handleAttachments, type AttachmentHttpDeps } from '../attachments/http.ts'
import type { Config } from '../config/schema.ts'
import type { EmojiCatalog } from '../emojis/catalog.ts'
import { serveEmoji } from '../emojis/http.ts'
import { PROMETHEUS_CONTENT_TYPE } from '../metrics/registry.ts'
import type { ServerMetrics } from '../metrics/server-metrics.ts'
import type { Store } from '../store/types.ts'
import type { WebhookEndpoint } from '../webhooks/http.ts'
import type { Hub } from './hub.ts'
import { LANDING_PAGE_CSP, landingPage, websocketAddress } from './landing-page.ts'
import type { ServerAssets } from './server-assets.ts'

/** What the HTTP routes read. */
export interface HttpDeps {
  config: () => Config
  store: Store
  hub: Hub
  assets: ServerAssets
  metrics: ServerMetrics
  attachments: AttachmentHttpDeps
  emojis: EmojiCatalog
  webhooks: WebhookEndpoint
}

/** On every HTTP response, errors included (http.md). */
export const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS, POST',
  'Access-Control-Allow-Headers': 'Content-Type, Authorization, Range',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Type, Cache-Control',
}

export const jsonResponse = (body: unknown, status = 200, indent?: number) =>
  new Response(JSON.stringify(body, null, indent), { status, headers: { ...CORS, 'Content-Type': 'application/json' } })

export const textResponse = (body: string, status: number) =>
  new Response(body, { status, headers: { ...CORS, 'Content-Type': 'text/plain; charset=utf-8' } })

const ASSETS_PREFIX = '/server-assets/'
const EMOJIS_PREFIX = '/emojis/'

/** The plain HTTP routes served next to the WebSocket (http.md), plus health, metrics and a landing page. */
/** `address` is the client's (behind a trusted proxy, the forwarded one). */
export async function handleHttp(request: Request, deps: HttpDeps, address: string): Promise<Response> {
  const { store, hub, assets, metrics } = deps
  const config = deps.config()
  const url = new URL(request.url)
  const { pathname } = url
  if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS })
  if ((request.method === 'GET' || request.method === 'HEAD') && pathname === '/info') {
    return jsonResponse(await serverCard(config, store, hub, assets), 200, 2)
  }
  if (pathname.startsWith('/attachments/')) return handleAttachments(request, pathname, deps.attachments)
  if (request.method === 'POST' && (pathname === '/webhooks' || pathname.startsWith('/webhooks/'))) return deps.webhooks.handle(request, address)
  if (request.method !== 'GET' && request.method !== 'HEAD') return jsonResponse({ error: 'Method not allowed' }, 405)
  if (pathname.startsWith(ASSETS_PREFIX)) return serverAsset(assets.file(config, pathname.slice(ASSETS_PREFIX.length)))
  if (pathname.startsWith(EMOJIS_PREFIX)) return serveEmoji(deps.emojis, config, pathname.slice(EMOJIS_PREFIX.length))
  if (pathname === '/health') return health(store, hub, metrics)
  if (pathname === '/metrics' && config.metrics.enabled) {
    return new Response(metrics.render(), { headers: { ...CORS, 'Content-Type': PROMETHEUS_CONTENT_TYPE, 'Cache-Control': 'no-store' } })
  }
  if (pathname === '/' || pathname === '/index.html') {
    const page = landingPage(assets.info(config), websocketAddress(config, url.origin))
    return new Response(page, {
      headers: { ...CORS, 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache', 'Content-Security-Policy': LANDING_PAGE_CSP },
    })
  }
  return jsonResponse({ error: 'Not found' }, 404)
}

/** For load balancers and monitors: 200 while the database answers, 503 when it does not. */
async function health(store: Store, hub: Hub, metrics: ServerMetrics): Promise<Response> {
  const status = { uptime_seconds: Math.round(metrics.uptimeSeconds()), connections: hub.sockets.size }
  const headers = { ...CORS, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }
  try {
    await store.ping()
  } catch {
    return new Response(JSON.stringify({ status: 'error', error: 'database unavailable', ...status }), { status: 503, headers })
  }
  return new Response(JSON.stringify({ status: 'ok', ...status }), { headers })
}

/** `/server-assets/icon|banner`: the file the config names, if it is in serverAssets/. */
function serverAsset(path: string | undefined): Response {
  if (!path) return textResponse('Server asset not found', 404)
  const file = Bun.file(path)
  return new Response(file, { headers: { ...CORS, 'Content-Type': file.type, 'Cache-Control': 'public, max-age=3600' } })
}

async function serverCard(config: Config, store: Store, hub: Hub, assets: ServerAssets) {
  const { name, icon, banner } = assets.info(config)
  return {
    server: { name, icon, banner, owner: config.server.owner ?? {} },
    stats: {
      total_users: await store.users.count(),
      connected_users: hub.sockets.size,
      online_users: hub.onlineUserIds().length,
      total_channels: await store.channels.count(),
      total_roles: await store.roles.count(),
    },
  }
}
