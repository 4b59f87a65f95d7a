import type { Config } from '../config/schema.ts'
import type { Store } from '../store/types.ts'
import type { Hub } from './hub.ts'

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS, POST',
  'Access-Control-Allow-Headers': 'Content-Type, Authorization, Range',
  'Access-Control-Expose-Headers': 'Content-Length, Content-Type, Cache-Control',
}

export const jsonResponse = (body: unknown, status = 200, indent?: number) =>
  new Response(JSON.stringify(body, null, indent), { status, headers: { ...CORS, 'Content-Type': 'application/json' } })

/** The plain HTTP routes served next to the WebSocket (http.md). */
export async function handleHttp(request: Request, config: Config, store: Store, hub: Hub): Promise<Response> {
  const { pathname } = new URL(request.url)
  if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS })
  if ((request.method === 'GET' || request.method === 'HEAD') && pathname === '/info') {
    return jsonResponse(await serverCard(config, store, hub), 200, 2)
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') return jsonResponse({ error: 'Method not allowed' }, 405)
  return jsonResponse({ error: 'Not found' }, 404)
}

async function serverCard(config: Config, store: Store, hub: Hub) {
  const { name, icon, banner, owner } = config.server
  return {
    server: { name, icon: icon ?? '', banner: banner ?? '', owner: owner ?? {} },
    stats: {
      total_users: await store.users.count(),
      connected_users: hub.sockets.size,
      online_users: hub.onlineUserIds().length,
      total_channels: await store.channels.count(),
      total_roles: await store.roles.count(),
    },
  }
}
