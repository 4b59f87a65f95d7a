import type { ServerOverrides, ServerSettingsRepo } from '../types.ts'
import type { Database } from './db.ts'

export class PostgresServerSettings implements ServerSettingsRepo {
  constructor(private readonly db: Database) {}

  async get() {
    const rows = await this.db.all<{ key: keyof ServerOverrides; value: string | null }>('SELECT key, value FROM server_settings ORDER BY key')
    return Object.fromEntries(rows.map((row) => [row.key, row.value])) as ServerOverrides
  }

  async update(updates: ServerOverrides) {
    const entries = Object.entries(updates)
    if (entries.length === 0) return
    await this.db.run(
      `INSERT INTO server_settings (key, value) SELECT * FROM unnest($1::text[], $2::text[])
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [entries.map(([key]) => key), entries.map(([, value]) => value ?? null)],
    )
  }
}
