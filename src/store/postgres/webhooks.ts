import type { WebhookRecord, WebhookRepo } from '../types.ts'
import type { Database, Queries } from './db.ts'

interface Row {
  id: string
  channel: string
  name: string
  created_by: string
  created_at: number
  avatar: string | null
}

const COLUMNS = 'id, channel, name, created_by, created_at, avatar'

const avatarColumn = (avatar: unknown) => (avatar === undefined || avatar === null ? null : JSON.stringify(avatar))

function toRecord(row: Row): WebhookRecord {
  return { id: row.id, channel: row.channel, name: row.name, created_by: row.created_by, created_at: row.created_at, avatar: row.avatar === null ? null : JSON.parse(row.avatar) }
}

/** Stored only while the channel exists; an ID or token digest already stored is skipped. */
async function insertRow(db: Queries, webhook: WebhookRecord, tokenHash: string) {
  const { id, name, created_by, created_at, avatar, channel } = webhook
  const added = await db.run(
    `INSERT INTO webhooks (id, channel, name, token_hash, created_by, created_at, avatar)
     SELECT $1, name, $2, $3, $4, $5, $6 FROM channels WHERE name = $7 ON CONFLICT DO NOTHING`,
    [id, name, tokenHash, created_by, created_at, avatarColumn(avatar), channel],
  )
  return added > 0
}

export class PostgresWebhooks implements WebhookRepo {
  constructor(private readonly db: Database) {}

  async get(id: string) {
    const row = await this.db.one<Row>(`SELECT ${COLUMNS} FROM webhooks WHERE id = $1`, [id])
    return row && toRecord(row)
  }

  async list(channel?: string) {
    const rows =
      channel === undefined
        ? await this.db.all<Row>(`SELECT ${COLUMNS} FROM webhooks ORDER BY seq`)
        : await this.db.all<Row>(`SELECT ${COLUMNS} FROM webhooks WHERE channel = $1 ORDER BY seq`, [channel])
    return rows.map(toRecord)
  }

  async insert(webhook: WebhookRecord, tokenHash: string) {
    return insertRow(this.db, webhook, tokenHash)
  }

  /** One statement, changing only the fields given. */
  async update(id: string, patch: Partial<Pick<WebhookRecord, 'name' | 'avatar'>>) {
    const row = await this.db.one<Row>(
      `UPDATE webhooks SET name = COALESCE($2, name), avatar = CASE WHEN $3 THEN $4 ELSE avatar END WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, patch.name ?? null, 'avatar' in patch, avatarColumn(patch.avatar)],
    )
    return row && toRecord(row)
  }

  async setTokenHash(id: string, tokenHash: string) {
    const row = await this.db.one<Row>(`UPDATE webhooks SET token_hash = $1 WHERE id = $2 RETURNING ${COLUMNS}`, [tokenHash, id])
    return row && toRecord(row)
  }

  async delete(id: string) {
    return (await this.db.run('DELETE FROM webhooks WHERE id = $1', [id])) > 0
  }

  async findByTokenHash(tokenHash: string) {
    const row = await this.db.one<Row & { token_hash: string }>(`SELECT ${COLUMNS}, token_hash FROM webhooks WHERE token_hash = $1`, [tokenHash])
    return row ? { webhook: toRecord(row), tokenHash: row.token_hash } : undefined
  }

  async importMany(webhooks: Array<{ webhook: WebhookRecord; tokenHash: string }>) {
    return this.db.transaction(async (tx) => {
      let added = 0
      for (const { webhook, tokenHash } of webhooks) if (await insertRow(tx, webhook, tokenHash)) added++
      return added
    })
  }
}
