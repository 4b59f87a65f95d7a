import type { Database } from 'bun:sqlite'
import type { WebhookRecord, WebhookRepo } from '../types.ts'

interface Row {
  id: string
  channel: string
  name: string
  created_by: string
  created_at: number
  avatar: string | null
}

const COLUMNS = 'id, channel, name, created_by, created_at, avatar'

export class SqliteWebhooks implements WebhookRepo {
  private readonly q

  constructor(private readonly db: Database) {
    this.q = {
      get: db.query<Row, [string]>(`SELECT ${COLUMNS} FROM webhooks WHERE id = ?`),
      all: db.query<Row, []>(`SELECT ${COLUMNS} FROM webhooks ORDER BY seq`),
      byChannel: db.query<Row, [string]>(`SELECT ${COLUMNS} FROM webhooks WHERE channel = ? ORDER BY seq`),
      byToken: db.query<Row & { token_hash: string }, [string]>(`SELECT ${COLUMNS}, token_hash FROM webhooks WHERE token_hash = ?`),
      // Stored only while the channel exists (the foreign key would refuse it anyway).
      insert: db.prepare(
        `INSERT OR IGNORE INTO webhooks (id, channel, name, token_hash, created_by, created_at, avatar)
         SELECT ?, name, ?, ?, ?, ?, ? FROM channels WHERE name = ?`,
      ),
      setToken: db.prepare('UPDATE webhooks SET token_hash = ? WHERE id = ?'),
      delete: db.prepare('DELETE FROM webhooks WHERE id = ?'),
    }
  }

  async get(id: string) {
    const row = this.q.get.get(id)
    return row ? toRecord(row) : undefined
  }

  async list(channel?: string) {
    return (channel === undefined ? this.q.all.all() : this.q.byChannel.all(channel)).map(toRecord)
  }

  async insert(webhook: WebhookRecord, tokenHash: string) {
    return this.insertRow(webhook, tokenHash)
  }

  async update(id: string, patch: Partial<Pick<WebhookRecord, 'name' | 'avatar'>>) {
    const sets: string[] = []
    const params: (string | null)[] = []
    if (patch.name !== undefined) {
      sets.push('name = ?')
      params.push(patch.name)
    }
    if ('avatar' in patch) {
      sets.push('avatar = ?')
      params.push(avatarColumn(patch.avatar))
    }
    if (sets.length > 0) this.db.run(`UPDATE webhooks SET ${sets.join(', ')} WHERE id = ?`, [...params, id])
    return this.get(id)
  }

  async setTokenHash(id: string, tokenHash: string) {
    this.q.setToken.run(tokenHash, id)
    return this.get(id)
  }

  async delete(id: string) {
    return this.q.delete.run(id).changes > 0
  }

  async findByTokenHash(tokenHash: string) {
    const row = this.q.byToken.get(tokenHash)
    return row ? { webhook: toRecord(row), tokenHash: row.token_hash } : undefined
  }

  async importMany(webhooks: Array<{ webhook: WebhookRecord; tokenHash: string }>) {
    return this.db.transaction(() => webhooks.filter(({ webhook, tokenHash }) => this.insertRow(webhook, tokenHash)).length)()
  }

  private insertRow(webhook: WebhookRecord, tokenHash: string) {
    const { id, name, created_by, created_at, avatar, channel } = webhook
    return this.q.insert.run(id, name, tokenHash, created_by, created_at, avatarColumn(avatar), channel).changes > 0
  }
}

const avatarColumn = (avatar: unknown) => (avatar === undefined || avatar === null ? null : JSON.stringify(avatar))

function toRecord(row: Row): WebhookRecord {
  return {
    id: row.id,
    channel: row.channel,
    name: row.name,
    created_by: row.created_by,
    created_at: row.created_at,
    avatar: row.avatar === null ? null : JSON.parse(row.avatar),
  }
}
