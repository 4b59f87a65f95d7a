import { statSync } from 'node:fs'
import { join } from 'node:path'
import type { Config } from '../config/schema.ts'
import { serverInfo } from '../views/server.ts'

/** The folder of the data directory that holds the icon and banner files (data.md, storage layout). */
export const SERVER_ASSETS_DIR = 'serverAssets'

export const ASSET_NAMES = ['icon', 'banner'] as const
export type AssetName = (typeof ASSET_NAMES)[number]

const isAssetName = (name: string): name is AssetName => (ASSET_NAMES as readonly string[]).includes(name)

/** A value that may name a file in serverAssets/: not a URL, no directory part, not hidden. */
export const isLocalFileName = (value: string) =>
  value !== '' && !value.includes('://') && !/[/\\\0]/.test(value) && !value.startsWith('.')

/**
 * Public base URL of server assets (config.md): `server.url` trimmed and lower-cased, its scheme
 * replaced by `https://` when it was https or wss and `http://` otherwise, no trailing `/`;
 * without it, the address the server listens on.
 */
export function publicBase(config: Config, listening: string): string {
  const url = config.server.url?.trim().toLowerCase()
  if (!url) return listening
  const secure = /^(https|wss):\/\//.test(url)
  return `${secure ? 'https' : 'http'}://${url.replace(/^[a-z][a-z0-9+.-]*:\/\//, '').replace(/\/+$/, '')}`
}

/**
 * The icon and banner as clients see them. A config value naming a file present in
 * `<data>/serverAssets/` is served at `/server-assets/<name>` and shown as that URL; any other
 * value is shown verbatim. Checked on every use, so `server_update` and newly placed files apply
 * at once (upstream only looked at startup).
 */
export class ServerAssets {
  constructor(
    private readonly dir: string,
    /** `http://host:port` of the running server, for when `server.url` is unset. */
    private readonly listening: () => string,
  ) {}

  /** The file behind `/server-assets/<name>`, if the config names one that exists. */
  file(config: Config, name: string): string | undefined {
    if (!isAssetName(name)) return undefined
    const value = config.server[name]
    if (typeof value !== 'string' || !isLocalFileName(value)) return undefined
    const path = join(this.dir, value)
    try {
      return statSync(path, { throwIfNoEntry: false })?.isFile() ? path : undefined
    } catch {
      return undefined
    }
  }

  /** `config.server` with local asset names rewritten to their public URLs (the handshake's `server`). */
  server(config: Config): Config['server'] {
    let server = config.server
    for (const name of ASSET_NAMES) {
      if (this.file(config, name)) server = { ...server, [name]: `${publicBase(config, this.listening())}/server-assets/${name}` }
    }
    return server
  }

  /** Name, icon and banner as `server_info`, `server_update` and `/info` show them. */
  info(config: Config) {
    return serverInfo({ ...config, server: this.server(config) })
  }
}
