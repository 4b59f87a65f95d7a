import type { Queries } from '../db.ts'
import initial from './001-initial.ts'
import defaults from './002-defaults.ts'
import serverSettings from './003-server-settings.ts'

export interface Migration {
  version: number
  name: string
  up: string | ((db: Queries) => Promise<void>)
}

/**
 * The PostgreSQL schema's own history, separate from SQLite's: forward-only and never edited
 * once released; imported so the compiled binary carries them.
 */
export const migrations: Migration[] = [
  { version: 1, name: 'initial', up: initial },
  { version: 2, name: 'defaults', up: defaults },
  { version: 3, name: 'server settings', up: serverSettings },
]
