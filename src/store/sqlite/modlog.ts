import type { Database } from 'bun:sqlite'
import type { ModlogEntry, ModlogQuery, ModlogRepo } from '../types.ts'

type Row = Omit<ModlogEntry, 'details'> & { details: string }

const COLUMNS = 'id, action, category, actor_id, actor_name, target_id, target_name, details, timestamp'

export class SqliteModlog implements ModlogRepo {
  constructor(private readonly db: Database) {}

  async insert(entry: ModlogEntry) {
    this.db.run(`INSERT INTO modlog (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
      entry.id,
      entry.action,
      entry.category,
      entry.actor_id,
      entry.actor_name,
      entry.target_id,
      entry.target_name,
      JSON.stringify(entry.details),
      entry.timestamp,
    ])
  }

  async list(query: ModlogQuery) {
    const where: string[] = []
    const params: (string | number)[] = []
    const filter = (sql: string, value: string | number | undefined) => {
      if (value === undefined) return
      where.push(sql)
      params.push(value)
    }
    filter('timestamp > ?', query.after)
    filter('category = ?', query.category)
    filter('actor_id = ?', query.actor)
    filter('target_id = ?', query.target)
    filter('action = ?', query.action)
    const clause = where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''
    const total = this.db.query<{ n: number }, (string | number)[]>(`SELECT COUNT(*) AS n FROM modlog ${clause}`).get(...params)!.n
    const rows = this.db
      .query<Row, (string | number)[]>(`SELECT ${COLUMNS} FROM modlog ${clause} ORDER BY seq DESC LIMIT ? OFFSET ?`)
      .all(...params, query.limit, query.offset)
    return { entries: rows.map((row) => ({ ...row, details: JSON.parse(row.details) })), total }
  }

  async summary(window: number) {
    const rows = this.db
      .query<{ category: string; action: string; n: number }, [number]>(
        `SELECT category, action, COUNT(*) AS n FROM (SELECT category, action FROM modlog ORDER BY seq DESC LIMIT ?) GROUP BY category, action`,
      )
      .all(window)
    const action_counts: Record<string, number> = {}
    const category_totals: Record<string, number> = {}
    for (const { category, action, n } of rows) {
      action_counts[`${category}.${action}`] = n
      category_totals[category] = (category_totals[category] ?? 0) + n
    }
    const total = this.db.query<{ n: number }, []>('SELECT COUNT(*) AS n FROM modlog').get()!.n
    return { action_counts, category_totals, total }
  }

  async prune(cutoff: Record<string, number>, fallback: number) {
    const named = Object.keys(cutoff)
    return this.db.transaction(() => {
      let removed = 0
      for (const category of named) {
        removed += this.db.run('DELETE FROM modlog WHERE category = ? AND timestamp < ?', [category, cutoff[category]!]).changes
      }
      const others = named.length > 0 ? `AND category NOT IN (${named.map(() => '?').join(', ')})` : ''
      removed += this.db.run(`DELETE FROM modlog WHERE timestamp < ? ${others}`, [fallback, ...named]).changes
      return removed
    })()
  }
}
