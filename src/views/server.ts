import type { Config } from '../config/schema.ts'

/** Name, icon and banner as `server_info`, `server_update` and `/info` show them (`""` when unset). */
export function serverInfo(config: Config) {
  const { name, icon, banner } = config.server
  return { name, icon: icon ?? '', banner: banner ?? '' }
}
