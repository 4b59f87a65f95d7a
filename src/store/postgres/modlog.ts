import type { ModlogEntry, ModlogQuery, ModlogRepo } from '../types.ts'
import type { Database, Param } from './db.ts'

type Row = Omit<ModlogEntry, 'details'> & { details: string }

const COLUMNS = 'id, action, category, actor_id, actor_name, target_id, target_name, details, timestamp'

export class PostgresModlog implements ModlogRepo {
  constructor(private readonly db: Database) {}

  async insert(entry: ModlogEntry) {
    await this.db.run(`INSERT INTO modlog (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
      entry.id, entry.action, entry.category, entry.actor_id, entry.actor_name, entry.target_id, entry.target_name, JSON.stringify(entry.details), entry.timestamp,
    ])
  }

  async list(query: ModlogQuery) {
    const where: string[] = []
    const params: Param[] = []
    const filter = (column: string, value: string | number | undefined) => {
      if (value === undefined) return
      params.push(value)
      where.push(`${column} $${params.length}`)
    }
    filter('timestamp >', query.after)
    filter('category =', query.category)
    filter('actor_id =', query.actor)
    filter('target_id =', query.target)
    filter('action =', query.action)
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
    const total = Number((await this.db.one<{ n: string }>(`SELECT COUNT(*) AS n FROM modlog ${clause}`, params))!.n)
    const rows = await this.db.all<Row>(
      `SELECT ${COLUMNS} FROM modlog ${clause} ORDER BY seq DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, query.limit, query.offset],
    )
    return { entries: rows.map((row) => ({ ...row, details: JSON.parse(row.details) })), total }
  }

  async summary(window: number) {
    const rows = await this.db.all<{ category: string; action: string; n: number }>(
      'SELECT category, action, COUNT(*)::int AS n FROM (SELECT category, action FROM modlog ORDER BY seq DESC LIMIT $1) AS w GROUP BY category, action',
      [window],
    )
    const action_counts: Record<string, number> = {}
    const category_totals: Record<string, number> = {}
    for (const { category, action, n } of rows) {
      action_counts[`${category}.${action}`] = n
      category_totals[category] = (category_totals[category] ?? 0) + n
    }
    const total = Number((await this.db.one<{ n: string }>('SELECT COUNT(*) AS n FROM modlog'))!.n)
    return { action_counts, category_totals, total }
  }

  async prune(cutoff: Record<string, number>, fallback: number) {
    const named = Object.keys(cutoff)
    return this.db.transaction(async (tx) => {
      let removed = 0
      for (const category of named) removed += await tx.run('DELETE FROM modlog WHERE category = $1 AND timestamp < $2', [category, cutoff[category]!])
      removed += await tx.run('DELETE FROM modlog WHERE timestamp < $1 AND NOT (category = ANY($2::text[]))', [fallback, named])
      return removed
    })
  }
}
